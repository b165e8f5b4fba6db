//! The tray timer is Harvest's own timer: starting one creates an entry
//! without hours (Harvest stops the user's other timer), stopping it is
//! `PATCH …/stop`. The state is always read from Harvest, so a timer
//! started or stopped on the web or another computer shows here.

use chrono::{DateTime, Local, Utc};
use harvest::{HarvestClient, NewTimeEntry, ReferenceInput, TimeEntry, TimeEntryUpdate};
use serde::Serialize;

use crate::connection::current_user;
use crate::domain::attribution::REFERENCE_GROUP;
use crate::domain::{TicketError, TicketNumber};
use crate::logging::resolve_task;
use crate::store::Store;
use crate::{Error, Result};

/// The running timer as `timer status --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimerStatus {
    pub running: bool,
    pub ticket: Option<i64>,
    pub harvest_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub elapsed_hours: Option<f64>,
}

/// Starts Harvest's timer on a ticket (today, in local time).
pub async fn start(
    store: &Store,
    client: &HarvestClient,
    ticket: TicketNumber,
    task: Option<i64>,
    now: DateTime<Utc>,
) -> Result<TimeEntry> {
    let view = store.ticket(ticket).await?;
    if view.locked {
        return Err(TicketError::Locked("time").into());
    }
    let project = view.harvest_project_id.ok_or(Error::NoProject(ticket))?;
    let task = resolve_task(store, Some(client), project, task).await?;
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
    store.import_entries(std::slice::from_ref(&started), now).await?;
    Ok(started)
}

/// Stops the user's running timer (setting its notes first, if given).
pub async fn stop(
    store: &Store,
    client: &HarvestClient,
    notes: Option<String>,
    now: DateTime<Utc>,
) -> Result<TimeEntry> {
    let user = current_user(store, client).await?;
    let running = client
        .running_entry(user.user_id)
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
    store.import_entries(std::slice::from_ref(&stopped), now).await?;
    Ok(stopped)
}

/// The user's running timer, read from Harvest.
pub async fn status(store: &Store, client: &HarvestClient, now: DateTime<Utc>) -> Result<TimerStatus> {
    let user = current_user(store, client).await?;
    let Some(entry) = client.running_entry(user.user_id).await? else {
        return Ok(TimerStatus {
            running: false,
            ticket: None,
            harvest_id: None,
            started_at: None,
            elapsed_hours: None,
        });
    };
    let ticket = store.attribute(&entry).await?.map(TicketNumber::get);
    Ok(TimerStatus {
        running: true,
        ticket,
        harvest_id: Some(entry.id),
        started_at: entry.timer_started_at,
        elapsed_hours: Some(elapsed_hours(&entry, now)),
    })
}

/// Hours on a running entry now: what it had before this run plus the run.
pub fn elapsed_hours(entry: &TimeEntry, now: DateTime<Utc>) -> f64 {
    let before = entry.hours_without_timer.unwrap_or(0.0);
    let run = entry
        .timer_started_at
        .map_or(entry.hours - before, |started| (now - started).num_seconds().max(0) as f64 / 3600.0);
    ((before + run) * 100.0).round() / 100.0
}
