//! Coming back to a running timer after an away (issue 15's idle prompt),
//! against the Harvest simulator and a real SQLite file: each answer's
//! effect on the Harvest entry, exact to the minute; an answer given twice
//! at once (two processes) or with its response lost changes the entry
//! once and moves time once; someone else's answer changes nothing.

use crate::support;

use chrono::{DateTime, Duration, Utc};
use harvest::{Config, Credentials, HarvestClient, TimeEntry};
use harvest_sim::seed::{ACME_VPN_PROJECT_ID, GLOBEX_BILLING_PROJECT_ID};
use harvest_sim::{Fault, FaultKind, Simulator};
use secrecy::SecretString;
use support::TempDb;
use tickettime::domain::idle::{Away, IdleChoice};
use tickettime::domain::{Hours, TicketNumber};
use tickettime::nudge::PendingAway;
use tickettime::store::NewTicket;
use tickettime::{timer, Session, Store};

struct Desk {
    _db: TempDb,
    sim: Simulator,
    store: Store,
    vpn: TicketNumber,
    billing: TicketNumber,
}

fn client(sim: &Simulator, token: &str) -> HarvestClient {
    let config = Config { api_url: sim.url(), id_url: sim.url(), ..Config::default() };
    let token = Credentials::Personal(SecretString::from(token.to_owned()));
    HarvestClient::new(config, Simulator::ACCOUNT_ID, token, None).expect("a client")
}

async fn desk() -> Desk {
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("the simulator starts");
    let db = TempDb::sqlite();
    let store = Store::open(&db.url()).await.expect("opens");
    let mut numbers = Vec::new();
    for (subject, project) in [("VPN", ACME_VPN_PROJECT_ID), ("Invoices", GLOBEX_BILLING_PROJECT_ID)] {
        let new = NewTicket {
            subject: subject.into(),
            budget: Some(Hours::whole(100)),
            project: Some(project),
            ..NewTicket::default()
        };
        let view = store.create_ticket(&support::owner(), new, Utc::now()).await.expect("ticket");
        numbers.push(TicketNumber::new(view.number).expect("a number"));
    }
    Desk { _db: db, sim, store, vpn: numbers[0], billing: numbers[1] }
}

impl Desk {
    async fn ana(&self) -> Session {
        support::session_with(&self.store, &client(&self.sim, Simulator::MEMBER_TOKEN)).await
    }

    /// Ana's timer on #VPN, an hour on (the simulator's clock moves): she
    /// was away from 20 to 45 minutes in. Returns the away and "now".
    async fn an_hour_with_an_away(&self) -> (PendingAway, DateTime<Utc>) {
        let session = self.ana().await;
        let entry = timer::start(&session, self.vpn, None, true, Utc::now()).await.expect("started");
        let started = entry.timer_started_at.expect("running");
        self.sim.set_now_offset(Duration::minutes(60));
        let away = Away { since: started + Duration::minutes(20), back: started + Duration::minutes(45) };
        (
            PendingAway { harvest_id: entry.id, ticket: Some(self.vpn.get()), away },
            started + Duration::minutes(60),
        )
    }

    fn entry(&self, id: i64) -> serde_json::Value {
        self.sim.entry(id).expect("the entry")
    }

    fn entries_on(&self, ticket: TicketNumber) -> Vec<serde_json::Value> {
        self.sim
            .entries()
            .into_iter()
            .filter(|e| e["external_reference"]["id"].as_str() == Some(ticket.get().to_string().as_str()))
            .collect()
    }
}

fn hours(entry: &serde_json::Value) -> f64 {
    entry["hours"].as_f64().expect("hours")
}

async fn answer(
    session: &Session,
    pending: &PendingAway,
    choice: IdleChoice,
    now: DateTime<Utc>,
) -> tickettime::Result<Option<TimeEntry>> {
    timer::resolve_away(session, pending, choice, now).await
}

#[tokio::test(flavor = "multi_thread")]
async fn discarding_takes_the_away_minutes_off_once_even_when_two_processes_answer_at_once() {
    let desk = desk().await;
    let (pending, now) = desk.an_hour_with_an_away().await;
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 1.0, "an hour tracked");
    let (one, two) = (desk.ana().await, desk.ana().await);
    let (a, b) = tokio::join!(
        answer(&one, &pending, IdleChoice::Discard, now),
        answer(&two, &pending, IdleChoice::Discard, now)
    );
    assert!(a.is_ok() || b.is_ok(), "one answer applies: {a:?} {b:?}");
    let entry = desk.entry(pending.harvest_id);
    assert_eq!(hours(&entry), 0.58, "1 h less the 25 minutes away (0.42 h), once: {entry}");
    assert_eq!(entry["is_running"], true, "the timer runs on");
    let again = answer(&one, &pending, IdleChoice::Discard, now).await;
    assert!(
        again.is_err_and(|e| e.to_string().contains("your timer changed")),
        "a third answer changes nothing"
    );
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 0.58);
    // The store follows Harvest.
    assert_eq!(desk.store.ticket(desk.vpn).await.expect("ticket").hours_used.to_string(), "0.58");
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_at_the_away_ends_the_entry_where_the_away_began() {
    let desk = desk().await;
    let (pending, now) = desk.an_hour_with_an_away().await;
    let stopped = answer(&desk.ana().await, &pending, IdleChoice::StopAtIdleStart, now)
        .await
        .expect("answered")
        .expect("the entry");
    assert!(!stopped.is_running);
    let entry = desk.entry(pending.harvest_id);
    assert_eq!(
        (hours(&entry), &entry["is_running"]),
        (0.33, &serde_json::json!(false)),
        "the 20 minutes before: {entry}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_moves_the_away_to_another_ticket_once_through_a_lost_answer_and_two_processes() {
    let desk = desk().await;
    let (pending, now) = desk.an_hour_with_an_away().await;
    // Harvest takes the new hours but the answer is lost: the PATCH is sent again.
    desk.sim.inject(Fault::once(
        Some("PATCH"),
        &format!("/v2/time_entries/{}", pending.harvest_id),
        FaultKind::DropAfterHandling,
    ));
    let (one, two) = (desk.ana().await, desk.ana().await);
    let split = IdleChoice::SplitTo(desk.billing);
    let (a, b) = tokio::join!(answer(&one, &pending, split, now), answer(&two, &pending, split, now));
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 0.58, "the VPN entry lost the away");
    let moved = desk.entries_on(desk.billing);
    assert_eq!(moved.len(), 1, "the away went to Invoices once: {moved:?}");
    assert_eq!(hours(&moved[0]), 0.42);
    assert!(
        moved[0]["notes"].as_str().is_some_and(|n| n.starts_with("Moved from the timer on #")),
        "{}",
        moved[0]
    );
    assert_eq!(
        answer(&one, &pending, IdleChoice::SplitTo(desk.vpn), now).await.map(|_| ()).map_err(|e| e.to_string()),
        Err("your timer changed since you were away (stopped, restarted or already corrected): nothing was changed".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keeping_changes_nothing_and_someone_else_cannot_answer_for_her() {
    let desk = desk().await;
    let (pending, now) = desk.an_hour_with_an_away().await;
    let pia = support::session_with(&desk.store, &client(&desk.sim, Simulator::MANAGER_TOKEN)).await;
    let error = answer(&pia, &pending, IdleChoice::Discard, now).await.expect_err("not Pia's timer");
    assert!(error.to_string().contains("nothing was changed"), "{error}");
    assert_eq!(answer(&desk.ana().await, &pending, IdleChoice::Keep, now).await.expect("kept"), None);
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 1.0, "kept whole");
    let same = answer(&desk.ana().await, &pending, IdleChoice::SplitTo(desk.vpn), now).await;
    assert!(same.is_err_and(|e| e.to_string().contains("choose another ticket")));
}

/// The X11 source for real, on the test's X server (Xvfb in CI): the idle
/// time grows without input and drops when input comes (xdotool's, through
/// XTEST, as a person's would).
#[cfg(feature = "desktop-idle")]
#[tokio::test]
async fn the_x11_source_reads_the_servers_idle_time_and_input_resets_it() {
    use tickettime::idle::{IdleSource, SessionIdle};
    if std::env::var_os("DISPLAY").is_none() {
        return support::skipped(
            "the X11 idle source (tests/core/away.rs)",
            "there is no X display (DISPLAY)",
        );
    }
    let input =
        || std::process::Command::new("xdotool").args(["mousemove_relative", "--", "3", "3"]).status();
    if !input().is_ok_and(|s| s.success()) {
        return support::skipped("the X11 idle source (tests/core/away.rs)", "xdotool is not installed");
    }
    let mut source = SessionIdle::x11().await.expect("the X server has the MIT-SCREEN-SAVER extension");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let idle = source.idle().await.expect("an idle time");
    assert!(idle >= std::time::Duration::from_millis(1_200), "1.5 s without input reads {idle:?}");
    assert!(input().is_ok_and(|s| s.success()));
    let back = source.idle().await.expect("an idle time");
    assert!(
        back < idle && back < std::time::Duration::from_millis(1_000),
        "input resets it: {back:?} after {idle:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_harvest_refuses_leaves_the_entry_whole_and_the_away_goes_to_one_ticket_only() {
    let desk = desk().await;
    let (pending, now) = desk.an_hour_with_an_away().await;
    let ana = desk.ana().await;
    // Harvest refuses the new entry: the running one keeps its hour.
    desk.sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::Status(422)));
    let refused = answer(&ana, &pending, IdleChoice::SplitTo(desk.billing), now).await.expect_err("refused");
    assert!(refused.to_string().contains("Harvest refused the 0.42 h"), "{refused}");
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 1.0, "nothing came off the timer");
    assert!(desk.entries_on(desk.billing).is_empty());
    // The same away cannot go to a third ticket meanwhile.
    let third =
        NewTicket { subject: "SSO".into(), project: Some(ACME_VPN_PROJECT_ID), ..NewTicket::default() };
    let third = desk.store.create_ticket(&support::owner(), third, Utc::now()).await.expect("ticket");
    let other = TicketNumber::new(third.number).expect("a number");
    let twice =
        answer(&ana, &pending, IdleChoice::SplitTo(other), now).await.expect_err("already on its way");
    assert!(twice.to_string().contains(&format!("on its way to {}", desk.billing)), "{twice}");
    assert_eq!(hours(&desk.entry(pending.harvest_id)), 1.0);
}
