//! Team load benchmark (a measurement, not a test):
//! `TICKETTIME_BENCH_PG=postgres://user:pw@127.0.0.1/postgres cargo bench --bench team`.
//!
//! Twenty agents, each with a desktop's own connection pool and Harvest
//! client, log time on their tickets and ask for imports for a while
//! (`BENCH_SECS`, default 90) against the Harvest simulator, on one
//! PostgreSQL database; a sync leader imports every 2 s; a PM's desktop
//! follows LISTEN/NOTIFY and takes its notices. Reported: API calls, rows,
//! duplicate rows, imports run and skipped, and the latency from an event's
//! commit to the PM's notice (p50 / p99).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Local, Utc};
use harvest::{Config, Credentials, HarvestClient};
use harvest_sim::seed::ACME_VPN_PROJECT_ID;
use harvest_sim::Simulator;
use secrecy::SecretString;
use tickettime::domain::{Email, Hours, LoggedHours, Role, TicketNumber};
use tickettime::logging::{log_time, LogRequest};
use tickettime::notify::take_notices;
use tickettime::store::NewTicket;
use tickettime::sync::{self, SyncOptions};
use tickettime::watch::subscribe;
use tickettime::{Error, Store};

const AGENTS: i64 = 20;

fn client(sim: &Simulator, token: &str) -> HarvestClient {
    let config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    HarvestClient::new(
        config,
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(token.to_owned())),
        None,
    )
    .expect("client")
}

fn psql(admin: &str, sql: &str) {
    let ok =
        std::process::Command::new("psql").args([admin, "-q", "-c", sql]).status().is_ok_and(|s| s.success());
    assert!(ok, "psql `{sql}` failed");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let Ok(admin) = std::env::var("TICKETTIME_BENCH_PG") else {
        eprintln!("set TICKETTIME_BENCH_PG to a PostgreSQL admin URL (a database is created and dropped)");
        return;
    };
    let secs: u64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(90);
    let name = format!("tickettime_bench_{}", std::process::id());
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let mut url = url::Url::parse(&admin).expect("URL");
    url.set_path(&name);
    let url = url.to_string();

    // Real Harvest limits each token to 100 requests / 15 s; the agents here
    // share one simulated member token, so the simulator's limit is off and
    // each client keeps its own limiter.
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let setup = Store::open(&url).await.expect("store");
    let pm_email = Email::parse("pia@demo.test").expect("email");
    let pm = setup
        .add_staff(&tickettime::Actor::local_owner(None), &pm_email, "Pia Park", Role::Pm, Utc::now())
        .await
        .expect("pm");
    let ana = setup
        .add_staff(
            &tickettime::Actor::local_owner(None),
            &Email::parse("ana@demo.test").expect("email"),
            "Ana Alvarez",
            Role::Agent,
            Utc::now(),
        )
        .await
        .expect("agent");
    let ada = setup
        .add_staff(
            &tickettime::Actor::local_owner(None),
            &Email::parse("ada@demo.test").expect("email"),
            "Ada Admin",
            Role::Admin,
            Utc::now(),
        )
        .await
        .expect("admin");
    let ana = (ana, harvest_sim::seed::MEMBER_ID);
    let ada = (ada, harvest_sim::seed::ADMIN_ID);
    for n in 1..=AGENTS {
        let new = NewTicket {
            subject: format!("Load ticket {n}"),
            pm: Some(pm_email.clone()),
            budget: Some(Hours::whole(3)),
            project: if n == 1 { Some(ACME_VPN_PROJECT_ID) } else { None },
            ..NewTicket::default()
        };
        setup.create_ticket(&tickettime::Actor::local_owner(None), new, Utc::now()).await.expect("ticket");
    }
    // Every ticket logs to the same Harvest project; entries find their ticket by reference.
    for n in 2..=AGENTS {
        sqlx::query("UPDATE tickets SET harvest_project_id = $1 WHERE number = $2")
            .bind(ACME_VPN_PROJECT_ID)
            .bind(n)
            .execute(setup.pool())
            .await
            .expect("link");
    }

    let deadline = Instant::now() + Duration::from_secs(secs);
    let calls = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let notices = Arc::new(AtomicU64::new(0));

    // The PM's desktop.
    {
        let store = Store::open(&url).await.expect("pm store");
        let mut rx = subscribe(&store);
        let latencies = latencies.clone();
        let notices = notices.clone();
        let pm = pm.clone();
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                let now = Utc::now();
                let taken = take_notices(&store, &pm).await.expect("notices");
                let events = store.events().await.expect("events");
                for notice in taken {
                    notices.fetch_add(1, Ordering::Relaxed);
                    if let Some(event) = events.iter().find(|e| e.id == notice.event_id) {
                        let ms = (now - event.at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                        latencies.lock().expect("lock").push(ms);
                    }
                }
            }
        });
    }

    // The sync leader.
    let imports = Arc::new(AtomicU64::new(0));
    let skipped = Arc::new(AtomicU64::new(0));
    let leader = {
        let store = Store::open(&url).await.expect("leader store");
        let client = client(&sim, Simulator::ADMIN_TOKEN);
        let ada = ada.clone();
        let (imports, skipped, calls) = (imports.clone(), skipped.clone(), calls.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                match sync::run(
                    &session(&store, &client, &ada),
                    &SyncOptions { wait: Duration::ZERO, ..SyncOptions::default() },
                    &|_| {},
                )
                .await
                {
                    Ok(_) => imports.fetch_add(1, Ordering::Relaxed),
                    Err(Error::SyncBusy) => skipped.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("import failed: {e}"),
                };
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            calls.fetch_add(client.calls(), Ordering::Relaxed);
        })
    };

    // The agents.
    let logged = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut agents = Vec::new();
    for n in 1..=AGENTS {
        let store = Store::open(&url).await.expect("agent store");
        let client = client(&sim, Simulator::MEMBER_TOKEN);
        let ana = ana.clone();
        let (logged, refused, imports, skipped, calls) =
            (logged.clone(), refused.clone(), imports.clone(), skipped.clone(), calls.clone());
        agents.push(tokio::spawn(async move {
            let ticket = TicketNumber::new(n).expect("number");
            let mut round = 0u64;
            while Instant::now() < deadline {
                round += 1;
                let request = LogRequest {
                    ticket,
                    hours: LoggedHours::parse("0.25").expect("hours"),
                    task: None,
                    notes: Some(format!("load {n}/{round}")),
                    spent_date: Local::now().date_naive(),
                };
                match log_time(&session(&store, &client, &ana), &request, None, Utc::now()).await {
                    Ok(_) => logged.fetch_add(1, Ordering::Relaxed),
                    Err(Error::Rule(_)) => refused.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("agent {n}: {e}"),
                };
                if round.is_multiple_of(4) {
                    // "Sync now" from an agent's desktop: runs if no leader holds the lock.
                    match sync::run(
                        &session(&store, &client, &ana),
                        &SyncOptions { wait: Duration::ZERO, ..SyncOptions::default() },
                        &|_| {},
                    )
                    .await
                    {
                        Ok(_) => imports.fetch_add(1, Ordering::Relaxed),
                        Err(Error::SyncBusy) => skipped.fetch_add(1, Ordering::Relaxed),
                        Err(e) => panic!("agent {n} import: {e}"),
                    };
                }
                tokio::time::sleep(Duration::from_millis(500 + (n as u64 * 37 + round * 53) % 1500)).await;
            }
            calls.fetch_add(client.calls(), Ordering::Relaxed);
        }));
    }
    for a in agents {
        a.await.expect("agent");
    }
    leader.await.expect("leader");
    // One more import once everyone has stopped: what was logged after the
    // leader's last one comes in, so the store can be held against Harvest.
    let client = client(&sim, Simulator::ADMIN_TOKEN);
    sync::run(&session(&setup, &client, &ada), &SyncOptions::default(), &|_| {})
        .await
        .expect("the last import");
    calls.fetch_add(client.calls(), Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries").fetch_one(setup.pool()).await.expect("rows");
    let dupes: i64 = sqlx::query_scalar("SELECT COUNT(*) - COUNT(DISTINCT harvest_id) FROM time_entries")
        .fetch_one(setup.pool())
        .await
        .expect("dupes");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind IN ('near', 'locked')")
        .fetch_one(setup.pool())
        .await
        .expect("events");
    let in_harvest =
        sim.entries().iter().filter(|e| e["project"]["id"].as_i64() == Some(ACME_VPN_PROJECT_ID)).count();
    let mut lat = latencies.lock().expect("lock").clone();
    lat.sort_by(f64::total_cmp);
    println!("## Team load: {AGENTS} agents for {secs} s on PostgreSQL, Harvest simulator on loopback");
    println!(
        "time logged: {} entries ({} refused: ticket locked)",
        logged.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    println!(
        "imports: {} run, {} skipped (another desktop held the lock)",
        imports.load(Ordering::Relaxed),
        skipped.load(Ordering::Relaxed)
    );
    println!("API calls: {} (all clients)", calls.load(Ordering::Relaxed));
    println!(
        "rows after a last import: {rows} time entries stored, {in_harvest} in the linked Harvest project, \
         {dupes} duplicate ids"
    );
    println!(
        "PM notices: {} for {events} 90 %/lock events; latency commit → notice p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        notices.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    setup.close().await;
    psql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
    assert_eq!(rows as usize, in_harvest, "every entry of the linked project is stored once");
}

/// The bench's desktops all use the database owner's login (the load is
/// what is measured here; the roles are tested in tests/core/team.rs): each acts
/// as the person its Harvest token belongs to.
fn session(
    store: &Store,
    client: &HarvestClient,
    who: &(tickettime::store::Staff, i64),
) -> tickettime::Session {
    use tickettime::personal::{HarvestIdentity, PersonalCache};
    let (staff, user_id) = who;
    let identity = HarvestIdentity {
        account_id: Simulator::ACCOUNT_ID,
        user_id: *user_id,
        name: staff.name.clone(),
        email: staff.email.clone(),
        role: staff.role,
        sees_whole_account: staff.role == Role::Admin,
    };
    tickettime::Session::with_actor(
        store.clone(),
        Some(tickettime::connection::Harvest::of_client(client)),
        PersonalCache::none(),
        tickettime::Actor::assume_with_harvest(staff.clone(), identity),
    )
}
