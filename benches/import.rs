//! Import benchmark (a measurement, not a test). Run: `cargo bench --bench import`.
//!
//! 1. 100,000 entries imported from the Harvest simulator on loopback into a
//!    fresh SQLite file: entries/s, API calls, peak memory above the
//!    baseline; and the same stream downloaded and parsed without storing,
//!    so the store's share shows as a ratio.
//! 2. A sync that finds nothing new, with 1,000 vs 1,000,000 entries in the
//!    database: the ratio of the two times (it should stay near 1).
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

#[tokio::main]
async fn main() {
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
    let dir = tempfile::tempdir().expect("dir");

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
    println!(
        "full import:           {} new in {:.2} s = {:.0} entries/s, {} API calls ({} pages), store overhead ×{:.2}",
        report.new,
        import_time.as_secs_f64(),
        report.new as f64 / import_time.as_secs_f64(),
        report.api_calls,
        report.pages,
        import_time.as_secs_f64() / parse_time.as_secs_f64()
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
}

/// The session of the token's person (an administrator's here), as every process resolves it.
async fn session(store: &Store, client: &HarvestClient) -> tickettime::Session {
    tickettime::Session::of_client(store.clone(), client, Utc::now()).await.expect("the token's person")
}
