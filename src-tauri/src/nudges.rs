//! Idle time and reminders in the desktop process. The one-process app runs
//! the core's nudges loop (`tickettime::nudge`): an away shows in the window
//! (the app state carries it; the page asks what to do) and as a
//! notification with buttons, like the reminders. Under `tickettime-tray`
//! the tray watches and tells; this window only follows the away the tray
//! keeps in this user's cache, and asks.

use chrono::Offset;
use tauri::{AppHandle, Manager, Runtime};
use tickettime::nudge::{self, Answer, Command, Nudge};
use tickettime::timer::TimerStatus;
use tokio::sync::mpsc;

use crate::background::publish;
use crate::live::Live;

/// The handle the app keeps in its state.
pub struct Nudger {
    /// Keeps the loop running while the app holds this.
    _commands: mpsc::Sender<Command>,
}

impl Nudger {
    /// Starts the loop: with `watch`, this process watches the idle time and
    /// tells (no tray process does); otherwise it follows the tray's away.
    pub fn spawn<R: Runtime>(app: AppHandle<R>, watch: bool) -> Nudger {
        let (commands, inbox) = mpsc::channel(4);
        let cache = tickettime::personal::PersonalCache::default();
        if !watch {
            tauri::async_runtime::spawn(follow_the_tray(app, cache));
            return Nudger { _commands: commands };
        }
        let sender = commands.clone();
        tauri::async_runtime::spawn(async move {
            let source = tickettime::idle::SessionIdle::open().await;
            log::info!("idle time from {:?}", source.kind());
            let listener = Desktop { app, commands: sender };
            nudge::run(nudge::Nudges::new(source), listener, cache, inbox, nudge::look_every()).await;
        });
        Nudger { _commands: commands }
    }
}

/// Under the tray process: a new (or answered) away in the cache shows in
/// the window at the next look.
async fn follow_the_tray<R: Runtime>(app: AppHandle<R>, cache: tickettime::personal::PersonalCache) {
    let mut shown = cache.pending_away();
    let mut tick = tokio::time::interval(nudge::look_every().min(std::time::Duration::from_secs(2)));
    loop {
        tick.tick().await;
        let now = cache.pending_away();
        if now != shown {
            shown = now;
            publish(&app).await;
        }
    }
}

struct Desktop<R: Runtime> {
    app: AppHandle<R>,
    commands: mpsc::Sender<Command>,
}

impl<R: Runtime> nudge::Listener for Desktop<R> {
    async fn timer(&mut self) -> TimerStatus {
        self.app.state::<Live>().timer()
    }

    async fn tell(&mut self, nudge: Nudge) {
        if matches!(nudge, Nudge::Away(_)) {
            // The window shows the waiting away and asks.
            publish(&self.app).await;
        }
        let store = self.app.state::<tickettime::Store>().inner().clone();
        let tickets = store.tickets().await.unwrap_or_default();
        let recent = nudge::start_offers(&tickets, &crate::recent(&self.app));
        let zone = chrono::Local::now().offset().fix();
        let (app, commands) = (self.app.clone(), self.commands.clone());
        // Waiting for a button must not hold up the next look.
        tauri::async_runtime::spawn(async move {
            let Some(answer) = tickettime::notify::desktop::nudge(nudge, zone, recent).await else { return };
            match answer {
                Answer::MoveAway => {
                    let _ = crate::open_main_window(&app);
                }
                Answer::Snooze => {
                    let _ = commands.send(Command::Snooze).await;
                }
                Answer::Start(number) => {
                    crate::on_tray_item(&app, tickettime::app::tray::TrayItem::Start(number))
                }
                answer => {
                    let outcome = match crate::commands::session(&app).await {
                        Ok(session) => tickettime::nudge::act(&session, answer, chrono::Utc::now())
                            .await
                            .map_err(Into::into),
                        Err(error) => Err(error),
                    };
                    if let Err(error) = outcome {
                        log::warn!("{answer:?} failed: {error:?}");
                    }
                    app.state::<crate::background::Importer>().refresh_timer();
                }
            }
        });
    }
}
