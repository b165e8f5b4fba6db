//! The application API: what a person can ask of Tickettime, each call
//! taking the session of the person acting. The desktop's IPC commands and
//! the CLI call these and decide nothing themselves; rules stay in `domain`,
//! SQL in `store`, HTTP in the `harvest` crate.

pub mod autostart;
pub mod desks;
pub mod settings;
pub mod tray;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::timeline::Item;
use crate::domain::{Role, TicketNumber};
use crate::store::TicketView;
use crate::{Actor, Result, Session, Store};

pub use settings::{Settings, SettingsInput, Theme};

/// Who is acting, as the window shows it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Me {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub account_id: Option<i64>,
}

impl Me {
    pub fn of(actor: &Actor) -> Me {
        Me {
            name: actor.staff().map_or_else(|| actor.author(), |s| s.name.clone()),
            email: actor.staff().map(|s| s.email.clone()).unwrap_or_default(),
            role: actor.role(),
            account_id: actor.harvest().map(|h| h.account_id),
        }
    }
}

/// A Harvest task time can be logged to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Task {
    pub id: i64,
    pub name: String,
}

/// A ticket as its page shows it: the ticket, whether this person manages
/// its budget, where it opens in Harvest, and the tasks they can log to.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TicketDetail {
    pub ticket: TicketView,
    pub can_manage: bool,
    pub project_url: Option<String>,
    pub tasks: Vec<Task>,
    /// Someone else's Harvest timers running on it ("Ana's timer runs
    /// since 10:14"): starting one here asks first.
    pub others_running: Vec<crate::store::RunningTimer>,
}

/// The ticket's page for `session`'s person. The tasks come from this
/// person's cache, filled from Harvest on first need (a failure there leaves
/// the list empty: the ticket still shows).
pub async fn ticket_detail(
    session: Option<&Session>,
    store: &Store,
    number: TicketNumber,
) -> Result<TicketDetail> {
    let ticket = store.ticket(number).await?;
    let can_manage = session.is_some_and(|s| s.actor.role().manages_budgets());
    let mut tasks = Vec::new();
    if let (Some(project), Some(session)) = (ticket.harvest_project_id, session) {
        if session.cached_tasks(project).is_empty() {
            if let Some(client) = session.client_opt() {
                if let Ok(assignments) = client.my_project_assignments().await {
                    session.cache_tasks(&assignments);
                }
            }
        }
        tasks = session.cached_tasks(project).into_iter().map(|(id, name)| Task { id, name }).collect();
    }
    let project_url = match (store.setting("harvest_base_uri").await?, ticket.harvest_project_id) {
        (Some(base), Some(id)) => Some(format!("{}/projects/{id}", base.trim_end_matches('/'))),
        _ => None,
    };
    let me = session.and_then(|s| s.actor.harvest()).map(|h| h.user_id);
    let others_running =
        ticket.running_timers.iter().filter(|t| Some(t.harvest_user_id) != me).cloned().collect();
    Ok(TicketDetail { ticket, can_manage, project_url, tasks, others_running })
}

/// A page of a ticket's timeline, chronological.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimelinePage {
    pub items: Vec<Item>,
    /// Items in the whole timeline.
    pub total: usize,
    /// Index of `items[0]` in the whole timeline.
    pub start: usize,
}

/// The most a timeline page holds.
pub const TIMELINE_PAGE_MAX: usize = 500;

/// The newest `limit` items (1 to 500) before index `before` (the newest of
/// all when `None`); days are cut in `zone`.
pub async fn timeline_page(
    store: &Store,
    number: TicketNumber,
    zone: FixedOffset,
    limit: usize,
    before: Option<usize>,
) -> Result<TimelinePage> {
    let mut items = store.timeline(number, zone).await?;
    let total = items.len();
    let end = before.unwrap_or(total).min(total);
    let start = end.saturating_sub(limit.clamp(1, TIMELINE_PAGE_MAX));
    items.truncate(end);
    let items = items.split_off(start);
    Ok(TimelinePage { items, total, start })
}

/// Where a ticket's Harvest project opens on the web. The account's address
/// is asked of Harvest once and kept.
pub async fn project_url(session: Option<&Session>, store: &Store, number: TicketNumber) -> Result<String> {
    let ticket = store.ticket(number).await?;
    let project = ticket.harvest_project_id.ok_or(crate::Error::NoProject(number))?;
    let base = match store.setting("harvest_base_uri").await? {
        Some(base) => base,
        None => {
            let client = session.ok_or(crate::Error::NotConnected)?.client()?;
            let base =
                client.company().await?.base_uri.unwrap_or_else(|| "https://harvestapp.com".to_owned());
            store.set_setting("harvest_base_uri", Some(&base)).await?;
            base
        }
    };
    Ok(format!("{}/projects/{project}", base.trim_end_matches('/')))
}

/// Where a ticket from a help desk opens in that desk (its stored link:
/// the webview never names the address it opens).
pub async fn desk_url(store: &Store, number: TicketNumber) -> Result<String> {
    let ticket = store.ticket(number).await?;
    ticket.source_url.ok_or_else(|| {
        crate::Error::Invalid(format!(
            "ticket {number} has no link to a help desk (a desk's web address is set with `desk add … --web-url`)"
        ))
    })
}

/// A Harvest client a new project can belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HarvestClient {
    pub id: i64,
    pub name: String,
}

/// The account's active clients, for "create a Harvest project".
pub async fn harvest_clients(session: &Session) -> Result<Vec<HarvestClient>> {
    let clients = session.client()?.clients().await?;
    Ok(clients
        .into_iter()
        .filter(|c| c.is_active != Some(false))
        .map(|c| HarvestClient { id: c.id, name: c.name })
        .collect())
}

/// What a person is offered when a timer cannot start on a locked ticket:
/// who cannot unlock asks the ticket's PM; who can opens the ticket to do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockedOffer {
    RequestUnlock,
    OpenTicket,
}

impl LockedOffer {
    pub fn for_actor(actor: &Actor) -> LockedOffer {
        if actor.role().manages_budgets() {
            LockedOffer::OpenTicket
        } else {
            LockedOffer::RequestUnlock
        }
    }

    pub fn question(self, number: TicketNumber) -> String {
        match self {
            LockedOffer::RequestUnlock => {
                format!("#{} is over budget and locked. Ask its PM to unlock it?", number.get())
            }
            LockedOffer::OpenTicket => format!("#{} is over budget and locked. Open it?", number.get()),
        }
    }

    pub fn action(self) -> &'static str {
        match self {
            LockedOffer::RequestUnlock => "Request unlock",
            LockedOffer::OpenTicket => "Open ticket",
        }
    }
}

/// Asks the ticket's PM to unlock it, from a place with no room to type a
/// reason (the tray); an own pending request is kept, not doubled.
pub async fn request_unlock_without_reason(
    session: &Session,
    number: TicketNumber,
    now: DateTime<Utc>,
) -> Result<crate::store::UnlockRequest> {
    const REASON: &str = "Asked from the tray: I need to keep working on it";
    session.store.request_unlock(&session.actor, number, REASON, None, now).await
}

/// How many recently opened tickets are remembered.
pub const RECENT_TICKETS: usize = 8;

/// The recent list after opening `number`: it first, no repeats, at most
/// [`RECENT_TICKETS`].
pub fn remember_recent(mut recent: Vec<i64>, number: i64) -> Vec<i64> {
    recent.retain(|n| *n != number);
    recent.insert(0, number);
    recent.truncate(RECENT_TICKETS);
    recent
}

/// The tickets a timer can start on, in the order the tray offers them:
/// recently opened first, then other open tickets; only those linked to a
/// Harvest project.
pub fn start_candidates<'a>(recent: &[i64], tickets: &'a [TicketView]) -> Vec<&'a TicketView> {
    let mut list: Vec<&TicketView> =
        recent.iter().filter_map(|n| tickets.iter().find(|t| t.number == *n)).collect();
    for ticket in tickets.iter().filter(|t| t.status == "open") {
        if !list.iter().any(|t| t.number == ticket.number) {
            list.push(ticket);
        }
    }
    list.retain(|t| t.harvest_project_id.is_some());
    list
}

/// Saves a CSV the window exported in this OS user's downloads folder
/// (`$XDG_DOWNLOAD_DIR`, else `~/Downloads`), never over an existing file:
/// `name.csv`, then `name (2).csv`, …; returns where it went.
pub fn save_download(name: &str, text: &str) -> Result<std::path::PathBuf> {
    let dirs = directories::UserDirs::new()
        .ok_or_else(|| crate::Error::Invalid("no home directory to save the file in".into()))?;
    let dir = dirs
        .download_dir()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| dirs.home_dir().join("Downloads"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::Error::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    for n in 1..1000 {
        let file = if n == 1 { format!("{name}.csv") } else { format!("{name} ({n}).csv") };
        let path = dir.join(file);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut out) => {
                use std::io::Write;
                out.write_all(text.as_bytes())
                    .map_err(|e| crate::Error::Invalid(format!("cannot write {}: {e}", path.display())))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(crate::Error::Invalid(format!("cannot write {}: {e}", path.display()))),
        }
    }
    Err(crate::Error::Invalid(format!("{} holds too many {name} files", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_list_puts_the_newest_first_without_repeats_and_stays_short() {
        let mut recent = Vec::new();
        for n in [1, 2, 3, 2] {
            recent = remember_recent(recent, n);
        }
        assert_eq!(recent, vec![2, 3, 1]);
        for n in 10..20 {
            recent = remember_recent(recent, n);
        }
        assert_eq!(recent.len(), RECENT_TICKETS);
        assert_eq!(recent[0], 19);
    }

    #[test]
    fn on_a_locked_ticket_an_agent_is_offered_to_ask_and_a_pm_to_open_it() {
        let person =
            |role| crate::store::Staff { id: 1, email: "x@demo.test".into(), name: "X".into(), role };
        let number = TicketNumber::new(7).expect("number");
        let agent = LockedOffer::for_actor(&Actor::assume(person(Role::Agent)));
        assert_eq!(agent, LockedOffer::RequestUnlock);
        assert!(agent.question(number).contains("Ask its PM"));
        assert_eq!(LockedOffer::for_actor(&Actor::assume(person(Role::Pm))), LockedOffer::OpenTicket);
        assert_eq!(LockedOffer::for_actor(&Actor::local_owner(None)), LockedOffer::OpenTicket);
    }
}
