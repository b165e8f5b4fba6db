//! Exactly-once delivery, tried as a user's machine fails: a `tickettime
//! log` killed after Harvest created its entry, and two pushes at once —
//! on a SQLite file, and on PostgreSQL when `TICKETTIME_TEST_PG` is set.

use crate::support;

use std::process::Output;
use std::time::Duration;

use harvest_sim::seed::{ACME_VPN_PROJECT_ID, SUPPORT_TASK_ID};
use harvest_sim::{Fault, FaultKind, Simulator};
use serde_json::Value;
use support::TempDb;

struct Desk {
    db: TempDb,
    sim: Simulator,
    ticket: String,
}

/// Ada, a Harvest administrator: she logs time and leads the import.
const TOKEN: &str = Simulator::ADMIN_TOKEN;

impl Desk {
    /// Ticket #1 on Acme VPN support (10 h), logged to by Ada.
    async fn new(db: TempDb) -> Desk {
        let sim =
            Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
                .await
                .expect("the simulator starts");
        let mut desk = Desk { db, sim, ticket: String::new() };
        // Team: the owner's login is Ada's.
        if desk.db.is_postgres() {
            desk.ok(None, &["init", "--email", "ada@demo.test", "--name", "Ada Admin"]).await;
        } else {
            desk.ok(None, &["init"]).await;
        }
        let project = ACME_VPN_PROJECT_ID.to_string();
        let args =
            ["ticket", "create", "--subject", "VPN drops", "--budget-hours", "10", "--project", &project];
        desk.ticket = desk.ok(Some(TOKEN), &args).await.trim().to_owned();
        desk.ok(Some(TOKEN), &["projects"]).await; // Ada's tasks, cached for offline use
        desk
    }

    fn command(&self, api: &str, token: Option<&str>, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"));
        command
            .args(args)
            .env("TICKETTIME_DB", self.db.url())
            .env("TICKETTIME_CACHE_DIR", self.db.dir.path())
            .env("HARVEST_API_URL", api)
            .env("HARVEST_ID_URL", api)
            .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string())
            .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-delivery-{}", std::process::id()))
            .kill_on_drop(true);
        match token {
            Some(token) => command.env("HARVEST_ACCESS_TOKEN", token),
            None => command.env_remove("HARVEST_ACCESS_TOKEN"),
        };
        command
    }

    async fn run(&self, token: Option<&str>, args: &[&str]) -> Output {
        self.command(&self.sim.url(), token, args).output().await.expect("tickettime runs")
    }

    async fn ok(&self, token: Option<&str>, args: &[&str]) -> String {
        support::stdout_of(args, self.run(token, args).await)
    }

    /// Two `outbox push` processes at once; each must succeed.
    async fn two_pushes_at_once(&self) {
        let push = ["outbox", "push", "--json"];
        let (a, b) = tokio::join!(self.run(Some(TOKEN), &push), self.run(Some(TOKEN), &push));
        for out in [&a, &b] {
            assert!(out.status.success(), "push: {}", String::from_utf8_lossy(&out.stderr));
        }
    }

    /// Harvest's entries for the ticket.
    fn in_harvest(&self) -> Vec<Value> {
        self.sim
            .entries()
            .into_iter()
            .filter(|e| e["external_reference"]["id"].as_str() == Some(self.ticket.as_str()))
            .collect()
    }

    async fn outbox(&self) -> Vec<Value> {
        let out = self.ok(Some(TOKEN), &["outbox", "--json"]).await;
        serde_json::from_str::<Value>(&out).expect("json").as_array().cloned().unwrap_or_default()
    }
}

/// A desk on a SQLite file, and one on PostgreSQL when a server is configured.
async fn desks() -> Vec<Desk> {
    let mut desks = vec![Desk::new(TempDb::sqlite()).await];
    if support::postgres_or_skip("delivery on PostgreSQL (tests/core/delivery.rs)") {
        desks.push(Desk::new(TempDb::new()).await);
    }
    desks
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_killed_after_harvest_created_the_entry_is_sent_once() {
    for desk in desks().await {
        // Harvest creates the entry, then its answer takes 30 s: the
        // process is killed in between, before it can record anything.
        desk.sim.inject(Fault::once(
            Some("POST"),
            "/v2/time_entries",
            FaultKind::DelayAfterHandling(Duration::from_secs(30)),
        ));
        let mut log = desk
            .command(&desk.sim.url(), Some(TOKEN), &["log", &desk.ticket, "--hours", "0.5"])
            .spawn()
            .expect("log");
        eventually("Harvest to create the entry", || desk.in_harvest().len() == 1).await;
        log.kill().await.expect("killed (SIGKILL)");
        let outbox = desk.outbox().await;
        assert_eq!(outbox[0]["state"], "sending", "the claim was recorded before the POST: {outbox:?}");

        // Two pushes at once, after the crash: one finds the entry, none sends it again.
        desk.two_pushes_at_once().await;
        let entries = desk.in_harvest();
        assert_eq!(entries.len(), 1, "exactly one entry in Harvest: {entries:?}");
        let outbox = desk.outbox().await;
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0]["state"], "sent", "{outbox:?}");
        assert_eq!(outbox[0]["harvest_id"], entries[0]["id"], "the item is the entry Harvest made");
        let again = desk.ok(Some(TOKEN), &["outbox", "push", "--json"]).await;
        assert!(again.contains("\"sent\": 0"), "{again}");
        assert_eq!(desk.in_harvest().len(), 1, "and stays one");
        let shown = desk.ok(Some(TOKEN), &["ticket", "show", &desk.ticket, "--json"]).await;
        if !desk.db.is_postgres() {
            assert!(shown.contains("\"hours_used\": 0.5"), "counted once: {shown}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn five_entries_queued_offline_then_two_pushes_at_once_send_five() {
    for desk in desks().await {
        let task = SUPPORT_TASK_ID.to_string();
        // Logged at once (each waits out its own retries of a dead Harvest).
        let hours: Vec<String> = (1..=5).map(|n| format!("{:.2}", f64::from(n) * 0.25)).collect();
        let mut logs = tokio::task::JoinSet::new();
        for h in &hours {
            let args = ["log", &desk.ticket, "--hours", h, "--task", &task];
            let mut command = desk.command("http://127.0.0.1:9", Some(TOKEN), &args);
            logs.spawn(async move { command.output().await });
        }
        while let Some(out) = logs.join_next().await {
            let out = out.expect("joined").expect("log");
            assert!(out.status.success(), "queued offline: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(desk.outbox().await.iter().filter(|i| i["state"] == "pending").count(), 5);
        // Slow answers, so the two pushes overlap.
        desk.sim.inject(
            Fault::once(Some("POST"), "/v2/time_entries", FaultKind::Delay(Duration::from_millis(150)))
                .times(10),
        );
        desk.two_pushes_at_once().await;
        let entries = desk.in_harvest();
        assert_eq!(entries.len(), 5, "five entries, not ten: {entries:?}");
        let mut hours: Vec<f64> = entries.iter().filter_map(|e| e["hours"].as_f64()).collect();
        hours.sort_by(f64::total_cmp);
        assert_eq!(hours, vec![0.25, 0.5, 0.75, 1.0, 1.25], "each item once");
        assert!(desk.outbox().await.iter().all(|i| i["state"] == "sent"), "every item sent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_tickettime_cannot_accept_is_quarantined_and_the_rest_imports() {
    for desk in desks().await {
        let hours_used = |shown: String| {
            serde_json::from_str::<Value>(&shown).expect("json")["hours_used"].as_f64().expect("hours")
        };
        desk.ok(Some(TOKEN), &["sync"]).await;
        let before = hours_used(desk.ok(Some(TOKEN), &["ticket", "show", &desk.ticket, "--json"]).await);
        let entry = |hours: f64, notes: &str| {
            desk.sim.add_entry(harvest_sim::NewEntry {
                user_id: Simulator::MEMBER_ID,
                project_id: ACME_VPN_PROJECT_ID,
                task_id: SUPPORT_TASK_ID,
                spent_date: chrono::Local::now().date_naive(),
                hours: Some(hours),
                notes: Some(notes.into()),
                external_reference: None,
            })["id"]
                .as_i64()
                .expect("an id")
        };
        let bad = entry(-1.0, "negative");
        entry(1.0, "fine");
        let out = desk.run(Some(TOKEN), &["sync"]).await;
        assert!(
            out.status.success(),
            "one bad entry does not stop the sync: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(&format!("Harvest entry {bad} not imported")), "named with its id: {said}");
        let after = hours_used(desk.ok(Some(TOKEN), &["ticket", "show", &desk.ticket, "--json"]).await);
        assert!((after - before - 1.0).abs() < 1e-9, "the rest of the page imported: {before} → {after}");
        let status: Value =
            serde_json::from_str(&desk.ok(Some(TOKEN), &["sync", "status", "--json"]).await).expect("json");
        assert_eq!(status["quarantined"][0]["harvest_id"], bad, "{status}");
        assert!(status["quarantined"][0]["reason"].as_str().is_some_and(|r| r.contains("hours")), "{status}");

        // The stream goes on: a later entry imports, and the watermark moved.
        entry(0.5, "later");
        desk.ok(Some(TOKEN), &["sync"]).await;
        let later = hours_used(desk.ok(Some(TOKEN), &["ticket", "show", &desk.ticket, "--json"]).await);
        assert!((later - after - 0.5).abs() < 1e-9, "{after} → {later}");

        // Fixed in Harvest: imported, and out of the quarantine.
        desk.sim.edit_entry(
            bad,
            harvest_sim::EntryEdit { hours: Some(2.0), ..harvest_sim::EntryEdit::default() },
        );
        desk.ok(Some(TOKEN), &["sync"]).await;
        let fixed = hours_used(desk.ok(Some(TOKEN), &["ticket", "show", &desk.ticket, "--json"]).await);
        assert!((fixed - later - 2.0).abs() < 1e-9, "{later} → {fixed}");
        let status: Value =
            serde_json::from_str(&desk.ok(Some(TOKEN), &["sync", "status", "--json"]).await).expect("json");
        assert_eq!(status["quarantined"], serde_json::json!([]), "{status}");
    }
}
