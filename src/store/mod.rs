//! Storage: sqlx over a SQLite file (solo) or a PostgreSQL server (team),
//! chosen by the URL's scheme, with one set of queries for both (sqlx's
//! `Any` driver). Every write that applies a rule runs in one transaction
//! (`BEGIN IMMEDIATE` on SQLite), so a refused or failed operation leaves
//! nothing half-written.
//!
//! The SQL is kept portable: runtime `query_as`, `$n` parameters, `ON
//! CONFLICT` upserts, every integer a BIGINT, text timestamps in one sortable
//! format, hours as integer hundredths. Each backend has its own migrations
//! folder with the same meaning.

mod desks;
mod entries;
mod harvest;
mod outbox;
mod reports;
mod requests;
mod sync;
mod team;
mod tickets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Executor};

use crate::actor::Actor;
use crate::domain::Thresholds;
use crate::error::{Error, Result};

pub use desks::{DeskNote, DeskOutboxItem, DeskRecord, DeskSyncReport, NewDesk, DESK_ATTEMPTS};
pub use entries::{EntryBatch, FileBatch, ImportReport};
pub use harvest::{PendingTime, ThreadInput};
pub use outbox::{ClaimOutcome, ClaimRules, Claimed, OutboxItem, OutboxState, Pusher, Unsent};
pub use reports::{EntryLine, Person, Written};
pub use requests::{RequestNews, RequestState, UnlockRequest};
pub use sync::{ImportLock, Quarantined, RunRecord, SyncState};
pub use team::{NewMember, TeamSetup};
pub use tickets::{
    EventDetail, EventRecord, NewTicket, RunningTimer, Staff, TicketChanges, TicketView, CHANNEL,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database server a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded file: solo use.
    Sqlite,
    /// A shared server: team use.
    Postgres,
}

/// The environment variable naming the database when `--db` is not given.
pub const DB_ENV: &str = "TICKETTIME_DB";

/// A handle on Tickettime's database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file, if this store is one.
    path: Option<PathBuf>,
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("url", &redact(&self.url)).finish()
    }
}

/// A URL with its password replaced, for logs and errors.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema
    /// up to date. `postgres://…` opens a PostgreSQL database; `sqlite://PATH`,
    /// `sqlite:PATH` or a plain path a SQLite file.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::open_postgres(url).await;
        }
        let path = sqlite_path(url);
        let open_error = |source| Error::Open { url: url.to_owned(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        let any_url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            // A connection to a local file has nothing to go stale; closing
            // one and opening another (sqlx's default every 30 minutes, and
            // after 10 idle ones) only builds its thread, statements and page
            // cache again, and a tray running all day grew by what each
            // rebuild left scattered in the allocator (docs/footprint.md).
            .max_lifetime(None)
            .idle_timeout(None)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // IMPORTANT: synchronous=FULL, not NORMAL: a lost commit here is lost user work.
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; PRAGMA synchronous = FULL;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&any_url)
            .await
            .map_err(open_error)?;
        // WAL is a property of the file: set once, kept by every later connection.
        pool.execute("PRAGMA journal_mode = WAL").await.map_err(open_error)?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Store { pool, backend: Backend::Sqlite, path: Some(path), url: url.to_owned() })
    }

    async fn open_postgres(url: &str) -> Result<Self> {
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|source| Error::Open { url: redact(url), source })?;
        // Only the owner migrates: on a new database a login that may create
        // tables, afterwards one that owns them (before PostgreSQL 15 every
        // login may create in `public`, but only the tables' owner may change
        // them). Every other person's login checks that the schema is this
        // version's.
        let may_migrate: bool = sqlx::query_scalar::<_, i64>(
            "SELECT CASE WHEN COALESCE(
                 pg_has_role(current_user,
                     (SELECT relowner FROM pg_class WHERE oid = to_regclass('_sqlx_migrations')), 'USAGE'),
                 has_schema_privilege('public', 'CREATE')) THEN 1 ELSE 0 END",
        )
        .fetch_one(&pool)
        .await?
            == 1;
        if may_migrate {
            POSTGRES_MIGRATIONS.run(&pool).await?;
        } else {
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&pool)
                .await
                .map_err(|e| {
                    Error::Invalid(format!(
                        "the team database {} is not set up for Tickettime yet (its owner runs `tickettime init`): {e}",
                        redact(url)
                    ))
                })?;
            if POSTGRES_MIGRATIONS.iter().any(|m| !applied.contains(&m.version)) {
                return Err(Error::Invalid(format!(
                    "the team database {} has an older schema than this Tickettime: its owner runs `tickettime init` \
                     to bring it up to date",
                    redact(url)
                )));
            }
        }
        Ok(Store { pool, backend: Backend::Postgres, path: None, url: url.to_owned() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the store was opened with (it may hold a password: see [`redact`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A writer's transaction: `BEGIN IMMEDIATE` on SQLite, so a writer never
    /// upgrades a read lock into `SQLITE_BUSY`; plain `BEGIN` on PostgreSQL.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The budget lines in force (settings `approaching_pct`, `near_pct`,
    /// `lock_pct`; defaults 75 / 90 / 100).
    pub async fn thresholds(&self) -> Result<Thresholds> {
        let mut conn = self.pool.acquire().await?;
        load_thresholds(&mut conn).await
    }

    /// Changes one budget line (a PM's or admin's to do). The lock line
    /// must stay above the others.
    pub async fn set_threshold(&self, actor: &Actor, key: &str, pct: u32) -> Result<Thresholds> {
        actor.require_manager("change the budget lines")?;
        let mut tx = self.begin().await?;
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
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The database used when none is named: a file in the platform data directory.
/// Opens (creating, never truncating) a file that only serves as a lock.
fn lock_file(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::Invalid(format!("cannot open the lock file {}: {e}", path.display())))
}

pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Tickettime", "tickettime")
        .map(|dirs| dirs.data_dir().join("tickettime.db"))
}

fn sqlite_path(url: &str) -> PathBuf {
    let bare = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let bare = bare.split('?').next().unwrap_or(bare);
    Path::new(bare).to_path_buf()
}

async fn load_thresholds(conn: &mut AnyConnection) -> Result<Thresholds> {
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

/// `count` bind parameters numbered from `from`, for a statement built with
/// a variable number of values: `$n` on PostgreSQL; plain `?` on SQLite,
/// where sqlx looks each named parameter up by a linear scan, so a
/// statement of thousands of `$n` spends its time there. IMPORTANT: every
/// parameter of such a statement comes from here: SQLite would bind a
/// `$n` written by hand and the `?` after it to the same value.
pub(crate) fn placeholders(backend: Backend, from: usize, count: usize) -> String {
    let one = |i: usize| match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${i}"),
    };
    (from..from + count).map(one).collect::<Vec<_>>().join(", ")
}

/// The backend of a connection (for [`placeholders`]).
pub(crate) fn backend_of(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Timestamps are stored as UTC text in one fixed, sortable format.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    if !(0..=9999).contains(&at.year()) {
        return at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    }
    // As the format above writes it (an import stamps every row: a format
    // string parsed per call costs more than the rest of the row), a leap
    // second as :60 included.
    let nanos = at.nanosecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second() + nanos / 1_000_000_000,
        (nanos % 1_000_000_000) / 1_000
    )
}

pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Invalid(format!("stored timestamp `{text}` is unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};

    #[test]
    fn a_stamp_is_written_as_the_format_writes_it() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
        let leap = day.and_hms_nano_opt(23, 59, 59, 1_500_000_000).expect("a leap second").and_utc();
        let stamps: Vec<DateTime<Utc>> = vec![
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("a time"),
            Utc.timestamp_opt(1_764_000_000, 123_456_789).single().expect("a time"),
            Utc.timestamp_opt(-86_399, 999_999_999).single().expect("before 1970"),
            leap,
            Utc.with_ymd_and_hms(12_026, 1, 1, 0, 0, 0).single().expect("a far year"),
        ];
        for at in stamps {
            assert_eq!(super::ts(at), at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), "{at:?}");
        }
    }
}
