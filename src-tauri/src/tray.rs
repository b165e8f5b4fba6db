//! The tray: its icon (idle, running, the running ticket's band), its title
//! (`#123 · 1:12 · 18 min left`) and its menu. Menu ids are an enum; tray
//! clicks are unreliable on Linux, so everything is in the menu.

use tauri::image::Image;
use tauri::menu::{Menu, MenuId, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tickettime::domain::TicketNumber;
use tickettime::store::TicketView;
use tickettime::Store;

use crate::live::Live;

/// The tray's stable id.
pub const TRAY_ID: &str = "tickettime";

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

impl From<TrayItem> for MenuId {
    fn from(item: TrayItem) -> Self {
        MenuId::new(match item {
            TrayItem::Stop => "stop".to_owned(),
            TrayItem::Start(ticket) => format!("start:{}", ticket.get()),
            TrayItem::Choose => "choose".to_owned(),
            TrayItem::LogTime => "log".to_owned(),
            TrayItem::SyncNow => "sync".to_owned(),
            TrayItem::Open => "open".to_owned(),
            TrayItem::Quit => "quit".to_owned(),
        })
    }
}

impl TryFrom<&MenuId> for TrayItem {
    type Error = ();
    fn try_from(id: &MenuId) -> Result<Self, ()> {
        Ok(match id.as_ref() {
            "stop" => TrayItem::Stop,
            "choose" => TrayItem::Choose,
            "log" => TrayItem::LogTime,
            "sync" => TrayItem::SyncNow,
            "open" => TrayItem::Open,
            "quit" => TrayItem::Quit,
            other => TrayItem::Start(other.strip_prefix("start:").and_then(|n| n.parse().ok()).ok_or(())?),
        })
    }
}

fn icon(name: &str) -> tauri::Result<Image<'static>> {
    let bytes: &'static [u8] = match name {
        "running" => include_bytes!("../../icons/tray-running.png"),
        "green" => include_bytes!("../../icons/tray-green.png"),
        "yellow" => include_bytes!("../../icons/tray-yellow.png"),
        "orange" => include_bytes!("../../icons/tray-orange.png"),
        "red" => include_bytes!("../../icons/tray-red.png"),
        _ => include_bytes!("../../icons/tray-idle.png"),
    };
    Image::from_bytes(bytes)
}

/// Creates the tray icon (its menu comes with the first [`refresh`]).
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = Menu::with_items(
        app,
        &[&MenuItem::with_id(app, TrayItem::Open, "Open Tickettime", true, None::<&str>)?],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon("idle")?)
        .tooltip("Tickettime")
        .menu(&menu)
        .on_menu_event(|app, event| {
            if let Ok(item) = TrayItem::try_from(event.id()) {
                crate::on_tray_item(app, item);
            }
        })
        .build(app)?;
    Ok(())
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
    let left = tickettime::domain::budget::minutes_left(
        ticket.hours_used,
        ticket.budget_hours,
        ticket.extra_hours,
        lock_pct,
    );
    if let Some(minutes) = left.filter(|_| near) {
        title.push_str(&format!(" · {minutes} min left"));
    }
    title
}

/// Rebuilds the tray's menu, icon and title from what the app knows.
pub async fn refresh<R: Runtime>(app: &AppHandle<R>) {
    if let Err(error) = rebuild(app).await {
        log::warn!("tray not updated: {error}");
    }
}

async fn rebuild<R: Runtime>(app: &AppHandle<R>) -> anyhow::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return Ok(()) };
    let store = app.state::<Store>();
    let live = app.state::<Live>();
    let timer = live.timer();
    let sync = live.sync();
    let tickets = store.tickets().await?;
    let lines = store.thresholds().await?;
    let running = timer.ticket.and_then(|n| tickets.iter().find(|t| t.number == n));
    let waiting = waiting_text(crate::commands::outbox_summary(app).await.waiting);

    let mut items: Vec<Box<dyn tauri::menu::IsMenuItem<R>>> = Vec::new();
    if timer.running {
        let label = match running {
            Some(t) => format!(
                "⏹ Stop #{} {} ({})",
                t.number,
                short(&t.subject),
                clock(timer.elapsed_hours.unwrap_or(0.0))
            ),
            None => format!("⏹ Stop timer ({})", clock(timer.elapsed_hours.unwrap_or(0.0))),
        };
        items.push(Box::new(MenuItem::with_id(app, TrayItem::Stop, label, true, None::<&str>)?));
        items.push(Box::new(PredefinedMenuItem::separator(app)?));
    }
    let recent = crate::recent_tickets(app, &tickets);
    let mut start_items: Vec<Box<dyn tauri::menu::IsMenuItem<R>>> = Vec::new();
    for ticket in recent.iter().take(6) {
        if let Some(number) = TicketNumber::new(ticket.number) {
            // A locked ticket stays in the list: choosing it offers to ask
            // its PM to unlock it (or, for a PM, to open it).
            let label = if ticket.locked {
                format!("🔒 #{} {} — locked: request unlock…", ticket.number, short(&ticket.subject))
            } else {
                format!("#{} {}", ticket.number, short(&ticket.subject))
            };
            start_items.push(Box::new(MenuItem::with_id(
                app,
                TrayItem::Start(number),
                label,
                true,
                None::<&str>,
            )?));
        }
    }
    start_items.push(Box::new(PredefinedMenuItem::separator(app)?));
    start_items.push(Box::new(MenuItem::with_id(
        app,
        TrayItem::Choose,
        "Choose ticket…",
        true,
        None::<&str>,
    )?));
    let start_refs: Vec<&dyn tauri::menu::IsMenuItem<R>> = start_items.iter().map(|i| i.as_ref()).collect();
    items.push(Box::new(Submenu::with_items(app, "▶ Start on…", true, &start_refs)?));
    items.push(Box::new(MenuItem::with_id(app, TrayItem::LogTime, "Log time…", true, None::<&str>)?));
    if let Some(waiting) = &waiting {
        // Opens the window, where the waiting items are listed.
        items.push(Box::new(MenuItem::with_id(
            app,
            TrayItem::Open,
            format!("⏳ {waiting} for Harvest"),
            true,
            None::<&str>,
        )?));
    }
    let last = sync
        .last_run_at
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .map_or_else(|| "never".to_owned(), |t| format!("last {t}"));
    let sync_label = if sync.last_error.is_some() {
        format!("Sync now ({last}, failed)")
    } else {
        format!("Sync now ({last})")
    };
    items.push(Box::new(MenuItem::with_id(app, TrayItem::SyncNow, sync_label, true, None::<&str>)?));
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(app, TrayItem::Open, "Open Tickettime", true, None::<&str>)?));
    items.push(Box::new(MenuItem::with_id(app, TrayItem::Quit, "Quit", true, None::<&str>)?));
    let refs: Vec<&dyn tauri::menu::IsMenuItem<R>> = items.iter().map(|i| i.as_ref()).collect();
    tray.set_menu(Some(Menu::with_items(app, &refs)?))?;

    let (icon_name, mut text) = if timer.running {
        let band = running.and_then(|t| t.band).map_or("running", |b| b.as_str());
        (band, title(running, timer.elapsed_hours.unwrap_or(0.0), lines.near, lines.lock))
    } else {
        ("idle", String::new())
    };
    if let Some(waiting) = waiting {
        text = if text.is_empty() { waiting } else { format!("{text} · {waiting}") };
    }
    tray.set_icon(Some(icon(icon_name)?))?;
    tray.set_title(if text.is_empty() { None } else { Some(text.clone()) })?;
    let tooltip = match (&text, &sync.last_error) {
        (_, Some(error)) => format!("Tickettime — sync failed: {error}"),
        (t, None) if !t.is_empty() => format!("Tickettime — {t}"),
        _ => "Tickettime".to_owned(),
    };
    tray.set_tooltip(Some(tooltip))?;
    let _ = app.emit("tray-refreshed", ());
    Ok(())
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
    use tickettime::domain::{Hours, Utilization};

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
            assert_eq!(TrayItem::try_from(&MenuId::from(item)), Ok(item));
        }
        assert!(TrayItem::try_from(&MenuId::new("start:x")).is_err());
    }

    #[test]
    fn the_title_shows_ticket_elapsed_and_minutes_left_near_the_budget() {
        let mut ticket = TicketView {
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
        };
        assert_eq!(title(Some(&ticket), 1.2, 90, 100), "#123 · 1:12");
        ticket.hours_used = Hours::parse("9.7").expect("hours");
        ticket.utilization_pct = Some(Utilization::from_basis_points(9_700));
        assert_eq!(title(Some(&ticket), 0.5, 90, 100), "#123 · 0:30 · 18 min left");
        assert_eq!(clock(0.0), "0:00");
    }
}
