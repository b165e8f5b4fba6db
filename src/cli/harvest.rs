//! The CLI's Harvest commands: connect, whoami, projects, log, timer, outbox.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::output;
use super::{OutboxCommand, TimerCommand};
use crate::connection::{self, Harvest, HarvestEnv};
use crate::keychain::Keychain;
use crate::logging::{self, Delivery, LogRequest};
use crate::store::{OutboxState, Staff, Store};
use crate::timer;

/// The Harvest client for this database. The first contact with an account
/// also remembers who the user is, so replies can be signed while offline.
pub async fn open(store: &Store) -> anyhow::Result<Harvest> {
    let harvest = connection::open(store, &HarvestEnv::from_env(), &Keychain::default()).await?;
    let known = store.account().await?.is_some_and(|a| a.account_id == harvest.client.account_id());
    if !known {
        if let Err(error) = connection::identify(store, &harvest.client).await {
            if !matches!(&error, crate::Error::Harvest(e) if e.is_transient()) {
                return Err(error.into());
            }
        }
    }
    Ok(harvest)
}

async fn open_and_push(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Harvest> {
    let harvest = open(store).await?;
    if let Ok(report) = logging::push(store, &harvest.client, now).await {
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
    Ok(harvest)
}

/// The staff member acting when no `--as` is given: the connected Harvest user.
pub async fn connected_staff(
    store: &Store,
    client: Option<&harvest::HarvestClient>,
) -> anyhow::Result<Staff> {
    let account = match store.account().await? {
        Some(account) => account,
        None => {
            let opened;
            let client = match client {
                Some(client) => client,
                None => {
                    opened = open(store).await.map_err(|_| {
                        anyhow!("pass --as EMAIL, or connect Harvest (`tickettime connect`) so Tickettime knows who you are")
                    })?;
                    &opened.client
                }
            };
            connection::identify(store, client).await?.0
        }
    };
    let email = crate::domain::Email::parse(&account.email).map_err(|e| anyhow!(e))?;
    Ok(store.staff(&email).await?)
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
    no_browser: bool,
    json: bool,
) -> anyhow::Result<()> {
    let env = HarvestEnv::from_env();
    let keychain = Keychain::default();
    let (account, _, warning) = match token {
        Some(token) => {
            let account = account_id.context("--account-id is required with --token")?;
            connection::connect_token(store, &env, &keychain, secrecy::SecretString::from(token), account)
                .await
                .context("Harvest did not accept the connection")?
        }
        None => {
            connection::connect_oauth(store, &env, &keychain, account_id, |url| {
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
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    if json {
        output::json(&account)?;
    } else {
        println!(
            "Connected to Harvest account {} as {} <{}> ({})",
            account.account_id, account.name, account.email, account.role
        );
    }
    Ok(())
}

pub async fn disconnect(store: &Store) -> anyhow::Result<()> {
    if let Some(warning) = connection::disconnect(store, &Keychain::default()).await? {
        eprintln!("warning: {warning}");
    }
    println!("Disconnected from Harvest.");
    Ok(())
}

pub async fn whoami(store: &Store, json: bool) -> anyhow::Result<()> {
    let now = Utc::now();
    let harvest = open_and_push(store, now).await?;
    let (account, _) = connection::identify(store, &harvest.client).await?;
    if json {
        output::json(&json!({
            "id": account.user_id, "name": account.name, "email": account.email,
            "role": account.role, "account_id": account.account_id
        }))
    } else {
        println!(
            "{} <{}> — {} in Harvest account {}",
            account.name, account.email, account.role, account.account_id
        );
        Ok(())
    }
}

pub async fn projects(store: &Store, json: bool) -> anyhow::Result<()> {
    let harvest = open_and_push(store, Utc::now()).await?;
    let assignments = harvest.client.my_project_assignments().await?;
    store.cache_tasks(&assignments).await?;
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
    let harvest = open_and_push(store, now).await?;
    let client = &harvest.client;
    match command {
        TimerCommand::Start { number, task, yes } => {
            let entry = match timer::start(store, client, number, task, yes, now).await {
                Err(crate::Error::NeedsConfirmation(question)) => {
                    return Err(anyhow!("{question} (pass --yes to start anyway)"))
                }
                other => other?,
            };
            if json {
                output::json(&timer::status(store, client, now).await?)?;
            } else {
                println!(
                    "Timer started on {number} ({}, {}); Harvest entry {}",
                    entry.project.name, entry.task.name, entry.id
                );
            }
        }
        TimerCommand::Stop { notes } => {
            let entry = timer::stop(store, client, notes, now).await?;
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
            let status = timer::status(store, client, now).await?;
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
                return output::json(&items);
            }
            if items.is_empty() {
                println!("The outbox is empty.");
            }
            for i in items {
                println!(
                    "{}  #{:<5} {:>5.2} h  {:<7} {}{}",
                    i.id,
                    i.ticket,
                    i.hours,
                    format!("{:?}", i.state).to_lowercase(),
                    i.harvest_id.map(|h| format!("entry {h}")).unwrap_or_default(),
                    i.last_error.map(|e| format!("  ({e})")).unwrap_or_default()
                );
            }
            Ok(())
        }
        OutboxCommand::Push => {
            let harvest = open(store).await?;
            let report = logging::push(store, &harvest.client, now).await?;
            if json {
                return output::json(&json!({
                    "sent": report.sent, "failed": report.failed, "pending": report.pending, "stopped": report.stopped
                }));
            }
            println!("{} sent, {} refused, {} still pending", report.sent, report.failed, report.pending);
            if let Some(reason) = report.stopped {
                println!("Stopped: {reason}");
            }
            Ok(())
        }
        OutboxCommand::Retry { id } => {
            store.outbox_retry(&id, now).await?;
            let pending = store.outbox(&[OutboxState::Pending]).await?.len();
            println!("Item {id} is back in line ({pending} pending); it goes out with the next `tickettime outbox push`.");
            Ok(())
        }
    }
}

/// Links a ticket to a project. With Harvest reachable, the id is checked
/// first (a clear error for an unknown one) and the project's entries are
/// pulled in; without a connection the link is made locally.
pub async fn link(
    store: &Store,
    number: crate::domain::TicketNumber,
    project: i64,
    actor: Option<&Staff>,
    now: DateTime<Utc>,
) -> anyhow::Result<crate::store::TicketView> {
    let harvest = match open(store).await {
        Ok(harvest) => Some(harvest),
        Err(error) => {
            let offline = error.downcast_ref::<crate::Error>().is_some_and(|e| {
                matches!(e, crate::Error::NotConnected | crate::Error::Keychain(_))
                    || matches!(e, crate::Error::Harvest(h) if h.is_transient())
            });
            if !offline {
                return Err(error);
            }
            None
        }
    };
    let client = harvest.as_ref().map(|h| &h.client);
    Ok(crate::sync::link_ticket(store, client, number, project, actor, now).await?)
}
