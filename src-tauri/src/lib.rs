//! Tickettime on the desktop: a thin Tauri shell over the `tickettime` core.
//!
//! Wiring only: the window, the tray and IPC commands that call one core
//! function each. Rules, SQL and HTTP live in the core crate.

mod commands;
mod tray;

use tauri::{Manager, RunEvent, Runtime, WebviewUrl, WebviewWindowBuilder};
use tickettime::Store;

/// The main window's label; capabilities are bound to it.
pub const MAIN_WINDOW: &str = "main";

/// Registers state, commands and the tray on `builder`. Tests pass a mock
/// builder; `main` passes the real one.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>, store: Store) -> tauri::Builder<R> {
    builder.manage(store).invoke_handler(tauri::generate_handler![commands::list_tickets]).setup(|app| {
        tray::install(app.handle())?;
        Ok(())
    })
}

/// Shows the main window, rebuilding it if it was closed.
pub fn open_main_window<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        window.show()?;
        return window.set_focus();
    }
    let config = app.config().app.windows.iter().find(|w| w.label == MAIN_WINDOW).cloned();
    let window = match config {
        Some(config) => WebviewWindowBuilder::from_config(app, &config)?.build()?,
        None => {
            WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::default()).title("Tickettime").build()?
        }
    };
    window.set_focus()
}

/// The desktop binary's entry point.
pub fn main() -> std::process::ExitCode {
    let store = match tauri::async_runtime::block_on(open_store()) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let app = match run_app(tauri::Builder::default(), store)
        .build(tauri::generate_context!("../tauri.conf.json"))
    {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: cannot start Tickettime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        // Closing the window leaves the app in the tray; only Quit exits.
        if let RunEvent::ExitRequested { api, code: None, .. } = event {
            api.prevent_exit();
        }
    });
    std::process::ExitCode::SUCCESS
}

async fn open_store() -> anyhow::Result<Store> {
    use anyhow::Context;
    let url = match std::env::var(tickettime::store::DB_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => tickettime::store::default_path()
            .context("no home directory to keep the database in; set TICKETTIME_DB")?
            .display()
            .to_string(),
    };
    Ok(Store::open(&url).await?)
}
