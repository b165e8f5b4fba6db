//! The import against the Harvest simulator and a real SQLite file:
//! idempotent, interrupted and resumed, overlapping, never backwards,
//! deletions reconciled, relinks, one import at a time, crash-safe, and
//! threshold events recorded once.

use crate::support;

use std::time::Duration;

use chrono::{Local, Utc};
use harvest::{Config, Credentials, HarvestClient, RetryPolicy};
use harvest_sim::seed::{ACME_VPN_PROJECT_ID, ADMIN_ID, GLOBEX_BILLING_PROJECT_ID, SUPPORT_TASK_ID};
use harvest_sim::{EntryEdit, Fault, FaultKind, NewEntry, Simulator};
use secrecy::SecretString;
use support::TempDb;
use tickettime::domain::{EventKind, Hours, TicketNumber};
use tickettime::store::{NewTicket, TicketChanges};
use tickettime::sync::{self, SyncOptions, SyncReport};
use tickettime::{Error, Store};

async fn simulator() -> Simulator {
    Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("the simulator starts")
}

fn client(sim: &Simulator) -> HarvestClient {
    let config = Config {
        api_url: sim.url(),
        id_url: sim.url(),
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            fallback_retry_after: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        ..Config::default()
    };
    let token = Credentials::Personal(SecretString::from(Simulator::ADMIN_TOKEN.to_owned()));
    HarvestClient::new(config, Simulator::ACCOUNT_ID, token, None).expect("a client")
}

/// A database with two tickets: #1 on Acme VPN (10 h), #2 on Globex billing (4 h).
async fn desk() -> (TempDb, Store) {
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("opens");
    // On a team database the tests' login is its owner: Ada, the admin
    // whose token imports (the CLI runs below resolve her from it).
    let ada = tickettime::domain::Email::parse("ada@demo.test").expect("email");
    store.init_team(Some(&ada), Some("Ada Admin"), Utc::now()).await.expect("set up");
    for (subject, project, budget) in
        [("VPN", ACME_VPN_PROJECT_ID, 10), ("Invoices", GLOBEX_BILLING_PROJECT_ID, 4)]
    {
        let new = NewTicket {
            subject: subject.into(),
            budget: Some(Hours::whole(budget)),
            project: Some(project),
            ..NewTicket::default()
        };
        store.create_ticket(&support::owner(), new, Utc::now()).await.expect("ticket");
    }
    (db, store)
}

async fn sync(store: &Store, client: &HarvestClient) -> tickettime::Result<SyncReport> {
    sync::run(&support::session_with(store, client).await, &SyncOptions::default(), &|_| {}).await
}

async fn full(store: &Store, client: &HarvestClient) -> tickettime::Result<SyncReport> {
    sync::run(
        &support::session_with(store, client).await,
        &SyncOptions { full: true, ..SyncOptions::default() },
        &|_| {},
    )
    .await
}

/// `(harvest_id, ticket, hundredths, notes, deleted, spent_date, updated_at)`.
type EntryRow = (i64, Option<i64>, i64, Option<String>, i64, String, String);

/// Every stored entry and every ticket's totals, sorted: two equal dumps are
/// two equal databases as far as a user can tell.
async fn dump(store: &Store) -> Vec<String> {
    let entries: Vec<EntryRow> = sqlx::query_as(
        "SELECT harvest_id, ticket_number, hundredths, notes, CASE WHEN deleted THEN 1 ELSE 0 END, spent_date,
                harvest_updated_at
         FROM time_entries ORDER BY harvest_id",
    )
    .fetch_all(store.pool())
    .await
    .expect("entries");
    let tickets: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT number, used_hundredths, CASE WHEN locked THEN 1 ELSE 0 END, alert_level FROM tickets ORDER BY number",
    )
            .fetch_all(store.pool())
            .await
            .expect("tickets");
    entries.iter().map(|e| format!("{e:?}")).chain(tickets.iter().map(|t| format!("{t:?}"))).collect()
}

fn add(sim: &Simulator, project: i64, hours: f64, day_offset: u64) -> i64 {
    let entry = sim.add_entry(NewEntry {
        user_id: ADMIN_ID,
        project_id: project,
        task_id: SUPPORT_TASK_ID,
        spent_date: Local::now().date_naive() - chrono::Days::new(day_offset),
        hours: Some(hours),
        notes: Some(format!("{hours} h on {project}")),
        external_reference: None,
    });
    entry["id"].as_i64().expect("an id")
}

fn add_many(sim: &Simulator, count: u64) {
    for i in 0..count {
        add(sim, ACME_VPN_PROJECT_ID, 0.01, i % 400);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_syncs_give_identical_rows_and_a_sync_that_finds_nothing_costs_one_request() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let first = sync(&store, &client).await.expect("first sync");
    assert!(first.new > 0, "the seeded entries of linked projects arrive");
    let before = dump(&store).await;
    let second = sync(&store, &client).await.expect("second sync");
    assert_eq!(dump(&store).await, before, "a second sync changes nothing");
    assert_eq!((second.new, second.updated, second.deleted), (0, 0, 0));
    assert_eq!(second.api_calls, 1, "nothing new costs one request");
    let state = store.sync_state().await.expect("state");
    assert_eq!(state.api_calls, 1);
    assert!(state.watermark.is_some() && state.last_error.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_that_fails_on_page_3_keeps_the_watermark_and_the_next_sync_converges() {
    let sim = simulator().await;
    add_many(&sim, 4_500);
    let client = client(&sim);
    let (_base_db, baseline) = desk().await;
    sync(&baseline, &client).await.expect("uninterrupted");

    let (_db, store) = desk().await;
    sim.inject(Fault::once(None, "/v2/time_entries?page=3", FaultKind::Status(500)).times(5));
    let failed = sync(&store, &client).await;
    assert!(failed.is_err(), "page 3 fails after its retries");
    let state = store.sync_state().await.expect("state");
    assert_eq!(state.watermark, None, "the watermark did not move");
    assert!(state.last_error.is_some_and(|e| e.contains("500")), "the error is recorded for status");
    sync(&store, &client).await.expect("the next sync");
    assert_eq!(dump(&store).await, dump(&baseline).await, "the same as an uninterrupted run");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_updated_in_the_same_second_as_the_watermark_is_not_missed() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    sync(&store, &client).await.expect("first");
    let watermark = store.sync_state().await.expect("state").watermark.expect("a watermark");
    sim.set_now_offset(watermark - Utc::now());
    let id = add(&sim, ACME_VPN_PROJECT_ID, 1.0, 0);
    let entry = sim.entry(id).expect("entry");
    assert_eq!(
        entry["updated_at"],
        watermark.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "same second as the mark"
    );
    for overlap in [chrono::Duration::zero(), chrono::Duration::minutes(10)] {
        let options = SyncOptions { overlap, ..SyncOptions::default() };
        sync::run(&support::session_with(&store, &client).await, &options, &|_| {}).await.expect("sync");
        let known = store.known_ids(&[id]).await.expect("known");
        assert!(known.contains(&id), "found with overlap {overlap}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_version_served_after_a_newer_one_keeps_the_newer() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let id = add(&sim, ACME_VPN_PROJECT_ID, 1.0, 0);
    let mut newer: harvest::TimeEntry =
        serde_json::from_value(sim.entry(id).expect("entry")).expect("parses");
    newer.hours = 3.0;
    newer.updated_at += chrono::Duration::hours(1);
    store.import_entries(&[newer], Utc::now()).await.expect("newer first");
    sync(&store, &client).await.expect("sync serves the older version");
    let hours: i64 = sqlx::query_scalar("SELECT hundredths FROM time_entries WHERE harvest_id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .expect("row");
    assert_eq!(hours, 300, "the newer version is kept");
}

async fn deleted_rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM time_entries WHERE deleted = TRUE")
        .fetch_one(store.pool())
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_sync_keeps_a_deleted_entry_and_reconcile_removes_it() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let invoices = TicketNumber::new(2).expect("#2");
    let first = add(&sim, GLOBEX_BILLING_PROJECT_ID, 2.0, 0);
    let second = add(&sim, GLOBEX_BILLING_PROJECT_ID, 1.0, 0);
    sync(&store, &client).await.expect("first (reconciles, nothing to delete)");
    let used = store.ticket(invoices).await.expect("ticket").hours_used.as_f64();
    assert!(sim.delete_entry(first));
    let incremental = sync(&store, &client).await.expect("incremental");
    assert_eq!(incremental.deleted, 0, "updated_since never reports deletions");
    assert_eq!(store.ticket(invoices).await.expect("ticket").hours_used.as_f64(), used);

    // The scheduled pass re-lists each linked project; a failed page removes nothing.
    let scheduled = SyncOptions { reconcile_every: 1, ..SyncOptions::default() };
    let listing = format!("/v2/time_entries?project_id={GLOBEX_BILLING_PROJECT_ID}");
    sim.inject(Fault::once(None, &listing, FaultKind::Status(503)).times(5));
    assert!(
        sync::run(&support::session_with(&store, &client).await, &scheduled, &|_| {}).await.is_err(),
        "the project listing fails"
    );
    assert_eq!(deleted_rows(&store).await, 0, "a reconcile with a failed page removes nothing");
    let reconciled = sync::run(&support::session_with(&store, &client).await, &scheduled, &|_| {})
        .await
        .expect("scheduled reconcile");
    assert!(reconciled.reconciled);
    assert_eq!(reconciled.deleted, 1);
    let after = store.ticket(invoices).await.expect("ticket").hours_used.as_f64();
    assert!((used - after - 2.0).abs() < 1e-9, "hours used drop by the deleted 2 h");

    // A full sync lists the whole account: its stream is the reconcile.
    assert!(sim.delete_entry(second));
    sim.inject(Fault::once(None, "/v2/time_entries?per_page", FaultKind::Status(503)).times(5));
    assert!(full(&store, &client).await.is_err());
    assert_eq!(deleted_rows(&store).await, 1, "a failed full stream removes nothing more");
    sim.clear_requests();
    let full_run = full(&store, &client).await.expect("full");
    assert_eq!(full_run.deleted, 1);
    assert!(
        sim.requests().iter().all(|r| !r.path_and_query.contains("project_id=")),
        "no separate per-project listing after a complete full stream"
    );
}

/// The stream stores 500 entries a statement and reads 2,000 a page: an
/// edit and a delete on those edges land exactly.
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_and_a_delete_on_a_batch_edge_import_exactly() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let invoices = TicketNumber::new(2).expect("#2");
    for _ in 0..2_100 {
        add(&sim, GLOBEX_BILLING_PROJECT_ID, 0.01, 0);
    }
    sync(&store, &client).await.expect("first sync");
    let used = store.ticket(invoices).await.expect("ticket").hours_used;
    // The stream's order, as the import reads it.
    let mut order = Vec::new();
    let query = harvest::TimeEntryQuery { project_id: Some(GLOBEX_BILLING_PROJECT_ID), ..Default::default() };
    let mut pager = client.time_entries(&query).expect("a listing");
    while let Some(page) = pager.next_page().await.expect("a page") {
        order.extend(page.items.iter().map(|e| e.id));
    }
    // Last of the first statement and first of the second; last of page
    // one and first of page two.
    let (edited, also_edited, deleted, also_deleted) = (order[499], order[500], order[1_999], order[2_000]);
    for id in [edited, also_edited] {
        sim.edit_entry(id, EntryEdit { hours: Some(1.01), ..EntryEdit::default() }).expect("edited");
    }
    assert!(sim.delete_entry(deleted) && sim.delete_entry(also_deleted));
    let report = full(&store, &client).await.expect("a full sync");
    assert_eq!((report.new, report.updated, report.deleted), (0, 2, 2), "{report:?}");
    let after = store.ticket(invoices).await.expect("ticket").hours_used;
    assert_eq!(
        after.hundredths(),
        used.hundredths() + 2 * 100 - 2,
        "two entries went from 0.01 to 1.01 h, two of 0.01 h left"
    );
    let live: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries WHERE ticket_number = 2 AND deleted = FALSE")
            .fetch_one(store.pool())
            .await
            .expect("count");
    assert_eq!(live as usize, order.len() - 2);
}

/// "At least daily" is judged by the run's clock, not the machine's: two
/// days on, an incremental sync reconciles (and removes what Harvest lost).
#[tokio::test(flavor = "multi_thread")]
async fn a_day_after_the_last_reconcile_the_next_sync_reconciles() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let gone = add(&sim, GLOBEX_BILLING_PROJECT_ID, 2.0, 0);
    sync(&store, &client).await.expect("first (reconciles)");
    assert!(sim.delete_entry(gone));
    let soon = sync(&store, &client).await.expect("an hour later, say");
    assert!(!soon.reconciled, "the next run does not reconcile again");
    fn later() -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::days(2)
    }
    let two_days_on = SyncOptions { clock: later, ..SyncOptions::default() };
    let run = sync::run(&support::session_with(&store, &client).await, &two_days_on, &|_| {})
        .await
        .expect("two days on");
    assert!(run.reconciled, "more than a day since the last reconcile");
    assert_eq!(run.deleted, 1, "the entry Harvest lost leaves");
    assert_eq!(deleted_rows(&store).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn relinking_moves_the_old_projects_entries_out_and_backfills_the_new_ones() {
    let sim = simulator().await;
    let client = client(&sim);
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("opens");
    let new = NewTicket {
        subject: "Wrong project".into(),
        project: Some(ACME_VPN_PROJECT_ID),
        ..NewTicket::default()
    };
    let ticket = TicketNumber::new(
        store.create_ticket(&support::owner(), new, Utc::now()).await.expect("ticket").number,
    )
    .expect("n");
    add(&sim, GLOBEX_BILLING_PROJECT_ID, 1.25, 1);
    sync(&store, &client).await.expect("sync");
    let acme: f64 = sim
        .entries()
        .iter()
        .filter(|e| e["project"]["id"] == ACME_VPN_PROJECT_ID)
        .filter_map(|e| e["hours"].as_f64())
        .sum();
    let globex: f64 = sim
        .entries()
        .iter()
        .filter(|e| e["project"]["id"] == GLOBEX_BILLING_PROJECT_ID)
        .filter_map(|e| e["hours"].as_f64())
        .sum();
    assert!((store.ticket(ticket).await.expect("t").hours_used.as_f64() - acme).abs() < 1e-9);
    store
        .link_project(&support::owner(), ticket, GLOBEX_BILLING_PROJECT_ID, Utc::now())
        .await
        .expect("relinked");
    sync::backfill_project(&support::session_with(&store, &client).await, GLOBEX_BILLING_PROJECT_ID)
        .await
        .expect("backfill");
    let view = store.ticket(ticket).await.expect("t");
    assert!(
        (view.hours_used.as_f64() - globex).abs() < 1e-9,
        "the ticket now counts Globex's {globex} h, not Acme's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_syncs_at_once_on_one_file_store_one_set_of_rows() {
    let sim = simulator().await;
    add_many(&sim, 2_500);
    let client = client(&sim);
    let (db, store) = desk().await;
    let other = Store::open(&db.url()).await.expect("a second pool on the same file");
    let (a, b) = tokio::join!(sync(&store, &client), sync(&other, &client));
    for outcome in [&a, &b] {
        match outcome {
            Ok(_) | Err(Error::SyncBusy) => {}
            Err(e) => panic!("no database error reaches the user: {e}"),
        }
    }
    assert!(a.is_ok() || b.is_ok());
    let dupes: i64 = sqlx::query_scalar("SELECT COUNT(*) - COUNT(DISTINCT harvest_id) FROM time_entries")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(dupes, 0);
    let (_base, baseline) = desk().await;
    sync(&baseline, &client).await.expect("baseline");
    assert_eq!(dump(&store).await, dump(&baseline).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_server_errors_and_drops_mid_stream_do_not_stop_a_sync() {
    let sim = simulator().await;
    add_many(&sim, 4_100);
    let client = client(&sim);
    let (_base, baseline) = desk().await;
    sync(&baseline, &client).await.expect("baseline");
    let (_db, store) = desk().await;
    for (prefix, kind) in [
        ("/v2/time_entries?per_page", FaultKind::TooManyRequests { retry_after: None }),
        ("/v2/time_entries?page=2", FaultKind::TooManyRequests { retry_after: Some("1".into()) }),
        ("/v2/time_entries?page=2", FaultKind::Status(502)),
        ("/v2/time_entries?page=3", FaultKind::Drop),
        ("/v2/time_entries?page=3", FaultKind::Garbage),
    ] {
        sim.inject(Fault::once(None, prefix, kind));
    }
    sync(&store, &client).await.expect("the sync completes");
    assert_eq!(dump(&store).await, dump(&baseline).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn crossing_75_90_and_100_records_each_once_and_a_budget_raise_rearms() {
    let sim = simulator().await;
    let client = client(&sim);
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("opens");
    let project = harvest_sim::seed::INITECH_SSO_PROJECT_ID;
    let seeded: f64 = sim
        .entries()
        .iter()
        .filter(|e| e["project"]["id"] == project)
        .filter_map(|e| e["hours"].as_f64())
        .sum();
    let budget = Hours::from_harvest(seeded + 4.0).expect("hours");
    let new = NewTicket {
        subject: "SSO".into(),
        budget: Some(budget),
        project: Some(project),
        ..NewTicket::default()
    };
    let ticket =
        TicketNumber::new(store.create_ticket(&support::owner(), new, Utc::now()).await.expect("t").number)
            .expect("n");
    let events = |store: &Store| {
        let store = store.clone();
        async move { store.events().await.expect("events").into_iter().map(|e| e.kind).collect::<Vec<_>>() }
    };
    sync(&store, &client).await.expect("sync");
    let target = |pct: f64| budget.as_f64() * pct / 100.0;
    let mut used = store.ticket(ticket).await.expect("t").hours_used.as_f64();
    for (pct, expected) in [
        (80.0, vec![EventKind::Approaching]),
        (92.0, vec![EventKind::Approaching, EventKind::Near]),
        (100.0, vec![EventKind::Approaching, EventKind::Near, EventKind::Locked]),
    ] {
        let step = ((target(pct) - used) * 100.0).ceil() / 100.0;
        add(&sim, project, step, 0);
        sync(&store, &client).await.expect("sync");
        used = store.ticket(ticket).await.expect("t").hours_used.as_f64();
        assert_eq!(events(&store).await, expected, "at {pct} %");
    }
    full(&store, &client).await.expect("a full re-import");
    assert_eq!(events(&store).await.len(), 3, "re-importing records nothing new");
    let raise = TicketChanges {
        budget: Some(Hours::from_harvest(used * 2.0).expect("h")),
        ..TicketChanges::default()
    };
    store.update_ticket(&support::owner(), ticket, raise, Utc::now()).await.expect("raised");
    add(&sim, project, used * 0.6, 0);
    sync(&store, &client).await.expect("sync");
    assert_eq!(
        events(&store).await[3..],
        [EventKind::Unlocked, EventKind::Approaching],
        "the raise lifted the lock and re-armed the 75 % line"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_linked_project_offers_its_harvest_budget_once_and_a_pm_budget_stays() {
    let sim = simulator().await;
    let client = client(&sim);
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("opens");
    for (subject, budget) in [("No budget", None), ("PM budget", Some(Hours::whole(3)))] {
        let new = NewTicket {
            subject: subject.into(),
            budget,
            project: Some(ACME_VPN_PROJECT_ID),
            ..NewTicket::default()
        };
        store.create_ticket(&support::owner(), new, Utc::now()).await.expect("t");
    }
    sync(&store, &client).await.expect("sync");
    assert_eq!(
        store.ticket(TicketNumber::new(1).expect("n")).await.expect("t").budget_hours.map(Hours::as_f64),
        Some(10.0),
        "Harvest's 10 h"
    );
    assert_eq!(
        store.ticket(TicketNumber::new(2).expect("n")).await.expect("t").budget_hours.map(Hours::as_f64),
        Some(3.0),
        "the PM's stays"
    );
    sim.clear_requests();
    sync(&store, &client).await.expect("sync");
    assert!(sim.requests().iter().all(|r| !r.path_and_query.starts_with("/v2/projects/")), "offered once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_edited_in_harvest_updates_hours_and_moves_between_tickets() {
    let sim = simulator().await;
    let client = client(&sim);
    let (_db, store) = desk().await;
    let id = add(&sim, ACME_VPN_PROJECT_ID, 1.0, 0);
    sync(&store, &client).await.expect("sync");
    let acme_before = store.ticket(TicketNumber::new(1).expect("n")).await.expect("t").hours_used.as_f64();
    let globex_before = store.ticket(TicketNumber::new(2).expect("n")).await.expect("t").hours_used.as_f64();
    sim.edit_entry(
        id,
        EntryEdit { hours: Some(2.5), project_id: Some(GLOBEX_BILLING_PROJECT_ID), ..EntryEdit::default() },
    );
    sync(&store, &client).await.expect("sync");
    let acme = store.ticket(TicketNumber::new(1).expect("n")).await.expect("t").hours_used.as_f64();
    let globex = store.ticket(TicketNumber::new(2).expect("n")).await.expect("t").hours_used.as_f64();
    assert!((acme_before - acme - 1.0).abs() < 1e-9, "the entry left #1");
    assert!((globex - globex_before - 2.5).abs() < 1e-9, "and arrived on #2 with its new hours");
}

/// Crash safety: a `tickettime sync` child is killed with SIGKILL while it
/// reads page k (k and the moment vary); the database stays sound and the
/// next sync equals an uninterrupted one.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_random_points_leaves_a_sound_database_that_converges() {
    let sim = simulator().await;
    add_many(&sim, 4_200);
    let client = client(&sim);
    let (_base, baseline) = desk().await;
    sync(&baseline, &client).await.expect("baseline");
    let expected = dump(&baseline).await;
    for trial in 0..9u64 {
        let page = 1 + trial % 3;
        let (db, store) = desk().await;
        store.close().await;
        let prefix = if page == 1 {
            "/v2/time_entries?per_page".to_owned()
        } else {
            format!("/v2/time_entries?page={page}")
        };
        sim.inject(Fault::once(None, &prefix, FaultKind::Delay(Duration::from_millis(400))));
        sim.clear_requests();
        let mut child = cli(&sim, &db).arg("sync").spawn().expect("spawned");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !sim.requests().iter().any(|r| r.path_and_query.starts_with(&prefix)) {
            assert!(std::time::Instant::now() < deadline, "page {page} was never requested");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Somewhere in the delayed page's wait, or in the writes right after it.
        tokio::time::sleep(Duration::from_millis((trial * 97) % 520)).await;
        child.kill().await.expect("SIGKILL");
        let store = Store::open(&db.url()).await.expect("reopens");
        if !db.is_postgres() {
            let check: String =
                sqlx::query_scalar("PRAGMA integrity_check").fetch_one(store.pool()).await.expect("check");
            assert_eq!(check, "ok", "trial {trial}: the file is sound");
        }
        let dupes: i64 = sqlx::query_scalar("SELECT COUNT(*) - COUNT(DISTINCT harvest_id) FROM time_entries")
            .fetch_one(store.pool())
            .await
            .expect("count");
        assert_eq!(dupes, 0, "trial {trial}: no duplicate Harvest ids");
        store.close().await;
        let status = cli(&sim, &db).arg("sync").status().await.expect("ran");
        assert!(status.success(), "trial {trial}: the next sync runs at once (the lock died with the child)");
        let store = Store::open(&db.url()).await.expect("reopens");
        assert_eq!(dump(&store).await, expected, "trial {trial} (page {page}): converged to the baseline");
    }
}

fn cli(sim: &Simulator, db: &TempDb) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"));
    command
        .env("TICKETTIME_DB", db.url())
        .env("HARVEST_API_URL", sim.url())
        .env("HARVEST_ID_URL", sim.url())
        .env("HARVEST_ACCESS_TOKEN", Simulator::ADMIN_TOKEN)
        .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string())
        .env("TICKETTIME_KEYCHAIN_SERVICE", "tickettime-test-sync")
        .env("TICKETTIME_CACHE_DIR", db.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_status_reports_the_last_run_as_json() {
    let sim = simulator().await;
    let (db, store) = desk().await;
    store.close().await;
    let out = cli(&sim, &db)
        .args(["sync", "--json"])
        .stdout(std::process::Stdio::piped())
        .output()
        .await
        .expect("ran");
    assert!(out.status.success());
    let out = cli(&sim, &db)
        .args(["sync", "status", "--json"])
        .stdout(std::process::Stdio::piped())
        .output()
        .await
        .expect("ran");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for key in [
        "last_run_at",
        "duration_ms",
        "watermark",
        "new",
        "updated",
        "deleted",
        "unattributed",
        "api_calls",
        "last_error",
    ] {
        assert!(status.get(key).is_some(), "`{key}` is reported");
    }
    assert!(status["new"].as_i64().is_some_and(|n| n > 0));
    assert_eq!(status["last_error"], serde_json::Value::Null);
}
