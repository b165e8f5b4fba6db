//! Tickettime on the desktop: a thin Tauri shell over the `tickettime` core.
//!
//! Wiring only: the window, the tray, IPC commands that call the core, the
//! background import and native notifications. Rules, SQL and HTTP live in
//! the core crate; see docs/desktop-ipc.md for the UI contract.

mod background;
mod commands;
mod link;
mod live;
mod nudges;
mod tray;

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, RunEvent, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons};
use tauri_plugin_store::StoreExt;
use tickettime::Store;

use crate::background::Importer;
use crate::link::HarvestLink;
use crate::live::Live;
use tickettime::app::tray::TrayItem;

/// The main window's label; capabilities are bound to it.
pub const MAIN_WINDOW: &str = "main";
/// What is local to this desktop (recent tickets), beside the database.
const LOCAL_STORE: &str = "local.json";

/// What the app starts with.
pub struct Launch {
    pub store: Store,
    pub link: HarvestLink,
    pub live: Live,
    /// False under Tauri's mock runtime, which has no tray.
    pub tray: bool,
    /// Start in the tray without a window (`--hidden`; start at login uses it).
    pub hidden: bool,
    /// Only the window (`--window`): `tickettime-tray` keeps the tray and
    /// starts this process on demand; closing the window ends it, so no
    /// WebKit process lives while no window is shown.
    pub window_only: bool,
    /// Open this ticket once the page can hear it (`--open-ticket N`).
    pub open_ticket: Option<i64>,
}

/// The IPC contract: every command of `command_list.rs`, with the types it
/// takes and returns, as the invoke handler and as TypeScript
/// (`ui/src/bindings.ts`, written by `scripts/bindings`). Errors are thrown
/// as `CommandError`; ids and counts are below 2^53, so they travel as numbers.
pub fn ipc<Rt: Runtime>() -> tauri_specta::Builder<Rt> {
    // The list's `::<R>` names the runtime the types are read with (they do
    // not depend on it); the invoke handler serves `Rt`.
    type R = tauri::Wry;
    macro_rules! commands {
        ($($name:ident $(::<$runtime:ident>)?),* $(,)?) => {
            tauri_specta::collect_commands![$(commands::$name $(::<$runtime>)?),*]
        };
    }
    tauri_specta::Builder::<Rt>::new()
        .commands(include!("command_list.rs"))
        .typ::<commands::CommandError>()
        .constant("LOGGED_HOURS", tickettime::domain::LoggedHours::LIMITS)
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Where the generated bindings live, from this crate's directory.
pub const BINDINGS: &str = "../ui/src/bindings.ts";

/// The bindings as `scripts/bindings` writes them.
pub fn bindings_header() -> &'static str {
    "// Generated from src-tauri's commands by `scripts/bindings`; do not edit.\n// CI fails when this file is stale."
}

/// Registers state, commands, the tray and the background import on
/// `builder`. Tests pass a mock builder; `main` passes the real one.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>, launch: Launch) -> tauri::Builder<R> {
    let with_tray = launch.tray && !launch.window_only;
    let hidden = launch.hidden && with_tray && launch.live.tray_available();
    let open_ticket = launch.open_ticket;
    builder
        .manage(launch.store)
        .manage(launch.link)
        .manage(launch.live)
        .invoke_handler(ipc::<R>().invoke_handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            if with_tray {
                tray::install(&handle)?;
            }
            if hidden {
                // The window (and its webview processes) only exist when opened from the tray.
                if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                    window.destroy()?;
                }
            }
            app.manage(Importer::spawn(handle.clone()));
            // Under the tray process the tray tells; this window only asks.
            app.manage(nudges::Nudger::spawn(handle.clone(), with_tray));
            if let Some(number) = open_ticket {
                open_with(&handle, "open-ticket", Some(number));
            }
            tauri::async_runtime::spawn(async move {
                let store = handle.state::<Store>().inner().clone();
                if let Ok(settings) = tickettime::app::Settings::load(&store).await {
                    apply_settings(&handle, &settings);
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // On focus the app asks Harvest for the running timer.
            WindowEvent::Focused(true) => {
                if let Some(importer) = window.app_handle().try_state::<Importer>() {
                    importer.refresh_timer();
                }
            }
            WindowEvent::CloseRequested { api, .. }
                if !window.app_handle().state::<Live>().tray_available() =>
            {
                // No tray to come back from: keep a small window instead of closing.
                api.prevent_close();
                let _ = window.minimize();
            }
            _ => {}
        })
}

/// Shows the main window, rebuilding it (and its webview) if it was closed.
/// Returns true when it was created now (its page is still loading).
pub fn open_main_window<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<bool> {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        window.show()?;
        window.unminimize()?;
        window.set_focus()?;
        return Ok(false);
    }
    let config = app.config().app.windows.iter().find(|w| w.label == MAIN_WINDOW).cloned();
    let window = match config {
        Some(config) => WebviewWindowBuilder::from_config(app, &config)?.build()?,
        None => {
            WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::default()).title("Tickettime").build()?
        }
    };
    window.set_focus()?;
    Ok(true)
}

/// Opens the window and sends it an event once its page can hear it.
fn open_with<R: Runtime>(app: &AppHandle<R>, event: &'static str, payload: Option<i64>) {
    let created = match open_main_window(app) {
        Ok(created) => created,
        Err(error) => {
            log::warn!("cannot open the window: {error}");
            return;
        }
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if created {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        let _ = match payload {
            Some(number) => app.emit(event, number),
            None => app.emit(event, ()),
        };
    });
}

/// What a tray menu item does.
pub fn on_tray_item<R: Runtime>(app: &AppHandle<R>, item: TrayItem) {
    let app = app.clone();
    match item {
        TrayItem::Open => {
            let _ = open_main_window(&app);
        }
        TrayItem::Quit => app.exit(0),
        TrayItem::Choose | TrayItem::LogTime => open_with(&app, "show-picker", None),
        TrayItem::SyncNow => {
            tauri::async_runtime::spawn(async move { app.state::<Importer>().sync_now().await });
        }
        TrayItem::Stop => {
            tauri::async_runtime::spawn(async move {
                if let Err(error) = commands::stop_timer(&app, None).await {
                    log::warn!("stop from the tray failed: {error:?}");
                }
            });
        }
        TrayItem::Start(number) => {
            tauri::async_runtime::spawn(async move {
                match commands::start_timer(&app, number, None, false).await {
                    Ok(_) => {}
                    Err(error) if error.code() == commands::Code::Confirm => {
                        let question = error.message().to_owned();
                        let handle = app.clone();
                        app.dialog()
                            .message(question)
                            .title("Tickettime")
                            .buttons(MessageDialogButtons::OkCancelCustom(
                                "Start anyway".into(),
                                "Cancel".into(),
                            ))
                            .show(move |yes| {
                                if yes {
                                    tauri::async_runtime::spawn(async move {
                                        let _ = commands::start_timer(&handle, number, None, true).await;
                                    });
                                }
                            });
                    }
                    Err(error) if error.code() == commands::Code::Locked => {
                        let Ok(session) = commands::session(&app).await else { return };
                        let offer = tickettime::app::LockedOffer::for_actor(&session.actor);
                        let handle = app.clone();
                        app.dialog()
                            .message(offer.question(number))
                            .title("Tickettime")
                            .buttons(MessageDialogButtons::OkCancelCustom(
                                offer.action().into(),
                                "Cancel".into(),
                            ))
                            .show(move |yes| {
                                if !yes {
                                    return;
                                }
                                match offer {
                                    tickettime::app::LockedOffer::OpenTicket => {
                                        open_with(&handle, "open-ticket", Some(number.get()))
                                    }
                                    tickettime::app::LockedOffer::RequestUnlock => {
                                        tauri::async_runtime::spawn(async move {
                                            let asked = tickettime::app::request_unlock_without_reason(
                                                &session,
                                                number,
                                                chrono::Utc::now(),
                                            );
                                            match asked.await {
                                                Ok(_) => background::publish(&handle).await,
                                                Err(error) => log::warn!("unlock request failed: {error}"),
                                            }
                                        });
                                    }
                                }
                            });
                    }
                    Err(error) => {
                        log::warn!("start from the tray failed: {error:?}");
                        app.dialog().message(error.message()).title("Tickettime").show(|_| {});
                    }
                }
            });
        }
    }
}

/// Remembers a ticket the user worked on (the tray's "Start on" list).
pub fn remember_ticket<R: Runtime>(app: &AppHandle<R>, number: i64) {
    let Ok(local) = app.store(LOCAL_STORE) else { return };
    let recent: Vec<i64> =
        local.get("recent").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    local.set("recent", serde_json::json!(tickettime::app::remember_recent(recent, number)));
    if let Err(error) = local.save() {
        log::warn!("cannot save recent tickets: {error}");
    }
}

/// The tickets this desktop opened lately, newest first (the tray's "Start on" order).
pub fn recent<R: Runtime>(app: &AppHandle<R>) -> Vec<i64> {
    app.store(LOCAL_STORE)
        .ok()
        .and_then(|local| local.get("recent"))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Applies settings that live outside the database: start at login and the
/// global shortcut.
pub fn apply_settings<R: Runtime>(app: &AppHandle<R>, settings: &tickettime::app::Settings) {
    use tauri_plugin_global_shortcut::GlobalShortcutExt;
    // Where the tray process is installed beside this binary, login starts
    // it (an XDG autostart entry); otherwise the plugin starts this app hidden.
    let tray = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("tickettime-tray")))
        .filter(|path| path.is_file());
    if let Some(autostart) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() {
        let outcome =
            if settings.start_at_login && tray.is_none() { autostart.enable() } else { autostart.disable() };
        if let Err(error) = outcome {
            log::warn!("start at login not changed: {error}");
        }
    }
    if let (Some(tray), Some(dir)) = (tray, tickettime::app::autostart::dir()) {
        if let Err(error) = tickettime::app::autostart::set_in(&dir, &tray, settings.start_at_login) {
            log::warn!("start at login not changed: {error}");
        }
    }
    if app.try_state::<tauri_plugin_global_shortcut::GlobalShortcut<R>>().is_none() {
        return;
    }
    let shortcuts = app.global_shortcut();
    let _ = shortcuts.unregister_all();
    if !settings.global_shortcut.trim().is_empty() {
        if let Err(error) = shortcuts.register(settings.global_shortcut.trim()) {
            log::warn!("global shortcut {} not registered: {error}", settings.global_shortcut);
        }
    }
}

/// Whether a tray host (a StatusNotifierWatcher) is on the session bus.
/// Without `dbus-send` to ask, a tray is assumed.
#[cfg(target_os = "linux")]
fn tray_host_present() -> bool {
    let answer = std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.kde.StatusNotifierWatcher",
        ])
        .output();
    match answer {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).contains("boolean true"),
        Ok(_) => false,
        Err(_) => true,
    }
}

#[cfg(not(target_os = "linux"))]
fn tray_host_present() -> bool {
    true
}

/// Tells `tickettime-tray` (when it started this window) that something
/// changed here, so its title and menu follow at once: SIGUSR1 to the pid
/// it passed in `TICKETTIME_TRAY_PID`.
pub fn signal_tray() {
    #[cfg(unix)]
    if let Some(pid) = std::env::var("TICKETTIME_TRAY_PID").ok().and_then(|p| p.parse::<i32>().ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGUSR1);
    }
}

/// The desktop binary's entry point. `--demo` starts straight into demo mode;
/// `--hidden` starts in the tray without a window; `--window` is only the
/// window, for `tickettime-tray`.
pub fn main() -> std::process::ExitCode {
    // WebKitGTK's accelerated compositing keeps a GL context and its buffers
    // in the web process: about 90 of its 200 MiB for this small, static
    // page (docs/footprint.md), which paints the same without it. A value
    // the user set stays. IMPORTANT: before any thread starts.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let demo = std::env::args().any(|a| a == "--demo");
    let hidden = std::env::args().any(|a| a == "--hidden");
    let window_only = std::env::args().any(|a| a == "--window");
    // The tray asks the window to show a ticket (a locked one, the 90 % question).
    let open_ticket =
        std::env::args().skip_while(|a| a != "--open-ticket").nth(1).and_then(|n| n.parse::<i64>().ok());
    let demo_port =
        demo.then(|| std::env::var("TICKETTIME_DEMO_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0));
    let launch = tauri::async_runtime::block_on(async {
        let url = tickettime::connection::desktop_database_url(demo)?;
        // A team database's password comes from the keychain, not the environment.
        let url = tickettime::connection::database_url(&url, &tickettime::keychain::Keychain::default())?;
        let store = Store::open(&url).await?;
        let (link, notice) = HarvestLink::open(&store, demo_port).await;
        let tray = window_only || tray_host_present();
        let mut notices: Vec<String> = notice.into_iter().collect();
        if let Ok(session) = link.session().await {
            if session.actor.is_team() && session.actor.may_lead_import().is_err() {
                notices.push(
                    "Team mode: this desktop does not import (a PM's or admin's desktop does, or a `tickettime \
                     sync --every 5m` worker with their token). Sync now asks the leader and shows its result."
                        .into(),
                );
            }
        }
        if !tray {
            notices.push(
                "No system tray was found, so Tickettime keeps this window open (closing it minimizes it)."
                    .into(),
            );
        }
        let live = Live::new(tray, (!notices.is_empty()).then(|| notices.join(" ")));
        anyhow::Ok(Launch { store, link, live, tray: true, hidden, window_only, open_ticket })
    });
    let launch = match launch {
        Ok(launch) => launch,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            let _ = open_main_window(app);
        }))
        .plugin(
            tauri_plugin_log::Builder::new()
                .targets([
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::LogDir { file_name: None }),
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::Stderr),
                ])
                .level(log::LevelFilter::Info)
                .build(),
        )
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, _shortcut, event| {
                    if event.state == tauri_plugin_global_shortcut::ShortcutState::Pressed {
                        open_with(app, "show-picker", None);
                    }
                })
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ));
    let app = match run_app(builder, launch).build(tauri::generate_context!("../tauri.conf.json")) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: cannot start Tickettime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    app.run(move |_app, event| {
        // Closing the window leaves the app in the tray; only Quit exits.
        // A window-only process ends with its window.
        if let RunEvent::ExitRequested { api, code: None, .. } = event {
            if !window_only {
                api.prevent_exit();
            }
        }
    });
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tickettime::domain::{Email, Hours, Role};
    use tickettime::store::NewTicket;

    #[test]
    fn the_demo_never_opens_the_configured_database() {
        // IMPORTANT: even with TICKETTIME_DB set, --demo uses a throw-away file.
        std::env::set_var(tickettime::store::DB_ENV, "postgres://team@db.example/tickettime");
        let url = tickettime::connection::desktop_database_url(true).expect("a demo database");
        std::env::remove_var(tickettime::store::DB_ENV);
        assert!(url.contains("tickettime-demo-") && url.ends_with("demo.db"), "a temporary file: {url}");
    }

    /// CI's staleness check; `scripts/bindings` runs it with
    /// TICKETTIME_WRITE_BINDINGS=1 to write the file instead.
    #[test]
    fn the_committed_typescript_bindings_match_the_commands() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fresh = dir.path().join("bindings.ts");
        ipc::<tauri::test::MockRuntime>()
            .export(specta_typescript::Typescript::default().header(bindings_header()), &fresh)
            .expect("the bindings export");
        let fresh = std::fs::read_to_string(fresh).expect("the exported bindings");
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS);
        if std::env::var_os("TICKETTIME_WRITE_BINDINGS").is_some() {
            std::fs::write(&committed, &fresh).expect("write ui/src/bindings.ts");
            return;
        }
        let current = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(current == fresh, "ui/src/bindings.ts is stale: run scripts/bindings and commit the result");
    }

    fn call(
        webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        cmd: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let body = if input.is_null() {
            InvokeBody::default()
        } else {
            InvokeBody::Json(serde_json::json!({ "input": input }))
        };
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body,
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|r| r.deserialize::<serde_json::Value>().expect("JSON"))
    }

    #[test]
    fn commands_call_the_core_and_map_its_errors_to_codes() {
        let dir = tempfile::tempdir().expect("dir");
        let launch = tauri::async_runtime::block_on(async {
            let store = Store::open(&dir.path().join("t.db").display().to_string()).await.expect("store");
            let pm = Email::parse("pia@desk.test").expect("email");
            store
                .add_staff(&tickettime::Actor::local_owner(None), &pm, "Pia", Role::Pm, Utc::now())
                .await
                .expect("pm");
            for (subject, budget) in [("VPN drops", 10), ("Locked one", 0)] {
                let new = NewTicket {
                    subject: subject.into(),
                    budget: Some(Hours::whole(budget)),
                    ..NewTicket::default()
                };
                store
                    .create_ticket(&tickettime::Actor::local_owner(None), new, Utc::now())
                    .await
                    .expect("ticket");
            }
            let (link, _) = HarvestLink::open(&store, None).await;
            Launch {
                store,
                link,
                live: Live::new(true, None),
                tray: false,
                hidden: false,
                window_only: false,
                open_ticket: None,
            }
        });
        let app = run_app(mock_builder().plugin(tauri_plugin_store::Builder::new().build()), launch)
            .build(mock_context(noop_assets()))
            .expect("the app builds on the mock runtime");
        let webview =
            tauri::WebviewWindowBuilder::new(&app, MAIN_WINDOW, Default::default()).build().expect("webview");

        let tickets = call(&webview, "list_tickets", serde_json::Value::Null).expect("list");
        assert_eq!(tickets[0]["subject"], "VPN drops");
        let detail = call(&webview, "get_ticket", serde_json::json!({ "number": 1 })).expect("detail");
        assert_eq!(detail["ticket"]["budget_hours"], "10.00", "hours cross IPC as exact text");
        assert_eq!(detail["can_manage"], true, "the local PM manages budgets");
        let missing =
            call(&webview, "get_ticket", serde_json::json!({ "number": 99 })).expect_err("no such ticket");
        assert_eq!(missing["code"], "not_found");
        assert!(missing["message"].as_str().is_some_and(|m| m.contains("#99")));
        let bad = call(
            &webview,
            "update_ticket",
            serde_json::json!({ "number": 1, "budget_hours": "ten", "quoted_hours": null, "status": null }),
        )
        .expect_err("bad hours");
        assert_eq!(bad["code"], "invalid");
        let reply = serde_json::json!({ "number": 1, "kind": "response", "body": "On it", "time": null });
        assert_eq!(call(&webview, "submit_entry", reply).expect("reply")["state"], "none");
        let state = call(&webview, "app_state", serde_json::Value::Null).expect("state");
        assert_eq!(state["connection"], "disconnected");
        assert_eq!(state["settings"]["lock_pct"], 100);
        let timer = call(
            &webview,
            "timer_start",
            serde_json::json!({ "number": 1, "task_id": null, "confirmed": false }),
        )
        .expect_err("no Harvest");
        assert_eq!(timer["code"], "not_connected");
    }
}
