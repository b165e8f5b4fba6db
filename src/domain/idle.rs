//! Idle time on a running timer: when the person came back from an away
//! at least as long as the threshold, and what each answer leaves on the
//! Harvest entry. Pure: the idle samples and the clock come in (the
//! sources that read the desktop's idle time live in `crate::idle`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::hours::Hours;
use super::ticket::TicketNumber;

/// A stretch without input (or with the screen locked) while a timer ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Away {
    /// The last input before the stretch.
    pub since: DateTime<Utc>,
    /// The first input after it.
    pub back: DateTime<Utc>,
}

impl Away {
    /// The whole minutes away: the split falls on the minute, so 26 min 45 s
    /// away are 26 minutes.
    pub fn minutes(&self) -> i64 {
        (self.back - self.since).num_minutes().max(0)
    }

    /// [`Away::minutes`] in hours, to Harvest's hundredth.
    pub fn hours(&self) -> Hours {
        minutes_to_hours(self.minutes())
    }
}

/// Whole minutes as hours rounded to the nearest hundredth (26 → 0.43).
pub fn minutes_to_hours(minutes: i64) -> Hours {
    Hours::from_hundredths((minutes.max(0) * 100 + 30) / 60)
}

/// Follows idle samples and tells when the person comes back after being
/// away at least `threshold`.
#[derive(Clone, Debug)]
pub struct IdleWatch {
    threshold: Duration,
    /// The start of the current stretch, once it reached the threshold.
    since: Option<DateTime<Utc>>,
}

impl IdleWatch {
    pub fn new(threshold: Duration) -> IdleWatch {
        IdleWatch { threshold, since: None }
    }

    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    /// One sample: at `at` there was no input for `idle` (a locked screen
    /// counts as no input). Returns the stretch just ended, when the person
    /// is back from one at least the threshold long.
    pub fn sample(&mut self, at: DateTime<Utc>, idle: Duration) -> Option<Away> {
        let last_input = at - idle;
        if idle >= self.threshold {
            // The same stretch keeps its start; a longer look back wins.
            self.since = Some(self.since.map_or(last_input, |since| since.min(last_input)));
            return None;
        }
        let since = self.since.take()?;
        Some(Away { since, back: last_input.max(since) })
    }

    /// Forgets a stretch in progress (the timer stopped meanwhile).
    pub fn reset(&mut self) {
        self.since = None;
    }
}

/// What the person answers on coming back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "ticket", rename_all = "snake_case")]
pub enum IdleChoice {
    /// The away time stays on the entry.
    Keep,
    /// The entry loses the away time; the timer runs on.
    Discard,
    /// The entry ends where the away began; the timer stops.
    StopAtIdleStart,
    /// The away time moves to another ticket's entry; the timer runs on.
    SplitTo(TicketNumber),
}

/// What an answer does to the running entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The hours the running entry is set to (`None`: left as it is).
    pub entry_hours: Option<Hours>,
    /// Whether its timer stops.
    pub stop: bool,
    /// Hours for another ticket's new entry (a split).
    pub moved: Option<(TicketNumber, Hours)>,
}

/// The resolution of `choice` for an entry that has `tracked` hours at
/// `now`. The away time comes off in whole minutes; for a stop, everything
/// from the away's start to now does. Never below zero.
pub fn resolve(choice: IdleChoice, away: &Away, tracked: Hours, now: DateTime<Utc>) -> Resolution {
    let less = |hours: Hours| Hours::from_hundredths((tracked.hundredths() - hours.hundredths()).max(0));
    match choice {
        IdleChoice::Keep => Resolution { entry_hours: None, stop: false, moved: None },
        IdleChoice::Discard => Resolution { entry_hours: Some(less(away.hours())), stop: false, moved: None },
        IdleChoice::StopAtIdleStart => {
            let since_away = minutes_to_hours((now - away.since).num_minutes());
            Resolution { entry_hours: Some(less(since_away)), stop: true, moved: None }
        }
        IdleChoice::SplitTo(ticket) => Resolution {
            entry_hours: Some(less(away.hours())),
            stop: false,
            moved: Some((ticket, away.hours())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, h, m, s).single().expect("a time")
    }

    fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }

    #[test]
    fn coming_back_after_the_threshold_gives_the_stretch_since_the_last_input() {
        let mut watch = IdleWatch::new(Duration::minutes(10));
        assert_eq!(watch.sample(at(10, 20, 0), secs(5 * 60)), None, "5 minutes is not away yet");
        assert_eq!(watch.sample(at(10, 24, 20), secs(10 * 60)), None, "away from 10:14:20");
        assert_eq!(watch.sample(at(10, 40, 0), secs(25 * 60 + 40)), None);
        // Back at 10:41:05 (seen 10 s later).
        let away = watch.sample(at(10, 41, 15), secs(10)).expect("back");
        assert_eq!(away, Away { since: at(10, 14, 20), back: at(10, 41, 5) });
        assert_eq!(away.minutes(), 26, "26 min 45 s is 26 whole minutes");
        assert_eq!(away.hours().hundredths(), 43, "26 minutes to the hundredth");
        assert_eq!(watch.sample(at(10, 41, 30), secs(3)), None, "told once");
    }

    #[test]
    fn a_short_pause_is_no_away_and_a_reset_forgets_a_stretch() {
        let mut watch = IdleWatch::new(Duration::minutes(10));
        assert_eq!(watch.sample(at(9, 9, 59), secs(599)), None);
        assert_eq!(watch.sample(at(9, 10, 5), secs(2)), None, "9 min 59 s is not away");
        assert_eq!(watch.sample(at(9, 30, 0), secs(15 * 60)), None);
        watch.reset();
        assert_eq!(watch.sample(at(9, 31, 0), secs(1)), None, "the timer stopped meanwhile");
    }

    #[test]
    fn each_answer_takes_the_away_off_at_the_minute() {
        let away = Away { since: at(10, 14, 20), back: at(10, 41, 5) };
        let tracked = Hours::parse("2.00").expect("hours");
        let now = at(10, 44, 0);
        let hours = |h: &str| Some(Hours::parse(h).expect("hours"));
        assert_eq!(resolve(IdleChoice::Keep, &away, tracked, now).entry_hours, None);
        let discard = resolve(IdleChoice::Discard, &away, tracked, now);
        assert_eq!((discard.entry_hours, discard.stop), (hours("1.57"), false), "2 h − 26 min");
        // From 10:14:20 to 10:44:00 is 29 whole minutes: 0.48 h.
        let stop = resolve(IdleChoice::StopAtIdleStart, &away, tracked, now);
        assert_eq!((stop.entry_hours, stop.stop), (hours("1.52"), true));
        let ticket = TicketNumber::new(7).expect("#7");
        let split = resolve(IdleChoice::SplitTo(ticket), &away, tracked, now);
        assert_eq!(split.entry_hours, hours("1.57"));
        assert_eq!(split.moved, Some((ticket, Hours::parse("0.43").expect("hours"))));
        let short = resolve(IdleChoice::Discard, &away, Hours::parse("0.10").expect("hours"), now);
        assert_eq!(short.entry_hours, Some(Hours::ZERO), "never below zero");
    }
}
