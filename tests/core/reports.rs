//! The agent's day and the PM's foresight through the `tickettime` command,
//! two people taking turns on one file with their own Harvest tokens: the
//! week timesheet, a ticket's export, the gap finder, the lock forecast and
//! the budgets overview, and the guard against a second person's timer.

use crate::harvest::Desk;
use crate::support;

use chrono::{Datelike, Local};
use harvest_sim::Simulator;
use serde_json::Value;

const ANA: &str = Simulator::MEMBER_TOKEN;
const PIA: &str = Simulator::MANAGER_TOKEN;
const ADA: &str = Simulator::ADMIN_TOKEN;

fn this_week() -> String {
    let week = Local::now().date_naive().iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

fn today() -> String {
    Local::now().date_naive().to_string()
}

async fn fails_as(desk: &Desk, token: &str, args: &[&str]) -> String {
    support::error_of(args, desk.run_as(token, args).await)
}

/// The day of the week's JSON for today.
fn day<'a>(sheet: &'a Value, date: &str) -> &'a Value {
    sheet["days"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["date"] == date))
        .expect("the day is in the week")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timesheet_is_my_week_and_a_pm_reads_an_agents_but_not_the_reverse() {
    let desk = Desk::new(ANA).await;
    let (ticket, _, _) = desk.ticket("40").await;
    let t = ticket.to_string();
    desk.ok(&["log", &t, "--hours", "0.5", "--notes", "VPN logs"]).await;
    desk.ok(&["log", &t, "--hours", "0.75", "--notes", "Called the client"]).await;
    desk.ok_as(PIA, &["log", &t, "--hours", "2"]).await;

    let mine = desk.json(&["timesheet", "--week", &this_week()]).await;
    assert_eq!(mine["week"], this_week());
    assert_eq!(mine["person"], "Ana Alvarez");
    assert_eq!(mine["days"].as_array().map(Vec::len), Some(7), "Monday to Sunday");
    let today_row = day(&mine, &today());
    assert_eq!(today_row["total"], 1.25, "Ana's two entries, not Pia's: {today_row}");
    assert_eq!(today_row["tickets"][0]["ticket"], ticket);
    assert_eq!(today_row["tickets"][0]["notes"], serde_json::json!(["VPN logs", "Called the client"]));

    let error = fails_as(&desk, ANA, &["timesheet", "--user", "pia@demo.test"]).await;
    assert!(error.contains("read another person's time"), "an agent reads only her own: {error}");
    let hers = desk.json_as(PIA, &["timesheet", "--user", "ana@demo.test"]).await;
    assert_eq!(day(&hers, &today())["total"], 1.25, "a PM reads Ana's week");
    let own = desk.json_as(PIA, &["timesheet"]).await;
    assert_eq!(day(&own, &today())["total"], 2.0);

    let csv = desk.ok(&["timesheet", "--csv"]).await;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("date,ticket,subject,hours,notes"));
    assert_eq!(
        lines.next(),
        Some(format!("{},{ticket},VPN drops,1.25,VPN logs; Called the client", today()).as_str())
    );
    let error = fails_as(&desk, ANA, &["timesheet", "--week", "2026-W54"]).await;
    assert!(error.contains("not an ISO week"), "{error}");
    let error = fails_as(&desk, PIA, &["timesheet", "--user", "nobody@demo.test"]).await;
    assert!(error.contains("no member of staff has the email nobody@demo.test"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tickets_entries_export_as_csv_with_a_header() {
    let desk = Desk::new(ANA).await;
    let (ticket, _, _) = desk.ticket("40").await;
    let t = ticket.to_string();
    let sent = desk.json(&["log", &t, "--hours", "0.5", "--notes", "Reset, then \"tested\""]).await;
    let id = sent["harvest_id"].as_i64().expect("sent");
    let csv = desk.ok(&["export", "--ticket", &t, "--csv"]).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "date,person,hours,task,notes,harvest_id");
    assert!(
        lines.contains(
            &format!("{},Ana Alvarez,0.50,Support,\"Reset, then \"\"tested\"\"\",{id}", today()).as_str()
        ),
        "one row per entry, quoted where needed: {csv}"
    );
    let error = fails_as(&desk, ANA, &["export", "--ticket", "999", "--csv"]).await;
    assert!(error.contains("999"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn gaps_are_replies_and_notes_without_time_that_day() {
    let desk = Desk::new(ANA).await;
    let (ticket, _, _) = desk.ticket("40").await;
    let (other, _, _) = desk.ticket("40").await;
    let (t, o) = (ticket.to_string(), other.to_string());
    desk.ok(&["reply", &t, "--body", "Looking into it"]).await;
    desk.ok(&["note", &o, "--body", "Logs attached", "--hours", "0.25"]).await;
    let gaps = desk.json(&["gaps", "--days", "7"]).await;
    let gaps = gaps.as_array().expect("a list");
    assert_eq!(gaps.len(), 1, "the note came with time, the reply did not: {gaps:?}");
    assert_eq!((gaps[0]["ticket"].as_i64(), gaps[0]["kind"].as_str()), (Some(ticket), Some("response")));
    assert!(gaps[0]["at"].as_str().is_some_and(|a| a.starts_with(&today()[..4])), "{}", gaps[0]);

    // Time logged later that day closes the gap.
    desk.ok(&["log", &t, "--hours", "0.25"]).await;
    assert_eq!(desk.json(&["gaps"]).await, serde_json::json!([]));
    // A PM may look at Ana's; Ana may not look at the PM's.
    assert_eq!(desk.json_as(PIA, &["gaps", "--user", "ana@demo.test"]).await, serde_json::json!([]));
    let error = fails_as(&desk, ANA, &["gaps", "--user", "pia@demo.test"]).await;
    assert!(error.contains("read another person's time"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lock_forecast_follows_the_pace_and_the_budgets_overview_lists_it() {
    let desk = Desk::new(ANA).await;
    // The seed's Acme VPN entries (1.5 h five days ago, 1.25 h yesterday)
    // arrive with a sync, so a linked ticket has 2.75 h of pace already.
    let (ticket, _, _) = desk.ticket("10").await;
    desk.ok_as(ADA, &["sync"]).await;
    let t = ticket.to_string();
    let shown = desk.json(&["ticket", "show", &t]).await;
    let used = shown["hours_used"].as_f64().expect("hours");
    // Left: 10 − used; pace: used ÷ 14 a day (every entry is recent).
    let days = ((10.0 - used) * 14.0 / used).ceil() as u64;
    let expected = Local::now().date_naive() + chrono::Days::new(days);
    assert_eq!(shown["forecast_lock_on"], expected.to_string(), "{shown}");

    let no_budget = desk.ok_as(PIA, &["ticket", "create", "--subject", "Printer"]).await;
    assert_eq!(desk.json(&["ticket", "show", no_budget.trim()]).await["forecast_lock_on"], Value::Null);

    let csv = desk.ok(&["budgets", "--csv"]).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ticket,subject,band,utilization_pct,hours_used,budget_hours,locked,forecast_lock_on")
    );
    let row = lines.next().expect("the ticket with a budget");
    assert!(
        row.starts_with(&format!("{ticket},VPN drops,")) && row.ends_with(&expected.to_string()),
        "{row}"
    );
    assert_eq!(lines.next(), None, "a ticket without a budget is not in the overview");
    let json = desk.json(&["budgets"]).await;
    assert_eq!(json[0]["forecast_lock_on"], expected.to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_elses_timer_on_a_ticket_asks_before_a_second_starts() {
    let desk = Desk::new(ANA).await;
    let (ticket, _, _) = desk.ticket("40").await;
    let t = ticket.to_string();
    // Ada runs a timer on it; her import stores it for everyone on the file.
    desk.ok_as(ADA, &["timer", "start", &t]).await;
    desk.ok_as(ADA, &["sync"]).await;
    let shown = desk.json(&["ticket", "show", &t]).await;
    assert_eq!(shown["running_timers"][0]["user"], "Ada Admin", "{shown}");

    let error = fails_as(&desk, ANA, &["timer", "start", &t]).await;
    assert!(
        error.contains("Ada Admin's timer runs on #")
            && error.contains("start yours too?")
            && error.contains("--yes"),
        "{error}"
    );
    desk.ok(&["timer", "start", &t, "--yes"]).await;
    // Her own running timer never asks her.
    desk.ok_as(ADA, &["timer", "stop"]).await;
    desk.ok_as(ADA, &["sync"]).await;
    desk.ok(&["timer", "start", &t]).await;
}
