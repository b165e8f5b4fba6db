//! The outbox of logged time, and how an item is claimed so that it reaches
//! Harvest exactly once.
//!
//! An item goes pending → sending → sent | failed (or discarded by its
//! logger). Before the POST the item is claimed in a writer's transaction
//! (`BEGIN IMMEDIATE` on SQLite; `FOR UPDATE SKIP LOCKED` on PostgreSQL)
//! and the attempt is recorded: who sends it, when, until when the claim
//! holds, and the permalink the entry carries. A claim's [`Pusher`] holds a
//! liveness lock while it runs (a locked file beside a SQLite database, a
//! session advisory lock on PostgreSQL), so a claim left by a crash is seen
//! at once: after a short settling time — for a request the dead pusher had
//! in flight to land — another pusher takes it over and looks Harvest up by
//! the permalink before it ever sends again. A live pusher's claim is taken
//! over only when its lease has run out.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::entries::import;
use super::{parse_ts, ts, Backend, ImportReport, Store};
use crate::actor::Actor;
use crate::domain::Hours;
use crate::error::{Error, Result};

/// Where an outbox item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum OutboxState {
    /// Waiting to be sent; pushed on the next chance.
    Pending,
    /// Claimed by a pusher, which may have reached Harvest already.
    Sending,
    /// Created in Harvest (`harvest_id` set).
    Sent,
    /// Refused by Harvest (validation, permission); never retried on its own.
    Failed,
    /// Given up by its logger: never sent.
    Discarded,
}

/// How a claim ends when the item was not (known to be) created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsent {
    /// The try may have reached Harvest and failed in a way Harvest may
    /// recover from: the item waits again, and the next try looks it up first.
    Again,
    /// Harvest refused the item: it stays visible and is not retried on its own.
    Refused,
}

impl OutboxState {
    const ALL: [OutboxState; 5] = [
        OutboxState::Pending,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Discarded,
    ];

    /// The state as the `state` column holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Discarded => "discarded",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "pending" => OutboxState::Pending,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "discarded" => OutboxState::Discarded,
            other => return Err(Error::Invalid(format!("unknown outbox state `{other}`"))),
        })
    }

    /// Still on its way: waiting for a push or being sent.
    pub fn is_waiting(self) -> bool {
        matches!(self, OutboxState::Pending | OutboxState::Sending)
    }
}

/// One item of the outbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OutboxItem {
    pub id: String,
    pub ticket: i64,
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    pub hours: Hours,
    pub notes: Option<String>,
    pub state: OutboxState,
    /// Tries so far (each claim counts one).
    pub attempts: i64,
    /// Harvest's message for the last try that failed.
    pub last_error: Option<String>,
    pub harvest_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The staff member who logged it (none for items from before people
    /// were told apart): only their token sends it.
    pub logged_by: Option<i64>,
    /// When the last try started (its claim).
    pub attempted_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct OutboxRow {
    id: String,
    ticket_number: i64,
    project_id: i64,
    task_id: i64,
    spent_date: String,
    hundredths: i64,
    notes: Option<String>,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    harvest_id: Option<i64>,
    created_at: String,
    logged_by: Option<i64>,
    attempted_at: Option<String>,
}

const COLUMNS: &str =
    "id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state, attempts,
    last_error, harvest_id, created_at, logged_by, attempted_at";

impl TryFrom<OutboxRow> for OutboxItem {
    type Error = Error;
    fn try_from(row: OutboxRow) -> Result<Self> {
        Ok(OutboxItem {
            id: row.id,
            ticket: row.ticket_number,
            project_id: row.project_id,
            task_id: row.task_id,
            spent_date: NaiveDate::parse_from_str(&row.spent_date, "%Y-%m-%d")
                .map_err(|e| Error::Invalid(format!("outbox date `{}`: {e}", row.spent_date)))?,
            hours: Hours::from_hundredths(row.hundredths),
            notes: row.notes,
            state: OutboxState::parse(&row.state)?,
            attempts: row.attempts,
            last_error: row.last_error,
            harvest_id: row.harvest_id,
            created_at: parse_ts(&row.created_at)?,
            logged_by: row.logged_by,
            attempted_at: row.attempted_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

/// An item that might be claimed: id, state, claimer, attempted at, lease until, attempts.
type Candidate = (String, String, Option<String>, Option<String>, Option<String>, i64);

/// How long claims hold.
#[derive(Clone, Copy, Debug)]
pub struct ClaimRules {
    /// A live pusher's claim is taken over only after this long (longer
    /// than any request with its retries).
    pub lease: Duration,
    /// A crashed pusher's claim is taken over this long after its attempt
    /// started, so a request it had in flight has landed in Harvest first.
    pub settle: Duration,
}

impl Default for ClaimRules {
    fn default() -> Self {
        ClaimRules { lease: Duration::from_secs(600), settle: Duration::from_secs(5) }
    }
}

/// An item claimed for sending.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub item: OutboxItem,
    /// An earlier try may have reached Harvest: look the entry up by its
    /// permalink before sending it again.
    pub look_up_first: bool,
}

/// What a claim found.
#[derive(Clone, Debug, Default)]
pub struct ClaimOutcome {
    pub claimed: Option<Claimed>,
    /// Items another running pusher is sending now.
    pub held_elsewhere: usize,
    /// A crashed pusher's item becomes claimable at this time.
    pub settling_until: Option<DateTime<Utc>>,
}

/// A process (or desktop) sending outbox items. While it lives it holds a
/// liveness lock that other pushers test to tell a running claim from one
/// left by a crash; dropping it (or the process dying) releases the lock.
pub struct Pusher {
    id: String,
    _life: Life,
}

enum Life {
    File {
        _file: File,
        path: PathBuf,
    },
    /// Held, never used: the lock lives as long as the connection (a
    /// mutex only so the pusher may be shared between threads).
    Advisory {
        _conn: std::sync::Mutex<AnyConnection>,
    },
}

impl Drop for Life {
    fn drop(&mut self) {
        if let Life::File { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Pusher {
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// "push" in the high bits keeps these advisory keys apart from the sync's.
fn advisory_key(pusher: &str) -> i64 {
    let low = u32::from_str_radix(pusher.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    (0x7075_7368_i64 << 32) | i64::from(low)
}

impl Store {
    fn pushers_dir(&self) -> Option<PathBuf> {
        self.path().map(|db| PathBuf::from(format!("{}.pushers", db.display())))
    }

    /// Starts a pusher: takes its liveness lock.
    pub async fn start_pusher(&self) -> Result<Pusher> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let life = match self.pushers_dir() {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::Invalid(format!("cannot create {}: {e}", dir.display())))?;
                let path = dir.join(&id);
                let file = super::lock_file(&path)?;
                file.try_lock()
                    .map_err(|e| Error::Invalid(format!("cannot lock {}: {e}", path.display())))?;
                Life::File { _file: file, path }
            }
            None => {
                let mut conn = self.pool.acquire().await?.detach();
                sqlx::query("SELECT pg_advisory_lock($1)").bind(advisory_key(&id)).execute(&mut conn).await?;
                Life::Advisory { _conn: std::sync::Mutex::new(conn) }
            }
        };
        Ok(Pusher { id, _life: life })
    }

    /// Whether the pusher `id` still runs (holds its liveness lock).
    async fn pusher_alive(&self, conn: &mut AnyConnection, id: &str) -> Result<bool> {
        match self.pushers_dir() {
            Some(dir) => {
                let path = dir.join(id);
                let Ok(file) = OpenOptions::new().write(true).open(&path) else { return Ok(false) };
                match file.try_lock() {
                    Ok(()) => {
                        let _ = std::fs::remove_file(&path);
                        Ok(false)
                    }
                    Err(TryLockError::WouldBlock) => Ok(true),
                    Err(TryLockError::Error(e)) => {
                        Err(Error::Invalid(format!("cannot test {}: {e}", path.display())))
                    }
                }
            }
            None => {
                let key = advisory_key(id);
                let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await?;
                if free {
                    sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut *conn).await?;
                }
                Ok(!free)
            }
        }
    }

    /// Claims the oldest item of `logged_by`'s (and items of nobody's)
    /// that may be sent now, recording the attempt durably before any
    /// request: pending items, and sending ones whose pusher crashed (after
    /// `rules.settle`) or whose lease ran out.
    pub async fn claim_outbox(
        &self,
        pusher: &Pusher,
        logged_by: Option<i64>,
        rules: &ClaimRules,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome> {
        let mut tx = self.begin().await?;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let candidates: Vec<Candidate> = sqlx::query_as(&format!(
            "SELECT id, state, claimed_by, attempted_at, lease_until, attempts FROM outbox
                 WHERE state IN ('pending', 'sending') AND (logged_by = $1 OR logged_by IS NULL)
                 ORDER BY created_at, id LIMIT 50{lock}"
        ))
        .bind(logged_by)
        .fetch_all(&mut *tx)
        .await?;
        let mut outcome = ClaimOutcome::default();
        let mut chosen = None;
        for (id, state, claimer, attempted_at, lease_until, attempts) in candidates {
            if state == "pending" {
                chosen = Some((id, attempts));
                break;
            }
            let expired = lease_until.as_deref().map(parse_ts).transpose()?.is_none_or(|until| until <= now);
            let alive = match claimer.as_deref() {
                Some(claimer) => claimer == pusher.id || self.pusher_alive(&mut tx, claimer).await?,
                None => false,
            };
            if alive && !expired {
                outcome.held_elsewhere += 1;
                continue;
            }
            let settled =
                attempted_at.as_deref().map(parse_ts).transpose()?.map(|at| {
                    at + chrono::Duration::from_std(rules.settle).unwrap_or(chrono::Duration::zero())
                });
            match settled {
                Some(at) if at > now && !expired => {
                    outcome.settling_until = Some(outcome.settling_until.map_or(at, |u| u.min(at)));
                }
                _ => {
                    chosen = Some((id, attempts));
                    break;
                }
            }
        }
        let Some((id, attempts)) = chosen else {
            tx.commit().await?;
            return Ok(outcome);
        };
        let lease = chrono::Duration::from_std(rules.lease).unwrap_or(chrono::Duration::minutes(10));
        sqlx::query(
            "UPDATE outbox SET state = 'sending', claimed_by = $2, attempted_at = $3, lease_until = $4,
                attempts = attempts + 1, updated_at = $3
             WHERE id = $1",
        )
        .bind(&id)
        .bind(&pusher.id)
        .bind(ts(now))
        .bind(ts(now + lease))
        .execute(&mut *tx)
        .await?;
        let row: OutboxRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        let item = OutboxItem::try_from(row)?;
        sqlx::query("UPDATE outbox SET permalink = $2 WHERE id = $1")
            .bind(&id)
            .bind(crate::logging::reference(item.ticket, &item.id).permalink)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        outcome.claimed = Some(Claimed { item, look_up_first: attempts > 0 });
        Ok(outcome)
    }

    /// How many of `logged_by`'s items (and nobody's) wait to be sent.
    pub async fn outbox_waiting(&self, logged_by: Option<i64>) -> Result<usize> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending') AND (logged_by = $1 OR logged_by IS NULL)",
        )
        .bind(logged_by)
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// How many of `logged_by`'s items wait, and how many Harvest refused.
    pub async fn outbox_counts(&self, logged_by: Option<i64>) -> Result<(usize, usize)> {
        let (waiting, refused): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state IN ('pending', 'sending') THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0)
             FROM outbox WHERE state IN ('pending', 'sending', 'failed') AND (logged_by = $1 OR logged_by IS NULL)",
        )
        .bind(logged_by)
        .fetch_one(&self.pool)
        .await?;
        Ok((usize::try_from(waiting).unwrap_or(0), usize::try_from(refused).unwrap_or(0)))
    }

    /// `logged_by`'s items (and nobody's) that wait or were refused, oldest first.
    pub async fn outbox_open(&self, logged_by: Option<i64>) -> Result<Vec<OutboxItem>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM outbox
             WHERE state IN ('pending', 'sending', 'failed') AND (logged_by = $1 OR logged_by IS NULL)
             ORDER BY created_at, id"
        ))
        .bind(logged_by)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(OutboxItem::try_from).collect()
    }

    /// One item, if it exists.
    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>> {
        let row: Option<OutboxRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(OutboxItem::try_from).transpose()
    }

    /// Outbox items in `states` (all but discarded ones when empty), oldest first.
    pub async fn outbox(&self, states: &[OutboxState]) -> Result<Vec<OutboxItem>> {
        let wanted: Vec<OutboxState> = if states.is_empty() {
            OutboxState::ALL.into_iter().filter(|s| *s != OutboxState::Discarded).collect()
        } else {
            states.to_vec()
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE state IN ({}) ORDER BY created_at, id",
            super::placeholders(self.backend, 1, wanted.len())
        );
        let mut query = sqlx::query_as::<_, OutboxRow>(&sql);
        for state in &wanted {
            query = query.bind(state.as_str());
        }
        query.fetch_all(&self.pool).await?.into_iter().map(OutboxItem::try_from).collect()
    }

    /// Harvest has the item's entry (created now, or found by its
    /// permalink): store the entry and mark the item sent, together.
    pub async fn complete_outbox(
        &self,
        id: &str,
        entry: &harvest::TimeEntry,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        let mut tx = self.begin().await?;
        // On a team database an agent's login may not write entries: the
        // sync leader imports this one with the rest.
        let report = if actor.writes_entries() {
            import(&mut tx, super::EntryBatch::of(std::slice::from_ref(entry)), actor.staff_id(), now).await?
        } else {
            ImportReport::default()
        };
        sqlx::query(
            "UPDATE outbox SET state = 'sent', harvest_id = $2, last_error = NULL, claimed_by = NULL,
                lease_until = NULL, updated_at = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(entry.id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Ends this pusher's claim on an item without a Harvest id.
    pub async fn end_claim(
        &self,
        pusher: &Pusher,
        id: &str,
        how: Unsent,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let state = match how {
            Unsent::Again => OutboxState::Pending,
            Unsent::Refused => OutboxState::Failed,
        };
        sqlx::query(
            "UPDATE outbox SET state = $2, last_error = $3, claimed_by = NULL, lease_until = NULL, updated_at = $4
             WHERE id = $1 AND claimed_by = $5 AND state = 'sending'",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(error)
        .bind(ts(now))
        .bind(&pusher.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a failed item back in line (its logger asked to retry it).
    pub async fn outbox_retry(&self, actor: &Actor, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.outbox_change(actor, id, "pending", &["failed"], ("retry", "retried"), now).await
    }

    /// Gives up a waiting or failed item (its logger asked): it is kept for
    /// the record and never sent.
    pub async fn outbox_discard(&self, actor: &Actor, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.outbox_change(actor, id, "discarded", &["pending", "failed"], ("discard", "discarded"), now)
            .await
    }

    async fn outbox_change(
        &self,
        actor: &Actor,
        id: &str,
        to: &str,
        from: &[&str],
        (verb, done): (&str, &str),
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let found: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT state, logged_by FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((state, logged_by)) = found else {
            return Err(Error::Invalid(format!("the outbox has no item `{id}`")));
        };
        if logged_by.is_some() && logged_by != actor.staff_id() {
            return Err(Error::Invalid(format!(
                "item `{id}` is someone else's time; only they may {verb} it"
            )));
        }
        if !from.contains(&state.as_str()) {
            return Err(Error::Invalid(format!("item `{id}` is {state}: it cannot be {done} now")));
        }
        // The row is the writer's (BEGIN IMMEDIATE) or checked again here.
        sqlx::query("UPDATE outbox SET state = $2, updated_at = $3 WHERE id = $1 AND state = $4")
            .bind(id)
            .bind(to)
            .bind(ts(now))
            .bind(&state)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
