//! The osTicket connector against a real MariaDB server holding an
//! osTicket 1.18 schema (tests/fixtures/osticket), through the `tickettime`
//! command as a user runs it: the first sync, a second that adds nothing, a
//! reply arriving, a changed Harvest Project ID relinking, wrong logins, a
//! kill during a sync, and a time note written exactly once through a crash
//! between osTicket's insert and Tickettime's commit.
//!
//! `scripts/test` starts a private MariaDB and sets TICKETTIME_TEST_MYSQL to
//! an admin URL (`mysql://USER:PW@127.0.0.1:PORT`); each test gets its own
//! database and two logins: a reader (SELECT) and a writer (+ INSERT on
//! `ost_thread_entry`).

use crate::support;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use harvest_sim::Simulator;
use serde_json::Value;
use sqlx::{Connection, MySqlConnection};
use support::TempDb;

const SCHEMA: &str = include_str!("../fixtures/osticket/schema.sql");
const SEED: &str = include_str!("../fixtures/osticket/seed.sql");
const READ_PW: &str = "reader-secret-7f3";
const WRITE_PW: &str = "writer-secret-9c1";

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A database with the fixture on the test server, and its two logins.
struct OsTicketDb {
    admin: url::Url,
    name: String,
    reader: String,
    writer: String,
}

impl OsTicketDb {
    async fn create(what: &str) -> Option<OsTicketDb> {
        let Some(admin) = std::env::var("TICKETTIME_TEST_MYSQL").ok().filter(|u| !u.trim().is_empty()) else {
            support::skipped(what, "TICKETTIME_TEST_MYSQL names no MariaDB server (scripts/test starts one)");
            return None;
        };
        if !std::env::var("TICKETTIME_TEST_KEYRING").is_ok_and(|v| v == "1") {
            support::skipped(
                what,
                "TICKETTIME_TEST_KEYRING is not 1 (a desk's password lives in the keychain)",
            );
            return None;
        }
        let admin = url::Url::parse(&admin).expect("TICKETTIME_TEST_MYSQL is a URL");
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}_{n}", std::process::id());
        let db = OsTicketDb {
            admin,
            name: format!("osticket_{tag}"),
            reader: format!("ttr_{tag}"),
            writer: format!("ttw_{tag}"),
        };
        let mut conn = MySqlConnection::connect(db.admin.as_str()).await.expect("the MariaDB admin connects");
        let setup = format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4;
             CREATE USER '{r}'@'%' IDENTIFIED BY '{READ_PW}';
             GRANT SELECT ON `{name}`.* TO '{r}'@'%';
             CREATE USER '{w}'@'%' IDENTIFIED BY '{WRITE_PW}';
             GRANT SELECT ON `{name}`.* TO '{w}'@'%';",
            name = db.name,
            r = db.reader,
            w = db.writer,
        );
        sqlx::raw_sql(&setup).execute(&mut conn).await.expect("database and logins");
        conn.close().await.expect("closed");
        db.exec(&SCHEMA.replace("%TABLE_PREFIX%", "ost_")).await;
        db.exec(&SEED.replace("%TABLE_PREFIX%", "ost_")).await;
        db.exec(&format!("GRANT INSERT ON `{}`.`ost_thread_entry` TO '{}'@'%'", db.name, db.writer)).await;
        Some(db)
    }

    fn url_for(&self, user: &str, password: &str) -> String {
        let mut url = self.admin.clone();
        url.set_username(user).expect("a user");
        url.set_password(Some(password)).expect("a password");
        url.set_path(&self.name);
        url.to_string()
    }

    fn reader_url(&self) -> String {
        self.url_for(&self.reader, READ_PW)
    }

    fn writer_url(&self) -> String {
        self.url_for(&self.writer, WRITE_PW)
    }

    async fn connect(&self) -> MySqlConnection {
        let mut url = self.admin.clone();
        url.set_path(&self.name);
        let mut conn = MySqlConnection::connect(url.as_str()).await.expect("the admin connects to the desk");
        sqlx::raw_sql("SET SESSION sql_mode = ''").execute(&mut conn).await.expect("sql_mode");
        conn
    }

    /// Runs statements (one connection, in order) as the admin on this database.
    async fn exec(&self, sql: &str) {
        let mut conn = self.connect().await;
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
        conn.close().await.expect("closed");
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.connect().await;
        let n: i64 =
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap_or_else(|e| panic!("`{sql}`: {e}"));
        conn.close().await.expect("closed");
        n
    }
}

impl Drop for OsTicketDb {
    fn drop(&mut self) {
        let sql = format!(
            "DROP DATABASE IF EXISTS `{}`; DROP USER IF EXISTS '{}'@'%'; DROP USER IF EXISTS '{}'@'%';",
            self.name, self.reader, self.writer
        );
        let password = self.admin.password().unwrap_or_default().to_owned();
        let _ = std::process::Command::new("mariadb")
            .args([
                "-h",
                self.admin.host_str().unwrap_or("127.0.0.1"),
                "-P",
                &self.admin.port().unwrap_or(3306).to_string(),
                "-u",
                self.admin.username(),
                &format!("-p{password}"),
                "-e",
                &sql,
            ])
            .output();
    }
}

/// Tickettime on a SQLite file, with the Harvest simulator for the tests
/// that log time (the Zendesk tests use it too).
pub(crate) struct Tt {
    pub(crate) db: TempDb,
    sim: Option<Simulator>,
    keychain: String,
}

impl Tt {
    pub(crate) async fn new(with_harvest: bool) -> Tt {
        Tt::on(TempDb::sqlite(), with_harvest).await
    }

    pub(crate) async fn on(db: TempDb, with_harvest: bool) -> Tt {
        let sim = if with_harvest {
            Some(
                Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
                    .await
                    .expect("the simulator starts"),
            )
        } else {
            None
        };
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let tt = Tt { db, sim, keychain: format!("tickettime-test-desk-{}-{n}", std::process::id()) };
        if tt.db.is_postgres() {
            tt.ok(None, &["init", "--email", "ada@demo.test", "--name", "Ada Admin"]).await;
        } else {
            tt.ok(None, &["init"]).await;
        }
        tt
    }

    pub(crate) fn command(&self, token: Option<&str>, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"));
        command
            .args(args)
            .env("TICKETTIME_DB", self.db.url())
            .env("TICKETTIME_CACHE_DIR", self.db.dir.path())
            .env("TICKETTIME_KEYCHAIN_SERVICE", &self.keychain)
            .env_remove("HARVEST_ACCESS_TOKEN")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(sim) = &self.sim {
            command
                .env("HARVEST_API_URL", sim.url())
                .env("HARVEST_ID_URL", sim.url())
                .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string());
        }
        if let Some(token) = token {
            command.env("HARVEST_ACCESS_TOKEN", token);
        }
        command
    }

    pub(crate) async fn run(&self, token: Option<&str>, args: &[&str]) -> Output {
        self.command(token, args).output().await.expect("tickettime runs")
    }

    /// A run on another database URL (a team login's), with `stdin` given.
    pub(crate) async fn run_at(&self, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = self.command(None, args);
        command.env("TICKETTIME_DB", url);
        support::output_with_stdin(command, stdin).await
    }

    /// A PM (Pia) and an agent (Ana) on this team database, each with her own
    /// PostgreSQL login (named by [`TempDb::login`], dropped with the
    /// database; password `password`): their database URLs.
    pub(crate) async fn pm_and_agent_logins(&self, password: &str) -> (String, String) {
        let (pia, ana) = (self.db.login("pia"), self.db.login("ana"));
        for (email, name, role, login) in
            [("pia@demo.test", "Pia Park", "pm", &pia), ("ana@demo.test", "Ana Alvarez", "agent", &ana)]
        {
            let args =
                ["staff", "add", "--email", email, "--name", name, "--role", role, "--db-login", login];
            let out = self.run_at(&self.db.url(), &args, Some(&format!("{password}\n"))).await;
            assert!(out.status.success(), "staff add: {}", String::from_utf8_lossy(&out.stderr));
        }
        (support::url_as(&self.db, &pia, password), support::url_as(&self.db, &ana, password))
    }

    /// A `desk sync` (as `who`) that has claimed its outbox item, and this
    /// file's write lock held so that it cannot commit what it writes next:
    /// the window between the desk's write and Tickettime's commit.
    pub(crate) async fn sync_claimed_with_the_file_locked(
        &self,
        who: Option<&str>,
    ) -> (tokio::process::Child, sqlx::SqliteConnection) {
        let sync = self.command(who, &["desk", "sync"]).spawn().expect("desk sync");
        wait_for("the claim", || async {
            self.json(None, &["desk", "outbox"]).await[0]["state"] == "sending"
        })
        .await;
        let mut sqlite = sqlx::SqliteConnection::connect(&self.db.url()).await.expect("the SQLite file");
        sqlx::raw_sql("PRAGMA busy_timeout = 15000; BEGIN IMMEDIATE")
            .execute(&mut sqlite)
            .await
            .expect("write lock");
        (sync, sqlite)
    }

    /// How many thread entries the file holds, and how many distinct desk
    /// entries they come from (equal when nothing came in twice).
    pub(crate) async fn thread_entries_and_distinct_desk_ids(&self) -> (i64, i64) {
        let store = tickettime::Store::open(&self.db.url()).await.expect("the store");
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT desk_entry_id) FROM thread_entries")
            .fetch_one(store.pool())
            .await
            .expect("counted")
    }

    pub(crate) async fn ok(&self, token: Option<&str>, args: &[&str]) -> String {
        support::stdout_of(args, self.run(token, args).await)
    }

    pub(crate) async fn json(&self, token: Option<&str>, args: &[&str]) -> Value {
        let mut with = args.to_vec();
        with.push("--json");
        serde_json::from_str(&self.ok(token, &with).await).expect("JSON")
    }

    pub(crate) async fn fails(&self, token: Option<&str>, args: &[&str]) -> String {
        support::error_of(args, self.run(token, args).await)
    }

    /// The Tickettime ticket made from osTicket's ticket `number`.
    pub(crate) async fn ticket(&self, number: &str) -> Value {
        let list = self.json(None, &["ticket", "list"]).await;
        list.as_array()
            .and_then(|l| l.iter().find(|t| t["source_number"] == number).cloned())
            .unwrap_or_else(|| panic!("no ticket from osTicket #{number} in {list}"))
    }

    pub(crate) async fn timeline(&self, number: &Value) -> Vec<Value> {
        let n = number.to_string();
        let items = self.json(None, &["timeline", &n]).await;
        items.as_array().cloned().unwrap_or_default()
    }
}

pub(crate) fn report(outcomes: &Value) -> &Value {
    let report = &outcomes[0];
    assert!(report["error"].is_null(), "the desk synced: {outcomes}");
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_sync_brings_tickets_threads_and_fields_in_and_a_second_adds_nothing() {
    let Some(desk) = OsTicketDb::create("the osTicket connector's first sync (tests/core/osticket.rs)").await
    else {
        return;
    };
    let tt = Tt::new(false).await;
    let added = tt
        .json(
            None,
            &[
                "desk",
                "add",
                "osticket",
                "--url",
                &desk.reader_url(),
                "--web-url",
                "https://help.example.com/",
            ],
        )
        .await;
    assert_eq!(added["kind"], "osticket");
    assert_eq!(added["writes_notes"], false, "a SELECT-only login writes nothing");
    assert!(!added.to_string().contains(READ_PW), "the password is not shown: {added}");

    let first = tt.json(None, &["desk", "sync"]).await;
    let r = report(&first);
    assert_eq!(r["tickets_new"], 2, "{first}");
    assert_eq!(r["entries_new"], 7, "seven ticket entries; the task's note is not a ticket's: {first}");

    let t = tt.ticket("489123").await;
    assert_eq!(t["source"], "osticket");
    assert_eq!(t["subject"], "Website relaunch: checkout fails & cart empties");
    assert_eq!(t["status"], "open");
    assert_eq!(t["client"], "Olivia Kunde");
    assert_eq!(t["harvest_project_id"], 41_068_201);
    assert_eq!(t["budget_hours"], 10.0);
    assert_eq!(t["quoted_hours"], 8.0);
    assert_eq!(t["source_url"], "https://help.example.com/scp/tickets.php?id=1");
    let closed = tt.ticket("517004").await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["harvest_project_id"], Value::Null, "no project in the desk, none here");
    assert_eq!(closed["budget_hours"], Value::Null);

    let timeline = tt.timeline(&t["number"]).await;
    let kinds: Vec<&str> = timeline.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds, ["message", "response", "note", "message"], "{timeline:?}");
    assert_eq!(
        timeline[0]["body"],
        "Hi team,\n\nsince the relaunch the checkout fails for about 1 in 5 orders & the cart empties afterwards.\n\
         Steps: add 2 items > checkout > pay by card.\n\nThanks,\nOlivia",
        "HTML becomes plain text, the script goes"
    );
    assert_eq!(timeline[1]["author"], "Sam Agent");
    assert_eq!(
        timeline[2]["body"],
        "Estimate\nQuoted 8h, budget 10h.\nBook time against Harvest project 41068201 & keep notes short."
    );
    assert_eq!(
        timeline[3]["body"],
        "Thanks Sam!\nIt works again & orders go through.\n<this is plain text, not a tag>",
        "a text body is kept as written"
    );
    assert!(timeline.iter().all(|i| !i["body"].as_str().unwrap_or("").contains("NOT show up")));
    assert!(timeline.iter().all(|i| !i["body"].as_str().unwrap_or("").contains("evil.example")));

    let second = tt.json(None, &["desk", "sync"]).await;
    let r = report(&second);
    for key in ["tickets_new", "tickets_updated", "entries_new", "entries_updated"] {
        assert_eq!(r[key], 0, "a second sync adds nothing ({key}): {second}");
    }
    assert_eq!(tt.timeline(&t["number"]).await, timeline);

    // The password is in the keychain only: not in the database file, not in any listing.
    let file = std::fs::read(tt.db.path()).expect("the database file");
    let wal = std::fs::read(tt.db.path().with_extension("db-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(!bytes.windows(READ_PW.len()).any(|w| w == READ_PW.as_bytes()), "the password is not stored");
    }
    let listed = tt.ok(None, &["desk", "list", "--json"]).await;
    assert!(!listed.contains(READ_PW));
    assert!(listed.contains(&format!("mysql://{}@", desk.reader)), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_reply_arrives_a_changed_project_relinks_and_a_bad_budget_is_named() {
    let Some(desk) =
        OsTicketDb::create("the osTicket connector's incremental sync (tests/core/osticket.rs)").await
    else {
        return;
    };
    let tt = Tt::new(false).await;
    tt.ok(None, &["desk", "add", "osticket", "--url", &desk.reader_url()]).await;
    // Harvest entries already imported: 3 h on the linked project, 2 h on another.
    let file = tt.db.dir.path().join("entries.json");
    let entries = support::page(vec![
        support::entry(9001, 41_068_201, 3.0, support::at(20, 0)),
        support::entry(9002, 555_001, 2.0, support::at(20, 5)),
    ]);
    std::fs::write(&file, entries.to_string()).expect("written");
    tt.ok(None, &["import-entries", &file.display().to_string()]).await;
    tt.json(None, &["desk", "sync"]).await;
    let t = tt.ticket("489123").await;
    assert_eq!(t["hours_used"], 3.0, "the linked project's entries count: {t}");

    // A reply that did not touch the ticket row (osTicket usually does; not always).
    desk.exec(
        "INSERT INTO ost_thread_entry (pid, thread_id, staff_id, user_id, type, flags, poster, source, title, body,
            format, ip_address, created, updated)
         VALUES (0, 7, 2, 0, 'R', 576, 'Sam Agent', '', NULL, '<p>Deployed the fix &ndash; please retry.</p>',
            'html', '192.0.2.10', NOW() - INTERVAL 1 MINUTE, '0000-00-00 00:00:00')",
    )
    .await;
    let synced = tt.json(None, &["desk", "sync"]).await;
    let r = report(&synced);
    assert_eq!(r["entries_new"], 1, "{synced}");
    assert_eq!(r["tickets_new"], 0);
    let timeline = tt.timeline(&t["number"]).await;
    let last = timeline.iter().rev().find(|i| i["kind"] == "response").expect("a response");
    assert_eq!(last["body"], "Deployed the fix – please retry.");

    // The desk moves the ticket to another Harvest project and writes nonsense in the budget.
    desk.exec(
        "UPDATE ost_form_entry_values SET value = '555001' WHERE entry_id = 3 AND field_id = 36;
         UPDATE ost_form_entry_values SET value = 'ten' WHERE entry_id = 3 AND field_id = 37;
         UPDATE ost_ticket SET updated = NOW() - INTERVAL 1 MINUTE WHERE ticket_id = 1;",
    )
    .await;
    let synced = tt.json(None, &["desk", "sync"]).await;
    let r = report(&synced);
    assert_eq!(r["relinked"], serde_json::json!([t["number"]]), "{synced}");
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("Budget Hours `ten` is not a number of hours"), "{warnings}");
    let moved = tt.ticket("489123").await;
    assert_eq!(moved["harvest_project_id"], 555_001);
    assert_eq!(moved["hours_used"], 2.0, "the old project's hours left, the new one's arrived: {moved}");
    assert_eq!(moved["budget_hours"], 10.0, "an unreadable budget keeps the one the ticket had");

    // A PM's own change stands until the desk changes the field again.
    let n = moved["number"].to_string();
    tt.ok(None, &["ticket", "set", &n, "--budget-hours", "12"]).await;
    desk.exec(
        "UPDATE ost_ticket SET updated = NOW() - INTERVAL 30 SECOND, lastupdate = NOW() WHERE ticket_id = 1",
    )
    .await;
    tt.json(None, &["desk", "sync"]).await;
    assert_eq!(tt.ticket("489123").await["budget_hours"], 12.0);
    desk.exec(
        "UPDATE ost_form_entry_values SET value = '6' WHERE entry_id = 3 AND field_id = 37;
         UPDATE ost_ticket SET updated = NOW() - INTERVAL 20 SECOND WHERE ticket_id = 1;",
    )
    .await;
    tt.json(None, &["desk", "sync"]).await;
    let t = tt.ticket("489123").await;
    assert_eq!(t["budget_hours"], 6.0, "the desk's new value applies");
    assert_eq!(t["locked"], false, "2 h of 6 h");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_host_or_prefix_is_one_clear_line_and_nothing_is_kept() {
    let Some(desk) =
        OsTicketDb::create("the osTicket connector's login errors (tests/core/osticket.rs)").await
    else {
        return;
    };
    let tt = Tt::new(false).await;
    let wrong = desk.url_for(&desk.reader, "not-the-password");
    let error = tt.fails(None, &["desk", "add", "osticket", "--url", &wrong]).await;
    assert!(error.contains("refused the login") && error.contains("wrong user or password"), "{error}");
    assert!(!error.contains("not-the-password"), "no password in the error: {error}");

    let mut closed = url::Url::parse(&desk.reader_url()).expect("a URL");
    closed.set_port(Some(9)).expect("a port");
    let error = tt.fails(None, &["desk", "add", "osticket", "--url", closed.as_str()]).await;
    assert!(error.contains("cannot reach the osTicket database"), "{error}");
    assert!(!error.contains(READ_PW), "{error}");

    let error = tt
        .fails(None, &["desk", "add", "osticket", "--url", &desk.reader_url(), "--prefix", "helpdesk_"])
        .await;
    assert!(error.contains("helpdesk_ticket") && error.contains("--prefix"), "{error}");

    let error = tt.fails(None, &["desk", "add", "osticket", "--url", "postgres://a:b@h/db"]).await;
    assert!(error.contains("not a MySQL/MariaDB URL"), "{error}");
    assert_eq!(tt.json(None, &["desk", "list"]).await, serde_json::json!([]), "nothing was kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_point_converges_to_the_same_tickets_once() {
    let Some(desk) =
        OsTicketDb::create("the osTicket connector killed mid-sync (tests/core/osticket.rs)").await
    else {
        return;
    };
    // 300 more tickets, each with a message and a note (MariaDB's sequence engine makes the rows).
    desk.exec(
        "INSERT INTO ost_ticket (ticket_id, number, user_id, status_id, dept_id, staff_id, ip_address, source,
            created, updated)
         SELECT 100 + seq, CONCAT('7', LPAD(seq, 5, '0')), 1, 1, 1, 2, '', 'Web',
            '2026-11-20 08:00:00' + INTERVAL seq MINUTE, '2026-11-20 09:00:00' + INTERVAL (seq DIV 7) SECOND
         FROM seq_1_to_300;
         INSERT INTO ost_thread (id, object_id, object_type, created)
         SELECT 100 + seq, 100 + seq, 'T', '2026-11-20 08:00:00' FROM seq_1_to_300;
         INSERT INTO ost_thread_entry (thread_id, type, poster, body, format, created, updated)
         SELECT 100 + seq, 'M', 'Olivia Kunde', CONCAT('<p>Request ', seq, '</p>'), 'html',
            '2026-11-20 08:00:00' + INTERVAL seq MINUTE, '0000-00-00 00:00:00' FROM seq_1_to_300;
         INSERT INTO ost_thread_entry (thread_id, type, poster, body, format, created, updated)
         SELECT 100 + seq, 'N', 'Sam Agent', CONCAT('Note ', seq), 'text',
            '2026-11-20 08:30:00' + INTERVAL seq MINUTE, '0000-00-00 00:00:00' FROM seq_1_to_300;
         INSERT INTO ost_form_entry (id, form_id, object_id, object_type, created, updated)
         SELECT 100 + seq, 2, 100 + seq, 'T', '2026-11-20 08:00:00', '2026-11-20 08:00:00' FROM seq_1_to_300;
         INSERT INTO ost_form_entry_values (entry_id, field_id, value)
         SELECT 100 + seq, 20, CONCAT('Generated ticket ', seq) FROM seq_1_to_300;
         INSERT INTO ost_form_entry_values (entry_id, field_id, value)
         SELECT 100 + seq, 37, '4' FROM seq_1_to_300;",
    )
    .await;
    let tt = Tt::new(false).await;
    tt.ok(None, &["desk", "add", "osticket", "--url", &desk.reader_url()]).await;
    let mut mid_sync = 0;
    for delay_ms in [150u64, 300, 450, 700, 1000] {
        let mut sync = tt.command(None, &["desk", "sync"]).spawn().expect("desk sync");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let finished = sync.try_wait().expect("waits").is_some();
        sync.kill().await.ok();
        if !finished {
            mid_sync += 1;
        }
    }
    eprintln!("{mid_sync} of 5 kills landed while the sync ran");
    tt.json(None, &["desk", "sync"]).await;
    let tickets = tt.json(None, &["ticket", "list"]).await;
    let tickets = tickets.as_array().expect("a list");
    assert_eq!(tickets.len(), 302, "every ticket once");
    let mut numbers: Vec<&str> = tickets.iter().filter_map(|t| t["source_number"].as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 302, "no ticket twice");
    let (entries, distinct) = tt.thread_entries_and_distinct_desk_ids().await;
    assert_eq!((entries, distinct), (607, 607), "7 + 600 entries, each once");
    let g = tt.ticket("700042").await;
    assert_eq!(g["subject"], "Generated ticket 42");
    assert_eq!(g["budget_hours"], 4.0);
    let again = tt.json(None, &["desk", "sync"]).await;
    assert_eq!(report(&again)["tickets_new"], 0);
    assert_eq!(report(&again)["entries_new"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn time_logged_on_an_osticket_ticket_becomes_one_internal_note_through_a_crash_and_a_race() {
    let Some(desk) = OsTicketDb::create("the osTicket time note (tests/core/osticket.rs)").await else {
        return;
    };
    let tt = Tt::new(true).await;
    let ada = Some(Simulator::ADMIN_TOKEN);
    let mia = Some(Simulator::MEMBER_TOKEN);
    let added = tt.json(ada, &["desk", "add", "osticket", "--url", &desk.writer_url()]).await;
    assert_eq!(added["writes_notes"], true, "the writer login may insert thread entries");

    // Mia, an agent, may not add or sync desks on the same file.
    let error = tt.fails(mia, &["desk", "sync"]).await;
    assert!(error.contains("sync help desks"), "{error}");
    let error = tt.fails(mia, &["desk", "add", "osticket", "--url", &desk.reader_url()]).await;
    assert!(error.contains("add help desks"), "{error}");

    tt.json(ada, &["desk", "sync"]).await;
    tt.ok(ada, &["projects"]).await;
    let ticket = tt.ticket("489123").await;
    let n = ticket["number"].to_string();

    // A reply on an osTicket ticket is osTicket's to send.
    let error = tt.fails(ada, &["reply", &n, "--body", "Fixed!", "--hours", "0.25"]).await;
    assert!(error.contains("written in osTicket"), "{error}");

    tt.ok(ada, &["log", &n, "--hours", "0.5", "--notes", "Checked the relay"]).await;
    let outbox = tt.json(None, &["desk", "outbox"]).await;
    assert_eq!(outbox.as_array().map(Vec::len), Some(1), "{outbox}");
    let marker = outbox[0]["id"].as_str().expect("an id").to_owned();
    assert!(
        outbox[0]["body"].as_str().unwrap_or("").starts_with("0.50 h logged in Harvest by Ada"),
        "{outbox}"
    );

    // Kill between osTicket's insert and Tickettime's commit: hold the
    // note's lock in MariaDB until the claim is committed, then hold
    // SQLite's write lock while the note goes in, and kill the sync.
    let mut lock_conn = desk.connect().await;
    let lock = format!("tickettime-note-{marker}");
    let got: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 5)")
        .bind(&lock)
        .fetch_one(&mut lock_conn)
        .await
        .expect("lock");
    assert_eq!(got, 1);
    let (mut sync, mut sqlite) = tt.sync_claimed_with_the_file_locked(ada).await;
    sqlx::query("SELECT RELEASE_LOCK(?)").bind(&lock).execute(&mut lock_conn).await.expect("released");
    let marked = format!("SELECT COUNT(*) FROM ost_thread_entry WHERE extra LIKE '%{marker}%'");
    wait_for("the note in osTicket", || async { desk.count(&marked).await == 1 }).await;
    sync.kill().await.expect("killed (SIGKILL)");
    sqlx::raw_sql("ROLLBACK").execute(&mut sqlite).await.expect("rolled back");
    sqlite.close().await.expect("closed");
    assert_eq!(
        tt.json(None, &["desk", "outbox"]).await[0]["state"],
        "sending",
        "the sent mark never committed"
    );

    // Two syncs at once after the crash: the note is found, never written again.
    let sync = ["desk", "sync", "--json"];
    let (a, b) = tokio::join!(tt.run(ada, &sync), tt.run(ada, &sync));
    for out in [&a, &b] {
        assert!(out.status.success(), "desk sync: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(desk.count(&marked).await, 1, "exactly one note in osTicket");
    let outbox = tt.json(None, &["desk", "outbox"]).await;
    assert_eq!(outbox[0]["state"], "sent", "{outbox}");
    let remote = outbox[0]["remote_id"].as_str().expect("the note's id").to_owned();
    let note_type = desk
        .count(&format!("SELECT COUNT(*) FROM ost_thread_entry WHERE id = {remote} AND type = 'N'"))
        .await;
    assert_eq!(note_type, 1, "an internal note");
    let before = tt.timeline(&ticket["number"]).await;
    assert!(
        before.iter().all(|i| !i["body"].as_str().unwrap_or("").contains("logged in Harvest")),
        "a time-only note is not repeated beside the time entry"
    );

    // A note with time: one local note that becomes the desk's entry, never two.
    tt.ok(ada, &["note", &n, "--body", "Relay allow-listed for noreply@", "--hours", "0.25"]).await;
    tt.json(ada, &["desk", "sync"]).await;
    tt.json(ada, &["desk", "sync"]).await; // and reads it back
    let timeline = tt.timeline(&ticket["number"]).await;
    let notes = timeline.iter().filter(|i| i["body"] == "Relay allow-listed for noreply@").count();
    assert_eq!(notes, 1, "{timeline:?}");
    let in_desk = desk
        .count("SELECT COUNT(*) FROM ost_thread_entry WHERE body LIKE '%Relay allow-listed for noreply@%'")
        .await;
    assert_eq!(in_desk, 1);

    assert_eq!(tt.json(None, &["desk", "outbox"]).await.as_array().map(Vec::len), Some(2));
    let entries = desk.count("SELECT COUNT(*) FROM ost_thread_entry").await;
    assert_eq!(entries, 10, "8 seeded, the time note and the note with its time");

    // A note the desk cannot take (its ticket's thread is gone in osTicket)
    // waits with its reason, and the import goes on.
    let closed_number = tt.ticket("517004").await["number"].clone();
    let closed = closed_number.to_string();
    tt.ok(ada, &["note", &closed, "--body", "Follow-up on the relay"]).await;
    desk.exec(
        "DELETE FROM ost_thread WHERE id = 9;
         INSERT INTO ost_thread_entry (thread_id, type, poster, body, format, created, updated)
         VALUES (7, 'M', 'Olivia Kunde', 'One more thing', 'text', NOW() - INTERVAL 1 MINUTE, '0000-00-00 00:00:00');",
    )
    .await;
    // The notes just written are younger than the two seconds a desk row settles in.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let synced = tt.json(ada, &["desk", "sync"]).await;
    assert_eq!(report(&synced)["entries_new"], 1, "the import went on: {synced}");
    let outbox = tt.json(None, &["desk", "outbox"]).await;
    let refused = outbox
        .as_array()
        .and_then(|o| o.iter().find(|i| i["ticket_number"] == closed_number))
        .expect("the note");
    assert_eq!(refused["state"], "failed", "{outbox}");
    assert!(refused["last_error"].as_str().unwrap_or("").contains("has no thread"), "{outbox}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_team_database_a_pms_login_syncs_the_desk_and_an_agents_may_not() {
    if !support::postgres_or_skip("the osTicket connector on PostgreSQL (tests/core/osticket.rs)") {
        return;
    }
    let Some(desk) =
        OsTicketDb::create("the osTicket connector on PostgreSQL (tests/core/osticket.rs)").await
    else {
        return;
    };
    let tt = Tt::on(TempDb::new(), false).await;
    let (pia_url, ana_url) = tt.pm_and_agent_logins("login-pw-3").await;

    let add = ["desk", "add", "osticket", "--url", &desk.reader_url()];
    let out = tt.run_at(&ana_url, &add, None).await;
    assert!(!out.status.success(), "an agent may not add a desk");
    assert!(String::from_utf8_lossy(&out.stderr).contains("an agent may not add help desks"));
    support::stdout_of(&add, tt.run_at(&pia_url, &add, None).await);

    let sync = ["desk", "sync", "--json"];
    let first: Value =
        serde_json::from_str(&support::stdout_of(&sync, tt.run_at(&pia_url, &sync, None).await))
            .expect("JSON");
    assert_eq!(report(&first)["tickets_new"], 2, "Pia's own login writes the tickets: {first}");
    assert_eq!(report(&first)["entries_new"], 7);
    let again: Value =
        serde_json::from_str(&support::stdout_of(&sync, tt.run_at(&pia_url, &sync, None).await))
            .expect("JSON");
    assert_eq!(report(&again)["entries_new"], 0);
    let out = tt.run_at(&ana_url, &sync, None).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("an agent may not sync help desks"));
    // Ana sees what Pia brought in.
    let list = ["ticket", "list", "--json"];
    let tickets: Value =
        serde_json::from_str(&support::stdout_of(&list, tt.run_at(&ana_url, &list, None).await))
            .expect("JSON");
    assert!(tickets.as_array().expect("a list").iter().any(|t| t["source_number"] == "489123"), "{tickets}");

    // Pia removes the desk: its tickets stay, no longer synced.
    let remove = ["desk", "remove", "1"];
    let out = tt.run_at(&ana_url, &remove, None).await;
    assert!(!out.status.success(), "an agent may not remove a desk");
    support::stdout_of(&remove, tt.run_at(&pia_url, &remove, None).await);
    let desks: Value = serde_json::from_str(&support::stdout_of(
        &["desk", "list"],
        tt.run_at(&pia_url, &["desk", "list", "--json"], None).await,
    ))
    .expect("JSON");
    assert_eq!(desks, serde_json::json!([]));
    let tickets: Value =
        serde_json::from_str(&support::stdout_of(&list, tt.run_at(&ana_url, &list, None).await))
            .expect("JSON");
    assert_eq!(tickets.as_array().map(Vec::len), Some(2), "the tickets stay: {tickets}");
    assert_eq!(tickets[0]["source"], "osticket");
}

pub(crate) async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
