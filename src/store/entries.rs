//! Harvest time entries in the store: the idempotent upsert, attribution to
//! tickets, and the recompute that keeps hours used, locks and events right.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;

use super::tickets::{budget_state, record_event};
use super::{load_thresholds, ts, Store};
use crate::domain::attribution::Links;
use crate::domain::{evaluate, EventKind, Hours, TicketNumber, Utilization};
use crate::error::{Error, Result};

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Entries not seen before.
    pub new: u64,
    /// Known entries whose content changed.
    pub updated: u64,
    /// Known entries that were already up to date (or older than what is stored).
    pub unchanged: u64,
    /// Entries of this import that belong to no ticket.
    pub unattributed: u64,
    /// Entries Tickettime cannot accept (kept aside with the reason: see
    /// [`Store::quarantine`]); the rest were imported.
    pub quarantined: u64,
}

/// One Harvest entry, checked and converted, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    harvest_id: i64,
    project_id: i64,
    project_name: String,
    task_id: i64,
    task_name: String,
    user_id: i64,
    user_name: String,
    spent_date: String,
    hundredths: i64,
    notes: Option<String>,
    is_running: bool,
    timer_started_at: Option<String>,
    external_id: Option<String>,
    external_group: Option<String>,
    external_permalink: Option<String>,
    created_at: String,
    updated_at: String,
}

impl Row {
    fn from_harvest(entry: &harvest::TimeEntry) -> Result<Self> {
        if entry.id <= 0 {
            return Err(Error::Invalid(format!("time entry id {} is not a Harvest id", entry.id)));
        }
        let hours = Hours::from_harvest(entry.hours)
            .map_err(|e| Error::Invalid(format!("time entry {}: {e}", entry.id)))?;
        let reference = entry.external_reference.as_ref();
        Ok(Row {
            harvest_id: entry.id,
            project_id: entry.project.id,
            project_name: entry.project.name.clone(),
            task_id: entry.task.id,
            task_name: entry.task.name.clone(),
            user_id: entry.user.id,
            user_name: entry.user.name.clone(),
            spent_date: entry.spent_date.format("%Y-%m-%d").to_string(),
            hundredths: hours.hundredths(),
            notes: entry.notes.clone().filter(|n| !n.is_empty()),
            is_running: entry.is_running,
            timer_started_at: entry.timer_started_at.map(ts),
            external_id: reference.map(|r| r.id.clone()),
            external_group: reference.and_then(|r| r.group_id.clone()),
            external_permalink: reference.and_then(|r| r.permalink.clone()),
            created_at: ts(entry.created_at),
            updated_at: ts(entry.updated_at),
        })
    }
}

/// The columns compared to decide whether a known entry changed.
/// Booleans are read as 0/1 integers, the one type both backends share.
type Stored = (Option<i64>, String, i64, Option<String>, i64, String, String, i64, i64, Option<String>, i64);

impl Store {
    /// Upserts Harvest time entries by their Harvest id, in one transaction:
    /// every entry is checked first, so one bad entry changes nothing. An
    /// entry never goes backwards (an older `updated_at` is ignored). The
    /// affected tickets are recomputed and their threshold events recorded.
    pub async fn import_entries(
        &self,
        entries: &[harvest::TimeEntry],
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        self.import_entries_by(entries, None, now).await
    }

    /// [`Store::import_entries`] for entries a staff member just wrote (their
    /// own timer or log): the events it causes name them, so they are not
    /// notified of their own action.
    pub async fn import_entries_by(
        &self,
        entries: &[harvest::TimeEntry],
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        let mut tx = self.begin().await?;
        let report = import(&mut tx, entries, actor, now).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The ticket an entry with this reference and project belongs to.
    pub async fn attribute(&self, entry: &harvest::TimeEntry) -> Result<Option<TicketNumber>> {
        let mut conn = self.pool.acquire().await?;
        let links = load_links(&mut conn).await?;
        let reference = entry.external_reference.as_ref();
        Ok(links.attribute(reference.map(|r| (r.id.as_str(), r.group_id.as_deref())), entry.project.id))
    }
}

/// [`Store::import_entries`] inside the caller's transaction.
pub(super) async fn import(
    tx: &mut AnyConnection,
    entries: &[harvest::TimeEntry],
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut rows = Vec::with_capacity(entries.len());
    let mut refused = Vec::new();
    for entry in entries {
        match Row::from_harvest(entry) {
            Ok(row) => rows.push(row),
            Err(error) => refused.push((entry.id, error.to_string())),
        }
    }
    report.quarantined = refused.len() as u64;
    quarantine(tx, &refused, now).await?;
    release_from_quarantine(tx, rows.iter().map(|r| r.harvest_id)).await?;
    let links = load_links(tx).await?;
    let mut affected = BTreeSet::new();
    let mut projects = BTreeSet::new();
    for row in &rows {
        let ticket = links
            .attribute(
                row.external_id.as_deref().map(|id| (id, row.external_group.as_deref())),
                row.project_id,
            )
            .map(TicketNumber::get);
        if ticket.is_none() {
            report.unattributed += 1;
        }
        let stored: Option<Stored> = sqlx::query_as(
            "SELECT ticket_number, harvest_updated_at, hundredths, notes, task_id, spent_date,
                    project_name, CASE WHEN is_running THEN 1 ELSE 0 END, CASE WHEN deleted THEN 1 ELSE 0 END,
                    external_id, project_id
             FROM time_entries WHERE harvest_id = $1",
        )
        .bind(row.harvest_id)
        .fetch_optional(&mut *tx)
        .await?;
        match &stored {
            None => report.new += 1,
            Some(old) if row.updated_at < old.1 => {
                report.unchanged += 1;
                continue;
            }
            Some(old) => {
                let same = old.0 == ticket
                    && old.2 == row.hundredths
                    && old.3 == row.notes
                    && old.4 == row.task_id
                    && old.5 == row.spent_date
                    && old.6 == row.project_name
                    && (old.7 != 0) == row.is_running
                    && old.8 == 0
                    && old.9 == row.external_id
                    && old.10 == row.project_id;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                report.updated += 1;
                affected.extend(old.0);
            }
        }
        upsert(tx, row, ticket).await?;
        affected.extend(ticket);
        if links.is_linked(row.project_id) {
            projects.insert((row.project_id, row.project_name.clone()));
        }
    }
    for (project, name) in projects {
        sqlx::query(
            "UPDATE tickets SET harvest_project_name = $2
             WHERE harvest_project_id = $1 AND (harvest_project_name IS NULL OR harvest_project_name <> $2)",
        )
        .bind(project)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    let affected = affected.into_iter().filter_map(TicketNumber::new).collect();
    recompute(tx, affected, now, actor).await?;
    Ok(report)
}

/// Keeps entries Tickettime cannot accept aside, with the reason.
pub(super) async fn quarantine(
    tx: &mut AnyConnection,
    refused: &[(i64, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (id, reason) in refused {
        sqlx::query(
            "INSERT INTO quarantine (harvest_id, reason, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (harvest_id) DO UPDATE SET reason = excluded.reason, last_seen_at = excluded.last_seen_at",
        )
        .bind(id)
        .bind(reason)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Entries that imported: fixed upstream, they leave the quarantine. Writes
/// only when one of them was there.
async fn release_from_quarantine(tx: &mut AnyConnection, ids: impl Iterator<Item = i64>) -> Result<()> {
    let held: Vec<i64> = sqlx::query_scalar("SELECT harvest_id FROM quarantine").fetch_all(&mut *tx).await?;
    if held.is_empty() {
        return Ok(());
    }
    let held: std::collections::HashSet<i64> = held.into_iter().collect();
    for id in ids.filter(|id| held.contains(id)) {
        sqlx::query("DELETE FROM quarantine WHERE harvest_id = $1").bind(id).execute(&mut *tx).await?;
    }
    Ok(())
}

async fn upsert(conn: &mut AnyConnection, row: &Row, ticket: Option<i64>) -> Result<()> {
    sqlx::query(
        "INSERT INTO time_entries (harvest_id, ticket_number, project_id, project_name, task_id, task_name,
            user_id, user_name, spent_date, hundredths, notes, is_running, timer_started_at,
            external_id, external_group, external_permalink, harvest_created_at, harvest_updated_at, deleted)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, FALSE)
         ON CONFLICT (harvest_id) DO UPDATE SET
            ticket_number = excluded.ticket_number, project_id = excluded.project_id,
            project_name = excluded.project_name, task_id = excluded.task_id, task_name = excluded.task_name,
            user_id = excluded.user_id, user_name = excluded.user_name, spent_date = excluded.spent_date,
            hundredths = excluded.hundredths, notes = excluded.notes, is_running = excluded.is_running,
            timer_started_at = excluded.timer_started_at, external_id = excluded.external_id,
            external_group = excluded.external_group, external_permalink = excluded.external_permalink,
            harvest_created_at = excluded.harvest_created_at, harvest_updated_at = excluded.harvest_updated_at,
            deleted = FALSE
         WHERE excluded.harvest_updated_at >= time_entries.harvest_updated_at",
    )
    .bind(row.harvest_id)
    .bind(ticket)
    .bind(row.project_id)
    .bind(&row.project_name)
    .bind(row.task_id)
    .bind(&row.task_name)
    .bind(row.user_id)
    .bind(&row.user_name)
    .bind(&row.spent_date)
    .bind(row.hundredths)
    .bind(&row.notes)
    .bind(row.is_running)
    .bind(&row.timer_started_at)
    .bind(&row.external_id)
    .bind(&row.external_group)
    .bind(&row.external_permalink)
    .bind(&row.created_at)
    .bind(&row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn load_links(conn: &mut AnyConnection) -> Result<Links> {
    let rows: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT number, harvest_project_id FROM tickets").fetch_all(conn).await?;
    Ok(Links::new(rows.into_iter().filter_map(|(n, p)| TicketNumber::new(n).map(|n| (n, p)))))
}

/// `(harvest_id, ticket_number, project_id, external_id, external_group)`.
type AttributionRow = (i64, Option<i64>, i64, Option<String>, Option<String>);

/// Which stored entries to re-attribute after tickets or links changed.
pub(super) enum Scope {
    /// Entries of this Harvest project.
    Project(i64),
    /// Entries whose external reference names this ticket.
    Reference(TicketNumber),
}

/// Re-attributes stored entries in `scope`; returns every ticket that
/// gained or lost an entry.
pub(super) async fn reattribute(conn: &mut AnyConnection, scope: Scope) -> Result<Vec<TicketNumber>> {
    let links = load_links(conn).await?;
    let rows: Vec<AttributionRow> = match scope {
        Scope::Project(project) => sqlx::query_as(
            "SELECT harvest_id, ticket_number, project_id, external_id, external_group
             FROM time_entries WHERE project_id = $1 AND deleted = FALSE",
        )
        .bind(project),
        Scope::Reference(ticket) => sqlx::query_as(
            "SELECT harvest_id, ticket_number, project_id, external_id, external_group
             FROM time_entries WHERE external_group = $1 AND external_id = $2 AND deleted = FALSE",
        )
        .bind(crate::domain::attribution::REFERENCE_GROUP)
        .bind(ticket.get().to_string()),
    }
    .fetch_all(&mut *conn)
    .await?;
    let mut affected = BTreeSet::new();
    for (harvest_id, current, project, ext_id, ext_group) in rows {
        let ticket = links
            .attribute(ext_id.as_deref().map(|id| (id, ext_group.as_deref())), project)
            .map(TicketNumber::get);
        if ticket != current {
            sqlx::query("UPDATE time_entries SET ticket_number = $2 WHERE harvest_id = $1")
                .bind(harvest_id)
                .bind(ticket)
                .execute(&mut *conn)
                .await?;
            affected.extend(current);
            affected.extend(ticket);
        }
    }
    Ok(affected.into_iter().filter_map(TicketNumber::new).collect())
}

/// Recomputes hours used for the given tickets only, then applies the budget
/// rules: lock or lift, and record each threshold event once.
pub(super) async fn recompute(
    conn: &mut AnyConnection,
    tickets: Vec<TicketNumber>,
    now: DateTime<Utc>,
    actor: Option<i64>,
) -> Result<Vec<(TicketNumber, EventKind)>> {
    let thresholds = load_thresholds(conn).await?;
    let tickets: BTreeSet<TicketNumber> = tickets.into_iter().collect();
    let mut recorded = Vec::new();
    for number in tickets {
        let used: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(hundredths), 0) AS BIGINT) FROM time_entries WHERE ticket_number = $1 AND deleted = FALSE",
        )
        .bind(number.get())
        .fetch_one(&mut *conn)
        .await?;
        let used = Hours::from_hundredths(used);
        let (state, _, budget) = budget_state(conn, number).await?;
        let outcome = evaluate(state, used, budget, thresholds);
        let newly_locked = outcome.events.contains(&EventKind::Locked);
        let lock_reason =
            budget.filter(|_| newly_locked).map(|b| format!("Over budget: {used} of {b} budget hours used"));
        sqlx::query(
            "UPDATE tickets SET used_hundredths = $2, locked = $3, alert_level = $4, unlocked_at_used = $5,
                lock_reason = CASE WHEN $3 THEN COALESCE($6, lock_reason) ELSE NULL END,
                locked_at = CASE WHEN $7 THEN $8 ELSE locked_at END
             WHERE number = $1",
        )
        .bind(number.get())
        .bind(used.hundredths())
        .bind(outcome.state.locked)
        .bind(outcome.state.alert.as_i64())
        .bind(outcome.state.unlocked_at_used.map(Hours::hundredths))
        .bind(lock_reason)
        .bind(newly_locked)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
        super::tickets::announce(conn, number).await?;
        let utilization = Utilization::of(used, budget);
        for kind in outcome.events {
            record_event(conn, number, kind, utilization, actor, now).await?;
            recorded.push((number, kind));
        }
    }
    Ok(recorded)
}
