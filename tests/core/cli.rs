//! The `tickettime` command as a user runs it, on a real SQLite file.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{at, entry, page, referenced, TempDb};

struct Cli {
    db: TempDb,
}

impl Cli {
    fn new() -> Self {
        let cli = Cli { db: TempDb::sqlite() };
        cli.ok(&["init"]);
        cli.ok(&["staff", "add", "--email", "pia@desk.test", "--name", "Pia PM", "--role", "pm"]);
        cli.ok(&["staff", "add", "--email", "ana@desk.test", "--name", "Ana Agent", "--role", "agent"]);
        cli
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tickettime"))
            .args(args)
            .env("TICKETTIME_DB", self.db.url())
            .env("TICKETTIME_CACHE_DIR", self.db.dir.path())
            // Never a real keychain or a real Harvest from a test.
            .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-cli-{}", std::process::id()))
            .env_remove("HARVEST_ACCESS_TOKEN")
            .output()
            .expect("the tickettime binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        support::stdout_of(args, self.run(args))
    }

    /// Runs a command that must fail; returns its one-line error.
    fn fails(&self, args: &[&str]) -> String {
        support::error_of(args, self.run(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).expect("valid JSON")
    }

    fn write(&self, name: &str, value: &Value) -> String {
        let path = self.db.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).expect("json")).expect("file written");
        path.display().to_string()
    }

    fn write_text(&self, name: &str, text: &str) -> String {
        let path = self.db.dir.path().join(name);
        std::fs::write(&path, text).expect("file written");
        path.display().to_string()
    }

    fn create(&self, budget: &str, project: &str) -> String {
        self.ok(&[
            "ticket",
            "create",
            "--subject",
            "VPN drops every hour",
            "--client",
            "Acme",
            "--agent",
            "ana@desk.test",
            "--pm",
            "pia@desk.test",
            "--budget-hours",
            budget,
            "--quoted-hours",
            "8",
            "--project",
            project,
        ])
        .trim()
        .to_owned()
    }
}

#[test]
fn ticket_show_json_has_the_contracted_fields() {
    let cli = Cli::new();
    let number = cli.create("10", "100");
    assert_eq!(number, "1", "ticket create prints the new number");
    let file = cli.write("entries.json", &page(vec![entry(1, 100, 7.5, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    let t = cli.json(&["ticket", "show", "1"]);
    assert_eq!(t["number"], 1);
    assert_eq!(t["subject"], "VPN drops every hour");
    assert_eq!(t["status"], "open");
    assert_eq!(t["client"], "Acme");
    assert_eq!(t["agent"], "ana@desk.test");
    assert_eq!(t["pm"], "pia@desk.test");
    assert_eq!(t["harvest_project_id"], 100);
    assert_eq!(t["budget_hours"], 10.0);
    assert_eq!(t["quoted_hours"], 8.0);
    assert_eq!(t["hours_used"], 7.5);
    assert_eq!(t["utilization_pct"], 75.0);
    assert_eq!(t["band"], "yellow");
    assert_eq!(t["locked"], false);
    assert_eq!(t["lock_reason"], Value::Null);
    assert_eq!(t["source"], "local", "a ticket typed in is local");
    assert_eq!(t["source_number"], Value::Null);
    let list = cli.json(&["ticket", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0], t, "ticket list prints the same objects");
}

#[test]
fn a_ticket_without_budget_shows_null_utilization_and_band() {
    let cli = Cli::new();
    cli.ok(&["ticket", "create", "--subject", "No budget yet"]);
    let t = cli.json(&["ticket", "show", "#1"]);
    assert_eq!(t["budget_hours"], Value::Null);
    assert_eq!(t["utilization_pct"], Value::Null);
    assert_eq!(t["band"], Value::Null);
    assert!(cli.ok(&["ticket", "show", "1"]).contains("Budget not set"));
}

#[test]
fn a_locked_ticket_refuses_a_reply_and_its_timeline_is_unchanged() {
    let cli = Cli::new();
    cli.create("2", "100");
    cli.ok(&["message", "1", "--from", "Client Carl", "--body", "VPN is down again"]);
    let file = cli.write("entries.json", &page(vec![entry(1, 100, 2.0, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    let before = cli.json(&["timeline", "1"]);
    let error = cli.fails(&["reply", "1", "--as", "ana@desk.test", "--body", "Fixed it"]);
    assert!(error.contains("locked"), "the error names the lock: {error}");
    cli.fails(&["note", "1", "--as", "pia@desk.test", "--body", "internal"]);
    assert_eq!(cli.json(&["timeline", "1"]), before, "a refused reply leaves the timeline as it was");
    assert_eq!(cli.json(&["ticket", "show", "1"])["locked"], true);
}

#[test]
fn the_owner_unlocks_and_extra_hours_relock_at_the_right_point() {
    // No Harvest connection: the file's owner acts (admin); `--as` only
    // labels. Roles with real tokens are tested in tests/people.rs.
    let cli = Cli::new();
    cli.create("10", "100");
    let file = cli.write("a.json", &page(vec![entry(1, 100, 10.0, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    cli.fails(&["ticket", "unlock", "1", "--as", "pia@desk.test", "--reason", ""]);
    let t = cli.json(&[
        "ticket",
        "unlock",
        "1",
        "--as",
        "pia@desk.test",
        "--reason",
        "approved",
        "--extra-hours",
        "1.5",
    ]);
    assert_eq!(t["locked"], false);
    cli.ok(&["reply", "1", "--as", "ana@desk.test", "--body", "Back on it"]);
    let file = cli.write("b.json", &page(vec![entry(2, 100, 1.25, at(2, 10))]));
    cli.ok(&["import-entries", &file]);
    assert_eq!(cli.json(&["ticket", "show", "1"])["locked"], false, "11.25 h is under 10 + 1.5");
    let file = cli.write("c.json", &page(vec![entry(3, 100, 0.25, at(2, 20))]));
    cli.ok(&["import-entries", &file]);
    assert_eq!(cli.json(&["ticket", "show", "1"])["locked"], true, "11.5 h reaches 10 + 1.5");
    let events: Vec<String> = cli
        .json(&["events"])
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(events, ["approaching", "near", "locked", "unlocked", "locked"]);
}

#[test]
fn importing_the_same_file_twice_leaves_the_same_rows_and_an_edit_updates_hours() {
    let cli = Cli::new();
    cli.create("10", "100");
    let file =
        cli.write("export.json", &page(vec![entry(1, 100, 1.0, at(2, 0)), entry(2, 100, 2.0, at(2, 0))]));
    let first = cli.json(&["import-entries", &file]);
    assert_eq!((first["new"].as_u64(), first["updated"].as_u64()), (Some(2), Some(0)));
    let rows = cli.json(&["timeline", "1"]);
    let second = cli.json(&["import-entries", &file]);
    assert_eq!((second["new"].as_u64(), second["updated"].as_u64()), (Some(0), Some(0)));
    assert_eq!(cli.json(&["timeline", "1"]), rows, "a second import adds nothing");
    let bare = cli.write("edited.json", &Value::Array(vec![entry(2, 100, 3.5, at(2, 30))]));
    let edited = cli.json(&["import-entries", &bare]);
    assert_eq!(edited["updated"].as_u64(), Some(1), "a bare array is accepted and the edit counts");
    assert_eq!(cli.json(&["ticket", "show", "1"])["hours_used"], 4.5);
    let human = cli.ok(&["import-entries", &file]);
    assert!(human.contains("0 new"), "people get a summary: {human}");
}

#[test]
fn a_malformed_file_changes_nothing_and_names_the_problem() {
    let cli = Cli::new();
    cli.create("10", "100");
    let good = cli.write("good.json", &page(vec![entry(1, 100, 1.0, at(2, 0))]));
    cli.ok(&["import-entries", &good]);
    let mut broken = entry(3, 100, 1.0, at(2, 0));
    broken.as_object_mut().expect("object").remove("spent_date");
    let bad = cli.write("bad.json", &page(vec![entry(2, 100, 5.0, at(2, 0)), broken]));
    let error = cli.fails(&["import-entries", &bad]);
    assert!(
        error.contains("#2") && error.contains("spent_date"),
        "the error names the entry and field: {error}"
    );
    let truncated = cli.write_text("cut.json", "{\"time_entries\": [");
    assert!(cli.fails(&["import-entries", &truncated]).contains("not valid JSON"));
    let other = cli.write("other.json", &serde_json::json!({"projects": []}));
    assert!(cli.fails(&["import-entries", &other]).contains("not a Harvest time entries file"));
    assert!(cli.fails(&["import-entries", "/nonexistent/x.json"]).contains("cannot read"));
    assert_eq!(
        cli.json(&["ticket", "show", "1"])["hours_used"],
        1.0,
        "nothing from the bad files was stored"
    );
}

#[test]
fn the_timeline_json_lists_every_kind_in_order() {
    let cli = Cli::new();
    cli.create("10", "100");
    cli.ok(&["message", "1", "--from", "Client Carl", "--body", "Help"]);
    cli.ok(&["reply", "1", "--as", "ana@desk.test", "--body", "On it"]);
    cli.ok(&["note", "1", "--as", "pia@desk.test", "--body", "Watch the budget"]);
    let later_today = chrono::Utc::now() + chrono::Duration::seconds(2);
    let file = cli.write("e.json", &page(vec![referenced(entry(9, 555, 0.5, later_today), 1)]));
    cli.ok(&["import-entries", &file]);
    let items = cli.json(&["timeline", "1"]);
    let items = items.as_array().expect("array");
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!(&kinds[..3], ["message", "response", "note"]);
    let time = items.iter().find(|i| i["kind"] == "time").expect("the time entry is there");
    assert_eq!(time["hours"], 0.5);
    assert_eq!(time["harvest_id"], 9);
    assert_eq!(time["author"], "Ana Agent");
    assert!(time["spent_date"].is_string());
    let reply = &items[1];
    assert_eq!(reply["author"], "Ana Agent");
    assert_eq!(reply["body"], "On it");
    assert_eq!(reply["hours"], Value::Null, "hours, spent_date and harvest_id are null for thread entries");
}

#[test]
fn relinking_through_the_cli_moves_hours_between_projects() {
    let cli = Cli::new();
    cli.create("10", "100");
    let file = cli.write("e.json", &page(vec![entry(1, 100, 1.0, at(2, 0)), entry(2, 200, 4.0, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    let t = cli.json(&["ticket", "link", "1", "--project", "200"]);
    assert_eq!(t["hours_used"], 4.0);
    assert_eq!(t["harvest_project_id"], 200);
}

#[test]
fn bad_input_gets_one_clear_line_and_writes_nothing() {
    let cli = Cli::new();
    assert!(cli.fails(&["ticket", "show", "42"]).contains("ticket #42 does not exist"));
    assert!(cli
        .fails(&["ticket", "create", "--subject", "x", "--budget-hours", "ten"])
        .contains("--budget-hours"));
    assert!(cli
        .fails(&["ticket", "create", "--subject", "x", "--budget-hours", "1.234"])
        .contains("two decimal"));
    assert!(cli
        .fails(&["ticket", "create", "--subject", "x", "--pm", "nobody@desk.test"])
        .contains("nobody@desk.test"));
    assert!(cli
        .fails(&["staff", "add", "--email", "pia@desk.test", "--name", "Again", "--role", "pm"])
        .contains("already exists"));
    assert!(cli
        .fails(&["staff", "add", "--email", "not-an-email", "--name", "X", "--role", "pm"])
        .contains("not an email"));
    assert_eq!(cli.json(&["ticket", "list"]), serde_json::json!([]), "no half-made tickets");
    let set = cli.run(&["ticket", "set", "1", "--status", "done"]);
    assert!(!set.status.success(), "an unknown status is refused");
}

#[test]
fn ticket_set_changes_fields_and_a_budget_raise_lifts_the_lock() {
    let cli = Cli::new();
    cli.create("1", "100");
    let file = cli.write("e.json", &page(vec![entry(1, 100, 1.0, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    assert_eq!(cli.json(&["ticket", "show", "1"])["locked"], true);
    let t = cli.json(&[
        "ticket",
        "set",
        "1",
        "--budget-hours",
        "5",
        "--quoted-hours",
        "4",
        "--status",
        "pending",
    ]);
    assert_eq!(t["locked"], false, "the raise lifts the lock");
    assert_eq!(t["budget_hours"], 5.0);
    assert_eq!(t["quoted_hours"], 4.0);
    assert_eq!(t["status"], "pending");
    assert_eq!(t["band"], "green");
}

#[test]
fn the_database_comes_from_the_db_flag_or_the_environment() {
    let cli = Cli::new();
    let other = TempDb::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_tickettime"))
        .args(["--db", &other.url(), "ticket", "list", "--json"])
        .env("TICKETTIME_DB", cli.db.url())
        .output()
        .expect("runs");
    assert!(out.status.success());
    if !other.is_postgres() {
        assert!(Path::new(&other.path()).exists(), "--db wins over TICKETTIME_DB and creates the file");
    }
    let elsewhere = cli.json(&["ticket", "list"]);
    cli.ok(&["--db", &other.url(), "ticket", "create", "--subject", "Only in the other database"]);
    assert_eq!(cli.json(&["ticket", "list"]), elsewhere, "the ticket went to --db, not TICKETTIME_DB");
}

#[test]
fn summarize_writes_a_short_work_log_note_from_a_reply() {
    let cli = Cli::new();
    let reply = "Hi Sarah,\n\nI've fixed the issue with the SSO login redirect; it works again.\n\nBest regards,\nTom";
    let note = cli.json(&["summarize", "--text", reply]);
    assert_eq!(note["source"], "local", "no model is configured, so nothing leaves the machine");
    let text = note["note"].as_str().expect("a note");
    let words = text.split_whitespace().count();
    assert!((2..=8).contains(&words), "2–8 words: {text}");
    assert!(text.contains("SSO"), "the product name is kept: {text}");
    assert!(
        !text.to_lowercase().contains("regards") && !text.contains("Sarah"),
        "no greeting or signature: {text}"
    );
    let file = cli.write_text("reply.txt", reply);
    assert_eq!(cli.ok(&["summarize", "--file", &file]).trim(), text, "a file gives the same note");
    assert!(cli.fails(&["summarize", "--text", "   "]).contains("nothing to summarize"));
}

#[test]
fn an_agent_requests_an_unlock_and_a_pm_answers_it_from_the_command_line() {
    let cli = Cli::new();
    cli.create("1", "100");
    let file = cli.write("e.json", &page(vec![entry(1, 100, 1.0, at(2, 0))]));
    cli.ok(&["import-entries", &file]);
    let request = cli.json(&[
        "ticket",
        "request-unlock",
        "1",
        "--as",
        "ana@desk.test",
        "--reason",
        "one more fix",
        "--hours",
        "0.5",
    ]);
    assert_eq!(request["state"], "pending");
    let id = request["id"].as_i64().expect("an id").to_string();
    let pending = cli.json(&["ticket", "requests"]);
    assert_eq!(pending.as_array().map(Vec::len), Some(1));
    let answered =
        cli.json(&["ticket", "answer", &id, "--as", "pia@desk.test", "--approve", "--extra-hours", "0.5"]);
    assert_eq!(answered["state"], "approved");
    assert_eq!(answered["extra_granted"], 0.5);
    assert_eq!(cli.json(&["ticket", "show", "1"])["locked"], false, "approval unlocked the ticket");
    assert_eq!(cli.json(&["ticket", "requests"]), serde_json::json!([]), "nothing pending any more");
}

#[test]
fn a_usage_error_is_one_line_that_says_where_to_look() {
    let cli = Cli::new();
    for (args, says) in [
        (&["tickt"][..], "'ticket'"),
        (&["log"][..], "--hours"),
        (&["ticket", "create", "--bogus", "x"][..], "--bogus"),
        (&["log", "1", "--hours"][..], "--hours"),
    ] {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(2), "`{}` is a usage error", args.join(" "));
        let error = String::from_utf8_lossy(&out.stderr);
        assert_eq!(error.trim().lines().count(), 1, "one line: {error}");
        assert!(error.contains(says) && error.contains("tickettime --help"), "{error}");
    }
    let help = cli.run(&["--help"]);
    assert!(
        help.status.success() && String::from_utf8_lossy(&help.stdout).contains("Usage:"),
        "help prints as ever"
    );
}

#[test]
fn a_bad_entry_at_the_end_of_a_long_export_is_one_line_and_changes_nothing() {
    // The file streams in batches (tests/core/store.rs checks their edges):
    // the bad entry comes after 2,000 good ones were already stored.
    let cli = Cli::new();
    cli.create("100000", "100");
    let mut entries: Vec<Value> = (1..=2_000).map(|id| entry(id, 100, 0.25, at(2, 0))).collect();
    let mut broken = entry(9_999, 100, 1.0, at(2, 0));
    broken.as_object_mut().expect("an object").remove("hours");
    let with_broken = cli.write("broken.json", &page([entries.clone(), vec![broken]].concat()));
    let error = cli.fails(&["import-entries", &with_broken]);
    assert!(
        error.contains("broken.json: time entry #2001 (9999) is not a valid Harvest time entry")
            && error.contains("missing field `hours`")
            && !error.contains("line 1 column"),
        "one line naming the file, the entry and the field: {error}"
    );
    assert_eq!(cli.json(&["ticket", "show", "1"])["hours_used"], 0.0, "nothing stored from the bad file");

    entries.truncate(1_000);
    let good = cli.write("good.json", &page(entries));
    let report = cli.json(&["import-entries", &good]);
    assert_eq!((report["new"].as_u64(), report["unchanged"].as_u64()), (Some(1_000), Some(0)), "{report}");
    assert_eq!(cli.json(&["ticket", "show", "1"])["hours_used"], 250.0);
}

#[test]
fn an_import_killed_part_way_keeps_nothing_of_its_file_and_the_next_one_imports_it_all() {
    let cli = Cli::new();
    cli.create("100000", "100");
    let entries: Vec<Value> = (1..=40_000).map(|id| entry(id, 100, 0.25, at(2, 0))).collect();
    let file = cli.write("long.json", &page(entries));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let count = || -> i64 {
        runtime.block_on(async {
            let store = tickettime::Store::open(&cli.db.url()).await.expect("opens");
            let rows = sqlx::query_scalar("SELECT COUNT(*) FROM time_entries").fetch_one(store.pool()).await;
            store.close().await;
            rows.expect("a count")
        })
    };
    // Killed (SIGKILL) at several points of its run: each time the file's
    // rows are all there or none is.
    let mut killed_running = false;
    for wait_ms in [5, 40, 120, 300] {
        let mut import = Command::new(env!("CARGO_BIN_EXE_tickettime"))
            .args(["import-entries", &file])
            .env("TICKETTIME_DB", cli.db.url())
            .env("TICKETTIME_CACHE_DIR", cli.db.dir.path())
            .env("TICKETTIME_KEYCHAIN_SERVICE", format!("tickettime-test-cli-{}", std::process::id()))
            .env_remove("HARVEST_ACCESS_TOKEN")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the import starts");
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        killed_running |= import.try_wait().ok().flatten().is_none();
        let _ = import.kill();
        let _ = import.wait();
        let stored = count();
        assert!(stored == 0 || stored == 40_000, "after a kill at {wait_ms} ms: {stored} of 40,000 rows");
        if stored == 40_000 {
            break;
        }
    }
    assert!(killed_running, "at least one kill hit a running import");
    let report = cli.json(&["import-entries", &file]);
    assert_eq!(
        report["new"].as_u64().unwrap_or(0) + report["unchanged"].as_u64().unwrap_or(0),
        40_000,
        "the next import completes it: {report}"
    );
    assert_eq!(cli.json(&["ticket", "show", "1"])["hours_used"], 10_000.0, "every entry once");
}
