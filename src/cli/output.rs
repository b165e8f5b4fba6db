//! How the CLI prints: plain text for people, JSON (the contract) for scripts.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::timeline::{Item, ItemKind};
use crate::domain::{EventKind, Hours, Utilization};
use crate::store::{EventRecord, RequestState, Staff, TicketView, UnlockRequest};

/// A progress bar on stderr for a long run: hidden with `--json` and when
/// stderr is not a terminal (indicatif draws nothing there).
pub fn progress(json: bool, template: &str) -> indicatif::ProgressBar {
    if json {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    indicatif::ProgressBar::new(0).with_style(style)
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("—")
}

fn hours(value: Option<Hours>) -> String {
    value.map_or_else(|| "—".to_owned(), |h| h.to_string())
}

/// A ticket as the CLI's JSON contract has it. The core's exact hours
/// (text across the desktop's IPC) are JSON numbers here; a number made from
/// hundredths prints as its exact two-decimal text (`0.07`, never
/// `0.07000000000000001`).
#[derive(Serialize)]
pub struct TicketJson<'a> {
    number: i64,
    subject: &'a str,
    status: &'a str,
    client: Option<&'a str>,
    agent: Option<&'a str>,
    pm: Option<&'a str>,
    harvest_project_id: Option<i64>,
    harvest_project_name: Option<&'a str>,
    budget_hours: Option<f64>,
    quoted_hours: Option<f64>,
    hours_used: f64,
    extra_hours: f64,
    utilization_pct: Option<f64>,
    band: Option<crate::domain::Band>,
    locked: bool,
    lock_reason: Option<&'a str>,
    /// `local`, `osticket` or `zendesk`.
    source: &'a str,
    /// The desk's number for the ticket, as text.
    source_number: Option<&'a str>,
    source_url: Option<&'a str>,
    /// ISO date, or null (no budget, no pace, or locked).
    forecast_lock_on: Option<chrono::NaiveDate>,
    running_timers: &'a [crate::store::RunningTimer],
}

impl<'a> From<&'a TicketView> for TicketJson<'a> {
    fn from(t: &'a TicketView) -> Self {
        TicketJson {
            number: t.number,
            subject: &t.subject,
            status: &t.status,
            client: t.client.as_deref(),
            agent: t.agent.as_deref(),
            pm: t.pm.as_deref(),
            harvest_project_id: t.harvest_project_id,
            harvest_project_name: t.harvest_project_name.as_deref(),
            budget_hours: t.budget_hours.map(Hours::as_f64),
            quoted_hours: t.quoted_hours.map(Hours::as_f64),
            hours_used: t.hours_used.as_f64(),
            extra_hours: t.extra_hours.as_f64(),
            utilization_pct: t.utilization_pct.map(Utilization::percent),
            band: t.band,
            locked: t.locked,
            lock_reason: t.lock_reason.as_deref(),
            source: &t.source,
            source_number: t.source_number.as_deref(),
            source_url: t.source_url.as_deref(),
            forecast_lock_on: t.forecast_lock_on,
            running_timers: &t.running_timers,
        }
    }
}

/// An unlock request in the CLI's JSON (hours as numbers, as for tickets).
#[derive(Serialize)]
pub struct RequestJson<'a> {
    id: i64,
    ticket: i64,
    requested_by: &'a str,
    reason: &'a str,
    hours: Option<f64>,
    state: RequestState,
    answered_by: Option<&'a str>,
    answer_note: Option<&'a str>,
    extra_granted: Option<f64>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a UnlockRequest> for RequestJson<'a> {
    fn from(r: &'a UnlockRequest) -> Self {
        RequestJson {
            id: r.id,
            ticket: r.ticket,
            requested_by: &r.requested_by,
            reason: &r.reason,
            hours: r.hours.map(Hours::as_f64),
            state: r.state,
            answered_by: r.answered_by.as_deref(),
            answer_note: r.answer_note.as_deref(),
            extra_granted: r.extra_granted.map(Hours::as_f64),
            created_at: r.created_at,
        }
    }
}

/// Outbox items in the CLI's JSON: the core's fields, hours as a number
/// (as for tickets).
pub fn outbox_json(items: &[crate::store::OutboxItem]) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            let mut row = serde_json::to_value(item)?;
            row["hours"] = serde_json::json!(item.hours.as_f64());
            Ok(row)
        })
        .collect::<serde_json::Result<_>>()?;
    json(&rows)
}

pub fn request_json(request: &UnlockRequest) -> anyhow::Result<()> {
    json(&RequestJson::from(request))
}

pub fn requests_json(requests: &[UnlockRequest]) -> anyhow::Result<()> {
    json(&requests.iter().map(RequestJson::from).collect::<Vec<_>>())
}

fn utilization(ticket: &TicketView) -> String {
    match (ticket.utilization_pct, ticket.band) {
        (Some(pct), Some(band)) => format!("{pct} % ({})", band.as_str()),
        _ => "Budget not set".to_owned(),
    }
}

pub fn ticket(ticket: &TicketView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(&TicketJson::from(ticket));
    }
    let project = match (ticket.harvest_project_id, &ticket.harvest_project_name) {
        (Some(id), Some(name)) => format!("{name} ({id})"),
        (Some(id), None) => id.to_string(),
        _ => "—".to_owned(),
    };
    println!(
        "#{} {} [{}]{}",
        ticket.number,
        ticket.subject,
        ticket.status,
        if ticket.locked { "  OVER BUDGET" } else { "" }
    );
    if ticket.source != "local" {
        let number = ticket.source_number.as_deref().map(|n| format!(" #{n}")).unwrap_or_default();
        let link = ticket.source_url.as_deref().map(|u| format!("  {u}")).unwrap_or_default();
        println!("  From:            {}{number}{link}", desk_title(&ticket.source));
    }
    println!("  Client:          {}", or_dash(ticket.client.as_deref()));
    println!("  Agent:           {}", or_dash(ticket.agent.as_deref()));
    println!("  PM:              {}", or_dash(ticket.pm.as_deref()));
    println!("  Harvest project: {project}");
    println!("  Budget hours:    {}", hours(ticket.budget_hours));
    println!("  Quoted hours:    {}", hours(ticket.quoted_hours));
    println!("  Hours used:      {}", ticket.hours_used);
    println!("  Utilization:     {}", utilization(ticket));
    if ticket.extra_hours > Hours::ZERO {
        println!("  Extra hours:     {}", ticket.extra_hours);
    }
    if let Some(reason) = &ticket.lock_reason {
        println!("  Locked:          {reason}");
    }
    Ok(())
}

fn desk_title(source: &str) -> &str {
    match crate::desk::DeskKind::parse(source) {
        Some(kind) => kind.title(),
        None => source,
    }
}

pub fn tickets(tickets: &[TicketView], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(&tickets.iter().map(TicketJson::from).collect::<Vec<_>>());
    }
    if tickets.is_empty() {
        println!("No tickets yet. Create one with `tickettime ticket create --subject …`.");
        return Ok(());
    }
    println!("{:>6}  {:<9} {:>8} {:>8}  {:<22} SUBJECT", "#", "STATUS", "USED", "BUDGET", "UTILIZATION");
    for t in tickets {
        let lock = if t.locked { " [Over Budget]" } else { "" };
        println!(
            "{:>6}  {:<9} {:>8} {:>8}  {:<22} {}{lock}",
            t.number,
            t.status,
            t.hours_used.to_string(),
            hours(t.budget_hours),
            utilization(t),
            t.subject
        );
    }
    Ok(())
}

pub fn staff(staff: &[Staff], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(staff);
    }
    for s in staff {
        println!("{:<6} {} <{}>", s.role.as_str(), s.name, s.email);
    }
    Ok(())
}

/// A timeline row as the contract names it.
#[derive(Serialize)]
struct TimelineRow<'a> {
    kind: ItemKind,
    at: chrono::DateTime<chrono::Utc>,
    author: &'a str,
    body: Option<&'a str>,
    hours: Option<f64>,
    spent_date: Option<chrono::NaiveDate>,
    harvest_id: Option<i64>,
}

pub fn timeline(items: &[Item], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let rows: Vec<TimelineRow<'_>> = items
            .iter()
            .map(|i| TimelineRow {
                kind: i.kind,
                at: i.at,
                author: &i.author,
                body: i.body.as_deref(),
                hours: i.hours.map(|h| h.as_f64()),
                spent_date: i.spent_date,
                harvest_id: i.harvest_id,
            })
            .collect();
        return json(&rows);
    }
    if items.is_empty() {
        println!("Nothing on this ticket yet.");
    }
    for item in items {
        match item.kind {
            ItemKind::Time => println!(
                "[time]     {} {} logged {} h{}",
                item.spent_date.map(|d| d.to_string()).unwrap_or_default(),
                item.author,
                item.hours.map(|h| h.to_string()).unwrap_or_default(),
                item.body.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
            ),
            kind => println!(
                "[{:<8}] {} {}: {}",
                match kind {
                    ItemKind::Message => "message",
                    ItemKind::Response => "response",
                    _ => "note",
                },
                item.at.format("%Y-%m-%d %H:%M"),
                item.author,
                item.body.as_deref().unwrap_or_default()
            ),
        }
    }
    Ok(())
}

/// A budget event in the CLI's JSON: utilization as a number.
#[derive(Serialize)]
struct EventJson {
    ticket: i64,
    kind: EventKind,
    utilization_pct: Option<f64>,
    at: DateTime<Utc>,
}

pub fn events(events: &[EventRecord], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let events: Vec<EventJson> = events
            .iter()
            .map(|e| EventJson {
                ticket: e.ticket,
                kind: e.kind,
                utilization_pct: e.utilization_pct.map(Utilization::percent),
                at: e.at,
            })
            .collect();
        return json(&events);
    }
    if events.is_empty() {
        println!("No budget events yet.");
    }
    for e in events {
        println!(
            "{}  #{:<6} {:<11} {}",
            e.at.format("%Y-%m-%d %H:%M"),
            e.ticket,
            e.kind.as_str(),
            e.utilization_pct.map(|p| format!("{p} %")).unwrap_or_default()
        );
    }
    Ok(())
}

/// A timesheet in the CLI's JSON: hours as numbers.
#[derive(Serialize)]
pub struct TimesheetJson<'a> {
    week: &'a str,
    person: &'a str,
    total: f64,
    days: Vec<TimesheetDayJson<'a>>,
}

#[derive(Serialize)]
struct TimesheetDayJson<'a> {
    date: chrono::NaiveDate,
    total: f64,
    tickets: Vec<TimesheetLineJson<'a>>,
}

#[derive(Serialize)]
struct TimesheetLineJson<'a> {
    ticket: Option<i64>,
    subject: Option<&'a str>,
    hours: f64,
    notes: &'a [String],
}

impl<'a> From<&'a crate::report::Timesheet> for TimesheetJson<'a> {
    fn from(sheet: &'a crate::report::Timesheet) -> Self {
        TimesheetJson {
            week: &sheet.week,
            person: &sheet.person,
            total: sheet.total.as_f64(),
            days: sheet
                .days
                .iter()
                .map(|day| TimesheetDayJson {
                    date: day.date,
                    total: day.total.as_f64(),
                    tickets: day
                        .lines
                        .iter()
                        .map(|line| TimesheetLineJson {
                            ticket: line.ticket,
                            subject: line.subject.as_deref(),
                            hours: line.hours.as_f64(),
                            notes: &line.notes,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A line of the budgets overview in the CLI's JSON.
#[derive(Serialize)]
pub struct BudgetJson<'a> {
    ticket: i64,
    subject: &'a str,
    band: Option<crate::domain::Band>,
    utilization_pct: Option<f64>,
    hours_used: f64,
    budget_hours: Option<f64>,
    locked: bool,
    forecast_lock_on: Option<chrono::NaiveDate>,
}

impl<'a> From<&crate::report::BudgetLine<'a>> for BudgetJson<'a> {
    fn from(line: &crate::report::BudgetLine<'a>) -> Self {
        BudgetJson {
            ticket: line.ticket,
            subject: line.subject,
            band: line.band,
            utilization_pct: line.utilization_pct.map(Utilization::percent),
            hours_used: line.hours_used.as_f64(),
            budget_hours: line.budget_hours.map(Hours::as_f64),
            locked: line.locked,
            forecast_lock_on: line.forecast_lock_on,
        }
    }
}
