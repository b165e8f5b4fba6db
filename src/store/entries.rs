//! Harvest time entries in the store: the idempotent upsert, attribution to
//! tickets, and the recompute that keeps hours used, locks and events right.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::tickets::{budget_state, record_event};
use super::{backend_of, load_thresholds, placeholders, ts, Store};
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
    fn from_harvest(entry: harvest::TimeEntry) -> Result<Self> {
        if entry.id <= 0 {
            return Err(Error::Invalid(format!("time entry id {} is not a Harvest id", entry.id)));
        }
        let hours = Hours::from_harvest(entry.hours)
            .map_err(|e| Error::Invalid(format!("time entry {}: {e}", entry.id)))?;
        let (external_id, external_group, external_permalink) = match entry.external_reference {
            Some(r) => (Some(r.id), r.group_id, r.permalink),
            None => (None, None, None),
        };
        Ok(Row {
            harvest_id: entry.id,
            project_id: entry.project.id,
            project_name: entry.project.name,
            task_id: entry.task.id,
            task_name: entry.task.name,
            user_id: entry.user.id,
            user_name: entry.user.name,
            spent_date: entry.spent_date.to_string(),
            hundredths: hours.hundredths(),
            notes: entry.notes.filter(|n| !n.is_empty()),
            is_running: entry.is_running,
            timer_started_at: entry.timer_started_at.map(ts),
            external_id,
            external_group,
            external_permalink,
            created_at: ts(entry.created_at),
            updated_at: ts(entry.updated_at),
        })
    }
}

/// What a file's reader hands the store ([`Store::import_entry_batches`]).
#[derive(Debug)]
pub enum FileBatch {
    Entries(EntryBatch),
    /// The file is malformed here: nothing of it is kept.
    Failed(String),
    /// The whole file was read: commit.
    End,
}

/// Harvest entries checked and converted for the store, ready to import.
/// Made on any thread: a file import converts one batch while the store
/// writes the one before.
#[derive(Debug, Default)]
pub struct EntryBatch {
    rows: Vec<Row>,
    /// Entries Tickettime cannot accept, with why (they go to the quarantine).
    refused: Vec<(i64, String)>,
}

impl EntryBatch {
    pub fn new(entries: Vec<harvest::TimeEntry>) -> EntryBatch {
        let mut batch = EntryBatch { rows: Vec::with_capacity(entries.len()), refused: Vec::new() };
        for entry in entries {
            let id = entry.id;
            match Row::from_harvest(entry) {
                Ok(row) => batch.rows.push(row),
                Err(error) => batch.refused.push((id, error.to_string())),
            }
        }
        batch
    }

    pub(super) fn of(entries: &[harvest::TimeEntry]) -> EntryBatch {
        EntryBatch::new(entries.to_vec())
    }
}

/// A stored entry's columns that decide whether an import changes it.
/// Booleans are read as 0/1 integers, the one type both backends share.
#[derive(FromRow)]
struct Stored {
    harvest_id: i64,
    ticket_number: Option<i64>,
    harvest_updated_at: String,
    hundredths: i64,
    notes: Option<String>,
    task_id: i64,
    spent_date: String,
    project_name: String,
    is_running: i64,
    deleted: i64,
    external_id: Option<String>,
    project_id: i64,
}

impl Stored {
    /// Whether storing `row` (for `ticket`) would change nothing.
    fn same_as(&self, row: &Row, ticket: Option<i64>) -> bool {
        self.ticket_number == ticket
            && self.hundredths == row.hundredths
            && self.notes == row.notes
            && self.task_id == row.task_id
            && self.spent_date == row.spent_date
            && self.project_name == row.project_name
            && (self.is_running != 0) == row.is_running
            && self.deleted == 0
            && self.external_id == row.external_id
            && self.project_id == row.project_id
    }
}

/// Entries read or written by one statement: 18 values each, well within
/// SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const BATCH: usize = 500;

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
        let report = import(&mut tx, EntryBatch::of(entries), actor, now).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Imports entries as they arrive (a file read while it is parsed), in
    /// one transaction, committed only at [`FileBatch::End`]: a
    /// [`FileBatch::Failed`] (the file turned out malformed), a reader that
    /// stopped without saying so, or a store error rolls everything back, so
    /// a bad file changes nothing however far it got. Memory stays that of
    /// a batch.
    pub async fn import_entry_batches(
        &self,
        batches: &mut tokio::sync::mpsc::Receiver<FileBatch>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        use sqlx::Connection;
        let sqlite = self.backend == super::Backend::Sqlite;
        let mut conn = self.pool.acquire().await?;
        if sqlite {
            // While the file's rows go in, this connection keeps a larger
            // page cache and the statement journal of each multi-row upsert
            // in memory, not in a temporary file: fewer pages written twice
            // (measured: −15 % and −8 % time for 100,000 new entries).
            // Both are given back after.
            sqlx::query("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
        }
        let mut tx = match self.backend {
            super::Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            super::Backend::Postgres => conn.begin().await?,
        };
        let mut importer = Importer::new(&mut tx).await?;
        // An error (a malformed entry further on, the store) rolls back
        // everything this import wrote.
        let mut report = Err(Error::Invalid("the file's reader stopped before the end of the file".into()));
        while let Some(batch) = batches.recv().await {
            let added = match batch {
                FileBatch::Entries(batch) => importer.add(&mut tx, batch, now).await,
                FileBatch::Failed(problem) => Err(Error::Invalid(problem)),
                FileBatch::End => {
                    report = Ok(ImportReport::default());
                    break;
                }
            };
            if let Err(error) = added {
                report = Err(error);
                break;
            }
        }
        if report.is_ok() {
            report = importer.finish(&mut tx, None, now).await;
        }
        let ended = match report {
            Ok(_) => tx.commit().await,
            Err(_) => tx.rollback().await,
        };
        if sqlite {
            // Given back on every path, so the pool's connection is as before.
            sqlx::query("PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT").execute(&mut *conn).await?;
        }
        ended?;
        report
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
    entries: EntryBatch,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<ImportReport> {
    let mut importer = Importer::new(tx).await?;
    importer.add(tx, entries, now).await?;
    importer.finish(tx, actor, now).await
}

/// One import inside a transaction, fed entries in as many calls as it
/// takes: each batch costs one read of the stored versions and one
/// multi-row upsert of what changed; the tickets it touched are
/// recomputed once, at the end.
struct Importer {
    links: Links,
    /// Entries kept aside in the quarantine (they leave it when they import).
    held: HashSet<i64>,
    report: ImportReport,
    affected: BTreeSet<i64>,
    projects: BTreeMap<i64, String>,
}

impl Importer {
    async fn new(tx: &mut AnyConnection) -> Result<Importer> {
        let links = load_links(tx).await?;
        let held: Vec<i64> =
            sqlx::query_scalar("SELECT harvest_id FROM quarantine").fetch_all(&mut *tx).await?;
        Ok(Importer {
            links,
            held: held.into_iter().collect(),
            report: ImportReport::default(),
            affected: BTreeSet::new(),
            projects: BTreeMap::new(),
        })
    }

    async fn add(&mut self, tx: &mut AnyConnection, entries: EntryBatch, now: DateTime<Utc>) -> Result<()> {
        let EntryBatch { rows, refused } = entries;
        self.report.quarantined += refused.len() as u64;
        quarantine(tx, &refused, now).await?;
        self.held.extend(refused.iter().map(|(id, _)| *id));
        for row in &rows {
            if self.held.remove(&row.harvest_id) {
                sqlx::query("DELETE FROM quarantine WHERE harvest_id = $1")
                    .bind(row.harvest_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // A batch holds each entry once: a second copy of one (an export
        // may repeat an edited entry) waits for the next batch, so it is
        // compared with what the first stored, as one at a time would.
        let mut batch = Vec::with_capacity(BATCH.min(rows.len()));
        let mut ids = HashSet::new();
        for row in rows {
            if batch.len() == BATCH || !ids.insert(row.harvest_id) {
                self.flush(tx, std::mem::take(&mut batch)).await?;
                ids.clear();
                ids.insert(row.harvest_id);
            }
            batch.push(row);
        }
        self.flush(tx, batch).await
    }

    async fn flush(&mut self, tx: &mut AnyConnection, batch: Vec<Row>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT harvest_id, ticket_number, harvest_updated_at, hundredths, notes, task_id, spent_date,
                    project_name, CASE WHEN is_running THEN 1 ELSE 0 END AS is_running,
                    CASE WHEN deleted THEN 1 ELSE 0 END AS deleted, external_id, project_id
             FROM time_entries WHERE harvest_id IN ({})",
            placeholders(backend_of(tx), 1, batch.len())
        );
        let mut query = sqlx::query_as::<_, Stored>(&sql);
        for row in &batch {
            query = query.bind(row.harvest_id);
        }
        let stored: HashMap<i64, Stored> =
            query.fetch_all(&mut *tx).await?.into_iter().map(|s| (s.harvest_id, s)).collect();
        let mut writes = Vec::with_capacity(batch.len());
        for row in batch {
            let ticket = self
                .links
                .attribute(
                    row.external_id.as_deref().map(|id| (id, row.external_group.as_deref())),
                    row.project_id,
                )
                .map(TicketNumber::get);
            if ticket.is_none() {
                self.report.unattributed += 1;
            }
            match stored.get(&row.harvest_id) {
                None => self.report.new += 1,
                // Never backwards: an older copy changes nothing.
                Some(old) if row.updated_at < old.harvest_updated_at || old.same_as(&row, ticket) => {
                    self.report.unchanged += 1;
                    continue;
                }
                Some(old) => {
                    self.report.updated += 1;
                    self.affected.extend(old.ticket_number);
                }
            }
            self.affected.extend(ticket);
            if self.links.is_linked(row.project_id) {
                self.projects.insert(row.project_id, row.project_name.clone());
            }
            writes.push((row, ticket));
        }
        upsert(tx, &writes).await
    }

    async fn finish(
        self,
        tx: &mut AnyConnection,
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        for (project, name) in self.projects {
            sqlx::query(
                "UPDATE tickets SET harvest_project_name = $2
                 WHERE harvest_project_id = $1 AND (harvest_project_name IS NULL OR harvest_project_name <> $2)",
            )
            .bind(project)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        let affected = self.affected.into_iter().filter_map(TicketNumber::new).collect();
        recompute(tx, affected, now, actor).await?;
        Ok(self.report)
    }
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

/// Writes `rows` in one statement, each unless what is stored is newer.
async fn upsert(conn: &mut AnyConnection, rows: &[(Row, Option<i64>)]) -> Result<()> {
    const COLUMNS: usize = 18;
    if rows.is_empty() {
        return Ok(());
    }
    let backend = backend_of(conn);
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, FALSE)", placeholders(backend, i * COLUMNS + 1, COLUMNS)))
        .collect();
    let sql = format!(
        "INSERT INTO time_entries (harvest_id, ticket_number, project_id, project_name, task_id, task_name,
            user_id, user_name, spent_date, hundredths, notes, is_running, timer_started_at,
            external_id, external_group, external_permalink, harvest_created_at, harvest_updated_at, deleted)
         VALUES {}
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
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (row, ticket) in rows {
        query = query
            .bind(row.harvest_id)
            .bind(*ticket)
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
            .bind(&row.updated_at);
    }
    query.execute(conn).await?;
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
