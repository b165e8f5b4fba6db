//! The CLI's Harvest commands: connect, whoami, projects, log, timer, outbox.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::output;
use super::{OutboxCommand, TimerCommand};
use crate::connection::{self, Harvest, HarvestEnv};
use crate::keychain::Keychain;
use crate::logging::{self, Delivery, LogRequest};
use crate::personal::PersonalCache;
use crate::session::Session;
use crate::store::Store;
use crate::timer;

/// This OS user's Harvest connection for this database, if any: the
/// environment's token, the demo the file points at, or the keychain.
pub async fn open(store: &Store) -> anyhow::Result<Option<Harvest>> {
    Ok(connection::open_optional(store, &HarvestEnv::from_env(), &Keychain::default()).await?)
}

/// The session of whoever runs this command: resolved once, from this
/// process's token or database login (see [`crate::actor`]). `label` is `--as`.
pub async fn session(store: &Store, label: Option<&str>, now: DateTime<Utc>) -> anyhow::Result<Session> {
    let label = label.map(super::email_arg).transpose()?;
    let harvest = open(store).await?;
    Ok(Session::open(store.clone(), harvest, PersonalCache::default(), label.as_ref(), now).await?)
}

/// A session that must reach Harvest, with this person's queued time sent first.
async fn connected(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Session> {
    let session = session(store, None, now).await?;
    session.client()?;
    if let Ok(report) = logging::push(&session).await {
        if report.sent > 0 {
            eprintln!(
                "Sent {} queued time entr{} to Harvest.",
                report.sent,
                if report.sent == 1 { "y" } else { "ies" }
            );
        }
        if report.failed > 0 {
            eprintln!(
                "Harvest refused {} queued entr{}; see `tickettime outbox`.",
                report.failed,
                if report.failed == 1 { "y" } else { "ies" }
            );
        }
    }
    Ok(session)
}

pub fn report_delivery(request: &LogRequest, delivery: &Delivery, json: bool) -> anyhow::Result<()> {
    let hours = request.hours.hours();
    let ticket = request.ticket;
    match delivery {
        Delivery::Failed { message } => Err(anyhow!(
            "Harvest refused {hours} h on {ticket}: {message}; it stays in `tickettime outbox` as failed"
        )),
        Delivery::Sent { harvest_id } if json => output::json(&json!({
            "ticket": ticket.get(), "hours": hours.as_f64(), "state": "sent", "harvest_id": harvest_id
        })),
        Delivery::Queued { reason } if json => output::json(&json!({
            "ticket": ticket.get(), "hours": hours.as_f64(), "state": "queued", "reason": reason
        })),
        Delivery::Sent { harvest_id } => {
            println!("Logged {hours} h on {ticket} in Harvest (entry {harvest_id})");
            Ok(())
        }
        Delivery::Queued { reason } => {
            println!(
                "Harvest is not reachable ({reason}): {hours} h on {ticket} is queued and goes out with the next \
                 command that reaches Harvest (or `tickettime outbox push`)"
            );
            Ok(())
        }
    }
}

pub async fn connect(
    store: &Store,
    token: Option<String>,
    account_id: Option<i64>,
    client_id: Option<String>,
    no_browser: bool,
    json: bool,
) -> anyhow::Result<()> {
    let env = HarvestEnv::from_env();
    let keychain = Keychain::default();
    let cache = PersonalCache::default();
    if let Some(client_id) = client_id {
        let secret = super::read_secret("the OAuth client secret")?;
        connection::save_oauth_app(&keychain, &client_id, &secret)?;
        eprintln!("The OAuth app {client_id} is kept in this computer's keychain.");
    }
    let (identity, harvest, warning) = match token {
        Some(token) => {
            let account = account_id.context("--account-id is required with --token")?;
            connection::connect_token(
                store,
                &env,
                &keychain,
                &cache,
                secrecy::SecretString::from(token),
                account,
            )
            .await
            .context("Harvest did not accept the connection")?
        }
        None => {
            connection::connect_oauth(store, &env, &keychain, &cache, account_id, |url| {
                if no_browser {
                    println!("{url}");
                } else {
                    eprintln!("Opening Harvest in your browser. If nothing opens, visit:\n{url}");
                    if let Err(e) = open::that_detached(url) {
                        eprintln!("(could not open a browser: {e})");
                    }
                }
            })
            .await?
        }
    };
    // The token must be this database person's own (team: their login's).
    if let Err(error) = Session::open(store.clone(), Some(harvest), cache, None, Utc::now()).await {
        let _ = keychain.delete();
        return Err(anyhow!(error).context("the connection was not kept"));
    }
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    if json {
        output::json(&identity)?;
    } else {
        println!(
            "Connected to Harvest account {} as {} <{}> ({})",
            identity.account_id, identity.name, identity.email, identity.role
        );
    }
    Ok(())
}

pub async fn disconnect(store: &Store) -> anyhow::Result<()> {
    let harvest = open(store).await.ok().flatten();
    let cache = PersonalCache::default();
    if let Some(warning) =
        connection::disconnect(store, &Keychain::default(), &cache, harvest.as_ref()).await?
    {
        eprintln!("warning: {warning}");
    }
    println!("Disconnected from Harvest (on this computer, for you only).");
    Ok(())
}

pub async fn whoami(store: &Store, json: bool) -> anyhow::Result<()> {
    let now = Utc::now();
    let session = match connected(store, now).await {
        Ok(session) => session,
        // No Harvest connection: the file's owner (or the team login) answers.
        Err(error) if matches!(error.downcast_ref::<crate::Error>(), Some(crate::Error::NotConnected)) => {
            session(store, None, now).await?
        }
        Err(error) => return Err(error),
    };
    let actor = &session.actor;
    let harvest = actor.harvest();
    if json {
        return output::json(&json!({
            "id": harvest.map(|h| h.user_id),
            "name": actor.staff().map_or_else(|| actor.author(), |s| s.name.clone()),
            "email": actor.staff().map(|s| s.email.clone()),
            "role": actor.role(),
            "account_id": harvest.map(|h| h.account_id),
            "standing": match actor.standing() {
                crate::actor::Standing::LocalOwner => "owner".to_owned(),
                crate::actor::Standing::HarvestUser => "harvest".to_owned(),
                crate::actor::Standing::DbLogin(login) => format!("db_login:{login}"),
            },
        }));
    }
    match harvest {
        Some(h) => println!("{} — {} in Harvest account {}", actor.describe(), h.role, h.account_id),
        None => println!("{}", actor.describe()),
    }
    Ok(())
}

pub async fn projects(store: &Store, json: bool) -> anyhow::Result<()> {
    let session = connected(store, Utc::now()).await?;
    let assignments = session.client()?.my_project_assignments().await?;
    session.cache_tasks(&assignments);
    let rows: Vec<_> = assignments
        .iter()
        .filter(|a| a.is_active)
        .map(|a| {
            json!({
                "id": a.project.id,
                "name": a.project.name,
                "client": a.client.as_ref().map(|c| c.name.clone()),
                "tasks": a.active_tasks().map(|t| json!({"id": t.id, "name": t.name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    if json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        println!("You are assigned to no active Harvest project.");
    }
    for a in assignments.iter().filter(|a| a.is_active) {
        let client = a.client.as_ref().map(|c| format!(" ({})", c.name)).unwrap_or_default();
        println!("{:>10}  {}{client}", a.project.id, a.project.name);
        for task in a.active_tasks() {
            println!("{:>10}    task {} {}", "", task.id, task.name);
        }
    }
    Ok(())
}

pub async fn timer(
    store: &Store,
    command: TimerCommand,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let session = connected(store, now).await?;
    match command {
        TimerCommand::Start { number, task, yes } => {
            let entry = match timer::start(&session, number, task, yes, now).await {
                Err(crate::Error::NeedsConfirmation(question)) => {
                    return Err(anyhow!("{question} (pass --yes to start anyway)"))
                }
                other => other?,
            };
            if json {
                output::json(&timer::status(&session, now).await?)?;
            } else {
                println!(
                    "Timer started on {number} ({}, {}); Harvest entry {}",
                    entry.project.name, entry.task.name, entry.id
                );
            }
        }
        TimerCommand::Stop { notes } => {
            let entry = timer::stop(&session, notes, now).await?;
            if json {
                output::json(
                    &json!({"harvest_id": entry.id, "hours": entry.hours, "running": entry.is_running}),
                )?;
            } else {
                println!(
                    "Timer stopped: {:.2} h on {} (Harvest entry {})",
                    entry.hours, entry.project.name, entry.id
                );
            }
        }
        TimerCommand::Status => {
            let status = timer::status(&session, now).await?;
            if json {
                output::json(&status)?;
            } else if status.running {
                let ticket = status.ticket.map_or_else(|| "no ticket".to_owned(), |t| format!("#{t}"));
                println!(
                    "Running on {ticket} for {:.2} h (Harvest entry {})",
                    status.elapsed_hours.unwrap_or_default(),
                    status.harvest_id.unwrap_or_default()
                );
            } else {
                println!("No timer is running.");
            }
        }
    }
    Ok(())
}

pub async fn outbox(
    store: &Store,
    command: OutboxCommand,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    match command {
        OutboxCommand::List => {
            let items = store.outbox(&[]).await?;
            if json {
                return output::outbox_json(&items);
            }
            if items.is_empty() {
                println!("The outbox is empty.");
            }
            for i in items {
                println!(
                    "{}  #{:<5} {:>5} h  {:<7} {}{}",
                    i.id,
                    i.ticket,
                    i.hours.to_string(),
                    format!("{:?}", i.state).to_lowercase(),
                    i.harvest_id.map(|h| format!("entry {h}")).unwrap_or_default(),
                    i.last_error.map(|e| format!("  ({e})")).unwrap_or_default()
                );
            }
            Ok(())
        }
        OutboxCommand::Push => {
            let session = session(store, None, now).await?;
            // A crashed push's item is resolved here, after it settles.
            let options = logging::PushOptions { wait_for_settling: true, ..logging::PushOptions::default() };
            let report = logging::push_with(&session, &options).await?;
            if json {
                return output::json(&json!({
                    "sent": report.sent, "failed": report.failed, "pending": report.pending,
                    "busy": report.busy, "stopped": report.stopped
                }));
            }
            println!("{} sent, {} refused, {} still waiting", report.sent, report.failed, report.pending);
            if report.busy > 0 {
                println!("{} being sent by another Tickettime right now.", report.busy);
            }
            if let Some(reason) = report.stopped {
                println!("Stopped: {reason}");
            }
            Ok(())
        }
        OutboxCommand::Retry { id } => {
            let session = session(store, None, now).await?;
            store.outbox_retry(&session.actor, &id, now).await?;
            println!("Item {id} is back in line; it goes out with the next push (`tickettime outbox push`).");
            Ok(())
        }
        OutboxCommand::Discard { id } => {
            let session = session(store, None, now).await?;
            store.outbox_discard(&session.actor, &id, now).await?;
            println!("Item {id} is discarded: it will not be sent.");
            Ok(())
        }
    }
}

/// Links a ticket to a project. With Harvest reachable, the id is checked
/// first (a clear error for an unknown one) and the project's entries are
/// pulled in; without a connection the link is made locally.
pub async fn link(
    session: &Session,
    number: crate::domain::TicketNumber,
    project: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<crate::store::TicketView> {
    match crate::sync::link_ticket(session, number, project, now).await {
        Err(crate::Error::Harvest(error)) if error.is_transient() => {
            // Offline: link locally; the next sync brings the entries.
            let offline = Session::with_actor(
                session.store.clone(),
                None,
                session.cache.clone(),
                session.actor.clone(),
            );
            Ok(crate::sync::link_ticket(&offline, number, project, now).await?)
        }
        other => Ok(other?),
    }
}
