//! Reminders for the time people forget: inside working hours, no timer
//! for a while ("Start a timer?"), or one running for hours ("Still working
//! on #12?"); snoozed on request; never outside working hours. Pure: the
//! local time and what the timer does come in.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// When reminders may come, and after how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReminderSettings {
    pub enabled: bool,
    /// Working days, Monday first (`[true; 5] + [false; 2]` is Mon–Fri).
    pub days: [bool; 7],
    /// Working hours, `HH:MM` local time; `start` before `end`.
    pub start: String,
    pub end: String,
    /// No timer for this long inside working hours: "Start a timer?".
    pub no_timer_minutes: u32,
    /// A timer running this long: "Still working on #12?".
    pub long_timer_hours: u32,
    /// Snooze puts reminders off for this long.
    pub snooze_minutes: u32,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            enabled: true,
            days: [true, true, true, true, true, false, false],
            start: "09:00".into(),
            end: "17:00".into(),
            no_timer_minutes: 30,
            long_timer_hours: 4,
            snooze_minutes: 30,
        }
    }
}

impl ReminderSettings {
    /// Checks the settings; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let (start, end) = self.hours()?;
        if start >= end {
            return Err(format!("working hours must start before they end ({} – {})", self.start, self.end));
        }
        if !(1..=480).contains(&self.no_timer_minutes) {
            return Err("the no-timer reminder must come after 1 to 480 minutes".into());
        }
        if !(1..=24).contains(&self.long_timer_hours) {
            return Err("the long-timer reminder must come after 1 to 24 hours".into());
        }
        if !(1..=480).contains(&self.snooze_minutes) {
            return Err("snooze must last 1 to 480 minutes".into());
        }
        Ok(())
    }

    fn hours(&self) -> Result<(NaiveTime, NaiveTime), String> {
        let time = |text: &str| {
            NaiveTime::parse_from_str(text.trim(), "%H:%M")
                .map_err(|_| format!("`{text}` is not a time of day (HH:MM, e.g. 09:00)"))
        };
        Ok((time(&self.start)?, time(&self.end)?))
    }

    /// Today's working hours at `now`, if `now` is a working day.
    fn today(&self, now: DateTime<FixedOffset>) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
        let (start, end) = self.hours().ok()?;
        if !self.days[now.weekday().num_days_from_monday() as usize] {
            return None;
        }
        let on =
            |time: NaiveTime| now.date_naive().and_time(time).and_local_timezone(now.timezone()).single();
        Some((on(start)?, on(end)?))
    }

    /// Whether `now` is inside working hours.
    pub fn working(&self, now: DateTime<FixedOffset>) -> bool {
        self.enabled && self.today(now).is_some_and(|(start, end)| start <= now && now < end)
    }
}

/// The running timer, as far as reminders care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    pub ticket: Option<i64>,
    pub harvest_id: i64,
    /// When this run of the timer began.
    pub since: DateTime<FixedOffset>,
}

/// What to remind the person of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// No timer for a while: start one?
    StartTimer,
    /// This timer ran a long time: still on it?
    StillWorking { ticket: Option<i64>, hours: i64 },
}

/// What reminders remember between checks (one person, one desktop).
#[derive(Clone, Debug, Default)]
pub struct Reminders {
    /// The first check: nothing is owed for the time before the app watched.
    watching_since: Option<DateTime<FixedOffset>>,
    /// The last time a timer was seen running.
    last_running: Option<DateTime<FixedOffset>>,
    last_start_nudge: Option<DateTime<FixedOffset>>,
    /// The entry last asked about, and when.
    last_long_nudge: Option<(i64, DateTime<FixedOffset>)>,
    snoozed_until: Option<DateTime<FixedOffset>>,
}

impl Reminders {
    /// The reminder due at `now`, if any (each is given once, then again
    /// only after its own interval has passed once more).
    pub fn check(
        &mut self,
        now: DateTime<FixedOffset>,
        settings: &ReminderSettings,
        timer: Option<Running>,
    ) -> Option<Reminder> {
        let watching_since = *self.watching_since.get_or_insert(now);
        if let Some(timer) = timer {
            self.last_running = Some(now);
            return self.long_timer(now, settings, timer);
        }
        if !settings.working(now) || self.snoozed_until.is_some_and(|until| now < until) {
            return None;
        }
        let (work_start, _) = settings.today(now)?;
        let quiet_since = [self.last_running, self.last_start_nudge]
            .into_iter()
            .flatten()
            .fold(work_start.max(watching_since), DateTime::max);
        if now - quiet_since < Duration::minutes(i64::from(settings.no_timer_minutes)) {
            return None;
        }
        self.last_start_nudge = Some(now);
        Some(Reminder::StartTimer)
    }

    fn long_timer(
        &mut self,
        now: DateTime<FixedOffset>,
        settings: &ReminderSettings,
        timer: Running,
    ) -> Option<Reminder> {
        if !settings.working(now) || self.snoozed_until.is_some_and(|until| now < until) {
            return None;
        }
        let every = Duration::hours(i64::from(settings.long_timer_hours));
        let asked = self.last_long_nudge.filter(|(entry, _)| *entry == timer.harvest_id).map(|(_, at)| at);
        let counted_from = asked.unwrap_or(timer.since);
        if now - counted_from < every {
            return None;
        }
        self.last_long_nudge = Some((timer.harvest_id, now));
        Some(Reminder::StillWorking { ticket: timer.ticket, hours: (now - timer.since).num_hours() })
    }

    /// Puts every reminder off for the snooze time.
    pub fn snooze(&mut self, now: DateTime<FixedOffset>, settings: &ReminderSettings) {
        self.snoozed_until = Some(now + Duration::minutes(i64::from(settings.snooze_minutes)));
    }
}

/// The day names, Monday first, as settings show them.
pub const DAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 2026-12-07 is a Monday; the desk is at UTC+1.
    fn at(day: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .expect("an offset")
            .with_ymd_and_hms(2026, 12, day, h, m, 0)
            .single()
            .expect("a time")
    }

    fn running(since: DateTime<FixedOffset>) -> Option<Running> {
        Some(Running { ticket: Some(12), harvest_id: 99, since })
    }

    #[test]
    fn no_timer_for_the_set_minutes_inside_working_hours_asks_to_start_one() {
        let settings = ReminderSettings::default();
        let mut reminders = Reminders::default();
        assert_eq!(reminders.check(at(7, 8, 50), &settings, None), None, "before 09:00");
        assert_eq!(reminders.check(at(7, 9, 29), &settings, None), None, "29 minutes into the day");
        assert_eq!(reminders.check(at(7, 9, 30), &settings, None), Some(Reminder::StartTimer));
        assert_eq!(reminders.check(at(7, 9, 45), &settings, None), None, "once, then after another 30");
        assert_eq!(reminders.check(at(7, 10, 0), &settings, None), Some(Reminder::StartTimer));
        // A timer ran until 11:00: the quiet time counts from there.
        assert_eq!(reminders.check(at(7, 11, 0), &settings, running(at(7, 10, 30))), None);
        assert_eq!(reminders.check(at(7, 11, 29), &settings, None), None);
        assert_eq!(reminders.check(at(7, 11, 30), &settings, None), Some(Reminder::StartTimer));
    }

    #[test]
    fn starting_late_in_the_day_owes_nothing_for_the_hours_before() {
        let settings = ReminderSettings::default();
        let mut reminders = Reminders::default();
        assert_eq!(reminders.check(at(7, 14, 0), &settings, None), None, "the app starts at 14:00");
        assert_eq!(reminders.check(at(7, 14, 29), &settings, None), None);
        assert_eq!(reminders.check(at(7, 14, 30), &settings, None), Some(Reminder::StartTimer));
    }

    #[test]
    fn none_outside_working_hours_or_days() {
        let settings = ReminderSettings::default();
        let mut reminders = Reminders::default();
        assert_eq!(reminders.check(at(7, 17, 0), &settings, None), None, "17:00 is after hours");
        assert_eq!(reminders.check(at(7, 23, 0), &settings, None), None);
        assert_eq!(reminders.check(at(12, 11, 0), &settings, None), None, "Saturday");
        assert_eq!(
            reminders.check(at(7, 20, 0), &settings, running(at(7, 9, 0))),
            None,
            "a long timer after hours"
        );
        let off = ReminderSettings { enabled: false, ..ReminderSettings::default() };
        assert_eq!(reminders.check(at(8, 12, 0), &off, None), None, "switched off");
        let weekend = ReminderSettings { days: [false, false, false, false, false, true, false], ..settings };
        assert_eq!(
            reminders.check(at(12, 11, 0), &weekend, None),
            Some(Reminder::StartTimer),
            "a Saturday shift"
        );
    }

    #[test]
    fn a_timer_running_past_the_set_hours_asks_if_still_working_once_per_interval() {
        let settings = ReminderSettings::default();
        let mut reminders = Reminders::default();
        let timer = running(at(7, 9, 0));
        assert_eq!(reminders.check(at(7, 12, 59), &settings, timer), None);
        assert_eq!(
            reminders.check(at(7, 13, 0), &settings, timer),
            Some(Reminder::StillWorking { ticket: Some(12), hours: 4 })
        );
        assert_eq!(reminders.check(at(7, 14, 0), &settings, timer), None, "asked once");
        assert_eq!(
            reminders.check(at(7, 17, 0), &settings, timer),
            None,
            "four hours later it is after hours"
        );
        // Another entry starts its own count.
        let other = Some(Running { ticket: Some(3), harvest_id: 100, since: at(8, 9, 0) });
        assert_eq!(
            reminders.check(at(8, 13, 0), &settings, other),
            Some(Reminder::StillWorking { ticket: Some(3), hours: 4 })
        );
    }

    #[test]
    fn snooze_puts_reminders_off() {
        let settings = ReminderSettings::default();
        let mut reminders = Reminders::default();
        assert_eq!(reminders.check(at(7, 9, 0), &settings, None), None, "watching from 09:00");
        reminders.snooze(at(7, 9, 20), &settings);
        assert_eq!(reminders.check(at(7, 9, 45), &settings, None), None, "snoozed until 09:50");
        assert_eq!(reminders.check(at(7, 9, 50), &settings, None), Some(Reminder::StartTimer));
        reminders.snooze(at(7, 12, 55), &settings);
        assert_eq!(reminders.check(at(7, 13, 0), &settings, running(at(7, 9, 0))), None);
        assert!(reminders.check(at(7, 13, 25), &settings, running(at(7, 9, 0))).is_some());
    }

    #[test]
    fn settings_are_checked() {
        let ok = ReminderSettings::default();
        assert_eq!(ok.validate(), Ok(()));
        let backwards = ReminderSettings { start: "18:00".into(), ..ok.clone() };
        assert!(backwards.validate().is_err_and(|e| e.contains("start before they end")));
        let garbled = ReminderSettings { end: "5pm".into(), ..ok.clone() };
        assert!(garbled.validate().is_err_and(|e| e.contains("`5pm` is not a time of day")));
        let zero = ReminderSettings { no_timer_minutes: 0, ..ok };
        assert!(zero.validate().is_err());
    }
}
