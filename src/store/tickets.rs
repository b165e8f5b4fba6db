//! Staff, tickets, their thread, unlocking, the timeline and the event log.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::entries::{reattribute, recompute, Scope};
use super::{parse_ts, ts, Store};
use crate::actor::Actor;
use crate::domain::{
    self, timeline, AlertLevel, Band, BudgetState, Email, EventKind, Hours, Role, ThreadKind, TicketError,
    TicketNumber, TicketStatus, Utilization,
};
use crate::error::{Error, Result};

/// A member of staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(FromRow)]
pub(super) struct StaffRow {
    id: i64,
    email: String,
    name: String,
    role: String,
}

impl TryFrom<StaffRow> for Staff {
    type Error = Error;
    fn try_from(row: StaffRow) -> Result<Self> {
        Ok(Staff {
            id: row.id,
            email: row.email,
            name: row.name,
            role: row.role.parse().map_err(Error::Invalid)?,
        })
    }
}

/// What a new ticket starts with.
#[derive(Clone, Debug, Default)]
pub struct NewTicket {
    pub subject: String,
    pub client: Option<String>,
    pub agent: Option<Email>,
    pub pm: Option<Email>,
    pub budget: Option<Hours>,
    pub quoted: Option<Hours>,
    pub project: Option<i64>,
}

/// Fields `ticket set` may change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TicketChanges {
    pub budget: Option<Hours>,
    pub quoted: Option<Hours>,
    pub status: Option<TicketStatus>,
    pub agent: Option<Email>,
    pub pm: Option<Email>,
}

/// A ticket as every caller sees it: the sidebar's fields, computed from the
/// stored hours with the domain's rules. Its JSON is the CLI's contract.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TicketView {
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub client: Option<String>,
    pub agent: Option<String>,
    pub pm: Option<String>,
    pub harvest_project_id: Option<i64>,
    pub harvest_project_name: Option<String>,
    pub budget_hours: Option<Hours>,
    pub quoted_hours: Option<Hours>,
    pub hours_used: Hours,
    pub extra_hours: Hours,
    pub utilization_pct: Option<Utilization>,
    pub band: Option<Band>,
    pub locked: bool,
    pub lock_reason: Option<String>,
    /// Where the ticket comes from: `local`, `osticket` or `zendesk`.
    pub source: String,
    /// The desk's number for it (text), for a ticket from a desk.
    pub source_number: Option<String>,
    /// Where it opens in its desk.
    pub source_url: Option<String>,
    /// The day it reaches its lock line at the last fortnight's pace
    /// ([`domain::budget::lock_forecast`]); `None` without a budget or a
    /// pace, and once locked.
    pub forecast_lock_on: Option<NaiveDate>,
    /// Harvest timers running on it, as the last import saw them (whose, and
    /// since when): someone else's asks before a second one starts.
    pub running_timers: Vec<RunningTimer>,
}

/// A Harvest timer running on a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunningTimer {
    /// The Harvest user whose timer it is.
    pub harvest_user_id: i64,
    pub user: String,
    pub harvest_id: i64,
    pub since: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct TicketRow {
    number: i64,
    subject: String,
    status: String,
    client_name: Option<String>,
    agent_email: Option<String>,
    pm_email: Option<String>,
    harvest_project_id: Option<i64>,
    harvest_project_name: Option<String>,
    budget_hundredths: Option<i64>,
    quoted_hundredths: Option<i64>,
    used_hundredths: i64,
    extra_hundredths: i64,
    /// 0 or 1: booleans are read as integers, the one type both backends share.
    locked: i64,
    lock_reason: Option<String>,
    source: String,
    source_number: Option<String>,
    source_url: Option<String>,
}

const TICKET_SELECT: &str = "SELECT t.number, t.subject, t.status, t.client_name,
        a.email AS agent_email, p.email AS pm_email, t.harvest_project_id, t.harvest_project_name,
        t.budget_hundredths, t.quoted_hundredths, t.used_hundredths, t.extra_hundredths,
        CASE WHEN t.locked THEN 1 ELSE 0 END AS locked, t.lock_reason,
        t.source, t.source_number, t.source_url
    FROM tickets t
    LEFT JOIN staff a ON a.id = t.agent_id
    LEFT JOIN staff p ON p.id = t.pm_id";

impl From<TicketRow> for TicketView {
    fn from(row: TicketRow) -> Self {
        let used = Hours::from_hundredths(row.used_hundredths);
        let budget = row.budget_hundredths.map(Hours::from_hundredths);
        let utilization = Utilization::of(used, budget);
        TicketView {
            number: row.number,
            subject: row.subject,
            status: row.status,
            client: row.client_name,
            agent: row.agent_email,
            pm: row.pm_email,
            harvest_project_id: row.harvest_project_id,
            harvest_project_name: row.harvest_project_name,
            budget_hours: budget,
            quoted_hours: row.quoted_hundredths.map(Hours::from_hundredths),
            hours_used: used,
            extra_hours: Hours::from_hundredths(row.extra_hundredths),
            utilization_pct: utilization,
            band: utilization.map(Utilization::band),
            locked: row.locked != 0,
            lock_reason: row.lock_reason,
            source: row.source,
            source_number: row.source_number,
            source_url: row.source_url,
            forecast_lock_on: None,
            running_timers: Vec::new(),
        }
    }
}

/// The local calendar's today: the lock forecast's pace is counted in spent
/// dates, which are the people's local days.
fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Fills what a ticket view computes from its entries: the lock forecast
/// (its hours of the last [`domain::budget::PACE_DAYS`] days by spent
/// date) and the timers running on it. Two queries for any number of tickets.
async fn complete(conn: &mut AnyConnection, views: &mut [TicketView], today: NaiveDate) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let lock_pct = super::load_thresholds(conn).await?.lock;
    let first_day = today - chrono::Days::new(u64::from(domain::budget::PACE_DAYS) - 1);
    let backend = super::backend_of(conn);
    let mut recent = std::collections::HashMap::new();
    let forecast: Vec<i64> =
        views.iter().filter(|v| v.budget_hours.is_some() && !v.locked).map(|v| v.number).collect();
    for chunk in forecast.chunks(500) {
        let sql = format!(
            "SELECT ticket_number, CAST(COALESCE(SUM(hundredths), 0) AS BIGINT) FROM time_entries
             WHERE spent_date >= {} AND spent_date <= {} AND ticket_number IN ({}) AND deleted = FALSE
             GROUP BY ticket_number",
            super::placeholders(backend, 1, 1),
            super::placeholders(backend, 2, 1),
            super::placeholders(backend, 3, chunk.len())
        );
        // Days to come are not pace.
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql)
            .persistent(false)
            .bind(first_day.to_string())
            .bind(today.to_string());
        for number in chunk {
            query = query.bind(number);
        }
        recent.extend(query.fetch_all(&mut *conn).await?);
    }
    let running: Vec<(i64, i64, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT ticket_number, user_id, user_name, harvest_id, timer_started_at FROM time_entries
         WHERE is_running AND deleted = FALSE AND ticket_number IS NOT NULL ORDER BY timer_started_at",
    )
    .fetch_all(&mut *conn)
    .await?;
    for view in views.iter_mut() {
        let pace = Hours::from_hundredths(recent.get(&view.number).copied().unwrap_or(0));
        view.forecast_lock_on = domain::budget::lock_forecast(
            today,
            pace,
            view.hours_used,
            view.budget_hours,
            view.extra_hours,
            lock_pct,
            view.locked,
        );
        view.running_timers = running
            .iter()
            .filter(|(ticket, ..)| *ticket == view.number)
            .map(|(_, user_id, user, harvest_id, since)| RunningTimer {
                harvest_user_id: *user_id,
                user: user.clone(),
                harvest_id: *harvest_id,
                since: since.as_deref().and_then(|t| parse_ts(t).ok()),
            })
            .collect();
    }
    Ok(())
}

/// One recorded budget event (75 %, 90 %, lock, unlock).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRecord {
    #[serde(skip)]
    pub id: i64,
    pub ticket: i64,
    pub kind: EventKind,
    pub utilization_pct: Option<Utilization>,
    pub at: DateTime<Utc>,
}

/// An event with what a notification needs to say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDetail {
    pub id: i64,
    pub ticket: i64,
    pub kind: EventKind,
    pub utilization_pct: Option<Utilization>,
    pub actor_id: Option<i64>,
    pub pm_email: Option<String>,
    pub subject: String,
    pub hours_used: f64,
    pub budget_hours: f64,
}

type EventDetailRow = (i64, i64, String, Option<i64>, Option<i64>, Option<String>, String, i64, Option<i64>);

impl Store {
    /// The budget events `staff_id` has not been shown yet (near and lock
    /// events after the floor kept under `floor_key`), each taken for this
    /// caller alone: it is recorded as delivered in the same transaction, so
    /// two desktops of one person never both get it, and an event whose
    /// transaction commits after a later one is still delivered. The first
    /// call sets the floor (nothing old is replayed) and returns `None`.
    pub async fn take_undelivered_events(
        &self,
        staff_id: i64,
        floor_key: &str,
    ) -> Result<Option<Vec<EventDetail>>> {
        let mut tx = self.begin().await?;
        let floor: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(floor_key)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(floor) = floor.and_then(|v| v.parse::<i64>().ok()) else {
            let newest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM events").fetch_one(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(floor_key)
            .bind(newest.unwrap_or(0).to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(None);
        };
        let candidates: Vec<EventDetailRow> = sqlx::query_as(
            "SELECT e.id, e.ticket_number, e.kind, e.utilization_bp, e.actor_id, p.email, t.subject,
                    t.used_hundredths, t.budget_hundredths
             FROM events e JOIN tickets t ON t.number = e.ticket_number LEFT JOIN staff p ON p.id = t.pm_id
             WHERE e.id > $1 AND e.kind IN ('near', 'locked')
               AND NOT EXISTS (SELECT 1 FROM notices_delivered d WHERE d.staff_id = $2 AND d.event_id = e.id)
             ORDER BY e.id",
        )
        .bind(floor)
        .bind(staff_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut rows = Vec::with_capacity(candidates.len());
        for row in candidates {
            // Another desktop of this person may have taken it meanwhile.
            let taken = sqlx::query(
                "INSERT INTO notices_delivered (staff_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(staff_id)
            .bind(row.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 1 {
                rows.push(row);
            }
        }
        tx.commit().await?;
        let details = rows
            .into_iter()
            .filter_map(|(id, ticket, kind, bp, actor_id, pm_email, subject, used, budget)| {
                Some(EventDetail {
                    id,
                    ticket,
                    kind: EventKind::parse(&kind)?,
                    utilization_pct: bp.map(Utilization::from_basis_points),
                    actor_id,
                    pm_email,
                    subject,
                    hours_used: Hours::from_hundredths(used).as_f64(),
                    budget_hours: budget.map_or(0.0, |b| Hours::from_hundredths(b).as_f64()),
                })
            })
            .collect();
        Ok(Some(details))
    }

    /// Adds a member of staff (an admin's to do); emails are unique. On a
    /// team database use [`Store::add_team_member`], which also creates the
    /// person's database login.
    pub async fn add_staff(
        &self,
        actor: &Actor,
        email: &Email,
        name: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Staff> {
        actor.require_admin("add staff")?;
        let name = name.trim();
        if name.is_empty() {
            return Err(TicketError::Empty("a staff member's name").into());
        }
        let mut tx = self.begin().await?;
        if find_staff(&mut tx, email).await?.is_some() {
            return Err(Error::StaffExists(email.to_string()));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff (email, name, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(email.as_str())
        .bind(name)
        .bind(role.as_str())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Staff { id, email: email.to_string(), name: name.to_owned(), role })
    }

    pub async fn staff(&self, email: &Email) -> Result<Staff> {
        let mut conn = self.pool.acquire().await?;
        staff_required(&mut conn, email).await
    }

    pub async fn all_staff(&self) -> Result<Vec<Staff>> {
        let rows: Vec<StaffRow> = sqlx::query_as("SELECT id, email, name, role FROM staff ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Staff::try_from).collect()
    }

    /// Creates a ticket (a PM's or admin's to do). A linked project pulls
    /// in the entries already imported for it.
    pub async fn create_ticket(
        &self,
        actor: &Actor,
        new: NewTicket,
        now: DateTime<Utc>,
    ) -> Result<TicketView> {
        actor.require_manager("create tickets")?;
        let subject = new.subject.trim();
        if subject.is_empty() {
            return Err(TicketError::Empty("the subject").into());
        }
        if subject.chars().count() > 500 {
            return Err(Error::Invalid("the subject is longer than 500 characters".into()));
        }
        let project = new.project.map(validate_project_id).transpose()?;
        let mut tx = self.begin().await?;
        let agent = match &new.agent {
            Some(email) => Some(staff_required(&mut tx, email).await?.id),
            None => None,
        };
        let pm = match &new.pm {
            Some(email) => Some(pm_required(&mut tx, email).await?.id),
            None => None,
        };
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (subject, status, client_name, agent_id, pm_id, harvest_project_id,
                budget_hundredths, quoted_hundredths, created_at, updated_at)
             VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $8) RETURNING number",
        )
        .bind(subject)
        .bind(new.client.as_deref().map(str::trim).filter(|c| !c.is_empty()))
        .bind(agent)
        .bind(pm)
        .bind(project)
        .bind(new.budget.map(Hours::hundredths))
        .bind(new.quoted.map(Hours::hundredths))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        let ticket =
            TicketNumber::new(number).ok_or_else(|| Error::Invalid("ticket numbering failed".into()))?;
        let mut affected = reattribute(&mut tx, Scope::Reference(ticket)).await?;
        if let Some(project) = project {
            affected.extend(reattribute(&mut tx, Scope::Project(project)).await?);
            refresh_project_name(&mut tx, project).await?;
        }
        affected.push(ticket);
        recompute(&mut tx, affected, now, actor.staff_id()).await?;
        let view = ticket_view(&mut tx, ticket).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub async fn ticket(&self, number: TicketNumber) -> Result<TicketView> {
        let mut conn = self.pool.acquire().await?;
        ticket_view(&mut conn, number).await
    }

    pub async fn tickets(&self) -> Result<Vec<TicketView>> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<TicketRow> =
            sqlx::query_as(&format!("{TICKET_SELECT} ORDER BY t.number")).fetch_all(&mut *conn).await?;
        let mut views: Vec<TicketView> = rows.into_iter().map(TicketView::from).collect();
        complete(&mut conn, &mut views, today()).await?;
        Ok(views)
    }

    /// Changes budget, quoted hours, status or assignees. Budget and quoted
    /// hours are a PM's or admin's to change. A budget change re-evaluates the
    /// lock at once (a raise past the lock line lifts it).
    pub async fn update_ticket(
        &self,
        actor: &Actor,
        number: TicketNumber,
        changes: TicketChanges,
        now: DateTime<Utc>,
    ) -> Result<TicketView> {
        let budget_change = changes.budget.is_some() || changes.quoted.is_some() || changes.pm.is_some();
        if budget_change {
            actor.require_manager("change budgets, quoted hours or the PM")?;
        }
        let mut tx = self.begin().await?;
        ticket_view(&mut tx, number).await?;
        let agent = match &changes.agent {
            Some(email) => Some(staff_required(&mut tx, email).await?.id),
            None => None,
        };
        let pm = match &changes.pm {
            Some(email) => Some(pm_required(&mut tx, email).await?.id),
            None => None,
        };
        // Only the columns this change may touch are named: on a team
        // database an agent's login may update a ticket's status and agent,
        // and PostgreSQL checks every column a statement sets.
        if budget_change {
            sqlx::query(
                "UPDATE tickets SET
                    budget_hundredths = COALESCE($2, budget_hundredths),
                    quoted_hundredths = COALESCE($3, quoted_hundredths),
                    status = COALESCE($4, status),
                    agent_id = COALESCE($5, agent_id),
                    pm_id = COALESCE($6, pm_id),
                    updated_at = $7
                 WHERE number = $1",
            )
            .bind(number.get())
            .bind(changes.budget.map(Hours::hundredths))
            .bind(changes.quoted.map(Hours::hundredths))
            .bind(changes.status.map(TicketStatus::as_str))
            .bind(agent)
            .bind(pm)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE tickets SET status = COALESCE($2, status), agent_id = COALESCE($3, agent_id), updated_at = $4
                 WHERE number = $1",
            )
            .bind(number.get())
            .bind(changes.status.map(TicketStatus::as_str))
            .bind(agent)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        if budget_change {
            // Only a budget moves the lock; a status or assignee change does
            // not (and an agent's team login may not write lock state).
            recompute(&mut tx, vec![number], now, actor.staff_id()).await?;
        }
        let view = ticket_view(&mut tx, number).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Links a ticket to a Harvest project (or moves it to another one): the
    /// old project's entries leave the ticket, the new one's stored entries
    /// arrive, and hours used follow.
    pub async fn link_project(
        &self,
        actor: &Actor,
        number: TicketNumber,
        project: i64,
        now: DateTime<Utc>,
    ) -> Result<TicketView> {
        actor.require_manager("link a Harvest project")?;
        let project = validate_project_id(project)?;
        let mut tx = self.begin().await?;
        let before = ticket_view(&mut tx, number).await?;
        sqlx::query(
            "UPDATE tickets SET harvest_project_id = $2, harvest_project_name = NULL, budget_offered_for = NULL,
                updated_at = $3 WHERE number = $1",
        )
        .bind(number.get())
        .bind(project)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let mut affected = vec![number];
        if let Some(old) = before.harvest_project_id.filter(|old| *old != project) {
            affected.extend(reattribute(&mut tx, Scope::Project(old)).await?);
        }
        affected.extend(reattribute(&mut tx, Scope::Project(project)).await?);
        refresh_project_name(&mut tx, project).await?;
        recompute(&mut tx, affected, now, actor.staff_id()).await?;
        let view = ticket_view(&mut tx, number).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A PM or admin lifts a ticket's lock with a reason and optional extra hours.
    pub async fn unlock(
        &self,
        actor: &Actor,
        number: TicketNumber,
        reason: &str,
        extra: Hours,
        now: DateTime<Utc>,
    ) -> Result<TicketView> {
        let mut tx = self.begin().await?;
        unlock_in(&mut tx, number, actor, reason, extra, now).await?;
        let view = ticket_view(&mut tx, number).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Adds a response or a note, signed by `actor`. A locked ticket refuses
    /// both, whoever asks.
    pub async fn add_thread_entry(
        &self,
        actor: &Actor,
        number: TicketNumber,
        kind: ThreadKind,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let desk = super::desks::ticket_desk(&mut tx, number).await?;
        if let Some(desk) = &desk {
            super::harvest::refuse_desk_reply(desk, kind)?;
        }
        let entry =
            insert_thread_entry(&mut tx, number, kind, &actor.author(), actor.staff(), body, now).await?;
        if let Some(desk) = desk.filter(|d| d.writes_notes != 0) {
            use super::desks::{queue_desk_note, DeskWrite};
            if kind == ThreadKind::Note {
                let body = format!("Note by {} in Tickettime:\n\n{}", actor.author(), body.trim());
                queue_desk_note(&mut tx, &desk, number, DeskWrite::Note, &body, actor, Some(entry), now)
                    .await?;
            } else if kind == ThreadKind::Response && desk.sends_replies() {
                queue_desk_note(
                    &mut tx,
                    &desk,
                    number,
                    DeskWrite::Reply,
                    body.trim(),
                    actor,
                    Some(entry),
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a message from the client (`from` names them), entered by
    /// any member of staff.
    pub async fn add_client_message(
        &self,
        number: TicketNumber,
        from: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_thread_entry(&mut tx, number, ThreadKind::Message, from, None, body, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ticket's thread and time entries in one chronological list,
    /// thread entries dated in `zone`.
    pub async fn timeline(&self, number: TicketNumber, zone: FixedOffset) -> Result<Vec<timeline::Item>> {
        let mut conn = self.pool.acquire().await?;
        ticket_view(&mut conn, number).await?;
        let thread: Vec<ThreadRow> = sqlx::query_as(
            "SELECT kind, author, body, created_at FROM thread_entries WHERE ticket_number = $1 ORDER BY id",
        )
        .bind(number.get())
        .fetch_all(&mut *conn)
        .await?;
        let time: Vec<TimeRow> = sqlx::query_as(
            "SELECT harvest_id, user_name, notes, hundredths, spent_date, harvest_created_at
             FROM time_entries WHERE ticket_number = $1 AND deleted = FALSE",
        )
        .bind(number.get())
        .fetch_all(&mut *conn)
        .await?;
        let mut items = Vec::with_capacity(thread.len() + time.len());
        for row in thread {
            let kind = ThreadKind::parse(&row.kind)
                .ok_or_else(|| Error::Invalid(format!("unknown thread kind `{}`", row.kind)))?;
            items.push(timeline::Item::thread(kind, row.author, row.body, parse_ts(&row.created_at)?, zone));
        }
        for row in time {
            let spent = NaiveDate::parse_from_str(&row.spent_date, "%Y-%m-%d").map_err(|e| {
                Error::Invalid(format!("stored date `{}` is unreadable: {e}", row.spent_date))
            })?;
            items.push(timeline::Item::time(
                row.harvest_id,
                row.user_name,
                row.notes,
                Hours::from_hundredths(row.hundredths),
                spent,
                parse_ts(&row.harvest_created_at)?,
            ));
        }
        Ok(timeline::merge(items))
    }

    /// Every recorded budget event, oldest first.
    pub async fn events(&self) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> =
            sqlx::query_as("SELECT id, ticket_number, kind, utilization_bp, at FROM events ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|row| {
                Ok(EventRecord {
                    id: row.id,
                    ticket: row.ticket_number,
                    kind: EventKind::parse(&row.kind)
                        .ok_or_else(|| Error::Invalid(format!("unknown event kind `{}`", row.kind)))?,
                    utilization_pct: row.utilization_bp.map(Utilization::from_basis_points),
                    at: parse_ts(&row.at)?,
                })
            })
            .collect()
    }
}

#[derive(FromRow)]
struct ThreadRow {
    kind: String,
    author: String,
    body: String,
    created_at: String,
}

#[derive(FromRow)]
struct TimeRow {
    harvest_id: i64,
    user_name: String,
    notes: Option<String>,
    hundredths: i64,
    spent_date: String,
    harvest_created_at: String,
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    ticket_number: i64,
    kind: String,
    utilization_bp: Option<i64>,
    at: String,
}

fn validate_project_id(project: i64) -> Result<i64> {
    if project > 0 {
        Ok(project)
    } else {
        Err(Error::Invalid(format!("`{project}` is not a Harvest project id (a positive number)")))
    }
}

async fn find_staff(conn: &mut AnyConnection, email: &Email) -> Result<Option<Staff>> {
    let row: Option<StaffRow> = sqlx::query_as("SELECT id, email, name, role FROM staff WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(Staff::try_from).transpose()
}

async fn staff_required(conn: &mut AnyConnection, email: &Email) -> Result<Staff> {
    find_staff(conn, email).await?.ok_or_else(|| Error::StaffNotFound(email.to_string()))
}

async fn pm_required(conn: &mut AnyConnection, email: &Email) -> Result<Staff> {
    let staff = staff_required(conn, email).await?;
    if staff.role.manages_budgets() {
        Ok(staff)
    } else {
        Err(Error::Invalid(format!("{email} is an agent; a ticket's PM must be a pm or admin")))
    }
}

pub(super) async fn ticket_view(conn: &mut AnyConnection, number: TicketNumber) -> Result<TicketView> {
    let row: Option<TicketRow> = sqlx::query_as(&format!("{TICKET_SELECT} WHERE t.number = $1"))
        .bind(number.get())
        .fetch_optional(&mut *conn)
        .await?;
    let mut view = [row.map(TicketView::from).ok_or(Error::TicketNotFound(number))?];
    complete(conn, &mut view, today()).await?;
    let [view] = view;
    Ok(view)
}

/// `(locked 0/1, extra, unlocked_at_used, alert_level, used, budget)`, hours in hundredths.
type BudgetRow = (i64, i64, Option<i64>, i64, i64, Option<i64>);

/// The stored budget state of a ticket, its hours used and its budget.
pub(super) async fn budget_state(
    conn: &mut AnyConnection,
    number: TicketNumber,
) -> Result<(BudgetState, Hours, Option<Hours>)> {
    let row: Option<BudgetRow> = sqlx::query_as(
        "SELECT CASE WHEN locked THEN 1 ELSE 0 END, extra_hundredths, unlocked_at_used, alert_level,
                used_hundredths, budget_hundredths
         FROM tickets WHERE number = $1",
    )
    .bind(number.get())
    .fetch_optional(conn)
    .await?;
    let (locked, extra, unlocked_at_used, alert, used, budget) = row.ok_or(Error::TicketNotFound(number))?;
    Ok((
        BudgetState {
            locked: locked != 0,
            extra: Hours::from_hundredths(extra),
            unlocked_at_used: unlocked_at_used.map(Hours::from_hundredths),
            alert: AlertLevel::from_i64(alert),
        },
        Hours::from_hundredths(used),
        budget.map(Hours::from_hundredths),
    ))
}

pub(super) async fn record_event(
    conn: &mut AnyConnection,
    number: TicketNumber,
    kind: EventKind,
    utilization: Option<Utilization>,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (ticket_number, kind, utilization_bp, actor_id, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(number.get())
    .bind(kind.as_str())
    .bind(utilization.map(Utilization::basis_points))
    .bind(actor)
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Names the linked project after the newest stored entry that carries it.
pub(super) async fn refresh_project_name(conn: &mut AnyConnection, project: i64) -> Result<()> {
    sqlx::query(
        "UPDATE tickets SET harvest_project_name = (
            SELECT project_name FROM time_entries WHERE project_id = $1
            ORDER BY harvest_updated_at DESC LIMIT 1)
         WHERE harvest_project_id = $1",
    )
    .bind(project)
    .execute(conn)
    .await?;
    Ok(())
}

/// The LISTEN/NOTIFY channel on which a team's desktops hear of changes.
pub const CHANNEL: &str = "tickettime";

/// Tells every listening desktop (PostgreSQL only) that a ticket changed.
/// The payload is the ticket number only; listeners fetch the rest. It is
/// delivered when the caller's transaction commits, and never if it rolls back.
pub(super) async fn announce(conn: &mut AnyConnection, number: TicketNumber) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(number.get().to_string())
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Checks and inserts a thread entry inside the caller's transaction.
pub(super) async fn insert_thread_entry(
    conn: &mut AnyConnection,
    number: TicketNumber,
    kind: ThreadKind,
    author: &str,
    staff: Option<&Staff>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    if body.trim().is_empty() {
        return Err(TicketError::Empty(match kind {
            ThreadKind::Message => "a message",
            ThreadKind::Response => "a reply",
            ThreadKind::Note => "a note",
        })
        .into());
    }
    if author.trim().is_empty() {
        return Err(TicketError::Empty("the author").into());
    }
    let ticket = ticket_view(conn, number).await?;
    if ticket.locked && kind.refused_when_locked() {
        return Err(TicketError::Locked(match kind {
            ThreadKind::Note => "notes",
            _ => "replies",
        })
        .into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO thread_entries (ticket_number, kind, author, staff_id, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(number.get())
    .bind(kind.as_str())
    .bind(author.trim())
    .bind(staff.map(|s| s.id))
    .bind(body)
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE tickets SET updated_at = $2 WHERE number = $1")
        .bind(number.get())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    announce(conn, number).await?;
    Ok(id)
}

/// [`Store::unlock`] inside the caller's transaction.
pub(super) async fn unlock_in(
    tx: &mut AnyConnection,
    number: TicketNumber,
    actor: &Actor,
    reason: &str,
    extra: Hours,
    now: DateTime<Utc>,
) -> Result<()> {
    let (state, used, budget) = budget_state(tx, number).await?;
    let state = domain::unlock(state, actor.role(), reason, extra, used)?;
    sqlx::query(
        "UPDATE tickets SET locked = FALSE, lock_reason = NULL, extra_hundredths = $2,
            unlocked_at_used = $3, unlocked_by = $4, unlocked_at = $5, unlock_reason = $6, updated_at = $5
         WHERE number = $1",
    )
    .bind(number.get())
    .bind(state.extra.hundredths())
    .bind(state.unlocked_at_used.map(Hours::hundredths))
    .bind(actor.staff_id())
    .bind(ts(now))
    .bind(reason.trim())
    .execute(&mut *tx)
    .await?;
    record_event(tx, number, EventKind::Unlocked, Utilization::of(used, budget), actor.staff_id(), now)
        .await?;
    recompute(tx, vec![number], now, actor.staff_id()).await?;
    Ok(())
}
