//! Idle time and reminders in the desktop process: the core's nudges loop
//! (`tickettime::nudge`) with this desktop's way of telling. An away shows
//! in the window (the app state carries it; the page asks what to do) and,
//! in the one-process app, as a notification with buttons, like the
//! reminders. Under `tickettime-tray` the tray tells; this window only asks.

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
    /// Starts the loop; `notify`: this process tells by notifications too
    /// (no separate tray process does).
    pub fn spawn<R: Runtime>(app: AppHandle<R>, notify: bool) -> Nudger {
        let (commands, inbox) = mpsc::channel(4);
        let sender = commands.clone();
        tauri::async_runtime::spawn(async move {
            let source = tickettime::idle::SessionIdle::open().await;
            log::info!("idle time from {:?}", source.kind());
            let cache = tickettime::personal::PersonalCache::default();
            let listener = Desktop { app, notify, commands: sender };
            nudge::run(nudge::Nudges::new(source), listener, cache, inbox, nudge::look_every()).await;
        });
        Nudger { _commands: commands }
    }
}

struct Desktop<R: Runtime> {
    app: AppHandle<R>,
    notify: bool,
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
        if !self.notify {
            return;
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
