//! Help desks in the store: the desks, their tickets and thread entries
//! upserted page by page with the connector's cursor, and the desk outbox
//! (what Tickettime writes into a desk, exactly once).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::entries::{reattribute, recompute, Scope};
use super::tickets::{announce, refresh_project_name};
use super::{ts, Store};
use crate::actor::Actor;
use crate::desk::{DeskFields, DeskKind, DeskTicket};
use crate::domain::{Hours, TicketNumber};
use crate::error::{Error, Result};

/// A desk as stored (no secret: that is in the keychain).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeskRecord {
    pub id: i64,
    pub kind: DeskKind,
    pub name: String,
    /// The desk's address without credentials.
    pub url: String,
    /// The connector's settings (JSON).
    #[serde(skip)]
    pub config: String,
    pub writes_notes: bool,
    pub tickets: i64,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(FromRow)]
struct DeskRow {
    id: i64,
    kind: String,
    name: String,
    url: String,
    config: String,
    writes_notes: i64,
    tickets: i64,
    last_sync_at: Option<String>,
    last_error: Option<String>,
}

impl TryFrom<DeskRow> for DeskRecord {
    type Error = Error;
    fn try_from(row: DeskRow) -> Result<Self> {
        Ok(DeskRecord {
            id: row.id,
            kind: DeskKind::parse(&row.kind).ok_or_else(|| {
                Error::Invalid(format!("desk {} has an unknown kind `{}`", row.id, row.kind))
            })?,
            name: row.name,
            url: row.url,
            config: row.config,
            writes_notes: row.writes_notes != 0,
            tickets: row.tickets,
            last_sync_at: row.last_sync_at,
            last_error: row.last_error,
        })
    }
}

const DESK_SELECT: &str = "SELECT d.id, d.kind, d.name, d.url, d.config,
        CASE WHEN d.writes_notes THEN 1 ELSE 0 END AS writes_notes,
        (SELECT COUNT(*) FROM tickets t WHERE t.desk_id = d.id) AS tickets,
        d.last_sync_at, d.last_error
    FROM desks d";

/// A desk to add: its kind, a name, its address (no secret), the
/// connector's settings (JSON) and whether its login may write notes.
#[derive(Clone, Copy, Debug)]
pub struct NewDesk<'a> {
    pub kind: DeskKind,
    pub name: &'a str,
    pub url: &'a str,
    pub config: &'a str,
    pub writes_notes: bool,
}

/// How many times a desk write is tried before it waits for someone to
/// retry it (`tickettime desk retry`): a desk that refuses a comment five
/// times will refuse the sixth.
pub const DESK_ATTEMPTS: i64 = 5;

/// What applying desk pages did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeskSyncReport {
    pub tickets_new: usize,
    pub tickets_updated: usize,
    pub entries_new: usize,
    pub entries_updated: usize,
    /// Tickets whose Harvest project the desk changed.
    pub relinked: Vec<i64>,
    /// Values the desk holds that could not be used (the ticket keeps its own).
    pub warnings: Vec<String>,
}

impl DeskSyncReport {
    pub fn add(&mut self, other: DeskSyncReport) {
        self.tickets_new += other.tickets_new;
        self.tickets_updated += other.tickets_updated;
        self.entries_new += other.entries_new;
        self.entries_updated += other.entries_updated;
        self.relinked.extend(other.relinked);
        self.warnings.extend(other.warnings);
    }
}

/// An item of the desk outbox, claimed for writing.
#[derive(Clone, Debug, FromRow)]
pub struct DeskNote {
    pub id: String,
    pub ticket_number: i64,
    /// The desk's id of the ticket.
    pub source_id: String,
    pub kind: String,
    pub body: String,
    pub author: String,
    pub author_email: Option<String>,
}

/// A ticket's desk, as the logging path needs it.
#[derive(Clone, Debug, FromRow)]
pub(super) struct TicketDesk {
    pub desk_id: i64,
    pub kind: String,
    pub writes_notes: i64,
    pub source_url: Option<String>,
}

pub(super) async fn ticket_desk(
    conn: &mut AnyConnection,
    number: TicketNumber,
) -> Result<Option<TicketDesk>> {
    Ok(sqlx::query_as(
        "SELECT d.id AS desk_id, d.kind, CASE WHEN d.writes_notes THEN 1 ELSE 0 END AS writes_notes, t.source_url
         FROM tickets t JOIN desks d ON d.id = t.desk_id WHERE t.number = $1",
    )
    .bind(number.get())
    .fetch_optional(conn)
    .await?)
}

/// What a desk outbox item becomes in the desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DeskWrite {
    /// An internal note (osTicket `N`, a private Zendesk comment).
    Note,
    /// A reply the client sees (a public Zendesk comment).
    Reply,
}

impl TicketDesk {
    /// Whether Tickettime sends this ticket's replies (Zendesk does; osTicket mails its own).
    pub fn sends_replies(&self) -> bool {
        self.kind == "zendesk" && self.writes_notes != 0
    }
}

/// Queues a note or reply for the ticket's desk inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(super) async fn queue_desk_note(
    conn: &mut AnyConnection,
    desk: &TicketDesk,
    number: TicketNumber,
    write: DeskWrite,
    body: &str,
    actor: &Actor,
    thread_entry: Option<i64>,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO desk_outbox (id, desk_id, ticket_number, kind, body, author, author_email, state, attempts,
            thread_entry_id, logged_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(desk.desk_id)
    .bind(number.get())
    .bind(if write == DeskWrite::Reply { "reply" } else { "note" })
    .bind(body)
    .bind(actor.author())
    .bind(actor.staff().map(|s| s.email.clone()))
    .bind(thread_entry)
    .bind(actor.staff_id())
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(id)
}

#[derive(FromRow)]
struct ExistingTicket {
    number: i64,
    subject: String,
    status: String,
    client_name: Option<String>,
    agent_id: Option<i64>,
    harvest_project_id: Option<i64>,
    budget_hundredths: Option<i64>,
    quoted_hundredths: Option<i64>,
    source_number: Option<String>,
    source_url: Option<String>,
    source_fields: Option<String>,
}

/// The desk's field values read as Tickettime's, with what could not be.
struct Parsed {
    project: Option<i64>,
    budget: Option<Hours>,
    quoted: Option<Hours>,
    /// Which fields could not be read (those keep the ticket's value).
    bad: [bool; 3],
}

fn parse_fields(ticket: &DeskTicket, warnings: &mut Vec<String>) -> Parsed {
    let mut bad = [false; 3];
    let project = ticket.fields.project.as_deref().and_then(|text| match text.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            bad[0] = true;
            warnings.push(format!(
                "desk ticket {}: the Harvest Project ID `{text}` is not a Harvest project id (a positive number); \
                 the ticket keeps its link",
                ticket.number
            ));
            None
        }
    });
    let mut hours = |slot: usize, what: &str, text: Option<&str>| {
        text.and_then(|text| match Hours::parse(text) {
            Ok(hours) => Some(hours),
            Err(e) => {
                bad[slot] = true;
                warnings.push(format!(
                    "desk ticket {}: {what} `{text}` is not a number of hours ({e}); the ticket keeps its own",
                    ticket.number
                ));
                None
            }
        })
    };
    let budget = hours(1, "Budget Hours", ticket.fields.budget.as_deref());
    let quoted = hours(2, "Quoted Hours", ticket.fields.quoted.as_deref());
    Parsed { project, budget, quoted, bad }
}

impl Store {
    /// Adds a desk (a PM's or admin's to do). Its secret goes to the keychain, not here.
    pub async fn add_desk(&self, actor: &Actor, new: NewDesk<'_>, now: DateTime<Utc>) -> Result<DeskRecord> {
        let NewDesk { kind, name, url, config, writes_notes } = new;
        actor.require_manager("add help desks")?;
        let mut tx = self.begin().await?;
        refuse_taken(&mut tx, kind, url).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO desks (kind, name, url, config, writes_notes, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(name)
        .bind(url)
        .bind(config)
        .bind(writes_notes)
        .bind(actor.staff_id())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        let desk = desk_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(desk)
    }

    /// Refuses an address that is already a desk of this database.
    pub async fn refuse_desk_address(&self, kind: DeskKind, url: &str) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        refuse_taken(&mut conn, kind, url).await
    }

    pub async fn desks(&self) -> Result<Vec<DeskRecord>> {
        let rows: Vec<DeskRow> =
            sqlx::query_as(&format!("{DESK_SELECT} ORDER BY d.id")).fetch_all(&self.pool).await?;
        rows.into_iter().map(DeskRecord::try_from).collect()
    }

    pub async fn desk(&self, id: i64) -> Result<DeskRecord> {
        let mut conn = self.pool.acquire().await?;
        desk_in(&mut conn, id).await
    }

    /// Points a desk at its new address (the demo's simulator, started on
    /// another port); its tickets, their links and its position follow.
    pub async fn move_desk(&self, actor: &Actor, id: i64, url: &str) -> Result<DeskRecord> {
        actor.require_manager("move help desks")?;
        let mut tx = self.begin().await?;
        let before = desk_in(&mut tx, id).await?;
        sqlx::query("UPDATE desks SET url = $2 WHERE id = $1").bind(id).bind(url).execute(&mut *tx).await?;
        // The tickets' links follow: the old address at their start becomes the new one.
        sqlx::query(
            "UPDATE tickets SET source_url = $3 || SUBSTR(source_url, LENGTH($2) + 1)
             WHERE desk_id = $1 AND SUBSTR(source_url, 1, LENGTH($2)) = $2",
        )
        .bind(id)
        .bind(&before.url)
        .bind(url)
        .execute(&mut *tx)
        .await?;
        let desk = desk_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(desk)
    }

    /// Removes a desk (a PM's or admin's to do). Its tickets stay, with
    /// their number and link, but are no longer synced; notes not yet
    /// written into it go with it (the outbox's foreign key cascades).
    pub async fn remove_desk(&self, actor: &Actor, id: i64) -> Result<DeskRecord> {
        actor.require_manager("remove help desks")?;
        let mut tx = self.begin().await?;
        let desk = desk_in(&mut tx, id).await?;
        sqlx::query("UPDATE tickets SET desk_id = NULL WHERE desk_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM desks WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(desk)
    }

    pub async fn desk_cursor(&self, id: i64) -> Result<Option<String>> {
        let cursor: Option<Option<String>> = sqlx::query_scalar("SELECT cursor FROM desks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        cursor.ok_or_else(|| Error::Invalid(format!("there is no desk {id} (`tickettime desk list`)")))
    }

    pub async fn set_desk_writes_notes(&self, id: i64, writes: bool) -> Result<()> {
        sqlx::query("UPDATE desks SET writes_notes = $2 WHERE id = $1")
            .bind(id)
            .bind(writes)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records how a desk's sync ended.
    pub async fn desk_synced(&self, id: i64, error: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE desks SET last_sync_at = $2, last_error = $3 WHERE id = $1")
            .bind(id)
            .bind(ts(now))
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores one page read from a desk and moves its cursor from `after`
    /// to `cursor`, in one transaction: tickets upserted by the desk's id
    /// (created, or changed where the desk changed), thread entries by the
    /// desk's entry id. When another sync moved the cursor meanwhile, this
    /// one stores nothing and says [`Error::SyncBusy`] (the other stores
    /// what it read).
    pub async fn apply_desk_page(
        &self,
        actor: &Actor,
        desk: i64,
        tickets: Vec<DeskTicket>,
        cursor: &str,
        after: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeskSyncReport> {
        actor.require_manager("sync help desks")?;
        let mut tx = self.begin().await?;
        let moved = sqlx::query(
            "UPDATE desks SET cursor = $2 WHERE id = $1 AND (cursor = $3 OR (cursor IS NULL AND $4 = 1))",
        )
        .bind(desk)
        .bind(cursor)
        .bind(after.unwrap_or(""))
        .bind(if after.is_none() { 1i64 } else { 0 })
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            // Another sync of this desk got further: it stores what this one read.
            return Err(Error::SyncBusy);
        }
        let mut report = DeskSyncReport::default();
        for ticket in tickets {
            apply_ticket(&mut tx, actor, desk, ticket, now, &mut report).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// The desk's unwritten notes (waiting, failed before, or left
    /// `sending` by a crash), each marked `sending` by `pusher` in one
    /// transaction before anything is written.
    pub async fn claim_desk_notes(
        &self,
        desk: i64,
        pusher: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeskNote>> {
        let mut tx = self.begin().await?;
        let notes: Vec<DeskNote> = sqlx::query_as(
            // The desk writes as the person who logged it: their staff
            // email, never what the row says (an agent's login inserts rows).
            "SELECT o.id, o.ticket_number, t.source_id, o.kind, o.body, o.author,
                    CASE WHEN o.logged_by IS NULL THEN o.author_email ELSE s.email END AS author_email
             FROM desk_outbox o JOIN tickets t ON t.number = o.ticket_number
             LEFT JOIN staff s ON s.id = o.logged_by
             WHERE o.desk_id = $1 AND t.source_id IS NOT NULL
               AND (o.state IN ('pending', 'sending') OR (o.state = 'failed' AND o.attempts < $2))
             ORDER BY o.created_at, o.id",
        )
        .bind(desk)
        .bind(DESK_ATTEMPTS)
        .fetch_all(&mut *tx)
        .await?;
        for note in &notes {
            sqlx::query(
                "UPDATE desk_outbox SET state = 'sending', claimed_by = $2, attempts = attempts + 1, updated_at = $3
                 WHERE id = $1",
            )
            .bind(&note.id)
            .bind(pusher)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(notes)
    }

    /// A note is in the desk as `remote`: the item is sent, and the local
    /// thread entry it came with becomes that desk entry (or, when an
    /// import brought the desk's copy in first, gives way to it).
    pub async fn desk_note_sent(&self, id: &str, remote: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        mark_note_sent(&mut tx, id, remote, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn desk_note_failed(&self, id: &str, error: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE desk_outbox SET state = 'failed', last_error = $2, updated_at = $3 WHERE id = $1 AND state <> 'sent'",
        )
        .bind(id)
        .bind(error)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a write the desk kept refusing back in line (a PM's or admin's
    /// to do, as the syncs that send it are theirs).
    pub async fn desk_note_retry(&self, actor: &Actor, id: &str, now: DateTime<Utc>) -> Result<()> {
        actor.require_manager("retry help desk writes")?;
        let done = sqlx::query(
            "UPDATE desk_outbox SET state = 'pending', attempts = 0, claimed_by = NULL, updated_at = $2
             WHERE id = $1 AND state = 'failed'",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::Invalid(format!(
                "there is no failed desk write {id} (`tickettime desk outbox` lists them)"
            )));
        }
        Ok(())
    }

    /// The desk outbox (for `tickettime desk outbox` and the tests).
    pub async fn desk_outbox(&self) -> Result<Vec<DeskOutboxItem>> {
        Ok(sqlx::query_as(
            "SELECT id, desk_id, ticket_number, kind, body, state, attempts, last_error, remote_id
             FROM desk_outbox ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// One item of the desk outbox as listed.
#[derive(Clone, Debug, FromRow, Serialize)]
pub struct DeskOutboxItem {
    pub id: String,
    pub desk_id: i64,
    pub ticket_number: i64,
    pub kind: String,
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
}

async fn desk_in(conn: &mut AnyConnection, id: i64) -> Result<DeskRecord> {
    let row: Option<DeskRow> =
        sqlx::query_as(&format!("{DESK_SELECT} WHERE d.id = $1")).bind(id).fetch_optional(conn).await?;
    row.ok_or_else(|| Error::Invalid(format!("there is no desk {id} (`tickettime desk list`)")))?.try_into()
}

async fn mark_note_sent(conn: &mut AnyConnection, id: &str, remote: &str, now: DateTime<Utc>) -> Result<()> {
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT ticket_number, thread_entry_id FROM desk_outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((ticket, local)) = row else { return Ok(()) };
    sqlx::query(
        "UPDATE desk_outbox SET state = 'sent', remote_id = $2, last_error = NULL, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(remote)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    if let Some(local) = local {
        let copy: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM thread_entries WHERE ticket_number = $1 AND desk_entry_id = $2",
        )
        .bind(ticket)
        .bind(remote)
        .fetch_optional(&mut *conn)
        .await?;
        match copy {
            // The desk's copy came in some other way (the local entry was
            // already tied to another): the item follows the copy; nothing
            // is deleted (a PM's team login may not delete thread entries).
            Some(copy) if copy != local => {
                sqlx::query("UPDATE desk_outbox SET thread_entry_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(copy)
                    .execute(&mut *conn)
                    .await?;
            }
            Some(_) => {}
            None => {
                sqlx::query("UPDATE thread_entries SET desk_entry_id = $2 WHERE id = $1")
                    .bind(local)
                    .bind(remote)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn staff_by_email(conn: &mut AnyConnection, email: Option<&str>) -> Result<Option<i64>> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else { return Ok(None) };
    Ok(sqlx::query_scalar("SELECT id FROM staff WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_optional(conn)
        .await?)
}

async fn apply_ticket(
    conn: &mut AnyConnection,
    actor: &Actor,
    desk: i64,
    ticket: DeskTicket,
    now: DateTime<Utc>,
    report: &mut DeskSyncReport,
) -> Result<()> {
    let existing: Option<ExistingTicket> = sqlx::query_as(
        "SELECT number, subject, status, client_name, agent_id, harvest_project_id, budget_hundredths,
            quoted_hundredths, source_number, source_url, source_fields
         FROM tickets WHERE desk_id = $1 AND source_id = $2",
    )
    .bind(desk)
    .bind(&ticket.id)
    .fetch_optional(&mut *conn)
    .await?;
    let parsed = parse_fields(&ticket, &mut report.warnings);
    let agent = staff_by_email(conn, ticket.agent_email.as_deref()).await?;
    let fields_json = serde_json::to_string(&ticket.fields).unwrap_or_default();
    let subject: String = ticket.subject.trim().chars().take(500).collect();
    let kind: String =
        sqlx::query_scalar("SELECT kind FROM desks WHERE id = $1").bind(desk).fetch_one(&mut *conn).await?;

    let number = match existing {
        None => {
            let number: i64 = sqlx::query_scalar(
                "INSERT INTO tickets (subject, status, client_name, agent_id, harvest_project_id,
                    budget_hundredths, quoted_hundredths, created_at, updated_at,
                    source, desk_id, source_id, source_number, source_url, source_fields)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING number",
            )
            .bind(&subject)
            .bind(ticket.status.as_str())
            .bind(&ticket.client)
            .bind(agent)
            .bind(parsed.project)
            .bind(parsed.budget.map(Hours::hundredths))
            .bind(parsed.quoted.map(Hours::hundredths))
            .bind(ts(ticket.created_at.min(now)))
            .bind(ts(now))
            .bind(&kind)
            .bind(desk)
            .bind(&ticket.id)
            .bind(&ticket.number)
            .bind(&ticket.url)
            .bind(&fields_json)
            .fetch_one(&mut *conn)
            .await?;
            let number =
                TicketNumber::new(number).ok_or_else(|| Error::Invalid("ticket numbering failed".into()))?;
            let mut affected = reattribute(conn, Scope::Reference(number)).await?;
            if let Some(project) = parsed.project {
                affected.extend(reattribute(conn, Scope::Project(project)).await?);
                refresh_project_name(conn, project).await?;
            }
            affected.push(number);
            recompute(conn, affected, now, actor.staff_id()).await?;
            report.tickets_new += 1;
            announce(conn, number).await?;
            number
        }
        Some(old) => {
            let number = TicketNumber::new(old.number)
                .ok_or_else(|| Error::Invalid("stored ticket number is invalid".into()))?;
            let seen: DeskFields =
                old.source_fields.as_deref().and_then(|f| serde_json::from_str(f).ok()).unwrap_or_default();
            // A field applies when the desk changed it (and it reads).
            let budget = if seen.budget != ticket.fields.budget && !parsed.bad[1] {
                parsed.budget.map(Hours::hundredths)
            } else {
                old.budget_hundredths
            };
            let quoted = if seen.quoted != ticket.fields.quoted && !parsed.bad[2] {
                parsed.quoted.map(Hours::hundredths)
            } else {
                old.quoted_hundredths
            };
            let relink = match parsed.project {
                Some(project)
                    if seen.project != ticket.fields.project && old.harvest_project_id != Some(project) =>
                {
                    Some(project)
                }
                _ => None,
            };
            let agent = agent.or(old.agent_id);
            let changed = old.subject != subject
                || old.status != ticket.status.as_str()
                || old.client_name != ticket.client
                || old.agent_id != agent
                || old.budget_hundredths != budget
                || old.quoted_hundredths != quoted
                || relink.is_some()
                || old.source_number.as_deref() != Some(ticket.number.as_str())
                || old.source_url != ticket.url;
            let fields_changed = old.source_fields.as_deref() != Some(fields_json.as_str());
            if changed || fields_changed {
                sqlx::query(
                    "UPDATE tickets SET subject = $2, status = $3, client_name = $4, agent_id = $5,
                        budget_hundredths = $6, quoted_hundredths = $7, source_number = $8, source_url = $9,
                        source_fields = $10, updated_at = $11
                     WHERE number = $1",
                )
                .bind(number.get())
                .bind(&subject)
                .bind(ticket.status.as_str())
                .bind(&ticket.client)
                .bind(agent)
                .bind(budget)
                .bind(quoted)
                .bind(&ticket.number)
                .bind(&ticket.url)
                .bind(&fields_json)
                .bind(ts(now))
                .execute(&mut *conn)
                .await?;
            }
            let mut affected = Vec::new();
            if let Some(project) = relink {
                // The same cleanup as `ticket link`: the old project's entries leave, the new one's arrive.
                sqlx::query(
                    "UPDATE tickets SET harvest_project_id = $2, harvest_project_name = NULL, budget_offered_for = NULL
                     WHERE number = $1",
                )
                .bind(number.get())
                .bind(project)
                .execute(&mut *conn)
                .await?;
                if let Some(old_project) = old.harvest_project_id {
                    affected.extend(reattribute(conn, Scope::Project(old_project)).await?);
                }
                affected.extend(reattribute(conn, Scope::Project(project)).await?);
                refresh_project_name(conn, project).await?;
                report.relinked.push(number.get());
            }
            if relink.is_some() || old.budget_hundredths != budget {
                affected.push(number);
                recompute(conn, affected, now, actor.staff_id()).await?;
            }
            if changed {
                report.tickets_updated += 1;
                announce(conn, number).await?;
            }
            number
        }
    };
    apply_entries(conn, number, &ticket, now, report).await
}

async fn apply_entries(
    conn: &mut AnyConnection,
    number: TicketNumber,
    ticket: &DeskTicket,
    now: DateTime<Utc>,
    report: &mut DeskSyncReport,
) -> Result<()> {
    let mut touched = false;
    for entry in &ticket.entries {
        if let Some(marker) = &entry.marker {
            // Tickettime wrote this one: it is (or replaces) the local entry
            // it came with, and its outbox item is sent whatever a crash left.
            let ours: Option<(String, Option<i64>)> =
                sqlx::query_as("SELECT state, thread_entry_id FROM desk_outbox WHERE id = $1")
                    .bind(marker)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some((state, local)) = ours {
                if state != "sent" {
                    mark_note_sent(conn, marker, &entry.id, now).await?;
                }
                if local.is_none() {
                    continue; // time only: the Harvest entry shows it already
                }
                let present: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM thread_entries WHERE ticket_number = $1 AND desk_entry_id = $2",
                )
                .bind(number.get())
                .bind(&entry.id)
                .fetch_optional(&mut *conn)
                .await?;
                if present.is_some() {
                    continue;
                }
            }
        }
        let staff = staff_by_email(conn, entry.author_email.as_deref()).await?;
        let inserted = sqlx::query(
            "INSERT INTO thread_entries (ticket_number, kind, author, staff_id, body, created_at, desk_entry_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (ticket_number, desk_entry_id) DO NOTHING",
        )
        .bind(number.get())
        .bind(entry.kind.as_str())
        .bind(&entry.author)
        .bind(staff)
        .bind(&entry.body)
        .bind(ts(entry.at))
        .bind(&entry.id)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            report.entries_new += 1;
            touched = true;
            continue;
        }
        let updated = sqlx::query(
            "UPDATE thread_entries SET kind = $3, author = $4, body = $5
             WHERE ticket_number = $1 AND desk_entry_id = $2 AND (kind <> $3 OR author <> $4 OR body <> $5)",
        )
        .bind(number.get())
        .bind(&entry.id)
        .bind(entry.kind.as_str())
        .bind(&entry.author)
        .bind(&entry.body)
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() > 0 {
            report.entries_updated += 1;
            touched = true;
        }
    }
    if touched {
        announce(conn, number).await?;
    }
    Ok(())
}

async fn refuse_taken(conn: &mut AnyConnection, kind: DeskKind, url: &str) -> Result<()> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM desks WHERE kind = $1 AND url = $2")
        .bind(kind.as_str())
        .bind(url)
        .fetch_optional(conn)
        .await?;
    match taken {
        Some(id) => Err(Error::Invalid(format!("{url} is already desk {id} (`tickettime desk list`)"))),
        None => Ok(()),
    }
}
