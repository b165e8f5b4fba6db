//! The HTTP edge every request passes first: the request log, injected faults, then for `/v2/...`
//! the User-Agent rule (400), bearer token + account id (401) and the per-token throttle (429).
//!
//! The authenticated person reaches the handlers as a [`Caller`] extension. `/__sim/` control
//! calls bypass all of this and are not logged. Identity endpoints are logged and can be faulted
//! but check their own credentials (`identity.rs`).

use std::io;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::api::{json_response, ApiError};
use crate::{App, FaultKind, Recorded};

/// The person a `/v2/...` request acts as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub user_id: i64,
}

pub(crate) async fn gate(State(app): State<App>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/__sim" || path.starts_with("/__sim/") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let index = record(&app, &request);
    // Prefixes match the path and query, so a fault can target one page (`/v2/time_entries?page=3`).
    let target = request.uri().path_and_query().map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let fault = take_fault(&app, &method, &target);
    let response = match fault {
        None => guarded(&app, request, next).await,
        Some(FaultKind::Delay(pause)) => {
            tokio::time::sleep(pause).await;
            guarded(&app, request, next).await
        }
        Some(FaultKind::Status(status)) => fault_status(status),
        Some(FaultKind::TooManyRequests { retry_after }) => throttled(retry_after),
        Some(FaultKind::Garbage) => garbage(),
        Some(FaultKind::Drop) => {
            set_status(&app, index, 0);
            return dropped();
        }
        Some(FaultKind::DropAfterHandling) => {
            let handled = guarded(&app, request, next).await;
            set_status(&app, index, handled.status().as_u16());
            return dropped();
        }
        Some(FaultKind::DelayAfterHandling(wait)) => {
            let handled = guarded(&app, request, next).await;
            tokio::time::sleep(wait).await;
            handled
        }
    };
    set_status(&app, index, response.status().as_u16());
    response
}

/// The `/v2/...` checks, then the handler.
async fn guarded(app: &App, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !(path == "/v2" || path.starts_with("/v2/")) {
        return next.run(request).await;
    }
    if !user_agent_has_contact(request.headers()) {
        return ApiError::BadRequest(
            "User-Agent header must include the application name and a contact URL or email".into(),
        )
        .into_response();
    }
    let query = request.uri().query().unwrap_or_default().to_owned();
    let credentials = Credentials::from_parts(request.headers(), &query);
    let Some(caller) = authenticate(app, &credentials) else {
        return ApiError::Unauthorized.into_response();
    };
    if let Some(retry_after) = throttle(app, credentials.token.as_deref().unwrap_or_default()) {
        return throttled(Some(retry_after.as_secs().max(1).to_string()));
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn user_agent_has_contact(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|agent| agent.contains('@') || agent.contains("http"))
}

struct Credentials {
    token: Option<String>,
    account_id: Option<String>,
}

impl Credentials {
    /// Header first, then the documented query-string alternative (`access_token`, `account_id`).
    fn from_parts(headers: &HeaderMap, query: &str) -> Credentials {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let from_query = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let token = bearer(headers).or_else(|| from_query("access_token"));
        let account_id = headers
            .get("harvest-account-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .or_else(|| from_query("account_id"));
        Credentials { token, account_id }
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn authenticate(app: &App, credentials: &Credentials) -> Option<Caller> {
    let account_ok = credentials.account_id.as_deref() == Some(&crate::seed::ACCOUNT_ID.to_string());
    let user_id = token_user(app, credentials.token.as_deref()?)?;
    account_ok.then_some(Caller { user_id })
}

/// The user behind a live access token (not revoked, not expired by the simulator's clock).
pub(crate) fn token_user(app: &App, token: &str) -> Option<i64> {
    let world = app.world();
    let now = world.now();
    let access = world.tokens.get(token)?;
    let live = !access.revoked && access.expires_at.is_none_or(|at| at > now);
    live.then_some(access.user_id)
}

/// Records the hit; `Some(wait)` when the token is over its window.
fn throttle(app: &App, token: &str) -> Option<Duration> {
    let limit = app.config.rate_limit?;
    let mut world = app.world();
    let now = Instant::now();
    let hits = world.hits.entry(token.to_owned()).or_default();
    while hits.front().is_some_and(|at| now.duration_since(*at) >= limit.window) {
        hits.pop_front();
    }
    if hits.len() >= limit.requests as usize {
        let oldest = hits.front().copied().unwrap_or(now);
        let wait = limit.window.saturating_sub(now.duration_since(oldest));
        // Round up: retrying after a truncated number of seconds would be throttled again.
        return Some(Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)));
    }
    hits.push_back(now);
    None
}

fn record(app: &App, request: &Request) -> usize {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let recorded = Recorded {
        method: request.method().as_str().to_owned(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map_or_else(|| request.uri().path().to_owned(), |pq| pq.as_str().to_owned()),
        user_agent: header("user-agent"),
        authorization: header("authorization"),
        account_id: header("harvest-account-id"),
        at: Instant::now(),
        status: 0,
    };
    app.world().record(recorded)
}

fn set_status(app: &App, index: usize, status: u16) {
    // `clear_requests` may have run meanwhile; then the record is gone and that is fine.
    if let Some(recorded) = app.world().recorded_mut(index) {
        recorded.status = status;
    }
}

fn take_fault(app: &App, method: &str, path: &str) -> Option<FaultKind> {
    let mut world = app.world();
    let position = world.faults.iter().position(|fault| {
        fault.times > 0
            && fault.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&fault.path_prefix)
    })?;
    let fault = world.faults.get_mut(position)?;
    fault.times -= 1;
    let kind = fault.kind.clone();
    if fault.times == 0 {
        world.faults.remove(position);
    }
    Some(kind)
}

fn fault_status(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match code.as_u16() {
        401 => ApiError::Unauthorized.into_response(),
        404 => ApiError::NotFound.into_response(),
        429 => throttled(None),
        500 => message(code, "Internal Server Error: something went wrong on our end. Please try again."),
        502 => message(code, "Bad Gateway"),
        503 => message(code, "Service Unavailable: Harvest is temporarily down for maintenance."),
        504 => message(code, "Gateway Timeout"),
        _ => message(code, code.canonical_reason().unwrap_or("Error")),
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    json_response(status, &serde_json::json!({ "message": text }))
}

/// Harvest's 429: empty `text/html` body, `Retry-After` only when given.
pub(crate) fn throttled(retry_after: Option<String>) -> Response {
    let mut response =
        (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "text/html")], "").into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn garbage() -> Response {
    let body = "<!DOCTYPE html><html><head><title>Harvest</title></head>\
                <body><h1>We'll be right back</h1><p>Harvest is undergoing maintenance.</p></body></html>";
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A response whose body fails at once: hyper aborts the connection before the head is flushed,
/// so the client sees a connection error rather than any status.
fn dropped() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(io::ErrorKind::ConnectionAborted, "harvest-sim: dropped"))
    });
    Response::new(Body::from_stream(failing))
}
