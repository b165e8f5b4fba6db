//! What the import needs from the store: its state row, page imports that
//! move the watermark in the same transaction as the last upserts, the
//! soft-delete of entries Harvest no longer has, and budget offers.

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::entries::{import, load_links, recompute};
use super::{parse_ts, ts, ImportReport, Store};
use crate::domain::attribution::Links;
use crate::domain::{Hours, TicketNumber};
use crate::error::{Error, Result};

/// A Harvest entry the import could not accept: the rest of its page was
/// imported; when it is fixed in Harvest the next sync imports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Quarantined {
    pub harvest_id: i64,
    pub reason: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The import's last run, as `sync status --json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SyncState {
    pub last_run_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub watermark: Option<DateTime<Utc>>,
    pub new: i64,
    pub updated: i64,
    pub deleted: i64,
    pub unattributed: i64,
    pub api_calls: i64,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub runs_since_reconcile: i64,
    #[serde(skip)]
    pub last_reconcile_at: Option<DateTime<Utc>>,
}

/// What a finished (or failed) run reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunRecord {
    pub duration_ms: i64,
    pub new: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unattributed: u64,
    pub api_calls: u64,
    pub error: Option<String>,
    pub reconciled: bool,
}

type StateRow = (
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    Option<String>,
);

impl Store {
    pub async fn sync_state(&self) -> Result<SyncState> {
        let row: StateRow = sqlx::query_as(
            "SELECT watermark, last_run_at, duration_ms, new_entries, updated_entries, deleted_entries,
                    unattributed_entries, api_calls, last_error, runs_since_reconcile, last_reconcile_at
             FROM sync_state WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        let time = |t: Option<String>| t.as_deref().map(parse_ts).transpose();
        Ok(SyncState {
            watermark: time(row.0)?,
            last_run_at: time(row.1)?,
            duration_ms: row.2,
            new: row.3,
            updated: row.4,
            deleted: row.5,
            unattributed: row.6,
            api_calls: row.7,
            last_error: row.8,
            runs_since_reconcile: row.9,
            last_reconcile_at: time(row.10)?,
        })
    }

    /// The current links between tickets and projects (for filtering a stream).
    pub async fn links(&self) -> Result<Links> {
        let mut conn = self.pool.acquire().await?;
        load_links(&mut conn).await
    }

    /// Which of these Harvest ids are stored (deleted or not).
    pub async fn known_ids(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let mut known = HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT harvest_id FROM time_entries WHERE harvest_id IN ({})",
                super::placeholders(self.backend, 1, chunk.len())
            );
            // One statement per chunk length: not kept in the connection's statement cache.
            let mut query = sqlx::query_scalar::<_, i64>(&sql).persistent(false);
            for id in chunk {
                query = query.bind(id);
            }
            known.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(known)
    }

    /// Imports one page of the stream; with `watermark`, moves it in the same
    /// transaction (the last page of a complete stream).
    pub async fn import_page(
        &self,
        entries: Vec<harvest::TimeEntry>,
        unreadable: &[harvest::Rejected],
        watermark: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        let mut tx = self.begin().await?;
        let mut report = import(&mut tx, super::EntryBatch::new(entries), None, now).await?;
        let unreadable: Vec<(i64, String)> =
            unreadable.iter().filter_map(|r| r.id.map(|id| (id, r.reason.clone()))).collect();
        super::entries::quarantine(&mut tx, &unreadable, now).await?;
        report.quarantined += unreadable.len() as u64;
        if let Some(watermark) = watermark {
            // Never backwards: a stream that saw only older entries keeps the mark.
            sqlx::query(
                "UPDATE sync_state SET watermark = $1 WHERE id = 1 AND (watermark IS NULL OR watermark < $1)",
            )
            .bind(ts(watermark))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Harvest entries the import keeps aside, with why, oldest first.
    pub async fn quarantine(&self) -> Result<Vec<Quarantined>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            harvest_id: i64,
            reason: String,
            first_seen_at: String,
            last_seen_at: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT harvest_id, reason, first_seen_at, last_seen_at FROM quarantine ORDER BY first_seen_at, harvest_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Quarantined {
                    harvest_id: row.harvest_id,
                    reason: row.reason,
                    first_seen_at: parse_ts(&row.first_seen_at)?,
                    last_seen_at: parse_ts(&row.last_seen_at)?,
                })
            })
            .collect()
    }

    /// The projects whose stored entries a reconcile pass re-lists: every
    /// linked project, and every project of an entry attributed to a ticket.
    pub async fn reconcile_projects(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT harvest_project_id FROM tickets WHERE harvest_project_id IS NOT NULL
             UNION
             SELECT DISTINCT project_id FROM time_entries WHERE ticket_number IS NOT NULL AND deleted = FALSE
             ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Soft-deletes the stored entries of `project` (of `user`, when given;
    /// spent on or after `from`, when given) that Harvest's complete listing
    /// `present` no longer has; recomputes their tickets. Returns how many.
    pub async fn soft_delete_missing(
        &self,
        project: i64,
        user: Option<i64>,
        from: Option<NaiveDate>,
        present: &HashSet<i64>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT harvest_id, ticket_number FROM time_entries
             WHERE project_id = $1 AND deleted = FALSE AND ($2 IS NULL OR user_id = $2)
               AND ($3 IS NULL OR spent_date >= $3)",
        )
        .bind(project)
        .bind(user)
        .bind(from.map(|d| d.format("%Y-%m-%d").to_string()))
        .fetch_all(&mut *tx)
        .await?;
        let mut affected = Vec::new();
        let mut deleted = 0;
        for (id, ticket) in rows.into_iter().filter(|(id, _)| !present.contains(id)) {
            sqlx::query("UPDATE time_entries SET deleted = TRUE WHERE harvest_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            deleted += 1;
            affected.extend(ticket.and_then(TicketNumber::new));
        }
        recompute(&mut tx, affected, now, None).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Linked tickets with no budget whose project's Harvest budget was not offered yet.
    pub async fn tickets_awaiting_budget(&self) -> Result<Vec<(TicketNumber, i64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT number, harvest_project_id FROM tickets
             WHERE harvest_project_id IS NOT NULL AND budget_hundredths IS NULL
               AND (budget_offered_for IS NULL OR budget_offered_for <> harvest_project_id)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(|(n, p)| TicketNumber::new(n).map(|n| (n, p))).collect())
    }

    /// Offers a project's Harvest hour budget to a ticket that has none; a
    /// budget a PM set is never replaced.
    pub async fn offer_budget(
        &self,
        number: TicketNumber,
        project: i64,
        hours: Option<Hours>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE tickets SET budget_hundredths = COALESCE(budget_hundredths, $3), budget_offered_for = $2
             WHERE number = $1 AND harvest_project_id = $2",
        )
        .bind(number.get())
        .bind(project)
        .bind(hours.map(Hours::hundredths))
        .execute(&mut *tx)
        .await?;
        recompute(&mut tx, vec![number], now, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a run's outcome (success or failure) in the state row.
    pub async fn record_run(&self, run: &RunRecord, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE sync_state SET last_run_at = $1, duration_ms = $2, new_entries = $3, updated_entries = $4,
                deleted_entries = $5, unattributed_entries = $6, api_calls = $7, last_error = $8,
                runs_since_reconcile = CASE WHEN $9 THEN 0 ELSE runs_since_reconcile + 1 END,
                last_reconcile_at = CASE WHEN $9 THEN $1 ELSE last_reconcile_at END
             WHERE id = 1",
        )
        .bind(ts(now))
        .bind(run.duration_ms)
        .bind(i64::try_from(run.new).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.updated).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.deleted).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.unattributed).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.api_calls).unwrap_or(i64::MAX))
        .bind(&run.error)
        .bind(run.reconciled)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The SQLite file, for the lock that keeps imports one at a time (a
    /// PostgreSQL store uses an advisory lock instead).
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }
}

/// One import at a time per database. SQLite: an OS file lock beside the
/// file. PostgreSQL: a session advisory lock keyed by the Harvest account, on
/// a connection of its own — every desktop and CLI worker of a team competes
/// for it, and a leader that dies releases it with its connection. Either
/// way a crashed import never blocks the next one.
pub struct ImportLock(Held);

enum Held {
    /// Held open for its lock; closing it releases the lock.
    File {
        _held: File,
    },
    Advisory {
        conn: sqlx::AnyConnection,
        key: i64,
    },
}

impl Store {
    /// Takes the import lock for `account_id`, waiting up to `wait`; `SyncBusy` when another import holds it.
    pub async fn lock_import(&self, account_id: i64, wait: Duration) -> Result<ImportLock> {
        let store = self;
        let deadline = Instant::now() + wait;
        let Some(db) = store.path() else {
            // "tick" in the high bits keeps Tickettime's keys apart from other users of advisory locks.
            let key = (0x7469_636b_i64 << 32) ^ account_id;
            let mut conn = store.pool.acquire().await?.detach();
            loop {
                let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut conn)
                    .await?;
                if locked {
                    return Ok(ImportLock(Held::Advisory { conn, key }));
                }
                if Instant::now() >= deadline {
                    return Err(Error::SyncBusy);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let path = PathBuf::from(format!("{}.sync-lock", db.display()));
        let file = super::lock_file(&path)?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ImportLock(Held::File { _held: file })),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(TryLockError::WouldBlock) => return Err(Error::SyncBusy),
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Invalid(format!("cannot lock {}: {e}", path.display())))
                }
            }
        }
    }
}

impl ImportLock {
    /// Gives the lock up (dropping it does too, the advisory one when its
    /// connection closes).
    pub async fn release(self) {
        if let Held::Advisory { mut conn, key } = self.0 {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut conn).await;
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}
