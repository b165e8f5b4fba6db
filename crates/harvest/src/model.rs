//! Serde models of Harvest v2 objects.
//!
//! Shaped on real traffic: ids are 64-bit (time-entry ids pass 2^31),
//! `hours` is a JSON float (Harvest also accepted strings on writes, so both
//! are read), many fields are often `null`, and unknown keys are ignored so a
//! field Harvest adds tomorrow never breaks an import.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// `{id, name}` as Harvest nests users, projects, tasks and clients.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct IdName {
    pub id: i64,
    #[serde(default)]
    pub name: String,
}

/// A time entry's link to an outside object (for Tickettime: a ticket).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ExternalReference {
    /// Harvest stores the id as a string; older data carries numbers.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
}

/// One Harvest time entry (`GET /v2/time_entries/{id}`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TimeEntry {
    pub id: i64,
    pub spent_date: NaiveDate,
    pub user: IdName,
    pub project: IdName,
    pub task: IdName,
    #[serde(default)]
    pub client: Option<IdName>,
    /// Decimal hours as Harvest reports them; convert with care (never sum floats).
    #[serde(deserialize_with = "float_or_string")]
    pub hours: f64,
    /// Hours tracked before the timer was last started.
    #[serde(default)]
    pub hours_without_timer: Option<f64>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub is_running: bool,
    #[serde(default)]
    pub is_locked: bool,
    #[serde(default)]
    pub timer_started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub external_reference: Option<ExternalReference>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of `GET /v2/time_entries`, as a Harvest export holds it.
#[derive(Clone, Debug, Deserialize)]
pub struct TimeEntryPage {
    pub time_entries: Vec<TimeEntry>,
    #[serde(default)]
    pub total_entries: Option<u64>,
}

/// The connected user (`GET /v2/users/me`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub timezone: Option<String>,
    /// `administrator`, `manager` or `member`, plus manager permissions.
    #[serde(default)]
    pub access_roles: Vec<String>,
    /// Legacy (dropped from the docs around 2022); read only when `access_roles` is absent.
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub is_project_manager: Option<bool>,
}

impl User {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_owned()
    }

    /// The base role: `administrator`, `manager` or `member`.
    pub fn base_role(&self) -> &'static str {
        let has = |role: &str| self.access_roles.iter().any(|r| r == role);
        if has("administrator") || (self.access_roles.is_empty() && self.is_admin == Some(true)) {
            "administrator"
        } else if has("manager") || (self.access_roles.is_empty() && self.is_project_manager == Some(true)) {
            "manager"
        } else {
            "member"
        }
    }
}

/// The Harvest account's settings (`GET /v2/company`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Company {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub base_uri: Option<String>,
    #[serde(default)]
    pub full_domain: Option<String>,
    /// When true the account tracks start/end times rather than durations.
    #[serde(default)]
    pub wants_timestamp_timers: bool,
}

/// A Harvest client (the customer), `GET /v2/clients`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Client {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// A project (`GET /v2/projects/{id}`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub client: Option<IdName>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub is_billable: Option<bool>,
    /// Hours, when `budget_by` is `project`, `task` or `person`.
    #[serde(default)]
    pub budget: Option<f64>,
    #[serde(default)]
    pub budget_by: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl Project {
    /// The project's hour budget, when it is budgeted by project hours.
    pub fn hour_budget(&self) -> Option<f64> {
        (self.budget_by.as_deref() == Some("project")).then_some(self.budget).flatten()
    }
}

/// A task of the account (`GET /v2/tasks`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Task {
    pub id: i64,
    pub name: String,
    /// Added to new projects by default (in Harvest's web app).
    #[serde(default)]
    pub is_default: bool,
    #[serde(default = "yes")]
    pub is_active: bool,
}

/// A task as assigned to a project.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TaskAssignment {
    pub id: i64,
    pub task: IdName,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub billable: Option<bool>,
}

/// One of my project assignments, with its tasks (`GET /v2/users/me/project_assignments`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ProjectAssignment {
    pub id: i64,
    #[serde(default = "yes")]
    pub is_active: bool,
    /// The user manages this project (and sees every entry on it).
    #[serde(default)]
    pub is_project_manager: bool,
    pub project: IdName,
    #[serde(default)]
    pub client: Option<IdName>,
    #[serde(default)]
    pub task_assignments: Vec<TaskAssignment>,
}

impl ProjectAssignment {
    /// The tasks time can be logged to (active assignments only).
    pub fn active_tasks(&self) -> impl Iterator<Item = &IdName> {
        self.task_assignments.iter().filter(|t| t.is_active).map(|t| &t.task)
    }
}

fn yes() -> bool {
    true
}

/// The accounts a token reaches (`GET https://id.getharvest.com/api/v2/accounts`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Accounts {
    #[serde(default)]
    pub accounts: Vec<Account>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Account {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub product: String,
}

/// The external reference sent on create/update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReferenceInput {
    pub id: String,
    pub group_id: String,
    pub permalink: String,
}

/// `POST /v2/time_entries`. Without `hours` Harvest starts a timer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewTimeEntry {
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<ReferenceInput>,
}

/// `PATCH /v2/time_entries/{id}`: omitted fields stay as they are. Leave
/// `hours` out on a running timer, or its tracked time is overwritten.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeEntryUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<i64>,
}

/// `POST /v2/projects` (the required fields, an hour budget and notes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewProject {
    pub client_id: i64,
    pub name: String,
    pub is_billable: bool,
    pub bill_by: String,
    pub budget_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(i64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::N(n) => n.to_string(),
    })
}

fn float_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        F(f64),
        S(String),
    }
    match Raw::deserialize(d)? {
        Raw::F(f) => Ok(f),
        Raw::S(s) => {
            s.trim().parse().map_err(|_| serde::de::Error::custom(format!("hours `{s}` is not a number")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_2024_entry_parses_with_its_64_bit_id_and_nulls() {
        let json = r#"{"id":2380504951,"spent_date":"2024-05-23","hours":6.0,
            "hours_without_timer":6.0,"rounded_hours":6.0,"notes":null,"is_locked":false,
            "locked_reason":null,"is_closed":false,"is_billed":false,"timer_started_at":null,
            "started_time":null,"ended_time":null,"is_running":false,"billable":true,
            "budgeted":false,"billable_rate":null,"cost_rate":null,
            "created_at":"2024-05-23T14:05:44Z","updated_at":"2024-05-23T14:05:44Z",
            "user":{"id":1,"name":"Ana"},"client":{"id":2,"name":"Acme","currency":"USD"},
            "project":{"id":3,"name":"Support","code":""},"task":{"id":4,"name":"Dev"},
            "user_assignment":{"id":5,"use_default_rates":true},"task_assignment":{"id":6},
            "invoice":null,"external_reference":null}"#;
        let entry: TimeEntry = serde_json::from_str(json).expect("a real entry must parse");
        assert_eq!(entry.id, 2_380_504_951, "ids above 2^31 must survive");
        assert_eq!(entry.notes, None);
        assert_eq!(entry.project.id, 3);
    }

    #[test]
    fn string_hours_and_numeric_reference_ids_are_accepted() {
        let json = r#"{"id":1,"spent_date":"2024-01-02","hours":"1.5",
            "user":{"id":1,"name":"A"},"project":{"id":3,"name":"P"},"task":{"id":4,"name":"T"},
            "external_reference":{"id":42,"group_id":"tickettime"},
            "created_at":"2024-01-02T10:00:00Z","updated_at":"2024-01-02T10:00:00Z"}"#;
        let entry: TimeEntry = serde_json::from_str(json).expect("lenient fields must parse");
        assert_eq!(entry.hours, 1.5);
        assert_eq!(entry.external_reference.map(|r| r.id), Some("42".to_owned()));
    }
}
