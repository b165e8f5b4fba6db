//! The Harvest side of the store: staff made from Harvest users, plain
//! settings, and queueing logged time in the outbox (see [`super::outbox`]).

use super::desks::{queue_desk_note, ticket_desk, DeskWrite, TicketDesk};
use super::tickets::{insert_thread_entry, ticket_view, Staff};
use super::{ts, Store};
use crate::actor::Actor;
use crate::domain::{Hours, ThreadKind, TicketError, TicketNumber};
use crate::error::Result;
use crate::personal::HarvestIdentity;
use chrono::{DateTime, NaiveDate, Utc};

/// Time waiting to be created in Harvest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTime {
    pub project_id: i64,
    pub task_id: i64,
    pub spent_date: NaiveDate,
    pub hours: Hours,
    pub notes: Option<String>,
    /// The outbox item's id when one action must queue its time once
    /// whoever runs it (a split of idle time): a second queueing finds the
    /// first. `None`: a new id.
    pub key: Option<String>,
}

/// A reply or note written together with its time.
#[derive(Clone, Debug)]
pub struct ThreadInput<'a> {
    pub kind: ThreadKind,
    pub body: &'a str,
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
        let desk = ticket_desk(&mut tx, number).await?;
        if let (Some(desk), Some(thread)) = (&desk, &thread) {
            refuse_desk_reply(desk, thread.kind)?;
        }
        let mut entry = None;
        if let Some(thread) = &thread {
            entry = Some(
                insert_thread_entry(
                    &mut tx,
                    number,
                    thread.kind,
                    &actor.author(),
                    actor.staff(),
                    thread.body,
                    now,
                )
                .await?,
            );
        }
        let id = time.key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let queued = sqlx::query(
            "INSERT INTO outbox (id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state,
                attempts, created_at, updated_at, logged_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $9)
             ON CONFLICT (id) DO NOTHING",
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
        if queued.rows_affected() == 0 {
            // This action's time is queued already (its key): once is
            // enough, for the same ticket and hours.
            let (ticket, hundredths): (i64, i64) =
                sqlx::query_as("SELECT ticket_number, hundredths FROM outbox WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await?;
            if (ticket, hundredths) != (number.get(), time.hours.hundredths()) {
                return Err(crate::Error::Invalid(format!(
                    "this time is on its way to #{ticket} already ({} h)",
                    Hours::from_hundredths(hundredths)
                )));
            }
            return Ok(id);
        }
        if let Some(desk) = desk.filter(|d| d.writes_notes != 0) {
            // The desk's own people see the time as an internal note there;
            // a reply on a desk that takes them goes out as the reply itself.
            let mut body = format!(
                "{} h logged in Harvest by {} for {}",
                time.hours,
                actor.author(),
                time.spent_date.format("%a %-d %b %Y")
            );
            if let Some(notes) = time.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                body.push_str(&format!(": {notes}"));
            }
            let reply = thread.as_ref().filter(|t| t.kind == ThreadKind::Response && desk.sends_replies());
            if let Some(reply) = reply {
                queue_desk_note(&mut tx, &desk, number, DeskWrite::Note, &body, actor, None, now).await?;
                queue_desk_note(
                    &mut tx,
                    &desk,
                    number,
                    DeskWrite::Reply,
                    reply.body.trim(),
                    actor,
                    entry,
                    now,
                )
                .await?;
            } else {
                if let Some(thread) = &thread {
                    body.push_str("\n\n");
                    body.push_str(thread.body.trim());
                }
                queue_desk_note(&mut tx, &desk, number, DeskWrite::Note, &body, actor, entry, now).await?;
            }
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// osTicket sends replies itself, with its mail: Tickettime only logs the
/// time and points there.
pub(super) fn refuse_desk_reply(desk: &TicketDesk, kind: ThreadKind) -> Result<()> {
    if kind == ThreadKind::Response && desk.kind == "osticket" {
        let place = desk.source_url.as_deref().map(|u| format!(" ({u})")).unwrap_or_default();
        return Err(crate::Error::Invalid(format!(
            "replies to an osTicket ticket are written in osTicket, which sends the mail: log the time (with a \
             note if you like) and reply there{place}"
        )));
    }
    Ok(())
}
