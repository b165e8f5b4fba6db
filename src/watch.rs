//! Team mode: a desktop hears within seconds what another desktop or the
//! sync leader changed, through PostgreSQL's LISTEN/NOTIFY.
//!
//! Writers announce each changed ticket's number on [`CHANNEL`] inside their
//! transaction (delivered on commit). A follower passes the numbers on, and
//! after a dropped connection — when notifications sent meanwhile are lost —
//! it listens again first and then says [`Heard::Missed`], so the caller
//! catches up with a query (notices come from the per-PM mark in the
//! database, which never skips an event). SQLite needs none of this: one
//! process owns the file.
//!
//! "Sync now" on a desktop that may not import (an agent's) asks the leader
//! on [`ASKS`]: `ask:ID`; every desktop that may lead answers `ack:ID` at
//! once, imports, then says `done:ID`. No `ack` within the patience means
//! nobody who can import is online ([`Error::NoLeader`]).

use std::time::Duration;

use sqlx::postgres::PgListener;

pub use crate::store::CHANNEL;
use crate::store::{Backend, Store, SyncState};
use crate::{Error, Result};

/// The channel on which desktops that may not import ask one that may.
pub const ASKS: &str = "tickettime_sync_asks";

/// What a follower heard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// These tickets changed (numbers, sorted, deduplicated).
    Tickets(Vec<i64>),
    /// Listening (re)started: anything may have changed; catch up.
    Missed,
    /// A desktop that may not import asks for one now: a leader answers
    /// with [`acknowledge`], imports, then [`answered`].
    SyncAsked(String),
}

/// Follows the channel for ever, calling `on` for what it hears. Returns at
/// once for a SQLite store. Failures to reconnect are retried every second.
pub async fn follow(store: &Store, mut on: impl FnMut(Heard) + Send) -> Result<()> {
    if store.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut listener = PgListener::connect(store.url()).await?;
    listener.listen_all([CHANNEL, ASKS]).await?;
    on(Heard::Missed);
    loop {
        match listener.try_recv().await {
            Ok(Some(first)) => {
                let mut tickets = Vec::new();
                let mut asks = Vec::new();
                let mut changed = false;
                let mut take = |n: &sqlx::postgres::PgNotification| {
                    if n.channel() == ASKS {
                        asks.extend(n.payload().strip_prefix("ask:").map(str::to_owned));
                    } else {
                        changed = true;
                        tickets.extend(n.payload().parse::<i64>());
                    }
                };
                take(&first);
                // Take what else is already queued, so one import is one callback.
                while let Ok(Ok(Some(more))) =
                    tokio::time::timeout(Duration::from_millis(50), listener.try_recv()).await
                {
                    take(&more);
                }
                tickets.sort_unstable();
                tickets.dedup();
                if changed {
                    on(Heard::Tickets(tickets));
                }
                for id in asks {
                    on(Heard::SyncAsked(id));
                }
            }
            Ok(None) => {
                // IMPORTANT: listen again before catching up, or a change
                // committed between the two would be missed.
                while let Err(error) = listener.listen_all([CHANNEL, ASKS]).await {
                    log_retry(&error);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                on(Heard::Missed);
            }
            Err(error) => {
                log_retry(&error);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// [`follow`] on a task of its own, heard as a channel. The channel closes when
/// following cannot start (said on stderr) — at once for a SQLite store.
pub fn subscribe(store: &Store) -> tokio::sync::mpsc::UnboundedReceiver<Heard> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let store = store.clone();
    tokio::spawn(async move {
        let outcome = follow(&store, move |heard| {
            let _ = tx.send(heard);
        })
        .await;
        if let Err(error) = outcome {
            eprintln!("tickettime: team changes are not followed: {error}");
        }
    });
    rx
}

/// How long [`ask_leader`] waits: for a leader to say it heard, then for
/// its import to finish.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    pub heard: Duration,
    pub finished: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Patience { heard: Duration::from_secs(5), finished: Duration::from_secs(120) }
    }
}

/// Asks the team's sync leader for an import now and waits for it: the
/// shared sync state after it, [`Error::NoLeader`] when no desktop that may
/// import answered within `patience.heard`. PostgreSQL only.
pub async fn ask_leader(store: &Store, patience: Patience) -> Result<SyncState> {
    if store.backend() != Backend::Postgres {
        return Err(Error::Invalid("only a team database has a sync leader to ask".into()));
    }
    let mut listener = PgListener::connect(store.url()).await?;
    listener.listen(ASKS).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    say(store, &format!("ask:{id}")).await?;
    let (ack, done) = (format!("ack:{id}"), format!("done:{id}"));
    let heard_by = tokio::time::Instant::now() + patience.heard;
    let mut acknowledged = false;
    loop {
        let deadline = if acknowledged { heard_by + patience.finished } else { heard_by };
        let next = tokio::time::timeout_at(deadline, listener.recv()).await;
        match next {
            Err(_) if acknowledged => {
                return Err(Error::Invalid(format!(
                    "the sync leader heard but has not finished after {} s; its result shows when it does",
                    patience.finished.as_secs()
                )))
            }
            Err(_) => return Err(Error::NoLeader),
            Ok(note) => {
                let note = note?;
                if note.payload() == ack {
                    acknowledged = true;
                } else if note.payload() == done {
                    return store.sync_state().await;
                }
            }
        }
    }
}

/// A leader heard ask `id` (sent before it imports).
pub async fn acknowledge(store: &Store, id: &str) -> Result<()> {
    say(store, &format!("ack:{id}")).await
}

/// A leader's import for ask `id` finished (its result is in the sync state).
pub async fn answered(store: &Store, id: &str) -> Result<()> {
    say(store, &format!("done:{id}")).await
}

async fn say(store: &Store, payload: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(ASKS).bind(payload).execute(store.pool()).await?;
    Ok(())
}

fn log_retry(error: &sqlx::Error) {
    eprintln!("tickettime: change listener: {error}; retrying");
}
