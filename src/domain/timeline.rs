//! One chronological stream of a ticket's messages, responses, notes and
//! time entries.
//!
//! Time entries carry a spent date (a plain local date) rather than an
//! instant, so the stream is ordered by local date first, then by the
//! instant (a thread entry's time, a time entry's Harvest `created_at`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

use super::hours::Hours;
use super::ticket::ThreadKind;

/// What a timeline item is; each kind is shown distinctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ItemKind {
    Message,
    Response,
    Note,
    Time,
}

impl From<ThreadKind> for ItemKind {
    fn from(kind: ThreadKind) -> Self {
        match kind {
            ThreadKind::Message => ItemKind::Message,
            ThreadKind::Response => ItemKind::Response,
            ThreadKind::Note => ItemKind::Note,
        }
    }
}

/// One row of the timeline, as the desktop's IPC carries it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "TimelineItem")] // the type's name in the bindings; JSON has no struct names
pub struct Item {
    pub kind: ItemKind,
    pub at: DateTime<Utc>,
    pub author: String,
    /// The message text, or a time entry's notes.
    pub body: Option<String>,
    pub hours: Option<Hours>,
    pub spent_date: Option<NaiveDate>,
    pub harvest_id: Option<i64>,
    #[serde(skip)]
    day: NaiveDate,
}

impl Item {
    /// A message, response or note written at `at`, dated in the viewer's zone.
    pub fn thread(
        kind: ThreadKind,
        author: String,
        body: String,
        at: DateTime<Utc>,
        zone: FixedOffset,
    ) -> Self {
        Item {
            kind: kind.into(),
            at,
            author,
            body: Some(body),
            hours: None,
            spent_date: None,
            harvest_id: None,
            day: at.with_timezone(&zone).date_naive(),
        }
    }

    /// A Harvest time entry: placed on its spent date, then by creation.
    pub fn time(
        harvest_id: i64,
        user: String,
        notes: Option<String>,
        hours: Hours,
        spent_date: NaiveDate,
        created_at: DateTime<Utc>,
    ) -> Self {
        Item {
            kind: ItemKind::Time,
            at: created_at,
            author: user,
            body: notes,
            hours: Some(hours),
            spent_date: Some(spent_date),
            harvest_id: Some(harvest_id),
            day: spent_date,
        }
    }
}

/// Merges items into chronological order (stable for equal times).
pub fn merge(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by_key(|item| (item.day, item.at));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).single().expect("valid time")
    }

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("valid date")
    }

    #[test]
    fn thread_and_time_entries_interleave_by_day_then_time() {
        let utc = FixedOffset::east_opt(0).expect("offset");
        let items = merge(vec![
            Item::time(2, "Ana".into(), None, Hours::whole(1), date(3), at(3, 18)),
            Item::thread(ThreadKind::Response, "Ana".into(), "done".into(), at(3, 12), utc),
            Item::thread(ThreadKind::Message, "Client".into(), "help".into(), at(2, 9), utc),
            Item::time(1, "Ana".into(), Some("work".into()), Hours::whole(2), date(2), at(4, 8)),
            Item::thread(ThreadKind::Note, "Bo".into(), "fyi".into(), at(4, 7), utc),
        ]);
        let kinds: Vec<_> = items.iter().map(|i| (i.kind, i.harvest_id)).collect();
        assert_eq!(
            kinds,
            vec![
                (ItemKind::Message, None),
                (ItemKind::Time, Some(1)),
                (ItemKind::Response, None),
                (ItemKind::Time, Some(2)),
                (ItemKind::Note, None),
            ],
            "a time entry sits on its spent date even when it was logged days later"
        );
    }

    #[test]
    fn thread_entries_are_dated_in_the_viewers_zone() {
        let tokyo = FixedOffset::east_opt(9 * 3600).expect("offset");
        let late = Item::thread(ThreadKind::Note, "Ana".into(), "x".into(), at(2, 20), tokyo);
        let entry = Item::time(1, "Ana".into(), None, Hours::whole(1), date(3), at(3, 1));
        let items = merge(vec![entry, late]);
        assert_eq!(
            items[0].kind,
            ItemKind::Note,
            "20:00 UTC on the 2nd is the 3rd in Tokyo, before 01:00 UTC"
        );
    }
}
