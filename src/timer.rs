//! The tray timer is Harvest's own timer: starting one creates an entry
//! without hours (Harvest stops the user's other timer), stopping it is
//! `PATCH …/stop`. The state is always read from Harvest, so a timer
//! started or stopped on the web or another computer shows here.

use chrono::{DateTime, Local, Utc};
use harvest::{NewTimeEntry, ReferenceInput, TimeEntry, TimeEntryUpdate};
use serde::Serialize;

use crate::domain::attribution::REFERENCE_GROUP;
use crate::domain::{budget, Thresholds, TicketError, TicketNumber};
use crate::logging::resolve_task;
use crate::session::Session;
use crate::store::TicketView;
use crate::{Error, Result};

/// The running timer as `timer status --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimerStatus {
    pub running: bool,
    pub ticket: Option<i64>,
    pub harvest_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub elapsed_hours: Option<f64>,
}

impl TimerStatus {
    pub const STOPPED: TimerStatus =
        TimerStatus { running: false, ticket: None, harvest_id: None, started_at: None, elapsed_hours: None };
}

/// Why a start needs the user's yes: a ticket at or past the near line
/// (the rule is `domain::budget::start_question`).
pub fn start_question(ticket: &TicketView, thresholds: Thresholds) -> Option<String> {
    budget::start_question(
        ticket.number,
        ticket.hours_used,
        ticket.budget_hours,
        ticket.extra_hours,
        thresholds,
    )
}

/// Why a start needs the person's yes: someone else's Harvest timer runs
/// on the ticket (as the last import saw it).
pub fn collision_question(ticket: &TicketView, me: i64) -> Option<String> {
    let other = ticket.running_timers.iter().find(|t| t.harvest_user_id != me)?;
    let since = other
        .since
        .map(|at| format!(" since {}", at.with_timezone(&Local).format("%H:%M")))
        .unwrap_or_default();
    Some(format!("{}'s timer runs on #{}{since} — start yours too?", other.user, ticket.number))
}

/// Starts Harvest's timer on a ticket (today, in local time). A locked
/// ticket refuses; one where someone else's timer runs, or at or past the
/// near line, needs `confirmed`.
pub async fn start(
    session: &Session,
    ticket: TicketNumber,
    task: Option<i64>,
    confirmed: bool,
    now: DateTime<Utc>,
) -> Result<TimeEntry> {
    let store = &session.store;
    let client = session.client()?;
    let view = store.ticket(ticket).await?;
    if view.locked {
        return Err(TicketError::Locked("time").into());
    }
    if !confirmed {
        if let Some(question) = collision_question(&view, session.harvest_user_id()?) {
            return Err(Error::NeedsConfirmation(question));
        }
        let lines = store.thresholds().await?;
        if let Some(question) = start_question(&view, lines) {
            return Err(Error::NeedsConfirmation(question));
        }
    }
    let project = view.harvest_project_id.ok_or(Error::NoProject(ticket))?;
    let task = resolve_task(session, project, task).await?;
    let entry = NewTimeEntry {
        project_id: project,
        task_id: task,
        spent_date: now.with_timezone(&Local).date_naive(),
        hours: None,
        notes: None,
        external_reference: Some(ReferenceInput {
            id: ticket.get().to_string(),
            group_id: REFERENCE_GROUP.to_owned(),
            permalink: format!("tickettime://ticket/{}", ticket.get()),
        }),
    };
    let started = client.create_time_entry(&entry).await?;
    keep(session, &started, now).await?;
    Ok(started)
}

/// Stops the user's running timer (setting its notes first, if given).
pub async fn stop(session: &Session, notes: Option<String>, now: DateTime<Utc>) -> Result<TimeEntry> {
    let client = session.client()?;
    let running = client
        .running_entry(session.harvest_user_id()?)
        .await?
        .ok_or_else(|| Error::Invalid("no timer is running in Harvest".into()))?;
    if let Some(notes) = notes.filter(|n| !n.trim().is_empty()) {
        // Only the notes: sending hours would overwrite the tracked time.
        client
            .update_time_entry(
                running.id,
                &TimeEntryUpdate { notes: Some(notes), ..TimeEntryUpdate::default() },
            )
            .await?;
    }
    let stopped = client.stop_timer(running.id).await?;
    keep(session, &stopped, now).await?;
    Ok(stopped)
}

/// The user's running timer, read from Harvest (and stored, so its ticket's
/// hours follow).
pub async fn status(session: &Session, now: DateTime<Utc>) -> Result<TimerStatus> {
    let client = session.client()?;
    let Some(entry) = client.running_entry(session.harvest_user_id()?).await? else {
        return Ok(TimerStatus::STOPPED);
    };
    let ticket = session.store.attribute(&entry).await?.map(TicketNumber::get);
    Ok(TimerStatus {
        running: true,
        ticket,
        harvest_id: Some(entry.id),
        started_at: entry.timer_started_at,
        elapsed_hours: Some(elapsed_hours(&entry, now)),
    })
}

/// Stores an entry the person's own timer wrote, so its ticket's hours
/// follow at once; events it causes name them (no notice of their own
/// action). On a team database an agent's login leaves it to the leader.
async fn keep(session: &Session, entry: &TimeEntry, now: DateTime<Utc>) -> Result<()> {
    if session.actor.writes_entries() {
        session.store.import_entries_by(std::slice::from_ref(entry), session.actor.staff_id(), now).await?;
    }
    Ok(())
}

/// Hours on a running entry now: what it had before this run plus the run.
pub fn elapsed_hours(entry: &TimeEntry, now: DateTime<Utc>) -> f64 {
    let before = entry.hours_without_timer.unwrap_or(0.0);
    let run = entry
        .timer_started_at
        .map_or(entry.hours - before, |started| (now - started).num_seconds().max(0) as f64 / 3600.0);
    ((before + run) * 100.0).round() / 100.0
}
