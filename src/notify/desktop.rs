//! Shows notices as native notifications (notify-rust, on the session bus):
//! the desktop window's process and the tray's both call these. Which events
//! become notices, and their text, is [`super`]'s.

use super::{escape_markup, Notice};
use crate::store::{RequestNews, RequestState, Store};
use crate::Actor;

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
                Ok(_) => eprintln!("tickettime: notified: {}", notice.summary),
                Err(error) => eprintln!("tickettime: notification not shown ({}): {error}", notice.summary),
            }
        }
    })
    .await;
    if let Err(error) = outcome {
        eprintln!("tickettime: notifications task failed: {error}");
    }
}

/// Tells of unlock requests: a PM gets Approve / Deny buttons where the
/// notification server has actions (and the request in the app otherwise);
/// an agent gets the answer.
/// `answered` runs after a button answered a request (to redraw).
pub async fn show_requests(
    store: &Store,
    me: Actor,
    news: Vec<RequestNews>,
    answered: impl Fn() + Clone + Send + 'static,
) {
    let runtime = tokio::runtime::Handle::current();
    for item in news {
        let store = store.clone();
        let me = me.clone();
        let answered = answered.clone();
        let runtime = runtime.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let caps = notify_rust::get_capabilities().unwrap_or_default();
            let markup = caps.iter().any(|c| c == "body-markup");
            let text = |t: &str| if markup { escape_markup(t) } else { t.to_owned() };
            match item {
                RequestNews::Asked(request) => {
                    let asked = request.hours.map(|h| format!(" (+{h:.2} h)")).unwrap_or_default();
                    let mut note = notify_rust::Notification::new();
                    note.appname("Tickettime")
                        .summary(&format!("Unlock requested: #{}", request.ticket))
                        .body(&text(&format!("{} asks{asked}: {}", request.requested_by, request.reason)));
                    let actions = caps.iter().any(|c| c == "actions");
                    if actions {
                        note.action("approve", &format!("Approve{asked}")).action("deny", "Deny");
                    }
                    let shown = note.show().map_err(|e| e.to_string())?;
                    if actions {
                        let mut answer = None;
                        // A dismissed notification reports "__closed": only a button answers.
                        shown.wait_for_action(|action| {
                            answer = match action {
                                "approve" => Some(true),
                                "deny" => Some(false),
                                _ => None,
                            }
                        });
                        if let Some(approve) = answer {
                            let extra = request.hours.unwrap_or_default();
                            let reply = runtime.block_on(store.answer_unlock_request(
                                &me,
                                request.id,
                                approve,
                                extra,
                                None,
                                chrono::Utc::now(),
                            ));
                            if let Err(error) = reply {
                                eprintln!("tickettime: answering request {} failed: {error}", request.id);
                            }
                            answered();
                        }
                    }
                }
                RequestNews::Answered(request) => {
                    let summary = match request.state {
                        RequestState::Approved => format!(
                            "Unlock approved: #{}{}",
                            request.ticket,
                            request.extra_granted.map(|h| format!(" (+{h:.2} h)")).unwrap_or_default()
                        ),
                        _ => format!("Unlock denied: #{}", request.ticket),
                    };
                    let body = format!(
                        "{}{}",
                        request.answered_by.as_deref().unwrap_or("A PM"),
                        request.answer_note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
                    );
                    notify_rust::Notification::new()
                        .appname("Tickettime")
                        .summary(&summary)
                        .body(&text(&body))
                        .show()
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok::<(), String>(())
        });
        // Waiting for a button must not hold up the next notification.
        tokio::spawn(async move {
            if let Ok(Err(error)) = outcome.await {
                eprintln!("tickettime: request notification not shown: {error}");
            }
        });
    }
}

/// Shows a nudge ([`crate::nudge`]) with its buttons, where the server has
/// actions, and waits for the one pressed: the away's answers; a reminder
/// to start offers `recent` tickets (at most three) and Snooze; "still
/// working?" offers Stop and Snooze. `None`: dismissed, or no buttons.
pub async fn nudge(
    nudge: crate::nudge::Nudge,
    zone: chrono::FixedOffset,
    recent: Vec<(crate::domain::TicketNumber, String)>,
) -> Option<crate::nudge::Answer> {
    use crate::domain::idle::IdleChoice;
    use crate::domain::reminder::Reminder;
    use crate::nudge::{Answer, Nudge};
    let (title, body) = crate::nudge::words(&nudge, zone);
    let mut buttons: Vec<(String, String, Answer)> = Vec::new();
    match nudge {
        Nudge::Away(pending) => {
            let at = pending.away.since.with_timezone(&zone).format("%H:%M");
            buttons.push(("keep".into(), "Keep".into(), Answer::Away(pending, IdleChoice::Keep)));
            buttons.push(("discard".into(), "Discard".into(), Answer::Away(pending, IdleChoice::Discard)));
            buttons.push((
                "stop".into(),
                format!("Stop at {at}"),
                Answer::Away(pending, IdleChoice::StopAtIdleStart),
            ));
            buttons.push(("move".into(), "Move to…".into(), Answer::MoveAway));
        }
        Nudge::Remind(Reminder::StartTimer) => {
            for (number, label) in recent.into_iter().take(3) {
                buttons.push((format!("start:{number}"), format!("▶ {label}"), Answer::Start(number)));
            }
            buttons.push(("snooze".into(), "Snooze".into(), Answer::Snooze));
        }
        Nudge::Remind(Reminder::StillWorking { .. }) => {
            buttons.push(("stop-timer".into(), "Stop timer".into(), Answer::StopTimer));
            buttons.push(("snooze".into(), "Snooze".into(), Answer::Snooze));
        }
    }
    let outcome = tokio::task::spawn_blocking(move || {
        let caps = notify_rust::get_capabilities().unwrap_or_default();
        let markup = caps.iter().any(|c| c == "body-markup");
        let actions = caps.iter().any(|c| c == "actions");
        let mut note = notify_rust::Notification::new();
        note.appname("Tickettime")
            .summary(&title)
            .body(&if markup { escape_markup(&body) } else { body.clone() })
            .icon("appointment-soon")
            // It goes after ten minutes, and with it the thread waiting for
            // its button (the window still asks about an away).
            .timeout(notify_rust::Timeout::Milliseconds(600_000));
        if actions {
            for (id, label, _) in &buttons {
                note.action(id, label);
            }
        }
        let shown = note.show().map_err(|e| e.to_string())?;
        eprintln!("tickettime: notified: {title}");
        let mut chosen = None;
        if actions {
            // A dismissed notification reports "__closed": only a button answers.
            shown.wait_for_action(|action| {
                chosen = buttons.iter().find(|(id, _, _)| id == action).map(|(_, _, answer)| *answer);
            });
        }
        Ok::<_, String>(chosen)
    })
    .await;
    match outcome {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => {
            eprintln!("tickettime: nudge not shown: {error}");
            None
        }
        Err(error) => {
            eprintln!("tickettime: nudge task failed: {error}");
            None
        }
    }
}
