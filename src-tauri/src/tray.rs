//! The tray icon and its menu. Menu ids are an enum, never bare strings.

use tauri::menu::{Menu, MenuId, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Runtime};

/// The tray's stable id.
pub const TRAY_ID: &str = "tickettime";

/// Every item of the tray menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayItem {
    Open,
    Quit,
}

impl TrayItem {
    const ALL: [TrayItem; 2] = [TrayItem::Open, TrayItem::Quit];

    fn id(self) -> &'static str {
        match self {
            TrayItem::Open => "open",
            TrayItem::Quit => "quit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            TrayItem::Open => "Open Tickettime",
            TrayItem::Quit => "Quit",
        }
    }
}

impl From<TrayItem> for MenuId {
    fn from(item: TrayItem) -> Self {
        MenuId::new(item.id())
    }
}

impl TryFrom<&MenuId> for TrayItem {
    type Error = ();
    fn try_from(id: &MenuId) -> Result<Self, ()> {
        TrayItem::ALL.into_iter().find(|item| id.as_ref() == item.id()).ok_or(())
    }
}

/// Builds the tray icon with its menu.
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let items = TrayItem::ALL
        .into_iter()
        .map(|item| MenuItem::with_id(app, item, item.label(), true, None::<&str>))
        .collect::<tauri::Result<Vec<_>>>()?;
    let refs: Vec<&dyn tauri::menu::IsMenuItem<R>> = items.iter().map(|i| i as _).collect();
    let menu = Menu::with_items(app, &refs)?;
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray-idle.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("Tickettime")
        .menu(&menu)
        .on_menu_event(|app, event| match TrayItem::try_from(event.id()) {
            Ok(TrayItem::Open) => {
                if let Err(error) = crate::open_main_window(app) {
                    eprintln!("cannot open the window: {error}");
                }
            }
            Ok(TrayItem::Quit) => app.exit(0),
            Err(()) => {}
        })
        .build(app)?;
    Ok(())
}
