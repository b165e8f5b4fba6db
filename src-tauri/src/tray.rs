//! The window process's tray (the one-process app): the core's
//! [`tickettime::app::tray::picture`] drawn with Tauri's tray. Menu ids are
//! the core's; tray clicks are unreliable on Linux, so everything is in the menu.

use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tickettime::app::tray::{picture, Entry, Known, LastSync, TrayItem};
use tickettime::Store;

use crate::live::Live;

/// The tray's stable id.
pub const TRAY_ID: &str = "tickettime";

fn icon(name: &str) -> tauri::Result<Image<'static>> {
    Image::from_bytes(tickettime::app::tray::icon_png(name))
}

/// Creates the tray icon (its menu comes with the first [`refresh`]).
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = Menu::with_items(
        app,
        &[&MenuItem::with_id(app, TrayItem::Open.id(), "Open Tickettime", true, None::<&str>)?],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon("idle")?)
        .tooltip("Tickettime")
        .menu(&menu)
        .on_menu_event(|app, event| {
            if let Some(item) = TrayItem::from_id(event.id().as_ref()) {
                crate::on_tray_item(app, item);
            }
        })
        .build(app)?;
    Ok(())
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
    let known = Known {
        timer: &timer,
        tickets: &tickets,
        recent: &crate::recent(app),
        lines: store.thresholds().await?,
        waiting: crate::commands::outbox_summary(app).await.waiting,
        sync: &LastSync { at: sync.last_run_at, error: sync.last_error.clone() },
    };
    let shown = picture(&known);
    let items = entries(app, &shown.menu)?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|i| i.as_ref()).collect();
    tray.set_menu(Some(Menu::with_items(app, &refs)?))?;
    tray.set_icon(Some(icon(shown.icon)?))?;
    tray.set_title(if shown.title.is_empty() { None } else { Some(shown.title) })?;
    tray.set_tooltip(Some(shown.tooltip))?;
    let _ = app.emit("tray-refreshed", ());
    Ok(())
}

fn entries<R: Runtime>(app: &AppHandle<R>, menu: &[Entry]) -> tauri::Result<Vec<Box<dyn IsMenuItem<R>>>> {
    let mut items: Vec<Box<dyn IsMenuItem<R>>> = Vec::new();
    for entry in menu {
        match entry {
            Entry::Item(item, label) => {
                items.push(Box::new(MenuItem::with_id(app, item.id(), label, true, None::<&str>)?));
            }
            Entry::Separator => items.push(Box::new(PredefinedMenuItem::separator(app)?)),
            Entry::Submenu(label, children) => {
                let children = entries(app, children)?;
                let refs: Vec<&dyn IsMenuItem<R>> = children.iter().map(|i| i.as_ref()).collect();
                items.push(Box::new(Submenu::with_items(app, label, true, &refs)?));
            }
        }
    }
    Ok(items)
}
