//! The import: every Harvest entry of linked projects, pulled back into the
//! store — incremental, idempotent and crash-safe.
//!
//! One paginated stream for the whole account (`updated_since` = watermark
//! − overlap), kept when an entry's project is linked to a ticket, its
//! external reference names one, or it is already stored (so an entry moved
//! off a linked project leaves its ticket). Pages are upserted by Harvest id
//! as they arrive; Harvest sorts by spent date, not update time, so the
//! watermark only moves after the whole stream was read — in the same
//! transaction as the last page — to the newest `updated_at` seen, never
//! past the server's clock. A crash re-reads; upserts make that harmless.
//!
//! `updated_since` never reports deletions: a reconcile pass re-lists each
//! linked project and soft-deletes what Harvest no longer has, only when the
//! listing was complete. One import runs at a time per database (a lock file
//! beside it, released by the OS if the process dies).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use harvest::{HarvestClient, HarvestError, TimeEntry, TimeEntryQuery};

use crate::domain::Hours;
use crate::session::Session;
use crate::store::{RunRecord, Store};
use crate::{Error, Result};

/// How a run behaves.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Re-read the whole account and reconcile every linked project.
    pub full: bool,
    /// Backfill entries spent on or after this date (the watermark stays).
    pub since: Option<NaiveDate>,
    /// How long a second import waits for the first before skipping.
    pub wait: Duration,
    /// Re-read this much before the watermark (clock skew, same-second updates).
    pub overlap: chrono::Duration,
    /// Reconcile deletions every this many runs (and at least daily).
    pub reconcile_every: i64,
    /// The clock the run stamps rows with and judges "daily" by (tests set it).
    pub clock: fn() -> DateTime<Utc>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            since: None,
            wait: Duration::from_secs(10),
            overlap: chrono::Duration::minutes(10),
            reconcile_every: 12,
            clock: Utc::now,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub new: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unattributed: u64,
    /// Entries of this run kept aside (see [`crate::store::Store::quarantine`]).
    pub quarantined: u64,
    pub api_calls: u64,
    pub pages: u64,
    pub entries_seen: u64,
    pub reconciled: bool,
    pub watermark: Option<DateTime<Utc>>,
}

/// Progress of a long import, for a terminal.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub pages: u64,
    pub total_pages: Option<u64>,
    pub entries: u64,
}

/// Runs one import as `session`'s person. A second import on the same
/// database waits up to `options.wait`, then reports [`Error::SyncBusy`].
/// On a team database only a PM or admin whose token sees every entry it
/// judges leads ([`judgement`]); elsewhere a token that sees only some
/// entries judges only its own person's entries missing.
pub async fn run(
    session: &Session,
    options: &SyncOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SyncReport> {
    session.actor.may_lead_import()?;
    let store = &session.store;
    let client = session.client()?;
    let only_mine = judgement(session, client).await?;
    let lock = store.lock_import(client.account_id(), options.wait).await?;
    let started = Instant::now();
    let calls_before = client.calls();
    let mut report = SyncReport::default();
    let outcome = import(store, client, only_mine, options, progress, &mut report).await;
    report.api_calls = client.calls() - calls_before;
    let record = RunRecord {
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        new: report.new,
        updated: report.updated,
        deleted: report.deleted,
        unattributed: report.unattributed,
        api_calls: report.api_calls,
        error: outcome.as_ref().err().map(ToString::to_string),
        reconciled: report.reconciled,
    };
    store.record_run(&record, (options.clock)()).await?;
    lock.release().await;
    outcome.map(|()| report)
}

async fn import(
    store: &Store,
    client: &HarvestClient,
    only_mine: Option<i64>,
    options: &SyncOptions,
    progress: &(dyn Fn(Progress) + Sync),
    report: &mut SyncReport,
) -> Result<()> {
    let state = store.sync_state().await?;
    let links = store.links().await?;
    let query = match (options.since, state.watermark) {
        (Some(from), _) => TimeEntryQuery { from: Some(from), ..TimeEntryQuery::default() },
        (None, Some(mark)) if !options.full => {
            TimeEntryQuery { updated_since: Some(mark - options.overlap), ..TimeEntryQuery::default() }
        }
        _ => TimeEntryQuery::default(),
    };
    // A `from` backfill does not cover every update: it never moves the watermark.
    let moves_watermark = options.since.is_none();
    let whole_account = query.updated_since.is_none() && query.from.is_none();
    let mut pager = client.time_entries(&query)?;
    let mut seen = HashSet::new();
    let mut newest: Option<DateTime<Utc>> = None;
    let mut first: Option<(Option<u64>, Option<DateTime<Utc>>)> = None;
    while let Some(page) = pager.next_page().await? {
        let (total, server_date) = *first.get_or_insert((page.total_entries, page.server_date));
        report.pages += 1;
        report.entries_seen += page.items.len() as u64;
        progress(Progress {
            pages: report.pages,
            total_pages: page.total_pages,
            entries: report.entries_seen,
        });
        // An unreadable entry was seen too: it is quarantined, not missing.
        seen.extend(page.items.iter().map(|e| e.id).chain(page.rejected.iter().filter_map(|r| r.id)));
        newest = page.items.iter().map(|e| e.updated_at).chain(newest).max();
        let known = store.known_ids(&page.items.iter().map(|e| e.id).collect::<Vec<_>>()).await?;
        let kept: Vec<TimeEntry> = page
            .items
            .into_iter()
            .filter(|e| {
                let reference = e.external_reference.as_ref().map(|r| (r.id.as_str(), r.group_id.as_deref()));
                links.is_linked(e.project.id)
                    || links.attribute(reference, e.project.id).is_some()
                    || known.contains(&e.id)
            })
            .collect();
        let watermark = if pager.is_done() && moves_watermark {
            // With offset paging a delete during the run can hide a row: move
            // only when every entry Harvest counted was received.
            let complete = total.is_none_or(|t| seen.len() as u64 >= t);
            newest.filter(|_| complete).map(|n| server_date.map_or(n, |d| n.min(d)))
        } else {
            None
        };
        let imported = store.import_page(kept, &page.rejected, watermark, (options.clock)()).await?;
        report.quarantined += imported.quarantined;
        report.new += imported.new;
        report.updated += imported.updated;
        report.unattributed += imported.unattributed;
        if watermark.is_some() {
            report.watermark = watermark;
        }
    }
    let complete = first.is_none_or(|(total, _)| total.is_none_or(|t| seen.len() as u64 >= t));
    let due = options.full
        || state.runs_since_reconcile + 1 >= options.reconcile_every
        || state.last_reconcile_at.is_none_or(|at| (options.clock)() - at > chrono::Duration::days(1));
    if whole_account && complete {
        // The stream just listed every entry this token can see: deletions
        // show as stored entries it did not contain, at no extra request.
        for project in store.reconcile_projects().await? {
            report.deleted +=
                store.soft_delete_missing(project, only_mine, None, &seen, (options.clock)()).await?;
        }
        report.reconciled = true;
    } else if due {
        for project in store.reconcile_projects().await? {
            report.deleted += reconcile_project(store, client, only_mine, project, options.clock).await?;
        }
        report.reconciled = true;
    }
    offer_budgets(store, client, options.clock).await?;
    if report.watermark.is_none() {
        report.watermark = store.sync_state().await?.watermark;
    }
    Ok(())
}

/// Whose entries an import with this session's token may judge missing:
/// `None` (everyone's) for an administrator's token, or a manager's that
/// manages every project the import reconciles (Harvest shows a manager
/// every entry of the projects they manage); else the token's own person's.
/// On a team database only a token of the first two kinds may lead.
pub async fn judgement(session: &Session, client: &HarvestClient) -> Result<Option<i64>> {
    let Some(harvest) = session.actor.harvest() else {
        return Err(Error::NotConnected);
    };
    if harvest.sees_whole_account {
        return Ok(None);
    }
    if harvest.role == crate::domain::Role::Pm {
        let managed: HashSet<i64> = client
            .my_project_assignments()
            .await?
            .iter()
            .filter(|a| a.is_active && a.is_project_manager)
            .map(|a| a.project.id)
            .collect();
        if session.store.reconcile_projects().await?.iter().all(|p| managed.contains(p)) {
            return Ok(None);
        }
    }
    if session.actor.is_team() {
        return Err(Error::ImportNotPermitted(session.actor.describe()));
    }
    Ok(Some(harvest.user_id))
}

/// Whether this session may answer another desktop's ask for an import
/// ([`crate::watch::Heard::SyncAsked`]): it may lead, and its token sees
/// what the import judges. A leader answers with
/// [`crate::watch::acknowledge`], imports, then [`crate::watch::answered`].
pub async fn may_answer(session: &Session) -> bool {
    match session.client_opt() {
        Some(client) => session.actor.may_lead_import().is_ok() && judgement(session, client).await.is_ok(),
        None => false,
    }
}

/// Re-lists one project's entries (of `only_mine`'s Harvest user alone when
/// the token does not see the whole account), upserts them, and soft-deletes
/// stored entries Harvest no longer has — only if the listing was complete.
async fn reconcile_project(
    store: &Store,
    client: &HarvestClient,
    only_mine: Option<i64>,
    project: i64,
    clock: fn() -> DateTime<Utc>,
) -> Result<u64> {
    // Everything the token sees comes in; only `only_mine`'s rows may be judged missing.
    let query = TimeEntryQuery { project_id: Some(project), ..TimeEntryQuery::default() };
    let mut pager = client.time_entries(&query)?;
    let mut present = HashSet::new();
    let mut total = None;
    while let Some(page) = pager.next_page().await? {
        total = total.or(page.total_entries);
        present.extend(page.items.iter().map(|e| e.id).chain(page.rejected.iter().filter_map(|r| r.id)));
        store.import_page(page.items, &page.rejected, None, clock()).await?;
    }
    if total.is_some_and(|t| present.len() as u64 != t) {
        // Rows shifted between pages: deleting now could delete a live entry.
        return Ok(0);
    }
    store.soft_delete_missing(project, only_mine, None, &present, clock()).await
}

/// Relinking done for the user: the new project's entries arrive, and what
/// Harvest no longer has leaves (only the person's own, unless their token
/// sees the whole account).
pub async fn backfill_project(session: &Session, project: i64) -> Result<u64> {
    if !session.actor.writes_entries() {
        return Ok(0);
    }
    reconcile_project(&session.store, session.client()?, session.actor.judges_only(), project, Utc::now).await
}

/// Links a ticket to a Harvest project. With a client, the id is checked in
/// Harvest first (a clear error for an unknown one; members, who may not
/// read projects, are checked against their assignments) and the project's
/// entries are pulled in; without one the link is made locally.
pub async fn link_ticket(
    session: &Session,
    number: crate::domain::TicketNumber,
    project: i64,
    now: DateTime<Utc>,
) -> Result<crate::store::TicketView> {
    let store = &session.store;
    session.actor.require_manager("link a Harvest project")?;
    let client = session.client_opt();
    if let Some(client) = client {
        match client.project(project).await {
            Ok(_) => {}
            Err(HarvestError::NotFound(_)) => {
                return Err(Error::Invalid(format!(
                    "Harvest has no project {project} (or you cannot see it)"
                )))
            }
            Err(HarvestError::Forbidden(_)) => {
                let mine = client.my_project_assignments().await?;
                if !mine.iter().any(|a| a.project.id == project) {
                    return Err(Error::Invalid(format!(
                        "project {project} is not one of your Harvest projects"
                    )));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    store.link_project(&session.actor, number, project, now).await?;
    if client.is_some() {
        backfill_project(session, project).await?;
    }
    store.ticket(number).await
}

/// Offers each linked project's Harvest hour budget to tickets without one.
async fn offer_budgets(store: &Store, client: &HarvestClient, clock: fn() -> DateTime<Utc>) -> Result<()> {
    for (ticket, project) in store.tickets_awaiting_budget().await? {
        let budget = match client.project(project).await {
            Ok(p) => p.hour_budget().map(Hours::from_harvest).transpose().ok().flatten(),
            // Members may not read projects; the PM sets the budget by hand.
            Err(HarvestError::Forbidden(_) | HarvestError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        store.offer_budget(ticket, project, budget, clock()).await?;
    }
    Ok(())
}
