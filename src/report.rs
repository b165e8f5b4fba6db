//! What people read back: a person's week timesheet, a ticket's entries as
//! an export, the replies and notes written without time logged (gaps), and
//! the budgets overview; and the CSV they are written as. The CLI and the
//! window both call these.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, IsoWeek, NaiveDate, Utc, Weekday};
use serde::Serialize;

use crate::domain::{Email, Hours, ThreadKind, TicketNumber};
use crate::session::Session;
use crate::store::{EntryLine, Person, TicketView};
use crate::{Error, Result};

/// Whose report: `email`, or the session's own person. Another person's
/// report is a PM's or admin's to read.
pub async fn person(session: &Session, email: Option<&Email>) -> Result<Person> {
    let me = session.actor.staff().map(|s| s.email.clone());
    match email {
        Some(email) if me.as_deref().is_none_or(|me| !me.eq_ignore_ascii_case(email.as_str())) => {
            session.actor.require_manager("read another person's time")?;
            session.store.person(email).await
        }
        _ => {
            if let Some(harvest) = session.actor.harvest() {
                return Ok(Person {
                    staff_id: session.actor.staff_id(),
                    email: Some(harvest.email.clone()),
                    name: harvest.name.clone(),
                    harvest_user_id: harvest.user_id,
                });
            }
            match session.actor.staff() {
                Some(staff) => {
                    session.store.person(&Email::parse(&staff.email).map_err(Error::Invalid)?).await
                }
                None => Err(Error::Invalid(
                    "whose time? Connect to Harvest (your own), or name a person with --user EMAIL".into(),
                )),
            }
        }
    }
}

/// An ISO week (`2026-W48`), Monday to Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Week(IsoWeek);

impl Week {
    /// The week a day falls in.
    pub fn of(day: NaiveDate) -> Week {
        Week(day.iso_week())
    }

    /// `2026-W48` (also `2026-w48`, `2026W48`).
    pub fn parse(text: &str) -> Result<Week> {
        let bad = || Error::Invalid(format!("`{text}` is not an ISO week (e.g. 2026-W48)"));
        let upper = text.trim().to_ascii_uppercase();
        let (year, week) = upper.split_once('W').ok_or_else(bad)?;
        let year: i32 = year.trim_end_matches('-').parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        // Four-digit years: spent dates are compared as YYYY-MM-DD text.
        if !(1..=9999).contains(&year) {
            return Err(bad());
        }
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(Week::of).ok_or_else(bad)
    }

    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.0.year(), self.0.week(), Weekday::Mon).unwrap_or_default()
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday() + chrono::Days::new(6)
    }

    pub fn previous(self) -> Week {
        Week::of(self.monday() - chrono::Days::new(7))
    }

    pub fn next(self) -> Week {
        Week::of(self.monday() + chrono::Days::new(7))
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-W{:02}", self.0.year(), self.0.week())
    }
}

/// One person's hours on one ticket on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimesheetLine {
    /// `None` for an entry of a linked project that belongs to no ticket.
    pub ticket: Option<i64>,
    pub subject: Option<String>,
    pub hours: Hours,
    /// The entries' notes, in order, each once.
    pub notes: Vec<String>,
}

/// One day of a timesheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimesheetDay {
    pub date: NaiveDate,
    pub total: Hours,
    pub lines: Vec<TimesheetLine>,
}

/// A person's week: hours per day and ticket, day totals, the week's total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Timesheet {
    /// `2026-W48`.
    pub week: String,
    /// The weeks before and after, for paging.
    pub previous: String,
    pub next: String,
    pub person: String,
    /// Monday to Sunday, every day (an empty day has no lines).
    pub days: Vec<TimesheetDay>,
    pub total: Hours,
}

/// The week's timesheet of `person`.
pub async fn timesheet(session: &Session, person: &Person, week: Week) -> Result<Timesheet> {
    let entries = session.store.entries_of(person.harvest_user_id, week.monday(), week.sunday()).await?;
    Ok(build_timesheet(week, &person.name, &entries))
}

/// The timesheet of these entries (already the person's, in the week).
pub fn build_timesheet(week: Week, person: &str, entries: &[EntryLine]) -> Timesheet {
    let mut days: Vec<TimesheetDay> = (0..7)
        .map(|d| TimesheetDay {
            date: week.monday() + chrono::Days::new(d),
            total: Hours::ZERO,
            lines: Vec::new(),
        })
        .collect();
    let mut total = Hours::ZERO;
    for entry in entries {
        let Some(day) = days.iter_mut().find(|d| d.date == entry.spent_date) else { continue };
        day.total = day.total + entry.hours;
        total = total + entry.hours;
        let line = match day.lines.iter_mut().find(|l| l.ticket == entry.ticket) {
            Some(line) => line,
            None => {
                day.lines.push(TimesheetLine {
                    ticket: entry.ticket,
                    subject: entry.subject.clone(),
                    hours: Hours::ZERO,
                    notes: Vec::new(),
                });
                day.lines.last_mut().expect("just pushed")
            }
        };
        line.hours = line.hours + entry.hours;
        if let Some(note) = entry.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            if !line.notes.iter().any(|n| n == note) {
                line.notes.push(note.to_owned());
            }
        }
    }
    Timesheet {
        week: week.to_string(),
        previous: week.previous().to_string(),
        next: week.next().to_string(),
        person: person.to_owned(),
        days,
        total,
    }
}

/// The timesheet as CSV: a row per day and ticket, under a header.
pub fn timesheet_csv(sheet: &Timesheet) -> String {
    let mut csv = Csv::new(&["date", "ticket", "subject", "hours", "notes"]);
    for day in &sheet.days {
        for line in &day.lines {
            csv.row(&[
                day.date.to_string(),
                line.ticket.map(|t| t.to_string()).unwrap_or_default(),
                line.subject.clone().unwrap_or_default(),
                line.hours.to_string(),
                line.notes.join("; "),
            ]);
        }
    }
    csv.finish()
}

/// A ticket's entries as CSV: a row per entry (date, person, hours, task,
/// notes, Harvest id) under a header.
pub async fn ticket_csv(session: &Session, number: TicketNumber) -> Result<String> {
    let entries = session.store.ticket_entries(number).await?;
    let mut csv = Csv::new(&["date", "person", "hours", "task", "notes", "harvest_id"]);
    for entry in entries {
        csv.row(&[
            entry.spent_date.to_string(),
            entry.person,
            entry.hours.to_string(),
            entry.task,
            entry.notes.unwrap_or_default(),
            entry.harvest_id.to_string(),
        ]);
    }
    Ok(csv.finish())
}

/// A reply or note written on a day its writer logged no time on its ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Gap {
    pub ticket: i64,
    pub subject: Option<String>,
    pub at: DateTime<Utc>,
    /// `response` or `note`.
    pub kind: ThreadKind,
    /// The writer's day, in their time zone (the day time would be logged on).
    pub date: NaiveDate,
}

/// The gaps of `person` over the last `days` days (today included), each
/// reply's day read in `zone` at its own time (a window across a daylight
/// saving change puts 23:30 on the right day).
pub async fn gaps<Tz: chrono::TimeZone>(
    session: &Session,
    person: &Person,
    days: u32,
    now: DateTime<Utc>,
    zone: &Tz,
) -> Result<Vec<Gap>> {
    let Some(staff_id) = person.staff_id else { return Ok(Vec::new()) };
    if !(1..=366).contains(&days) {
        return Err(Error::Invalid("--days must be 1 to 366".into()));
    }
    let today = now.with_timezone(zone).date_naive();
    let first = today - chrono::Days::new(u64::from(days) - 1);
    let since = first
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(zone.clone()).earliest())
        .map(|t| t.to_utc());
    let since = since.unwrap_or(now);
    let store = &session.store;
    let written = store.written_by(staff_id, since).await?;
    let mut logged: HashSet<(i64, NaiveDate)> = store
        .entries_of(person.harvest_user_id, first, today)
        .await?
        .into_iter()
        .filter_map(|e| e.ticket.map(|t| (t, e.spent_date)))
        .collect();
    logged.extend(store.queued_days(staff_id, first).await?);
    let mut gaps: Vec<Gap> = written
        .into_iter()
        .filter_map(|w| {
            let date = w.at.with_timezone(zone).date_naive();
            (!logged.contains(&(w.ticket, date))).then_some(Gap {
                ticket: w.ticket,
                subject: None,
                at: w.at,
                kind: w.kind,
                date,
            })
        })
        .collect();
    let mut subjects: std::collections::HashMap<i64, Option<String>> = std::collections::HashMap::new();
    for gap in &mut gaps {
        let subject = match subjects.get(&gap.ticket) {
            Some(subject) => subject.clone(),
            None => {
                let subject = match TicketNumber::new(gap.ticket) {
                    Some(number) => store.ticket(number).await.ok().map(|t| t.subject),
                    None => None,
                };
                subjects.insert(gap.ticket, subject.clone());
                subject
            }
        };
        gap.subject = subject;
    }
    Ok(gaps)
}

/// One ticket of the budgets overview.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetLine<'a> {
    pub ticket: i64,
    pub subject: &'a str,
    pub band: Option<crate::domain::Band>,
    pub utilization_pct: Option<crate::domain::Utilization>,
    pub hours_used: Hours,
    pub budget_hours: Option<Hours>,
    pub locked: bool,
    pub forecast_lock_on: Option<NaiveDate>,
}

/// Tickets with a budget, fullest first (then by number).
pub fn budgets(tickets: &[TicketView]) -> Vec<BudgetLine<'_>> {
    let mut lines: Vec<BudgetLine<'_>> = tickets
        .iter()
        .filter(|t| t.utilization_pct.is_some())
        .map(|t| BudgetLine {
            ticket: t.number,
            subject: &t.subject,
            band: t.band,
            utilization_pct: t.utilization_pct,
            hours_used: t.hours_used,
            budget_hours: t.budget_hours,
            locked: t.locked,
            forecast_lock_on: t.forecast_lock_on,
        })
        .collect();
    lines.sort_by(|a, b| b.utilization_pct.cmp(&a.utilization_pct).then(a.ticket.cmp(&b.ticket)));
    lines
}

/// The overview as CSV.
pub fn budgets_csv(lines: &[BudgetLine<'_>]) -> String {
    let mut csv = Csv::new(&[
        "ticket",
        "subject",
        "band",
        "utilization_pct",
        "hours_used",
        "budget_hours",
        "locked",
        "forecast_lock_on",
    ]);
    for line in lines {
        csv.row(&[
            line.ticket.to_string(),
            line.subject.to_owned(),
            line.band.map(|b| b.as_str().to_owned()).unwrap_or_default(),
            line.utilization_pct.map(|u| u.to_string()).unwrap_or_default(),
            line.hours_used.to_string(),
            line.budget_hours.map(|h| h.to_string()).unwrap_or_default(),
            line.locked.to_string(),
            line.forecast_lock_on.map(|d| d.to_string()).unwrap_or_default(),
        ]);
    }
    csv.finish()
}

/// RFC 4180 CSV: a field with a comma, a quote or a line break is quoted,
/// its quotes doubled; lines end with CRLF. A field that a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return
/// first) gets a leading `'`.
struct Csv(String);

impl Csv {
    fn new(header: &[&str]) -> Csv {
        let mut csv = Csv(String::new());
        csv.row(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
        csv
    }

    fn row(&mut self, fields: &[String]) {
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        self.0.push_str(&line.join(","));
        self.0.push_str("\r\n");
    }

    fn finish(self) -> String {
        self.0
    }
}

fn field(text: &str) -> String {
    let numeric = text.parse::<f64>().is_ok();
    let text =
        if !numeric && text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, day: u32, ticket: Option<i64>, hours: &str, notes: Option<&str>) -> EntryLine {
        EntryLine {
            harvest_id: id,
            spent_date: NaiveDate::from_ymd_opt(2026, 11, day).expect("a day"),
            ticket,
            subject: ticket.map(|t| format!("Ticket {t}")),
            person: "Ana Agent".into(),
            task: "Support".into(),
            hours: Hours::parse(hours).expect("hours"),
            notes: notes.map(str::to_owned),
        }
    }

    #[test]
    fn a_week_is_parsed_and_named_the_iso_way() {
        let week = Week::parse("2026-W48").expect("a week");
        assert_eq!(week.monday(), NaiveDate::from_ymd_opt(2026, 11, 23).expect("a day"));
        assert_eq!(week.sunday(), NaiveDate::from_ymd_opt(2026, 11, 29).expect("a day"));
        assert_eq!(week.to_string(), "2026-W48");
        assert_eq!(Week::parse("2026w48").expect("lower case"), week);
        assert_eq!(week.next().to_string(), "2026-W49");
        assert_eq!(Week::parse("2027-W01").expect("a week").previous().to_string(), "2026-W53");
        for bad in ["2026-48", "2026-W54", "W48", "yesterday", "262143-W01", "0-W01"] {
            assert!(Week::parse(bad).is_err_and(|e| e.to_string().contains("not an ISO week")), "{bad}");
        }
    }

    #[test]
    fn a_timesheet_sums_per_day_and_ticket_and_keeps_each_note_once() {
        let week = Week::parse("2026-W48").expect("a week");
        let entries = [
            line(1, 23, Some(12), "1.25", Some("VPN logs")),
            line(2, 23, Some(12), "0.50", Some("VPN logs")),
            line(3, 23, Some(7), "0.25", None),
            line(4, 25, None, "2", Some("internal")),
        ];
        let sheet = build_timesheet(week, "Ana Agent", &entries);
        assert_eq!(sheet.days.len(), 7, "every day of the week");
        assert_eq!(sheet.days[0].total.to_string(), "2.00");
        assert_eq!(sheet.days[0].lines[0].hours.to_string(), "1.75");
        assert_eq!(sheet.days[0].lines[0].notes, vec!["VPN logs".to_owned()]);
        assert_eq!(sheet.days[1].total, Hours::ZERO);
        assert_eq!(sheet.total.to_string(), "4.00");
        let csv = timesheet_csv(&sheet);
        assert_eq!(
            csv,
            "date,ticket,subject,hours,notes\r\n2026-11-23,12,Ticket 12,1.75,VPN logs\r\n\
             2026-11-23,7,Ticket 7,0.25,\r\n2026-11-25,,,2.00,internal\r\n"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-0.25"), "-0.25", "a number stays a number");
    }
}
