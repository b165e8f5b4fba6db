//! The `/__sim/` control surface for end-to-end tests written in other languages: the same
//! "as if in Harvest" operations as the methods on [`crate::Simulator`], over HTTP, without auth.
//! These calls are never recorded in the request log and never hit faults or the throttle.
//!
//! - `POST /__sim/time_entries` (a [`NewEntry`] as JSON) → 201 with the entry
//! - `PATCH /__sim/time_entries/{id}` (an [`EntryEdit`]) → 200 with the entry, or 404
//! - `DELETE /__sim/time_entries/{id}` → 204, or 404
//! - `GET /__sim/time_entries` → every entry, all users
//! - `GET /__sim/requests` → the request log; `DELETE /__sim/requests` clears it
//! - `DELETE /__sim/faults` → 204, drops every queued fault
//! - `POST /__sim/faults` → 204; body `{"method": "POST"|null, "path_prefix": "/v2/…", "times": 1,
//!   "kind": "status"|"delay"|"drop"|"drop_after_handling"|"too_many_requests"|"garbage",
//!   "status": 503, "delay_ms": 200, "retry_after": "3"}`

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{json_response, ApiError};
use crate::world::{EntryEdit, NewEntry};
use crate::{App, Fault, FaultKind};

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/__sim/time_entries", get(list_entries).post(add_entry))
        .route("/__sim/time_entries/{id}", patch(edit_entry).delete(delete_entry))
        .route("/__sim/requests", get(requests).delete(clear_requests))
        .route("/__sim/faults", post(inject).delete(clear_faults))
}

async fn list_entries(State(app): State<App>) -> Response {
    let world = app.world();
    let entries: Vec<Value> = world.entries.values().map(|e| world.entry_json(e)).collect();
    json_response(StatusCode::OK, &json!({ "time_entries": entries }))
}

async fn add_entry(State(app): State<App>, Json(entry): Json<NewEntry>) -> Response {
    let mut world = app.world();
    let id = world.insert_entry(entry);
    let body = world.entries.get(&id).map(|e| world.entry_json(e)).unwrap_or(Value::Null);
    json_response(StatusCode::CREATED, &body)
}

async fn edit_entry(State(app): State<App>, Path(id): Path<i64>, Json(edit): Json<EntryEdit>) -> Response {
    let mut world = app.world();
    if world.edit_entry(id, edit).is_none() {
        return ApiError::NotFound.into_response();
    }
    let body = world.entries.get(&id).map(|e| world.entry_json(e)).unwrap_or(Value::Null);
    json_response(StatusCode::OK, &body)
}

async fn delete_entry(State(app): State<App>, Path(id): Path<i64>) -> Response {
    match app.world().entries.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => ApiError::NotFound.into_response(),
    }
}

async fn requests(State(app): State<App>) -> Response {
    let world = app.world();
    let log: Vec<Value> = world
        .requests
        .iter()
        .map(|r| {
            json!({
                "method": r.method,
                "path_and_query": r.path_and_query,
                "user_agent": r.user_agent,
                "authorization": r.authorization,
                "account_id": r.account_id,
                "at_ms": r.at.saturating_duration_since(app.started).as_millis() as u64,
                "status": r.status,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "requests": log }))
}

async fn clear_requests(State(app): State<App>) -> StatusCode {
    app.world().clear_requests();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct FaultRequest {
    method: Option<String>,
    path_prefix: String,
    times: Option<usize>,
    kind: String,
    status: Option<u16>,
    delay_ms: Option<u64>,
    retry_after: Option<String>,
}

async fn inject(State(app): State<App>, Json(request): Json<FaultRequest>) -> Response {
    let kind = match request.kind.as_str() {
        "status" => FaultKind::Status(request.status.unwrap_or(500)),
        "delay" => FaultKind::Delay(Duration::from_millis(request.delay_ms.unwrap_or(1000))),
        "drop" => FaultKind::Drop,
        "drop_after_handling" => FaultKind::DropAfterHandling,
        "delay_after_handling" => {
            FaultKind::DelayAfterHandling(Duration::from_millis(request.delay_ms.unwrap_or(1000)))
        }
        "too_many_requests" => FaultKind::TooManyRequests { retry_after: request.retry_after },
        "garbage" => FaultKind::Garbage,
        other => {
            return ApiError::Unprocessable(format!("unknown fault kind {other:?}")).into_response();
        }
    };
    let times = request.times.unwrap_or(1);
    if times > 0 {
        let fault = Fault { method: request.method, path_prefix: request.path_prefix, times, kind };
        app.world().faults.push_back(fault);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(app): State<App>) -> StatusCode {
    app.world().faults.clear();
    StatusCode::NO_CONTENT
}
