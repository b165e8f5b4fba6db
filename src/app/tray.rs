//! What the tray shows, as data: its menu (items with stable ids), icon,
//! title and tooltip, from what the app knows. Both tray shells draw it —
//! the window process's Tauri tray and `tickettime-tray`'s native one — so
//! the two never disagree on a label or a rule.

use chrono::{DateTime, Local, Utc};

use crate::domain::budget::minutes_left;
use crate::domain::{Thresholds, TicketNumber};
use crate::store::TicketView;
use crate::timer::TimerStatus;

/// Every item of the tray menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayItem {
    Stop,
    Start(TicketNumber),
    Choose,
    LogTime,
    SyncNow,
    Open,
    Quit,
}

impl TrayItem {
    /// The menu id, stable across versions (`start:12`).
    pub fn id(self) -> String {
        match self {
            TrayItem::Stop => "stop".to_owned(),
            TrayItem::Start(ticket) => format!("start:{}", ticket.get()),
            TrayItem::Choose => "choose".to_owned(),
            TrayItem::LogTime => "log".to_owned(),
            TrayItem::SyncNow => "sync".to_owned(),
            TrayItem::Open => "open".to_owned(),
            TrayItem::Quit => "quit".to_owned(),
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Some(match id {
            "stop" => TrayItem::Stop,
            "choose" => TrayItem::Choose,
            "log" => TrayItem::LogTime,
            "sync" => TrayItem::SyncNow,
            "open" => TrayItem::Open,
            "quit" => TrayItem::Quit,
            other => TrayItem::Start(other.strip_prefix("start:")?.parse().ok()?),
        })
    }
}

/// One line of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Item(TrayItem, String),
    Submenu(String, Vec<Entry>),
    Separator,
}

/// What the tray knows about the last import.
#[derive(Debug, Clone, Default)]
pub struct LastSync {
    pub at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// The tray as it should look now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub menu: Vec<Entry>,
    /// `idle`, `running`, or the running ticket's band (`green` … `red`).
    pub icon: &'static str,
    /// Empty when there is nothing to say (no timer, nothing waiting).
    pub title: String,
    pub tooltip: String,
}

/// The inputs of [`picture`].
pub struct Known<'a> {
    pub timer: &'a TimerStatus,
    pub tickets: &'a [TicketView],
    /// Tickets the user opened lately, newest first.
    pub recent: &'a [i64],
    pub lines: Thresholds,
    /// This person's entries waiting for Harvest.
    pub waiting: usize,
    pub sync: &'a LastSync,
}

/// The menu, icon, title and tooltip for what is known.
pub fn picture(known: &Known<'_>) -> Picture {
    let timer = known.timer;
    let running = timer.ticket.and_then(|n| known.tickets.iter().find(|t| t.number == n));
    let elapsed = timer.elapsed_hours.unwrap_or(0.0);
    let waiting = waiting_text(known.waiting);

    let mut menu = Vec::new();
    if timer.running {
        let label = match running {
            Some(t) => format!("⏹ Stop #{} {} ({})", t.number, short(&t.subject), clock(elapsed)),
            None => format!("⏹ Stop timer ({})", clock(elapsed)),
        };
        menu.push(Entry::Item(TrayItem::Stop, label));
        menu.push(Entry::Separator);
    }
    let mut start = Vec::new();
    for ticket in super::start_candidates(known.recent, known.tickets).iter().take(6) {
        let Some(number) = TicketNumber::new(ticket.number) else { continue };
        // A locked ticket stays in the list: choosing it offers to ask its
        // PM to unlock it (or, for a PM, to open it).
        let label = if ticket.locked {
            format!("🔒 #{} {} — locked: request unlock…", ticket.number, short(&ticket.subject))
        } else if let Some(day) = ticket.forecast_lock_on {
            format!("#{} {} · locks ~{}", ticket.number, short(&ticket.subject), day.format("%a %-d %b"))
        } else {
            format!("#{} {}", ticket.number, short(&ticket.subject))
        };
        start.push(Entry::Item(TrayItem::Start(number), label));
    }
    start.push(Entry::Separator);
    start.push(Entry::Item(TrayItem::Choose, "Choose ticket…".into()));
    menu.push(Entry::Submenu("▶ Start on…".into(), start));
    menu.push(Entry::Item(TrayItem::LogTime, "Log time…".into()));
    if let Some(waiting) = &waiting {
        // Opens the window, where the waiting items are listed.
        menu.push(Entry::Item(TrayItem::Open, format!("⏳ {waiting} for Harvest")));
    }
    let last = known
        .sync
        .at
        .map(|t| t.with_timezone(&Local).format("%H:%M").to_string())
        .map_or_else(|| "never".to_owned(), |t| format!("last {t}"));
    let failed = if known.sync.error.is_some() { ", failed" } else { "" };
    menu.push(Entry::Item(TrayItem::SyncNow, format!("Sync now ({last}{failed})")));
    menu.push(Entry::Separator);
    menu.push(Entry::Item(TrayItem::Open, "Open Tickettime".into()));
    menu.push(Entry::Item(TrayItem::Quit, "Quit".into()));

    let (icon, mut text) = if timer.running {
        let band = running.and_then(|t| t.band).map_or("running", |b| b.as_str());
        (band, title(running, elapsed, known.lines.near, known.lines.lock))
    } else {
        ("idle", String::new())
    };
    if let Some(waiting) = waiting {
        text = if text.is_empty() { waiting } else { format!("{text} · {waiting}") };
    }
    let forecast = running.filter(|_| timer.running).and_then(|t| t.forecast_lock_on).map(forecast_text);
    let tooltip = match (&text, &known.sync.error, forecast) {
        (_, Some(error), _) => format!("Tickettime — sync failed: {error}"),
        (t, None, Some(forecast)) if !t.is_empty() => format!("Tickettime — {t} · {forecast}"),
        (t, None, None) if !t.is_empty() => format!("Tickettime — {t}"),
        _ => "Tickettime".to_owned(),
    };
    Picture { menu, icon, title: text, tooltip }
}

/// The PNG of a [`Picture::icon`] name (32×32).
pub fn icon_png(name: &str) -> &'static [u8] {
    match name {
        "running" => include_bytes!("../../icons/tray-running.png"),
        "green" => include_bytes!("../../icons/tray-green.png"),
        "yellow" => include_bytes!("../../icons/tray-yellow.png"),
        "orange" => include_bytes!("../../icons/tray-orange.png"),
        "red" => include_bytes!("../../icons/tray-red.png"),
        _ => include_bytes!("../../icons/tray-idle.png"),
    }
}

/// `1:12` for 1.2 hours.
pub fn clock(hours: f64) -> String {
    let minutes = (hours * 60.0).round().max(0.0) as i64;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// The tray title: the running ticket, its elapsed time, and the time left
/// before it locks when it is at or past the near line.
pub fn title(ticket: Option<&TicketView>, elapsed_hours: f64, near_pct: u32, lock_pct: u32) -> String {
    let Some(ticket) = ticket else { return format!("Timer · {}", clock(elapsed_hours)) };
    let mut title = format!("#{} · {}", ticket.number, clock(elapsed_hours));
    let near = ticket.utilization_pct.is_some_and(|u| u.at_least(near_pct));
    let left = minutes_left(ticket.hours_used, ticket.budget_hours, ticket.extra_hours, lock_pct);
    if let Some(minutes) = left.filter(|_| near) {
        title.push_str(&format!(" · {minutes} min left"));
    }
    title
}

/// "locks around Thu 10 Dec at this pace".
pub fn forecast_text(day: chrono::NaiveDate) -> String {
    format!("locks around {} at this pace", day.format("%a %-d %b"))
}

/// "1 entry waiting", "2 entries waiting"; nothing when none wait.
fn waiting_text(waiting: usize) -> Option<String> {
    match waiting {
        0 => None,
        1 => Some("1 entry waiting".to_owned()),
        n => Some(format!("{n} entries waiting")),
    }
}

fn short(subject: &str) -> String {
    let cut: String = subject.chars().take(32).collect();
    if cut.len() < subject.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Hours, Utilization};

    /// A timer on #123, half an hour in.
    fn running() -> TimerStatus {
        TimerStatus { running: true, ticket: Some(123), elapsed_hours: Some(0.5), ..TimerStatus::STOPPED }
    }

    fn known<'a>(timer: &'a TimerStatus, tickets: &'a [TicketView], sync: &'a LastSync) -> Known<'a> {
        Known { timer, tickets, recent: &[], lines: Thresholds::default(), waiting: 0, sync }
    }

    fn ticket() -> TicketView {
        TicketView {
            number: 123,
            subject: "VPN".into(),
            status: "open".into(),
            client: None,
            agent: None,
            pm: None,
            harvest_project_id: Some(1),
            harvest_project_name: None,
            budget_hours: Some(Hours::whole(10)),
            quoted_hours: None,
            hours_used: Hours::whole(5),
            extra_hours: Hours::ZERO,
            utilization_pct: Some(Utilization::from_basis_points(5_000)),
            band: None,
            locked: false,
            lock_reason: None,
            source: "local".into(),
            source_number: None,
            source_url: None,
            forecast_lock_on: None,
            running_timers: Vec::new(),
        }
    }

    #[test]
    fn menu_ids_round_trip() {
        let start = TrayItem::Start(TicketNumber::new(12).expect("positive"));
        for item in [
            TrayItem::Stop,
            start,
            TrayItem::Choose,
            TrayItem::LogTime,
            TrayItem::SyncNow,
            TrayItem::Open,
            TrayItem::Quit,
        ] {
            assert_eq!(TrayItem::from_id(&item.id()), Some(item));
        }
        assert_eq!(TrayItem::from_id("start:x"), None);
    }

    #[test]
    fn the_title_shows_ticket_elapsed_and_minutes_left_near_the_budget() {
        let mut ticket = ticket();
        assert_eq!(title(Some(&ticket), 1.2, 90, 100), "#123 · 1:12");
        ticket.hours_used = Hours::parse("9.7").expect("hours");
        ticket.utilization_pct = Some(Utilization::from_basis_points(9_700));
        assert_eq!(title(Some(&ticket), 0.5, 90, 100), "#123 · 0:30 · 18 min left");
        assert_eq!(clock(0.0), "0:00");
    }

    #[test]
    fn a_running_timer_offers_stop_first_and_titles_the_tray() {
        let tickets = [ticket()];
        let (timer, sync) = (running(), LastSync::default());
        let known = Known { waiting: 2, ..known(&timer, &tickets, &sync) };
        let shown = picture(&known);
        assert_eq!(shown.menu[0], Entry::Item(TrayItem::Stop, "⏹ Stop #123 VPN (0:30)".into()));
        assert_eq!(shown.title, "#123 · 0:30 · 2 entries waiting");
        assert_eq!(shown.icon, "running");
        let Entry::Submenu(_, start) = &shown.menu[2] else {
            panic!("the Start on… submenu: {:?}", shown.menu)
        };
        assert_eq!(
            start[0],
            Entry::Item(TrayItem::Start(TicketNumber::new(123).expect("n")), "#123 VPN".into())
        );

        let idle = picture(&Known { timer: &TimerStatus::STOPPED, waiting: 0, ..known });
        assert_eq!((idle.icon, idle.title.as_str(), idle.tooltip.as_str()), ("idle", "", "Tickettime"));
        assert!(idle.menu.iter().any(|e| *e == Entry::Item(TrayItem::Open, "Open Tickettime".into())));
    }

    #[test]
    fn the_lock_forecast_shows_in_the_tooltip_and_the_start_menu() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 10).expect("a day");
        let tickets = vec![TicketView { forecast_lock_on: Some(day), ..ticket() }];
        let (timer, sync) = (running(), LastSync::default());
        let shown = picture(&known(&timer, &tickets, &sync));
        assert_eq!(shown.tooltip, "Tickettime — #123 · 0:30 · locks around Thu 10 Dec at this pace");
        let Entry::Submenu(_, start) = &shown.menu[2] else { panic!("the Start on… submenu") };
        assert_eq!(
            start[0],
            Entry::Item(
                TrayItem::Start(TicketNumber::new(123).expect("n")),
                "#123 VPN · locks ~Thu 10 Dec".into()
            )
        );
    }
}
