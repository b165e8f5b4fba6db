//! The background import and delivery: the core's sync loop
//! (`tickettime::schedule`) with this desktop's work — an import that tells
//! the window, the tray and the notifications; a delivery of queued time; a
//! minute tick for the tray's elapsed time. When each runs, the backoff while
//! Harvest fails and the commands ("Sync now", "deliver") are the core's.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, Runtime};
use tickettime::schedule::{self, Command, Outcome, Plan};
use tickettime::sync::SyncOptions;
use tickettime::Store;
use tokio::sync::{mpsc, oneshot};

use crate::link::HarvestLink;
use crate::live::Live;

/// The handle the app keeps in its state.
pub struct Importer {
    commands: mpsc::Sender<Command>,
    _task: tauri::async_runtime::JoinHandle<Outcome>,
}

impl Importer {
    pub fn spawn<R: Runtime>(app: AppHandle<R>) -> Self {
        let (commands, inbox) = mpsc::channel(16);
        let task = tauri::async_runtime::spawn(schedule::run(Desktop { app: app.clone() }, inbox, plan()));
        tauri::async_runtime::spawn(follow_team(app));
        Importer { commands, _task: task }
    }

    /// Runs an import now and waits for it.
    pub async fn sync_now(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::SyncNow(done)).await.is_ok() {
            let _ = finished.await;
        }
    }

    /// Imports for another desktop that asked, and waits for it.
    pub async fn lead(&self) {
        self.sync_now().await;
    }

    /// Asks Harvest for the running timer (start-up, window focus).
    pub fn refresh_timer(&self) {
        let _ = self.commands.try_send(Command::Refresh);
    }

    /// Sends this person's queued time now (in the background).
    pub fn deliver(&self) {
        let _ = self.commands.try_send(Command::Deliver);
    }

    /// The interval changed: plan the next import again.
    pub fn reschedule(&self) {
        let _ = self.commands.try_send(Command::Reschedule);
    }
}

/// `TICKETTIME_SYNC_INTERVAL_SECS` (for tests) shortens the import interval
/// and the first retry of a failed delivery (at most 30 s).
fn test_interval() -> Option<Duration> {
    std::env::var("TICKETTIME_SYNC_INTERVAL_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(|seconds| Duration::from_secs(seconds.max(1)))
}

fn plan() -> Plan {
    let retry = test_interval().map_or(Duration::from_secs(30), |d| d.min(Duration::from_secs(30)));
    Plan { delivery_retry: retry, ..Plan::default() }
}

/// This desktop's part of the loop.
struct Desktop<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> schedule::Work for Desktop<R> {
    async fn import(&mut self, asked: bool) -> Outcome {
        if cycle(&self.app, asked).await {
            Outcome::Done
        } else {
            Outcome::Failed
        }
    }

    async fn deliver(&mut self) -> Outcome {
        if deliver(&self.app).await {
            Outcome::Done
        } else {
            Outcome::Failed
        }
    }

    /// The configured interval, or `TICKETTIME_SYNC_INTERVAL_SECS` for tests.
    async fn interval(&mut self) -> Duration {
        if let Some(interval) = test_interval() {
            return interval;
        }
        let store = self.app.state::<Store>();
        let minutes = tickettime::app::Settings::load(&store).await.map_or(5, |s| s.sync_interval_minutes);
        Duration::from_secs(u64::from(minutes) * 60)
    }

    /// The minute tick only moves the running timer's elapsed time.
    async fn tick(&mut self) {
        if self.app.state::<Live>().timer().running {
            crate::tray::refresh(&self.app).await;
        }
    }

    async fn refresh(&mut self) {
        refresh_timer(&self.app).await;
        publish(&self.app).await;
    }
}

/// Sends this person's queued time, if any; false when Harvest failed.
async fn deliver<R: Runtime>(app: &AppHandle<R>) -> bool {
    let Ok(session) = app.state::<HarvestLink>().session().await else { return true };
    if session.harvest.is_none() {
        return true;
    }
    let waiting = session.store.outbox_waiting(session.actor.staff_id()).await.unwrap_or_default();
    if waiting == 0 {
        return true;
    }
    let outcome = tickettime::logging::push(&session).await;
    let ok = match &outcome {
        Ok(report) => {
            if report.sent > 0 || report.failed > 0 {
                log::info!("outbox: {} sent, {} refused by Harvest", report.sent, report.failed);
                if let Ok(tickets) = session.store.tickets().await {
                    let numbers: Vec<i64> = tickets.iter().map(|t| t.number).collect();
                    let _ = app.emit("tickets-changed", numbers);
                }
            }
            report.stopped.is_none()
        }
        Err(error) => {
            log::warn!("outbox not pushed: {error}");
            false
        }
    };
    publish(app).await;
    ok
}

/// One import: the entries, the running timer, the notifications; then the
/// window and the tray are told. Returns false when Harvest failed. A team
/// desktop that may not import shows the leader's last result, and when
/// `asked` (Sync now) asks the leader for a new one.
async fn cycle<R: Runtime>(app: &AppHandle<R>, asked: bool) -> bool {
    let Ok(session) = app.state::<HarvestLink>().session().await else {
        publish(app).await;
        return true;
    };
    for desk in tickettime::desk::sync_all(&session.store, &session.actor).await {
        if let Some(error) = desk.error {
            log::warn!("desk {} not synced: {error}", desk.desk);
        }
    }
    if session.harvest.is_none() {
        notify(app, &session).await;
        publish(app).await;
        return true;
    }
    let store = session.store.clone();
    let live = app.state::<Live>();
    live.set_sync(|s| s.running = true);
    publish(app).await;
    let outcome = match tickettime::sync::run(&session, &SyncOptions::default(), &|_| {}).await {
        // An agent's team desktop never imports: its Sync now asks the
        // leader; either way it shows the leader's result.
        Err(tickettime::Error::ImportNotPermitted(_)) if asked => {
            match tickettime::watch::ask_leader(&store, tickettime::watch::Patience::default()).await {
                Ok(_) => Err(tickettime::Error::SyncBusy),
                Err(error) => Err(error),
            }
        }
        Err(tickettime::Error::ImportNotPermitted(_)) => Err(tickettime::Error::SyncBusy),
        outcome => outcome,
    };
    let ok = match &outcome {
        Ok(_) | Err(tickettime::Error::SyncBusy | tickettime::Error::NoLeader) => true,
        Err(error) => {
            log::warn!("import failed: {error}");
            false
        }
    };
    // Skipped because another desktop leads the import: show the leader's
    // result, which the database shares with every desktop.
    let shared = store.sync_state().await.ok();
    live.set_sync(|s| {
        s.running = false;
        match (&outcome, shared) {
            (Err(tickettime::Error::SyncBusy), Some(state)) => {
                s.last_run_at = state.last_run_at;
                s.last_error = state.last_error;
            }
            _ => {
                s.last_run_at = Some(chrono::Utc::now());
                s.last_error = outcome.as_ref().err().map(ToString::to_string);
            }
        }
    });
    refresh_timer(app).await;
    notify(app, &session).await;
    if let Ok(tickets) = store.tickets().await {
        let numbers: Vec<i64> = tickets.iter().map(|t| t.number).collect();
        let _ = app.emit("tickets-changed", numbers);
    }
    publish(app).await;
    ok
}

async fn refresh_timer<R: Runtime>(app: &AppHandle<R>) {
    let Ok(session) = app.state::<HarvestLink>().session().await else { return };
    if session.harvest.is_none() {
        return;
    }
    match tickettime::timer::status(&session, chrono::Utc::now()).await {
        Ok(timer) => app.state::<Live>().set_timer(timer),
        Err(error) => log::warn!("cannot read the running timer: {error}"),
    }
}

async fn notify<R: Runtime>(app: &AppHandle<R>, session: &tickettime::Session) {
    let store = &session.store;
    let Some(staff) = session.actor.staff().cloned() else { return };
    match tickettime::notify::take_notices(store, &staff).await {
        Ok(notices) => tickettime::notify::desktop::show(notices).await,
        Err(error) => log::warn!("cannot read budget events: {error}"),
    }
    match store.take_request_news(&staff).await {
        Ok(news) if !news.is_empty() => {
            let handle = app.clone();
            let redraw = move || {
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move { publish(&handle).await });
            };
            tickettime::notify::desktop::show_requests(store, session.actor.clone(), news, redraw).await
        }
        Ok(_) => {}
        Err(error) => log::warn!("cannot read unlock requests: {error}"),
    }
    let _ = app.emit("notices-shown", ());
}

/// Tells the window the new state and redraws the tray.
pub async fn publish<R: Runtime>(app: &AppHandle<R>) {
    match crate::commands::build_app_state(app).await {
        Ok(state) => {
            let _ = app.emit("app-state", state);
        }
        Err(error) => log::warn!("cannot build the app state: {error:?}"),
    }
    crate::tray::refresh(app).await;
    crate::signal_tray();
}

/// Team mode (a PostgreSQL store): hears what other desktops and the sync
/// leader changed within seconds, shows this PM's notices and refreshes the
/// window; after a dropped connection, catches up. Does nothing on SQLite.
async fn follow_team<R: Runtime>(app: AppHandle<R>) {
    let store = app.state::<Store>().inner().clone();
    let mut heard = tickettime::watch::subscribe(&store);
    while let Some(h) = heard.recv().await {
        if let tickettime::watch::Heard::SyncAsked(id) = h {
            answer(&app, &store, id);
            continue;
        }
        if let Ok(session) = app.state::<HarvestLink>().session().await {
            notify(&app, &session).await;
        }
        let changed = match h {
            tickettime::watch::Heard::Tickets(numbers) => numbers,
            tickettime::watch::Heard::Missed => {
                store.tickets().await.map(|t| t.iter().map(|t| t.number).collect()).unwrap_or_default()
            }
            tickettime::watch::Heard::SyncAsked(_) => continue,
        };
        let _ = app.emit("tickets-changed", changed);
        publish(&app).await;
    }
}

/// Another desktop asked for an import: when this one may lead it, it says
/// so at once, imports through its own loop, then says it is done.
fn answer<R: Runtime>(app: &AppHandle<R>, store: &Store, id: String) {
    let (app, store) = (app.clone(), store.clone());
    tauri::async_runtime::spawn(async move {
        let Ok(session) = app.state::<HarvestLink>().session().await else { return };
        if !tickettime::sync::may_answer(&session).await {
            return;
        }
        if let Err(error) = tickettime::watch::acknowledge(&store, &id).await {
            log::warn!("cannot answer an ask for an import: {error}");
            return;
        }
        app.state::<Importer>().lead().await;
        if let Err(error) = tickettime::watch::answered(&store, &id).await {
            log::warn!("cannot say an asked import finished: {error}");
        }
    });
}
