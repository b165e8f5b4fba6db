//! Team mode on a real PostgreSQL server (run when `TICKETTIME_TEST_PG` is
//! set, as `scripts/test` does): one sync leader at a time, changes heard by
//! every desktop through LISTEN/NOTIFY, each event notified once per PM, and
//! a dropped listener catching up.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Local, Utc};
use harvest::{Config, Credentials, HarvestClient};
use harvest_sim::seed::{GLOBEX_BILLING_PROJECT_ID, MEMBER_ID, SUPPORT_TASK_ID};
use harvest_sim::{Fault, FaultKind, NewEntry, Simulator};
use secrecy::SecretString;
use support::TempDb;
use tickettime::domain::{Email, EventKind, Hours, Role};
use tickettime::notify::{take_notices, Notice};
use tickettime::store::{NewTicket, Staff};
use tickettime::sync::{self, SyncOptions};
use tickettime::watch::{follow, Heard};
use tickettime::{Error, Store};

struct Team {
    db: TempDb,
    sim: Simulator,
    leader: Store,
    pm: Staff,
}

/// A team database with a PM and ticket #1 on Globex billing (4 h); `None`
/// (and a note) when no PostgreSQL server is configured.
async fn team() -> Option<Team> {
    if std::env::var("TICKETTIME_TEST_PG").map_or(true, |v| v.trim().is_empty()) {
        eprintln!("TICKETTIME_TEST_PG is not set: team-mode tests need PostgreSQL (scripts/test sets it)");
        return None;
    }
    let db = TempDb::new();
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let leader = Store::open(&db.url()).await.expect("the team database");
    // The owner's login is the first admin: Ada, whose Harvest token leads.
    leader
        .init_team(Some(&Email::parse("ada@demo.test").expect("email")), Some("Ada Admin"), Utc::now())
        .await
        .expect("the team database is set up");
    let pm = leader
        .add_staff(
            &support::owner(),
            &Email::parse("pia@demo.test").expect("email"),
            "Pia Park",
            Role::Pm,
            Utc::now(),
        )
        .await
        .expect("pm");
    let new = NewTicket {
        subject: "Invoice PDF renders blank".into(),
        pm: Some(Email::parse("pia@demo.test").expect("email")),
        budget: Some(Hours::whole(4)),
        project: Some(GLOBEX_BILLING_PROJECT_ID),
        ..NewTicket::default()
    };
    leader.create_ticket(&support::owner(), new, Utc::now()).await.expect("ticket");
    Some(Team { db, sim, leader, pm })
}

fn client(sim: &Simulator) -> HarvestClient {
    let config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    HarvestClient::new(
        config,
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(Simulator::ADMIN_TOKEN.to_owned())),
        None,
    )
    .expect("client")
}

fn log_in_harvest(sim: &Simulator, hours: f64) {
    sim.add_entry(NewEntry {
        user_id: MEMBER_ID,
        project_id: GLOBEX_BILLING_PROJECT_ID,
        task_id: SUPPORT_TASK_ID,
        spent_date: Local::now().date_naive(),
        hours: Some(hours),
        notes: Some("work".into()),
        external_reference: None,
    });
}

/// A PM's desktop: follows the channel and, on every change, takes its
/// notices — what the desktop's background task does.
fn desktop(
    url: String,
    pm: Staff,
    name: &'static str,
    shown: Arc<Mutex<Vec<(&'static str, Notice)>>>,
    heard: Arc<Mutex<Vec<(&'static str, Heard)>>>,
) {
    tokio::spawn(async move {
        let store = Store::open(&url).await.expect("a desktop's connection");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let follower = store.clone();
        tokio::spawn(async move {
            let _ = follow(&follower, move |h| {
                let _ = tx.send(h);
            })
            .await;
        });
        while let Some(h) = rx.recv().await {
            heard.lock().expect("lock").push((name, h));
            for notice in take_notices(&store, &pm).await.expect("notices") {
                shown.lock().expect("lock").push((name, notice));
            }
        }
    });
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_desktops_of_a_pm_hear_an_import_and_each_event_is_notified_once() {
    let Some(team) = team().await else { return };
    let shown = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    for name in ["laptop", "office"] {
        desktop(team.db.url(), team.pm.clone(), name, shown.clone(), heard.clone());
    }
    eventually("both desktops listening", || {
        heard.lock().expect("lock").iter().filter(|(_, h)| *h == Heard::Missed).count() == 2
    })
    .await;
    log_in_harvest(&team.sim, 5.0);
    sync::run(
        &support::session_with(&team.leader, &client(&team.sim)).await,
        &SyncOptions::default(),
        &|_| {},
    )
    .await
    .expect("the leader imports");
    eventually("the 90 % and lock notices", || {
        let kinds: Vec<EventKind> = shown.lock().expect("lock").iter().map(|(_, n)| n.kind).collect();
        kinds.contains(&EventKind::Near) && kinds.contains(&EventKind::Locked)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shown = shown.lock().expect("lock").clone();
    let mut ids: Vec<i64> = shown.iter().map(|(_, n)| n.event_id).collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "each event is notified once per PM, not once per desktop: {shown:?}");
    assert!(shown.iter().any(|(_, n)| n.summary == "Over budget: #1 locked"));
    let heard = heard.lock().expect("lock").clone();
    for name in ["laptop", "office"] {
        assert!(
            heard.iter().any(|(who, h)| *who == name && *h == Heard::Tickets(vec![1])),
            "{name} heard that ticket #1 changed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_listener_dropped_by_the_server_catches_up() {
    let Some(team) = team().await else { return };
    let shown = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    desktop(team.db.url(), team.pm.clone(), "laptop", shown.clone(), heard.clone());
    eventually("the desktop listening", || !heard.lock().expect("lock").is_empty()).await;
    let terminated: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(pg_terminate_backend(pid)) AS BIGINT) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(team.leader.pool())
    .await
    .expect("terminate");
    assert_eq!(terminated, 1, "the listener's connection was found and dropped");
    // Changes while the listener is away are not delivered to it…
    log_in_harvest(&team.sim, 5.0);
    sync::run(
        &support::session_with(&team.leader, &client(&team.sim)).await,
        &SyncOptions::default(),
        &|_| {},
    )
    .await
    .expect("import");
    // …so it catches up with a query once it listens again.
    eventually("the lock notice after the reconnect", || {
        shown.lock().expect("lock").iter().any(|(_, n)| n.kind == EventKind::Locked)
    })
    .await;
    let misses = heard.lock().expect("lock").iter().filter(|(_, h)| *h == Heard::Missed).count();
    assert!(misses >= 2, "the follower said it had missed changes after the drop ({misses})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_desktops_syncing_at_once_store_one_set_of_rows_and_notify_each_event_once() {
    let Some(team) = team().await else { return };
    // Three of the twenty desktops are the PM's (office, laptop, home).
    let shown = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    for name in ["office", "laptop", "home"] {
        desktop(team.db.url(), team.pm.clone(), name, shown.clone(), heard.clone());
    }
    eventually("the PM's desktops listening", || {
        heard.lock().expect("lock").iter().filter(|(_, h)| *h == Heard::Missed).count() == 3
    })
    .await;
    for _ in 0..30 {
        log_in_harvest(&team.sim, 0.25);
    }
    let client = client(&team.sim);
    team.sim.clear_requests();
    let mut runs = Vec::new();
    for _ in 0..20 {
        let url = team.db.url();
        let client = client.clone();
        runs.push(tokio::spawn(async move {
            let store = Store::open(&url).await.expect("a desktop's store");
            sync::run(
                &support::session_with(&store, &client).await,
                &SyncOptions { wait: Duration::from_secs(30), ..SyncOptions::default() },
                &|_| {},
            )
            .await
        }));
    }
    let mut imported = 0;
    for run in runs {
        match run.await.expect("joined") {
            Ok(_) => imported += 1,
            Err(Error::SyncBusy) => {}
            Err(e) => panic!("no database error reaches a desktop: {e}"),
        }
    }
    let streams =
        team.sim.requests().iter().filter(|r| r.path_and_query.starts_with("/v2/time_entries?")).count();
    assert!(imported >= 1);
    let dupes: i64 = sqlx::query_scalar("SELECT COUNT(*) - COUNT(DISTINCT harvest_id) FROM time_entries")
        .fetch_one(team.leader.pool())
        .await
        .expect("count");
    assert_eq!(dupes, 0, "one set of rows");
    let used = team
        .leader
        .ticket(tickettime::domain::TicketNumber::new(1).expect("#1"))
        .await
        .expect("t")
        .hours_used;
    let expected: f64 = team
        .sim
        .entries()
        .iter()
        .filter(|e| e["project"]["id"] == GLOBEX_BILLING_PROJECT_ID)
        .filter_map(|e| e["hours"].as_f64())
        .sum();
    assert!((used - expected).abs() < 1e-9, "hours used count every entry once ({used} vs {expected})");
    assert!(
        streams >= imported,
        "every import that ran read the stream ({streams} reads, {imported} imports)"
    );
    eventually("the 90 % and lock notices", || {
        let kinds: Vec<EventKind> = shown.lock().expect("lock").iter().map(|(_, n)| n.kind).collect();
        kinds.contains(&EventKind::Near) && kinds.contains(&EventKind::Locked)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind IN ('near', 'locked')")
        .fetch_one(team.leader.pool())
        .await
        .expect("events");
    let shown = shown.lock().expect("lock").clone();
    let mut ids: Vec<i64> = shown.iter().map(|(_, n)| n.event_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        shown.len() as i64,
        events,
        "every PM event delivered, each once across three desktops: {shown:?}"
    );
    assert_eq!(ids.len(), shown.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_a_leader_imports_another_desktop_skips() {
    let Some(team) = team().await else { return };
    let client = client(&team.sim);
    team.sim.inject(Fault {
        method: None,
        path_prefix: "/v2/time_entries".into(),
        times: 1,
        kind: FaultKind::Delay(Duration::from_secs(2)),
    });
    let url = team.db.url();
    let leader_client = client.clone();
    let leader = tokio::spawn(async move {
        let store = Store::open(&url).await.expect("store");
        sync::run(&support::session_with(&store, &leader_client).await, &SyncOptions::default(), &|_| {})
            .await
    });
    eventually("the leader reading Harvest", || !team.sim.requests().is_empty()).await;
    let other = Store::open(&team.db.url()).await.expect("store");
    let skipped = sync::run(
        &support::session_with(&other, &client).await,
        &SyncOptions { wait: Duration::ZERO, ..SyncOptions::default() },
        &|_| {},
    )
    .await;
    assert!(matches!(skipped, Err(Error::SyncBusy)), "only one import at a time: {skipped:?}");
    leader.await.expect("joined").expect("the leader finishes");
    sync::run(
        &support::session_with(&other, &client).await,
        &SyncOptions { wait: Duration::ZERO, ..SyncOptions::default() },
        &|_| {},
    )
    .await
    .expect("the lock is free again");
}
