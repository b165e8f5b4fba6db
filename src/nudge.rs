//! What Tickettime says on its own, while it runs in the tray: back from an
//! away while a timer ran (the idle prompt: keep, discard, stop at the
//! away's start, or split it off to another ticket), and reminders ("Start
//! a timer?", "Still working on #12?"). One [`Nudges`] per desktop process
//! that shows them — the tray process, or the one-process app — fed the
//! running timer on each look. An away waiting for an answer is kept in
//! this OS user's cache, so the window can ask even after a restart.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::idle::{Away, IdleWatch};
use crate::domain::reminder::{Reminder, ReminderSettings, Reminders, Running};
use crate::idle::IdleSource;
use crate::timer::TimerStatus;

/// An away the person has not answered yet: which entry ran through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PendingAway {
    pub harvest_id: i64,
    pub ticket: Option<i64>,
    pub away: Away,
}

/// This person's idle and reminder settings (their desktop's, not the team's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NudgeSettings {
    /// Ask after this many minutes without input while a timer runs; 0: never.
    pub idle_minutes: u32,
    pub reminders: ReminderSettings,
}

impl Default for NudgeSettings {
    fn default() -> Self {
        NudgeSettings { idle_minutes: 10, reminders: ReminderSettings::default() }
    }
}

impl NudgeSettings {
    /// This OS user's settings (the defaults for what is not set).
    /// `TICKETTIME_IDLE_SECS` shortens the idle threshold for tests.
    pub fn load() -> NudgeSettings {
        let mut settings = NudgeSettings::default();
        if let Some(minutes) = crate::connection::desktop_setting("idle_minutes").and_then(|v| v.parse().ok())
        {
            settings.idle_minutes = minutes;
        }
        if let Some(reminders) = crate::connection::desktop_setting("reminders")
            .and_then(|v| serde_json::from_str::<ReminderSettings>(&v).ok())
        {
            settings.reminders = reminders;
        }
        settings
    }

    /// Checks and saves them for this OS user.
    pub fn save(&self) -> crate::Result<()> {
        self.validate()?;
        crate::connection::set_desktop_settings(&[
            ("idle_minutes", self.idle_minutes.to_string()),
            (
                "reminders",
                serde_json::to_string(&self.reminders).map_err(|e| crate::Error::Invalid(e.to_string()))?,
            ),
        ])
    }

    pub fn validate(&self) -> crate::Result<()> {
        if self.idle_minutes > 240 {
            return Err(crate::Error::Invalid(
                "the idle time must be 1 to 240 minutes (0: never ask)".into(),
            ));
        }
        self.reminders.validate().map_err(crate::Error::Invalid)
    }

    /// The idle threshold, if idle time is asked about.
    fn threshold(&self) -> Option<Duration> {
        if let Some(seconds) = std::env::var("TICKETTIME_IDLE_SECS").ok().and_then(|v| v.parse::<i64>().ok())
        {
            return Some(Duration::seconds(seconds.max(1)));
        }
        (self.idle_minutes > 0).then(|| Duration::minutes(i64::from(self.idle_minutes)))
    }
}

/// Something to tell the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nudge {
    /// Back from an away while a timer ran: what to do with it?
    Away(PendingAway),
    Remind(Reminder),
}

/// Idle watching and reminders, for one desktop process.
pub struct Nudges<S> {
    source: S,
    idle: Option<IdleWatch>,
    reminders: Reminders,
}

impl<S: IdleSource> Nudges<S> {
    pub fn new(source: S) -> Nudges<S> {
        Nudges { source, idle: None, reminders: Reminders::default() }
    }

    /// One look at `now` (in the person's `zone`) with the timer as known.
    pub async fn check(
        &mut self,
        now: DateTime<Utc>,
        zone: FixedOffset,
        timer: &TimerStatus,
        settings: &NudgeSettings,
    ) -> Vec<Nudge> {
        let mut nudges = Vec::new();
        let running = timer.running.then_some(timer.harvest_id).flatten();
        match (settings.threshold(), running) {
            (Some(threshold), Some(harvest_id)) => {
                if self.idle.as_ref().is_none_or(|w| w.threshold() != threshold) {
                    self.idle = Some(IdleWatch::new(threshold));
                }
                let sample = self.source.idle().await.and_then(|d| Duration::from_std(d).ok());
                if let (Some(watch), Some(idle)) = (self.idle.as_mut(), sample) {
                    // Only an away the current run of the timer spans.
                    let spans = |away: &Away| timer.started_at.is_none_or(|started| started <= away.since);
                    if let Some(away) = watch.sample(now, idle).filter(spans) {
                        nudges.push(Nudge::Away(PendingAway { harvest_id, ticket: timer.ticket, away }));
                    }
                }
            }
            _ => {
                if let Some(watch) = self.idle.as_mut() {
                    watch.reset();
                }
            }
        }
        let running = running.map(|harvest_id| Running {
            ticket: timer.ticket,
            harvest_id,
            since: timer.started_at.unwrap_or(now).with_timezone(&zone),
        });
        if let Some(reminder) = self.reminders.check(now.with_timezone(&zone), &settings.reminders, running) {
            nudges.push(Nudge::Remind(reminder));
        }
        nudges
    }

    /// The person asked for quiet.
    pub fn snooze(&mut self, now: DateTime<Utc>, zone: FixedOffset, settings: &NudgeSettings) {
        self.reminders.snooze(now.with_timezone(&zone), &settings.reminders);
    }
}

/// What a person answers to a nudge's notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Keep, discard, or stop at the start of this away (the one the
    /// notification told; a newer one may be waiting meanwhile).
    Away(PendingAway, crate::domain::idle::IdleChoice),
    /// Move the away to another ticket: the window asks which.
    MoveAway,
    /// Start a timer on this ticket.
    Start(crate::domain::TicketNumber),
    StopTimer,
    Snooze,
}

/// What a desktop process does with nudges: it knows the running timer,
/// and tells the person its own way (a notification, the window).
pub trait Listener: Send {
    fn timer(&mut self) -> impl std::future::Future<Output = TimerStatus> + Send;
    fn tell(&mut self, nudge: Nudge) -> impl std::future::Future<Output = ()> + Send;
}

/// Commands to a running loop.
#[derive(Debug)]
pub enum Command {
    Snooze,
}

/// How often the loop looks: every 15 s (a tenth of a short test threshold).
pub fn look_every() -> std::time::Duration {
    match std::env::var("TICKETTIME_IDLE_SECS").ok().and_then(|v| v.parse::<u64>().ok()) {
        Some(seconds) => std::time::Duration::from_millis((seconds * 1000 / 4).clamp(250, 15_000)),
        None => std::time::Duration::from_secs(15),
    }
}

/// Looks every `every` until the command channel closes: an away is kept
/// in `cache` (the window asks it, even after a restart) and told.
pub async fn run<S: IdleSource, L: Listener>(
    mut nudges: Nudges<S>,
    mut listener: L,
    cache: crate::personal::PersonalCache,
    mut inbox: tokio::sync::mpsc::Receiver<Command>,
    every: std::time::Duration,
) {
    use chrono::Offset;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let zone = chrono::Local::now().offset().fix();
        tokio::select! {
            _ = tick.tick() => {
                let timer = listener.timer().await;
                let settings = NudgeSettings::load();
                for nudge in nudges.check(Utc::now(), zone, &timer, &settings).await {
                    if let Nudge::Away(pending) = &nudge {
                        cache.set_pending_away(Some(pending));
                    }
                    listener.tell(nudge).await;
                }
            }
            command = inbox.recv() => match command {
                Some(Command::Snooze) => nudges.snooze(Utc::now(), zone, &NudgeSettings::load()),
                None => return,
            },
        }
    }
}

/// The tickets a "Start a timer?" reminder offers: the Start menu's recent
/// ones that take time now, as `#12 Subject`.
pub fn start_offers(
    tickets: &[crate::store::TicketView],
    recent: &[i64],
) -> Vec<(crate::domain::TicketNumber, String)> {
    crate::app::start_candidates(recent, tickets)
        .into_iter()
        .filter(|t| !t.locked)
        .filter_map(|t| {
            Some((crate::domain::TicketNumber::new(t.number)?, format!("#{} {}", t.number, t.subject)))
        })
        .collect()
}

/// Acts on an answer as `session`'s person; `Answer::MoveAway` is the
/// shell's (it opens the window). The error says what went wrong.
pub async fn act(session: &crate::Session, answer: Answer, now: DateTime<Utc>) -> crate::Result<()> {
    match answer {
        Answer::Away(pending, choice) => {
            crate::timer::resolve_away(session, &pending, choice, now).await.map(drop)
        }
        Answer::Start(ticket) => crate::timer::start(session, ticket, None, false, now).await.map(drop),
        Answer::StopTimer => crate::timer::stop(session, None, now).await.map(drop),
        Answer::MoveAway | Answer::Snooze => Ok(()),
    }
}

/// The notification text of a nudge: title and body.
pub fn words(nudge: &Nudge, zone: FixedOffset) -> (String, String) {
    match nudge {
        Nudge::Away(pending) => {
            let time = |at: DateTime<Utc>| at.with_timezone(&zone).format("%H:%M").to_string();
            let on = pending.ticket.map(|t| format!(" on #{t}")).unwrap_or_default();
            (
                format!("You were away {} min", pending.away.minutes()),
                format!(
                    "Your timer{on} ran from {} to {} while you were away. Keep that time, discard it, stop at {}, or move it to another ticket?",
                    time(pending.away.since),
                    time(pending.away.back),
                    time(pending.away.since)
                ),
            )
        }
        Nudge::Remind(Reminder::StartTimer) => {
            ("Start a timer?".to_owned(), "No timer is running. Pick a ticket to track your time.".to_owned())
        }
        Nudge::Remind(Reminder::StillWorking { ticket, hours }) => {
            let on = ticket.map(|t| format!(" on #{t}")).unwrap_or_default();
            (format!("Still working{on}?"), format!("Your timer has been running for {hours} hours."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idle::Told;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // 2026-12-07 is a Monday.
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).single().expect("a time")
    }

    fn running(since: DateTime<Utc>) -> TimerStatus {
        TimerStatus {
            running: true,
            ticket: Some(12),
            harvest_id: Some(77),
            started_at: Some(since),
            elapsed_hours: None,
        }
    }

    #[tokio::test]
    async fn an_away_through_the_running_timer_is_told_once_on_return() {
        let told = Told::default();
        let mut nudges = Nudges::new(told.clone());
        let zone = FixedOffset::east_opt(0).expect("UTC");
        let quiet = NudgeSettings {
            reminders: ReminderSettings { enabled: false, ..ReminderSettings::default() },
            ..NudgeSettings::default()
        };
        let timer = running(at(9, 0));
        told.set(Some(std::time::Duration::from_secs(12 * 60)));
        assert_eq!(nudges.check(at(10, 12), zone, &timer, &quiet).await, vec![], "still away");
        told.set(Some(std::time::Duration::from_secs(3)));
        let back = nudges.check(at(10, 30), zone, &timer, &quiet).await;
        let expected = Away { since: at(10, 0), back: at(10, 30) - Duration::seconds(3) };
        assert_eq!(back, vec![Nudge::Away(PendingAway { harvest_id: 77, ticket: Some(12), away: expected })]);
        assert_eq!(nudges.check(at(10, 31), zone, &timer, &quiet).await, vec![]);

        // A timer started after the away began does not span it: nothing to ask.
        told.set(Some(std::time::Duration::from_secs(20 * 60)));
        assert_eq!(nudges.check(at(11, 0), zone, &running(at(10, 50)), &quiet).await, vec![]);
        told.set(Some(std::time::Duration::from_secs(1)));
        assert_eq!(nudges.check(at(11, 5), zone, &running(at(10, 50)), &quiet).await, vec![]);
        // No timer: no idle question, but the reminder's count runs.
        let off = NudgeSettings { idle_minutes: 0, ..quiet };
        told.set(Some(std::time::Duration::from_secs(30 * 60)));
        assert_eq!(nudges.check(at(12, 0), zone, &timer, &off).await, vec![], "idle questions off");
    }

    #[tokio::test]
    async fn reminders_come_through_the_same_look() {
        let mut nudges = Nudges::new(Told::default());
        let zone = FixedOffset::east_opt(3600).expect("UTC+1");
        let settings = NudgeSettings::default();
        let stopped = TimerStatus::STOPPED;
        // 08:00 UTC is 09:00 at the desk: watching from then.
        assert_eq!(nudges.check(at(8, 0), zone, &stopped, &settings).await, vec![]);
        assert_eq!(nudges.check(at(8, 29), zone, &stopped, &settings).await, vec![]);
        assert_eq!(
            nudges.check(at(8, 30), zone, &stopped, &settings).await,
            vec![Nudge::Remind(Reminder::StartTimer)]
        );
        nudges.snooze(at(8, 31), zone, &settings);
        assert_eq!(nudges.check(at(9, 0), zone, &stopped, &settings).await, vec![], "snoozed");
        let (title, _) = words(&Nudge::Remind(Reminder::StillWorking { ticket: Some(12), hours: 4 }), zone);
        assert_eq!(title, "Still working on #12?");
    }

    #[test]
    fn settings_are_checked() {
        assert!(NudgeSettings { idle_minutes: 300, ..NudgeSettings::default() }.validate().is_err());
        let bad = NudgeSettings {
            reminders: ReminderSettings { start: "nine".into(), ..ReminderSettings::default() },
            ..NudgeSettings::default()
        };
        assert!(bad.validate().is_err_and(|e| e.to_string().contains("`nine`")));
    }
}
