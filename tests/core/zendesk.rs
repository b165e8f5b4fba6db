//! The Zendesk connector against the project's Zendesk simulator
//! (crates/zendesk-sim), through the `tickettime` command as a user runs
//! it: the first sync, a second that adds nothing, a reply arriving after
//! Zendesk's one-minute export lag, a changed Harvest Project ID relinking,
//! the export's rate limit waited out, wrong tokens, a kill during a sync,
//! and replies and notes written exactly once through a crash between
//! Zendesk's write and Tickettime's commit and through two pushers at once.

use std::process::Output;
use std::time::Duration;

use harvest_sim::Simulator as Harvest;
use serde_json::{json, Value};
use sqlx::Connection;
use zendesk_sim::{Fault, FaultKind, NewTicket, RateLimit, Simulator as Zendesk};

use crate::osticket::{report, wait_for, Tt};
use crate::support;

const LAG: Duration = Duration::from_secs(61);

fn keyring_or_skip(what: &str) -> bool {
    if std::env::var("TICKETTIME_TEST_KEYRING").is_ok_and(|v| v == "1") {
        return true;
    }
    support::skipped(what, "TICKETTIME_TEST_KEYRING is not 1 (a desk's token lives in the keychain)");
    false
}

async fn zendesk(config: zendesk_sim::Config) -> Zendesk {
    Zendesk::start(config).await.expect("the Zendesk simulator starts")
}

fn unlimited() -> zendesk_sim::Config {
    zendesk_sim::Config { incremental_limit: None, rate_limit: None, ..zendesk_sim::Config::default() }
}

/// `desk add zendesk --url SIM --email EMAIL`, the secret on standard input.
async fn add(tt: &Tt, who: Option<&str>, zd: &Zendesk, email: &str, secret: &str, extra: &[&str]) -> Output {
    let url = zd.url();
    let mut args = vec!["desk", "add", "zendesk", "--url", &url, "--email", email, "--json"];
    args.extend_from_slice(extra);
    support::output_with_stdin(tt.command(who, &args), Some(&format!("{secret}\n"))).await
}

/// A Zendesk without limits, added by Ada (the Harvest admin) to a SQLite
/// file that logs time to the Harvest simulator.
async fn added_with_harvest() -> (Zendesk, Tt) {
    let zd = zendesk(unlimited()).await;
    let tt = Tt::new(true).await;
    added(&tt, Some(Harvest::ADMIN_TOKEN), &zd).await;
    (zd, tt)
}

async fn added(tt: &Tt, who: Option<&str>, zd: &Zendesk) -> Value {
    let out = add(tt, who, zd, Zendesk::ADMIN_EMAIL, Zendesk::TOKEN, &[]).await;
    serde_json::from_str(&support::stdout_of(&["desk", "add", "zendesk"], out)).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_sync_brings_tickets_in_a_second_adds_nothing_and_new_comments_and_fields_follow() {
    if !keyring_or_skip("the Zendesk connector's sync (tests/core/zendesk.rs)") {
        return;
    }
    // Two export calls in any 5 s: the third waits for Retry-After (the
    // syncs below come faster than that even on a loaded machine).
    let zd = zendesk(zendesk_sim::Config {
        incremental_limit: Some(RateLimit { requests: 2, window: Duration::from_secs(5) }),
        rate_limit: None,
        ..zendesk_sim::Config::default()
    })
    .await;
    let tt = Tt::new(false).await;
    let desk = added(&tt, None, &zd).await;
    assert_eq!(desk["kind"], "zendesk");
    assert_eq!(desk["writes_notes"], true, "an admin's token writes comments");
    assert!(!desk.to_string().contains(Zendesk::TOKEN), "the token is not shown: {desk}");

    let first = tt.json(None, &["desk", "sync"]).await;
    let r = report(&first);
    assert_eq!(r["tickets_new"], 2, "{first}");
    assert_eq!(r["entries_new"], 5, "{first}");
    let ids = zd.ticket_ids();
    let onboarding = tt.ticket(&ids[0].to_string()).await;
    assert_eq!(onboarding["source"], "zendesk");
    assert_eq!(onboarding["subject"], "Onboarding: SSO for the new Acme office");
    assert_eq!(onboarding["client"], "Olivia Kunde");
    assert_eq!(onboarding["harvest_project_id"], 41_068_204, "an integer field answered as text");
    assert_eq!(onboarding["budget_hours"], 8.0, "a decimal field answered as a number");
    assert_eq!(onboarding["quoted_hours"], 6.0);
    assert_eq!(onboarding["source_url"], format!("{}/agent/tickets/{}", zd.url(), ids[0]));
    let billing = tt.ticket(&ids[1].to_string()).await;
    assert_eq!(billing["status"], "pending");

    let timeline = tt.timeline(&onboarding["number"]).await;
    let kinds: Vec<&str> = timeline.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds, ["message", "response", "note"], "{timeline:?}");
    assert_eq!(
        timeline[0]["body"],
        "Hello,\n\nour new office in Leeds needs single sign-on for 14 people.\nCan you set it up this week?\n\nOlivia"
    );
    assert_eq!(timeline[0]["author"], "Olivia Kunde", "names come from users/show_many");
    assert_eq!(timeline[1]["body"], "Hi Olivia, on it – I will send the metadata by Friday.");
    assert_eq!(timeline[2]["author"], "Ada Admin");

    let second = tt.json(None, &["desk", "sync"]).await;
    for key in ["tickets_new", "tickets_updated", "entries_new", "entries_updated"] {
        assert_eq!(report(&second)[key], 0, "a second sync adds nothing ({key}): {second}");
    }

    // Olivia answers; Zendesk exports it only once it is a minute old.
    let olivia = zd.user_id(zendesk_sim::seed::OLIVIA_EMAIL);
    zd.add_comment(ids[0], olivia, "<p>Thanks! Metadata <b>received</b>.</p>", true);
    let early = tt.json(None, &["desk", "sync"]).await;
    assert_eq!(report(&early)["entries_new"], 0, "the last minute is not exported yet: {early}");
    zd.advance(LAG);
    let later = tt.json(None, &["desk", "sync"]).await;
    assert_eq!(report(&later)["entries_new"], 1, "{later}");
    let timeline = tt.timeline(&onboarding["number"]).await;
    assert_eq!(timeline.last().expect("an entry")["body"], "Thanks! Metadata received.");
    assert_eq!(timeline.last().expect("an entry")["kind"], "message");

    // The desk moves the ticket to another project and writes nonsense in the budget.
    let file = tt.db.dir.path().join("entries.json");
    let entries = support::page(vec![
        support::entry(9101, 41_068_204, 3.0, support::at(20, 0)),
        support::entry(9102, 41_068_203, 1.5, support::at(20, 5)),
    ]);
    std::fs::write(&file, entries.to_string()).expect("written");
    tt.ok(None, &["import-entries", &file.display().to_string()]).await;
    assert_eq!(tt.ticket(&ids[0].to_string()).await["hours_used"], 3.0);
    zd.set_field(ids[0], zd.field_id("Harvest Project ID"), json!(41_068_203));
    zd.set_field(ids[0], zd.field_id("Budget Hours"), json!("ten"));
    zd.advance(LAG);
    let moved = tt.json(None, &["desk", "sync"]).await;
    let r = report(&moved);
    assert_eq!(r["relinked"], json!([onboarding["number"]]), "{moved}");
    assert!(r["warnings"].to_string().contains("Budget Hours `ten` is not a number of hours"), "{moved}");
    let t = tt.ticket(&ids[0].to_string()).await;
    assert_eq!(t["harvest_project_id"], 41_068_203);
    assert_eq!(t["hours_used"], 1.5, "the new project's hours: {t}");
    assert_eq!(t["budget_hours"], 8.0, "an unreadable budget keeps the one the ticket had");

    // A ticket whose time the client cannot read is left out with a
    // warning, and the rest of the page goes in; once the desk sends it
    // readable, it arrives.
    let odd = zd.add_ticket(NewTicket {
        subject: "Printer offline".into(),
        requester_id: olivia,
        assignee_id: None,
        status: "open".into(),
        fields: Vec::new(),
        description: "<p>The printer on floor 2 is offline.</p>".into(),
    });
    zd.set_raw(odd, "created_at", Some(json!("yesterday")));
    zd.add_comment(ids[1], olivia, "<p>Any news?</p>", true);
    zd.advance(LAG);
    let skipped = tt.json(None, &["desk", "sync"]).await;
    let r = report(&skipped);
    assert_eq!((r["tickets_new"].as_u64(), r["entries_new"].as_u64()), (Some(0), Some(1)), "{skipped}");
    assert!(
        r["warnings"].to_string().contains(&format!("ticket {odd}'s created_at is not a time")),
        "{skipped}"
    );
    zd.set_raw(odd, "created_at", None);
    zd.advance(LAG);
    let arrived = tt.json(None, &["desk", "sync"]).await;
    assert_eq!(report(&arrived)["tickets_new"], 1, "{arrived}");
    assert_eq!(tt.ticket(&odd.to_string()).await["subject"], "Printer offline");

    let throttled = zd.requests().iter().filter(|r| r.status == 429).count();
    assert!(throttled > 0, "the export's limit was reached and waited out");
    assert!(
        zd.requests()
            .iter()
            .filter(|r| r.path_and_query.starts_with("/api/v2/incremental/"))
            .all(|r| r.status != 401),
        "signed in throughout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_email_address_or_an_end_user_is_one_clear_line_and_nothing_is_kept() {
    if !keyring_or_skip("the Zendesk connector's login errors (tests/core/zendesk.rs)") {
        return;
    }
    let zd = zendesk(unlimited()).await;
    let tt = Tt::new(false).await;
    let fails = |out: Output| support::error_of(&["desk", "add", "zendesk"], out);
    let error = fails(add(&tt, None, &zd, Zendesk::ADMIN_EMAIL, "not-the-token", &[]).await);
    assert!(error.contains("refused the login") && error.contains("wrong email or API token"), "{error}");
    assert!(!error.contains("not-the-token"), "no token in the error: {error}");
    let error = fails(add(&tt, None, &zd, "nobody@demo.test", Zendesk::TOKEN, &[]).await);
    assert!(error.contains("wrong email or API token for nobody@demo.test"), "{error}");
    let error = fails(add(&tt, None, &zd, Zendesk::END_USER_EMAIL, Zendesk::TOKEN, &[]).await);
    assert!(error.contains("is an end-user"), "{error}");
    let error = fails(add(&tt, None, &zd, Zendesk::ADMIN_EMAIL, "expired", &["--oauth"]).await);
    assert!(error.contains("OAuth token is not valid"), "{error}");

    let out =
        tt.command(None, &["desk", "add", "zendesk", "--url", "http://127.0.0.1:9", "--email", "a@b.c"]);
    let mut out = out;
    out.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = out.spawn().expect("runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(b"tok\n").await.expect("written");
    }
    let error = fails(child.wait_with_output().await.expect("ends"));
    assert!(error.contains("cannot reach Zendesk at http://127.0.0.1:9"), "{error}");
    assert_eq!(tt.json(None, &["desk", "list"]).await, json!([]), "nothing was kept");

    // OAuth works too.
    let out = add(&tt, None, &zd, Zendesk::ADMIN_EMAIL, Zendesk::OAUTH_TOKEN, &["--oauth"]).await;
    let desk: Value = serde_json::from_str(&support::stdout_of(&["desk", "add"], out)).expect("JSON");
    assert_eq!(desk["kind"], "zendesk");
    assert_eq!(report(&tt.json(None, &["desk", "sync"]).await)["tickets_new"], 2);

    // Adding the same account again with another login is refused and
    // leaves the working secret alone: the next sync still signs in.
    let error = fails(add(&tt, None, &zd, Zendesk::ADMIN_EMAIL, Zendesk::TOKEN, &[]).await);
    assert!(error.contains("is already desk"), "{error}");
    let again = tt.json(None, &["desk", "sync"]).await;
    assert!(again[0]["error"].is_null(), "the OAuth token still works: {again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_point_converges_to_every_ticket_once() {
    if !keyring_or_skip("the Zendesk connector killed mid-sync (tests/core/zendesk.rs)") {
        return;
    }
    let zd = zendesk(unlimited()).await;
    let requester = zd.user_id(zendesk_sim::seed::BO_EMAIL);
    let agent = zd.user_id(zendesk_sim::seed::ANA_EMAIL);
    let budget = zd.field_id("Budget Hours");
    for n in 0..250 {
        let id = zd.add_ticket(NewTicket {
            subject: format!("Generated ticket {n}"),
            requester_id: requester,
            assignee_id: Some(agent),
            status: "open".into(),
            fields: vec![(budget, json!(4))],
            description: format!("<p>Request {n}</p>"),
        });
        zd.add_comment(id, agent, &format!("Note {n}"), false);
    }
    zd.advance(LAG);
    // Every thread read takes a little while, so kills land mid-sync.
    zd.inject(
        Fault::once(Some("GET"), "/api/v2/tickets/", FaultKind::Delay(Duration::from_millis(8)))
            .times(100_000),
    );
    let tt = Tt::new(false).await;
    added(&tt, None, &zd).await;
    let mut mid_sync = 0;
    for delay_ms in [400u64, 900, 1400, 2000, 2600] {
        let mut sync = tt.command(None, &["desk", "sync"]).spawn().expect("desk sync");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if sync.try_wait().expect("waits").is_none() {
            mid_sync += 1;
        }
        sync.kill().await.ok();
    }
    eprintln!("{mid_sync} of 5 kills landed while the sync ran");
    tt.json(None, &["desk", "sync"]).await;
    let tickets = tt.json(None, &["ticket", "list"]).await;
    let tickets = tickets.as_array().expect("a list");
    assert_eq!(tickets.len(), 252, "every ticket once");
    let (entries, distinct) = tt.thread_entries_and_distinct_desk_ids().await;
    assert_eq!((entries, distinct), (505, 505), "5 + 500 comments, each once");
    let again = tt.json(None, &["desk", "sync"]).await;
    assert_eq!(report(&again)["tickets_new"], 0);
    assert_eq!(report(&again)["entries_new"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_and_notes_become_one_zendesk_comment_each_through_a_crash_a_drop_and_a_race() {
    if !keyring_or_skip("the Zendesk write-back (tests/core/zendesk.rs)") {
        return;
    }
    let (zd, tt) = added_with_harvest().await;
    let ada = Some(Harvest::ADMIN_TOKEN);
    let ana = Some(Harvest::MEMBER_TOKEN);
    // Ana, an agent, may not add or sync desks on the same file.
    let error = tt.fails(ana, &["desk", "sync"]).await;
    assert!(error.contains("sync help desks"), "{error}");
    let error = support::error_of(
        &["desk", "add"],
        add(&tt, ana, &zd, Zendesk::AGENT_EMAIL, Zendesk::TOKEN, &[]).await,
    );
    assert!(error.contains("add help desks"), "{error}");

    tt.json(ada, &["desk", "sync"]).await;
    tt.ok(ada, &["projects"]).await;
    let zid = zd.ticket_ids()[0];
    let ticket = tt.ticket(&zid.to_string()).await;
    let n = ticket["number"].to_string();

    // A reply with time: a private note for the time, the reply as a public comment.
    tt.ok(ada, &["reply", &n, "--body", "SSO is live for Leeds.", "--hours", "0.5"]).await;
    let outbox = tt.json(None, &["desk", "outbox"]).await;
    let mut kinds: Vec<&str> =
        outbox.as_array().expect("items").iter().filter_map(|i| i["kind"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["note", "reply"], "{outbox}");
    let marker_of = |kind: &str| {
        outbox
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["kind"] == kind)
            .and_then(|i| i["id"].as_str())
            .map(str::to_owned)
            .expect("an item")
    };

    // Kill between Zendesk's write and Tickettime's commit: hold Zendesk's
    // writes until the claim is committed, then hold SQLite's write lock
    // while the comments go in, and kill the sync.
    let held = zd.hold_writes().await;
    let (mut sync, mut sqlite) = tt.sync_claimed_with_the_file_locked(ada).await;
    drop(held);
    let marked = |marker: String| {
        let zd = &zd;
        move || {
            zd.comments(zid)
                .iter()
                .filter(|c| c.custom["tickettime"].as_str() == Some(marker.as_str()))
                .count()
        }
    };
    let note_marker = marker_of("note");
    let reply_marker = marker_of("reply");
    let note_count = marked(note_marker.clone());
    let reply_count = marked(reply_marker.clone());
    // The first of the two (claimed in one transaction, written in turn) goes in; its sent mark waits on SQLite.
    wait_for("a comment in Zendesk", || async { note_count() + reply_count() == 1 }).await;
    sync.kill().await.expect("killed (SIGKILL)");
    sqlx::raw_sql("ROLLBACK").execute(&mut sqlite).await.expect("rolled back");
    sqlite.close().await.expect("closed");
    assert_eq!(
        tt.json(None, &["desk", "outbox"]).await[0]["state"],
        "sending",
        "the sent mark never committed"
    );

    // Two syncs at once after the crash, and the first write of each dropped after Zendesk took it.
    zd.inject(Fault::once(Some("PUT"), "/api/v2/tickets/", FaultKind::DropAfterHandling));
    let sync = ["desk", "sync", "--json"];
    let (a, b) = tokio::join!(tt.run(ada, &sync), tt.run(ada, &sync));
    for out in [&a, &b] {
        assert!(out.status.success(), "desk sync: {}", String::from_utf8_lossy(&out.stderr));
    }
    let outbox = tt.json(None, &["desk", "outbox"]).await;
    assert!(outbox.as_array().expect("items").iter().all(|i| i["state"] == "sent"), "{outbox}");
    assert_eq!((note_count(), reply_count()), (1, 1), "exactly one comment each in Zendesk");
    let comments = zd.comments(zid);
    let ada_id = zd.user_id(Zendesk::ADMIN_EMAIL);
    let note = comments.iter().find(|c| c.custom["tickettime"] == note_marker.as_str()).expect("the note");
    assert!(!note.public, "time is a private comment");
    assert!(note.html_body.contains("0.50 h logged in Harvest by Ada"), "{}", note.html_body);
    let reply = comments.iter().find(|c| c.custom["tickettime"] == reply_marker.as_str()).expect("the reply");
    assert!(reply.public, "a reply is public");
    assert_eq!(reply.html_body, "<p>SSO is live for Leeds.</p>");
    assert_eq!(reply.author_id, ada_id, "written as the Zendesk agent with Ada's email");

    // Ana, an agent, writes a note; a PM's sync carries it, as Ana.
    tt.ok(ana, &["note", &n, "--body", "Certificate expires in March."]).await;
    tt.json(ada, &["desk", "sync"]).await;
    let ana_id = zd.user_id(Zendesk::AGENT_EMAIL);
    let hers = zd
        .comments(zid)
        .into_iter()
        .find(|c| c.html_body.contains("Certificate expires"))
        .expect("Ana's note");
    assert_eq!((hers.author_id, hers.public), (ana_id, false));

    // Read back a minute later: the local reply and note are those comments, never twice.
    zd.advance(LAG);
    tt.json(ada, &["desk", "sync"]).await;
    let timeline = tt.timeline(&ticket["number"]).await;
    let count =
        |body: &str| timeline.iter().filter(|i| i["body"].as_str().unwrap_or("").contains(body)).count();
    assert_eq!(count("SSO is live for Leeds."), 1, "{timeline:?}");
    assert_eq!(count("Certificate expires in March."), 1, "{timeline:?}");
    assert_eq!(count("logged in Harvest"), 0, "a time-only note is not repeated beside the time entry");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_brings_a_simulated_zendesk_whose_tickets_survive_a_restart_once() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let tt = Tt::new(false).await;
    let mut sources = Vec::new();
    for run in 0..2 {
        // Any free port: the default (47800) may be one another test's simulator drew.
        let mut demo = tt.command(None, &["demo", "--port", "0"]);
        demo.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = demo.spawn().expect("tickettime demo");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut zendesk = None;
        while let Some(line) = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the demo starts")
            .expect("reads")
        {
            if let Some(rest) = line.strip_prefix("Demo Zendesk at ") {
                zendesk = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        let Some(zendesk) = zendesk else {
            child.kill().await.ok();
            let out = child.wait_with_output().await.expect("the demo's output");
            panic!("the demo names its Zendesk, run {run}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let desks = tt.json(None, &["desk", "list"]).await;
        assert_eq!(desks.as_array().map(Vec::len), Some(1), "one demo desk, run {run}: {desks}");
        assert_eq!(desks[0]["url"], zendesk.as_str());
        let tickets = tt.json(None, &["ticket", "list"]).await;
        let from_zendesk: Vec<&Value> =
            tickets.as_array().expect("a list").iter().filter(|t| t["source"] == "zendesk").collect();
        assert_eq!(from_zendesk.len(), 2, "run {run}: {tickets}");
        assert!(from_zendesk.iter().all(|t| t["harvest_project_id"].is_i64() && t["budget_hours"].is_f64()));
        assert!(
            from_zendesk.iter().all(|t| t["source_url"].as_str().is_some_and(|u| u.starts_with(&zendesk))),
            "links open the running simulator: {tickets}"
        );
        sources.push(from_zendesk.iter().map(|t| t["source_number"].clone()).collect::<Vec<_>>());
        child.kill().await.ok();
    }
    assert_eq!(sources[0], sources[1], "the same tickets after a restart, not new ones");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_team_database_an_agents_reply_goes_out_through_a_pms_sync_as_the_agent() {
    if !support::postgres_or_skip("the Zendesk connector on PostgreSQL (tests/core/zendesk.rs)") {
        return;
    }
    if !keyring_or_skip("the Zendesk connector on PostgreSQL (tests/core/zendesk.rs)") {
        return;
    }
    let zd = zendesk(unlimited()).await;
    let tt = Tt::on(support::TempDb::new(), false).await;
    let (pia_url, ana_url) = tt.pm_and_agent_logins("login-pw-4").await;
    let add = ["desk", "add", "zendesk", "--url", &zd.url(), "--email", Zendesk::ADMIN_EMAIL];
    let token = format!("{}\n", Zendesk::TOKEN);
    let out = tt.run_at(&ana_url, &add, Some(&token)).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("an agent may not add help desks"), "{out:?}");
    support::stdout_of(&add, tt.run_at(&pia_url, &add, Some(&token)).await);

    let sync = ["desk", "sync", "--json"];
    let first: Value =
        serde_json::from_str(&support::stdout_of(&sync, tt.run_at(&pia_url, &sync, None).await))
            .expect("JSON");
    assert_eq!(report(&first)["tickets_new"], 2, "{first}");
    let out = tt.run_at(&ana_url, &sync, None).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("an agent may not sync help desks"), "{out:?}");

    // Ana replies from her own login; Pia's sync posts it, as Ana, once.
    let zid = zd.ticket_ids()[1];
    let list = ["ticket", "list", "--json"];
    let tickets: Value =
        serde_json::from_str(&support::stdout_of(&list, tt.run_at(&ana_url, &list, None).await))
            .expect("JSON");
    let number = tickets
        .as_array()
        .and_then(|l| l.iter().find(|t| t["source_number"] == zid.to_string().as_str()))
        .map(|t| t["number"].to_string())
        .expect("the ticket, seen by Ana");
    let reply = ["reply", &number, "--body", "The VAT rate is fixed on production."];
    support::stdout_of(&reply, tt.run_at(&ana_url, &reply, None).await);

    // Her login may not queue public comments of her own making: none
    // without her response behind it, none for the client's message, and
    // not the same response twice.
    let mut as_ana = sqlx::PgConnection::connect(&ana_url).await.expect("Ana's login");
    let number: i64 = number.parse().expect("a number");
    let (desk_id, message_id, response_id): (i64, i64, i64) = sqlx::query_as(
        "SELECT t.desk_id,
                (SELECT MIN(id) FROM thread_entries WHERE ticket_number = t.number AND kind = 'message'),
                (SELECT MAX(id) FROM thread_entries WHERE ticket_number = t.number AND kind = 'response')
         FROM tickets t WHERE t.number = $1",
    )
    .bind(number)
    .fetch_one(&mut as_ana)
    .await
    .expect("the ticket's entries, seen by Ana");
    for (forged, entry) in
        [("no entry", None), ("the client's message", Some(message_id)), ("a second copy", Some(response_id))]
    {
        let error = sqlx::query(
            "INSERT INTO desk_outbox (id, desk_id, ticket_number, kind, body, author, state, attempts,
                thread_entry_id, logged_by, created_at, updated_at)
             VALUES ($1, $2, $3, 'reply', 'Forged.', 'Ana Alvarez', 'pending', 0, $4, tickettime_me(), 'x', 'x')",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(desk_id)
        .bind(number)
        .bind(entry)
        .execute(&mut as_ana)
        .await
        .expect_err(forged);
        assert!(
            error.to_string().contains("row-level security") || error.to_string().contains("unique"),
            "{forged}: {error}"
        );
    }
    tt.run_at(&pia_url, &sync, None).await;
    tt.run_at(&pia_url, &sync, None).await;
    let ana_id = zd.user_id(Zendesk::AGENT_EMAIL);
    let posted: Vec<_> = zd
        .comments(zid)
        .into_iter()
        .filter(|c| c.html_body.contains("VAT rate is fixed on production"))
        .collect();
    assert_eq!(posted.len(), 1, "one public comment");
    assert_eq!((posted[0].author_id, posted[0].public), (ana_id, true));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_zendesk_keeps_refusing_is_tried_five_times_then_waits_for_a_pm_and_goes_out_once() {
    if !keyring_or_skip("the Zendesk write-back's retries (tests/core/zendesk.rs)") {
        return;
    }
    let (zd, tt) = added_with_harvest().await;
    let ada = Some(Harvest::ADMIN_TOKEN);
    let ana = Some(Harvest::MEMBER_TOKEN);
    tt.json(ada, &["desk", "sync"]).await;
    let zid = zd.ticket_ids()[0];
    let n = tt.ticket(&zid.to_string()).await["number"].to_string();
    tt.ok(ana, &["note", &n, "--body", "Rotated the signing key."]).await;
    let puts = || zd.requests().iter().filter(|r| r.method == "PUT").count();
    let written =
        || zd.comments(zid).iter().filter(|c| c.html_body.contains("Rotated the signing key")).count();

    // A ticket whose updated_at is unreadable is not written blind.
    zd.set_raw(zid, "updated_at", Some(json!("")));
    tt.json(ada, &["desk", "sync"]).await;
    let item = tt.json(None, &["desk", "outbox"]).await[0].clone();
    assert_eq!((item["state"].as_str(), item["attempts"].as_i64()), (Some("failed"), Some(1)), "{item}");
    assert!(item["last_error"].as_str().unwrap_or("").contains("updated_at is not a time"), "{item}");
    assert_eq!(puts(), 0, "nothing was sent without the stamp");
    zd.set_raw(zid, "updated_at", None);

    // Zendesk refuses it four more times; after the fifth the syncs leave it.
    zd.inject(Fault::once(Some("PUT"), "/api/v2/tickets/", FaultKind::Status(422)).times(4));
    for _ in 0..4 {
        tt.json(ada, &["desk", "sync"]).await;
    }
    assert_eq!(puts(), 4);
    tt.json(ada, &["desk", "sync"]).await;
    assert_eq!(puts(), 4, "a write refused five times is not tried a sixth time by itself");
    let item = tt.json(None, &["desk", "outbox"]).await[0].clone();
    assert_eq!((item["state"].as_str(), item["attempts"].as_i64()), (Some("failed"), Some(5)), "{item}");
    let id = item["id"].as_str().expect("an id").to_owned();
    let listed = tt.ok(None, &["desk", "outbox"]).await;
    assert!(listed.contains(&format!("tickettime desk retry {id}")), "{listed}");

    // Ana, an agent, may not put it back in line; Ada may, and it goes out once, as Ana.
    let error = tt.fails(ana, &["desk", "retry", &id]).await;
    assert!(error.contains("retry help desk writes"), "{error}");
    tt.ok(ada, &["desk", "retry", &id]).await;
    tt.json(ada, &["desk", "sync"]).await;
    tt.json(ada, &["desk", "sync"]).await;
    assert_eq!(written(), 1, "one comment");
    assert_eq!(tt.json(None, &["desk", "outbox"]).await[0]["state"], "sent");
    let error = tt.fails(ada, &["desk", "retry", &id]).await;
    assert!(error.contains("no failed desk write"), "{error}");
}
