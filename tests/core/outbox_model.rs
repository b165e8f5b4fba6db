//! The outbox's state machine, driven by proptest against the Harvest
//! simulator: answers lost before and after Harvest acted, slow answers,
//! outages and refusals, pushers crashing (their futures dropped — the
//! liveness lock goes with them) at any moment, and two pushers of one
//! person at once. Whatever happens, once Harvest behaves again every item
//! is in Harvest exactly once or visibly failed (and then not in Harvest),
//! never twice, never lost.

use crate::support;

use std::time::Duration;

use chrono::Utc;
use harvest::{Config, Credentials, HarvestClient};
use harvest_sim::seed::{ACME_VPN_PROJECT_ID, SUPPORT_TASK_ID};
use harvest_sim::{Fault, FaultKind, Simulator};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use secrecy::SecretString;
use support::TempDb;
use tickettime::domain::{Hours, TicketNumber};
use tickettime::logging::{push_with, reference, PushOptions};
use tickettime::store::{ClaimRules, NewTicket, OutboxState, PendingTime};

/// What Harvest does to one request.
#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// The connection drops before Harvest acts.
    LostBeforeHandling,
    /// Harvest creates the entry; the answer is lost.
    LostAnswer,
    /// Harvest creates the entry and answers 40 ms later.
    SlowAnswer,
    /// 503.
    Unavailable,
    /// 422: Harvest refuses the entry.
    Refused,
}

impl Misbehaviour {
    fn kind(self) -> FaultKind {
        match self {
            Misbehaviour::LostBeforeHandling => FaultKind::Drop,
            Misbehaviour::LostAnswer => FaultKind::DropAfterHandling,
            Misbehaviour::SlowAnswer => FaultKind::DelayAfterHandling(Duration::from_millis(40)),
            Misbehaviour::Unavailable => FaultKind::Status(503),
            Misbehaviour::Refused => FaultKind::Status(422),
        }
    }
}

/// One round: faults queued for the next POSTs and look-ups, then one or
/// two pushers, each maybe crashing after some milliseconds.
#[derive(Clone, Debug)]
struct Round {
    posts: Vec<Misbehaviour>,
    lookups: Vec<Misbehaviour>,
    first_crashes_after: Option<u64>,
    second: Option<Option<u64>>,
}

fn misbehaviour() -> impl Strategy<Value = Misbehaviour> {
    prop_oneof![
        Just(Misbehaviour::LostBeforeHandling),
        Just(Misbehaviour::LostAnswer),
        Just(Misbehaviour::SlowAnswer),
        Just(Misbehaviour::Unavailable),
        Just(Misbehaviour::Refused),
    ]
}

fn round() -> impl Strategy<Value = Round> {
    let crash = proptest::option::of(0u64..60);
    (
        proptest::collection::vec(misbehaviour(), 0..3),
        proptest::collection::vec(misbehaviour(), 0..2),
        crash.clone(),
        proptest::option::of(crash),
    )
        .prop_map(|(posts, lookups, first_crashes_after, second)| Round {
            posts,
            lookups,
            first_crashes_after,
            second,
        })
}

fn client(sim: &Simulator) -> HarvestClient {
    let mut config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    // Quick retries: the model is about outcomes, not waiting.
    config.retry.max_attempts = 2;
    config.retry.base = Duration::from_millis(5);
    HarvestClient::new(
        config,
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(Simulator::MEMBER_TOKEN.to_owned())),
        None,
    )
    .expect("client")
}

/// One pusher is one process: its own connections to the file and its
/// own session. A crash stops it mid-way — the push's future dropped — and
/// closes its connections, as a killed process's would be.
async fn push_maybe_crashing(sim: &Simulator, url: &str, options: &PushOptions, crash_after: Option<u64>) {
    let store = tickettime::Store::open(url).await.expect("a pusher's connections");
    let session = support::session_with(&store, &client(sim)).await;
    match crash_after {
        Some(ms) => {
            let _ = tokio::time::timeout(Duration::from_millis(ms), push_with(&session, options)).await;
        }
        None => {
            let _ = push_with(&session, options).await;
        }
    }
    drop(session);
    store.pool().close().await;
}

async fn run_case(sim: &Simulator, db: TempDb, items: usize, rounds: Vec<Round>) {
    sim.clear_faults();
    let url = db.url();
    let store = tickettime::Store::open(&url).await.expect("store");
    let new = NewTicket {
        subject: "VPN drops".into(),
        budget: Some(Hours::whole(1000)),
        project: Some(ACME_VPN_PROJECT_ID),
        ..NewTicket::default()
    };
    let ticket = store.create_ticket(&support::owner(), new, Utc::now()).await.expect("ticket");
    let number = TicketNumber::new(ticket.number).expect("number");
    let session = support::session_with(&store, &client(sim)).await;
    for n in 0..items {
        let time = PendingTime {
            project_id: ACME_VPN_PROJECT_ID,
            task_id: SUPPORT_TASK_ID,
            spent_date: chrono::Local::now().date_naive(),
            hours: Hours::from_hundredths(25 * (n as i64 + 1)),
            notes: Some(format!("item {n}")),
            key: None,
        };
        store.enqueue_time(&session.actor, number, &time, None, Utc::now()).await.expect("queued");
    }
    // A crashed pusher's claim is taken over 500 ms after its attempt: every
    // request the model sends lands well within that, even on a loaded machine.
    let options = PushOptions {
        rules: ClaimRules { settle: Duration::from_millis(500), ..ClaimRules::default() },
        ..PushOptions::default()
    };
    for round in rounds {
        for m in &round.posts {
            sim.inject(Fault::once(Some("POST"), "/v2/time_entries", m.kind()));
        }
        for m in &round.lookups {
            sim.inject(Fault::once(Some("GET"), "/v2/time_entries", m.kind()));
        }
        match round.second {
            Some(second) => {
                tokio::join!(
                    push_maybe_crashing(sim, &url, &options, round.first_crashes_after),
                    push_maybe_crashing(sim, &url, &options, second)
                );
            }
            None => push_maybe_crashing(sim, &url, &options, round.first_crashes_after).await,
        }
    }

    // Harvest behaves again: pushes until nothing waits.
    sim.clear_faults();
    tokio::time::sleep(Duration::from_millis(100)).await; // a slow answer still on its way
    let settle = PushOptions { wait_for_settling: true, ..options };
    for _ in 0..5 {
        push_with(&session, &settle).await.expect("a clean push");
        if store.outbox_waiting(session.actor.staff_id()).await.expect("count") == 0 {
            break;
        }
    }

    let entries = sim.entries();
    for item in store.outbox(&[]).await.expect("outbox") {
        let permalink = reference(item.ticket, &item.id).permalink;
        let copies: Vec<_> = entries
            .iter()
            .filter(|e| e["external_reference"]["permalink"].as_str() == Some(permalink.as_str()))
            .collect();
        match item.state {
            OutboxState::Sent => {
                assert_eq!(copies.len(), 1, "item {} sent once, not {}", item.id, copies.len());
                assert_eq!(copies[0]["id"].as_i64(), item.harvest_id, "the stored id is Harvest's");
            }
            OutboxState::Failed => {
                assert!(copies.is_empty(), "a refused item is not in Harvest: {copies:?}");
                assert!(item.last_error.is_some(), "and says why");
            }
            state => panic!("item {} ended {state:?}: lost in the outbox", item.id),
        }
    }
}

fn check(postgres: bool, default_cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let sim = runtime
        .block_on(Simulator::start(harvest_sim::Config {
            rate_limit: None,
            ..harvest_sim::Config::default()
        }))
        .expect("the simulator starts");
    let cases =
        std::env::var("TICKETTIME_MODEL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default_cases);
    let mut runner =
        TestRunner::new(ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&(1usize..5, proptest::collection::vec(round(), 1..6)), |(items, rounds)| {
            let db = if postgres { TempDb::new() } else { TempDb::sqlite() };
            runtime.block_on(run_case(&sim, db, items, rounds));
            Ok(())
        })
        .expect("the property holds");
}

#[test]
fn every_item_reaches_harvest_once_or_fails_visibly_through_crashes_and_two_pushers() {
    check(false, 32);
}

#[test]
fn the_same_holds_on_postgresql() {
    if !support::postgres_or_skip("the outbox model on PostgreSQL") {
        return;
    }
    check(true, 16);
}
