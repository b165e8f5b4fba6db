//! The `/v2/...` endpoints: who am I, company, my project assignments, projects and task
//! assignments, clients, tasks, users, and time entries with timers.
//!
//! Handlers parse loosely, as Harvest does (string ids, `hours: "6"`, ISO timestamps as
//! `spent_date`, JSON or form bodies), check the caller's role, and answer with the recorded
//! error shapes. Auth, throttling and faults already happened in `gate.rs`.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::Router;
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

// ---- extractors -------------------------------------------------------------------------------

/// The caller `gate` authenticated.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().copied().ok_or(ApiError::Unauthorized)
    }
}

/// The `{id}` of a path; one that is not a number is a 404, as Harvest answers.
struct Id(i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        raw.parse().map(Id).map_err(|_| ApiError::NotFound)
    }
}

/// A list request: its paging and filters, and where the envelope's links point.
struct Listing {
    query: Query,
    base_url: String,
    path: String,
}

impl FromRequestParts<App> for Listing {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let query = Query::parse(parts.uri.query())?;
        Ok(Listing { query, base_url: app.base_url.clone(), path: parts.uri.path().to_owned() })
    }
}

/// Keeps what matches `is_active` and was updated at or after `updated_since` (inclusive: a
/// record written in that very second is listed).
struct ActiveSince {
    is_active: Option<bool>,
    since: Option<DateTime<Utc>>,
}

impl ActiveSince {
    fn keeps(&self, is_active: bool, updated_at: DateTime<Utc>) -> bool {
        self.is_active.is_none_or(|active| is_active == active)
            && self.since.is_none_or(|since| updated_at >= since)
    }
}

impl Listing {
    /// A filter by its parser, or the 422 naming it.
    fn filter<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        problem: &str,
    ) -> Result<Option<T>, ApiError> {
        let parse = |v: &str| parse(v).ok_or_else(|| ApiError::Unprocessable(format!("{key} {problem}")));
        self.query.get(key).map(parse).transpose()
    }

    fn id(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.filter(key, |v| v.trim().parse().ok(), "is not a valid id")
    }

    fn flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.filter(key, parse_bool, "must be true or false")
    }

    fn date(&self, key: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.filter(key, parse_date, "is not a valid date")
    }

    fn since(&self) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.filter("updated_since", parse_datetime, "is not a valid ISO 8601 datetime")
    }

    /// The `is_active` and `updated_since` filters of most lists.
    fn active_since(&self) -> Result<ActiveSince, ApiError> {
        Ok(ActiveSince { is_active: self.flag("is_active")?, since: self.since()? })
    }

    /// This page of `items` (already filtered and sorted) in Harvest's envelope.
    fn page(&self, key: &str, items: Vec<Value>) -> ApiResult {
        self.page_with(key, items, |item| item)
    }

    /// Like [`Listing::page`], rendering only the items on this page.
    fn page_with<T>(&self, key: &str, items: Vec<T>, render: impl Fn(T) -> Value) -> ApiResult {
        ok(self.query.envelope(key, items, render, &self.base_url, &self.path))
    }
}

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

/// A field's two 422 messages: (blank or absent, invalid).
type Messages = (&'static str, &'static str);

/// A field the request must carry, accepted by `accept`; otherwise `None`, its message recorded.
fn required<T>(
    body: &Map<String, Value>,
    key: &str,
    parse: fn(&Value) -> Option<T>,
    accept: impl Fn(&T) -> bool,
    (blank, invalid): Messages,
    problems: &mut Vec<&'static str>,
) -> Option<T> {
    match field(body, key, parse) {
        Field::Value(value) if accept(&value) => Some(value),
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

/// A field an update may change: the new value; `current` when absent, or with its message
/// recorded when blank or invalid.
fn changed<T>(
    body: &Map<String, Value>,
    key: &str,
    parse: fn(&Value) -> Option<T>,
    current: T,
    (blank, invalid): Messages,
    problems: &mut Vec<&'static str>,
) -> T {
    match field(body, key, parse) {
        Field::Value(value) => value,
        Field::Absent => current,
        Field::Blank => {
            problems.push(blank);
            current
        }
        Field::Invalid => {
            problems.push(invalid);
            current
        }
    }
}

/// A field that may be left out; blank or junk counts as left out.
fn optional<T>(body: &Map<String, Value>, key: &str, parse: fn(&Value) -> Option<T>) -> Option<T> {
    match field(body, key, parse) {
        Field::Value(value) => Some(value),
        _ => None,
    }
}

fn flag(body: &Map<String, Value>, key: &str, default: bool) -> bool {
    optional(body, key, as_bool).unwrap_or(default)
}

/// The `hours` of a new or changed entry: absent, or a number of at least 0.
fn entry_hours(body: &Map<String, Value>, problems: &mut Vec<&'static str>) -> Option<f64> {
    match field(body, "hours", as_f64) {
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
    }
}

const PROJECT: Messages = ("Project can't be blank", "Project is invalid");
const TASK: Messages = ("Task can't be blank", "Task is invalid");
const SPENT_DATE: Messages = ("Spent date can't be blank", "Spent date is not a valid date");

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

/// The caller, when an administrator or a manager; 403 for anyone else.
fn manager(world: &World, caller: Caller) -> Result<&User, ApiError> {
    let user = caller_user(world, caller)?;
    require_admin_or_manager(user)?;
    Ok(user)
}

// ---- people, company, catalogue ---------------------------------------------------------------

async fn me(State(app): State<App>, caller: Caller) -> ApiResult {
    let world = app.world();
    let user = caller_user(&world, caller)?;
    ok(world.user_json(user))
}

async fn users(State(app): State<App>, caller: Caller, listing: Listing) -> ApiResult {
    let world = app.world();
    manager(&world, caller)?;
    let items = world.users.iter().map(|u| world.user_json(u)).collect();
    listing.page("users", items)
}

async fn company(State(app): State<App>, caller: Caller) -> ApiResult {
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

async fn my_project_assignments(State(app): State<App>, caller: Caller, listing: Listing) -> ApiResult {
    let world = app.world();
    let items = world
        .user_assignments
        .iter()
        .filter(|a| a.user_id == caller.user_id && a.is_active)
        .filter(|a| world.project(a.project_id).is_some_and(|p| p.is_active))
        .map(|a| world.project_assignment_json(a))
        .collect();
    listing.page("project_assignments", items)
}

async fn clients(State(app): State<App>, listing: Listing) -> ApiResult {
    let world = app.world();
    let items = world.clients.iter().map(|c| world.client_json(c)).collect();
    listing.page("clients", items)
}

async fn tasks(State(app): State<App>, listing: Listing) -> ApiResult {
    let world = app.world();
    let items = world.tasks.iter().map(|t| world.task_json(t)).collect();
    listing.page("tasks", items)
}

// ---- projects and task assignments ------------------------------------------------------------

async fn projects(State(app): State<App>, caller: Caller, listing: Listing) -> ApiResult {
    let filter = listing.active_since()?;
    let client_id = listing.id("client_id")?;
    let world = app.world();
    let user = manager(&world, caller)?;
    let mut visible: Vec<&Project> = world
        .projects
        .iter()
        .filter(|p| world.can_see_project(user, p.id))
        .filter(|p| filter.keeps(p.is_active, p.updated_at))
        .filter(|p| client_id.is_none_or(|id| p.client_id == id))
        .collect();
    visible.sort_by_key(|p| std::cmp::Reverse(p.id));
    let items = visible.into_iter().map(|p| world.project_json(p)).collect();
    listing.page("projects", items)
}

async fn project(State(app): State<App>, caller: Caller, Id(id): Id) -> ApiResult {
    let world = app.world();
    let user = manager(&world, caller)?;
    match world.project(id) {
        Some(p) if world.can_see_project(user, p.id) => ok(world.project_json(p)),
        _ => Err(ApiError::NotFound),
    }
}

const BILL_BY: [&str; 4] = ["Project", "Tasks", "People", "none"];
const BUDGET_BY: [&str; 6] = ["project", "project_cost", "task", "task_fees", "person", "none"];

async fn create_project(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    let user = manager(&world, caller)?;
    if !user.may_create_projects() {
        return Err(ApiError::Forbidden(NO_PERMISSION.into()));
    }

    let mut problems = Vec::new();
    let client = ("Client can't be blank", "Client is invalid");
    let client_id =
        required(&body, "client_id", as_i64, |id| world.client(*id).is_some(), client, &mut problems);
    let name = ("Name can't be blank", "Name can't be blank");
    let name = required(&body, "name", as_string, |_| true, name, &mut problems).map(|n| n.trim().to_owned());
    let billable = ("Is billable can't be blank", "Is billable is not included in the list");
    let is_billable = required(&body, "is_billable", as_bool, |_| true, billable, &mut problems);
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

    let flag = |key: &str, default: bool| flag(&body, key, default);
    let text = |key: &str| optional(&body, key, as_string);
    let date = |key: &str| optional(&body, key, as_date);
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

const BILL_BY_PROBLEMS: Messages = ("Bill by can't be blank", "Bill by is not included in the list");
const BUDGET_BY_PROBLEMS: Messages = ("Budget by can't be blank", "Budget by is not included in the list");

/// One of `allowed`; otherwise records the (blank, invalid) problem.
fn choice(
    body: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
    messages: Messages,
    problems: &mut Vec<&'static str>,
) -> Option<String> {
    required(body, key, as_string, |v| allowed.contains(&v.as_str()), messages, problems)
}

/// Admins, or the project's managers, may read and change its task assignments.
fn require_project_manager(world: &World, caller: Caller, project_id: i64) -> Result<(), ApiError> {
    let user = manager(world, caller)?;
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
    caller: Caller,
    Id(project_id): Id,
    listing: Listing,
) -> ApiResult {
    let filter = listing.active_since()?;
    let world = app.world();
    require_project_manager(&world, caller, project_id)?;
    let items = world
        .task_assignments
        .iter()
        .filter(|a| a.project_id == project_id)
        .filter(|a| filter.keeps(a.is_active, a.updated_at))
        .map(|a| world.task_assignment_listing_json(a))
        .collect();
    listing.page("task_assignments", items)
}

async fn assign_task(
    State(app): State<App>,
    caller: Caller,
    Id(project_id): Id,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    require_project_manager(&world, caller, project_id)?;
    let mut problems = Vec::new();
    let Some(task_id) =
        required(&body, "task_id", as_i64, |id| world.task(*id).is_some(), TASK, &mut problems)
    else {
        return Err(ApiError::Unprocessable(problems.join(", ")));
    };
    if world.task_assignment(project_id, task_id).is_some() {
        return Err(ApiError::Unprocessable("Task has already been taken".into()));
    }
    let flag = |key: &str, default: bool| flag(&body, key, default);
    let number = |key: &str| optional(&body, key, as_f64);
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

async fn task_assignments(State(app): State<App>, caller: Caller, listing: Listing) -> ApiResult {
    let filter = listing.active_since()?;
    let world = app.world();
    let user = manager(&world, caller)?;
    let items = world
        .task_assignments
        .iter()
        .filter(|a| world.can_see_project(user, a.project_id))
        .filter(|a| filter.keeps(a.is_active, a.updated_at))
        .map(|a| world.task_assignment_listing_json(a))
        .collect();
    listing.page("task_assignments", items)
}

// ---- time entries -----------------------------------------------------------------------------

async fn time_entries(State(app): State<App>, caller: Caller, listing: Listing) -> ApiResult {
    let user_id = listing.id("user_id")?;
    let client_id = listing.id("client_id")?;
    let project_id = listing.id("project_id")?;
    let task_id = listing.id("task_id")?;
    let is_running = listing.flag("is_running")?;
    let is_billed = listing.flag("is_billed")?;
    let since = listing.since()?;
    let from = listing.date("from")?;
    let to = listing.date("to")?;
    let external_reference_id = listing.query.get("external_reference_id").map(str::to_owned);

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
    listing.page_with("time_entries", matching, |e| world.entry_json(e))
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

async fn time_entry(State(app): State<App>, caller: Caller, Id(id): Id) -> ApiResult {
    let world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    ok(world.entry_json(entry))
}

async fn create_entry(State(app): State<App>, caller: Caller, headers: HeaderMap, body: Bytes) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut problems = Vec::new();
    let project_id = required(&body, "project_id", as_i64, |_| true, PROJECT, &mut problems);
    let task_id = required(&body, "task_id", as_i64, |_| true, TASK, &mut problems);
    // A new entry without a date gets both messages, as recorded.
    let date = ("Spent date can't be blank, Spent date is not a valid date", SPENT_DATE.1);
    let spent_date = required(&body, "spent_date", as_date, |_| true, date, &mut problems);
    let hours = entry_hours(&body, &mut problems);
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
    let notes = optional(&body, "notes", as_string);
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
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&headers, &body)?;
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    refuse_locked(entry)?;

    let mut problems = Vec::new();
    let project_id = changed(&body, "project_id", as_i64, entry.project_id, PROJECT, &mut problems);
    let task_id = changed(&body, "task_id", as_i64, entry.task_id, TASK, &mut problems);
    let spent_date = changed(&body, "spent_date", as_date, entry.spent_date, SPENT_DATE, &mut problems);
    let hours = entry_hours(&body, &mut problems);
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

async fn delete_entry(State(app): State<App>, caller: Caller, Id(id): Id) -> ApiResult {
    let mut world = app.world();
    let entry = visible_entry(&world, caller, id)?;
    refuse_locked(entry)?;
    let deleted = world.entry_json(entry);
    world.entries.remove(&id);
    ok(deleted)
}

async fn stop_entry(State(app): State<App>, caller: Caller, Id(id): Id) -> ApiResult {
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

async fn restart_entry(State(app): State<App>, caller: Caller, Id(id): Id) -> ApiResult {
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
