// The one list of IPC commands, included twice: by `build.rs`, which allows
// each to the main window (the app manifest and the generated capability),
// and by `lib.rs`, which registers the invoke handler and exports their
// TypeScript bindings (ui/src/bindings.ts, by scripts/bindings). A command
// added here is callable from the window and typed in the UI; one missing
// here is neither. `::<R>`: the command is generic over the Tauri runtime.
commands![
    app_state::<R>,
    list_tickets,
    get_ticket::<R>,
    timeline,
    create_ticket::<R>,
    update_ticket::<R>,
    link_project::<R>,
    harvest_clients::<R>,
    create_harvest_project::<R>,
    record_message::<R>,
    submit_entry::<R>,
    timer_start::<R>,
    timer_stop::<R>,
    summarize,
    unlock_ticket::<R>,
    sync_now::<R>,
    quarantine,
    outbox_items::<R>,
    outbox_retry::<R>,
    outbox_discard::<R>,
    connect_oauth::<R>,
    connect_token::<R>,
    start_demo::<R>,
    disconnect::<R>,
    save_settings::<R>,
    open_project::<R>,
    open_in_desk::<R>,
    request_unlock::<R>,
    unlock_requests,
    answer_unlock_request::<R>,
]
