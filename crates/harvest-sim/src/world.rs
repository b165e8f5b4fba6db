//! The simulated Harvest account: people, clients, tasks, projects, assignments, time entries,
//! tokens, and the simulator's own bookkeeping (request log, fault queue, rate-limit windows).
//!
//! Everything here is synchronous and lives behind one mutex in [`crate::Shared`]; HTTP parsing and
//! status codes live in `api.rs` / `identity.rs`, the HTTP edge (faults, auth, throttling) in `gate.rs`.
//! Rendering produces the JSON shapes of the 2024 recordings.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Fault, Recorded};

/// Reason Harvest gives for entries locked by an approval.
pub(crate) const LOCKED_REASON: &str = "Item Approved and Locked for this Time Period";

/// A time entry to create "as if in Harvest", bypassing auth and validation.
#[derive(Debug, Clone, Deserialize)]
pub struct NewEntry {
    pub user_id: i64,
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    /// `None` starts a running timer (and stops that user's other running timer, as Harvest does).
    #[serde(default)]
    pub hours: Option<f64>,
    #[serde(default)]
    pub notes: Option<String>,
    /// `{id, group_id, account_id, permalink}`; `service` and `service_icon_url` are added.
    #[serde(default)]
    pub external_reference: Option<Value>,
}

/// Changes to an entry made "as if in Harvest"; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EntryEdit {
    /// On a running entry this sets the tracked total and restarts the timer from now.
    pub hours: Option<f64>,
    pub notes: Option<String>,
    pub project_id: Option<i64>,
    pub task_id: Option<i64>,
    pub spent_date: Option<NaiveDate>,
    /// Locking also sets `locked_reason` ("Item Approved and Locked for this Time Period").
    pub is_locked: Option<bool>,
}

/// A project to create "as if in Harvest" with [`crate::Simulator::add_project`].
#[derive(Debug, Clone)]
pub struct NewProject {
    pub client_id: i64,
    pub name: String,
    pub code: Option<String>,
    /// Hour budget; with `Some`, `budget_by` is `"project"`, otherwise `"none"`.
    pub budget: Option<f64>,
    pub is_active: bool,
    /// Tasks assigned (active, billable) to the new project.
    pub task_ids: Vec<i64>,
    /// People assigned to the new project (not as managers).
    pub user_ids: Vec<i64>,
    /// People assigned as project managers.
    pub manager_ids: Vec<i64>,
}

impl NewProject {
    /// An active, budget-less project for `client_id` with no tasks and nobody assigned.
    pub fn new(client_id: i64, name: impl Into<String>) -> NewProject {
        NewProject {
            client_id,
            name: name.into(),
            code: None,
            budget: None,
            is_active: true,
            task_ids: Vec::new(),
            user_ids: Vec::new(),
            manager_ids: Vec::new(),
        }
    }
}

pub(crate) struct User {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub access_roles: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
    pub fn is_admin(&self) -> bool {
        self.access_roles.iter().any(|r| r == "administrator")
    }
    pub fn is_manager(&self) -> bool {
        self.access_roles.iter().any(|r| r == "manager")
    }
    pub fn may_create_projects(&self) -> bool {
        self.is_admin() || (self.is_manager() && self.access_roles.iter().any(|r| r == "project_creator"))
    }
}

pub(crate) struct Client {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) struct Task {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) struct Project {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub code: Option<String>,
    pub is_active: bool,
    pub is_billable: bool,
    pub is_fixed_fee: bool,
    pub bill_by: String,
    pub budget: Option<f64>,
    pub budget_by: String,
    pub budget_is_monthly: bool,
    pub notify_when_over_budget: bool,
    pub over_budget_notification_percentage: f64,
    pub show_budget_to_all: bool,
    pub cost_budget: Option<f64>,
    pub cost_budget_include_expenses: bool,
    pub hourly_rate: Option<f64>,
    pub fee: Option<f64>,
    pub notes: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) struct TaskAssignment {
    pub id: i64,
    pub project_id: i64,
    pub task_id: i64,
    pub is_active: bool,
    pub billable: bool,
    pub hourly_rate: Option<f64>,
    pub budget: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) struct UserAssignment {
    pub id: i64,
    pub project_id: i64,
    pub user_id: i64,
    pub is_project_manager: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

pub(crate) struct Entry {
    pub id: i64,
    pub user_id: i64,
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    /// Hours tracked before the timer was last started (the whole total once stopped).
    pub hours_without_timer: f64,
    pub timer_started_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    pub is_locked: bool,
    pub is_closed: bool,
    pub is_billed: bool,
    pub external_reference: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Entry {
    pub fn is_running(&self) -> bool {
        self.timer_started_at.is_some()
    }

    /// Running total: hours before the timer plus the elapsed time, in hours to 2 decimals.
    pub fn hours(&self, now: DateTime<Utc>) -> f64 {
        match self.timer_started_at {
            Some(started) => round2(self.hours_without_timer + elapsed_hours(started, now)),
            None => self.hours_without_timer,
        }
    }

    pub fn external_reference_id(&self) -> Option<String> {
        match self.external_reference.as_ref()?.get("id")? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

pub(crate) struct AccessToken {
    pub user_id: i64,
    /// `None` for the seeded demo tokens (personal-access-token-like: they never expire).
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

pub(crate) struct RefreshToken {
    pub user_id: i64,
    pub access_token: String,
    pub revoked: bool,
}

pub(crate) struct AuthCode {
    pub user_id: i64,
    pub client_id: String,
    pub used: bool,
}

/// Next free id of each kind; entry ids start above 2^31 like real 2024 ids.
pub(crate) struct NextIds {
    pub entry: i64,
    pub project: i64,
    pub client: i64,
    pub task: i64,
    pub task_assignment: i64,
    pub user_assignment: i64,
}

pub(crate) struct World {
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    pub tasks: Vec<Task>,
    pub projects: Vec<Project>,
    pub task_assignments: Vec<TaskAssignment>,
    pub user_assignments: Vec<UserAssignment>,
    pub entries: BTreeMap<i64, Entry>,
    pub tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub codes: HashMap<String, AuthCode>,
    pub authorizing_user: i64,
    /// The request log, oldest first; `requests_dropped` went before it (with
    /// `request_log`, only the last so many stay).
    pub requests: VecDeque<Recorded>,
    pub requests_dropped: usize,
    pub request_log: Option<usize>,
    pub faults: VecDeque<Fault>,
    pub hits: HashMap<String, VecDeque<Instant>>,
    pub now_offset: chrono::Duration,
    pub next: NextIds,
    /// Fields answered in place of an entry's own (a type Harvest once sent
    /// unannounced, say): entry id → field → value.
    pub entry_overrides: HashMap<i64, serde_json::Map<String, Value>>,
}

pub(crate) fn round2(hours: f64) -> f64 {
    (hours * 100.0).round() / 100.0
}

fn elapsed_hours(started: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let seconds = (now - started).num_milliseconds().max(0) as f64 / 1000.0;
    seconds / 3600.0
}

/// Harvest's datetime format: UTC, second precision, `Z`.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn truncate_to_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

pub(crate) fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Adds `service` and `service_icon_url` (derived from the permalink's host) as Harvest does.
pub(crate) fn normalise_external_reference(reference: Value) -> Option<Value> {
    let Value::Object(mut fields) = reference else {
        return None;
    };
    let service = fields.get("permalink").and_then(Value::as_str).and_then(|permalink| {
        let rest = permalink.split_once("://").map_or(permalink, |(_, rest)| rest);
        let host = rest.split(['/', '?', '#', ':']).next().unwrap_or_default();
        (!host.is_empty()).then(|| host.to_owned())
    });
    if !fields.get("service").is_some_and(Value::is_string) {
        fields.insert("service".into(), service.clone().map_or(Value::Null, Value::String));
    }
    let icon = fields.get("service").and_then(Value::as_str).map(|service| {
        format!("https://proxy.harvestfiles.com/production_harvestapp_public/uploads/platform_icons/{service}.png")
    });
    fields.insert("service_icon_url".into(), icon.map_or(Value::Null, Value::String));
    for key in ["id", "group_id", "account_id", "permalink"] {
        fields.entry(key).or_insert(Value::Null);
    }
    Some(Value::Object(fields))
}

impl World {
    /// Logs a request; its number, for [`World::recorded_mut`].
    pub fn record(&mut self, recorded: Recorded) -> usize {
        self.requests.push_back(recorded);
        if self.request_log.is_some_and(|keep| self.requests.len() > keep) {
            self.requests.pop_front();
            self.requests_dropped += 1;
        }
        self.requests_dropped + self.requests.len() - 1
    }

    /// The logged request with this number, unless it was cleared or dropped since.
    pub fn recorded_mut(&mut self, number: usize) -> Option<&mut Recorded> {
        let index = number.checked_sub(self.requests_dropped)?;
        self.requests.get_mut(index)
    }

    pub fn clear_requests(&mut self) {
        self.requests_dropped += self.requests.len();
        self.requests.clear();
    }

    pub fn new() -> World {
        World {
            users: Vec::new(),
            clients: Vec::new(),
            tasks: Vec::new(),
            projects: Vec::new(),
            task_assignments: Vec::new(),
            user_assignments: Vec::new(),
            entries: BTreeMap::new(),
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            codes: HashMap::new(),
            authorizing_user: crate::seed::MANAGER_ID,
            requests: VecDeque::new(),
            requests_dropped: 0,
            request_log: None,
            faults: VecDeque::new(),
            hits: HashMap::new(),
            now_offset: chrono::Duration::zero(),
            entry_overrides: HashMap::new(),
            next: NextIds {
                entry: 2_380_000_001,
                project: 41_068_301,
                client: 15_058_301,
                task: 22_630_301,
                task_assignment: 451_231_301,
                user_assignment: 469_091_301,
            },
        }
    }

    /// The simulator's clock: wall time shifted by `set_now_offset`, truncated to the second.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_to_second(Utc::now() + self.now_offset)
    }

    pub fn user(&self, id: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn client(&self, id: i64) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }
    pub fn task(&self, id: i64) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }
    pub fn project(&self, id: i64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }
    pub fn task_assignment(&self, project_id: i64, task_id: i64) -> Option<&TaskAssignment> {
        self.task_assignments.iter().find(|a| a.project_id == project_id && a.task_id == task_id)
    }
    pub fn user_assignment(&self, project_id: i64, user_id: i64) -> Option<&UserAssignment> {
        self.user_assignments.iter().find(|a| a.project_id == project_id && a.user_id == user_id)
    }

    /// Whether `user_id` is an active project manager of `project_id`.
    pub fn manages(&self, user_id: i64, project_id: i64) -> bool {
        self.user_assignment(project_id, user_id).is_some_and(|a| a.is_active && a.is_project_manager)
    }

    /// Admins see every entry, managers their own plus those on projects they manage, members their own.
    pub fn can_see_entry(&self, viewer: &User, entry: &Entry) -> bool {
        viewer.is_admin()
            || entry.user_id == viewer.id
            || (viewer.is_manager() && self.manages(viewer.id, entry.project_id))
    }

    /// Admins see every project, managers those they manage; members none (they get 403 earlier).
    pub fn can_see_project(&self, viewer: &User, project_id: i64) -> bool {
        viewer.is_admin() || (viewer.is_manager() && self.manages(viewer.id, project_id))
    }

    // ---- creation ------------------------------------------------------------------------------

    pub fn add_user(&mut self, id: i64, first: &str, last: &str, email: &str, roles: &[&str]) {
        let now = self.now();
        self.users.push(User {
            id,
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            access_roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            created_at: now,
        });
    }

    pub fn add_client(&mut self, id: Option<i64>, name: &str) -> i64 {
        let id = id.unwrap_or_else(|| bump(&mut self.next.client));
        let now = self.now();
        self.clients.push(Client { id, name: name.into(), currency: "USD".into(), created_at: now });
        id
    }

    pub fn add_task(&mut self, id: Option<i64>, name: &str) -> i64 {
        let id = id.unwrap_or_else(|| bump(&mut self.next.task));
        let now = self.now();
        self.tasks.push(Task { id, name: name.into(), created_at: now });
        id
    }

    pub fn add_project(&mut self, id: Option<i64>, new: NewProject) -> i64 {
        let id = id.unwrap_or_else(|| bump(&mut self.next.project));
        let now = self.now();
        let budget_by = if new.budget.is_some() { "project" } else { "none" };
        self.projects.push(Project {
            id,
            client_id: new.client_id,
            name: new.name,
            code: new.code,
            is_active: new.is_active,
            is_billable: true,
            is_fixed_fee: false,
            bill_by: "Project".into(),
            budget: new.budget,
            budget_by: budget_by.into(),
            budget_is_monthly: false,
            notify_when_over_budget: false,
            over_budget_notification_percentage: 80.0,
            show_budget_to_all: false,
            cost_budget: None,
            cost_budget_include_expenses: false,
            hourly_rate: Some(100.0),
            fee: None,
            notes: None,
            starts_on: None,
            ends_on: None,
            created_at: now,
            updated_at: now,
        });
        for task_id in new.task_ids {
            self.assign_task(id, task_id, true, true, None, None);
        }
        for user_id in new.user_ids {
            self.assign_user(id, user_id, false);
        }
        for user_id in new.manager_ids {
            self.assign_user(id, user_id, true);
        }
        id
    }

    pub fn assign_task(
        &mut self,
        project_id: i64,
        task_id: i64,
        is_active: bool,
        billable: bool,
        hourly_rate: Option<f64>,
        budget: Option<f64>,
    ) -> i64 {
        let id = bump(&mut self.next.task_assignment);
        let now = self.now();
        self.task_assignments.push(TaskAssignment {
            id,
            project_id,
            task_id,
            is_active,
            billable,
            hourly_rate,
            budget,
            created_at: now,
            updated_at: now,
        });
        id
    }

    /// Assigns a person to a project (or upgrades them to project manager if already assigned).
    pub fn assign_user(&mut self, project_id: i64, user_id: i64, is_project_manager: bool) -> i64 {
        if let Some(existing) =
            self.user_assignments.iter_mut().find(|a| a.project_id == project_id && a.user_id == user_id)
        {
            existing.is_project_manager |= is_project_manager;
            existing.is_active = true;
            return existing.id;
        }
        let id = bump(&mut self.next.user_assignment);
        let now = self.now();
        self.user_assignments.push(UserAssignment {
            id,
            project_id,
            user_id,
            is_project_manager,
            is_active: true,
            created_at: now,
        });
        id
    }

    /// Stops `user_id`'s running timer(s), adding the elapsed time, and bumps their `updated_at`.
    pub fn stop_running_for(&mut self, user_id: i64) {
        let now = self.now();
        for entry in self.entries.values_mut().filter(|e| e.user_id == user_id && e.is_running()) {
            entry.hours_without_timer = entry.hours(now);
            entry.timer_started_at = None;
            entry.updated_at = now;
        }
    }

    /// Creates an entry; without `hours` it is a running timer and the user's other timer stops.
    pub fn insert_entry(&mut self, entry: NewEntry) -> i64 {
        let NewEntry { user_id, project_id, task_id, spent_date, hours, notes, external_reference } = entry;
        let now = self.now();
        if hours.is_none() {
            self.stop_running_for(user_id);
        }
        let id = bump(&mut self.next.entry);
        self.entries.insert(
            id,
            Entry {
                id,
                user_id,
                project_id,
                task_id,
                spent_date,
                hours_without_timer: hours.unwrap_or(0.0),
                timer_started_at: hours.is_none().then_some(now),
                notes,
                is_locked: false,
                is_closed: false,
                is_billed: false,
                external_reference: external_reference.and_then(normalise_external_reference),
                created_at: now,
                updated_at: now,
            },
        );
        id
    }

    /// Sets an entry's hours; on a running entry the timer restarts from now with that total.
    pub fn set_hours(&mut self, id: i64, hours: f64) {
        let now = self.now();
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.hours_without_timer = hours;
            if entry.is_running() {
                entry.timer_started_at = Some(now);
            }
        }
    }

    /// Applies an "as if in Harvest" edit; `None` when the entry does not exist.
    pub fn edit_entry(&mut self, id: i64, edit: EntryEdit) -> Option<()> {
        if let Some(hours) = edit.hours {
            self.set_hours(id, hours);
        }
        let now = self.now();
        let entry = self.entries.get_mut(&id)?;
        if let Some(notes) = edit.notes {
            entry.notes = Some(notes);
        }
        if let Some(project_id) = edit.project_id {
            entry.project_id = project_id;
        }
        if let Some(task_id) = edit.task_id {
            entry.task_id = task_id;
        }
        if let Some(spent_date) = edit.spent_date {
            entry.spent_date = spent_date;
        }
        if let Some(locked) = edit.is_locked {
            entry.is_locked = locked;
        }
        entry.updated_at = now;
        Some(())
    }

    // ---- rendering -------------------------------------------------------------------------------

    /// Answers `value` for `field` of entry `id` from now on, whatever the entry holds.
    pub fn corrupt_entry_field(&mut self, id: i64, field: &str, value: Value) {
        self.entry_overrides.entry(id).or_default().insert(field.to_owned(), value);
    }

    pub fn entry_json(&self, entry: &Entry) -> Value {
        let mut value = self.plain_entry_json(entry);
        if let (Some(fields), Some(object)) = (self.entry_overrides.get(&entry.id), value.as_object_mut()) {
            object.extend(fields.clone());
        }
        value
    }

    fn plain_entry_json(&self, entry: &Entry) -> Value {
        let now = self.now();
        let user = self.user(entry.user_id);
        let project = self.project(entry.project_id);
        let client = project.and_then(|p| self.client(p.client_id));
        let task = self.task(entry.task_id);
        let user_assignment = self.user_assignment(entry.project_id, entry.user_id);
        let task_assignment = self.task_assignment(entry.project_id, entry.task_id);
        let billable = project.is_some_and(|p| p.is_billable) && task_assignment.is_some_and(|a| a.billable);
        let billable_rate = if billable {
            task_assignment.and_then(|a| a.hourly_rate).or(project.and_then(|p| p.hourly_rate))
        } else {
            None
        };
        let hours = entry.hours(now);
        json!({
            "id": entry.id,
            "spent_date": entry.spent_date.format("%Y-%m-%d").to_string(),
            "hours": hours,
            "hours_without_timer": entry.hours_without_timer,
            "rounded_hours": round2(hours),
            "notes": entry.notes,
            "is_locked": entry.is_locked,
            "locked_reason": entry.is_locked.then_some(LOCKED_REASON),
            "is_closed": entry.is_closed,
            "is_billed": entry.is_billed,
            "timer_started_at": entry.timer_started_at.map(stamp),
            "started_time": null,
            "ended_time": null,
            "is_running": entry.is_running(),
            "billable": billable,
            "budgeted": project.is_some_and(|p| p.budget_by != "none"),
            "billable_rate": billable_rate,
            "cost_rate": null,
            "created_at": stamp(entry.created_at),
            "updated_at": stamp(entry.updated_at),
            "user": user.map(|u| json!({"id": u.id, "name": u.name()})),
            "client": client.map(|c| json!({"id": c.id, "name": c.name, "currency": c.currency})),
            "project": project.map(|p| json!({"id": p.id, "name": p.name, "code": p.code})),
            "task": task.map(|t| json!({"id": t.id, "name": t.name})),
            "user_assignment": user_assignment.map(|a| self.user_assignment_json(a)),
            "task_assignment": task_assignment.map(task_assignment_json),
            "invoice": null,
            "external_reference": entry.external_reference,
        })
    }

    fn user_assignment_json(&self, a: &UserAssignment) -> Value {
        json!({
            "id": a.id,
            "is_project_manager": a.is_project_manager,
            "is_active": a.is_active,
            "use_default_rates": true,
            "budget": null,
            "created_at": stamp(a.created_at),
            "updated_at": stamp(a.created_at),
            "hourly_rate": null,
        })
    }

    pub fn project_json(&self, p: &Project) -> Value {
        let client = self.client(p.client_id);
        json!({
            "id": p.id,
            "name": p.name,
            "code": p.code,
            "is_active": p.is_active,
            "is_billable": p.is_billable,
            "is_fixed_fee": p.is_fixed_fee,
            "bill_by": p.bill_by,
            "budget": p.budget,
            "budget_by": p.budget_by,
            "budget_is_monthly": p.budget_is_monthly,
            "notify_when_over_budget": p.notify_when_over_budget,
            "over_budget_notification_percentage": p.over_budget_notification_percentage,
            "show_budget_to_all": p.show_budget_to_all,
            "created_at": stamp(p.created_at),
            "updated_at": stamp(p.updated_at),
            "starts_on": p.starts_on.map(|d| d.to_string()),
            "ends_on": p.ends_on.map(|d| d.to_string()),
            "over_budget_notification_date": null,
            "notes": p.notes,
            "cost_budget": p.cost_budget,
            "cost_budget_include_expenses": p.cost_budget_include_expenses,
            "hourly_rate": p.hourly_rate,
            "fee": p.fee,
            "client": client.map(|c| json!({"id": c.id, "name": c.name, "currency": c.currency})),
        })
    }

    /// A task assignment as `GET /v2/…/task_assignments` lists it: with `project` and `task`.
    pub fn task_assignment_listing_json(&self, a: &TaskAssignment) -> Value {
        let mut value = task_assignment_json(a);
        let project = self.project(a.project_id);
        let task = self.task(a.task_id);
        value["project"] =
            project.map_or(Value::Null, |p| json!({"id": p.id, "name": p.name, "code": p.code}));
        value["task"] = task.map_or(Value::Null, |t| json!({"id": t.id, "name": t.name}));
        value
    }

    /// One item of `GET /v2/users/me/project_assignments`.
    pub fn project_assignment_json(&self, a: &UserAssignment) -> Value {
        let project = self.project(a.project_id);
        let client = project.and_then(|p| self.client(p.client_id));
        let tasks: Vec<Value> = self
            .task_assignments
            .iter()
            .filter(|t| t.project_id == a.project_id)
            .map(|t| {
                let mut value = task_assignment_json(t);
                let task = self.task(t.task_id);
                value["task"] = task.map_or(Value::Null, |t| json!({"id": t.id, "name": t.name}));
                value
            })
            .collect();
        let mut value = self.user_assignment_json(a);
        value["project"] =
            project.map_or(Value::Null, |p| json!({"id": p.id, "name": p.name, "code": p.code}));
        value["client"] = client.map_or(Value::Null, |c| json!({"id": c.id, "name": c.name}));
        value["task_assignments"] = Value::Array(tasks);
        value
    }

    pub fn user_json(&self, u: &User) -> Value {
        let mut value = json!({
            "id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
            "telephone": "",
            "timezone": "Eastern Time (US & Canada)",
            "weekly_capacity": 126000,
            "has_access_to_all_future_projects": false,
            "is_contractor": false,
            "is_active": true,
            "created_at": stamp(u.created_at),
            "updated_at": stamp(u.created_at),
            "roles": [],
            "access_roles": u.access_roles,
            "avatar_url": "https://cache.harvestapp.com/assets/profile_images/allen_bradley_clock_tower.png",
        });
        // IMPORTANT: real non-admin responses omit these keys entirely (me.json), admins get nulls.
        if u.is_admin() {
            value["default_hourly_rate"] = Value::Null;
            value["cost_rate"] = Value::Null;
        }
        value
    }

    pub fn client_json(&self, c: &Client) -> Value {
        json!({
            "id": c.id,
            "name": c.name,
            "is_active": true,
            "address": null,
            "statement_key": "REDACTED",
            "created_at": stamp(c.created_at),
            "updated_at": stamp(c.created_at),
            "currency": c.currency,
        })
    }

    pub fn task_json(&self, t: &Task) -> Value {
        json!({
            "id": t.id,
            "name": t.name,
            "billable_by_default": true,
            "default_hourly_rate": null,
            "is_default": false,
            "is_active": true,
            "created_at": stamp(t.created_at),
            "updated_at": stamp(t.created_at),
        })
    }
}

pub(crate) fn task_assignment_json(a: &TaskAssignment) -> Value {
    json!({
        "id": a.id,
        "billable": a.billable,
        "is_active": a.is_active,
        "created_at": stamp(a.created_at),
        "updated_at": stamp(a.updated_at),
        "hourly_rate": a.hourly_rate,
        "budget": a.budget,
    })
}

fn bump(next: &mut i64) -> i64 {
    let id = *next;
    *next += 1;
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_reference_gains_its_service_from_the_permalink_host() {
        let reference =
            json!({"id": "42", "group_id": "o/r", "permalink": "https://github.com/o/r/issues/42"});
        let normalised = normalise_external_reference(reference).expect("an object stays a reference");
        assert_eq!(normalised["service"], "github.com");
        assert!(normalised["service_icon_url"].as_str().is_some_and(|u| u.ends_with("/github.com.png")));
        assert!(normalised["account_id"].is_null(), "missing documented keys appear as null");
    }

    #[test]
    fn a_running_entry_counts_its_elapsed_time_in_hundredths() {
        let started = Utc::now();
        let entry = Entry {
            id: 1,
            user_id: 1,
            project_id: 1,
            task_id: 1,
            spent_date: started.date_naive(),
            hours_without_timer: 1.0,
            timer_started_at: Some(started),
            notes: None,
            is_locked: false,
            is_closed: false,
            is_billed: false,
            external_reference: None,
            created_at: started,
            updated_at: started,
        };
        assert_eq!(entry.hours(started + chrono::Duration::minutes(20)), 1.33, "1 h + 20 min, to 2 decimals");
    }
}
