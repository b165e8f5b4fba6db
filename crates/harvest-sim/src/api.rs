//! The `/v2/...` endpoints: who am I, company, my project assignments, projects and task
//! assignments, clients, tasks, users, and time entries with timers.
//!
//! Handlers parse loosely, as Harvest does (string ids, `hours: "6"`, ISO timestamps as
//! `spent_date`, JSON or form bodies), check the caller's role, and answer with the recorded
//! error shapes. Auth, throttling and faults already happened in `gate.rs`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Extension, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

use crate::gate::Caller;
use crate::page::Query;
use crate::world::{normalise_external_reference, Entry, NewEntry, Project, User, World};
use crate::App;

/// The recorded error shapes; see harvest-api.md §1 and §11.
#[derive(Debug)]
pub(crate) enum ApiError {
    BadRequest(String),
    Unauthorized,
    Forbidden(String),
    NotFound,
    Unprocessable(String),
}

pub(crate) const INVALID_TOKEN_DESCRIPTION: &str =
    "The access token provided is expired, revoked, malformed or invalid for other reasons.";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(message) => {
                json_response(StatusCode::BAD_REQUEST, &json!({"message": message}))
            }
            ApiError::Unauthorized => {
                let body = json!({"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION});
                let challenge = format!(
                    "Bearer realm=\"Rack::OAuth2 Protected Resources\", error=\"invalid_token\", \
                     error_description=\"{INVALID_TOKEN_DESCRIPTION}\""
                );
                // The recorded 401 has `application/json` with no charset.
                (
                    StatusCode::UNAUTHORIZED,
                    [
                        (header::CONTENT_TYPE, "application/json".to_owned()),
                        (header::WWW_AUTHENTICATE, challenge),
                    ],
                    body.to_string(),
                )
                    .into_response()
            }
            ApiError::Forbidden(message) => {
                json_response(StatusCode::FORBIDDEN, &json!({"message": message}))
            }
            ApiError::NotFound => {
                let body = json!({"status": 404, "error": "Not Found"}).to_string();
                (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], body)
                    .into_response()
            }
            ApiError::Unprocessable(message) => {
                json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({"message": message}))
            }
        }
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
}

type ApiResult = Result<Response, ApiError>;

fn ok(body: Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, &body))
}

fn created(body: Value) -> ApiResult {
    Ok(json_response(StatusCode::CREATED, &body))
}

const NO_PERMISSION: &str = "You do not have permission to perform this action.";

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/v2/users/me", get(me))
        .route("/v2/users/me/project_assignments", get(my_project_assignments))
        .route("/v2/users", get(users))
        .route("/v2/company", get(company))
        .route("/v2/clients", get(clients))
        .route("/v2/tasks", get(tasks))
        .route("/v2/projects", get(projects).post(create_project))
        .route("/v2/projects/{id}", get(project))
        .route("/v2/projects/{id}/task_assignments", get(project_task_assignments).post(assign_task))
        .route("/v2/task_assignments", get(task_assignments))
        .route("/v2/time_entries", get(time_entries).post(create_entry))
        .route("/v2/time_entries/{id}", get(time_entry).patch(update_entry).delete(delete_entry))
        .route("/v2/time_entries/{id}/stop", patch(stop_entry))
        .route("/v2/time_entries/{id}/restart", patch(restart_entry))
        .merge(crate::identity::router())
        .merge(crate::control::router())
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::gate::gate))
        .with_state(app)
}

// ---- loose parsing ----------------------------------------------------------------------------

/// A body field as Harvest reads it: absent, explicitly blank (`null` / `""`), a value, or junk.
pub(crate) enum Field<T> {
    Absent,
    Blank,
    Value(T),
    Invalid,
}

pub(crate) fn field<T>(body: &Map<String, Value>, key: &str, parse: fn(&Value) -> Option<T>) -> Field<T> {
    match body.get(key) {
        None => Field::Absent,
        Some(Value::Null) => Field::Blank,
        Some(Value::String(s)) if s.trim().is_empty() => Field::Blank,
        Some(value) => parse(value).map_or(Field::Invalid, Field::Value),
    }
}

pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "1" | "TRUE" | "True" => Some(true),
        "false" | "0" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `"2019-01-24"`, or a timestamp whose date part (as written, not converted) is the day.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|d| d.date_naive()))
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok().map(|d| d.date()))
}

fn as_date(value: &Value) -> Option<NaiveDate> {
    value.as_str().and_then(parse_date)
}

/// ISO 8601 datetime (`Z` or offset), or a bare date meaning its midnight UTC.
fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok().map(|d| d.and_utc()))
        .or_else(|| parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()))
}

/// A JSON object or a form-encoded body, as a JSON map (form values stay strings).
pub(crate) fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| ApiError::BadRequest("Malformed form body".into()))?;
        return Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::BadRequest("The request body must be a JSON object".into())),
    }
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

fn filter_i64(query: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    query
        .get(key)
        .map(|v| v.trim().parse().map_err(|_| ApiError::Unprocessable(format!("{key} is not a valid id"))))
        .transpose()
}

fn filter_bool(query: &Query, key: &str) -> Result<Option<bool>, ApiError> {
    query
        .get(key)
        .map(|v| parse_bool(v).ok_or_else(|| ApiError::Unprocessable(format!("{key} must be true or false"))))
        .transpose()
}

fn filter_date(query: &Query, key: &str) -> Result<Option<NaiveDate>, ApiError> {
    query
        .get(key)
        .map(|v| parse_date(v).ok_or_else(|| ApiError::Unprocessable(format!("{key} is not a valid date"))))
        .transpose()
}

fn filter_since(query: &Query) -> Result<Option<DateTime<Utc>>, ApiError> {
    query
        .get("updated_since")
        .map(|v| {
            parse_datetime(v).ok_or_else(|| {
                ApiError::Unprocessable("updated_since is not a valid ISO 8601 datetime".into())
            })
        })
        .transpose()
}

fn caller_user(world: &World, caller: Caller) -> Result<&User, ApiError> {
    world.user(caller.user_id).ok_or(ApiError::Unauthorized)
}

fn require_admin_or_manager(user: &User) -> Result<(), ApiError> {
    if user.is_admin() || user.is_manager() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NO_PERMISSION.into()))
    }
}

// ---- people, company, catalogue ---------------------------------------------------------------

async fn me(State(app): State<App>, Extension(caller): Extension<Caller>) -> ApiResult {
    let world = app.world();
    let user = caller_user(&world, caller)?;
    ok(world.user_json(user))
}

async fn users(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let world = app.world();
    require_admin_or_manager(caller_user(&world, caller)?)?;
    let items = world.users.iter().map(|u| world.user_json(u)).collect();
    ok(query.envelope("users", items, &app.base_url, uri.path()))
}

async fn company(State(app): State<App>, Extension(caller): Extension<Caller>) -> ApiResult {
    let world = app.world();
    caller_user(&world, caller)?;
    ok(json!({
        "base_uri": "https://demo-agency.harvestapp.com",
        "full_domain": "demo-agency.harvestapp.com",
        "name": crate::seed::ACCOUNT_NAME,
        "is_active": true,
        "week_start_day": "Monday",
        "wants_timestamp_timers": false,
        "time_format": "decimal",
        "date_format": "%Y-%m-%d",
        "plan_type": "simple-v4",
        "clock": "24h",
        "currency_code_display": "iso_code_after_amount",
        "currency_symbol_display": "symbol_before_amount",
        "decimal_symbol": ".",
        "thousands_separator": ",",
        "color_scheme": "orange",
        "weekly_capacity": 126000,
        "expense_feature": false,
        "invoice_feature": true,
        "estimate_feature": false,
        "approval_feature": true,
        "team_feature": true,
    }))
}

async fn my_project_assignments(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let world = app.world();
    let items = world
        .user_assignments
        .iter()
        .filter(|a| a.user_id == caller.user_id && a.is_active)
        .filter(|a| world.project(a.project_id).is_some_and(|p| p.is_active))
        .map(|a| world.project_assignment_json(a))
        .collect();
    ok(query.envelope("project_assignments", items, &app.base_url, uri.path()))
}

async fn clients(State(app): State<App>, RawQuery(raw): RawQuery, uri: Uri) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let world = app.world();
    let items = world.clients.iter().map(|c| world.client_json(c)).collect();
    ok(query.envelope("clients", items, &app.base_url, uri.path()))
}

async fn tasks(State(app): State<App>, RawQuery(raw): RawQuery, uri: Uri) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let world = app.world();
    let items = world.tasks.iter().map(|t| world.task_json(t)).collect();
    ok(query.envelope("tasks", items, &app.base_url, uri.path()))
}

// ---- projects and task assignments ------------------------------------------------------------

async fn projects(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let is_active = filter_bool(&query, "is_active")?;
    let client_id = filter_i64(&query, "client_id")?;
    let since = filter_since(&query)?;
    let world = app.world();
    let user = caller_user(&world, caller)?;
    require_admin_or_manager(user)?;
    let mut visible: Vec<&Project> = world
        .projects
        .iter()
        .filter(|p| world.can_see_project(user, p.id))
        .filter(|p| is_active.is_none_or(|active| p.is_active == active))
        .filter(|p| client_id.is_none_or(|id| p.client_id == id))
        .filter(|p| since.is_none_or(|since| p.updated_at >= since))
        .collect();
    visible.sort_by_key(|p| std::cmp::Reverse(p.id));
    let items = visible.into_iter().map(|p| world.project_json(p)).collect();
    ok(query.envelope("projects", items, &app.base_url, uri.path()))
}

async fn project(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let world = app.world();
    let user = caller_user(&world, caller)?;
    require_admin_or_manager(user)?;
    match world.project(id) {
        Some(p) if world.can_see_project(user, p.id) => ok(world.project_json(p)),
        _ => Err(ApiError::NotFound),
    }
}

const BILL_BY: [&str; 4] = ["Project", "Tasks", "People", "none"];
const BUDGET_BY: [&str; 6] = ["project", "project_cost", "task", "task_fees", "person", "none"];

async fn create_project(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    let user = caller_user(&world, caller)?;
    require_admin_or_manager(user)?;
    if !user.may_create_projects() {
        return Err(ApiError::Forbidden(NO_PERMISSION.into()));
    }

    let mut problems = Vec::new();
    let client_id = match field(&body, "client_id", as_i64) {
        Field::Value(id) if world.client(id).is_some() => Some(id),
        Field::Value(_) | Field::Invalid => {
            problems.push("Client is invalid");
            None
        }
        Field::Absent | Field::Blank => {
            problems.push("Client can't be blank");
            None
        }
    };
    let name = match field(&body, "name", as_string) {
        Field::Value(name) => Some(name.trim().to_owned()),
        _ => {
            problems.push("Name can't be blank");
            None
        }
    };
    let is_billable = match field(&body, "is_billable", as_bool) {
        Field::Value(b) => Some(b),
        Field::Invalid => {
            problems.push("Is billable is not included in the list");
            None
        }
        _ => {
            problems.push("Is billable can't be blank");
            None
        }
    };
    let bill_by = choice(&body, "bill_by", &BILL_BY, BILL_BY_PROBLEMS, &mut problems);
    let budget_by = choice(&body, "budget_by", &BUDGET_BY, BUDGET_BY_PROBLEMS, &mut problems);
    let mut optional_number = |key: &str, label: &'static str| match field(&body, key, as_f64) {
        Field::Value(n) => Some(n),
        Field::Invalid => {
            problems.push(label);
            None
        }
        _ => None,
    };
    let budget = optional_number("budget", "Budget is not a number");
    let hourly_rate = optional_number("hourly_rate", "Hourly rate is not a number");
    let cost_budget = optional_number("cost_budget", "Cost budget is not a number");
    let fee = optional_number("fee", "Fee is not a number");
    let percentage = optional_number(
        "over_budget_notification_percentage",
        "Over budget notification percentage is not a number",
    );
    if let (Some(client_id), Some(name)) = (client_id, name.as_deref()) {
        if world.projects.iter().any(|p| p.client_id == client_id && p.name.eq_ignore_ascii_case(name)) {
            problems.push("Name has already been taken");
        }
    }
    let (Some(client_id), Some(name), Some(is_billable), Some(bill_by), Some(budget_by), true) =
        (client_id, name, is_billable, bill_by, budget_by, problems.is_empty())
    else {
        return Err(ApiError::Unprocessable(problems.join(", ")));
    };

    let flag = |key: &str, default: bool| match field(&body, key, as_bool) {
        Field::Value(b) => b,
        _ => default,
    };
    let text = |key: &str| match field(&body, key, as_string) {
        Field::Value(s) => Some(s),
        _ => None,
    };
    let date = |key: &str| match field(&body, key, as_date) {
        Field::Value(d) => Some(d),
        _ => None,
    };
    let now = world.now();
    let id = world.next.project;
    world.next.project += 1;
    world.projects.push(Project {
        id,
        client_id,
        name,
        code: text("code"),
        is_active: flag("is_active", true),
        is_billable,
        is_fixed_fee: flag("is_fixed_fee", false),
        bill_by,
        budget,
        budget_by,
        budget_is_monthly: flag("budget_is_monthly", false),
        notify_when_over_budget: flag("notify_when_over_budget", false),
        over_budget_notification_percentage: percentage.unwrap_or(80.0),
        show_budget_to_all: flag("show_budget_to_all", false),
        cost_budget,
        cost_budget_include_expenses: flag("cost_budget_include_expenses", false),
        hourly_rate,
        fee,
        notes: text("notes"),
        starts_on: date("starts_on"),
        ends_on: date("ends_on"),
        created_at: now,
        updated_at: now,
    });
    // Observed in 2019: the creator is assigned in the same second, as project manager.
    world.assign_user(id, caller.user_id, true);
    let project = world.project(id).map(|p| world.project_json(p)).unwrap_or(Value::Null);
    created(project)
}

const BILL_BY_PROBLEMS: (&str, &str) = ("Bill by can't be blank", "Bill by is not included in the list");
const BUDGET_BY_PROBLEMS: (&str, &str) =
    ("Budget by can't be blank", "Budget by is not included in the list");

/// One of `allowed`; otherwise records the (blank, invalid) problem.
fn choice(
    body: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
    (blank, invalid): (&'static str, &'static str),
    problems: &mut Vec<&'static str>,
) -> Option<String> {
    match field(body, key, as_string) {
        Field::Value(v) if allowed.contains(&v.as_str()) => Some(v),
        Field::Value(_) | Field::Invalid => {
            problems.push(invalid);
            None
        }
        Field::Absent | Field::Blank => {
            problems.push(blank);
            None
        }
    }
}

/// Admins, or the project's managers, may read and change its task assignments.
fn require_project_manager(world: &World, user: &User, project_id: i64) -> Result<(), ApiError> {
    require_admin_or_manager(user)?;
    if world.project(project_id).is_none() {
        return Err(ApiError::NotFound);
    }
    if user.is_admin() || world.manages(user.id, project_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NO_PERMISSION.into()))
    }
}

async fn project_task_assignments(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let project_id = parse_id(&id)?;
    let query = Query::parse(raw.as_deref())?;
    let is_active = filter_bool(&query, "is_active")?;
    let since = filter_since(&query)?;
    let world = app.world();
    require_project_manager(&world, caller_user(&world, caller)?, project_id)?;
    let items = world
        .task_assignments
        .iter()
        .filter(|a| a.project_id == project_id)
        .filter(|a| is_active.is_none_or(|active| a.is_active == active))
        .filter(|a| since.is_none_or(|since| a.updated_at >= since))
        .map(|a| world.task_assignment_listing_json(a))
        .collect();
    ok(query.envelope("task_assignments", items, &app.base_url, uri.path()))
}

async fn assign_task(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let project_id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    require_project_manager(&world, caller_user(&world, caller)?, project_id)?;
    let task_id = match field(&body, "task_id", as_i64) {
        Field::Value(id) if world.task(id).is_some() => id,
        Field::Value(_) | Field::Invalid => return Err(ApiError::Unprocessable("Task is invalid".into())),
        Field::Absent | Field::Blank => return Err(ApiError::Unprocessable("Task can't be blank".into())),
    };
    if world.task_assignment(project_id, task_id).is_some() {
        return Err(ApiError::Unprocessable("Task has already been taken".into()));
    }
    let flag = |key: &str, default: bool| match field(&body, key, as_bool) {
        Field::Value(b) => b,
        _ => default,
    };
    let number = |key: &str| match field(&body, key, as_f64) {
        Field::Value(n) => Some(n),
        _ => None,
    };
    let assignment = world.assign_task(
        project_id,
        task_id,
        flag("is_active", true),
        flag("billable", false),
        number("hourly_rate"),
        number("budget"),
    );
    let now = world.now();
    if let Some(project) = world.projects.iter_mut().find(|p| p.id == project_id) {
        project.updated_at = now;
    }
    let value = world
        .task_assignments
        .iter()
        .find(|a| a.id == assignment)
        .map(|a| world.task_assignment_listing_json(a))
        .unwrap_or(Value::Null);
    created(value)
}

async fn task_assignments(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let is_active = filter_bool(&query, "is_active")?;
    let since = filter_since(&query)?;
    let world = app.world();
    let user = caller_user(&world, caller)?;
    require_admin_or_manager(user)?;
    let items = world
        .task_assignments
        .iter()
        .filter(|a| world.can_see_project(user, a.project_id))
        .filter(|a| is_active.is_none_or(|active| a.is_active == active))
        .filter(|a| since.is_none_or(|since| a.updated_at >= since))
        .map(|a| world.task_assignment_listing_json(a))
        .collect();
    ok(query.envelope("task_assignments", items, &app.base_url, uri.path()))
}

// ---- time entries -----------------------------------------------------------------------------

async fn time_entries(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(raw.as_deref())?;
    let user_id = filter_i64(&query, "user_id")?;
    let client_id = filter_i64(&query, "client_id")?;
    let project_id = filter_i64(&query, "project_id")?;
    let task_id = filter_i64(&query, "task_id")?;
    let is_running = filter_bool(&query, "is_running")?;
    let is_billed = filter_bool(&query, "is_billed")?;
    let since = filter_since(&query)?;
    let from = filter_date(&query, "from")?;
    let to = filter_date(&query, "to")?;
    let external_reference_id = query.get("external_reference_id").map(str::to_owned);

    let world = app.world();
    let viewer = caller_user(&world, caller)?;
    let client_of = |e: &Entry| world.project(e.project_id).map(|p| p.client_id);
    let mut matching: Vec<&Entry> = world
        .entries
        .values()
        .filter(|e| world.can_see_entry(viewer, e))
        .filter(|e| user_id.is_none_or(|id| e.user_id == id))
        .filter(|e| client_id.is_none_or(|id| client_of(e) == Some(id)))
        .filter(|e| project_id.is_none_or(|id| e.project_id == id))
        .filter(|e| task_id.is_none_or(|id| e.task_id == id))
        .filter(|e| is_running.is_none_or(|running| e.is_running() == running))
        .filter(|e| is_billed.is_none_or(|billed| e.is_billed == billed))
        // Inclusive: an entry written in the very second of `updated_since` is returned.
        .filter(|e| since.is_none_or(|since| e.updated_at >= since))
        .filter(|e| from.is_none_or(|from| e.spent_date >= from))
        .filter(|e| to.is_none_or(|to| e.spent_date <= to))
        .filter(|e| {
            external_reference_id.as_ref().is_none_or(|id| e.external_reference_id().as_ref() == Some(id))
        })
        .collect();
    // Newest spent_date first, then newest id first (as the 2024 recordings list them).
    matching.sort_by(|a, b| b.spent_date.cmp(&a.spent_date).then(b.id.cmp(&a.id)));
    ok(query.envelope_with("time_entries", matching, |e| world.entry_json(e), &app.base_url, uri.path()))
}

/// The entry if the caller may see it; 404 otherwise (Harvest also hides what you may not see).
fn visible_entry(world: &World, caller: Caller, id: i64) -> Result<&Entry, ApiError> {
    let viewer = caller_user(world, caller)?;
    world.entries.get(&id).filter(|e| world.can_see_entry(viewer, e)).ok_or(ApiError::NotFound)
}

fn entry_response(world: &World, id: i64) -> Value {
    world.entries.get(&id).map(|e| world.entry_json(e)).unwrap_or(Value::Null)
}

/// Changes one entry as of the world's now, marks it updated, and answers
/// with the entry as Harvest shows it after the change.
fn change_entry(world: &mut World, id: i64, change: impl FnOnce(&mut Entry, DateTime<Utc>)) -> ApiResult {
    let now = world.now();
    if let Some(entry) = world.entries.get_mut(&id) {
        change(entry, now);
        entry.updated_at = now;
    }
    ok(entry_response(world, id))
}

fn refuse_locked(entry: &Entry) -> Result<(), ApiError> {
    if entry.is_locked {
        Err(ApiError::Forbidden(format!(
            "This time entry is locked and cannot be changed: {}",
            crate::world::LOCKED_REASON
        )))
    } else {
        Ok(())
    }
}

/// Checks that `user_id` may log time to `project_id` / `task_id`; the 422 message otherwise.
fn check_assignment(world: &World, user_id: i64, project_id: i64, task_id: i64) -> Result<(), ApiError> {
    let project =
        world.project(project_id).ok_or_else(|| ApiError::Unprocessable("Project is invalid".into()))?;
    if !project.is_active {
        return Err(ApiError::Unprocessable("Project is archived and cannot accept time entries".into()));
    }
    if !world.user_assignment(project_id, user_id).is_some_and(|a| a.is_active) {
        return Err(ApiError::Unprocessable("User is not assigned to this project".into()));
    }
    if !world.task_assignment(project_id, task_id).is_some_and(|a| a.is_active) {
        return Err(ApiError::Unprocessable("Task is not assigned to this project".into()));
    }
    Ok(())
}

async fn time_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    ok(world.entry_json(entry))
}

async fn create_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut problems = Vec::new();
    let project_id = match field(&body, "project_id", as_i64) {
        Field::Value(id) => Some(id),
        Field::Invalid => {
            problems.push("Project is invalid");
            None
        }
        _ => {
            problems.push("Project can't be blank");
            None
        }
    };
    let task_id = match field(&body, "task_id", as_i64) {
        Field::Value(id) => Some(id),
        Field::Invalid => {
            problems.push("Task is invalid");
            None
        }
        _ => {
            problems.push("Task can't be blank");
            None
        }
    };
    let spent_date = match field(&body, "spent_date", as_date) {
        Field::Value(date) => Some(date),
        Field::Invalid => {
            problems.push("Spent date is not a valid date");
            None
        }
        _ => {
            problems.extend(["Spent date can't be blank", "Spent date is not a valid date"]);
            None
        }
    };
    let hours = match field(&body, "hours", as_f64) {
        Field::Value(h) if h >= 0.0 => Some(h),
        Field::Value(_) => {
            problems.push("Hours must be greater than or equal to 0");
            None
        }
        Field::Invalid => {
            problems.push("Hours is not a number");
            None
        }
        Field::Absent | Field::Blank => None,
    };
    let user_id = match field(&body, "user_id", as_i64) {
        Field::Value(id) => id,
        Field::Invalid => {
            problems.push("User is invalid");
            caller.user_id
        }
        Field::Absent | Field::Blank => caller.user_id,
    };
    let (Some(project_id), Some(task_id), Some(spent_date), true) =
        (project_id, task_id, spent_date, problems.is_empty())
    else {
        return Err(ApiError::Unprocessable(problems.join(", ")));
    };
    let notes = match field(&body, "notes", as_string) {
        Field::Value(notes) => Some(notes),
        _ => None,
    };
    let external_reference = body.get("external_reference").cloned().filter(Value::is_object);

    let mut world = app.world();
    let author = caller_user(&world, caller)?;
    if user_id != caller.user_id {
        let allowed = author.is_admin() || (author.is_manager() && world.manages(author.id, project_id));
        if world.user(user_id).is_none() {
            return Err(ApiError::Unprocessable("User is invalid".into()));
        }
        if !allowed {
            return Err(ApiError::Forbidden(NO_PERMISSION.into()));
        }
    }
    check_assignment(&world, user_id, project_id, task_id)?;
    let new = NewEntry { user_id, project_id, task_id, spent_date, hours, notes, external_reference };
    let id = world.insert_entry(new);
    created(entry_response(&world, id))
}

async fn update_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    refuse_locked(entry)?;

    let mut problems = Vec::new();
    let project_id = match field(&body, "project_id", as_i64) {
        Field::Value(id) => id,
        Field::Absent => entry.project_id,
        Field::Invalid => {
            problems.push("Project is invalid");
            entry.project_id
        }
        Field::Blank => {
            problems.push("Project can't be blank");
            entry.project_id
        }
    };
    let task_id = match field(&body, "task_id", as_i64) {
        Field::Value(id) => id,
        Field::Absent => entry.task_id,
        Field::Invalid => {
            problems.push("Task is invalid");
            entry.task_id
        }
        Field::Blank => {
            problems.push("Task can't be blank");
            entry.task_id
        }
    };
    let spent_date = match field(&body, "spent_date", as_date) {
        Field::Value(date) => date,
        Field::Absent => entry.spent_date,
        Field::Invalid => {
            problems.push("Spent date is not a valid date");
            entry.spent_date
        }
        Field::Blank => {
            problems.push("Spent date can't be blank");
            entry.spent_date
        }
    };
    let hours = match field(&body, "hours", as_f64) {
        Field::Value(h) if h >= 0.0 => Some(h),
        Field::Value(_) => {
            problems.push("Hours must be greater than or equal to 0");
            None
        }
        Field::Invalid => {
            problems.push("Hours is not a number");
            None
        }
        Field::Absent | Field::Blank => None,
    };
    if !problems.is_empty() {
        return Err(ApiError::Unprocessable(problems.join(", ")));
    }
    if project_id != entry.project_id || task_id != entry.task_id {
        check_assignment(&world, entry.user_id, project_id, task_id)?;
    }
    let notes = match field(&body, "notes", as_string) {
        Field::Value(notes) => Some(Some(notes)),
        Field::Blank => Some(None),
        Field::Absent | Field::Invalid => None,
    };
    let external_reference = match body.get("external_reference") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(reference) => Some(normalise_external_reference(reference.clone())),
    };

    if let Some(hours) = hours {
        world.set_hours(id, hours);
    }
    change_entry(&mut world, id, |entry, _| {
        entry.project_id = project_id;
        entry.task_id = task_id;
        entry.spent_date = spent_date;
        if let Some(notes) = notes {
            entry.notes = notes;
        }
        if let Some(reference) = external_reference {
            entry.external_reference = reference;
        }
    })
}

async fn delete_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    refuse_locked(entry)?;
    let deleted = world.entry_json(entry);
    world.entries.remove(&id);
    ok(deleted)
}

async fn stop_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    if !entry.is_running() {
        return Err(ApiError::Unprocessable("Cannot stop a timer that is not running".into()));
    }
    change_entry(&mut world, id, |entry, now| {
        entry.hours_without_timer = entry.hours(now);
        entry.timer_started_at = None;
    })
}

async fn restart_entry(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    if entry.is_running() {
        return Err(ApiError::Unprocessable("Cannot restart a timer that is already running".into()));
    }
    if entry.is_locked {
        return Err(ApiError::Unprocessable(format!(
            "Cannot restart a locked time entry: {}",
            crate::world::LOCKED_REASON
        )));
    }
    let user_id = entry.user_id;
    world.stop_running_for(user_id);
    change_entry(&mut world, id, |entry, now| entry.timer_started_at = Some(now))
}
