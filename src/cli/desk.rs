//! `tickettime desk …`: the help desks whose tickets Tickettime brings in.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use secrecy::ExposeSecret;

use super::{harvest, output};
use crate::app::desks;
use crate::desk::{self, osticket, zendesk, DeskKind, FieldNames};
use crate::keychain::Keychain;
use crate::store::{DeskRecord, Store, DESK_ATTEMPTS};

#[derive(Debug, Subcommand)]
pub enum DeskCommand {
    /// Add a help desk (PMs and admins); its password goes to this machine's keychain.
    #[command(subcommand)]
    Add(AddCommand),
    /// List the help desks.
    List,
    /// Bring every desk's changed tickets in, and write waiting notes into them.
    Sync,
    /// Remove a desk (its tickets stay, no longer synced).
    Remove { id: i64 },
    /// What Tickettime wrote, or waits to write, into the desks.
    Outbox,
    /// Try a write the desk refused again (PMs and admins).
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// osTicket, read from its MySQL/MariaDB database with a login of its own.
    Osticket {
        /// mysql://USER:PASSWORD@HOST[:PORT]/DB — without the password, it is read from standard input.
        #[arg(long)]
        url: String,
        /// osTicket's table prefix.
        #[arg(long, default_value = "ost_")]
        prefix: String,
        /// The help desk's web address, for links that open a ticket there.
        #[arg(long, value_name = "URL")]
        web_url: Option<String>,
        /// The ticket field (name or label) that holds the Harvest project id.
        #[arg(long, value_name = "LABEL", default_value = "Harvest Project ID")]
        field_project: String,
        /// The ticket field that holds the budget in hours.
        #[arg(long, value_name = "LABEL", default_value = "Budget Hours")]
        field_budget: String,
        /// The ticket field that holds the quoted hours.
        #[arg(long, value_name = "LABEL", default_value = "Quoted Hours")]
        field_quoted: String,
        /// A name to show (default: the database's).
        #[arg(long)]
        name: Option<String>,
    },
    /// Zendesk Support, through its API; the API token (or OAuth token) is read from standard input.
    Zendesk {
        /// The account's subdomain: NAME in NAME.zendesk.com.
        #[arg(long, conflicts_with = "url", required_unless_present = "url")]
        subdomain: Option<String>,
        /// Another Zendesk-compatible server's address (the simulator, say).
        #[arg(long)]
        url: Option<String>,
        /// The agent or admin whose API token it is.
        #[arg(long)]
        email: String,
        /// The secret on standard input is an OAuth access token, not an API token.
        #[arg(long)]
        oauth: bool,
        /// The ticket field (title) that holds the Harvest project id.
        #[arg(long, value_name = "TITLE", default_value = "Harvest Project ID")]
        field_project: String,
        /// The ticket field that holds the budget in hours.
        #[arg(long, value_name = "TITLE", default_value = "Budget Hours")]
        field_budget: String,
        /// The ticket field that holds the quoted hours.
        #[arg(long, value_name = "TITLE", default_value = "Quoted Hours")]
        field_quoted: String,
        /// A name to show (default: the account's address).
        #[arg(long)]
        name: Option<String>,
    },
}

pub async fn run(store: &Store, command: DeskCommand, json: bool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let keychain = Keychain::default();
    match command {
        DeskCommand::Add(AddCommand::Osticket {
            url,
            prefix,
            web_url,
            field_project,
            field_budget,
            field_quoted,
            name,
        }) => {
            let (_, secret) = osticket::split_url(&url)?;
            let secret = if secret.expose_secret().is_empty() {
                Some(super::read_secret("the osTicket database password")?)
            } else {
                None
            };
            let config = osticket::Config {
                prefix,
                fields: FieldNames { project: field_project, budget: field_budget, quoted: field_quoted },
                web_url,
            };
            config.validate()?;
            let session = harvest::session(store, None, now).await?;
            let record =
                desks::add_osticket(store, &session.actor, &keychain, &url, secret, config, name).await?;
            let writes = record.writes_notes;
            if json {
                output::json(&record)?;
            } else {
                println!("Added desk {}: {} at {}", record.id, record.name, record.url);
                if writes {
                    println!(
                        "  It reads tickets and writes an internal note for time logged from Tickettime."
                    );
                } else {
                    println!(
                        "  Read-only: grant the login INSERT on {}thread_entry for a note per time logged.",
                        serde_json::from_str::<osticket::Config>(&record.config)
                            .map(|c| c.prefix)
                            .unwrap_or_default()
                    );
                }
                println!("  Bring its tickets in with `tickettime desk sync`.");
            }
        }
        DeskCommand::Add(AddCommand::Zendesk {
            subdomain,
            url,
            email,
            oauth,
            field_project,
            field_budget,
            field_quoted,
            name,
        }) => {
            let url = zendesk::base_url(subdomain.as_deref(), url.as_deref())?;
            let secret =
                super::read_secret(if oauth { "the Zendesk OAuth token" } else { "the Zendesk API token" })?;
            let config = zendesk::Config {
                email: email.trim().to_owned(),
                auth: if oauth { zendesk::Auth::Oauth } else { zendesk::Auth::Token },
                fields: FieldNames { project: field_project, budget: field_budget, quoted: field_quoted },
            };
            let session = harvest::session(store, None, now).await?;
            let record =
                desks::add_zendesk(store, &session.actor, &keychain, &url, &secret, config, name).await?;
            if json {
                output::json(&record)?;
            } else {
                println!("Added desk {}: {} at {}", record.id, record.name, record.url);
                println!("  It reads tickets; replies from Tickettime post public comments, notes and time private ones.");
                println!("  Bring its tickets in with `tickettime desk sync`.");
            }
        }
        DeskCommand::List => {
            let desks = store.desks().await?;
            if json {
                output::json(&desks)?;
            } else if desks.is_empty() {
                println!("No help desks yet. Add one with `tickettime desk add osticket --url mysql://…`.");
            } else {
                for d in &desks {
                    print_desk(d);
                }
            }
        }
        DeskCommand::Sync => {
            let session = harvest::session(store, None, now).await?;
            session.actor.require_manager("sync help desks")?;
            let mut outcomes = Vec::new();
            let mut failed = 0;
            for record in store.desks().await? {
                let result = match desk::secret_for(store, &keychain, &record).await {
                    Ok(secret) => desk::sync_desk(store, &session.actor, &record, &secret, Utc::now).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(e) => {
                        failed += 1;
                        if !json {
                            eprintln!("error: desk {} ({}): {e}", record.id, record.kind.title());
                        }
                        outcomes.push(desk::DeskOutcome {
                            desk: record.id,
                            kind: record.kind.as_str().into(),
                            error: Some(e.to_string()),
                            ..desk::DeskOutcome::default()
                        });
                    }
                }
            }
            if json {
                output::json(&outcomes)?;
            } else if outcomes.is_empty() {
                println!("No help desks to sync. Add one with `tickettime desk add`.");
            } else {
                for o in outcomes.iter().filter(|o| o.error.is_none()) {
                    let r = &o.report;
                    println!(
                        "desk {}: {} new and {} changed tickets, {} new and {} changed thread entries, {} notes written",
                        o.desk, r.tickets_new, r.tickets_updated, r.entries_new, r.entries_updated, o.notes_written
                    );
                    for w in &r.warnings {
                        println!("  warning: {w}");
                    }
                }
            }
            if failed > 0 {
                return Err(anyhow!("{failed} of {} desks did not sync", outcomes.len()));
            }
        }
        DeskCommand::Remove { id } => {
            let session = harvest::session(store, None, now).await?;
            let record = desks::remove(store, &session.actor, &keychain, id).await?;
            if json {
                output::json(&record)?;
            } else {
                println!(
                    "Removed desk {} ({}); its {} tickets stay, no longer synced",
                    record.id, record.name, record.tickets
                );
            }
        }
        DeskCommand::Retry { id } => {
            let session = harvest::session(store, None, now).await?;
            store.desk_note_retry(&session.actor, id.trim(), now).await?;
            if json {
                output::json(&serde_json::json!({ "id": id.trim(), "state": "pending" }))?;
            } else {
                println!("Desk write {} waits for the next sync.", id.trim());
            }
        }
        DeskCommand::Outbox => {
            let items = store.desk_outbox().await?;
            if json {
                output::json(&items)?;
            } else if items.is_empty() {
                println!("Nothing written into a desk yet.");
            } else {
                for i in &items {
                    let gave_up = i.state == "failed" && i.attempts >= DESK_ATTEMPTS;
                    let error = match (i.last_error.as_deref(), gave_up) {
                        (Some(e), true) => format!(
                            "  (tried {} times: {e}; `tickettime desk retry {}` tries again)",
                            i.attempts, i.id
                        ),
                        (Some(e), false) => format!("  ({e})"),
                        (None, _) => String::new(),
                    };
                    println!(
                        "{}  #{}  {:<8} {}{error}",
                        i.id,
                        i.ticket_number,
                        i.state,
                        i.body.lines().next().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_desk(d: &DeskRecord) {
    println!("{}  {}  {}  ({} tickets)", d.id, d.kind.title(), d.url, d.tickets);
    println!(
        "   name: {}; {}",
        d.name,
        match (d.kind, d.writes_notes) {
            (DeskKind::Zendesk, true) => "writes replies and notes",
            (_, true) => "writes time notes",
            (_, false) => "read-only",
        }
    );
    match (&d.last_sync_at, &d.last_error) {
        (_, Some(error)) => println!("   last sync failed: {error}"),
        (Some(at), None) => println!("   last synced {at}"),
        (None, None) => println!("   never synced"),
    }
}
