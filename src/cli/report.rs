//! `timesheet`, `export`, `gaps` and `budgets`: the reports, as text, JSON or CSV.

use chrono::{DateTime, Local, Utc};

use super::harvest::session;
use super::output;
use crate::domain::{Email, TicketNumber};
use crate::report::{self, Week};
use crate::store::Store;

fn user(email: Option<&str>) -> anyhow::Result<Option<Email>> {
    email.map(super::email_arg).transpose()
}

pub async fn timesheet(
    store: &Store,
    week: Option<&str>,
    email: Option<&str>,
    csv: bool,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let session = session(store, None, now).await?;
    let person = report::person(&session, user(email)?.as_ref()).await?;
    let week = match week {
        Some(text) => Week::parse(text)?,
        None => Week::of(now.with_timezone(&Local).date_naive()),
    };
    let sheet = report::timesheet(&session, &person, week).await?;
    if csv {
        print!("{}", report::timesheet_csv(&sheet));
    } else if json {
        output::json(&output::TimesheetJson::from(&sheet))?;
    } else {
        println!("{} — {}", sheet.week, sheet.person);
        for day in &sheet.days {
            let lines: Vec<String> = day
                .lines
                .iter()
                .map(|l| {
                    let ticket = l.ticket.map_or_else(|| "no ticket".to_owned(), |t| format!("#{t}"));
                    format!("{ticket} {} h", l.hours)
                })
                .collect();
            println!(
                "{}  {:>6} h  {}",
                day.date.format("%a %d %b"),
                day.total.to_string(),
                lines.join(" · ")
            );
        }
        println!("Week total: {} h", sheet.total);
    }
    Ok(())
}

/// CSV, or with `--json` the same rows as objects (hours as numbers).
pub async fn export(
    store: &Store,
    ticket: TicketNumber,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let session = session(store, None, now).await?;
    if !json {
        print!("{}", report::ticket_csv(&session, ticket).await?);
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = store
        .ticket_entries(ticket)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "date": e.spent_date, "person": e.person, "hours": e.hours.as_f64(), "task": e.task,
                "notes": e.notes, "harvest_id": e.harvest_id,
            })
        })
        .collect();
    output::json(&rows)
}

pub async fn gaps(
    store: &Store,
    email: Option<&str>,
    days: u32,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let session = session(store, None, now).await?;
    let person = report::person(&session, user(email)?.as_ref()).await?;
    let gaps = report::gaps(&session, &person, days, now, &Local).await?;
    if json {
        return output::json(&gaps);
    }
    if gaps.is_empty() {
        println!("No gaps: {} logged time with every reply and note of the last {days} days.", person.name);
    }
    for gap in gaps {
        println!(
            "#{:<5} {} {:<8} no time logged by {} that day",
            gap.ticket,
            gap.at.with_timezone(&Local).format("%a %d %b %H:%M"),
            gap.kind.as_str(),
            person.name
        );
    }
    Ok(())
}

pub async fn budgets(store: &Store, csv: bool, json: bool) -> anyhow::Result<()> {
    let tickets = store.tickets().await?;
    let lines = report::budgets(&tickets);
    if csv {
        print!("{}", report::budgets_csv(&lines));
    } else if json {
        output::json(&lines.iter().map(output::BudgetJson::from).collect::<Vec<_>>())?;
    } else {
        for line in &lines {
            let forecast = line
                .forecast_lock_on
                .map(|d| format!(" · locks around {}", d.format("%a %d %b")))
                .unwrap_or_default();
            let state = if line.locked { " · LOCKED" } else { "" };
            println!(
                "#{:<5} {:>7} %  {} / {} h  {}{state}{forecast}",
                line.ticket,
                line.utilization_pct.map(|u| u.to_string()).unwrap_or_default(),
                line.hours_used,
                line.budget_hours.map(|h| h.to_string()).unwrap_or_default(),
                line.subject
            );
        }
    }
    Ok(())
}
