//! What the reports read (see `crate::report`): one person's entries over
//! some days, a ticket's entries, a person's replies and notes and the days
//! they logged time, and who a Harvest user is.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use super::{parse_ts, Store};
use crate::domain::{Email, Hours, ThreadKind, TicketNumber};
use crate::error::{Error, Result};

/// One Harvest entry as the reports show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLine {
    pub harvest_id: i64,
    pub spent_date: NaiveDate,
    pub ticket: Option<i64>,
    pub subject: Option<String>,
    pub person: String,
    pub task: String,
    pub hours: Hours,
    pub notes: Option<String>,
}

#[derive(FromRow)]
struct EntryRow {
    harvest_id: i64,
    spent_date: String,
    ticket_number: Option<i64>,
    subject: Option<String>,
    user_name: String,
    task_name: String,
    hundredths: i64,
    notes: Option<String>,
}

impl TryFrom<EntryRow> for EntryLine {
    type Error = Error;
    fn try_from(row: EntryRow) -> Result<Self> {
        Ok(EntryLine {
            harvest_id: row.harvest_id,
            spent_date: date(&row.spent_date)?,
            ticket: row.ticket_number,
            subject: row.subject,
            person: row.user_name,
            task: row.task_name,
            hours: Hours::from_hundredths(row.hundredths),
            notes: row.notes,
        })
    }
}

const ENTRY_SELECT: &str = "SELECT e.harvest_id, e.spent_date, e.ticket_number, t.subject, e.user_name,
        e.task_name, e.hundredths, e.notes
    FROM time_entries e LEFT JOIN tickets t ON t.number = e.ticket_number";

/// One person's entries of some days: served by `time_entries_by_person_date`.
const PERSON_DAYS: &str =
    "WHERE e.user_id = $1 AND e.deleted = FALSE AND e.spent_date >= $2 AND e.spent_date <= $3
    ORDER BY e.spent_date, e.ticket_number, e.harvest_id";

fn date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| Error::Invalid(format!("stored date `{text}` is unreadable: {e}")))
}

/// A reply or note someone wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub ticket: i64,
    pub kind: ThreadKind,
    pub at: DateTime<Utc>,
}

/// A person as the reports know them: their staff row (if any) and their
/// Harvest user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub staff_id: Option<i64>,
    pub email: Option<String>,
    pub name: String,
    pub harvest_user_id: i64,
}

impl Store {
    /// The Harvest user's entries spent from `from` to `to` (both
    /// included), by day, ticket and Harvest id.
    pub async fn entries_of(
        &self,
        harvest_user_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EntryLine>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!("{ENTRY_SELECT} {PERSON_DAYS}"))
            .bind(harvest_user_id)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(EntryLine::try_from).collect()
    }

    /// A ticket's entries, by day and Harvest id.
    pub async fn ticket_entries(&self, number: TicketNumber) -> Result<Vec<EntryLine>> {
        self.ticket(number).await?;
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "{ENTRY_SELECT} WHERE e.ticket_number = $1 AND e.deleted = FALSE ORDER BY e.spent_date, e.harvest_id"
        ))
        .bind(number.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EntryLine::try_from).collect()
    }

    /// The replies and notes a member of staff wrote since `since`, oldest first.
    pub async fn written_by(&self, staff_id: i64, since: DateTime<Utc>) -> Result<Vec<Written>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT ticket_number, kind, created_at FROM thread_entries
             WHERE staff_id = $1 AND kind IN ('response', 'note') AND created_at >= $2 ORDER BY created_at, id",
        )
        .bind(staff_id)
        .bind(super::ts(since))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(ticket, kind, at)| {
                let kind = ThreadKind::parse(&kind)
                    .ok_or_else(|| Error::Invalid(format!("unknown thread kind `{kind}`")))?;
                Ok(Written { ticket, kind, at: parse_ts(&at)? })
            })
            .collect()
    }

    /// `(ticket, day)` pairs on which this member of staff has time waiting
    /// in the outbox or sent from it (logged, if not yet imported).
    pub async fn queued_days(&self, staff_id: i64, from: NaiveDate) -> Result<Vec<(i64, NaiveDate)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT ticket_number, spent_date FROM outbox
             WHERE logged_by = $1 AND state IN ('pending', 'sending', 'sent') AND spent_date >= $2",
        )
        .bind(staff_id)
        .bind(from.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(ticket, day)| Ok((ticket, date(&day)?))).collect()
    }

    /// The member of staff with this email, with their Harvest user (known
    /// once they connected Tickettime to Harvest).
    pub async fn person(&self, email: &Email) -> Result<Person> {
        let row: Option<(i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, email, name, harvest_user_id FROM staff WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let Some((id, email, name, harvest_user_id)) = row else {
            return Err(Error::Invalid(format!("no member of staff has the email {email}")));
        };
        let harvest_user_id = harvest_user_id.ok_or_else(|| {
            Error::Invalid(format!(
                "{email} has no Harvest user here yet: they appear once they connect Tickettime to Harvest"
            ))
        })?;
        Ok(Person { staff_id: Some(id), email: Some(email), name, harvest_user_id })
    }
}

#[cfg(test)]
mod tests {
    use super::{ENTRY_SELECT, PERSON_DAYS};
    use crate::store::Store;

    /// The timesheet and the gaps report read one person's days through the
    /// index, not by scanning every entry of the team.
    #[tokio::test]
    async fn a_persons_days_are_found_through_the_index() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store =
            Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.expect("a store");
        let sql = format!("EXPLAIN QUERY PLAN {ENTRY_SELECT} {PERSON_DAYS}");
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&sql)
            .bind(7_i64)
            .bind("2026-11-30")
            .bind("2026-12-06")
            .fetch_all(store.pool())
            .await
            .expect("a plan");
        let steps: Vec<&str> = plan.iter().map(|(_, _, _, step)| step.as_str()).collect();
        assert!(
            steps.iter().any(|s| s.starts_with("SEARCH e USING INDEX time_entries_by_person_date")),
            "{steps:?}"
        );
        assert!(!steps.iter().any(|s| s.starts_with("SCAN e")), "{steps:?}");
    }
}
