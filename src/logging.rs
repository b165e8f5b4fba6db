//! Logging hours to Harvest, exactly once.
//!
//! Time is first written to the outbox, in the same durable transaction as
//! the reply or note it came with; then it is pushed. Each entry carries an
//! external reference naming its ticket, with the outbox id in its
//! permalink; each item is claimed before its request (see
//! [`crate::store::Pusher`]), so after any failure or crash that may have
//! reached Harvest the push looks the entry up before sending it again, and
//! two pushers never send one item. Harvest's refusals (422, 403) mark the
//! item failed: shown to the user, never retried on its own.

use chrono::{DateTime, NaiveDate, Utc};
use harvest::{HarvestClient, HarvestError, NewTimeEntry, ReferenceInput};

use crate::domain::attribution::REFERENCE_GROUP;
use crate::domain::ThreadKind;
use crate::domain::{LoggedHours, TicketError, TicketNumber};
use crate::session::Session;
use crate::store::{ClaimRules, Claimed, OutboxItem, OutboxState, PendingTime, ThreadInput, Unsent};
use crate::{Error, Result};

/// Hours to log on a ticket.
#[derive(Clone, Debug)]
pub struct LogRequest {
    pub ticket: TicketNumber,
    pub hours: LoggedHours,
    pub task: Option<i64>,
    pub notes: Option<String>,
    /// The day worked, in the user's local calendar.
    pub spent_date: NaiveDate,
}

/// What became of logged time.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// In Harvest, with this entry id.
    Sent { harvest_id: i64 },
    /// Kept in the outbox; it goes out when Harvest is reachable again.
    Queued { reason: String },
    /// Harvest refused it; it stays in the outbox as failed.
    Failed { message: String },
}

/// What one push of the outbox did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushReport {
    pub sent: usize,
    pub failed: usize,
    /// This person's items still waiting after the push.
    pub pending: usize,
    /// Items another running pusher was sending meanwhile.
    pub busy: usize,
    /// Why pushing stopped early, if it did.
    pub stopped: Option<String>,
}

/// The external reference of an outbox item: its ticket, and its own id in
/// the permalink so a lost answer can be found again.
pub fn reference(ticket: i64, outbox_id: &str) -> ReferenceInput {
    ReferenceInput {
        id: ticket.to_string(),
        group_id: REFERENCE_GROUP.to_owned(),
        permalink: format!("tickettime://ticket/{ticket}?entry={outbox_id}"),
    }
}

/// Logs hours on a ticket as the session's person (with the reply or note
/// they came with, if any). Without a connection the time is queued.
pub async fn log_time(
    session: &Session,
    request: &LogRequest,
    thread: Option<ThreadInput<'_>>,
    now: DateTime<Utc>,
) -> Result<(String, Delivery)> {
    let time = Queued {
        ticket: request.ticket,
        hours: request.hours.hours(),
        task: request.task,
        notes: request.notes.clone(),
        spent_date: request.spent_date,
        key: None,
    };
    queue(session, time, thread, now).await
}

/// Time to queue: typed hours ([`LogRequest`]) or exact ones (a split of
/// idle time, [`crate::timer::resolve_away`]), with the key that makes an
/// action queue it once.
pub(crate) struct Queued {
    pub ticket: TicketNumber,
    pub hours: crate::domain::Hours,
    pub task: Option<i64>,
    pub notes: Option<String>,
    pub spent_date: NaiveDate,
    pub key: Option<String>,
}

/// Queues time (with its reply or note) and pushes this person's outbox.
/// The person waits for the answer, and the time is kept whatever Harvest
/// says: Harvest gets one quick second try, then the next push takes over.
pub(crate) async fn queue(
    session: &Session,
    queued: Queued,
    thread: Option<ThreadInput<'_>>,
    now: DateTime<Utc>,
) -> Result<(String, Delivery)> {
    let session = &session.while_someone_waits();
    let store = &session.store;
    let ticket = store.ticket(queued.ticket).await?;
    if ticket.locked {
        return Err(TicketError::Locked("time").into());
    }
    let project = ticket.harvest_project_id.ok_or(Error::NoProject(queued.ticket))?;
    let task = resolve_task(session, project, queued.task).await?;
    let time = PendingTime {
        project_id: project,
        task_id: task,
        spent_date: queued.spent_date,
        hours: queued.hours,
        notes: queued.notes.filter(|n| !n.trim().is_empty()),
        key: queued.key,
    };
    let id = store.enqueue_time(&session.actor, queued.ticket, &time, thread, now).await?;
    if session.harvest.is_none() {
        return Ok((id, Delivery::Queued { reason: "not connected to Harvest".into() }));
    }
    let report = push(session).await?;
    let item = store.outbox_item(&id).await?;
    let delivery = match item {
        Some(OutboxItem { state: OutboxState::Sent, harvest_id: Some(harvest_id), .. }) => {
            Delivery::Sent { harvest_id }
        }
        Some(OutboxItem { state: OutboxState::Failed, last_error, .. }) => {
            Delivery::Failed { message: last_error.unwrap_or_default() }
        }
        _ => Delivery::Queued { reason: report.stopped.unwrap_or_else(|| "Harvest did not answer".into()) },
    };
    Ok((id, delivery))
}

/// The task to log to: the one asked for (checked against the project's
/// active tasks), else the project's first active task. Asks Harvest and
/// refreshes the cache; when Harvest is unreachable, the cache answers.
pub async fn resolve_task(session: &Session, project: i64, task: Option<i64>) -> Result<i64> {
    let client = session.client_opt();
    let mut fetched = None;
    if let Some(client) = client {
        match client.my_project_assignments().await {
            Ok(assignments) => {
                session.cache_tasks(&assignments);
                let tasks: Vec<(i64, String)> = assignments
                    .iter()
                    .filter(|a| a.is_active && a.project.id == project)
                    .flat_map(|a| a.active_tasks().map(|t| (t.id, t.name.clone())))
                    .collect();
                fetched = Some(tasks);
            }
            Err(e) if e.is_transient() => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Harvest's answer when it gave one (a machine without a cache
    // directory keeps none); the cache when Harvest is unreachable.
    let reached = fetched.is_some();
    let tasks = fetched.unwrap_or_else(|| session.cached_tasks(project));
    match task {
        Some(task) if tasks.is_empty() || tasks.iter().any(|(id, _)| *id == task) => Ok(task),
        Some(task) => Err(Error::Invalid(format!(
            "task {task} is not an active task of project {project}; its tasks are: {}",
            tasks.iter().map(|(id, name)| format!("{id} ({name})")).collect::<Vec<_>>().join(", ")
        ))),
        None => tasks.first().map(|(id, _)| *id).ok_or_else(|| {
            Error::Invalid(if reached {
                format!("you have no active task on Harvest project {project}; ask a PM to assign you, or pass --task ID")
            } else {
                format!("Harvest is unreachable and no task is known for project {project}; pass --task ID")
            })
        }),
    }
}

/// How a push claims and waits.
#[derive(Clone, Copy, Debug)]
pub struct PushOptions {
    pub rules: ClaimRules,
    /// Wait for an item a crashed pusher left to settle, then resolve it
    /// (the CLI's `outbox push`); otherwise leave it for the next push.
    pub wait_for_settling: bool,
    /// The clock claims, leases and results are stamped with (tests set it).
    pub clock: fn() -> DateTime<Utc>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions { rules: ClaimRules::default(), wait_for_settling: false, clock: Utc::now }
    }
}

/// Sends the session's person's waiting outbox items, oldest first — never
/// anyone else's (their time goes out with their own token). Each item is
/// claimed before its request; an item an earlier try may have created is
/// looked up in Harvest by its permalink first. Stops at the first failure
/// Harvest may recover from, so items keep their order.
pub async fn push(session: &Session) -> Result<PushReport> {
    push_with(session, &PushOptions::default()).await
}

/// [`push`] with explicit claim rules.
pub async fn push_with(session: &Session, options: &PushOptions) -> Result<PushReport> {
    let store = &session.store;
    let client = session.client()?;
    let me = session.actor.staff_id();
    let mut report = PushReport::default();
    if store.outbox_waiting(me).await? == 0 {
        return Ok(report);
    }
    let pusher = store.start_pusher().await?;
    let user_id = session.actor.harvest().map(|h| h.user_id);
    loop {
        let outcome = store.claim_outbox(&pusher, me, &options.rules, (options.clock)()).await?;
        let Some(claimed) = outcome.claimed else {
            match outcome.settling_until {
                Some(until) if options.wait_for_settling => {
                    let wait = (until - (options.clock)()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait + std::time::Duration::from_millis(50)).await;
                    continue;
                }
                _ => {}
            }
            report.busy = outcome.held_elsewhere;
            break;
        };
        let id = &claimed.item.id;
        let outcome = match look_up(client, &claimed, user_id).await {
            Ok(Some(entry)) => Ok(entry),
            Ok(None) => send(client, &claimed.item).await,
            Err(error) => {
                // Not knowing whether Harvest has it, the item waits: a
                // refused look-up must not mark sent time failed.
                store
                    .end_claim(
                        &pusher,
                        id,
                        Unsent::Again,
                        &format!("looking the entry up: {error}"),
                        (options.clock)(),
                    )
                    .await?;
                report.stopped = Some(error.to_string());
                break;
            }
        };
        match outcome {
            Ok(entry) => {
                store.complete_outbox(id, &entry, &session.actor, (options.clock)()).await?;
                report.sent += 1;
            }
            // Harvest read the entry and said no: shown, never retried on its own.
            Err(
                error @ (HarvestError::Validation(_)
                | HarvestError::Forbidden(_)
                | HarvestError::NotFound(_)
                | HarvestError::Rejected { .. }),
            ) => {
                store.end_claim(&pusher, id, Unsent::Refused, &error.to_string(), (options.clock)()).await?;
                report.failed += 1;
            }
            // Anything else (an outage, no or an unreadable answer, a token
            // to renew) may have created it: it waits, and is looked up first.
            Err(error) => {
                store.end_claim(&pusher, id, Unsent::Again, &error.to_string(), (options.clock)()).await?;
                report.stopped = Some(error.to_string());
                break;
            }
        }
    }
    report.pending = store.outbox_waiting(me).await?;
    Ok(report)
}

/// When an earlier try may have created the entry, Harvest's copy (found
/// by the item's permalink), if any.
async fn look_up(
    client: &HarvestClient,
    claimed: &Claimed,
    user_id: Option<i64>,
) -> harvest::Result<Option<harvest::TimeEntry>> {
    if !claimed.look_up_first {
        return Ok(None);
    }
    // IMPORTANT: an earlier try may have created the entry before its
    // answer was lost (or its process died); re-sending blindly would log
    // the time twice.
    let reference = reference(claimed.item.ticket, &claimed.item.id);
    let found = client.entries_by_reference(&reference.id, user_id).await?;
    Ok(found.into_iter().find(|e| {
        e.external_reference.as_ref().and_then(|r| r.permalink.as_deref())
            == Some(reference.permalink.as_str())
    }))
}

async fn send(client: &HarvestClient, item: &OutboxItem) -> harvest::Result<harvest::TimeEntry> {
    let entry = NewTimeEntry {
        project_id: item.project_id,
        task_id: item.task_id,
        spent_date: item.spent_date,
        hours: Some(item.hours.as_f64()),
        notes: item.notes.clone(),
        external_reference: Some(reference(item.ticket, &item.id)),
    };
    client.create_time_entry(&entry).await
}

/// Time given with a reply or note: hours typed in, or the entry of a timer
/// the user ran (and stopped) for it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimeInput {
    pub hours: Option<String>,
    pub task_id: Option<i64>,
    pub notes: Option<String>,
    pub timer_entry_id: Option<i64>,
}

/// Adds a reply or note, with its time when given: typed hours go through
/// the outbox with the thread entry; a timer's entry gets the notes and task.
/// Returns what became of the time (`None` without time).
pub async fn submit(
    session: &Session,
    ticket: TicketNumber,
    kind: ThreadKind,
    body: &str,
    time: Option<TimeInput>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<Delivery>> {
    let store = &session.store;
    let Some(time) = time else {
        store.add_thread_entry(&session.actor, ticket, kind, body, now).await?;
        return Ok(None);
    };
    if let Some(entry_id) = time.timer_entry_id {
        let client = session.client()?;
        store.add_thread_entry(&session.actor, ticket, kind, body, now).await?;
        let update = harvest::TimeEntryUpdate {
            notes: time.notes.filter(|n| !n.trim().is_empty()),
            task_id: time.task_id,
            ..harvest::TimeEntryUpdate::default()
        };
        return Ok(Some(match client.update_time_entry(entry_id, &update).await {
            Ok(entry) => {
                if session.actor.writes_entries() {
                    store
                        .import_entries_by(std::slice::from_ref(&entry), session.actor.staff_id(), now)
                        .await?;
                }
                Delivery::Sent { harvest_id: entry.id }
            }
            Err(e) => Delivery::Failed {
                message: format!("the reply was saved, but the timer's entry was not updated: {e}"),
            },
        }));
    }
    let hours = time.hours.as_deref().ok_or_else(|| Error::Invalid("give hours, or run the timer".into()))?;
    let request = LogRequest {
        ticket,
        hours: LoggedHours::parse(hours)?,
        task: time.task_id,
        notes: time.notes,
        spent_date: today,
    };
    let thread = ThreadInput { kind, body };
    let (_, delivery) = log_time(session, &request, Some(thread), now).await?;
    Ok(Some(delivery))
}

/// Creates the ticket's project in Harvest — named after the ticket, with
/// its budget as the hour budget and the account's default tasks — and
/// links it. PMs and admins only.
pub async fn create_project(
    session: &Session,
    ticket: TicketNumber,
    client_id: i64,
    now: DateTime<Utc>,
) -> Result<crate::store::TicketView> {
    session.actor.require_manager("create Harvest projects")?;
    let store = &session.store;
    let client = session.client()?;
    let view = store.ticket(ticket).await?;
    let name: String = format!("#{} {}", view.number, view.subject).chars().take(120).collect();
    let project = client
        .create_project(&harvest::NewProject {
            client_id,
            name,
            is_billable: true,
            bill_by: "Project".into(),
            budget_by: "project".into(),
            budget: view.budget_hours.map(crate::domain::Hours::as_f64),
            notes: Some(format!("Created by Tickettime for ticket #{}", view.number)),
        })
        .await?;
    let tasks = client.tasks().await?;
    let defaults: Vec<_> = tasks.iter().filter(|t| t.is_active && t.is_default).collect();
    let chosen = if defaults.is_empty() { tasks.iter().filter(|t| t.is_active).collect() } else { defaults };
    for task in chosen {
        client.create_task_assignment(project.id, task.id).await?;
    }
    store.link_project(&session.actor, ticket, project.id, now).await
}
