//! Storage: sqlx over a SQLite file (PostgreSQL comes later, behind the same
//! methods). Every write that applies a rule runs in one `BEGIN IMMEDIATE`
//! transaction, so a refused or failed operation leaves nothing half-written.
//!
//! The SQL is kept portable: runtime `query_as`, `$n` parameters, `ON
//! CONFLICT` upserts, text timestamps in one sortable format, hours as
//! integer hundredths.

mod entries;
mod harvest;
mod sync;
mod tickets;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};

use crate::domain::Thresholds;
use crate::error::{Error, Result};

pub use entries::ImportReport;
pub use harvest::{HarvestAccount, OutboxItem, OutboxState, PendingTime, ThreadInput};
pub use sync::{RunRecord, SyncState};
pub use tickets::{EventDetail, EventRecord, NewTicket, Staff, TicketChanges, TicketView};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The environment variable naming the database when `--db` is not given.
pub const DB_ENV: &str = "TICKETTIME_DB";

/// A handle on Tickettime's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema
    /// up to date. `url` is `sqlite://PATH`, `sqlite:PATH` or a plain path.
    pub async fn open(url: &str) -> Result<Self> {
        let url = normalize_url(url);
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|source| Error::Open { url: url.clone(), source })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15))
            // IMPORTANT: FULL, not NORMAL: a lost commit here is lost user work.
            .synchronous(SqliteSynchronous::Full);
        let path = options.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Open { url: url.clone(), source: sqlx::Error::Io(e) })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| Error::Open { url: url.clone(), source })?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool, path })
    }

    /// The budget lines in force (settings `approaching_pct`, `near_pct`,
    /// `lock_pct`; defaults 75 / 90 / 100).
    pub async fn thresholds(&self) -> Result<Thresholds> {
        let mut conn = self.pool.acquire().await?;
        load_thresholds(&mut conn).await
    }

    /// Changes one budget line. The lock line must stay above the others.
    pub async fn set_threshold(&self, key: &str, pct: u32) -> Result<Thresholds> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut t = load_thresholds(&mut tx).await?;
        match key {
            "approaching_pct" => t.approaching = pct,
            "near_pct" => t.near = pct,
            "lock_pct" => t.lock = pct,
            other => return Err(Error::Invalid(format!("unknown setting `{other}`"))),
        }
        if !((1..=1000).contains(&pct) && t.approaching < t.near && t.near <= t.lock) {
            return Err(Error::Invalid(format!(
                "thresholds must satisfy 0 < approaching < near ≤ lock ≤ 1000 (got {} / {} / {})",
                t.approaching, t.near, t.lock
            )));
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(pct.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// The pool, for integration tests that inspect rows directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The database used when none is named: a file in the platform data directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Tickettime", "tickettime")
        .map(|dirs| dirs.data_dir().join("tickettime.db"))
}

fn normalize_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        url.to_owned()
    } else {
        format!("sqlite://{}", Path::new(url).display())
    }
}

async fn load_thresholds(conn: &mut SqliteConnection) -> Result<Thresholds> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT key, value FROM settings WHERE key IN ('approaching_pct', 'near_pct', 'lock_pct')",
    )
    .fetch_all(conn)
    .await?;
    let mut t = Thresholds::default();
    for (key, value) in rows {
        let Ok(pct) = value.parse::<u32>() else { continue };
        match key.as_str() {
            "approaching_pct" => t.approaching = pct,
            "near_pct" => t.near = pct,
            "lock_pct" => t.lock = pct,
            _ => {}
        }
    }
    Ok(t)
}

/// Timestamps are stored as UTC text in one fixed, sortable format.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Invalid(format!("stored timestamp `{text}` is unreadable: {e}")))
}
