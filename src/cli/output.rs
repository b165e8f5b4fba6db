//! How the CLI prints: plain text for people, JSON (the contract) for scripts.

use serde::Serialize;

use crate::domain::timeline::{Item, ItemKind};
use crate::store::{EventRecord, Staff, TicketView};

pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("—")
}

fn hours(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |h| format!("{h:.2}"))
}

fn utilization(ticket: &TicketView) -> String {
    match (ticket.utilization_pct, ticket.band) {
        (Some(pct), Some(band)) => format!("{pct:.2} % ({})", band.as_str()),
        _ => "Budget not set".to_owned(),
    }
}

pub fn ticket(ticket: &TicketView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(ticket);
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
    println!("  Client:          {}", or_dash(ticket.client.as_deref()));
    println!("  Agent:           {}", or_dash(ticket.agent.as_deref()));
    println!("  PM:              {}", or_dash(ticket.pm.as_deref()));
    println!("  Harvest project: {project}");
    println!("  Budget hours:    {}", hours(ticket.budget_hours));
    println!("  Quoted hours:    {}", hours(ticket.quoted_hours));
    println!("  Hours used:      {:.2}", ticket.hours_used);
    println!("  Utilization:     {}", utilization(ticket));
    if ticket.extra_hours > 0.0 {
        println!("  Extra hours:     {:.2}", ticket.extra_hours);
    }
    if let Some(reason) = &ticket.lock_reason {
        println!("  Locked:          {reason}");
    }
    Ok(())
}

pub fn tickets(tickets: &[TicketView], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(tickets);
    }
    if tickets.is_empty() {
        println!("No tickets yet. Create one with `tickettime ticket create --subject …`.");
        return Ok(());
    }
    println!("{:>6}  {:<9} {:>8} {:>8}  {:<22} SUBJECT", "#", "STATUS", "USED", "BUDGET", "UTILIZATION");
    for t in tickets {
        let lock = if t.locked { " [Over Budget]" } else { "" };
        println!(
            "{:>6}  {:<9} {:>8.2} {:>8}  {:<22} {}{lock}",
            t.number,
            t.status,
            t.hours_used,
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

pub fn events(events: &[EventRecord], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(events);
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
            e.utilization_pct.map(|p| format!("{p:.2} %")).unwrap_or_default()
        );
    }
    Ok(())
}
