//! The HTTP side: the edge every request passes (log, faults, auth, limits)
//! and the endpoints.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::world::{html_of_text, Role, Ticket};
use crate::{FaultKind, Recorded, Shared};

type App = Arc<Shared>;

#[derive(Clone, Copy, Debug)]
struct Caller {
    user_id: u64,
    role: Role,
}

pub(crate) fn router(shared: App) -> Router {
    Router::new()
        .route("/api/v2/users/me.json", get(me))
        .route("/api/v2/users/show_many.json", get(show_many))
        .route("/api/v2/users/search.json", get(search_users))
        .route("/api/v2/ticket_fields.json", get(ticket_fields))
        .route("/api/v2/incremental/tickets/cursor.json", get(incremental_tickets))
        .route("/api/v2/tickets/{id}", get(show_ticket).put(update_ticket))
        .route("/api/v2/tickets/{id}/comments.json", get(comments))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), edge))
        .with_state(shared)
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "description": description }))).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}

/// Log, faults, authentication, the limits, then the endpoint.
async fn edge(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let target = request.uri().path_and_query().map_or_else(String::new, |pq| pq.as_str().to_owned());
    let fault = take_fault(&app, &method, request.uri().path());
    let response = match fault {
        Some(FaultKind::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error(status, "ServerError", "simulated failure");
            if code == 503 {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
        Some(FaultKind::Drop) => {
            log(&app, &method, &target, 0);
            return dropped();
        }
        Some(FaultKind::Delay(pause)) => {
            tokio::time::sleep(pause).await;
            match checked(&app, &mut request).await {
                Some(refused) => refused,
                None => next.run(request).await,
            }
        }
        Some(FaultKind::DropAfterHandling) => {
            let handled = match checked(&app, &mut request).await {
                Some(refused) => refused,
                None => next.run(request).await,
            };
            log(&app, &method, &target, handled.status().as_u16());
            return dropped();
        }
        None => match checked(&app, &mut request).await {
            Some(refused) => refused,
            None => next.run(request).await,
        },
    };
    log(&app, &method, &target, response.status().as_u16());
    response
}

/// Authentication and the limits: an answer when the request stops here.
async fn checked(app: &App, request: &mut Request) -> Option<Response> {
    let Some(caller) = authenticate(app, request.headers()) else {
        return Some(
            (StatusCode::UNAUTHORIZED, Json(json!({ "error": "Couldn't authenticate you" }))).into_response(),
        );
    };
    let path = request.uri().path().to_owned();
    if caller.role == Role::EndUser && !path.starts_with("/api/v2/users/me") {
        return Some(error(StatusCode::FORBIDDEN, "Forbidden", "You do not have access to this page. Please contact the account owner of this help desk for further help."));
    }
    if path.starts_with("/api/v2/incremental/") {
        if let Some(wait) = over_limit(&app.incremental_calls, app.config.incremental_limit) {
            return Some(throttled(
                wait,
                "Number of allowed incremental export API requests per minute exceeded",
            ));
        }
    }
    if let Some(wait) = over_limit(&app.calls, app.config.rate_limit) {
        return Some(throttled(wait, "Number of allowed API requests per minute exceeded"));
    }
    request.extensions_mut().insert(caller);
    None
}

fn authenticate(app: &App, headers: &HeaderMap) -> Option<Caller> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let world = app.world();
    if let Some(token) = value.strip_prefix("Bearer ") {
        let user = world.user(*world.oauth_tokens.get(token.trim())?)?;
        return Some(Caller { user_id: user.id, role: user.role });
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (login, secret) = decoded.split_once(':')?;
    let email = login.strip_suffix("/token")?;
    if !world.api_tokens.iter().any(|t| t == secret) {
        return None;
    }
    let user = world.user_by_email(email)?;
    Some(Caller { user_id: user.id, role: user.role })
}

/// Counts a call; when the window is full, how long until it frees.
fn over_limit(calls: &std::sync::Mutex<Vec<Instant>>, limit: Option<crate::RateLimit>) -> Option<Duration> {
    let limit = limit?;
    let mut calls = calls.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    calls.retain(|at| now.duration_since(*at) < limit.window);
    if calls.len() >= limit.requests as usize {
        let oldest = calls.first().copied().unwrap_or(now);
        return Some(limit.window.saturating_sub(now.duration_since(oldest)));
    }
    calls.push(now);
    None
}

fn throttled(wait: Duration, description: &str) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "APIRateLimitExceeded", description);
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn take_fault(app: &App, method: &str, path: &str) -> Option<FaultKind> {
    let mut faults = app.faults.lock().unwrap_or_else(|e| e.into_inner());
    let index = faults.iter().position(|f| {
        f.times > 0
            && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&f.path_prefix)
    })?;
    let kind = faults[index].kind.clone();
    faults[index].times -= 1;
    if faults[index].times == 0 {
        faults.remove(index);
    }
    Some(kind)
}

fn log(app: &App, method: &str, target: &str, status: u16) {
    let mut log = app.log.lock().unwrap_or_else(|e| e.into_inner());
    log.push(Recorded { method: method.into(), path_and_query: target.into(), status });
    if let Some(keep) = app.config.request_log {
        let over = log.len().saturating_sub(keep);
        log.drain(..over);
    }
}

fn dropped() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(io::ErrorKind::ConnectionAborted, "zendesk-sim: dropped"))
    });
    Response::new(Body::from_stream(failing))
}

/// Every answer says where the account's limit stands, and when (Date).
fn answer(app: &App, body: Value) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    if let Some(limit) = app.config.rate_limit {
        let used = app.calls.lock().map(|c| c.len()).unwrap_or(0) as u32;
        headers.insert("X-Rate-Limit", HeaderValue::from(limit.requests));
        headers.insert("X-Rate-Limit-Remaining", HeaderValue::from(limit.requests.saturating_sub(used)));
    }
    if let Ok(date) = HeaderValue::from_str(&app.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        headers.insert(header::DATE, date);
    }
    response
}

async fn me(State(app): State<App>, Extension(caller): Extension<Caller>) -> Response {
    let world = app.world();
    let Some(user) = world.user(caller.user_id) else { return not_found() };
    let body = json!({ "user": world.user_json(user) });
    drop(world);
    answer(&app, body)
}

async fn show_many(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let ids: Vec<u64> = query
        .get("ids")
        .map(|s| s.split(',').filter_map(|i| i.trim().parse().ok()).collect())
        .unwrap_or_default();
    if ids.len() > 100 {
        return error(StatusCode::BAD_REQUEST, "InvalidParameter", "at most 100 ids");
    }
    let world = app.world();
    let users: Vec<Value> = ids.iter().filter_map(|id| world.user(*id)).map(|u| world.user_json(u)).collect();
    drop(world);
    answer(&app, json!({ "users": users, "next_page": null, "previous_page": null, "count": users.len() }))
}

async fn search_users(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let wanted = query.get("query").and_then(|q| q.strip_prefix("email:")).map(str::trim).unwrap_or_default();
    let world = app.world();
    let users: Vec<Value> = world
        .users
        .iter()
        .filter(|u| !wanted.is_empty() && u.email.eq_ignore_ascii_case(wanted))
        .map(|u| world.user_json(u))
        .collect();
    drop(world);
    answer(&app, json!({ "users": users, "next_page": null, "previous_page": null, "count": users.len() }))
}

async fn ticket_fields(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(100).clamp(1, 100);
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let world = app.world();
    let all: Vec<Value> = world.fields.iter().map(|f| world.field_json(f)).collect();
    drop(world);
    let count = all.len();
    let items: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let base = format!("{}/api/v2/ticket_fields.json", app.base_url);
    let next = (page * per_page < count).then(|| format!("{base}?page={}&per_page={per_page}", page + 1));
    let previous = (page > 1).then(|| format!("{base}?page={}&per_page={per_page}", page - 1));
    answer(
        &app,
        json!({ "ticket_fields": items, "next_page": next, "previous_page": previous, "count": count }),
    )
}

/// A position in the export: after the ticket updated at `micros` with `id`.
fn encode_cursor(micros: i64, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}.{:06}||{id}|",
        micros / 1_000_000,
        micros % 1_000_000
    ))
}

fn decode_cursor(text: &str) -> Option<(i64, u64)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (time, rest) = text.split_once("||")?;
    let (secs, frac) = time.split_once('.')?;
    let micros = secs.parse::<i64>().ok()? * 1_000_000 + frac.parse::<i64>().ok()?;
    Some((micros, rest.trim_end_matches('|').parse().ok()?))
}

async fn incremental_tickets(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let after = if let Some(cursor) = query.get("cursor") {
        match decode_cursor(cursor) {
            Some(position) => position,
            None => {
                return error(StatusCode::BAD_REQUEST, "InvalidPaginationParameter", "cursor is not valid")
            }
        }
    } else if let Some(start) = query.get("start_time") {
        match start.parse::<i64>() {
            Ok(start) if start >= 0 => (start * 1_000_000 - 1, u64::MAX),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidValue",
                    "start_time must be a Unix time in seconds",
                )
            }
        }
    } else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidPaginationParameter",
            "start_time or cursor is required",
        );
    };
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(app.config.export_page_max)
        .clamp(1, app.config.export_page_max);
    let horizon = app.now() - chrono::Duration::from_std(app.config.export_lag).unwrap_or_default();
    let world = app.world();
    let mut eligible: Vec<&Ticket> = world
        .tickets
        .values()
        .filter(|t| t.updated_at <= horizon && (t.updated_at.timestamp_micros(), t.id) > after)
        .collect();
    eligible.sort_by_key(|t| (t.updated_at.timestamp_micros(), t.id));
    let end_of_stream = eligible.len() <= per_page;
    let page: Vec<&Ticket> = eligible.into_iter().take(per_page).collect();
    let position = page.last().map(|t| (t.updated_at.timestamp_micros(), t.id)).unwrap_or(after);
    let tickets: Vec<Value> = page.iter().map(|t| world.ticket_json(&app.base_url, t)).collect();
    drop(world);
    let cursor = encode_cursor(position.0.max(0), position.1);
    let after_url = format!("{}/api/v2/incremental/tickets/cursor.json?cursor={cursor}", app.base_url);
    answer(
        &app,
        json!({
            "tickets": tickets,
            "after_url": after_url,
            "after_cursor": cursor,
            "before_url": null,
            "before_cursor": null,
            "end_of_stream": end_of_stream,
        }),
    )
}

fn ticket_id(file: &str) -> Option<u64> {
    file.strip_suffix(".json").unwrap_or(file).parse().ok()
}

async fn show_ticket(State(app): State<App>, Path(file): Path<String>) -> Response {
    let world = app.world();
    let Some(ticket) = ticket_id(&file).and_then(|id| world.tickets.get(&id)) else { return not_found() };
    let body = json!({ "ticket": world.ticket_json(&app.base_url, ticket) });
    drop(world);
    answer(&app, body)
}

async fn comments(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let world = app.world();
    let Some(ticket) = id.parse::<u64>().ok().filter(|id| world.tickets.contains_key(id)) else {
        return not_found();
    };
    let all = world.comments_of(ticket);
    let base = format!("{}/api/v2/tickets/{ticket}/comments.json", app.base_url);
    let body = if let Some(size) = query.get("page[size]") {
        let size: usize = size.parse().unwrap_or(100).clamp(1, 100);
        // Cursor pages: the cursor is the last comment's id, opaque to clients.
        let start = match query.get("page[after]") {
            Some(after) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(after)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<u64>().ok())
            {
                Some(last) => all.iter().position(|c| c.id == last).map_or(all.len(), |i| i + 1),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "InvalidPaginationParameter",
                        "page[after] is not valid",
                    )
                }
            },
            None => 0,
        };
        let page: Vec<Value> = all.iter().skip(start).take(size).map(|c| world.comment_json(c)).collect();
        let has_more = start + size < all.len();
        let after = all
            .get((start + size).min(all.len()).saturating_sub(1))
            .filter(|_| !page.is_empty())
            .map(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.id.to_string()));
        let next =
            after.as_ref().filter(|_| has_more).map(|a| format!("{base}?page[size]={size}&page[after]={a}"));
        json!({
            "comments": page,
            "meta": { "has_more": has_more, "after_cursor": after, "before_cursor": null },
            "links": { "next": next, "prev": null },
        })
    } else {
        let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(100).clamp(1, 100);
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
        let items: Vec<Value> =
            all.iter().skip((page - 1) * per_page).take(per_page).map(|c| world.comment_json(c)).collect();
        let next =
            (page * per_page < all.len()).then(|| format!("{base}?page={}&per_page={per_page}", page + 1));
        json!({ "comments": items, "next_page": next, "previous_page": null, "count": all.len() })
    };
    drop(world);
    answer(&app, body)
}

fn invalid(field: &str, description: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": { field: [{ "description": description, "error": "InvalidValue" }] },
        })),
    )
        .into_response()
}

async fn update_ticket(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let _in_flight = app.writes.clone().read_owned().await;
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "InvalidJSON", "The request body is not valid JSON");
    };
    let Some(update) = body.get("ticket").filter(|t| t.is_object()) else {
        return error(StatusCode::BAD_REQUEST, "InvalidParameter", "ticket is required");
    };
    let now = app.now();
    let mut world = app.world();
    let Some(id) = ticket_id(&file).filter(|id| world.tickets.contains_key(id)) else { return not_found() };
    let ticket = &world.tickets[&id];
    if update.get("safe_update").and_then(Value::as_bool) == Some(true) {
        let stamp = update
            .get("updated_stamp")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let Some(stamp) = stamp else { return invalid("updated_stamp", "is required with safe_update") };
        if stamp.with_timezone(&Utc).timestamp() != ticket.updated_at.timestamp() {
            return error(
                StatusCode::CONFLICT,
                "UpdateConflict",
                "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.",
            );
        }
    }
    if ticket.status == "closed" {
        return invalid("status", "closed prevents ticket update");
    }
    let mut events = Vec::new();
    if let Some(comment) = update.get("comment") {
        let html = match (
            comment.get("html_body").and_then(Value::as_str),
            comment.get("body").and_then(Value::as_str),
        ) {
            (Some(html), _) if !html.trim().is_empty() => html.to_owned(),
            (_, Some(text)) if !text.trim().is_empty() => html_of_text(text),
            _ => return invalid("comment", "cannot be blank"),
        };
        let public = comment.get("public").and_then(Value::as_bool).unwrap_or(true);
        let author = match comment.get("author_id").and_then(Value::as_u64) {
            Some(author) if world.user(author).is_some() => author,
            Some(_) => return invalid("author_id", "is not a user of this account"),
            None => caller.user_id,
        };
        let custom = update.get("metadata").cloned().unwrap_or(Value::Null);
        let Some(comment_id) = world.add_comment(id, author, &html, public, custom, "api", now) else {
            return not_found();
        };
        events.push(json!({ "id": comment_id, "type": "Comment", "public": public, "author_id": author }));
    }
    let ticket = world.tickets.get_mut(&id).expect("checked above");
    if let Some(status) = update.get("status").and_then(Value::as_str) {
        if !["new", "open", "pending", "hold", "solved", "closed"].contains(&status) {
            return invalid("status", "is not a ticket status");
        }
        ticket.status = status.into();
    }
    if let Some(fields) = update.get("custom_fields").and_then(Value::as_array) {
        for field in fields {
            if let Some(field_id) = field.get("id").and_then(Value::as_u64) {
                ticket.custom.insert(field_id, field.get("value").cloned().unwrap_or(Value::Null));
            }
        }
    }
    ticket.updated_at = ticket.updated_at.max(now);
    let ticket = world.tickets[&id].clone();
    let audit = world.new_id();
    let body = json!({
        "ticket": world.ticket_json(&app.base_url, &ticket),
        "audit": { "id": audit, "ticket_id": id, "author_id": caller.user_id,
                   "created_at": crate::world::stamp(now), "events": events,
                   "metadata": { "custom": update.get("metadata").cloned().unwrap_or(json!({})) } },
    });
    drop(world);
    answer(&app, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor(1_580_753_798_123_456, 432);
        assert_eq!(decode_cursor(&cursor), Some((1_580_753_798_123_456, 432)));
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
