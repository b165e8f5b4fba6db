//! The HTTP client: headers, pagination, rate limit, retries, token refresh.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::error::body_message;
use crate::limiter::{Limiter, RateLimit};
use crate::model::*;
use crate::{oauth, HarvestError, Result};

/// Where Harvest is and how to behave towards it.
#[derive(Clone, Debug)]
pub struct Config {
    /// `https://api.harvestapp.com` (the `/v2/...` paths are added).
    pub api_url: String,
    /// `https://id.getharvest.com` (OAuth and the accounts list).
    pub id_url: String,
    /// Harvest requires the app's name and a contact; without it, 400.
    pub user_agent: String,
    pub rate_limit: RateLimit,
    pub retry: RetryPolicy,
    /// Per request, from connect to the last byte.
    pub timeout: Duration,
    /// The largest answer read (a full page of 2,000 entries is a few MiB).
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_url: "https://api.harvestapp.com".into(),
            id_url: "https://id.getharvest.com".into(),
            user_agent: concat!("Tickettime/", env!("CARGO_PKG_VERSION"), " (support@tickettime.app)").into(),
            rate_limit: RateLimit::HARVEST,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

/// How failed calls are retried: capped exponential backoff with full jitter.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The wait after a 429 that names none (a recorded 429 had no Retry-After).
    pub fallback_retry_after: Duration,
    /// A longer Retry-After than this is reported instead of waited out.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            fallback_retry_after: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// For a call a person is waiting on whose work is already kept (time
    /// in the outbox, a task list with a cached copy): one quick second try,
    /// and no long waits. An outage then answers in about a second instead of
    /// the default policy's 15, and the background push retries later.
    pub const WHILE_SOMEONE_WAITS: RetryPolicy = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(250),
        cap: Duration::from_secs(1),
        fallback_retry_after: Duration::from_secs(15),
        max_retry_after: Duration::from_secs(2),
    };

    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.base.saturating_mul(2u32.saturating_pow(attempt)).min(self.cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

/// An OAuth app registered by the agency (Harvest ID → Developers).
#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// An OAuth token pair.
#[derive(Clone, Debug)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How the client signs its requests.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A personal access token: used as is, never refreshed.
    Personal(SecretString),
    /// An OAuth token pair, refreshed once on a 401.
    OAuth { tokens: OAuthTokens, app: OAuthApp },
}

type RefreshHook = Box<dyn Fn(&OAuthTokens) + Send + Sync>;

/// A Harvest API client for one account. Cheap to clone; clones share the
/// rate limiter, the tokens and the call counter.
#[derive(Clone)]
pub struct HarvestClient {
    inner: Arc<Inner>,
    /// This handle's retries ([`HarvestClient::with_retry`]).
    retry: RetryPolicy,
}

struct Inner {
    http: reqwest::Client,
    config: Config,
    api: Url,
    account_id: i64,
    auth: Auth,
    limiter: Limiter,
    calls: AtomicU64,
}

enum Auth {
    Personal(SecretString),
    OAuth {
        current: RwLock<OAuthTokens>,
        app: OAuthApp,
        /// Single flight: one refresh at a time; late callers reuse its result.
        refreshing: tokio::sync::Mutex<()>,
        on_refresh: Option<RefreshHook>,
    },
}

impl std::fmt::Debug for HarvestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarvestClient")
            .field("api", &self.inner.api.as_str())
            .field("account_id", &self.inner.account_id)
            .finish_non_exhaustive()
    }
}

impl HarvestClient {
    /// A client for `account_id` signing with `credentials`. `on_refresh` is
    /// told the new tokens after each refresh (to keep them in the keychain).
    pub fn new(
        config: Config,
        account_id: i64,
        credentials: Credentials,
        on_refresh: Option<RefreshHook>,
    ) -> Result<Self> {
        let api = parse_base(&config.api_url)?;
        let http = http_client(&config)?;
        let auth = match credentials {
            Credentials::Personal(token) => Auth::Personal(token),
            Credentials::OAuth { tokens, app } => Auth::OAuth {
                current: RwLock::new(tokens),
                app,
                refreshing: tokio::sync::Mutex::new(()),
                on_refresh,
            },
        };
        Ok(HarvestClient {
            retry: config.retry,
            inner: Arc::new(Inner {
                limiter: Limiter::new(config.rate_limit),
                http,
                config,
                api,
                account_id,
                auth,
                calls: AtomicU64::new(0),
            }),
        })
    }

    /// The same client (connection, tokens, rate limiter, call counter)
    /// retrying by `retry`.
    pub fn with_retry(&self, retry: RetryPolicy) -> HarvestClient {
        HarvestClient { inner: self.inner.clone(), retry }
    }

    pub fn account_id(&self) -> i64 {
        self.inner.account_id
    }

    /// HTTP requests sent so far (retries included).
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The current OAuth tokens (after any refresh), if this is an OAuth client.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        match &self.inner.auth {
            Auth::OAuth { current, .. } => current.read().ok().map(|t| t.clone()),
            Auth::Personal(_) => None,
        }
    }

    // --- calls -------------------------------------------------------------

    pub async fn me(&self) -> Result<User> {
        self.get("/v2/users/me", &[]).await
    }

    pub async fn company(&self) -> Result<Company> {
        self.get("/v2/company", &[]).await
    }

    /// Every active project I can log time to, with its tasks.
    pub async fn my_project_assignments(&self) -> Result<Vec<ProjectAssignment>> {
        self.collect(self.pages("/v2/users/me/project_assignments", "project_assignments", &[])?).await
    }

    pub async fn clients(&self) -> Result<Vec<Client>> {
        self.collect(self.pages("/v2/clients", "clients", &[])?).await
    }

    pub async fn project(&self, id: i64) -> Result<Project> {
        self.get(&format!("/v2/projects/{id}"), &[]).await
    }

    /// All projects (admins and managers; members get `Forbidden`).
    pub fn projects(&self, active_only: bool) -> Result<Pager<Project>> {
        let query: &[(&str, String)] = if active_only { &[("is_active", "true".into())] } else { &[] };
        self.pages("/v2/projects", "projects", query)
    }

    pub async fn create_project(&self, project: &NewProject) -> Result<Project> {
        self.send_json(Method::POST, "/v2/projects", Some(project)).await
    }

    /// The account's tasks (admins and managers).
    pub async fn tasks(&self) -> Result<Vec<Task>> {
        self.collect(self.pages("/v2/tasks", "tasks", &[])?).await
    }

    /// Adds a task to a project (admins and the project's managers).
    pub async fn create_task_assignment(&self, project_id: i64, task_id: i64) -> Result<TaskAssignment> {
        let path = format!("/v2/projects/{project_id}/task_assignments");
        self.send_json(
            Method::POST,
            &path,
            Some(&serde_json::json!({ "task_id": task_id, "is_active": true })),
        )
        .await
    }

    pub async fn project_task_assignments(&self, project_id: i64) -> Result<Vec<TaskAssignment>> {
        let path = format!("/v2/projects/{project_id}/task_assignments");
        self.collect(self.pages(&path, "task_assignments", &[])?).await
    }

    /// Time entries matching `query`, page by page.
    pub fn time_entries(&self, query: &TimeEntryQuery) -> Result<Pager<TimeEntry>> {
        self.pages("/v2/time_entries", "time_entries", &query.pairs())
    }

    pub async fn time_entry(&self, id: i64) -> Result<TimeEntry> {
        self.get(&format!("/v2/time_entries/{id}"), &[]).await
    }

    /// Creates an entry. Not retried after an ambiguous failure: look the
    /// entry up by its external reference before sending it again.
    pub async fn create_time_entry(&self, entry: &NewTimeEntry) -> Result<TimeEntry> {
        self.send_json(Method::POST, "/v2/time_entries", Some(entry)).await
    }

    pub async fn update_time_entry(&self, id: i64, update: &TimeEntryUpdate) -> Result<TimeEntry> {
        self.send_json(Method::PATCH, &format!("/v2/time_entries/{id}"), Some(update)).await
    }

    pub async fn delete_time_entry(&self, id: i64) -> Result<()> {
        self.send(Method::DELETE, &format!("/v2/time_entries/{id}"), &[], None).await.map(drop)
    }

    pub async fn stop_timer(&self, id: i64) -> Result<TimeEntry> {
        self.send_json::<(), _>(Method::PATCH, &format!("/v2/time_entries/{id}/stop"), None).await
    }

    /// Restarts a stopped entry. Use the returned entry: on some accounts
    /// Harvest answers with a new id.
    pub async fn restart_timer(&self, id: i64) -> Result<TimeEntry> {
        self.send_json::<(), _>(Method::PATCH, &format!("/v2/time_entries/{id}/restart"), None).await
    }

    /// Entries carrying this external reference id.
    pub async fn entries_by_reference(
        &self,
        reference_id: &str,
        user_id: Option<i64>,
    ) -> Result<Vec<TimeEntry>> {
        let query = TimeEntryQuery {
            external_reference_id: Some(reference_id.to_owned()),
            user_id,
            ..TimeEntryQuery::default()
        };
        self.collect(self.time_entries(&query)?).await
    }

    /// The user's running timer, if any (Harvest runs at most one per user).
    pub async fn running_entry(&self, user_id: i64) -> Result<Option<TimeEntry>> {
        let query =
            TimeEntryQuery { is_running: Some(true), user_id: Some(user_id), ..TimeEntryQuery::default() };
        Ok(self.collect(self.time_entries(&query)?).await?.into_iter().next())
    }

    // --- plumbing ----------------------------------------------------------

    /// A pager over a list endpoint; callers never build page URLs.
    pub fn pages<T>(&self, path: &str, key: &'static str, query: &[(&str, String)]) -> Result<Pager<T>> {
        let mut url = self.url(path)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("per_page", "2000");
        }
        Ok(Pager { client: self.clone(), next: Some(url), key, _items: PhantomData })
    }

    async fn collect<T: DeserializeOwned>(&self, mut pager: Pager<T>) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(page) = pager.next_page().await? {
            all.extend(page.items);
        }
        Ok(all)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let response = self.send_url(Method::GET, url, None).await?;
        decode(&response.body)
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| HarvestError::InvalidResponse(format!("cannot encode the request: {e}")))?;
        let response = self.send(method, path, &[], body.as_ref()).await?;
        decode(&response.body)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.send_url(method, url, body).await
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.inner.api.join(path).map_err(|e| HarvestError::InvalidResponse(format!("bad path {path}: {e}")))
    }

    /// One call with its retries. Idempotent methods are retried on 5xx,
    /// timeouts, resets and unreadable bodies; a POST only when Harvest surely
    /// did not act on it (429, or no connection was made).
    async fn send_url(&self, method: Method, url: Url, body: Option<&serde_json::Value>) -> Result<Response> {
        let policy = self.retry;
        let idempotent = method != Method::POST;
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            let (token, outcome) = self.attempt(&method, &url, body).await;
            let error = match outcome {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            if let HarvestError::Unauthorized = error {
                if refreshed || !self.is_oauth() {
                    return Err(if refreshed {
                        HarvestError::ReconnectNeeded("Harvest refused the renewed token".into())
                    } else {
                        error
                    });
                }
                self.refresh_after_401(&token).await?;
                refreshed = true;
                continue;
            }
            attempt += 1;
            let wait = match &error {
                HarvestError::RateLimited { retry_after } if *retry_after <= policy.max_retry_after => {
                    *retry_after
                }
                HarvestError::Unavailable(_) if idempotent || error_before_send(&error) => {
                    policy.backoff(attempt)
                }
                HarvestError::Ambiguous(_) | HarvestError::InvalidResponse(_) if idempotent => {
                    policy.backoff(attempt)
                }
                _ => return Err(error),
            };
            if attempt >= policy.max_attempts {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn is_oauth(&self) -> bool {
        matches!(self.inner.auth, Auth::OAuth { .. })
    }

    fn current_token(&self) -> String {
        match &self.inner.auth {
            Auth::Personal(token) => token.expose_secret().to_owned(),
            Auth::OAuth { current, .. } => {
                current.read().map(|t| t.access_token.expose_secret().to_owned()).unwrap_or_default()
            }
        }
    }

    /// Refreshes the OAuth token after a 401 on `used`. Many callers may get
    /// that 401 at once: the first refreshes, the others find a new token.
    async fn refresh_after_401(&self, used: &str) -> Result<()> {
        let Auth::OAuth { current, app, refreshing, on_refresh } = &self.inner.auth else {
            return Err(HarvestError::Unauthorized);
        };
        let _flight = refreshing.lock().await;
        let (now_token, refresh_token) = {
            let tokens = current.read().map_err(|_| HarvestError::OAuth("token store poisoned".into()))?;
            (tokens.access_token.expose_secret().to_owned(), tokens.refresh_token.clone())
        };
        if now_token != used {
            return Ok(());
        }
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let fresh = oauth::refresh(&self.inner.http, &self.inner.config.id_url, app, &refresh_token)
            .await
            .map_err(|e| HarvestError::ReconnectNeeded(e.to_string()))?;
        // IMPORTANT: kept (keychain) before it is used: a rotated refresh
        // token that only lived in memory is lost with the process.
        if let Some(hook) = on_refresh {
            hook(&fresh);
        }
        if let Ok(mut tokens) = current.write() {
            *tokens = fresh.clone();
        }
        Ok(())
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> (String, Result<Response>) {
        self.inner.limiter.acquire().await;
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let token = self.current_token();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&token)
            .header("Harvest-Account-Id", self.inner.account_id.to_string())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let result = match request.send().await {
            Err(e) => Err(transport_error(&e)),
            Ok(response) => read(response, &self.inner.config, &self.retry).await,
        };
        (token, result)
    }
}

/// The parts of a response the client uses.
#[derive(Debug)]
struct Response {
    body: String,
    date: Option<DateTime<Utc>>,
}

/// The body, read chunk by chunk and refused past `limit` bytes.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(HarvestError::TooLarge { limit });
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(HarvestError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(HarvestError::Ambiguous(format!("the answer was cut off: {e}"))),
        }
    }
    String::from_utf8(body)
        .map_err(|e| HarvestError::InvalidResponse(format!("the answer is not UTF-8: {e}")))
}

async fn read(response: reqwest::Response, config: &Config, retry: &RetryPolicy) -> Result<Response> {
    let status = response.status();
    let headers = response.headers().clone();
    let date = headers
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .map(|d| d.with_timezone(&Utc));
    let body = match read_capped(response, config.max_body_bytes).await {
        Ok(body) => body,
        Err(error @ HarvestError::TooLarge { .. }) => return Err(error),
        Err(e) if status.is_success() => return Err(e),
        Err(_) => String::new(),
    };
    if status.is_success() {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        // A proxy's HTML page with a 200 is not Harvest's answer: retry it like a 5xx.
        if !json && !body.trim().is_empty() {
            let start: String = body.chars().take(60).collect();
            return Err(HarvestError::InvalidResponse(format!("expected JSON, got `{start}`")));
        }
        return Ok(Response { body, date });
    }
    let message = body_message(&body);
    Err(match status {
        StatusCode::UNAUTHORIZED => HarvestError::Unauthorized,
        StatusCode::FORBIDDEN => HarvestError::Forbidden(message),
        StatusCode::NOT_FOUND => HarvestError::NotFound(message),
        StatusCode::UNPROCESSABLE_ENTITY => HarvestError::Validation(if message.is_empty() {
            "the request was not valid".into()
        } else {
            message
        }),
        StatusCode::TOO_MANY_REQUESTS => HarvestError::RateLimited {
            retry_after: headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, Utc::now()))
                .unwrap_or(retry.fallback_retry_after),
        },
        s if s.is_server_error() => HarvestError::Unavailable(format!(
            "HTTP {}{}",
            s.as_u16(),
            if message.is_empty() { String::new() } else { format!(": {message}") }
        )),
        s => HarvestError::Rejected { status: s.as_u16(), message },
    })
}

fn transport_error(error: &reqwest::Error) -> HarvestError {
    if error.is_connect() {
        HarvestError::Unavailable(format!("cannot connect: {}", root_cause(error)))
    } else if error.is_timeout() {
        HarvestError::Ambiguous("the request timed out".into())
    } else {
        HarvestError::Ambiguous(format!("the connection failed: {}", root_cause(error)))
    }
}

/// True for failures where the request never left (safe to re-send a POST).
fn error_before_send(error: &HarvestError) -> bool {
    matches!(error, HarvestError::Unavailable(m) if m.starts_with("cannot connect"))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

fn decode<'a, T: serde::Deserialize<'a>>(body: &'a str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| {
        let start: String = body.chars().take(80).collect();
        HarvestError::InvalidResponse(format!("{e} (the body starts `{start}`)"))
    })
}

pub(crate) fn http_client(config: &Config) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(&config.user_agent)
        .timeout(config.timeout)
        .connect_timeout(Duration::from_secs(10))
        // Following redirects with a bearer token would leak it; Harvest's API never redirects.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HarvestError::Unavailable(format!("cannot start the HTTP client: {e}")))
}

pub(crate) fn parse_base(base: &str) -> Result<Url> {
    let trimmed = base.trim_end_matches('/');
    Url::parse(&format!("{trimmed}/")).map_err(|e| HarvestError::OAuth(format!("`{base}` is not a URL: {e}")))
}

/// One page of a list endpoint.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items of the page this client cannot read, each with its id (when
    /// it has one) and why; the rest of the page is still given.
    pub rejected: Vec<Rejected>,
    pub page: Option<u64>,
    pub total_pages: Option<u64>,
    pub total_entries: Option<u64>,
    /// The server's `Date` header: the clock to clamp watermarks to.
    pub server_date: Option<DateTime<Utc>>,
}

/// An item of a page this client could not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub id: Option<i64>,
    pub reason: String,
}

/// A list page's fields, each kept as raw JSON text until it is read.
struct Envelope<'a>(std::collections::HashMap<String, &'a serde_json::value::RawValue>);

impl<'a> Envelope<'a> {
    fn parse(body: &'a str) -> Result<Envelope<'a>> {
        decode(body).map(Envelope)
    }

    fn raw(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).map(|raw| raw.get())
    }

    /// A count such as `total_entries`; absent, null or not a count reads as none.
    fn number(&self, key: &str) -> Option<u64> {
        self.raw(key).and_then(|raw| serde_json::from_str(raw).ok())
    }

    /// `links.next`, when there is one.
    fn next(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Links {
            next: Option<String>,
        }
        self.raw("links").and_then(|raw| serde_json::from_str::<Links>(raw).ok()).and_then(|links| links.next)
    }
}

/// The id of an item that could not be read as a whole.
#[derive(serde::Deserialize)]
struct ItemId {
    #[serde(default)]
    id: Option<i64>,
}

/// Walks a list endpoint by following `links.next` exactly as given.
pub struct Pager<T> {
    client: HarvestClient,
    next: Option<Url>,
    key: &'static str,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    /// True once the last page was read (`links.next` was null).
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>> {
        let Some(url) = self.next.take() else { return Ok(None) };
        let response = self.client.send_url(Method::GET, url.clone(), None).await?;
        // Each item is read once, straight from the body: the list is kept
        // as raw JSON text until then, so one unreadable item is named and
        // the rest of the page still reads.
        let envelope = Envelope::parse(&response.body)?;
        let Some(raw) = envelope.raw(self.key) else {
            return Err(HarvestError::InvalidResponse(format!("the page has no `{}` list", self.key)));
        };
        let raw: Vec<&serde_json::value::RawValue> = serde_json::from_str(raw)
            .map_err(|e| HarvestError::InvalidResponse(format!("{} page: {e}", self.key)))?;
        let mut items = Vec::with_capacity(raw.len());
        let mut rejected = Vec::new();
        for value in raw {
            match serde_json::from_str(value.get()) {
                Ok(item) => items.push(item),
                Err(e) => {
                    let id = serde_json::from_str::<ItemId>(value.get()).ok().and_then(|item| item.id);
                    rejected.push(Rejected { id, reason: format!("unreadable {} item: {e}", self.key) })
                }
            }
        }
        let next = envelope
            .next()
            .map(|next| {
                Url::parse(&next).map_err(|e| HarvestError::InvalidResponse(format!("links.next: {e}")))
            })
            .transpose()?;
        if let Some(next) = &next {
            if next.origin() != self.client.inner.api.origin() {
                return Err(HarvestError::InvalidResponse(format!(
                    "links.next points away from Harvest ({}); not following it with your token",
                    next.origin().ascii_serialization()
                )));
            }
        }
        self.next = next;
        Ok(Some(Page {
            items,
            rejected,
            page: envelope.number("page"),
            total_pages: envelope.number("total_pages"),
            total_entries: envelope.number("total_entries"),
            server_date: response.date,
        }))
    }
}

/// Filters of `GET /v2/time_entries`.
#[derive(Clone, Debug, Default)]
pub struct TimeEntryQuery {
    pub user_id: Option<i64>,
    pub project_id: Option<i64>,
    pub client_id: Option<i64>,
    pub task_id: Option<i64>,
    pub external_reference_id: Option<String>,
    pub is_running: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl TimeEntryQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |key, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        };
        push("user_id", self.user_id.map(|v| v.to_string()));
        push("project_id", self.project_id.map(|v| v.to_string()));
        push("client_id", self.client_id.map(|v| v.to_string()));
        push("task_id", self.task_id.map(|v| v.to_string()));
        push("external_reference_id", self.external_reference_id.clone());
        push("is_running", self.is_running.map(|v| v.to_string()));
        push("updated_since", self.updated_since.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        push("from", self.from.map(|d| d.to_string()));
        push("to", self.to.map(|d| d.to_string()));
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").expect("date").with_timezone(&Utc);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:09 GMT", now), Some(Duration::from_secs(9)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        assert_eq!(parse_retry_after("soon", now), None, "garbage falls back to the client's own wait");
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for attempt in 0..20 {
            assert!(policy.backoff(attempt) <= Duration::from_secs(1), "never above the cap");
        }
    }
}
