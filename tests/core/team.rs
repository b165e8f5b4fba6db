//! Team mode on a real PostgreSQL server (run when `TICKETTIME_TEST_PG` is
//! set, as `scripts/test` does): one sync leader at a time, changes heard by
//! every desktop through LISTEN/NOTIFY, each event notified once per PM, and
//! a dropped listener catching up.

use crate::support;

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
use tickettime::watch::{subscribe, Heard};
use tickettime::{Error, Store};

struct Team {
    db: TempDb,
    sim: Simulator,
    leader: Store,
    pm: Staff,
}

impl Team {
    /// The sync leader's import, as its admin token.
    async fn leader_imports(&self) {
        let session = support::session_with(&self.leader, &client(&self.sim)).await;
        sync::run(&session, &SyncOptions::default(), &|_| {}).await.expect("the leader imports");
    }
}

/// A team database with a PM and ticket #1 on Globex billing (4 h); `None`
/// (and a note) when no PostgreSQL server is configured.
async fn team() -> Option<Team> {
    if !support::postgres_or_skip("team-mode tests (tests/core/team.rs)") {
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
        let mut rx = subscribe(&store);
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
    team.leader_imports().await;
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
    team.leader_imports().await;
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
        .hours_used
        .as_f64();
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
    team.sim.inject(Fault::once(None, "/v2/time_entries", FaultKind::Delay(Duration::from_secs(2))));
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

#[tokio::test(flavor = "multi_thread")]
async fn an_event_that_commits_after_a_later_one_is_still_notified_once() {
    let Some(team) = team().await else { return };
    let (store, pm) = (&team.leader, &team.pm);
    assert!(take_notices(store, pm).await.expect("notices").is_empty(), "a first start replays nothing");
    let record = "INSERT INTO events (ticket_number, kind, utilization_bp, actor_id, at)
                  VALUES (1, $1, $2, NULL, '2026-12-03T06:00:00Z') RETURNING id";
    // Writer A takes the lower id and holds its transaction open...
    let mut a = store.pool().begin().await.expect("a transaction");
    let first: i64 =
        sqlx::query_scalar(record).bind("near").bind(9000_i64).fetch_one(&mut *a).await.expect("A's event");
    // ...while writer B records a later event and commits first.
    let second: i64 = sqlx::query_scalar(record)
        .bind("locked")
        .bind(10000_i64)
        .fetch_one(store.pool())
        .await
        .expect("B's event");
    assert!(first < second);
    let shown: Vec<i64> =
        take_notices(store, pm).await.expect("notices").iter().map(|n| n.event_id).collect();
    assert_eq!(shown, vec![second], "only what has committed");
    a.commit().await.expect("A commits late");
    // Two desktops of the PM ask at once: the late event is shown once.
    let other = Store::open(&team.db.url()).await.expect("another desktop");
    let (x, y) = tokio::join!(take_notices(store, pm), take_notices(&other, pm));
    let mut late: Vec<i64> = x.expect("x").into_iter().chain(y.expect("y")).map(|n| n.event_id).collect();
    late.sort_unstable();
    assert_eq!(late, vec![first], "a high-water mark would have skipped it; a set shows it once");
    assert!(take_notices(store, pm).await.expect("notices").is_empty(), "and never again");
}

// Per-person logins: `init` by the owner, `staff add --db-login` by an
// admin, then each person's own `postgres://LOGIN:PW@host/db`. The core's
// rules hold for each, and PostgreSQL itself refuses an agent's raw SQL.

struct Logins {
    db: TempDb,
    sim: Simulator,
    pia: String,
    ana: String,
}

/// This test process's cache directory for the CLI: a fresh one (a
/// directory named after the process id would be a later run's, with its
/// people, once the id comes round again).
fn cache_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new().prefix("tt-team-cache-").tempdir().expect("a cache directory")
    })
    .path()
}

async fn tickettime(
    url: &str,
    sim: &Simulator,
    token: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"));
    command
        .args(args)
        .env("TICKETTIME_DB", url)
        .env("HARVEST_API_URL", sim.url())
        .env("HARVEST_ID_URL", sim.url())
        .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string())
        .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-team-{}", std::process::id()))
        .env("TICKETTIME_CACHE_DIR", cache_dir());
    match token {
        Some(token) => command.env("HARVEST_ACCESS_TOKEN", token),
        None => command.env_remove("HARVEST_ACCESS_TOKEN"),
    };
    support::output_with_stdin(command, stdin).await
}

async fn ok(url: &str, sim: &Simulator, token: Option<&str>, args: &[&str]) -> String {
    let out = tickettime(url, sim, token, args, None).await;
    assert!(out.status.success(), "`{}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn refused(url: &str, sim: &Simulator, token: Option<&str>, args: &[&str]) -> String {
    let out = tickettime(url, sim, token, args, None).await;
    assert!(!out.status.success(), "`{}` must be refused", args.join(" "));
    let error = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(error.trim().lines().count(), 1, "one line: {error}");
    error
}

/// A team database set up by its owner, with Pia (pm) and Ana (agent) on
/// logins of their own, and ticket #1 (4 h) created by Pia.
async fn logins() -> Option<Logins> {
    if !support::postgres_or_skip("per-person logins (tests/core/team.rs)") {
        return None;
    }
    let db = TempDb::new();
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let owner = db.url();
    let init = ok(&owner, &sim, None, &["init", "--email", "ada@demo.test", "--name", "Ada Admin"]).await;
    let password = url::Url::parse(&owner).expect("URL").password().expect("a password").to_owned();
    assert!(!init.contains(&format!(":{password}@")), "init never prints the password: {init}");
    let (pia, ana) = (db.login("pia"), db.login("ana"));
    for (email, name, role, login) in
        [("pia@demo.test", "Pia Park", "pm", &pia), ("ana@demo.test", "Ana Alvarez", "agent", &ana)]
    {
        let args = ["staff", "add", "--email", email, "--name", name, "--role", role, "--db-login", login];
        let out = tickettime(&owner, &sim, None, &args, Some("secret-pw-1\n")).await;
        assert!(out.status.success(), "staff add: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("secret-pw-1"), "no password echoed");
    }
    let pia_url = support::url_as(&db, &pia, "secret-pw-1");
    ok(
        &pia_url,
        &sim,
        None,
        &["ticket", "create", "--subject", "Invoices", "--budget-hours", "4", "--pm", "pia@demo.test"],
    )
    .await;
    Some(Logins { db, sim, pia, ana })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_login_acts_as_its_person_and_an_agent_may_only_do_an_agents_part() {
    let Some(team) = logins().await else { return };
    let (sim, ana) = (&team.sim, support::url_as(&team.db, &team.ana, "secret-pw-1"));
    let pia = support::url_as(&team.db, &team.pia, "secret-pw-1");
    assert!(ok(&ana, sim, None, &["whoami"]).await.contains("Ana Alvarez"), "the login is the person");
    assert!(ok(&pia, sim, None, &["whoami"]).await.contains("Pia Park"));
    ok(&ana, sim, None, &["note", "1", "--body", "Looking at it"]).await;
    let status = ok(&ana, sim, None, &["ticket", "set", "1", "--status", "pending", "--json"]).await;
    assert!(status.contains("\"pending\""), "an agent may change a ticket's status: {status}");
    assert!(refused(&ana, sim, None, &["ticket", "set", "1", "--budget-hours", "99"])
        .await
        .contains("agent"));
    assert!(refused(&ana, sim, None, &["ticket", "create", "--subject", "Mine"]).await.contains("agent"));
    assert!(refused(&ana, sim, None, &["ticket", "link", "1", "--project", "5"]).await.contains("agent"));
    assert!(refused(&ana, sim, None, &["settings", "--lock-pct", "500"]).await.contains("agent"));
    let error = refused(&ana, sim, None, &["note", "1", "--body", "as Pia", "--as", "pia@demo.test"]).await;
    assert!(error.contains("as yourself"), "nobody claims another's name: {error}");
    let out = tickettime(
        &ana,
        sim,
        None,
        &[
            "staff",
            "add",
            "--email",
            "e@demo.test",
            "--name",
            "E",
            "--role",
            "admin",
            "--db-login",
            "tt_evil",
        ],
        Some("secret-pw-2\n"),
    )
    .await;
    assert!(!out.status.success(), "an agent's login adds no staff");
    let set = ok(&pia, sim, None, &["ticket", "set", "1", "--budget-hours", "5", "--json"]).await;
    assert!(set.contains("\"budget_hours\": 5.0"), "the PM's own login may: {set}");
    let timeline = ok(&pia, sim, None, &["timeline", "1", "--json"]).await;
    assert!(
        timeline.contains("Ana Alvarez") && timeline.contains("Looking at it"),
        "signed by Ana: {timeline}"
    );
    assert!(!timeline.contains("as Pia"), "the refused note was not written");

    // A Harvest token must be the login's own person's.
    let error = refused(&ana, sim, Some(Simulator::MANAGER_TOKEN), &["whoami"]).await;
    assert!(error.contains("belongs to Pia Park"), "a borrowed token is explained: {error}");
    // An agent's desktop never imports: it asks the leader, and none is online.
    let error = refused(&ana, sim, Some(Simulator::MEMBER_TOKEN), &["sync"]).await;
    assert!(error.contains("nobody who can import is online"), "{error}");

    // The admin moves Ana to PM, then revokes her login.
    let owner = team.db.url();
    ok(&owner, sim, None, &["staff", "set-role", "--email", "ana@demo.test", "--role", "pm"]).await;
    ok(&ana, sim, None, &["ticket", "set", "1", "--budget-hours", "6"]).await;
    ok(&owner, sim, None, &["staff", "remove", "--email", "ana@demo.test"]).await;
    let out = tickettime(&ana, sim, None, &["ticket", "show", "1"], None).await;
    assert!(!out.status.success(), "a removed login cannot sign in");
}

/// A leader's desktop as the desktop's background task runs it: it hears
/// asks for an import and, when its token may judge them, answers, imports
/// and says it is done.
async fn leader_desktop(url: String, sim: &Simulator, token: &'static str) {
    let config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    let client = HarvestClient::new(
        config,
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(token.to_owned())),
        None,
    )
    .expect("client");
    let (listening, ready) = tokio::sync::oneshot::channel();
    let mut listening = Some(listening);
    tokio::spawn(async move {
        let store = Store::open(&url).await.expect("the leader's login");
        let session = support::session_with(&store, &client).await;
        let mut rx = subscribe(&store);
        while let Some(h) = rx.recv().await {
            if let (Heard::Missed, Some(tx)) = (&h, listening.take()) {
                let _ = tx.send(());
            }
            let Heard::SyncAsked(id) = h else { continue };
            if !sync::may_answer(&session).await {
                continue;
            }
            tickettime::watch::acknowledge(&store, &id).await.expect("ack");
            let _ = sync::run(&session, &SyncOptions::default(), &|_| {}).await;
            tickettime::watch::answered(&store, &id).await.expect("done");
        }
    });
    tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("the leader listens within a minute")
        .expect("the leader's desktop runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_sync_asks_the_leader_who_manages_every_linked_project() {
    let Some(team) = logins().await else { return };
    let sim = &team.sim;
    let (ana, pia) = (
        support::url_as(&team.db, &team.ana, "secret-pw-1"),
        support::url_as(&team.db, &team.pia, "secret-pw-1"),
    );
    let manager = Some(Simulator::MANAGER_TOKEN);
    let member = Some(Simulator::MEMBER_TOKEN);
    let project = GLOBEX_BILLING_PROJECT_ID.to_string();
    ok(&pia, sim, manager, &["ticket", "link", "1", "--project", &project]).await;
    // Pia manages Globex billing in Harvest: her desktop leads.
    leader_desktop(pia.clone(), sim, Simulator::MANAGER_TOKEN).await;
    log_in_harvest(sim, 1.5);
    let asked = ok(&ana, sim, member, &["sync", "--json"]).await;
    assert!(asked.contains("\"asked_leader\": true"), "{asked}");
    let shown = ok(&ana, sim, member, &["ticket", "show", "1", "--json"]).await;
    // Globex billing's seeded 0.5 h and 0.75 h, and Ana's new 1.5 h.
    assert!(shown.contains("\"hours_used\": 2.75"), "the leader imported everyone's entries: {shown}");

    // A project Pia does not manage: her token no longer sees every entry
    // the import judges, so nobody who is online may lead.
    let mut other = harvest_sim::NewProject::new(harvest_sim::seed::ACME_ID, "Acme audit");
    other.task_ids = vec![SUPPORT_TASK_ID];
    other.user_ids = vec![MEMBER_ID];
    let other = sim.add_project(other).to_string();
    ok(&team.db.url(), sim, None, &["ticket", "create", "--subject", "Audit", "--project", &other]).await;
    let error = refused(&ana, sim, member, &["sync"]).await;
    assert!(error.contains("nobody who can import is online"), "{error}");
    let error = refused(&pia, sim, manager, &["sync", "--every", "10s"]).await;
    assert!(error.contains("manager of every linked project"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_login_changes_nothing_with_raw_sql() {
    let Some(team) = logins().await else { return };
    let sim = &team.sim;
    let ana_url = support::url_as(&team.db, &team.ana, "secret-pw-1");
    ok(&ana_url, sim, None, &["note", "1", "--body", "mine"]).await;
    ok(&ana_url, sim, None, &["message", "1", "--from", "Client", "--body", "hello"]).await;
    let owner = Store::open(&team.db.url()).await.expect("owner");
    let pia_id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE email = 'pia@demo.test'")
        .fetch_one(owner.pool())
        .await
        .expect("pia");
    async fn dump(store: &Store) -> Vec<String> {
        let mut rows = Vec::new();
        for table in [
            "staff",
            "tickets",
            "thread_entries",
            "time_entries",
            "events",
            "settings",
            "sync_state",
            "unlock_requests",
            "outbox",
        ] {
            let text: Option<String> = sqlx::query_scalar(&format!(
                "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM {table} t"
            ))
            .fetch_one(store.pool())
            .await
            .expect("dump");
            rows.push(format!("{table}: {}", text.unwrap_or_default()));
        }
        rows
    }
    let before = dump(&owner).await;
    let agent = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&ana_url)
        .await
        .expect("ana connects");
    let attempts = [
        "UPDATE tickets SET budget_hundredths = 999900".to_owned(),
        "UPDATE tickets SET locked = FALSE, extra_hundredths = 100000".to_owned(),
        "UPDATE tickets SET harvest_project_id = 5, pm_id = NULL".to_owned(),
        "DELETE FROM tickets".to_owned(),
        "UPDATE staff SET role = 'admin'".to_owned(),
        "DELETE FROM staff".to_owned(),
        "UPDATE thread_entries SET body = 'rewritten'".to_owned(),
        "DELETE FROM thread_entries".to_owned(),
        "UPDATE time_entries SET hundredths = 0".to_owned(),
        "DELETE FROM time_entries".to_owned(),
        "UPDATE events SET kind = 'unlocked'".to_owned(),
        "DELETE FROM events".to_owned(),
        "UPDATE settings SET value = '1000'".to_owned(),
        "INSERT INTO settings (key, value) VALUES ('lock_pct', '1000')".to_owned(),
        "DELETE FROM settings".to_owned(),
        "UPDATE sync_state SET watermark = NULL".to_owned(),
        "DELETE FROM sync_state".to_owned(),
        "UPDATE unlock_requests SET state = 'approved'".to_owned(),
        "DELETE FROM unlock_requests".to_owned(),
        "UPDATE outbox SET hundredths = 1".to_owned(),
        "DELETE FROM outbox".to_owned(),
        "DELETE FROM _sqlx_migrations".to_owned(),
        format!("INSERT INTO thread_entries (ticket_number, kind, author, staff_id, body, created_at) VALUES (1, 'note', 'Pia Park', {pia_id}, 'forged', '2026-12-01T00:00:00.000000Z')"),
        format!("INSERT INTO unlock_requests (ticket_number, requested_by, reason, state, created_at) VALUES (1, {pia_id}, 'forged', 'pending', 'x')"),
        "INSERT INTO events (ticket_number, kind, at) VALUES (1, 'unlocked', 'x')".to_owned(),
        "SELECT tickettime_add_staff('e@demo.test', 'E', 'admin', 'tt_evil', 'secret-pw-3', 'x')".to_owned(),
        "CREATE TABLE owned (x int)".to_owned(),
        "ALTER TABLE tickets DISABLE ROW LEVEL SECURITY".to_owned(),
    ];
    for sql in &attempts {
        let outcome = sqlx::query(sql).execute(&agent).await;
        match outcome {
            Err(_) => {}
            Ok(done) => assert_eq!(done.rows_affected(), 0, "`{sql}` must change nothing"),
        }
    }
    assert_eq!(dump(&owner).await, before, "an agent's raw SQL changed nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_never_writes_to_a_team_database_and_only_the_owner_sets_it_up() {
    let Some(team) = logins().await else { return };
    let owner = Store::open(&team.db.url()).await.expect("owner");
    let error = tickettime::demo::start(&owner, 0).await.err().expect("refused").to_string();
    assert!(error.contains("never writes to a team database"), "{error}");
    assert_eq!(owner.tickets().await.expect("tickets").len(), 1, "no demo tickets arrived");
    let pia = support::url_as(&team.db, &team.pia, "secret-pw-1");
    let error = refused(&pia, &team.sim, None, &["init"]).await;
    assert!(error.contains("must run as its owner"), "{error}");
    assert!(!error.contains("secret-pw-1"), "no password in errors: {error}");
}

/// The two migration folders must describe one schema: every table and
/// column a SQLite file has, a team database has, and no more. Read from
/// migrated databases, not from the SQL text.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_and_postgresql_migrate_to_the_same_tables_and_columns() {
    use std::collections::BTreeSet;
    if !support::postgres_or_skip("the schema comparison (tests/core/team.rs)") {
        return;
    }
    let pg = TempDb::new();
    let file = TempDb::sqlite();
    drop(Store::open(&pg.url()).await.expect("the PostgreSQL database migrates"));
    drop(Store::open(&file.url()).await.expect("the SQLite file migrates"));
    let skip = |table: &str| table.starts_with("_sqlx") || table.starts_with("sqlite_");

    let sqlite = sqlx::SqlitePool::connect(&file.url()).await.expect("the SQLite file");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
    )
    .fetch_all(&sqlite)
    .await
    .expect("SQLite's columns");
    let in_sqlite: BTreeSet<(String, String)> = rows.into_iter().filter(|(t, _)| !skip(t)).collect();

    let postgres = sqlx::PgPool::connect(&pg.url()).await.expect("the PostgreSQL database");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
    )
    .fetch_all(&postgres)
    .await
    .expect("PostgreSQL's columns");
    let in_postgres: BTreeSet<(String, String)> = rows.into_iter().filter(|(t, _)| !skip(t)).collect();

    assert!(in_sqlite.len() > 40, "the comparison sees the schema: {in_sqlite:?}");
    let only_sqlite: Vec<_> = in_sqlite.difference(&in_postgres).collect();
    let only_postgres: Vec<_> = in_postgres.difference(&in_sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration folders disagree; only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_postgres:?}"
    );
}

/// Reports on a team database: each login reads its own week (its Harvest
/// user recorded when it connects), a PM reads an agent's, an agent may not
/// read a PM's; gaps come from the login's own replies and notes.
#[tokio::test(flavor = "multi_thread")]
async fn each_login_reads_its_own_time_and_a_pm_reads_an_agents() {
    let Some(team) = logins().await else { return };
    let (sim, owner) = (&team.sim, team.db.url());
    let ana = support::url_as(&team.db, &team.ana, "secret-pw-1");
    let pia = support::url_as(&team.db, &team.pia, "secret-pw-1");
    let (member, manager, admin) =
        (Some(Simulator::MEMBER_TOKEN), Some(Simulator::MANAGER_TOKEN), Some(Simulator::ADMIN_TOKEN));
    ok(&pia, sim, manager, &["ticket", "link", "1", "--project", &GLOBEX_BILLING_PROJECT_ID.to_string()])
        .await;
    // The leader (the owner, an admin's token) imports the seed: Ana's
    // 0.75 h on Globex billing two days ago among them.
    ok(&owner, sim, admin, &["sync"]).await;
    let day = Local::now().date_naive() - chrono::Days::new(2);
    let week = format!(
        "{}-W{:02}",
        chrono::Datelike::iso_week(&day).year(),
        chrono::Datelike::iso_week(&day).week()
    );
    let hours_on = |sheet: &str| -> serde_json::Value {
        let sheet: serde_json::Value = serde_json::from_str(sheet).expect("JSON");
        sheet["days"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["date"] == day.to_string()).cloned())
            .expect("the day")["total"]
            .clone()
    };
    let own = ok(&ana, sim, member, &["timesheet", "--week", &week, "--json"]).await;
    assert_eq!(hours_on(&own), 0.75, "Ana's own week: {own}");
    // Pia, with no token at all, reads Ana's week: Ana's login recorded her Harvest user.
    let hers =
        ok(&pia, sim, None, &["timesheet", "--week", &week, "--user", "ana@demo.test", "--json"]).await;
    assert_eq!(hours_on(&hers), 0.75, "{hers}");
    let error = refused(&ana, sim, member, &["timesheet", "--user", "pia@demo.test"]).await;
    assert!(error.contains("read another person's time"), "{error}");

    ok(&ana, sim, member, &["note", "1", "--body", "Export fixed"]).await;
    let gaps: serde_json::Value =
        serde_json::from_str(&ok(&ana, sim, member, &["gaps", "--json"]).await).expect("JSON");
    assert_eq!(gaps.as_array().map(Vec::len), Some(1), "her note without time: {gaps}");
    assert_eq!(gaps[0]["kind"], "note");
}

/// An upgrade: a team database one migration behind. Only its owner brings
/// it up to date, even where every login may create in schema `public` (the
/// default before PostgreSQL 15); a person's login is told to ask the owner,
/// and works again once the owner has.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_owner_upgrades_a_team_database_and_a_persons_login_is_told_so() {
    use sqlx::Connection;
    let Some(team) = logins().await else { return };
    let sim = &team.sim;
    let (owner, ana) = (team.db.url(), support::url_as(&team.db, &team.ana, "secret-pw-1"));
    let mut conn = sqlx::PgConnection::connect(&owner).await.expect("the owner's connection");
    sqlx::raw_sql(
        "DROP INDEX time_entries_by_person_date;
         DELETE FROM _sqlx_migrations WHERE version = 20261205000002;
         GRANT CREATE ON SCHEMA public TO PUBLIC",
    )
    .execute(&mut conn)
    .await
    .expect("one migration behind, as before PostgreSQL 15");

    let error = refused(&ana, sim, None, &["ticket", "list"]).await;
    assert!(error.contains("older schema") && error.contains("tickettime init"), "{error}");
    let behind: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 20261205000002")
            .fetch_one(&mut conn)
            .await
            .expect("counted");
    assert_eq!(behind, 0, "the agent's login migrated nothing");

    ok(&owner, sim, None, &["ticket", "list"]).await;
    let index: Option<String> = sqlx::query_scalar("SELECT to_regclass('time_entries_by_person_date')::text")
        .fetch_one(&mut conn)
        .await
        .expect("looked up");
    assert_eq!(index.as_deref(), Some("time_entries_by_person_date"), "the owner's login migrated");
    let list = ok(&ana, sim, None, &["ticket", "list"]).await;
    assert!(list.contains("Invoices"), "and the agent's works again: {list}");
}
