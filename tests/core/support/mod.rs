//! Shared helpers for the integration tests: a fresh SQLite file per test
//! and Harvest time entries shaped like the real API's.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

/// A fresh database for one test: a SQLite file in a temporary directory,
/// or — when `TICKETTIME_TEST_PG` names a PostgreSQL server (an admin URL,
/// e.g. `postgres://user:pw@127.0.0.1/postgres`) — a new database on it.
/// Removed on drop, either way.
pub struct TempDb {
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
    /// Names no other database of this server had: see [`unique_tag`].
    tag: String,
    /// The PostgreSQL logins handed out by [`TempDb::login`], dropped with the database.
    logins: std::sync::Mutex<Vec<String>>,
}

static DATABASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A name part no earlier run used: process ids repeat from run to run, and
/// a server keeps what a killed run left behind (logins are the server's,
/// not a database's), so the clock's nanoseconds go in too.
fn unique_tag() -> String {
    let n = DATABASES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}_{n}_{nanos:08x}", std::process::id())
}

impl TempDb {
    pub fn new() -> Self {
        TempDb::on(std::env::var("TICKETTIME_TEST_PG").ok().filter(|u| !u.trim().is_empty()))
    }

    /// A SQLite file whatever `TICKETTIME_TEST_PG` says: for the solo
    /// contracts (one file, people told apart by their tokens). The team's
    /// per-login contract is tests/core/team.rs's.
    pub fn sqlite() -> Self {
        TempDb::on(None)
    }

    /// A new database on the PostgreSQL server `admin` names, or a SQLite file.
    fn on(admin: Option<String>) -> Self {
        let tag = unique_tag();
        let postgres = admin.map(|admin| {
            let name = format!("tickettime_test_{tag}");
            psql(&admin, &format!("CREATE DATABASE {name}"));
            (admin, name)
        });
        let dir = tempfile::tempdir().expect("a temporary directory");
        TempDb { dir, postgres, tag, logins: std::sync::Mutex::default() }
    }

    /// A PostgreSQL login name for `who` on this database (`staff add
    /// --db-login` creates it); dropped when this database is.
    pub fn login(&self, who: &str) -> String {
        let login = format!("tt_{}_{who}", self.tag);
        self.logins.lock().unwrap_or_else(|e| e.into_inner()).push(login.clone());
        login
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The SQLite file (meaningful only when not on PostgreSQL).
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("tickettime.db")
    }

    pub fn url(&self) -> String {
        match &self.postgres {
            Some((admin, name)) => {
                let mut url = url::Url::parse(admin).expect("TICKETTIME_TEST_PG is a URL");
                url.set_path(name);
                url.to_string()
            }
            None => format!("sqlite://{}", self.path().display()),
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            // Best effort: a login left behind is untidy, never in a later run's way.
            for login in self.logins.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                if let Err(error) = try_psql(admin, &format!("DROP ROLE IF EXISTS \"{login}\"")) {
                    eprintln!("note: login {login} left on the test server: {error}");
                }
            }
        }
    }
}

/// Runs one statement with `psql` against the admin database.
fn psql(admin: &str, sql: &str) {
    if let Err(error) = try_psql(admin, sql) {
        panic!("{error}");
    }
}

fn try_psql(admin: &str, sql: &str) -> Result<(), String> {
    let out = std::process::Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql runs (TICKETTIME_TEST_PG needs the PostgreSQL client)");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("psql `{sql}` failed: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Noon UTC on the given day of November 2026 plus `minutes`.
pub fn at(day: u32, minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).single().expect("valid time")
        + chrono::Duration::minutes(minutes)
}

/// A Harvest v2 time entry as `GET /v2/time_entries` returns it.
pub fn entry(id: i64, project: i64, hours: f64, updated: DateTime<Utc>) -> Value {
    json!({
        "id": id,
        "spent_date": updated.format("%Y-%m-%d").to_string(),
        "hours": hours,
        "hours_without_timer": hours,
        "rounded_hours": hours,
        "notes": format!("work {id}"),
        "is_locked": false,
        "is_running": false,
        "timer_started_at": null,
        "started_time": null,
        "ended_time": null,
        "billable": true,
        "user": { "id": 7, "name": "Ana Agent" },
        "client": { "id": 3, "name": "Acme", "currency": "USD" },
        "project": { "id": project, "name": format!("Project {project}"), "code": "" },
        "task": { "id": 11, "name": "Support" },
        "external_reference": null,
        "invoice": null,
        "created_at": updated.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "updated_at": updated.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    })
}

/// The same entry with a Tickettime external reference to `ticket`.
pub fn referenced(mut entry: Value, ticket: i64) -> Value {
    entry["external_reference"] = json!({
        "id": ticket.to_string(),
        "group_id": "tickettime",
        "account_id": "1",
        "permalink": format!("tickettime://ticket/{ticket}"),
        "service": "tickettime",
        "service_icon_url": null
    });
    entry
}

/// Harvest entries as a list page, the way an export or the API returns them.
pub fn page(entries: Vec<Value>) -> Value {
    let total = entries.len();
    json!({
        "time_entries": entries,
        "per_page": 2000, "total_pages": 1, "total_entries": total,
        "next_page": null, "previous_page": null, "page": 1,
        "links": { "first": "https://api.harvestapp.com/v2/time_entries?page=1&per_page=2000&ref=first",
                   "next": null, "previous": null,
                   "last": "https://api.harvestapp.com/v2/time_entries?page=1&per_page=2000&ref=last" }
    })
}

pub fn parse_entries(entries: Vec<Value>) -> Vec<harvest::TimeEntry> {
    entries.into_iter().map(|e| serde_json::from_value(e).expect("a valid Harvest entry")).collect()
}

/// The stdout of a `tickettime` run that had to succeed.
pub fn stdout_of(args: &[&str], out: std::process::Output) -> String {
    let args = args.join(" ");
    assert!(out.status.success(), "`tickettime {args}` failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `db`'s URL as another PostgreSQL login.
pub fn url_as(db: &TempDb, login: &str, password: &str) -> String {
    let mut url = url::Url::parse(&db.url()).expect("a URL");
    url.set_username(login).expect("a user");
    url.set_password(Some(password)).expect("a password");
    url.to_string()
}

/// Runs `command` with `stdin` written to it (then closed), capturing both outputs.
pub async fn output_with_stdin(
    mut command: tokio::process::Command,
    stdin: Option<&str>,
) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("tickettime runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("stdin written");
    }
    drop(input);
    child.wait_with_output().await.expect("tickettime ends")
}

/// The one-line error of a `tickettime` run that had to fail (and print nothing on stdout).
pub fn error_of(args: &[&str], out: std::process::Output) -> String {
    let args = args.join(" ");
    assert!(!out.status.success(), "`tickettime {args}` should have failed");
    assert!(out.stdout.is_empty(), "a failing command prints nothing on stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 errors");
    assert_eq!(stderr.trim_end().lines().count(), 1, "errors are one line: {stderr}");
    stderr
}

/// The owner of a solo file with no Harvest connection (admin rights).
pub fn owner() -> tickettime::Actor {
    tickettime::Actor::local_owner(None)
}

/// The session of whoever `client`'s token belongs to (asked of Harvest,
/// as every process does), on `store`.
pub async fn session_with(store: &tickettime::Store, client: &harvest::HarvestClient) -> tickettime::Session {
    if store.backend() == tickettime::store::Backend::Postgres
        && store.session_staff().await.expect("the login").1.is_none()
    {
        // A team database: its owner's login (the tests') is the token's person.
        let me = client.me().await.expect("users/me");
        let email = tickettime::domain::Email::parse(&me.email).expect("an email");
        store.init_team(Some(&email), Some(&me.name()), Utc::now()).await.expect("the team is set up");
    }
    tickettime::Session::of_client(store.clone(), client, Utc::now())
        .await
        .expect("the token's person is resolved")
}

/// A suite that cannot run here says so — on stderr and, when
/// `TICKETTIME_SKIP_LOG` names a file, there (scripts/test prints the list)
/// — and fails instead when `TICKETTIME_REQUIRE_ALL=1` (CI): a test that
/// did not run must not count as passed.
pub fn skipped(what: &str, missing: &str) {
    if std::env::var("TICKETTIME_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{what} must run here, but {missing} (TICKETTIME_REQUIRE_ALL=1)");
    }
    let line = format!("SKIPPED: {what}: {missing}");
    eprintln!("{line}");
    if let Ok(path) = std::env::var("TICKETTIME_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// Whether PostgreSQL tests can run (`TICKETTIME_TEST_PG`); says what is
/// skipped when not.
pub fn postgres_or_skip(what: &str) -> bool {
    let set = std::env::var("TICKETTIME_TEST_PG").is_ok_and(|v| !v.trim().is_empty());
    // scripts/test runs the PostgreSQL halves in a pass of their own.
    let apart = std::env::var("TICKETTIME_PG_RUN_APART").is_ok_and(|v| v == "1");
    if !set && !apart {
        skipped(what, "TICKETTIME_TEST_PG names no PostgreSQL server (scripts/test sets it)");
    }
    set
}
