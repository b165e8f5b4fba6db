//! Builds the Tauri context from the repository root's `tauri.conf.json` and
//! `capabilities/`, and restricts the webview to the commands listed here.

/// Every IPC command; the capability in ../capabilities/main.json allows each.
const COMMANDS: [&str; 25] = [
    "app_state",
    "list_tickets",
    "get_ticket",
    "timeline",
    "create_ticket",
    "update_ticket",
    "link_project",
    "harvest_clients",
    "create_harvest_project",
    "record_message",
    "submit_entry",
    "timer_start",
    "timer_stop",
    "summarize",
    "unlock_ticket",
    "sync_now",
    "connect_oauth",
    "connect_token",
    "start_demo",
    "disconnect",
    "save_settings",
    "open_project",
    "request_unlock",
    "unlock_requests",
    "answer_unlock_request",
];

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../capabilities");
    println!("cargo:rerun-if-changed=../ui/dist");
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .capabilities_path_pattern("../capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(&COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build failed: {error:#}");
    }
}
