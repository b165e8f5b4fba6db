//! What the app currently knows of the timer and the import, shared by the
//! tray, the background import and the commands. Never held across an await.

use std::sync::RwLock;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tickettime::timer::TimerStatus;

/// The import's status as the window and the tray show it.
#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct SyncStatus {
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub running: bool,
}

#[derive(Debug)]
struct Picture {
    timer: TimerStatus,
    /// When `timer` was read from Harvest: elapsed time counts on from here.
    timer_read_at: Instant,
    sync: SyncStatus,
    notice: Option<String>,
    tray_available: bool,
}

/// The shared picture.
#[derive(Debug)]
pub struct Live {
    picture: RwLock<Picture>,
}

impl Live {
    pub fn new(tray_available: bool, notice: Option<String>) -> Self {
        Live {
            picture: RwLock::new(Picture {
                timer: TimerStatus::STOPPED,
                timer_read_at: Instant::now(),
                sync: SyncStatus::default(),
                notice,
                tray_available,
            }),
        }
    }

    /// The timer, its elapsed hours counted on since it was read.
    pub fn timer(&self) -> TimerStatus {
        let Ok(p) = self.picture.read() else { return TimerStatus::STOPPED };
        let mut timer = p.timer.clone();
        if timer.running {
            let since = p.timer_read_at.elapsed().as_secs_f64() / 3600.0;
            timer.elapsed_hours = timer.elapsed_hours.map(|h| ((h + since) * 100.0).round() / 100.0);
        }
        timer
    }

    pub fn set_timer(&self, timer: TimerStatus) {
        if let Ok(mut p) = self.picture.write() {
            p.timer = timer;
            p.timer_read_at = Instant::now();
        }
    }

    pub fn sync(&self) -> SyncStatus {
        self.picture.read().map(|p| p.sync.clone()).unwrap_or_default()
    }

    pub fn set_sync(&self, update: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut p) = self.picture.write() {
            update(&mut p.sync);
        }
    }

    /// A message for the window, shown once.
    pub fn take_notice(&self) -> Option<String> {
        self.picture.write().ok().and_then(|mut p| p.notice.take())
    }

    pub fn add_notice(&self, notice: String) {
        if let Ok(mut p) = self.picture.write() {
            p.notice = Some(match p.notice.take() {
                Some(old) => format!("{old} {notice}"),
                None => notice,
            });
        }
    }

    pub fn tray_available(&self) -> bool {
        self.picture.read().map(|p| p.tray_available).unwrap_or(true)
    }
}
