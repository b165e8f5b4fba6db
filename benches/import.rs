//! Import benchmark (a measurement, not a test). Run: `cargo bench --bench import`.
//!
//! 0. A 100,000-entry Harvest export imported from its file by the real
//!    `tickettime import-entries` (this build's binary) into a SQLite file
//!    with 20 linked tickets, new and then unchanged, beside the naive
//!    Python script in benches/baseline.py doing the same work on the same
//!    file (json.load, one executemany upsert, WAL, synchronous=FULL): wall
//!    time and peak resident size of each process, the median of five
//!    rounds, each on a fresh copy of the database. With
//!    `TICKETTIME_BENCH_PG` (an admin URL) the same into PostgreSQL.
//! 1. 100,000 entries imported from the Harvest simulator on loopback into a
//!    fresh SQLite file: entries/s, API calls, peak memory above the
//!    baseline; and the same stream downloaded and parsed without storing,
//!    so the store's share shows as a ratio.
//! 2. A sync that finds nothing new, with 1,000 vs 1,000,000 entries in the
//!    database: the ratio of the two times (it should stay near 1).
//! 3. One person's week among 500,000 entries (the timesheet's read), with
//!    the `(user_id, spent_date)` index and without it.
//!
//! The simulator runs in this process, so memory is reported as the
//! import's own peak: the kernel's high-water mark is reset just before it
//! (`/proc/self/clear_refs`), then read after it, and set against the size
//! before.

use std::time::{Duration, Instant};

use chrono::{Local, Utc};
use harvest::{Config, Credentials, HarvestClient, TimeEntryQuery};
use harvest_sim::seed::{ACME_VPN_PROJECT_ID, ADMIN_ID, SUPPORT_TASK_ID};
use harvest_sim::{NewEntry, Simulator};
use secrecy::SecretString;
use tickettime::domain::Hours;
use tickettime::store::NewTicket;
use tickettime::sync::{self, SyncOptions};
use tickettime::Store;

const ENTRIES: u64 = 100_000;

/// Resets the process's peak resident size (VmHWM) to its current size.
fn reset_peak() {
    if let Err(error) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("cannot reset the peak memory mark ({error}): the figure includes the setup's peak");
    }
}

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn client(sim: &Simulator) -> HarvestClient {
    let config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    let token = Credentials::Personal(SecretString::from(Simulator::ADMIN_TOKEN.to_owned()));
    HarvestClient::new(config, Simulator::ACCOUNT_ID, token, None).expect("client")
}

async fn linked_store(dir: &tempfile::TempDir, name: &str) -> Store {
    let store = Store::open(&dir.path().join(name).display().to_string()).await.expect("store");
    let new = NewTicket {
        subject: "Benchmark".into(),
        budget: Some(Hours::whole(1_000_000)),
        project: Some(ACME_VPN_PROJECT_ID),
        ..NewTicket::default()
    };
    store.create_ticket(&tickettime::Actor::local_owner(None), new, Utc::now()).await.expect("ticket");
    store
}

/// `python3 benches/baseline.py run -- CMD…`: (seconds, peak MiB) of CMD.
fn measured(cmd: &[&str], db: &str, cache: &std::path::Path) -> (f64, f64) {
    // Each run starts with nothing of the last one's still being written back.
    let _ = std::process::Command::new("sync").status();
    let baseline = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/baseline.py");
    let out = std::process::Command::new("python3")
        .args([baseline, "run", "--"])
        .args(cmd)
        .env("TICKETTIME_DB", db)
        .env("TICKETTIME_CACHE_DIR", cache)
        .env("TICKETTIME_KEYCHAIN_SERVICE", "tickettime-bench")
        .env_remove("HARVEST_ACCESS_TOKEN")
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace();
    let seconds: f64 = fields.next().and_then(|s| s.parse().ok()).expect("seconds");
    let kib: f64 = fields.next().and_then(|s| s.parse().ok()).expect("peak KiB");
    (seconds, kib / 1024.0)
}

/// Writes a Harvest export of `count` entries over `projects` projects, with
/// the fields Harvest's own entries carry (about the size of a real export).
fn write_export(path: &std::path::Path, count: u64, projects: i64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("the export"));
    out.write_all(b"{\"time_entries\":[").expect("written");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
    for i in 0..count {
        if i > 0 {
            out.write_all(b",").expect("written");
        }
        let project = 50_000_000 + (i as i64 % projects);
        let stamp = "2026-11-30T10:00:00Z";
        let entry = serde_json::json!({
            "id": 3_000_000_000u64 + i, "spent_date": (day - chrono::Days::new(i % 1_500)).to_string(),
            "hours": 0.25, "hours_without_timer": 0.25, "rounded_hours": 0.25,
            "notes": format!("Benchmark entry {i}: checked the VPN logs and answered the client"),
            "is_locked": false, "locked_reason": null, "is_closed": false, "is_billed": false,
            "timer_started_at": null, "started_time": null, "ended_time": null, "is_running": false,
            "billable": true, "budgeted": true, "billable_rate": 120.0, "cost_rate": 55.0,
            "created_at": stamp, "updated_at": stamp,
            "user": {"id": 4_955_602, "name": "Ada Admin"},
            "client": {"id": 9_101_001, "name": "Acme Corp", "currency": "EUR"},
            "project": {"id": project, "name": format!("Project {project}"), "code": "ACME"},
            "task": {"id": 22_630_201, "name": "Support"},
            "user_assignment": {"id": 130_000_000 + i % 7, "is_project_manager": false, "is_active": true,
                "use_default_rates": true, "budget": null, "created_at": stamp, "updated_at": stamp,
                "hourly_rate": 120.0},
            "task_assignment": {"id": 160_000_000 + i % 11, "billable": true, "is_active": true,
                "created_at": stamp, "updated_at": stamp, "hourly_rate": 120.0, "budget": null},
            "invoice": null, "external_reference": null,
        });
        serde_json::to_writer(&mut out, &entry).expect("written");
    }
    out.write_all(b"]}").expect("written");
}

/// Creates `url`'s database with `PROJECTS` linked tickets (big budgets).
async fn ticket_store(url: &str) {
    let store = Store::open(url).await.expect("store");
    // On PostgreSQL the benchmark's login becomes the team's first admin.
    let owner = tickettime::domain::Email::parse("ada@bench.test").expect("email");
    store.init_team(Some(&owner), Some("Ada Admin"), Utc::now()).await.expect("set up");
    for p in 0..PROJECTS {
        let new = NewTicket {
            subject: format!("Linked ticket {p}"),
            budget: Some(Hours::whole(1_000_000)),
            project: Some(50_000_000 + p),
            ..NewTicket::default()
        };
        store.create_ticket(&tickettime::Actor::local_owner(None), new, Utc::now()).await.expect("ticket");
    }
    store.close().await;
}

const PROJECTS: i64 = 20;
/// Rounds of the file import; each figure is the median.
const ROUNDS: usize = 5;

fn median(mut values: Vec<(f64, f64)>) -> (f64, f64) {
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    values[values.len() / 2]
}

/// A fresh copy of the SQLite template at `to` (no log beside it).
fn fresh(template: &std::path::Path, to: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(template, to).expect("a copy of the template");
}

async fn file_import(dir: &tempfile::TempDir) {
    let bin = env!("CARGO_BIN_EXE_tickettime");
    let baseline = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/baseline.py");
    let template = dir.path().join("template.db");
    ticket_store(&template.display().to_string()).await;
    let export = dir.path().join("export.json");
    write_export(&export, ENTRIES, PROJECTS);
    let size = std::fs::metadata(&export).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let file = export.display().to_string();
    let ours_db = dir.path().join("file.db");
    let python_db = dir.path().join("python.db");
    let db = ours_db.display().to_string();
    let (mut ours_new, mut ours_same, mut python_new, mut python_same) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        fresh(&template, &ours_db);
        ours_new.push(measured(&[bin, "import-entries", &file, "--json"], &db, dir.path()));
        ours_same.push(measured(&[bin, "import-entries", &file, "--json"], &db, dir.path()));
        let _ = std::fs::remove_file(&python_db);
        let python =
            ["python3", baseline, "import", &file, &python_db.display().to_string()].map(String::from);
        let python: Vec<&str> = python.iter().map(String::as_str).collect();
        python_new.push(measured(&python, &db, dir.path()));
        python_same.push(measured(&python, &db, dir.path()));
    }
    let stored: i64 = {
        let store = Store::open(&db).await.expect("store");
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries WHERE ticket_number IS NOT NULL")
            .fetch_one(store.pool())
            .await
            .expect("count")
    };
    assert_eq!(stored as u64, ENTRIES, "every entry stored and attributed");
    println!(
        "## File import of {ENTRIES} entries ({size:.0} MB export, {PROJECTS} linked tickets), median of {ROUNDS}"
    );
    println!("| run | tickettime import-entries | naive Python script (SQLite) | ratio |");
    println!("|---|---|---|---|");
    let python = [median(python_new), median(python_same)];
    let mut rows = vec![
        ("new entries, SQLite file", median(ours_new), python[0]),
        ("unchanged entries, SQLite file", median(ours_same), python[1]),
    ];
    if let Ok(admin) = std::env::var("TICKETTIME_BENCH_PG") {
        let (pg_new, pg_same) = file_import_postgres(&admin, bin, &file, dir).await;
        rows.push(("new entries, PostgreSQL", pg_new, python[0]));
        rows.push(("unchanged entries, PostgreSQL", pg_same, python[1]));
    }
    for (what, ours, python) in rows {
        println!(
            "| {what} | {:.2} s, {:.0} MiB peak | {:.2} s, {:.0} MiB peak | ×{:.2} time, ×{:.2} memory |",
            ours.0,
            ours.1,
            python.0,
            python.1,
            ours.0 / python.0,
            ours.1 / python.1
        );
    }
}

/// The same file into a fresh PostgreSQL database per round (client side
/// only: the server's own memory is not in the figure).
async fn file_import_postgres(
    admin: &str,
    bin: &str,
    file: &str,
    dir: &tempfile::TempDir,
) -> ((f64, f64), (f64, f64)) {
    let psql = |sql: &str| {
        let ok = std::process::Command::new("psql")
            .args([admin, "-q", "-c", sql])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "psql `{sql}` failed");
    };
    let (mut new, mut same) = (vec![], vec![]);
    for round in 0..ROUNDS {
        let name = format!("tickettime_import_bench_{}_{round}", std::process::id());
        psql(&format!("CREATE DATABASE {name}"));
        let mut url = url::Url::parse(admin).expect("URL");
        url.set_path(&name);
        let url = url.to_string();
        ticket_store(&url).await;
        new.push(measured(&[bin, "import-entries", file, "--json"], &url, dir.path()));
        same.push(measured(&[bin, "import-entries", file, "--json"], &url, dir.path()));
        psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
    }
    (median(new), median(same))
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    file_import(&dir).await;
    if std::env::args().any(|a| a == "--file-only") {
        return;
    }
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let today = Local::now().date_naive();
    for i in 0..ENTRIES {
        sim.add_entry(NewEntry {
            user_id: ADMIN_ID,
            project_id: ACME_VPN_PROJECT_ID,
            task_id: SUPPORT_TASK_ID,
            spent_date: today - chrono::Days::new(i % 700),
            hours: Some(0.25),
            notes: Some(format!("Benchmark entry {i}")),
            external_reference: None,
        });
    }
    let total = sim.entries().len();

    // Download and parse only.
    let parse_client = client(&sim);
    let started = Instant::now();
    let mut pager = parse_client.time_entries(&TimeEntryQuery::default()).expect("pager");
    let mut parsed = 0;
    while let Some(page) = pager.next_page().await.expect("page") {
        parsed += page.items.len();
    }
    let parse_time = started.elapsed();

    // Full import.
    let store = linked_store(&dir, "import.db").await;
    let import_client = client(&sim);
    // IMPORTANT: the parse above set a high-water mark of its own; without
    // the reset, VmHWM would report the setup's peak, not the import's.
    reset_peak();
    let rss_before = memory_kib("VmRSS:");
    let started = Instant::now();
    let report = sync::run(&session(&store, &import_client).await, &SyncOptions::default(), &|_| {})
        .await
        .expect("import");
    let import_time = started.elapsed();
    let peak = memory_kib("VmHWM:");
    println!("## Import of {total} entries (simulator on loopback, SQLite file)");
    println!(
        "download + parse only: {parsed} entries in {:.2} s = {:.0} entries/s",
        parse_time.as_secs_f64(),
        parsed as f64 / parse_time.as_secs_f64()
    );
    let store_time = import_time.as_secs_f64() - parse_time.as_secs_f64();
    println!(
        "full import:           {} new in {:.2} s = {:.0} entries/s, {} API calls ({} pages)",
        report.new,
        import_time.as_secs_f64(),
        report.new as f64 / import_time.as_secs_f64(),
        report.api_calls,
        report.pages,
    );
    println!(
        "store time:            {store_time:.2} s (full import − download + parse) = ×{:.2} of download + parse",
        store_time / parse_time.as_secs_f64()
    );
    println!(
        "import's peak memory:  {} MiB (RSS before the import {} MiB, growth {} MiB)",
        peak / 1024,
        rss_before / 1024,
        peak.saturating_sub(rss_before) / 1024
    );

    // A sync that finds nothing new, 1k vs 1M stored entries.
    println!("## A sync that finds nothing new");
    // Its own simulator with only the seed, so both databases differ only in their stored rows.
    let small = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let mut medians = Vec::new();
    for rows in [1_000i64, 1_000_000] {
        let store = linked_store(&dir, &format!("nothing-{rows}.db")).await;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
             INSERT INTO time_entries (harvest_id, ticket_number, project_id, project_name, task_id, task_name,
                user_id, user_name, spent_date, hundredths, harvest_created_at, harvest_updated_at)
             SELECT 9000000000 + i, 1, $2, 'Acme VPN support', $3, 'Support', $4, 'Ada', '2025-01-01', 25,
                '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z' FROM n",
        )
        .bind(rows)
        .bind(ACME_VPN_PROJECT_ID)
        .bind(SUPPORT_TASK_ID)
        .bind(ADMIN_ID)
        .execute(store.pool())
        .await
        .expect("rows");
        let client = client(&small);
        // As after a first import: a watermark, and every stored entry live.
        // (A first full sync here would soft-delete the million rows the
        // simulator does not have, and time a table of deleted entries.)
        sqlx::query("UPDATE sync_state SET watermark = $1, last_reconcile_at = $1 WHERE id = 1")
            .bind(Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            .execute(store.pool())
            .await
            .expect("watermark");
        // The default overlap (10 minutes back from the watermark), as every real sync uses.
        let options = SyncOptions { reconcile_every: i64::MAX, ..SyncOptions::default() };
        let mut times = Vec::new();
        let mut calls = 0;
        for _ in 0..15 {
            let started = Instant::now();
            let report =
                sync::run(&session(&store, &client).await, &options, &|_| {}).await.expect("nothing new");
            times.push(started.elapsed());
            calls = report.api_calls;
        }
        times.sort();
        let median = times[times.len() / 2];
        let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM time_entries WHERE deleted = FALSE")
            .fetch_one(store.pool())
            .await
            .expect("count");
        assert!(live >= rows, "the timed syncs ran against {live} live entries, not {rows}");
        println!(
            "{rows:>9} stored entries: median {:.2} ms over 15 runs, {calls} API call(s) each",
            median.as_secs_f64() * 1000.0
        );
        medians.push(median);
    }
    let ratio =
        medians[1].as_secs_f64() / medians[0].as_secs_f64().max(Duration::from_micros(1).as_secs_f64());
    println!("ratio 1,000,000 / 1,000: ×{ratio:.2}");

    person_week(&dir).await;
}

/// The timesheet's read: one person's week among 500,000 entries of 50
/// people over two years (about 14 a day each), with the `(user_id,
/// spent_date)` index and without it.
async fn person_week(dir: &tempfile::TempDir) {
    println!("## One person's week among 500,000 entries of 50 people (the timesheet's read)");
    let store = linked_store(dir, "weeks.db").await;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000)
         INSERT INTO time_entries (harvest_id, ticket_number, project_id, project_name, task_id, task_name,
            user_id, user_name, spent_date, hundredths, harvest_created_at, harvest_updated_at)
         SELECT 9000000000 + i, 1, $1, 'Acme VPN support', $2, 'Support', 1 + i % 50, 'Someone',
            date('2025-01-01', '+' || ((i / 50) % 700) || ' days'), 25,
            '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z' FROM n",
    )
    .bind(ACME_VPN_PROJECT_ID)
    .bind(SUPPORT_TASK_ID)
    .execute(store.pool())
    .await
    .expect("rows");
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("a Monday");
    let sunday = monday + chrono::Days::new(6);
    for index in [true, false] {
        if !index {
            sqlx::query("DROP INDEX time_entries_by_person_date")
                .execute(store.pool())
                .await
                .expect("dropped");
        }
        let mut times = Vec::new();
        let mut found = 0;
        for user in 1..=25 {
            let started = Instant::now();
            found = store.entries_of(user, monday, sunday).await.expect("a week").len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{}: median {:.2} ms over 25 people ({found} entries in the last one's week)",
            if index { "with the index" } else { "without it" },
            times[times.len() / 2].as_secs_f64() * 1000.0
        );
    }
}

/// The session of the token's person (an administrator's here), as every process resolves it.
async fn session(store: &Store, client: &HarvestClient) -> tickettime::Session {
    tickettime::Session::of_client(store.clone(), client, Utc::now()).await.expect("the token's person")
}
