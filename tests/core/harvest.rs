//! Tickettime against the Harvest simulator, through the `tickettime`
//! command as a user runs it: connecting, logging time exactly once, the
//! outbox, and Harvest's own timer.

use crate::support;

use std::process::Output;

use harvest_sim::{Fault, FaultKind, NewEntry, Simulator};
use serde_json::Value;
use support::TempDb;

pub(crate) struct Desk {
    pub(crate) db: TempDb,
    pub(crate) sim: Simulator,
    token: &'static str,
    /// Points the CLI at a port where nothing listens (Harvest unreachable).
    offline: bool,
}

impl Desk {
    pub(crate) async fn new(token: &'static str) -> Self {
        let sim =
            Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
                .await
                .expect("the simulator starts");
        let desk = Desk { db: TempDb::sqlite(), sim, token, offline: false };
        desk.ok(&["init"]).await;
        desk
    }

    fn api(&self) -> String {
        if self.offline {
            "http://127.0.0.1:9".to_owned()
        } else {
            self.sim.url()
        }
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        self.run_as(self.token, args).await
    }

    /// Runs the CLI with another person's token, on the same database.
    pub(crate) async fn run_as(&self, token: &str, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
            .args(args)
            .env("TICKETTIME_DB", self.db.url())
            .env("TICKETTIME_CACHE_DIR", self.db.dir.path())
            .env("HARVEST_API_URL", self.api())
            .env("HARVEST_ID_URL", self.api())
            .env("HARVEST_ACCESS_TOKEN", token)
            .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string())
            .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-{}", std::process::id()))
            .output()
            .await
            .expect("tickettime runs")
    }

    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        self.ok_as(self.token, args).await
    }

    pub(crate) async fn ok_as(&self, token: &str, args: &[&str]) -> String {
        support::stdout_of(args, self.run_as(token, args).await)
    }

    pub(crate) async fn fails(&self, args: &[&str]) -> String {
        support::error_of(args, self.run(args).await)
    }

    pub(crate) async fn json_as(&self, token: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok_as(token, &all).await).expect("JSON")
    }

    pub(crate) async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all).await).expect("JSON")
    }

    /// A ticket linked to the first project the connected user is assigned
    /// to, created by the PM (agents may not create tickets).
    pub(crate) async fn ticket(&self, budget: &str) -> (i64, i64, i64) {
        let projects = self.json(&["projects"]).await;
        let project = projects[0]["id"].as_i64().expect("a project");
        let task = projects[0]["tasks"][0]["id"].as_i64().expect("a task");
        let number = self
            .ok_as(
                Simulator::MANAGER_TOKEN,
                &[
                    "ticket",
                    "create",
                    "--subject",
                    "VPN drops",
                    "--budget-hours",
                    budget,
                    "--project",
                    &project.to_string(),
                ],
            )
            .await;
        (number.trim().parse().expect("a number"), project, task)
    }

    pub(crate) fn entries_for(&self, ticket: i64) -> Vec<Value> {
        self.sim
            .entries()
            .into_iter()
            .filter(|e| e["external_reference"]["id"].as_str() == Some(ticket.to_string().as_str()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn whoami_maps_harvest_roles_to_tickettime_roles() {
    for (token, role, id) in [
        (Simulator::MEMBER_TOKEN, "agent", Simulator::MEMBER_ID),
        (Simulator::MANAGER_TOKEN, "pm", Simulator::MANAGER_ID),
        (Simulator::ADMIN_TOKEN, "admin", Simulator::ADMIN_ID),
    ] {
        let desk = Desk::new(token).await;
        let me = desk.json(&["whoami"]).await;
        assert_eq!(me["role"], role);
        assert_eq!(me["id"], id);
        assert_eq!(me["account_id"], Simulator::ACCOUNT_ID);
        assert!(me["email"].as_str().is_some_and(|e| e.contains('@')));
        assert!(me["name"].as_str().is_some_and(|n| !n.is_empty()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn projects_lists_what_i_can_log_to_with_tasks() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let projects = desk.json(&["projects"]).await;
    let list = projects.as_array().expect("an array");
    assert!(!list.is_empty());
    for p in list {
        assert!(p["id"].is_i64() && p["name"].is_string());
        assert!(p["client"].is_string());
        assert!(!p["tasks"].as_array().expect("tasks").is_empty());
        assert!(p["tasks"][0]["id"].is_i64() && p["tasks"][0]["name"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_creates_one_harvest_entry_with_the_tickets_reference_and_stores_it() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, project, task) = desk.ticket("10").await;
    let out = desk.json(&["log", &ticket.to_string(), "--hours", "0.5", "--notes", "Check VPN logs"]).await;
    assert_eq!(out["state"], "sent");
    let entries = desk.entries_for(ticket);
    assert_eq!(entries.len(), 1, "exactly one entry in Harvest");
    let entry = &entries[0];
    assert_eq!(entry["hours"], 0.5);
    assert_eq!(entry["notes"], "Check VPN logs");
    assert_eq!(entry["project"]["id"], project);
    assert_eq!(entry["task"]["id"], task, "the project's first active task by default");
    assert_eq!(entry["external_reference"]["group_id"], "tickettime");
    assert_eq!(entry["spent_date"], chrono::Local::now().date_naive().to_string(), "today in local time");
    assert_eq!(out["harvest_id"], entry["id"]);
    let shown = desk.json(&["ticket", "show", &ticket.to_string()]).await;
    assert_eq!(shown["hours_used"], 0.5, "the new entry is stored locally at once");
    let timeline = desk.json(&["timeline", &ticket.to_string()]).await;
    assert_eq!(timeline[0]["harvest_id"], entry["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_hours_locked_tickets_and_unlinked_tickets_send_nothing() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("1").await;
    let t = ticket.to_string();
    for hours in ["0", "0.1", "0.3", "24.25", "abc", "-1"] {
        let error = desk.fails(&["log", &t, "--hours", hours]).await;
        assert!(error.contains("--hours"), "`{hours}` is refused with a reason: {error}");
    }
    let error = desk.fails(&["log", &t, "--hours", "1", "--task", "999999"]).await;
    assert!(error.contains("not an active task"), "{error}");
    desk.ok(&["log", &t, "--hours", "1"]).await;
    assert_eq!(desk.json(&["ticket", "show", &t]).await["locked"], true, "1 of 1 hours locks the ticket");
    let error = desk.fails(&["log", &t, "--hours", "0.25"]).await;
    assert!(error.contains("locked"), "{error}");
    let error = desk.fails(&["reply", &t, "--body", "done", "--hours", "0.25"]).await;
    assert!(error.contains("locked"), "{error}");
    let unlinked =
        desk.ok_as(Simulator::MANAGER_TOKEN, &["ticket", "create", "--subject", "No project"]).await;
    let error = desk.fails(&["log", unlinked.trim(), "--hours", "1"]).await;
    assert!(error.contains("no Harvest project"), "{error}");
    assert_eq!(desk.entries_for(ticket).len(), 1, "only the one good entry reached Harvest");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_with_hours_is_written_by_the_connected_user_and_logs_the_time() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.ok(&[
        "reply",
        &t,
        "--body",
        "Restarted the gateway",
        "--hours",
        "0.75",
        "--notes",
        "Restart gateway",
    ])
    .await;
    desk.ok(&["note", &t, "--body", "Watch it tomorrow"]).await;
    let timeline = desk.json(&["timeline", &t]).await;
    let kinds: Vec<&str> =
        timeline.as_array().expect("array").iter().filter_map(|i| i["kind"].as_str()).collect();
    assert!(kinds.contains(&"response") && kinds.contains(&"note") && kinds.contains(&"time"), "{kinds:?}");
    let reply = timeline.as_array().expect("array").iter().find(|i| i["kind"] == "response").expect("reply");
    let me = desk.json(&["whoami"]).await;
    assert_eq!(reply["author"], me["name"], "--as defaults to the connected user");
    assert_eq!(desk.entries_for(ticket)[0]["hours"], 0.75);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ambiguous_post_ends_with_exactly_one_entry_in_harvest() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::DropAfterHandling));
    let out = desk.json(&["log", &t, "--hours", "1.5"]).await;
    assert_eq!(out["state"], "queued", "the answer was lost, so the item waits");
    assert_eq!(desk.entries_for(ticket).len(), 1, "Harvest did create it");
    let pushed = desk.json(&["outbox", "push"]).await;
    assert_eq!(pushed["sent"], 1, "the push finds the entry by its reference instead of re-sending");
    assert_eq!(desk.entries_for(ticket).len(), 1, "still exactly one entry");
    assert_eq!(desk.json(&["ticket", "show", &t]).await["hours_used"], 1.5);
    let items = desk.json(&["outbox"]).await;
    assert_eq!(items[0]["state"], "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validation_error_marks_the_item_failed_and_it_is_never_retried_on_its_own() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::Status(422)));
    let error = desk.fails(&["log", &t, "--hours", "1"]).await;
    assert!(error.contains("refused") && error.contains("outbox"), "{error}");
    let items = desk.json(&["outbox"]).await;
    assert_eq!(items[0]["state"], "failed", "visible as failed");
    assert!(items[0]["last_error"].is_string());
    desk.sim.clear_requests();
    desk.ok(&["outbox", "push"]).await;
    desk.ok(&["whoami"]).await;
    let posts = desk.sim.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 0, "a failed item is not sent again by itself");
    let id = items[0]["id"].as_str().expect("id");
    desk.ok(&["outbox", "retry", id]).await;
    assert_eq!(desk.json(&["outbox", "push"]).await["sent"], 1, "the user can put it back in line");
    assert_eq!(desk.entries_for(ticket).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn time_logged_while_harvest_is_unreachable_is_queued_then_sent_once() {
    let mut desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, task) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.offline = true;
    let out = desk.ok(&["reply", &t, "--body", "On it", "--hours", "0.5"]).await;
    assert!(out.contains("queued"), "{out}");
    desk.ok(&["log", &t, "--hours", "0.25", "--task", &task.to_string()]).await;
    assert_eq!(desk.json(&["outbox"]).await.as_array().map(Vec::len), Some(2));
    assert!(desk.entries_for(ticket).is_empty());
    desk.offline = false;
    desk.ok(&["whoami"]).await;
    assert_eq!(desk.entries_for(ticket).len(), 2, "both went out with the next command that reached Harvest");
    desk.ok(&["outbox", "push"]).await;
    assert_eq!(desk.entries_for(ticket).len(), 2, "and only once");
    assert_eq!(desk.json(&["ticket", "show", &t]).await["hours_used"], 0.75);
}

/// Someone waits for `log`, and the time is in the outbox whatever Harvest
/// answers: during an outage a call that may be repeated gets one quick
/// second try (not the background's five slow ones), and a later push sends
/// the time once.
#[tokio::test(flavor = "multi_thread")]
async fn during_an_outage_log_answers_after_one_retry_and_the_time_goes_out_later() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.ok(&["projects"]).await; // the agent's tasks are cached
    desk.sim.inject(Fault::once(None, "/v2/", FaultKind::Status(503)).times(1_000));
    desk.sim.clear_requests();
    let out = desk.ok(&["log", &t, "--hours", "0.5"]).await;
    assert!(out.contains("queued"), "{out}");
    let tries = |method: &str, path: &str| {
        let requests = desk.sim.requests();
        requests
            .iter()
            .filter(|r| r.method == method && r.path_and_query.split('?').next() == Some(path))
            .count()
    };
    assert_eq!(tries("GET", "/v2/users/me/project_assignments"), 2, "the task list: twice, then the cache");
    // Harvest answered the POST (it may have acted): not sent again blindly.
    assert_eq!(tries("POST", "/v2/time_entries"), 1, "the entry: once, then the outbox keeps it");
    assert!(desk.entries_for(ticket).is_empty());

    desk.sim.clear_faults();
    assert_eq!(desk.json(&["outbox", "push"]).await["sent"], 1);
    assert_eq!(desk.entries_for(ticket).len(), 1, "sent once");
    assert_eq!(desk.json(&["ticket", "show", &t]).await["hours_used"], 0.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timer_is_harvests_and_follows_changes_made_elsewhere() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, project, task) = desk.ticket("10").await;
    let t = ticket.to_string();
    assert_eq!(desk.json(&["timer", "status"]).await["running"], false);
    desk.ok(&["timer", "start", &t]).await;
    let status = desk.json(&["timer", "status"]).await;
    assert_eq!(status["running"], true);
    assert_eq!(status["ticket"], ticket);
    assert!(status["harvest_id"].is_i64() && status["started_at"].is_string());
    assert!(status["elapsed_hours"].as_f64().is_some_and(|h| h >= 0.0));
    let running = desk.entries_for(ticket);
    assert_eq!(running.len(), 1);
    assert_eq!(running[0]["is_running"], true, "the timer runs in Harvest");
    assert_eq!(running[0]["hours"], 0.0);

    desk.ok(&["timer", "stop", "--notes", "Traced the drops"]).await;
    let stopped = &desk.entries_for(ticket)[0];
    assert_eq!(stopped["is_running"], false);
    assert_eq!(stopped["notes"], "Traced the drops");
    assert!(desk.fails(&["timer", "stop"]).await.contains("no timer"));

    // Started on Harvest's web app: shows here.
    let web = desk.sim.add_entry(NewEntry {
        user_id: Simulator::MEMBER_ID,
        project_id: project,
        task_id: task,
        spent_date: chrono::Local::now().date_naive(),
        hours: None,
        notes: Some("from the web".into()),
        external_reference: None,
    });
    let status = desk.json(&["timer", "status"]).await;
    assert_eq!(status["harvest_id"], web["id"], "a timer started elsewhere shows");
    // Stopped elsewhere (Harvest's web app is just another client): reads as stopped.
    let web_app = harvest::HarvestClient::new(
        harvest::Config { api_url: desk.sim.url(), id_url: desk.sim.url(), ..harvest::Config::default() },
        Simulator::ACCOUNT_ID,
        harvest::Credentials::Personal(secrecy::SecretString::from(Simulator::MEMBER_TOKEN.to_owned())),
        None,
    )
    .expect("a second client");
    web_app.stop_timer(web["id"].as_i64().expect("id")).await.expect("stopped on the web");
    assert_eq!(
        desk.json(&["timer", "status"]).await["running"],
        false,
        "a timer stopped elsewhere reads as stopped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_with_a_bad_token_stores_nothing() {
    let desk = Desk::new("not-a-token").await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
        .args(["connect", "--token", "not-a-token", "--account-id", &Simulator::ACCOUNT_ID.to_string()])
        .env("TICKETTIME_DB", desk.db.url())
        .env("HARVEST_API_URL", desk.sim.url())
        .env("HARVEST_ID_URL", desk.sim.url())
        .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-bad-{}", std::process::id()))
        .env_remove("HARVEST_ACCESS_TOKEN")
        .output()
        .await
        .expect("runs");
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("token"), "the error names the token: {error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_checks_the_project_in_harvest_and_pulls_its_entries() {
    let desk = Desk::new(Simulator::MANAGER_TOKEN).await;
    let number = desk.ok(&["ticket", "create", "--subject", "Relink me"]).await;
    let t = number.trim();
    let error = desk.fails(&["ticket", "link", t, "--project", "999999"]).await;
    assert!(error.contains("no project 999999"), "an unknown id is named: {error}");
    assert_eq!(
        desk.json(&["ticket", "show", t]).await["harvest_project_id"],
        Value::Null,
        "nothing was linked"
    );
    let project = harvest_sim::seed::ACME_VPN_PROJECT_ID;
    let linked = desk.json(&["ticket", "link", t, "--project", &project.to_string()]).await;
    let expected: f64 = desk
        .sim
        .entries()
        .iter()
        .filter(|e| e["project"]["id"] == project)
        .filter_map(|e| e["hours"].as_f64())
        .sum();
    assert!(expected > 0.0, "the seed has Acme VPN entries");
    assert!(
        (linked["hours_used"].as_f64().unwrap_or_default() - expected).abs() < 1e-9,
        "the project's entries arrived"
    );
    assert_eq!(linked["harvest_project_name"], "Acme VPN support");
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_without_a_browser_prints_the_url_and_completes_on_the_redirect() {
    use tokio::io::AsyncBufReadExt;
    let desk = Desk::new(Simulator::MANAGER_TOKEN).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
        .args(["connect", "--no-browser"])
        .env("TICKETTIME_DB", desk.db.url())
        .env("HARVEST_API_URL", desk.sim.url())
        .env("HARVEST_ID_URL", desk.sim.url())
        .env("HARVEST_CLIENT_ID", Simulator::CLIENT_ID)
        .env("HARVEST_CLIENT_SECRET", Simulator::CLIENT_SECRET)
        // Any free port (a probed one could be taken before the CLI binds it).
        .env("TICKETTIME_OAUTH_PORT", "0")
        .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-oauth-{}", std::process::id()))
        .env_remove("HARVEST_ACCESS_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawned");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = lines.next_line().await.expect("read").expect("the authorization URL is printed");
    assert!(url.starts_with(&desk.sim.url()) && url.contains("/oauth2/authorize?"), "{url}");
    let redirect = url::Url::parse(&url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("a redirect_uri");
    let redirect = url::Url::parse(&redirect).expect("the redirect is a URL");
    assert_eq!(redirect.host_str(), Some("127.0.0.1"), "{url}");
    assert!(redirect.port().is_some_and(|p| p != 0), "the port the CLI listens on: {url}");
    assert_eq!(redirect.path(), "/callback", "{url}");
    assert!(url.contains("state=") && url.contains("code_challenge="));
    // The user approves in the browser; Harvest redirects to the loopback.
    let page = reqwest_get(&url).await;
    assert!(page.contains("connected"), "the browser is told: {page}");
    let rest = lines.next_line().await.expect("read").unwrap_or_default();
    let out = child.wait_with_output().await.expect("finished");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(rest.contains("Connected to Harvest account 1234567 as Pia Park"), "{rest}");
}

/// A stand-in browser: follows Harvest's redirect to the loopback page.
async fn reqwest_get(url: &str) -> String {
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(3)).build().expect("browser");
    browser.get(url).send().await.expect("browsed").text().await.expect("page")
}

// Two and three people on one SQLite file, their tokens switched between
// commands: each acts as the person Harvest says their token belongs to.

#[tokio::test(flavor = "multi_thread")]
async fn each_persons_timer_and_role_are_their_own_on_one_file() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let pm = desk.ok_as(Simulator::MANAGER_TOKEN, &["whoami", "--json"]).await;
    assert!(pm.contains("\"pm\""), "the PM is a PM: {pm}");
    desk.ok(&["timer", "start", &ticket.to_string()]).await;
    let agents: Value = serde_json::from_str(&desk.ok(&["timer", "status", "--json"]).await).expect("JSON");
    assert_eq!(agents["running"], true, "the agent's own timer runs, whoever ran whoami before");
    assert_eq!(agents["ticket"], ticket);
    let pms: Value =
        serde_json::from_str(&desk.ok_as(Simulator::MANAGER_TOKEN, &["timer", "status", "--json"]).await)
            .expect("JSON");
    assert_eq!(pms["running"], false, "the PM runs no timer: the agent's is not theirs");
    let admin = desk.ok_as(Simulator::ADMIN_TOKEN, &["whoami", "--json"]).await;
    assert!(admin.contains("\"admin\""), "a third person, the admin, is an admin: {admin}");
    let agent = desk.ok(&["whoami", "--json"]).await;
    assert!(agent.contains("\"agent\""), "and the agent is still an agent after both: {agent}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_token_cannot_change_a_budget_nor_claim_to_be_the_pm() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, _) = desk.ticket("10").await;
    let t = ticket.to_string();
    let error = desk.fails(&["ticket", "set", &t, "--budget-hours", "99"]).await;
    assert!(error.contains("agent may not"), "the refusal says why: {error}");
    let error = desk.fails(&["ticket", "set", &t, "--budget-hours", "99", "--as", "pia@demo.test"]).await;
    assert!(error.contains("--as pia@demo.test refused"), "nobody claims to be someone else: {error}");
    assert_eq!(error.lines().count(), 1, "one line: {error}");
    let error = desk.fails(&["ticket", "unlock", &t, "--reason", "please"]).await;
    assert!(error.contains("agent"), "nor unlock: {error}");
    let error =
        desk.fails(&["staff", "add", "--email", "x@demo.test", "--name", "X", "--role", "admin"]).await;
    assert!(error.contains("may not add staff"), "nor add staff: {error}");
    assert_eq!(desk.json(&["ticket", "show", &t]).await["budget_hours"], 10.0, "the budget is unchanged");
    let set = desk.json_as(Simulator::MANAGER_TOKEN, &["ticket", "set", &t, "--budget-hours", "12"]).await;
    assert_eq!(set["budget_hours"], 12.0, "the PM's own token may");
    desk.ok(&["note", &t, "--body", "agents still write notes"]).await;
    let timeline = desk.json(&["timeline", &t]).await;
    let note = timeline.as_array().and_then(|items| items.iter().find(|i| i["kind"] == "note")).cloned();
    assert_eq!(
        note.map(|n| n["author"].clone()),
        Some(Value::from("Ana Alvarez")),
        "signed by the token's person"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_full_sync_never_deletes_the_pms_entry() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, project, task) = desk.ticket("10").await;
    desk.sim.add_entry(NewEntry {
        user_id: Simulator::MANAGER_ID,
        project_id: project,
        task_id: task,
        spent_date: chrono::Local::now().date_naive(),
        hours: Some(2.0),
        notes: Some("PM's review".into()),
        external_reference: None,
    });
    desk.ok_as(Simulator::MANAGER_TOKEN, &["sync"]).await;
    let t = ticket.to_string();
    let pms_entry = |timeline: &Value| {
        timeline.as_array().is_some_and(|items| items.iter().any(|i| i["body"] == "PM's review"))
    };
    assert!(pms_entry(&desk.json(&["timeline", &t]).await), "the PM's sync brought the PM's entry");
    let before = desk.json(&["ticket", "show", &t]).await["hours_used"].clone();
    desk.ok(&["sync", "--full"]).await;
    assert_eq!(
        desk.json(&["ticket", "show", &t]).await["hours_used"],
        before,
        "a member's token sees only their own entries: it may not judge the PM's missing"
    );
    assert!(pms_entry(&desk.json(&["timeline", &t]).await), "the PM's entry is still there");
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_time_goes_out_only_with_its_loggers_token() {
    let mut desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, _, task) = desk.ticket("10").await;
    let t = ticket.to_string();
    desk.ok(&["projects"]).await; // the agent's tasks are cached for offline use
    desk.offline = true;
    desk.ok(&["log", &t, "--hours", "0.5", "--task", &task.to_string()]).await;
    desk.offline = false;
    desk.ok_as(Simulator::MANAGER_TOKEN, &["outbox", "push"]).await;
    assert!(desk.entries_for(ticket).is_empty(), "the PM's token never sends the agent's time");
    desk.ok(&["outbox", "push"]).await;
    let sent = desk.entries_for(ticket);
    assert_eq!(sent.len(), 1, "the agent's own token sends it, once");
    assert_eq!(sent[0]["user"]["id"], Simulator::MEMBER_ID, "as the agent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_managers_full_sync_judges_every_entry_of_the_projects_they_manage_and_no_other() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (ticket, project, task) = desk.ticket("10").await;
    let agents_entry = |project_id: i64, notes: &str| {
        desk.sim.add_entry(NewEntry {
            user_id: Simulator::MEMBER_ID,
            project_id,
            task_id: task,
            spent_date: chrono::Local::now().date_naive(),
            hours: Some(1.0),
            notes: Some(notes.into()),
            external_reference: None,
        })["id"]
            .as_i64()
            .expect("an id")
    };
    let used = |number: i64| {
        let desk = &desk;
        async move { desk.json(&["ticket", "show", &number.to_string()]).await["hours_used"].as_f64() }
    };
    // Pia manages the ticket's project: her token sees every entry on it.
    let fixed = agents_entry(project, "Agent's fix");
    desk.ok_as(Simulator::MANAGER_TOKEN, &["sync"]).await;
    let before = used(ticket).await.expect("hours");
    desk.sim.delete_entry(fixed);
    desk.ok_as(Simulator::MANAGER_TOKEN, &["sync", "--full"]).await;
    assert_eq!(used(ticket).await, Some(before - 1.0), "deleted in Harvest: it leaves the ticket");

    // A project Pia does not manage: she sees only her own entries on it.
    let mut audit = harvest_sim::NewProject::new(harvest_sim::seed::ACME_ID, "Acme audit");
    audit.task_ids = vec![task];
    audit.user_ids = vec![Simulator::MEMBER_ID, Simulator::MANAGER_ID];
    let audit = desk.sim.add_project(audit);
    let number = desk
        .ok_as(
            Simulator::ADMIN_TOKEN,
            &["ticket", "create", "--subject", "Audit", "--project", &audit.to_string()],
        )
        .await;
    let number: i64 = number.trim().parse().expect("a number");
    let checked = agents_entry(audit, "Audit checks");
    desk.ok_as(Simulator::ADMIN_TOKEN, &["sync"]).await;
    assert_eq!(used(number).await, Some(1.0), "the administrator's sync brought it");
    desk.sim.delete_entry(checked);
    desk.ok_as(Simulator::MANAGER_TOKEN, &["sync", "--full"]).await;
    assert_eq!(used(number).await, Some(1.0), "Pia's token cannot see it, so it may not judge it missing");
    desk.ok_as(Simulator::ADMIN_TOKEN, &["sync", "--full"]).await;
    assert_eq!(used(number).await, Some(0.0), "the administrator's may");
}

/// `sync --every` is the core's sync loop: it keeps importing on its
/// interval until stopped, so an entry made in Harvest meanwhile arrives
/// without anyone running anything.
#[tokio::test(flavor = "multi_thread")]
async fn sync_every_keeps_importing_on_its_interval() {
    let desk = Desk::new(Simulator::MANAGER_TOKEN).await;
    let (ticket, project, task) = desk.ticket("10").await;
    let mut every = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
        .args(["sync", "--every", "10s", "--json"])
        .env("TICKETTIME_DB", desk.db.url())
        .env("TICKETTIME_CACHE_DIR", desk.db.dir.path())
        .env("HARVEST_API_URL", desk.api())
        .env("HARVEST_ID_URL", desk.api())
        .env("HARVEST_ACCESS_TOKEN", Simulator::MANAGER_TOKEN)
        .env("HARVEST_ACCOUNT_ID", Simulator::ACCOUNT_ID.to_string())
        .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-{}", std::process::id()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sync --every starts");
    let t = ticket.to_string();
    // The first import runs at once (the project's seeded entries); once it
    // has finished, Harvest gets a new entry.
    let started = std::time::Instant::now();
    while desk.json(&["sync", "status"]).await["last_run_at"].is_null() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the first import never finished");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let before = desk.json(&["ticket", "show", &t]).await["hours_used"].as_f64().expect("hours");
    desk.sim.add_entry(NewEntry {
        user_id: Simulator::MANAGER_ID,
        project_id: project,
        task_id: task,
        spent_date: chrono::Local::now().date_naive(),
        hours: Some(1.5),
        notes: Some("made on the web".into()),
        external_reference: None,
    });
    let started = std::time::Instant::now();
    loop {
        let used = desk.json(&["ticket", "show", &t]).await["hours_used"].as_f64();
        if used == Some(before + 1.5) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the next import (10 s later) brought nothing: hours used {used:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(every.try_wait().expect("status").is_none(), "still running until stopped");
    every.kill().await.expect("stopped");
}

/// Two people take turns on one file: an agent's token may not import a
/// Harvest export (nothing of it is stored), a PM's imports it.
#[tokio::test(flavor = "multi_thread")]
async fn an_agents_token_may_not_import_an_export_and_a_pms_does() {
    let desk = Desk::new(Simulator::MEMBER_TOKEN).await;
    let (number, project, _) = desk.ticket("100").await;
    let entries: Vec<Value> = (1..=3).map(|id| support::entry(id, project, 0.5, support::at(2, 0))).collect();
    let file = desk.db.dir.path().join("export.json");
    std::fs::write(&file, support::page(entries).to_string()).expect("written");
    let file = file.display().to_string();
    let error = desk.fails(&["import-entries", &file]).await;
    assert!(error.contains("import a Harvest export"), "the agent is refused: {error}");
    let show = ["ticket", "show", &number.to_string()];
    assert_eq!(desk.json(&show).await["hours_used"], 0.0, "nothing of the file is stored");
    let report = desk.json_as(Simulator::MANAGER_TOKEN, &["import-entries", &file]).await;
    assert_eq!(report["new"], 3, "{report}");
    assert_eq!(desk.json(&show).await["hours_used"], 1.5);
}
