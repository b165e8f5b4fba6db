//! osTicket, read from its MySQL/MariaDB database: osTicket's REST API can
//! only create tickets, so the connector reads the tables with a login of
//! its own (SELECT is enough; INSERT on `thread_entry` lets it write a note
//! for time logged from Tickettime). Tables are osTicket 1.18's, under a
//! configurable prefix (`ost_`).
//!
//! Incremental in two passes after one cursor: tickets by `(updated,
//! ticket_id)`, then thread entries by id (a reply or note that did not
//! bump the ticket). A row newer than two seconds waits for the next sync,
//! so a transaction still open on osTicket's side cannot slip behind the
//! cursor. osTicket stores its times in the database server's zone; they
//! are read as UTC.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::Connection;
use sqlx::Row;

use super::{
    html, DeskEntry, DeskError, DeskFields, DeskPage, DeskTicket, FieldNames, Outgoing, OutgoingKind,
};
use crate::domain::{ThreadKind, TicketStatus};

/// Tickets read per page (each with its whole thread).
const PAGE_TICKETS: usize = 50;
/// Thread entries looked at per page of the entry pass.
const PAGE_ENTRIES: usize = 500;

/// An osTicket desk's settings (stored as JSON with the desk).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The table prefix (`ost_`).
    pub prefix: String,
    #[serde(default)]
    pub fields: FieldNames,
    /// The help desk's web address (`https://help.example.com`), for links
    /// to a ticket's staff page.
    #[serde(default)]
    pub web_url: Option<String>,
}

impl Config {
    /// Checks the prefix (it is spliced into SQL) and the web address.
    pub fn validate(&self) -> Result<(), DeskError> {
        if self.prefix.is_empty()
            || self.prefix.len() > 32
            || !self.prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(DeskError::Config(format!(
                "`{}` is not a table prefix (letters, digits and `_`, like `ost_`)",
                self.prefix
            )));
        }
        if let Some(web) = &self.web_url {
            let parsed = url::Url::parse(web)
                .map_err(|e| DeskError::Config(format!("`{web}` is not the help desk's web address: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(DeskError::Config(format!("`{web}` is not an http(s) address")));
            }
        }
        Ok(())
    }
}

/// Where an incremental read stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// The last ticket read: its `updated` (as osTicket's text) and id.
    ticket_updated: String,
    ticket_id: i64,
    /// The last thread entry the entry pass looked at; set to the newest
    /// entry when a first sync starts (the ticket pass reads those).
    entry_id: Option<i64>,
}

/// A connected osTicket database.
pub struct OsTicket {
    pool: MySqlPool,
    config: Config,
    /// `mysql://user@host:port/db`, for messages.
    name: String,
}

/// A database URL split into what is stored (no password) and the password.
pub fn split_url(url: &str) -> Result<(String, SecretString), DeskError> {
    let mut parsed = url::Url::parse(url).map_err(|_| {
        DeskError::Config("the osTicket database must be a URL like mysql://USER:PASSWORD@HOST/DB".into())
    })?;
    if !matches!(parsed.scheme(), "mysql" | "mariadb") {
        return Err(DeskError::Config(format!(
            "`{}:` is not a MySQL/MariaDB URL (mysql://USER:PASSWORD@HOST/DB)",
            parsed.scheme()
        )));
    }
    if parsed.username().is_empty() || parsed.path().trim_matches('/').is_empty() {
        return Err(DeskError::Config(
            "the osTicket database URL needs a user and a database: mysql://USER:PASSWORD@HOST/DB".into(),
        ));
    }
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    let _ = parsed.set_scheme("mysql");
    Ok((parsed.to_string(), SecretString::from(password.unwrap_or_default())))
}

impl OsTicket {
    /// Connects as `url`'s user with `password` and checks that the
    /// prefix's tables are there and readable.
    pub async fn connect(url: &str, password: &SecretString, config: Config) -> Result<OsTicket, DeskError> {
        config.validate()?;
        let name = url.to_owned();
        let options: MySqlConnectOptions = url
            .parse()
            .map_err(|e| DeskError::Config(format!("`{name}` is not a MySQL/MariaDB URL: {e}")))?;
        let options = options.password(password.expose_secret()).charset("utf8mb4");
        // One connection first, so a wrong password or a closed port is
        // said at once (a pool would retry until its timeout).
        let first = tokio::time::timeout(Duration::from_secs(15), MySqlConnection::connect_with(&options))
            .await
            .map_err(|_| DeskError::Unreachable {
                desk: format!("the osTicket database {name}"),
                detail: "no answer in 15 s".into(),
            })?
            .map_err(|e| connect_error(&name, e))?;
        let _ = first.close().await;
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // osTicket writes zero dates and runs with sql_mode=''.
                    sqlx::query("SET SESSION sql_mode = ''").execute(conn).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| connect_error(&name, e))?;
        let desk = OsTicket { pool, config, name };
        desk.check_schema().await?;
        Ok(desk)
    }

    fn t(&self, table: &str) -> String {
        format!("`{}{}`", self.config.prefix, table)
    }

    async fn check_schema(&self) -> Result<(), DeskError> {
        for table in [
            "ticket",
            "ticket_status",
            "thread",
            "thread_entry",
            "staff",
            "user",
            "form_entry",
            "form_entry_values",
            "form_field",
        ] {
            let sql = format!("SELECT 1 FROM {} LIMIT 0", self.t(table));
            sqlx::query(&sql).execute(&self.pool).await.map_err(|e| DeskError::Schema {
                desk: self.desk(),
                what: "an osTicket database",
                detail: format!(
                    "the table {}{table} cannot be read ({}); check the table prefix (--prefix) and that the login may SELECT",
                    self.config.prefix,
                    db_message(&e)
                ),
            })?;
        }
        Ok(())
    }

    fn desk(&self) -> String {
        format!("the osTicket database {}", self.name)
    }

    fn failed(&self, error: sqlx::Error) -> DeskError {
        DeskError::Failed { desk: self.desk(), detail: db_message(&error) }
    }

    /// Whether this login may insert thread entries (an internal note per
    /// time logged from Tickettime).
    pub async fn may_write_notes(&self) -> Result<bool, DeskError> {
        let table = format!("{}thread_entry", self.config.prefix);
        let row = sqlx::query(
            "SELECT
               (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'INSERT')
             + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES
                 WHERE PRIVILEGE_TYPE = 'INSERT' AND TABLE_SCHEMA = DATABASE())
             + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES
                 WHERE PRIVILEGE_TYPE = 'INSERT' AND TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?) AS n",
        )
        .bind(&table)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.failed(e))?;
        let n: i64 = row.try_get("n").map_err(|e| self.failed(e))?;
        Ok(n > 0)
    }

    /// The next page after `cursor`: changed tickets first, then tickets
    /// whose thread grew without the ticket changing.
    pub async fn page(&self, cursor: Option<&str>) -> Result<DeskPage, DeskError> {
        let mut cursor: Cursor = match cursor {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                DeskError::Config(format!("the stored osTicket cursor `{text}` is unreadable: {e}"))
            })?,
            None => Cursor::default(),
        };
        if cursor.entry_id.is_none() {
            // Before the first ticket pass: entries after this are the entry pass's.
            let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS SIGNED) FROM {}", self.t("thread_entry"));
            let newest: i64 =
                sqlx::query_scalar(&sql).fetch_one(&self.pool).await.map_err(|e| self.failed(e))?;
            cursor.entry_id = Some(newest);
        }

        let sql = format!(
            "SELECT CAST(ticket_id AS SIGNED) AS id, DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s') AS updated
             FROM {ticket}
             WHERE (updated > ? OR (updated = ? AND ticket_id > ?))
               AND updated <= NOW() - INTERVAL 2 SECOND
             ORDER BY updated, ticket_id LIMIT {PAGE_TICKETS}",
            ticket = self.t("ticket"),
        );
        let since =
            if cursor.ticket_updated.is_empty() { "0000-00-00 00:00:00" } else { &cursor.ticket_updated };
        let rows = sqlx::query(&sql)
            .bind(since)
            .bind(since)
            .bind(cursor.ticket_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.failed(e))?;
        if let Some(last) = rows.last() {
            let ids: Vec<i64> =
                rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>().map_err(|e| self.failed(e))?;
            cursor.ticket_id = last.try_get("id").map_err(|e| self.failed(e))?;
            cursor.ticket_updated = last.try_get("updated").map_err(|e| self.failed(e))?;
            let tickets = self.tickets(&ids).await?;
            return Ok(DeskPage { tickets, cursor: encode(&cursor), more: true, warnings: Vec::new() });
        }

        // The entry pass: every entry after the cursor, the settled ones in
        // id order up to the first that is not.
        let sql = format!(
            "SELECT CAST(e.id AS SIGNED) AS id, CAST(th.object_id AS SIGNED) AS ticket_id,
                    CASE WHEN e.created <= NOW() - INTERVAL 2 SECOND THEN 1 ELSE 0 END AS settled
             FROM {entry} e LEFT JOIN {thread} th ON th.id = e.thread_id AND th.object_type = 'T'
             WHERE e.id > ? ORDER BY e.id LIMIT {PAGE_ENTRIES}",
            entry = self.t("thread_entry"),
            thread = self.t("thread"),
        );
        let rows = sqlx::query(&sql)
            .bind(cursor.entry_id.unwrap_or(0))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.failed(e))?;
        let mut tickets = BTreeSet::new();
        let mut last = None;
        for row in &rows {
            let settled: i64 = row.try_get("settled").map_err(|e| self.failed(e))?;
            if settled == 0 {
                break;
            }
            last = Some(row.try_get::<i64, _>("id").map_err(|e| self.failed(e))?);
            if let Some(ticket) = row.try_get::<Option<i64>, _>("ticket_id").map_err(|e| self.failed(e))? {
                tickets.insert(ticket);
            }
        }
        let Some(last) = last else {
            return Ok(DeskPage {
                tickets: Vec::new(),
                cursor: encode(&cursor),
                more: false,
                warnings: Vec::new(),
            });
        };
        cursor.entry_id = Some(last);
        let ids: Vec<i64> = tickets.into_iter().collect();
        let tickets = if ids.is_empty() { Vec::new() } else { self.tickets(&ids).await? };
        Ok(DeskPage { tickets, cursor: encode(&cursor), more: true, warnings: Vec::new() })
    }

    /// The tickets with these ids, whole.
    async fn tickets(&self, ids: &[i64]) -> Result<Vec<DeskTicket>, DeskError> {
        let list = placeholders(ids.len());
        let sql = format!(
            "SELECT CAST(t.ticket_id AS SIGNED) AS id, COALESCE(t.number, '') AS number,
                    DATE_FORMAT(t.created, '%Y-%m-%d %H:%i:%s') AS created,
                    COALESCE(s.state, 'open') AS state, COALESCE(s.name, '') AS status_name,
                    u.name AS client, st.email AS agent_email
             FROM {ticket} t
             LEFT JOIN {status} s ON s.id = t.status_id
             LEFT JOIN {user} u ON u.id = t.user_id
             LEFT JOIN {staff} st ON st.staff_id = t.staff_id AND t.staff_id <> 0
             WHERE t.ticket_id IN ({list}) ORDER BY t.ticket_id",
            ticket = self.t("ticket"),
            status = self.t("ticket_status"),
            user = self.t("user"),
            staff = self.t("staff"),
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(|e| self.failed(e))?;
        let mut fields = self.fields(ids).await?;
        let mut entries = self.entries(ids).await?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in rows {
            let get = |e: sqlx::Error| self.failed(e);
            let id: i64 = row.try_get("id").map_err(get)?;
            let (subject, fields) = fields.remove(&id).unwrap_or_default();
            let state: String = row.try_get("state").map_err(get)?;
            let status_name: String = row.try_get("status_name").map_err(get)?;
            let number: String = row.try_get("number").map_err(get)?;
            let created: String = row.try_get("created").map_err(get)?;
            tickets.push(DeskTicket {
                id: id.to_string(),
                number: if number.is_empty() { id.to_string() } else { number },
                url: self
                    .config
                    .web_url
                    .as_ref()
                    .map(|web| format!("{}/scp/tickets.php?id={id}", web.trim_end_matches('/'))),
                subject: subject.unwrap_or_else(|| "(no subject)".into()),
                status: status_of(&state, &status_name),
                client: row.try_get("client").map_err(get)?,
                agent_email: row.try_get("agent_email").map_err(get)?,
                fields,
                created_at: parse_time(&created).unwrap_or(DateTime::UNIX_EPOCH),
                entries: entries.remove(&id).unwrap_or_default(),
            });
        }
        Ok(tickets)
    }

    /// Each ticket's subject and the fields that carry Tickettime's, from
    /// its ticket-details form entries (object type `T`).
    async fn fields(&self, ids: &[i64]) -> Result<HashMap<i64, (Option<String>, DeskFields)>, DeskError> {
        let sql = format!(
            "SELECT CAST(fe.object_id AS SIGNED) AS ticket_id, ff.name, ff.label, fev.value
             FROM {entry} fe
             JOIN {values} fev ON fev.entry_id = fe.id
             JOIN {field} ff ON ff.id = fev.field_id
             WHERE fe.object_type = 'T' AND fe.object_id IN ({list})
             ORDER BY fe.object_id, fe.sort, fe.id",
            entry = self.t("form_entry"),
            values = self.t("form_entry_values"),
            field = self.t("form_field"),
            list = placeholders(ids.len()),
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut out: HashMap<i64, (Option<String>, DeskFields)> = HashMap::new();
        for row in query.fetch_all(&self.pool).await.map_err(|e| self.failed(e))? {
            let get = |e: sqlx::Error| self.failed(e);
            let ticket: i64 = row.try_get("ticket_id").map_err(get)?;
            let name: String = row.try_get("name").map_err(get)?;
            let label: String = row.try_get("label").map_err(get)?;
            let value: Option<String> = row.try_get("value").map_err(get)?;
            let slot = out.entry(ticket).or_default();
            if name == "subject" {
                slot.0 = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            } else if let Some(role) = self.config.fields.role_of(&name, &label) {
                slot.1.set(role, value);
            }
        }
        Ok(out)
    }

    /// Each ticket's messages, responses and notes, oldest first.
    async fn entries(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<DeskEntry>>, DeskError> {
        let sql = format!(
            "SELECT CAST(e.id AS SIGNED) AS id, CAST(th.object_id AS SIGNED) AS ticket_id, e.type AS kind,
                    e.poster, e.title, e.body, e.format, e.extra,
                    DATE_FORMAT(e.created, '%Y-%m-%d %H:%i:%s') AS created,
                    st.email AS staff_email, TRIM(CONCAT_WS(' ', st.firstname, st.lastname)) AS staff_name,
                    u.name AS user_name
             FROM {entry} e
             JOIN {thread} th ON th.id = e.thread_id AND th.object_type = 'T'
             LEFT JOIN {staff} st ON st.staff_id = e.staff_id AND e.staff_id <> 0
             LEFT JOIN {user} u ON u.id = e.user_id AND e.user_id <> 0
             WHERE th.object_id IN ({list}) AND e.type IN ('M', 'R', 'N')
             ORDER BY e.id",
            entry = self.t("thread_entry"),
            thread = self.t("thread"),
            staff = self.t("staff"),
            user = self.t("user"),
            list = placeholders(ids.len()),
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut out: HashMap<i64, Vec<DeskEntry>> = HashMap::new();
        for row in query.fetch_all(&self.pool).await.map_err(|e| self.failed(e))? {
            let get = |e: sqlx::Error| self.failed(e);
            let ticket: i64 = row.try_get("ticket_id").map_err(get)?;
            let kind: String = row.try_get("kind").map_err(get)?;
            let kind = match kind.as_str() {
                "M" => ThreadKind::Message,
                "R" => ThreadKind::Response,
                _ => ThreadKind::Note,
            };
            let poster: String = row.try_get("poster").map_err(get)?;
            let staff_name: Option<String> = row.try_get("staff_name").map_err(get)?;
            let user_name: Option<String> = row.try_get("user_name").map_err(get)?;
            let author = [Some(poster), staff_name, user_name]
                .into_iter()
                .flatten()
                .map(|a| a.trim().to_owned())
                .find(|a| !a.is_empty())
                .unwrap_or_else(|| "osTicket".into());
            let body: String = row.try_get("body").map_err(get)?;
            let format: String = row.try_get("format").map_err(get)?;
            let mut text = if format.eq_ignore_ascii_case("text") {
                body.trim().to_owned()
            } else {
                html::to_text(&body)
            };
            let title: Option<String> = row.try_get("title").map_err(get)?;
            if let Some(title) = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
                if kind == ThreadKind::Note && !text.starts_with(&title) {
                    text = format!("{title}\n{text}");
                }
            }
            if text.is_empty() {
                text = "(empty)".into();
            }
            let extra: Option<String> = row.try_get("extra").map_err(get)?;
            let created: String = row.try_get("created").map_err(get)?;
            out.entry(ticket).or_default().push(DeskEntry {
                id: row.try_get::<i64, _>("id").map_err(get)?.to_string(),
                kind,
                author,
                author_email: row.try_get("staff_email").map_err(get)?,
                at: parse_time(&created).unwrap_or(DateTime::UNIX_EPOCH),
                body: text,
                marker: extra.as_deref().and_then(marker_in),
            });
        }
        Ok(out)
    }

    /// Writes an internal note on the ticket, once: under a lock named
    /// after the marker (held by the database server, released when this
    /// connection ends however it ends), an entry already carrying the
    /// marker is returned instead of writing a second.
    pub async fn write_note(&self, item: &Outgoing<'_>) -> Result<String, DeskError> {
        if item.kind == OutgoingKind::Reply {
            return Err(DeskError::Config(
                "osTicket sends replies itself (with its mail): write them in osTicket".into(),
            ));
        }
        let ticket: i64 = item
            .ticket_id
            .parse()
            .map_err(|_| DeskError::Config(format!("`{}` is not an osTicket ticket id", item.ticket_id)))?;
        let mut conn = self.pool.acquire().await.map_err(|e| self.failed(e))?;
        let lock = format!("tickettime-note-{}", item.marker);
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 60)")
            .bind(&lock)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.failed(e))?;
        if got != Some(1) {
            return Err(DeskError::Failed {
                desk: self.desk(),
                detail: format!(
                    "another Tickettime holds the lock for note {} (still writing it?)",
                    item.marker
                ),
            });
        }
        let result = self.write_locked(&mut conn, ticket, item).await;
        let _ = sqlx::query("SELECT RELEASE_LOCK(?)").bind(&lock).execute(&mut *conn).await;
        result
    }

    async fn write_locked(
        &self,
        conn: &mut sqlx::MySqlConnection,
        ticket: i64,
        item: &Outgoing<'_>,
    ) -> Result<String, DeskError> {
        let sql = format!(
            "SELECT CAST(id AS SIGNED) FROM {thread} WHERE object_id = ? AND object_type = 'T' ORDER BY id LIMIT 1",
            thread = self.t("thread")
        );
        let thread: Option<i64> = sqlx::query_scalar(&sql)
            .bind(ticket)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.failed(e))?;
        let thread = thread.ok_or_else(|| DeskError::Failed {
            desk: self.desk(),
            detail: format!("ticket id {ticket} has no thread (was it deleted in osTicket?)"),
        })?;
        let marker = marker_json(item.marker);
        let sql = format!(
            "SELECT CAST(id AS SIGNED) FROM {entry} WHERE thread_id = ? AND extra = ? LIMIT 1",
            entry = self.t("thread_entry")
        );
        let found: Option<i64> = sqlx::query_scalar(&sql)
            .bind(thread)
            .bind(&marker)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.failed(e))?;
        if let Some(id) = found {
            return Ok(id.to_string());
        }
        let staff = match item.author_email {
            Some(email) => {
                let sql = format!(
                    "SELECT CAST(staff_id AS SIGNED) FROM {staff} WHERE LOWER(email) = LOWER(?) LIMIT 1",
                    staff = self.t("staff")
                );
                sqlx::query_scalar::<_, i64>(&sql)
                    .bind(email)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(|e| self.failed(e))?
                    .unwrap_or(0)
            }
            None => 0,
        };
        let sql = format!(
            "INSERT INTO {entry} (pid, thread_id, staff_id, user_id, type, flags, poster, source, title, body,
                format, ip_address, extra, created, updated)
             VALUES (0, ?, ?, 0, 'N', 64, ?, 'API', 'Time logged in Tickettime', ?, 'html', '', ?, NOW(), NOW())",
            entry = self.t("thread_entry")
        );
        let done = sqlx::query(&sql)
            .bind(thread)
            .bind(staff)
            .bind(truncate(item.author, 128))
            .bind(format!("<p>{}</p>", html::escape(item.body)))
            .bind(&marker)
            .execute(&mut *conn)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("42000") => DeskError::Refused {
                    desk: self.desk(),
                    detail: format!("the login may not write notes ({})", db.message()),
                },
                _ => self.failed(e),
            })?;
        Ok(done.last_insert_id().to_string())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The `extra` Tickettime's notes carry (osTicket keeps JSON there and
/// ignores keys it does not know).
fn marker_json(marker: &str) -> String {
    serde_json::json!({ "tickettime": marker }).to_string()
}

fn marker_in(extra: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(extra).ok()?;
    value.get("tickettime")?.as_str().map(str::to_owned)
}

fn encode(cursor: &Cursor) -> String {
    serde_json::to_string(cursor).unwrap_or_default()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok().map(|t| t.and_utc())
}

/// A status's state as Tickettime's status (osTicket's "Resolved" is solved).
fn status_of(state: &str, name: &str) -> TicketStatus {
    match state {
        "open" => TicketStatus::Open,
        "closed" if name.eq_ignore_ascii_case("resolved") => TicketStatus::Solved,
        _ => TicketStatus::Closed,
    }
}

/// The server's message, never the URL (it is ours) or a password.
fn db_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "no answer in 15 s".into(),
        other => other.to_string(),
    }
}

fn connect_error(name: &str, error: sqlx::Error) -> DeskError {
    let desk = format!("the osTicket database {name}");
    match &error {
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("28000")) => {
            DeskError::Refused { desk, detail: format!("wrong user or password ({})", db.message()) }
        }
        sqlx::Error::Database(db) if db.message().contains("Unknown database") => {
            DeskError::Refused { desk, detail: db.message().to_owned() }
        }
        sqlx::Error::Database(db) => DeskError::Refused { desk, detail: db.message().to_owned() },
        _ => DeskError::Unreachable { desk, detail: db_message(&error) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_splits_into_the_address_kept_and_the_password_for_the_keychain() {
        let (url, password) = split_url("mysql://tt:p%40ss@127.0.0.1:3306/osticket").expect("a URL");
        assert_eq!(url, "mysql://tt@127.0.0.1:3306/osticket");
        assert_eq!(password.expose_secret(), "p@ss");
        assert!(split_url("postgres://a:b@h/db").is_err());
        assert!(split_url("mysql://h/db").is_err(), "a user is needed");
        assert!(split_url("mysql://u:p@h").is_err(), "a database is needed");
    }

    #[test]
    fn the_prefix_must_be_an_identifier() {
        let ok = Config { prefix: "ost_".into(), ..Config::default() };
        assert!(ok.validate().is_ok());
        for bad in ["", "ost`; DROP TABLE x; --", "o s"] {
            assert!(Config { prefix: bad.into(), ..Config::default() }.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn markers_are_found_in_extra_and_only_there() {
        assert_eq!(marker_in(&marker_json("abc")), Some("abc".into()));
        assert_eq!(marker_in("{\"thread\":5}"), None);
        assert_eq!(marker_in("not json"), None);
    }

    #[test]
    fn resolved_is_solved_and_archived_is_closed() {
        assert_eq!(status_of("open", "Open"), TicketStatus::Open);
        assert_eq!(status_of("closed", "Resolved"), TicketStatus::Solved);
        assert_eq!(status_of("closed", "Closed"), TicketStatus::Closed);
        assert_eq!(status_of("archived", "Archived"), TicketStatus::Closed);
    }
}
