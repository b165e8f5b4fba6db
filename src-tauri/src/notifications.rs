//! Shows the core's notices as native notifications (notify-rust). Which
//! events become notices, and their text, is the core's (`tickettime::notify`).

use tickettime::notify::{escape_markup, Notice};

/// Shows each notice; failures (no notification server) are logged, never fatal.
pub async fn show(notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    let outcome = tokio::task::spawn_blocking(move || {
        // IMPORTANT: servers with body-markup render <b>, <a>, <img>…; ticket
        // subjects come from users and must show as text.
        let markup =
            notify_rust::get_capabilities().is_ok_and(|caps| caps.iter().any(|c| c == "body-markup"));
        for notice in notices {
            let body = if markup { escape_markup(&notice.body) } else { notice.body.clone() };
            let shown = notify_rust::Notification::new()
                .appname("Tickettime")
                .summary(&notice.summary)
                .body(&body)
                .icon("appointment-soon")
                .show();
            match shown {
                Ok(_) => log::info!("notified: {}", notice.summary),
                Err(error) => log::warn!("notification not shown ({}): {error}", notice.summary),
            }
        }
    })
    .await;
    if let Err(error) = outcome {
        log::warn!("notifications task failed: {error}");
    }
}
