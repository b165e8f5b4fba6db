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

use std::time::Duration;

use sqlx::postgres::PgListener;

pub use crate::store::CHANNEL;
use crate::store::{Backend, Store};
use crate::Result;

/// What a follower heard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// These tickets changed (numbers, sorted, deduplicated).
    Tickets(Vec<i64>),
    /// Listening (re)started: anything may have changed; catch up.
    Missed,
}

/// Follows the channel for ever, calling `on` for what it hears. Returns at
/// once for a SQLite store. Failures to reconnect are retried every second.
pub async fn follow(store: &Store, mut on: impl FnMut(Heard) + Send) -> Result<()> {
    if store.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut listener = PgListener::connect(store.url()).await?;
    listener.listen(CHANNEL).await?;
    on(Heard::Missed);
    loop {
        match listener.try_recv().await {
            Ok(Some(first)) => {
                let mut tickets: Vec<i64> = first.payload().parse().into_iter().collect();
                // Take what else is already queued, so one import is one callback.
                while let Ok(Ok(Some(more))) =
                    tokio::time::timeout(Duration::from_millis(50), listener.try_recv()).await
                {
                    tickets.extend(more.payload().parse::<i64>());
                }
                tickets.sort_unstable();
                tickets.dedup();
                on(Heard::Tickets(tickets));
            }
            Ok(None) => {
                // IMPORTANT: listen again before catching up, or a change
                // committed between the two would be missed.
                while let Err(error) = listener.listen(CHANNEL).await {
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

fn log_retry(error: &sqlx::Error) {
    eprintln!("tickettime: change listener: {error}; retrying");
}
