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

/// One page of `GET /v2/time_entries`.
#[derive(Clone, Debug, Deserialize)]
pub struct TimeEntryPage {
    pub time_entries: Vec<TimeEntry>,
    #[serde(default)]
    pub total_entries: Option<u64>,
    #[serde(default)]
    pub links: Option<Links>,
}

/// Pagination links; URLs are opaque and followed exactly as given.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
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
