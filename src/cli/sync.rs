//! `tickettime sync`: the import, once or on an interval, and its status.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{anyhow, Context};

use super::harvest::session;
use super::output;
use crate::store::{Quarantined, Store};
use crate::sync::{self, Progress, SyncOptions, SyncReport};

/// Runs the import once, or every `every` until Ctrl-C (backing off while it fails).
pub async fn run(
    store: &Store,
    options: SyncOptions,
    every: Option<Duration>,
    json: bool,
) -> anyhow::Result<()> {
    let session = session(store, None, chrono::Utc::now()).await?;
    push_first(&session).await;
    if every.is_none() && session.actor.is_team() && session.actor.may_lead_import().is_err() {
        return ask_leader(store, json).await;
    }
    session.client()?;
    session.actor.may_lead_import()?;
    // A bar for a single run; `--every` prints a line per run instead.
    let bar = super::output::progress(
        json || every.is_some(),
        "Reading Harvest {bar:30} page {pos}/{len} · {msg} entries",
    );
    let shown = bar.clone();
    let progress = move |p: Progress| {
        shown.set_length(p.total_pages.unwrap_or(p.pages));
        shown.set_position(p.pages);
        shown.set_message(p.entries.to_string());
    };
    let Some(every) = every else {
        let report = sync::run(&session, &options, &progress).await;
        bar.finish_and_clear();
        return match report {
            // A PM whose token does not see every linked project asks too.
            Err(crate::Error::ImportNotPermitted(_)) if session.actor.is_team() => {
                ask_leader(store, json).await
            }
            report => print(&report?, &store.quarantine().await?, json),
        };
    };
    // The core's sync loop: imports every `every` (backing off while Harvest
    // fails), queued time after each import that worked; until Ctrl-C.
    let mut work = Every { session: &session, store, options, progress, json, every, refused: None };
    let (_commands, mut inbox) = tokio::sync::mpsc::channel(1);
    let plan =
        crate::schedule::Plan { tick: None, delivery_check: every, ..crate::schedule::Plan::default() };
    tokio::select! {
        _ = crate::schedule::run_with(&mut work, &mut inbox, plan, fastrand::f64) => {}
        _ = tokio::signal::ctrl_c() => return Ok(()),
    }
    // The loop only ends on a refusal that waiting will not fix.
    Err(work.refused.map_or_else(|| anyhow!("the sync loop ended"), Into::into))
}

/// `sync --every`'s part of the loop.
struct Every<'a, P> {
    session: &'a crate::Session,
    store: &'a Store,
    options: SyncOptions,
    progress: P,
    json: bool,
    every: Duration,
    refused: Option<crate::Error>,
}

impl<P: Fn(Progress) + Send + Sync> crate::schedule::Work for Every<'_, P> {
    async fn import(&mut self, _asked: bool) -> crate::schedule::Outcome {
        use crate::schedule::Outcome;
        for desk in crate::desk::sync_all(self.store, &self.session.actor).await {
            match &desk.error {
                Some(error) => eprintln!("desk {} not synced: {error}", desk.desk),
                None if !self.json
                    && (desk.report.tickets_new + desk.report.tickets_updated + desk.report.entries_new)
                        > 0 =>
                {
                    eprintln!(
                        "desk {}: {} new and {} changed tickets, {} new thread entries",
                        desk.desk,
                        desk.report.tickets_new,
                        desk.report.tickets_updated,
                        desk.report.entries_new
                    )
                }
                None => {}
            }
        }
        match sync::run(self.session, &self.options, &self.progress).await {
            Ok(report) => {
                let held = self.store.quarantine().await.unwrap_or_default();
                if let Err(error) = print(&report, &held, self.json) {
                    eprintln!("cannot print the report: {error}");
                }
                Outcome::Done
            }
            // Not a passing failure: this token may not lead at all.
            Err(error @ crate::Error::ImportNotPermitted(_)) => {
                self.refused = Some(error);
                Outcome::Stop
            }
            Err(error) => {
                eprintln!("sync failed: {error}");
                Outcome::Failed
            }
        }
    }

    /// Harvest failing here backs the deliveries off, as it does the imports.
    async fn deliver(&mut self) -> crate::schedule::Outcome {
        if push_first(self.session).await {
            crate::schedule::Outcome::Done
        } else {
            crate::schedule::Outcome::Failed
        }
    }

    async fn interval(&mut self) -> Duration {
        self.every
    }
}

/// This person's queued time goes out before the import (which then finds
/// it); false when Harvest failed (the loop backs off).
async fn push_first(session: &crate::Session) -> bool {
    if session.client_opt().is_none() {
        return true;
    }
    match crate::logging::push(session).await {
        Ok(r) => {
            if r.sent > 0 || r.failed > 0 {
                eprintln!(
                    "Outbox: {} sent, {} refused by Harvest (see `tickettime outbox`)",
                    r.sent, r.failed
                );
            }
            r.stopped.is_none()
        }
        Err(error) => {
            eprintln!("Outbox not pushed: {error}");
            false
        }
    }
}

/// A team member who may not import asks the leader and shows its result.
async fn ask_leader(store: &Store, json: bool) -> anyhow::Result<()> {
    if !json && std::io::stderr().is_terminal() {
        eprintln!("You do not import on this team database: asking the sync leader…");
    }
    let state = crate::watch::ask_leader(store, crate::watch::Patience::default()).await?;
    if json {
        return output::json(&serde_json::json!({
            "asked_leader": true, "last_run_at": state.last_run_at, "new": state.new,
            "updated": state.updated, "deleted": state.deleted, "unattributed": state.unattributed,
            "last_error": state.last_error,
        }));
    }
    match &state.last_error {
        Some(error) => Err(anyhow!("the sync leader's import failed: {error}")),
        None => {
            println!(
                "Imported by the sync leader: {} new, {} updated, {} deleted, {} unattributed",
                state.new, state.updated, state.deleted, state.unattributed
            );
            Ok(())
        }
    }
}

fn print(report: &SyncReport, held: &[Quarantined], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(&serde_json::json!({
            "new": report.new, "updated": report.updated, "deleted": report.deleted,
            "unattributed": report.unattributed, "api_calls": report.api_calls, "pages": report.pages,
            "reconciled": report.reconciled, "watermark": report.watermark, "quarantined": held,
        }));
    }
    print_quarantine(held);
    println!(
        "Imported: {} new, {} updated, {} deleted, {} unattributed · {} API call{}{}",
        report.new,
        report.updated,
        report.deleted,
        report.unattributed,
        report.api_calls,
        if report.api_calls == 1 { "" } else { "s" },
        if report.reconciled { " · deletions reconciled" } else { "" }
    );
    Ok(())
}

/// Entries kept aside, one line each (on stderr: the run itself went on).
fn print_quarantine(held: &[Quarantined]) {
    for q in held {
        eprintln!(
            "Harvest entry {} not imported: {} (fix it in Harvest; the next sync imports it)",
            q.harvest_id, q.reason
        );
    }
}

pub async fn status(store: &Store, json: bool) -> anyhow::Result<()> {
    let state = store.sync_state().await?;
    let held = store.quarantine().await?;
    if json {
        let mut value = serde_json::to_value(&state)?;
        value["quarantined"] = serde_json::to_value(&held)?;
        return output::json(&value);
    }
    for q in &held {
        println!("Not imported: Harvest entry {} — {}", q.harvest_id, q.reason);
    }
    let Some(last) = state.last_run_at else {
        println!("No import has run yet. Run `tickettime sync`.");
        return Ok(());
    };
    println!(
        "Last run:     {} ({} ms)",
        last.format("%Y-%m-%d %H:%M:%S UTC"),
        state.duration_ms.unwrap_or_default()
    );
    println!(
        "Watermark:    {}",
        state.watermark.map_or_else(|| "—".to_owned(), |w| w.format("%Y-%m-%d %H:%M:%S UTC").to_string())
    );
    println!(
        "Entries:      {} new, {} updated, {} deleted, {} unattributed",
        state.new, state.updated, state.deleted, state.unattributed
    );
    println!("API calls:    {}", state.api_calls);
    if let Some(error) = state.last_error {
        println!("Last error:   {error}");
    }
    Ok(())
}

/// `90`, `90s`, `5m`, `1h`.
pub fn parse_every(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().with_context(|| format!("`{text}` is not a duration (try 30s, 5m or 1h)"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(anyhow!("`{text}` is not a duration (try 30s, 5m or 1h)")),
    };
    if seconds < 10 {
        return Err(anyhow!("--every must be at least 10 s (Harvest allows 100 requests per 15 s)"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_seconds_minutes_and_hours() {
        assert_eq!(parse_every("90").ok(), Some(Duration::from_secs(90)));
        assert_eq!(parse_every("5m").ok(), Some(Duration::from_secs(300)));
        assert_eq!(parse_every("1h").ok(), Some(Duration::from_secs(3600)));
        assert!(parse_every("5").is_err(), "too often");
        assert!(parse_every("soon").is_err());
        assert!(parse_every("5d").is_err());
    }
}
