//! Which budget events become desktop notifications, for whom, and their
//! text. The shell only shows them (notify-rust); the rules live here.
//!
//! A PM hears of their tickets passing the near line (90 %) and locking; in
//! solo use a ticket without a PM goes to the local user when they are a PM
//! or admin. Events the user caused themselves are skipped. Each event is
//! told once per PM: the events shown are recorded per staff member in the
//! database, each taken by one caller, so a restart or a second desktop of
//! the same PM never repeats one; it is a delivered set, not a high-water
//! id, so an event whose transaction commits late is never skipped; a first
//! start does not replay history.

use serde::Serialize;

#[cfg(feature = "desktop-notify")]
pub mod desktop;

use crate::domain::EventKind;
use crate::store::{Staff, Store};
use crate::Result;

/// The setting holding the floor below which events are not shown to one
/// staff member (set at their first start; each PM has their own).
pub fn mark_key(staff_id: i64) -> String {
    format!("notified_event_id:{staff_id}")
}
/// Servers cut long bodies anyway; keep ours readable.
const MAX_BODY: usize = 240;

/// One notification to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub event_id: i64,
    pub ticket: i64,
    pub kind: EventKind,
    pub summary: String,
    pub body: String,
}

/// The notices for `me` since the last call, oldest first; advances the mark.
pub async fn take_notices(store: &Store, me: &Staff) -> Result<Vec<Notice>> {
    if !me.role.manages_budgets() {
        // Budget notices are PMs' (an agent is never a ticket's PM), and an
        // agent's team login may not keep a mark in the settings.
        return Ok(Vec::new());
    }
    let Some(events) = store.take_undelivered_events(me.id, &mark_key(me.id)).await? else {
        // First start: nothing old is replayed.
        return Ok(Vec::new());
    };
    let notices = events
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Near | EventKind::Locked))
        .filter(|e| e.actor_id != Some(me.id))
        .filter(|e| match &e.pm_email {
            Some(pm) => pm.eq_ignore_ascii_case(&me.email),
            None => me.role.manages_budgets(),
        })
        .map(|e| {
            let (summary, detail) = match e.kind {
                EventKind::Locked => (
                    format!("Over budget: #{} locked", e.ticket),
                    format!(
                        "{} — {:.2} of {:.2} budget hours used. Replies and notes wait until a PM unlocks it.",
                        e.subject, e.hours_used, e.budget_hours
                    ),
                ),
                _ => (
                    format!("#{} is at {} % of its budget", e.ticket, e.utilization_pct.map_or(0, |u| u.whole_percent())),
                    format!("{} — {:.2} of {:.2} budget hours used.", e.subject, e.hours_used, e.budget_hours),
                ),
            };
            Notice { event_id: e.id, ticket: e.ticket, kind: e.kind, summary, body: shorten(&detail, MAX_BODY) }
        })
        .collect();
    Ok(notices)
}

/// Cuts `text` to `max` characters (on a character boundary, with "…").
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Escapes text for servers that render the `body-markup` subset
/// (`<b> <i> <u> <a> <img>`): subjects come from users and must show as text.
/// Shorten first, then escape, so an entity is never cut in half.
pub fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_and_nothing_else() {
        assert_eq!(
            escape_markup(r#"<img src=x onerror="a">& Co"#),
            r#"&lt;img src=x onerror="a"&gt;&amp; Co"#
        );
        assert_eq!(escape_markup("plain — text"), "plain — text");
    }

    #[test]
    fn shortening_cuts_on_characters_before_escaping() {
        let cut = shorten("ééééé&", 4);
        assert_eq!(cut, "ééé…");
        assert_eq!(
            escape_markup(&shorten("a&b", 10)),
            "a&amp;b",
            "escaping after the cut keeps entities whole"
        );
    }
}
