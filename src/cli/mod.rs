//! The `tickettime` command line: parse arguments, call the core, print.
//!
//! Output is human text by default and JSON with `--json`; the JSON field
//! names are a contract. Every error is one line on stderr, a non-zero exit
//! status, and nothing written (each command is one transaction).

mod demo;
mod desk;
mod harvest;
mod output;
mod report;
mod summarize;
mod sync;

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use chrono::{Local, Offset, Utc};
use clap::{Args, Parser, Subcommand};

use crate::domain::{Email, Hours, LoggedHours, Role, ThreadKind, TicketNumber, TicketStatus};
use crate::logging;
use crate::store::{self, NewTicket, Store, ThreadInput, TicketChanges};

#[derive(Debug, Parser)]
#[command(name = "tickettime", version, about = "Help-desk time tracking wired to Harvest")]
pub struct Cli {
    /// Database URL or file (sqlite://PATH); default: a file in the platform data directory.
    #[arg(long, global = true, env = store::DB_ENV, value_name = "URL")]
    db: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database (or bring its schema up to date). On a team
    /// (PostgreSQL) database, run by its owner: sets up roles, privileges and
    /// row security, and makes the owner the first admin.
    Init {
        /// The owner's email (team database; default made from the login).
        #[arg(long)]
        email: Option<String>,
        /// The owner's name (team database; default: the login).
        #[arg(long)]
        name: Option<String>,
    },
    /// Manage staff.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Manage tickets.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Help desks whose tickets Tickettime brings in (osTicket).
    #[command(subcommand)]
    Desk(desk::DeskCommand),
    /// Record a message from the client on a ticket.
    Message {
        number: TicketNumber,
        #[arg(long)]
        from: String,
        #[arg(long)]
        body: String,
    },
    /// Reply to the client on a ticket (refused while the ticket is locked), optionally logging time.
    Reply(ThreadArgs),
    /// Add an internal note to a ticket (refused while the ticket is locked), optionally logging time.
    Note(ThreadArgs),
    /// Log hours on a ticket to Harvest (on its linked project).
    Log {
        number: TicketNumber,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        hours: String,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Connect a Harvest account: OAuth in the browser, or a personal access token.
    Connect {
        /// Print the authorization URL instead of opening a browser, then wait for the redirect.
        #[arg(long)]
        no_browser: bool,
        /// A personal access token (checked against Harvest before it is stored).
        #[arg(long, requires = "account_id")]
        token: Option<String>,
        /// The Harvest account id (with --token, or to choose among several accounts).
        #[arg(long, value_name = "A")]
        account_id: Option<i64>,
        /// The agency's Harvest OAuth app id, kept in the keychain with its secret
        /// (read from standard input), so later sign-ins and refreshes need no environment.
        #[arg(long, value_name = "ID", conflicts_with = "token")]
        client_id: Option<String>,
    },
    /// Forget the Harvest connection (and its tokens in the keychain).
    Disconnect,
    /// Show who Harvest says you are.
    Whoami,
    /// The Harvest projects and tasks you can log time to.
    Projects,
    /// Harvest's timer on a ticket.
    #[command(subcommand)]
    Timer(TimerCommand),
    /// Time logged in Tickettime and waiting for (or refused by) Harvest.
    Outbox {
        #[command(subcommand)]
        command: Option<OutboxCommand>,
    },
    /// Import Harvest's time entries of linked projects (once, or --every DURATION).
    #[command(args_conflicts_with_subcommands = true)]
    Sync {
        #[command(subcommand)]
        command: Option<SyncCommand>,
        /// Run once (the default).
        #[arg(long)]
        once: bool,
        /// Run on this interval until interrupted (e.g. 5m).
        #[arg(long, value_name = "DURATION", conflicts_with = "once")]
        every: Option<String>,
        /// Re-read everything and reconcile deletions.
        #[arg(long)]
        full: bool,
        /// Backfill entries spent on or after this date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
    },
    /// Summarize a reply or note into a 2–8 word Harvest note (from --text, --file or standard input).
    Summarize {
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// A file to summarize (`-` for standard input).
        #[arg(long, value_name = "F")]
        file: Option<PathBuf>,
    },
    /// Keep the team database's password in the OS keychain (read from standard input), so
    /// TICKETTIME_DB can name the database without it.
    DbPassword,
    /// Start the Harvest simulator with demo data and point this database at it (until Ctrl-C).
    Demo {
        #[arg(long, default_value_t = 47800)]
        port: u16,
    },
    /// Show a ticket's messages, responses, notes and time entries in order.
    Timeline { number: TicketNumber },
    /// Import Harvest v2 time entries from a JSON file (a list page or a bare array).
    ImportEntries { file: PathBuf },
    /// List the recorded budget events (75 %, 90 %, lock, unlock).
    Events,
    /// A week of your time (or, for a PM, --user's): hours per day and ticket.
    Timesheet {
        /// The ISO week, e.g. 2026-W48 (default: this week).
        #[arg(long, value_name = "WEEK")]
        week: Option<String>,
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// A row per day and ticket: date, ticket, subject, hours, notes.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// A ticket's time entries as CSV (date, person, hours, task, notes, Harvest id).
    Export {
        #[arg(long, value_name = "N")]
        ticket: TicketNumber,
        /// CSV (the default; `--json` gives the rows as objects).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Replies and notes written on a day with no time logged on their ticket that day.
    Gaps {
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// How many days back, today included.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Tickets with a budget, fullest first, with their band and lock forecast.
    Budgets {
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Show or change the budget lines (percent of budget).
    Settings {
        #[arg(long)]
        approaching_pct: Option<u32>,
        #[arg(long)]
        near_pct: Option<u32>,
        /// The lock line (default 100).
        #[arg(long)]
        lock_pct: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add a member of staff (admins). On a team database give them their own
    /// login with --db-login; its password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        /// The PostgreSQL login to create for them (team database).
        #[arg(long, value_name = "LOGIN")]
        db_login: Option<String>,
    },
    /// Move a member of staff to another role (admins).
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
    /// Revoke a member's access: their database login is dropped (admins).
    Remove {
        #[arg(long)]
        email: String,
    },
    /// List staff.
    List,
}

#[derive(Debug, Subcommand)]
enum TicketCommand {
    /// Create a ticket; prints its number.
    Create {
        #[arg(long)]
        subject: String,
        #[arg(long)]
        client: Option<String>,
        #[arg(long, value_name = "EMAIL")]
        agent: Option<String>,
        #[arg(long, value_name = "EMAIL")]
        pm: Option<String>,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        budget_hours: Option<String>,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        quoted_hours: Option<String>,
        /// Harvest project id.
        #[arg(long, value_name = "ID")]
        project: Option<i64>,
        /// Act as this staff member (must be a pm or admin).
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
    },
    /// List tickets.
    List,
    /// Show one ticket.
    Show { number: TicketNumber },
    /// Change a ticket's budget, quoted hours, status or assignees.
    Set {
        number: TicketNumber,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        budget_hours: Option<String>,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        quoted_hours: Option<String>,
        #[arg(long)]
        status: Option<TicketStatus>,
        #[arg(long, value_name = "EMAIL")]
        agent: Option<String>,
        #[arg(long, value_name = "EMAIL")]
        pm: Option<String>,
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
    },
    /// Link a ticket to a Harvest project (moving its entries along).
    Link {
        number: TicketNumber,
        #[arg(long, value_name = "ID")]
        project: i64,
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
    },
    /// Ask a PM to unlock a locked ticket.
    RequestUnlock {
        number: TicketNumber,
        /// The agent asking (default: the connected Harvest user).
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
        #[arg(long)]
        reason: String,
        /// Extra hours asked for.
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        hours: Option<String>,
    },
    /// List unlock requests: pending ones, of one ticket or all.
    Requests {
        number: Option<TicketNumber>,
        /// Answered ones too.
        #[arg(long)]
        all: bool,
    },
    /// Answer an unlock request (pm or admin): --approve [--extra-hours H] or --deny.
    Answer {
        id: i64,
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
        #[arg(long, conflicts_with = "deny", required_unless_present = "deny")]
        approve: bool,
        #[arg(long)]
        deny: bool,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        extra_hours: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Lift a ticket's budget lock (pm or admin).
    Unlock {
        number: TicketNumber,
        #[arg(long = "as", value_name = "EMAIL")]
        actor: Option<String>,
        #[arg(long)]
        reason: String,
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        extra_hours: Option<String>,
    },
}

#[derive(Debug, Args)]
struct ThreadArgs {
    number: TicketNumber,
    /// The staff member writing (default: the connected Harvest user).
    #[arg(long = "as", value_name = "EMAIL")]
    actor: Option<String>,
    #[arg(long)]
    body: String,
    /// Hours to log to Harvest with it (0.25 steps, at most 24).
    #[arg(long, value_name = "H", allow_negative_numbers = true)]
    hours: Option<String>,
    #[command(flatten)]
    time: TimeArgs,
}

#[derive(Debug, Args)]
struct TimeArgs {
    /// Harvest task id (default: the project's first active task).
    #[arg(long, value_name = "ID")]
    task: Option<i64>,
    /// Notes for the Harvest entry.
    #[arg(long)]
    notes: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TimerCommand {
    /// Start Harvest's timer on a ticket (stops any other running timer).
    Start {
        number: TicketNumber,
        #[arg(long, value_name = "ID")]
        task: Option<i64>,
        /// Start even when the ticket is at or past 90 % of its budget.
        #[arg(long)]
        yes: bool,
    },
    /// Stop the running timer.
    Stop {
        #[arg(long)]
        notes: Option<String>,
    },
    /// Show the running timer, as Harvest has it.
    Status,
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// The last import: when, how long, watermark, counts, API calls, last error.
    Status,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List the items (the default).
    List,
    /// Send pending items now.
    Push,
    /// Put a failed item back in line.
    Retry { id: String },
    /// Give up a waiting or refused item: it is never sent.
    Discard { id: String },
}

/// Help and the version print as clap writes them; a usage error is one
/// line on stderr, like every other error, with where to look (exit code 2).
fn usage_error(error: &clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = error.print();
        return std::process::ExitCode::SUCCESS;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = error.print();
        return std::process::ExitCode::from(2);
    }
    let rendered = error.render().to_string();
    // The message and its indented details (e.g. the missing arguments), up to the blank line.
    let first: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("tip: "))
        .collect();
    let first = first.join(" ");
    let first = first.strip_prefix("error: ").unwrap_or(&first);
    let tip = rendered
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("tip: "))
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    eprintln!("error: {first}{tip} (see `tickettime --help`)");
    std::process::ExitCode::from(2)
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause once: many errors
/// already say their cause (sqlx's "while executing migration …: error
/// returned from database: …"), and the chain would say it again.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The note generator needs no database: answer before one is opened.
    if let Command::Summarize { text, file } = cli.command {
        return summarize::run(text, file, cli.json).await;
    }
    let url = match cli.db {
        Some(url) => url,
        None => store::default_path()
            .ok_or_else(|| {
                anyhow!("no home directory to keep the database in; pass --db or set TICKETTIME_DB")
            })?
            .display()
            .to_string(),
    };
    if let Command::DbPassword = cli.command {
        return db_password(&url);
    }
    let url = crate::connection::database_url(&url, &crate::keychain::Keychain::default())?;
    let store = Store::open(&url).await?;
    let json = cli.json;
    let now = Utc::now();
    match cli.command {
        Command::Init { email, name } => {
            let email = email.as_deref().map(email_arg).transpose()?;
            let team = store.init_team(email.as_ref(), name.as_deref(), now).await?;
            // IMPORTANT: never the password: the URL is printed redacted.
            let shown = store::redact(&url);
            if json {
                output::json(&serde_json::json!({
                    "database": shown,
                    "owner": team.as_ref().map(|t| &t.owner),
                }))?;
            } else {
                println!("Database ready at {shown}");
                if let Some(team) = team {
                    println!(
                        "Team database set up: `{}` is its first admin ({} <{}>). Add people with \
                         `tickettime staff add --email E --name N --role agent|pm|admin --db-login LOGIN` \
                         (the password on standard input).",
                        team.owner_login, team.owner.name, team.owner.email
                    );
                }
            }
        }
        Command::Staff(StaffCommand::Add { email, name, role, db_login }) => {
            let session = harvest::session(&store, None, now).await?;
            let email = email_arg(&email)?;
            let staff = match db_login {
                Some(login) => {
                    let password = read_secret(&format!("the password for the database login `{login}`"))?;
                    let member = store::NewMember {
                        email: &email,
                        name: &name,
                        role,
                        login: &login,
                        password: &password,
                    };
                    store.add_team_member(&session.actor, member, now).await?
                }
                None => {
                    let staff = store.add_staff(&session.actor, &email, &name, role, now).await?;
                    if store.backend() == store::Backend::Postgres {
                        eprintln!(
                            "note: {email} has no database login yet, so cannot sign in; give them one with \
                             `tickettime staff add --email {email} --name … --role {role} --db-login LOGIN`"
                        );
                    }
                    staff
                }
            };
            if json {
                output::json(&staff)?;
            } else {
                println!("Added {} <{}> as {}", staff.name, staff.email, staff.role);
            }
        }
        Command::Staff(StaffCommand::SetRole { email, role }) => {
            let session = harvest::session(&store, None, now).await?;
            let staff = store.set_staff_role(&session.actor, &email_arg(&email)?, role).await?;
            if json {
                output::json(&staff)?;
            } else {
                println!("{} <{}> is now {}", staff.name, staff.email, staff.role);
            }
        }
        Command::Staff(StaffCommand::Remove { email }) => {
            let session = harvest::session(&store, None, now).await?;
            let staff = store.remove_staff(&session.actor, &email_arg(&email)?).await?;
            if json {
                output::json(&staff)?;
            } else {
                println!("{} <{}> can no longer sign in to this database", staff.name, staff.email);
            }
        }
        Command::Staff(StaffCommand::List) => output::staff(&store.all_staff().await?, json)?,
        Command::Ticket(command) => ticket(&store, command, json, now).await?,
        Command::Desk(command) => desk::run(&store, command, json, now).await?,
        Command::Message { number, from, body } => {
            store.add_client_message(number, &from, &body, now).await?;
            if !json {
                println!("Message recorded on {number}");
            }
        }
        Command::Reply(args) => thread(&store, ThreadKind::Response, args, json, now).await?,
        Command::Note(args) => thread(&store, ThreadKind::Note, args, json, now).await?,
        Command::Log { number, hours, time } => {
            let request = log_request(number, &hours, time)?;
            let session = harvest::session(&store, None, now).await?;
            let (_, delivery) = logging::log_time(&session, &request, None, now).await?;
            harvest::report_delivery(&request, &delivery, json)?;
        }
        Command::Connect { no_browser, token, account_id, client_id } => {
            harvest::connect(&store, token, account_id, client_id, no_browser, json).await?
        }
        Command::Disconnect => harvest::disconnect(&store).await?,
        Command::Whoami => harvest::whoami(&store, json).await?,
        Command::Projects => harvest::projects(&store, json).await?,
        Command::Timer(command) => harvest::timer(&store, command, json, now).await?,
        Command::Outbox { command } => {
            harvest::outbox(&store, command.unwrap_or(OutboxCommand::List), json, now).await?
        }
        Command::Demo { port } => demo::run(&store, &url, port).await?,
        Command::Summarize { .. } | Command::DbPassword => {
            unreachable!("answered before the database is opened")
        }
        Command::Sync { command: Some(SyncCommand::Status), .. } => sync::status(&store, json).await?,
        Command::Sync { command: None, once: _, every, full, since } => {
            let every = every.as_deref().map(sync::parse_every).transpose()?;
            let options = crate::sync::SyncOptions { full, since, ..crate::sync::SyncOptions::default() };
            sync::run(&store, options, every, json).await?
        }
        Command::Timeline { number } => {
            let zone = Local::now().offset().fix();
            output::timeline(&store.timeline(number, zone).await?, json)?;
        }
        Command::ImportEntries { file } => {
            let session = harvest::session(&store, None, now).await?;
            session.actor.require_manager("import a Harvest export")?;
            // One import at a time: a sync waits for the file (and the
            // file for a sync) rather than interleaving with it.
            let account = session.actor.harvest().map_or(0, |h| h.account_id);
            let lock = store.lock_import(account, std::time::Duration::from_secs(60)).await?;
            let bar = output::progress(json, "{bar:40} {bytes}/{total_bytes} {elapsed}");
            let shown = bar.clone();
            let report = crate::export_file::import_file(&store, &file, now, move |read, size| {
                shown.set_length(size);
                shown.set_position(read);
            })
            .await;
            bar.finish_and_clear();
            lock.release().await;
            let report = report?;
            if json {
                output::json(&report)?;
            } else {
                println!(
                    "Imported {}: {} new, {} updated, {} unchanged, {} unattributed",
                    file.display(),
                    report.new,
                    report.updated,
                    report.unchanged,
                    report.unattributed
                );
            }
        }
        Command::Events => output::events(&store.events().await?, json)?,
        Command::Timesheet { week, user, csv } => {
            report::timesheet(&store, week.as_deref(), user.as_deref(), csv, json, now).await?
        }
        Command::Export { ticket, csv: _ } => report::export(&store, ticket, json, now).await?,
        Command::Gaps { user, days } => report::gaps(&store, user.as_deref(), days, json, now).await?,
        Command::Budgets { csv } => report::budgets(&store, csv, json).await?,
        Command::Settings { approaching_pct, near_pct, lock_pct } => {
            let mut thresholds = store.thresholds().await?;
            let changes: Vec<(&str, u32)> =
                [("approaching_pct", approaching_pct), ("near_pct", near_pct), ("lock_pct", lock_pct)]
                    .into_iter()
                    .filter_map(|(key, value)| value.map(|pct| (key, pct)))
                    .collect();
            if !changes.is_empty() {
                let session = harvest::session(&store, None, now).await?;
                for (key, pct) in changes {
                    thresholds = store.set_threshold(&session.actor, key, pct).await?;
                }
            }
            if json {
                output::json(&thresholds)?;
            } else {
                println!(
                    "approaching: {} %  near: {} %  lock: {} %",
                    thresholds.approaching, thresholds.near, thresholds.lock
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

async fn ticket(
    store: &Store,
    command: TicketCommand,
    json: bool,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    match command {
        TicketCommand::Create { subject, client, agent, pm, budget_hours, quoted_hours, project, actor } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let new = NewTicket {
                subject,
                client,
                agent: agent.as_deref().map(email_arg).transpose()?,
                pm: pm.as_deref().map(email_arg).transpose()?,
                budget: hours_arg("--budget-hours", budget_hours.as_deref())?,
                quoted: hours_arg("--quoted-hours", quoted_hours.as_deref())?,
                project,
            };
            let view = store.create_ticket(&session.actor, new, now).await?;
            if json {
                output::ticket(&view, true)?;
            } else {
                println!("{}", view.number);
            }
        }
        TicketCommand::List => output::tickets(&store.tickets().await?, json)?,
        TicketCommand::Show { number } => output::ticket(&store.ticket(number).await?, json)?,
        TicketCommand::Set { number, budget_hours, quoted_hours, status, agent, pm, actor } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let changes = TicketChanges {
                budget: hours_arg("--budget-hours", budget_hours.as_deref())?,
                quoted: hours_arg("--quoted-hours", quoted_hours.as_deref())?,
                status,
                agent: agent.as_deref().map(email_arg).transpose()?,
                pm: pm.as_deref().map(email_arg).transpose()?,
            };
            let view = store.update_ticket(&session.actor, number, changes, now).await?;
            output::ticket(&view, json)?;
        }
        TicketCommand::Link { number, project, actor } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let view = harvest::link(&session, number, project, now).await?;
            output::ticket(&view, json)?;
        }
        TicketCommand::RequestUnlock { number, actor, reason, hours } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let hours = hours_arg("--hours", hours.as_deref())?;
            let request = store.request_unlock(&session.actor, number, &reason, hours, now).await?;
            if json {
                output::request_json(&request)?;
            } else {
                println!("Unlock of {number} requested (request {}); its PM will be told.", request.id);
            }
        }
        TicketCommand::Requests { number, all } => {
            let requests = store.unlock_requests(number, !all).await?;
            if json {
                output::requests_json(&requests)?;
            } else if requests.is_empty() {
                println!("No {}unlock requests.", if all { "" } else { "pending " });
            } else {
                for r in requests {
                    let hours = r.hours.map(|h| format!(" (+{h} h asked)")).unwrap_or_default();
                    println!(
                        "{:>5}  #{:<5} {:<8} {}: {}{hours}",
                        r.id,
                        r.ticket,
                        format!("{:?}", r.state).to_lowercase(),
                        r.requested_by,
                        r.reason
                    );
                }
            }
        }
        TicketCommand::Answer { id, actor, approve, deny: _, extra_hours, note } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let extra = hours_arg("--extra-hours", extra_hours.as_deref())?.unwrap_or(Hours::ZERO);
            let answered =
                store.answer_unlock_request(&session.actor, id, approve, extra, note.as_deref(), now).await?;
            if json {
                output::request_json(&answered)?;
            } else {
                println!(
                    "Request {id} {}.",
                    if approve { "approved: the ticket is unlocked" } else { "denied" }
                );
            }
        }
        TicketCommand::Unlock { number, actor, reason, extra_hours } => {
            let session = harvest::session(store, actor.as_deref(), now).await?;
            let extra = hours_arg("--extra-hours", extra_hours.as_deref())?.unwrap_or(Hours::ZERO);
            let view = store.unlock(&session.actor, number, &reason, extra, now).await?;
            output::ticket(&view, json)?;
        }
    }
    Ok(())
}

async fn thread(
    store: &Store,
    kind: ThreadKind,
    args: ThreadArgs,
    json: bool,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let what = if kind == ThreadKind::Note { "Note" } else { "Reply" };
    let session = harvest::session(store, args.actor.as_deref(), now).await?;
    let Some(hours) = args.hours.as_deref() else {
        store.add_thread_entry(&session.actor, args.number, kind, &args.body, now).await?;
        if !json {
            println!("{what} added to {}", args.number);
        }
        return Ok(());
    };
    let request = log_request(args.number, hours, args.time)?;
    let thread = ThreadInput { kind, body: &args.body };
    let (_, delivery) = logging::log_time(&session, &request, Some(thread), now).await?;
    if !json {
        println!("{what} added to {}", args.number);
    }
    harvest::report_delivery(&request, &delivery, json)
}

fn log_request(number: TicketNumber, hours: &str, time: TimeArgs) -> anyhow::Result<logging::LogRequest> {
    Ok(logging::LogRequest {
        ticket: number,
        hours: LoggedHours::parse(hours).context("--hours")?,
        task: time.task,
        notes: time.notes,
        spent_date: Local::now().date_naive(),
    })
}

/// Reads the password from standard input and keeps it in the keychain.
fn db_password(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "postgres" | "postgresql"));
    let parsed = parsed
        .ok_or_else(|| anyhow!("--db / TICKETTIME_DB must name a postgres:// database (with its user)"))?;
    if parsed.username().is_empty() {
        return Err(anyhow!("the database URL names no user"));
    }
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(anyhow!("no password on standard input"));
    }
    let account = crate::connection::database_account(&parsed);
    crate::keychain::Keychain::default()
        .save_database_password(&account, &secrecy::SecretString::from(password.to_owned()))?;
    println!("The password for {account} is in the keychain.");
    if parsed.password().is_some() {
        println!(
            "Now remove it from TICKETTIME_DB / --db: postgres://{}@{}{}",
            parsed.username(),
            parsed.host_str().unwrap_or(""),
            parsed.path()
        );
    }
    Ok(())
}

fn email_arg(text: &str) -> anyhow::Result<Email> {
    Email::parse(text).map_err(|e| anyhow!(e))
}

fn hours_arg(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Hours>> {
    text.map(|t| Hours::parse(t).with_context(|| flag.to_owned())).transpose()
}

/// A secret from standard input (one line), never from the command line.
pub(crate) fn read_secret(what: &str) -> anyhow::Result<secrecy::SecretString> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).with_context(|| format!("reading {what} from standard input"))?;
    let secret = line.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(anyhow!("no {what} on standard input"));
    }
    Ok(secrecy::SecretString::from(secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn an_error_says_each_cause_once() {
        let missing = crate::Error::Migrate(sqlx::migrate::MigrateError::VersionMissing(20_261_205_000_002));
        let said = missing.to_string();
        assert_eq!(one_line(&anyhow::Error::from(missing)), said, "the cause is in the message already");
        let full = anyhow::Error::from(std::io::Error::other("disk full")).context("cannot write the export");
        assert_eq!(one_line(&full), "cannot write the export: disk full");
    }
}
