//! The Harvest side of the store: staff made from Harvest users, plain
//! settings, and the outbox of logged time (each item its logger's).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::entries::import;
use super::tickets::{insert_thread_entry, ticket_view, Staff};
use super::{parse_ts, ts, ImportReport, Store};
use crate::actor::Actor;
use crate::domain::{Hours, ThreadKind, TicketError, TicketNumber};
use crate::error::{Error, Result};
use crate::personal::HarvestIdentity;

/// Time waiting to be created in Harvest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTime {
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    pub hours: Hours,
    pub notes: Option<String>,
}

/// A reply or note written together with its time.
#[derive(Clone, Debug)]
pub struct ThreadInput<'a> {
    pub kind: ThreadKind,
    pub body: &'a str,
}

/// Where an outbox item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Not yet confirmed by Harvest; pushed on the next chance.
    Pending,
    /// Created in Harvest (`harvest_id` set).
    Sent,
    /// Refused by Harvest (validation, permission); never retried on its own.
    Failed,
}

/// One item of the outbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxItem {
    pub id: String,
    pub ticket: i64,
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    pub hours: f64,
    pub notes: Option<String>,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub harvest_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The staff member who logged it (none for items from before people
    /// were told apart): only their token sends it.
    pub logged_by: Option<i64>,
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
}

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
            hours: Hours::from_hundredths(row.hundredths).as_f64(),
            notes: row.notes,
            state: match row.state.as_str() {
                "pending" => OutboxState::Pending,
                "sent" => OutboxState::Sent,
                _ => OutboxState::Failed,
            },
            attempts: row.attempts,
            last_error: row.last_error,
            harvest_id: row.harvest_id,
            created_at: parse_ts(&row.created_at)?,
            logged_by: row.logged_by,
        })
    }
}

impl Store {
    /// Makes the Harvest user of a solo token staff (matched by email) with
    /// the role their Harvest access roles give, and returns the row.
    pub async fn upsert_harvest_staff(&self, who: &HarvestIdentity, now: DateTime<Utc>) -> Result<Staff> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff (email, name, role, harvest_user_id, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role,
                harvest_user_id = excluded.harvest_user_id
             RETURNING id",
        )
        .bind(who.email.to_lowercase())
        .bind(&who.name)
        .bind(who.role.as_str())
        .bind(who.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Staff { id, email: who.email.to_lowercase(), name: who.name.clone(), role: who.role })
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(value) => sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value),
            None => sqlx::query("DELETE FROM settings WHERE key = $1").bind(key),
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Queues time for Harvest, with the reply or note it came with, in one
    /// durable transaction. A locked ticket refuses both.
    pub async fn enqueue_time(
        &self,
        actor: &Actor,
        number: TicketNumber,
        time: &PendingTime,
        thread: Option<ThreadInput<'_>>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let mut tx = self.begin().await?;
        let ticket = ticket_view(&mut tx, number).await?;
        if ticket.locked {
            return Err(TicketError::Locked("time").into());
        }
        if let Some(thread) = thread {
            insert_thread_entry(
                &mut tx,
                number,
                thread.kind,
                &actor.author(),
                actor.staff(),
                thread.body,
                now,
            )
            .await?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO outbox (id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state,
                attempts, created_at, updated_at, logged_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $9)",
        )
        .bind(&id)
        .bind(number.get())
        .bind(time.project_id)
        .bind(time.task_id)
        .bind(time.spent_date.format("%Y-%m-%d").to_string())
        .bind(time.hours.hundredths())
        .bind(&time.notes)
        .bind(ts(now))
        .bind(actor.staff_id())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Outbox items in `states` (all when empty), oldest first.
    pub async fn outbox(&self, states: &[OutboxState]) -> Result<Vec<OutboxItem>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state, attempts,
                    last_error, harvest_id, created_at, logged_by
             FROM outbox ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(OutboxItem::try_from)
            .filter(|item| item.as_ref().map_or(true, |i| states.is_empty() || states.contains(&i.state)))
            .collect()
    }

    /// Harvest confirmed the item: store its entry and mark it sent, together.
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
            import(&mut tx, std::slice::from_ref(entry), actor.staff_id(), now).await?
        } else {
            ImportReport::default()
        };
        sqlx::query(
            "UPDATE outbox SET state = 'sent', harvest_id = $2, last_error = NULL, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(entry.id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// A try that may have reached Harvest failed: count it; the next push
    /// looks the entry up before sending it again.
    pub async fn outbox_attempted(&self, id: &str, error: &str, now: DateTime<Utc>) -> Result<()> {
        self.outbox_update(id, "pending", 1, error, now).await
    }

    /// Harvest refused the item: it stays visible and is not retried on its own.
    pub async fn outbox_failed(&self, id: &str, error: &str, now: DateTime<Utc>) -> Result<()> {
        self.outbox_update(id, "failed", 1, error, now).await
    }

    /// Puts a failed item back in line (the user asked to retry it).
    pub async fn outbox_retry(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let changed = sqlx::query(
            "UPDATE outbox SET state = 'pending', updated_at = $2 WHERE id = $1 AND state = 'failed'",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Invalid(format!("no failed outbox item `{id}`")));
        }
        Ok(())
    }

    async fn outbox_update(
        &self,
        id: &str,
        state: &str,
        attempts: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = $2, attempts = attempts + $3, last_error = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(attempts)
        .bind(error)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
