//! Unlock requests: an agent on a locked ticket asks its PM to unlock it;
//! the PM approves (unlocking with extra hours) or denies; both sides are
//! told once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::tickets::{announce, ticket_view, unlock_in, Staff};
use super::{parse_ts, ts, Store};
use crate::actor::Actor;
use crate::domain::{Hours, TicketError, TicketNumber};
use crate::error::{Error, Result};

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum RequestState {
    Pending,
    Approved,
    Denied,
}

/// One unlock request, as the CLI and the desktop show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UnlockRequest {
    pub id: i64,
    pub ticket: i64,
    pub requested_by: String,
    #[serde(skip)]
    pub requested_by_id: i64,
    pub reason: String,
    pub hours: Option<Hours>,
    pub state: RequestState,
    pub answered_by: Option<String>,
    pub answer_note: Option<String>,
    pub extra_granted: Option<Hours>,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct RequestRow {
    id: i64,
    ticket_number: i64,
    requester: String,
    requested_by: i64,
    reason: String,
    hundredths: Option<i64>,
    state: String,
    answerer: Option<String>,
    answer_note: Option<String>,
    extra_granted: Option<i64>,
    created_at: String,
}

const SELECT: &str =
    "SELECT r.id, r.ticket_number, s.name AS requester, r.requested_by, r.reason, r.hundredths,
        r.state, a.name AS answerer, r.answer_note, r.extra_granted, r.created_at
    FROM unlock_requests r JOIN staff s ON s.id = r.requested_by LEFT JOIN staff a ON a.id = r.answered_by";

impl TryFrom<RequestRow> for UnlockRequest {
    type Error = Error;
    fn try_from(row: RequestRow) -> Result<Self> {
        Ok(UnlockRequest {
            id: row.id,
            ticket: row.ticket_number,
            requested_by: row.requester,
            requested_by_id: row.requested_by,
            reason: row.reason,
            hours: row.hundredths.map(Hours::from_hundredths),
            state: match row.state.as_str() {
                "approved" => RequestState::Approved,
                "denied" => RequestState::Denied,
                _ => RequestState::Pending,
            },
            answered_by: row.answerer,
            answer_note: row.answer_note,
            extra_granted: row.extra_granted.map(Hours::from_hundredths),
            created_at: parse_ts(&row.created_at)?,
        })
    }
}

/// Something about a request that one person should be told.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestNews {
    /// For the ticket's PM: an agent asks.
    Asked(UnlockRequest),
    /// For the agent who asked: the PM answered.
    Answered(UnlockRequest),
}

impl Store {
    /// An agent asks for a locked ticket to be unlocked. Asking again while a
    /// request of theirs is pending returns that request.
    pub async fn request_unlock(
        &self,
        actor: &Actor,
        number: TicketNumber,
        reason: &str,
        hours: Option<Hours>,
        now: DateTime<Utc>,
    ) -> Result<UnlockRequest> {
        if reason.trim().is_empty() {
            return Err(TicketError::ReasonRequired.into());
        }
        let requester = actor.staff().ok_or_else(|| {
            Error::Invalid("an unlock request is asked by a member of staff: pass --as EMAIL".into())
        })?;
        let mut tx = self.begin().await?;
        if !ticket_view(&mut tx, number).await?.locked {
            return Err(TicketError::NotLocked.into());
        }
        let pending: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM unlock_requests WHERE ticket_number = $1 AND requested_by = $2 AND state = 'pending'",
        )
        .bind(number.get())
        .bind(requester.id)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match pending {
            Some(id) => id,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO unlock_requests (ticket_number, requested_by, reason, hundredths, state, created_at)
                     VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
                )
                .bind(number.get())
                .bind(requester.id)
                .bind(reason.trim())
                .bind(hours.map(Hours::hundredths))
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await?;
                announce(&mut tx, number).await?;
                id
            }
        };
        tx.commit().await?;
        self.unlock_request(id).await
    }

    pub async fn unlock_request(&self, id: i64) -> Result<UnlockRequest> {
        let row: Option<RequestRow> =
            sqlx::query_as(&format!("{SELECT} WHERE r.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.ok_or_else(|| Error::Invalid(format!("there is no unlock request {id}")))?.try_into()
    }

    /// Requests on a ticket (all tickets when `None`), newest first;
    /// `pending_only` keeps the ones waiting for an answer.
    pub async fn unlock_requests(
        &self,
        ticket: Option<TicketNumber>,
        pending_only: bool,
    ) -> Result<Vec<UnlockRequest>> {
        let rows: Vec<RequestRow> = sqlx::query_as(&format!(
            "{SELECT} WHERE ($1 < 0 OR r.ticket_number = $1) AND ($2 = 0 OR r.state = 'pending') ORDER BY r.id DESC"
        ))
        .bind(ticket.map_or(-1, TicketNumber::get))
        .bind(i64::from(pending_only))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(UnlockRequest::try_from).collect()
    }

    /// A PM or admin answers. Approving unlocks the ticket (if it is still
    /// locked) with `extra` hours, in the same transaction.
    pub async fn answer_unlock_request(
        &self,
        answerer: &Actor,
        id: i64,
        approve: bool,
        extra: Hours,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UnlockRequest> {
        answerer.require_manager("answer unlock requests")?;
        let request = self.unlock_request(id).await?;
        if request.state != RequestState::Pending {
            return Err(Error::Invalid(format!("unlock request {id} was already answered")));
        }
        let number = TicketNumber::new(request.ticket).ok_or(Error::Invalid("bad ticket".into()))?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let mut tx = self.begin().await?;
        if approve && ticket_view(&mut tx, number).await?.locked {
            let reason = format!("approved request by {}: {}", request.requested_by, request.reason);
            unlock_in(&mut tx, number, answerer, &reason, extra, now).await?;
        }
        sqlx::query(
            "UPDATE unlock_requests SET state = $2, answered_by = $3, answer_note = $4, extra_granted = $5,
                answered_at = $6, requester_notified = FALSE
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(if approve { "approved" } else { "denied" })
        .bind(answerer.staff_id())
        .bind(note)
        .bind(approve.then_some(extra.hundredths()))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        announce(&mut tx, number).await?;
        tx.commit().await?;
        self.unlock_request(id).await
    }

    /// What `me` should be told about requests now: pending requests on
    /// tickets they manage (their own PM tickets, or — solo — any ticket
    /// without a PM when they are a PM or admin), and answers to their own
    /// requests. Each is claimed with an atomic flag, so one desktop tells it.
    pub async fn take_request_news(&self, me: &Staff) -> Result<Vec<RequestNews>> {
        let mut news = Vec::new();
        let asked: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT r.id, p.email FROM unlock_requests r JOIN tickets t ON t.number = r.ticket_number
             LEFT JOIN staff p ON p.id = t.pm_id
             WHERE r.state = 'pending' AND r.pm_notified = FALSE AND r.requested_by <> $1",
        )
        .bind(me.id)
        .fetch_all(&self.pool)
        .await?;
        for (id, pm) in asked {
            let mine = match pm {
                Some(pm) => pm.eq_ignore_ascii_case(&me.email),
                None => me.role.manages_budgets(),
            };
            if mine && self.claim(id, "pm_notified").await? {
                news.push(RequestNews::Asked(self.unlock_request(id).await?));
            }
        }
        let answered: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM unlock_requests WHERE requested_by = $1 AND state <> 'pending' AND requester_notified = FALSE",
        )
        .bind(me.id)
        .fetch_all(&self.pool)
        .await?;
        for id in answered {
            if self.claim(id, "requester_notified").await? {
                news.push(RequestNews::Answered(self.unlock_request(id).await?));
            }
        }
        Ok(news)
    }

    async fn claim(&self, id: i64, flag: &'static str) -> Result<bool> {
        let claimed = sqlx::query(&format!(
            "UPDATE unlock_requests SET {flag} = TRUE WHERE id = $1 AND {flag} = FALSE"
        ))
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }
}
