//! Zendesk Support, through its REST API with an API token (`email/token`
//! basic auth) or an OAuth access token.
//!
//! Tickets come from the cursor-based incremental export
//! (`/api/v2/incremental/tickets/cursor.json`), whose `after_cursor` is the
//! desk cursor; each ticket's thread from `/api/v2/tickets/{id}/comments.json`
//! (cursor pages, `links.next` followed as given); names from
//! `/api/v2/users/show_many.json`; the custom fields by id, found by title
//! in `/api/v2/ticket_fields.json`. Zendesk leaves the last minute's changes
//! out of the export, so a comment written now arrives a sync later. Ids are
//! kept as text: they are large and in no order.
//!
//! Write-back: a reply is a public comment, a note a private one, each with
//! the outbox id in the update's `metadata` (Zendesk keeps it in the
//! comment's `metadata.custom`). Before writing, the ticket's comments are
//! searched for that marker, and the write is a `safe_update` against the
//! ticket's `updated_at` as read: a second writer that got there first
//! moved the ticket on, so this one gets 409, reads again and finds the
//! comment. Limits (429) are waited out as `Retry-After` says.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    html, DeskEntry, DeskError, DeskFields, DeskPage, DeskTicket, FieldNames, FieldRole, Outgoing,
    OutgoingKind,
};
use crate::domain::{ThreadKind, TicketStatus};

/// Tickets asked for per export page (each read with its whole thread).
const PAGE_TICKETS: usize = 100;
/// The longest `Retry-After` waited out before giving up with an error.
const LONGEST_WAIT: Duration = Duration::from_secs(120);
const ATTEMPTS: u32 = 5;

/// How the connector signs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `EMAIL/token` with the account's API token.
    #[default]
    Token,
    /// An OAuth access token (bearer).
    Oauth,
}

/// A Zendesk desk's settings (stored as JSON with the desk; the token is in the keychain).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub email: String,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub fields: FieldNames,
}

/// The API's address for `--subdomain NAME` or `--url URL` (another server, such as the simulator).
pub fn base_url(subdomain: Option<&str>, url: Option<&str>) -> Result<String, DeskError> {
    let text = match (subdomain, url) {
        (Some(name), None) => {
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(DeskError::Config(format!(
                    "`{name}` is not a Zendesk subdomain (the NAME in NAME.zendesk.com)"
                )));
            }
            format!("https://{name}.zendesk.com")
        }
        (None, Some(url)) => url.trim().to_owned(),
        _ => {
            return Err(DeskError::Config("give the Zendesk account as --subdomain NAME or --url URL".into()))
        }
    };
    let parsed = url::Url::parse(&text)
        .map_err(|e| DeskError::Config(format!("`{text}` is not the Zendesk address: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(DeskError::Config(format!("`{text}` is not an http(s) address")));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Cursor {
    after: String,
}

#[derive(Clone, Debug, Deserialize)]
struct User {
    #[serde(deserialize_with = "id_text")]
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// A connected Zendesk account.
pub struct Zendesk {
    http: reqwest::Client,
    base: String,
    config: Config,
    token: SecretString,
    me: User,
    /// Field id → which of Tickettime's fields it carries.
    fields: HashMap<String, FieldRole>,
}

/// Ids arrive as numbers (or, from some servers, as text); kept as text.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s),
        other => Err(serde::de::Error::custom(format!("an id, not {other}"))),
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl Zendesk {
    /// Signs in and reads the account's ticket fields; says plainly when the
    /// address or the token is wrong.
    pub async fn connect(base: &str, token: &SecretString, config: Config) -> Result<Zendesk, DeskError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("Tickettime/", env!("CARGO_PKG_VERSION"), " (https://tickettime.example)"))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| DeskError::Config(format!("cannot start an HTTP client: {e}")))?;
        let mut desk = Zendesk {
            http,
            base: base.trim_end_matches('/').to_owned(),
            config,
            token: token.clone(),
            me: User { id: String::new(), name: String::new(), email: None, role: None },
            fields: HashMap::new(),
        };
        let me = desk.get(&desk.api("/api/v2/users/me.json")).await?;
        desk.me =
            serde_json::from_value(me["user"].clone()).map_err(|e| desk.schema(format!("users/me: {e}")))?;
        if desk.me.role.as_deref() == Some("end-user") {
            return Err(DeskError::Refused {
                desk: desk.desk(),
                detail: format!("{} is an end-user; sign in as an agent or admin", desk.config.email),
            });
        }
        let mut next = Some(desk.api("/api/v2/ticket_fields.json"));
        while let Some(url) = next.take() {
            let page = desk.get(&url).await?;
            for field in page["ticket_fields"].as_array().into_iter().flatten() {
                let title = field["title"].as_str().unwrap_or_default();
                let raw = field["raw_title"].as_str().unwrap_or_default();
                if let (Some(id), Some(role)) =
                    (text_of(&field["id"]), desk.config.fields.role_of(title, raw))
                {
                    desk.fields.insert(id, role);
                }
            }
            next = page["next_page"].as_str().or_else(|| page["links"]["next"].as_str()).map(str::to_owned);
        }
        Ok(desk)
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn desk(&self) -> String {
        format!("Zendesk at {}", self.base)
    }

    fn schema(&self, detail: String) -> DeskError {
        DeskError::Schema { desk: self.desk(), what: "the Zendesk Support API", detail }
    }

    fn signed(&self, request: RequestBuilder) -> RequestBuilder {
        match self.config.auth {
            Auth::Token => {
                request.basic_auth(format!("{}/token", self.config.email), Some(self.token.expose_secret()))
            }
            Auth::Oauth => request.bearer_auth(self.token.expose_secret()),
        }
    }

    async fn get(&self, url: &str) -> Result<Value, DeskError> {
        self.call(Method::GET, url, None).await.map(|(_, body, _)| body)
    }

    /// One call, with Zendesk's limits waited out and server errors and
    /// dropped connections retried (reads only; a write's retry is the
    /// caller's, after it looked for its marker). Returns the status (2xx or
    /// 409), the body and the server's clock.
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value, Option<DateTime<Utc>>), DeskError> {
        let retry_errors = method == Method::GET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request =
                self.signed(self.http.request(method.clone(), url)).header("Accept", "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) if retry_errors && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    let _ = e;
                    continue;
                }
                Err(e) => {
                    return Err(DeskError::Unreachable { desk: self.desk(), detail: without_url(e) });
                }
            };
            let status = response.status();
            let date = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.with_timezone(&Utc));
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = match response.text().await {
                Ok(text) => text,
                Err(e) if retry_errors && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    let _ = e;
                    continue;
                }
                Err(e) => return Err(DeskError::Unreachable { desk: self.desk(), detail: without_url(e) }),
            };
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
                let wait = wait.unwrap_or_else(|| backoff(attempt));
                if wait <= LONGEST_WAIT && attempt < ATTEMPTS + 5 {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(DeskError::Failed {
                    desk: self.desk(),
                    detail: format!("still rate limited after {attempt} tries (Retry-After {wait:?})"),
                });
            }
            if status.is_server_error() && retry_errors && attempt < ATTEMPTS {
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(DeskError::Refused {
                    desk: self.desk(),
                    detail: match self.config.auth {
                        Auth::Token => format!("wrong email or API token for {}", self.config.email),
                        Auth::Oauth => "the OAuth token is not valid (expired or revoked)".into(),
                    },
                });
            }
            if status == StatusCode::FORBIDDEN {
                return Err(DeskError::Refused {
                    desk: self.desk(),
                    detail: format!(
                        "{} may not read tickets (an agent or admin login is needed)",
                        self.config.email
                    ),
                });
            }
            let json: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                match serde_json::from_str(&text) {
                    Ok(json) => json,
                    Err(_) if status.is_success() => {
                        return Err(
                            self.schema(format!("{url} answered {status} with something that is not JSON"))
                        )
                    }
                    Err(_) => Value::Null,
                }
            };
            if status.is_success() || status == StatusCode::CONFLICT {
                return Ok((status, json, date));
            }
            let said = json["description"].as_str().or_else(|| json["error"].as_str()).unwrap_or("");
            let details =
                if json["details"].is_object() { format!(" {}", json["details"]) } else { String::new() };
            return Err(match status {
                StatusCode::NOT_FOUND => {
                    DeskError::Failed { desk: self.desk(), detail: format!("not found: {}", path_of(url)) }
                }
                _ => DeskError::Failed {
                    desk: self.desk(),
                    detail: format!("{} answered {status}: {said}{details}", path_of(url)),
                },
            });
        }
    }

    /// The account's people among `ids`, by id.
    async fn users(&self, ids: HashSet<String>) -> Result<HashMap<String, User>, DeskError> {
        let mut users = HashMap::new();
        let ids: Vec<String> = ids.into_iter().filter(|i| !i.is_empty()).collect();
        for chunk in ids.chunks(100) {
            let page =
                self.get(&self.api(&format!("/api/v2/users/show_many.json?ids={}", chunk.join(",")))).await?;
            for user in page["users"].as_array().into_iter().flatten() {
                if let Ok(user) = serde_json::from_value::<User>(user.clone()) {
                    users.insert(user.id.clone(), user);
                }
            }
        }
        Ok(users)
    }

    /// Every comment of a ticket, following `links.next` (or `next_page`)
    /// as given until the server says there is no more: an empty page, a
    /// link already followed or `has_more: false` ends it.
    async fn comments(&self, ticket: &str) -> Result<Vec<Value>, DeskError> {
        let mut all = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(self.api(&format!("/api/v2/tickets/{ticket}/comments.json?page[size]=100")));
        while let Some(url) = next.take() {
            if !seen.insert(url.clone()) || seen.len() > 10_000 {
                break;
            }
            let page = self.get(&url).await?;
            let items = page["comments"].as_array().cloned().unwrap_or_default();
            let empty = items.is_empty();
            all.extend(items);
            if empty || page["meta"]["has_more"].as_bool() == Some(false) {
                break;
            }
            next = page["links"]["next"].as_str().or_else(|| page["next_page"].as_str()).map(str::to_owned);
        }
        Ok(all)
    }

    /// The next page of changed tickets after `cursor` (none: all of them).
    pub async fn page(&self, cursor: Option<&str>) -> Result<DeskPage, DeskError> {
        let cursor: Option<Cursor> = cursor.and_then(|c| serde_json::from_str(c).ok());
        let url = match &cursor {
            Some(c) => self.api(&format!(
                "/api/v2/incremental/tickets/cursor.json?per_page={PAGE_TICKETS}&cursor={}",
                url::form_urlencoded::byte_serialize(c.after.as_bytes()).collect::<String>()
            )),
            None => self.api(&format!(
                "/api/v2/incremental/tickets/cursor.json?per_page={PAGE_TICKETS}&start_time=0"
            )),
        };
        let export = self.get(&url).await?;
        let Some(tickets) = export["tickets"].as_array() else {
            return Err(self.schema(format!(
                "the incremental export has no `tickets`: {}",
                truncate(&export.to_string(), 200)
            )));
        };
        let mut threads = Vec::with_capacity(tickets.len());
        let mut people = HashSet::new();
        for ticket in tickets {
            let Some(id) = text_of(&ticket["id"]) else { continue };
            if ticket["status"] == "deleted" {
                continue;
            }
            let comments = self.comments(&id).await?;
            for c in &comments {
                people.extend(text_of(&c["author_id"]));
            }
            people.extend(text_of(&ticket["requester_id"]));
            people.extend(text_of(&ticket["assignee_id"]));
            threads.push((id, ticket, comments));
        }
        let users = self.users(people).await?;
        let mut out = Vec::with_capacity(threads.len());
        let mut warnings = Vec::new();
        for (id, ticket, comments) in threads {
            // One unreadable ticket is left out with a warning; it comes
            // back when Zendesk changes it. Stopping here would fail every
            // sync on the same page from now on.
            match self.ticket(id.clone(), ticket, &comments, &users, &mut warnings) {
                Ok(ticket) => out.push(ticket),
                Err(DeskError::Schema { detail, .. }) => {
                    warnings.push(format!("Zendesk {detail}; the ticket was left out"))
                }
                Err(error) => return Err(error),
            }
        }
        // The position after this page: `after_cursor`, else the `cursor=` of
        // `after_url`, else where this read started.
        let from_url = export["after_url"]
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.query_pairs().find(|(k, _)| k == "cursor").map(|(_, v)| v.into_owned()));
        let previous = cursor.map(|c| c.after);
        let after =
            export["after_cursor"].as_str().map(str::to_owned).or(from_url).or_else(|| previous.clone());
        let Some(after) = after else {
            // Nothing exported yet and no position given: start from the beginning again next time.
            return Ok(DeskPage { tickets: out, cursor: String::new(), more: false, warnings });
        };
        // A page that does not move the position ends this sync (never a loop).
        let more = !export["end_of_stream"].as_bool().unwrap_or(true) && previous.as_deref() != Some(&after);
        let cursor = serde_json::to_string(&Cursor { after }).unwrap_or_default();
        Ok(DeskPage { tickets: out, cursor, more, warnings })
    }

    fn ticket(
        &self,
        id: String,
        ticket: &Value,
        comments: &[Value],
        users: &HashMap<String, User>,
        warnings: &mut Vec<String>,
    ) -> Result<DeskTicket, DeskError> {
        let time = |v: &Value| {
            v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc))
        };
        let requester = text_of(&ticket["requester_id"]).and_then(|r| users.get(&r));
        let assignee = text_of(&ticket["assignee_id"]).and_then(|a| users.get(&a));
        let mut fields = DeskFields::default();
        for field in ticket["custom_fields"].as_array().into_iter().flatten() {
            if let Some(role) = text_of(&field["id"]).and_then(|f| self.fields.get(&f)) {
                fields.set(*role, text_of(&field["value"]));
            }
        }
        let mut entries = Vec::with_capacity(comments.len());
        for c in comments {
            let Some(comment_id) = text_of(&c["id"]) else { continue };
            let author = text_of(&c["author_id"]).and_then(|a| users.get(&a));
            let public = c["public"].as_bool().unwrap_or(true);
            let from_client = author.map(|a| a.role.as_deref() == Some("end-user")).unwrap_or(false)
                || (author.is_none() && text_of(&c["author_id"]) == text_of(&ticket["requester_id"]));
            let kind = match (public, from_client) {
                (false, _) => ThreadKind::Note,
                (true, true) => ThreadKind::Message,
                (true, false) => ThreadKind::Response,
            };
            let body = match c["html_body"].as_str().filter(|h| !h.trim().is_empty()) {
                Some(h) => html::to_text(h),
                None => c["plain_body"]
                    .as_str()
                    .or_else(|| c["body"].as_str())
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            };
            let Some(at) = time(&c["created_at"]) else {
                warnings.push(format!(
                    "Zendesk ticket {id}'s comment {comment_id} was left out: its created_at is not a time: {}",
                    c["created_at"]
                ));
                continue;
            };
            entries.push(DeskEntry {
                id: comment_id,
                kind,
                author: author.map(|a| a.name.clone()).unwrap_or_else(|| "Zendesk user".into()),
                author_email: author.and_then(|a| a.email.clone()),
                at,
                body,
                marker: c["metadata"]["custom"]["tickettime"].as_str().map(str::to_owned),
            });
        }
        Ok(DeskTicket {
            number: id.clone(),
            url: Some(format!("{}/agent/tickets/{id}", self.base)),
            subject: ticket["subject"]
                .as_str()
                .or_else(|| ticket["raw_subject"].as_str())
                .unwrap_or("")
                .trim()
                .to_owned(),
            status: status_of(ticket["status"].as_str().unwrap_or("open")),
            client: requester.map(|r| r.name.clone()),
            agent_email: assignee.and_then(|a| a.email.clone()),
            fields,
            created_at: time(&ticket["created_at"]).ok_or_else(|| {
                self.schema(format!("ticket {id}'s created_at is not a time: {}", ticket["created_at"]))
            })?,
            entries,
            id,
        })
    }

    /// Agents and admins write comments; Tickettime writes with this login.
    pub fn may_write(&self) -> bool {
        matches!(self.me.role.as_deref(), Some("agent" | "admin"))
    }

    /// Writes `item` as a comment unless one with its marker is there;
    /// returns the comment's id either way.
    pub async fn write(&self, item: &Outgoing<'_>) -> Result<String, DeskError> {
        let author = match item.author_email {
            Some(email) => self.agent_id(email).await?,
            None => None,
        };
        let mut waited: Option<String> = None;
        for _ in 0..ATTEMPTS {
            let ticket_url = self.api(&format!("/api/v2/tickets/{}.json", item.ticket_id));
            let (_, ticket, server_now) = self.call(Method::GET, &ticket_url, None).await?;
            let stamp = ticket["ticket"]["updated_at"].as_str().unwrap_or_default().to_owned();
            if let Some(found) = self.marked(item.ticket_id, item.marker).await? {
                return Ok(found);
            }
            let fresh = stamp_is_fresh(&stamp, server_now, waited.as_deref())
                .map_err(|detail| self.schema(format!("ticket {}'s updated_at {detail}", item.ticket_id)))?;
            if fresh {
                // A rival's write in the stamp's second would not move it:
                // wait until that second is past, then look again.
                tokio::time::sleep(Duration::from_millis(1_100)).await;
                waited = Some(stamp);
                continue;
            }
            let mut comment = json!({ "body": item.body, "public": item.kind == OutgoingKind::Reply });
            if let Some(author) = &author {
                comment["author_id"] =
                    author.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(author.clone()));
            }
            let update = json!({ "ticket": {
                "comment": comment,
                "metadata": { "tickettime": item.marker },
                "safe_update": true,
                "updated_stamp": stamp,
            }});
            let url = self.api(&format!("/api/v2/tickets/{}.json", item.ticket_id));
            let (status, answer, _) = match self.call(Method::PUT, &url, Some(&update)).await {
                Ok(answered) => answered,
                // The write may have happened: look before anything else.
                Err(DeskError::Unreachable { .. }) => continue,
                Err(error) => return Err(error),
            };
            if status == StatusCode::CONFLICT {
                continue;
            }
            let written = answer["audit"]["events"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["type"] == "Comment")
                .and_then(|e| text_of(&e["id"]));
            match written {
                Some(id) => return Ok(id),
                None => {
                    if let Some(found) = self.marked(item.ticket_id, item.marker).await? {
                        return Ok(found);
                    }
                }
            }
        }
        Err(DeskError::Failed {
            desk: self.desk(),
            detail: format!("ticket {} kept changing; the comment waits for the next sync", item.ticket_id),
        })
    }

    async fn marked(&self, ticket: &str, marker: &str) -> Result<Option<String>, DeskError> {
        Ok(self
            .comments(ticket)
            .await?
            .iter()
            .find(|c| c["metadata"]["custom"]["tickettime"].as_str() == Some(marker))
            .and_then(|c| text_of(&c["id"])))
    }

    /// The Zendesk agent with `email`, who a comment is written as.
    async fn agent_id(&self, email: &str) -> Result<Option<String>, DeskError> {
        let query: String =
            url::form_urlencoded::byte_serialize(format!("email:{email}").as_bytes()).collect();
        let found = self.get(&self.api(&format!("/api/v2/users/search.json?query={query}"))).await?;
        Ok(found["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| serde_json::from_value::<User>(u.clone()).ok())
            .find(|u| {
                u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))
                    && matches!(u.role.as_deref(), Some("agent" | "admin"))
            })
            .map(|u| u.id))
    }
}

/// Whether a write against `stamp` (the ticket's `updated_at` as read) must
/// wait: `safe_update` compares to the second, so a rival's comment in that
/// same second would not make ours conflict. With the server's clock
/// (`Date`), wait while it is within a second of the stamp; without it,
/// wait once for each stamp (`waited` is the one already waited for).
fn stamp_is_fresh(
    stamp: &str,
    server_now: Option<DateTime<Utc>>,
    waited: Option<&str>,
) -> Result<bool, String> {
    let updated = DateTime::parse_from_rfc3339(stamp)
        .map_err(|_| format!("is not a time: {stamp:?}; the comment is not written without it"))?;
    Ok(match server_now {
        Some(now) => now.timestamp() <= updated.timestamp() + 1,
        None => waited != Some(stamp),
    })
}

fn backoff(attempt: u32) -> Duration {
    let base = 250u64 << attempt.min(5);
    Duration::from_millis(base + fastrand::u64(0..base))
}

fn path_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_else(|_| url.to_owned())
}

fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    if let Some(source) = std::error::Error::source(&error) {
        text.push_str(&format!(": {source}"));
    }
    text
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn status_of(status: &str) -> TicketStatus {
    match status {
        "pending" => TicketStatus::Pending,
        "hold" => TicketStatus::OnHold,
        "solved" => TicketStatus::Solved,
        "closed" | "deleted" => TicketStatus::Closed,
        _ => TicketStatus::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subdomain_or_a_url_names_the_account_and_nonsense_is_refused() {
        assert_eq!(base_url(Some("acme"), None).expect("a subdomain"), "https://acme.zendesk.com");
        assert_eq!(base_url(None, Some("http://127.0.0.1:9/")).expect("a URL"), "http://127.0.0.1:9");
        assert!(base_url(Some("acme.zendesk.com/x"), None).is_err());
        assert!(base_url(None, Some("ftp://x")).is_err());
        assert!(base_url(Some("a"), Some("http://b")).is_err());
    }

    #[test]
    fn a_write_waits_out_the_stamps_second_with_or_without_the_servers_clock() {
        let stamp = "2026-12-04T10:00:00Z";
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).ok();
        assert_eq!(stamp_is_fresh(stamp, at("2026-12-04T10:00:01Z"), None), Ok(true));
        assert_eq!(stamp_is_fresh(stamp, at("2026-12-04T10:00:02Z"), None), Ok(false));
        assert_eq!(stamp_is_fresh(stamp, None, None), Ok(true), "no Date: wait once");
        assert_eq!(stamp_is_fresh(stamp, None, Some(stamp)), Ok(false), "then write");
        assert_eq!(
            stamp_is_fresh(stamp, None, Some("2026-12-04T09:59:59Z")),
            Ok(true),
            "a new stamp waits again"
        );
        for odd in ["", "yesterday", "2026-12-04"] {
            let error = stamp_is_fresh(odd, at("2026-12-04T10:00:02Z"), None).expect_err(odd);
            assert!(error.contains("is not a time"), "{error}");
        }
    }

    #[test]
    fn zendesk_statuses_map_to_tickettimes() {
        assert_eq!(status_of("new"), TicketStatus::Open);
        assert_eq!(status_of("hold"), TicketStatus::OnHold);
        assert_eq!(status_of("solved"), TicketStatus::Solved);
        assert_eq!(status_of("closed"), TicketStatus::Closed);
    }
}
