//! The tray timer is Harvest's own timer: starting one creates an entry
//! without hours (Harvest stops the user's other timer), stopping it is
//! `PATCH …/stop`. The state is always read from Harvest, so a timer
//! started or stopped on the web or another computer shows here.

use chrono::{DateTime, Local, Offset, Utc};
use harvest::{NewTimeEntry, ReferenceInput, TimeEntry, TimeEntryUpdate};
use serde::Serialize;

use crate::domain::attribution::REFERENCE_GROUP;
use crate::domain::idle::{self, IdleChoice};
use crate::domain::{budget, Hours, Thresholds, TicketError, TicketNumber};
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

/// Answers an away the person came back from ([`crate::nudge`]): the
/// running entry loses the away time, or stops where the away began, or
/// the time moves to another ticket's new entry through the outbox. It
/// applies only while the entry's current run spans the away: a timer
/// stopped, restarted or already corrected since is left alone, so an
/// answer given twice (two windows, a double click, two processes) changes
/// the entry once; a split's entry is queued under a key made from the away,
/// so it goes to Harvest once too. Returns the changed entry (`None` for Keep).
pub async fn resolve_away(
    session: &Session,
    pending: &crate::nudge::PendingAway,
    choice: IdleChoice,
    now: DateTime<Utc>,
) -> Result<Option<TimeEntry>> {
    if choice == IdleChoice::Keep {
        session.cache.clear_pending_away(pending);
        return Ok(None);
    }
    let client = session.client()?;
    let running = client.running_entry(session.harvest_user_id()?).await?;
    // The run must span the away, and the entry be untouched since it:
    // after a first answer either the timer restarted or the entry was
    // updated, so a second answer (two windows, a retry) changes nothing.
    let Some(entry) = running.filter(|e| {
        e.id == pending.harvest_id
            && e.timer_started_at.is_some_and(|s| s <= pending.away.since)
            && e.updated_at <= pending.away.back
    }) else {
        // Nothing left to answer: the prompt goes too.
        session.cache.clear_pending_away(pending);
        return Err(Error::Invalid(
            "your timer changed since you were away (stopped, restarted or already corrected): nothing was changed"
                .into(),
        ));
    };
    let tracked = |e: &TimeEntry| {
        Hours::from_harvest(e.hours)
            .map_err(|error| Error::Invalid(format!("Harvest entry {}: {error}", e.id)))
    };
    let resolution = idle::resolve(choice, &pending.away, tracked(&entry)?, now);
    if let Some((ticket, hours)) = resolution.moved {
        move_away(session, pending, ticket, hours, now).await?;
    }
    let mut changed = entry;
    if let Some(hours) = resolution.entry_hours {
        // The hours the entry keeps, not a difference: sent twice (a lost
        // answer retried, two windows at once) it lands the same. A stop
        // comes after it, so a crash between the two leaves the hours right
        // and the timer running, in plain sight.
        let update = TimeEntryUpdate { hours: Some(hours.as_f64()), ..TimeEntryUpdate::default() };
        changed = client.update_time_entry(changed.id, &update).await?;
        if resolution.stop {
            changed = client.stop_timer(changed.id).await?;
            if tracked(&changed)? != hours {
                // The seconds between the two calls.
                changed = client.update_time_entry(changed.id, &update).await?;
            }
        }
    }
    keep(session, &changed, now).await?;
    session.cache.clear_pending_away(pending);
    Ok(Some(changed))
}

/// Queues the away's time on `ticket` and waits for Harvest to have it.
/// IMPORTANT: before the running entry gives the time up: the item is
/// durable and keyed by the away, so a crash or a second answer leaves the
/// time on both until Harvest has it, never on neither; an answer naming
/// another ticket for the same away is refused.
async fn move_away(
    session: &Session,
    pending: &crate::nudge::PendingAway,
    ticket: TicketNumber,
    hours: Hours,
    now: DateTime<Utc>,
) -> Result<()> {
    if pending.ticket == Some(ticket.get()) {
        return Err(Error::Invalid(format!("the time was on {ticket} already: choose another ticket")));
    }
    let other = session.store.ticket(ticket).await?;
    if other.locked {
        return Err(TicketError::Locked("time").into());
    }
    other.harvest_project_id.ok_or(Error::NoProject(ticket))?;
    let zone = Local::now().offset().fix();
    let (since, back) = (pending.away.since.with_timezone(&zone), pending.away.back.with_timezone(&zone));
    let from = pending.ticket.map(|t| format!(" on #{t}")).unwrap_or_default();
    let time = crate::logging::Queued {
        ticket,
        hours,
        task: None,
        notes: Some(format!(
            "Moved from the timer{from}: {}–{}",
            since.format("%H:%M"),
            back.format("%H:%M")
        )),
        spent_date: since.date_naive(),
        key: Some(format!("away-{}-{}", pending.harvest_id, pending.away.since.timestamp())),
    };
    match crate::logging::queue(session, time, None, now).await?.1 {
        crate::logging::Delivery::Sent { .. } => Ok(()),
        crate::logging::Delivery::Queued { reason } => Err(Error::Invalid(format!(
            "the {hours} h for {ticket} wait for Harvest ({reason}); your timer keeps them until Harvest has \
             them: answer again then"
        ))),
        crate::logging::Delivery::Failed { message } => Err(Error::Invalid(format!(
            "Harvest refused the {hours} h for {ticket}: {message} (see `tickettime outbox`); your timer keeps them"
        ))),
    }
}
