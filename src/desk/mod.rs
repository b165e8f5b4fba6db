//! Help desks whose tickets Tickettime brings in and keeps current: the
//! connector interface, what a connector hands over, and the sync that
//! stores it.
//!
//! A connector reads pages of changed tickets, each whole (its fields and
//! its thread), after an opaque cursor of its own; the store upserts a page
//! by the desk's ids and moves the cursor in the same transaction, so a
//! sync killed at any point resumes where its last commit left off and a
//! page read twice changes nothing. One sync per desk at a time (the
//! import's lease). Writes into a desk (a note for logged time) go through
//! the desk outbox: each carries its outbox id as a marker, written under a
//! lock the desk holds, so a write is looked for before it is ever repeated.
//!
//! A third desk is a module like [`osticket`] or [`zendesk`]: its config,
//! `connect`, `page` and a write, and an arm in [`Connector`].

pub mod html;
pub mod osticket;
pub mod zendesk;

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::domain::{ThreadKind, TicketStatus};
use crate::keychain::Keychain;
use crate::store::{DeskNote, DeskRecord, DeskSyncReport, Store};
use crate::{Error, Result};

/// The desks Tickettime has a connector for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum DeskKind {
    Osticket,
    Zendesk,
}

impl DeskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeskKind::Osticket => "osticket",
            DeskKind::Zendesk => "zendesk",
        }
    }

    pub fn parse(text: &str) -> Option<DeskKind> {
        match text {
            "osticket" => Some(DeskKind::Osticket),
            "zendesk" => Some(DeskKind::Zendesk),
            _ => None,
        }
    }

    /// How people call it.
    pub fn title(self) -> &'static str {
        match self {
            DeskKind::Osticket => "osTicket",
            DeskKind::Zendesk => "Zendesk",
        }
    }
}

impl fmt::Display for DeskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The desk's custom fields that carry Tickettime's: matched by a field's
/// name or its label, ignoring case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldNames {
    pub project: String,
    pub budget: String,
    pub quoted: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            project: "Harvest Project ID".into(),
            budget: "Budget Hours".into(),
            quoted: "Quoted Hours".into(),
        }
    }
}

impl FieldNames {
    /// Which of Tickettime's fields a desk field (by name and label) fills.
    pub fn role_of(&self, name: &str, label: &str) -> Option<FieldRole> {
        let is = |wanted: &str| {
            let wanted = wanted.trim();
            name.trim().eq_ignore_ascii_case(wanted) || label.trim().eq_ignore_ascii_case(wanted)
        };
        if is(&self.project) {
            Some(FieldRole::Project)
        } else if is(&self.budget) {
            Some(FieldRole::Budget)
        } else if is(&self.quoted) {
            Some(FieldRole::Quoted)
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldRole {
    Project,
    Budget,
    Quoted,
}

/// The desk's answers in the fields that carry the Harvest link and the
/// budget, as the desk holds them (text; empty is none). The store parses
/// them and says what it could not read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskFields {
    pub project: Option<String>,
    pub budget: Option<String>,
    pub quoted: Option<String>,
}

impl DeskFields {
    pub fn set(&mut self, role: FieldRole, value: Option<String>) {
        let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match role {
            FieldRole::Project => self.project = value,
            FieldRole::Budget => self.budget = value,
            FieldRole::Quoted => self.quoted = value,
        }
    }
}

/// A ticket as a desk has it, whole.
#[derive(Clone, Debug, PartialEq)]
pub struct DeskTicket {
    /// The desk's own id for it (osTicket's `ticket_id`, Zendesk's `id`).
    pub id: String,
    /// The number people know it by (osTicket's `number`).
    pub number: String,
    /// Where it opens in the desk, when the desk's address is known.
    pub url: Option<String>,
    pub subject: String,
    pub status: TicketStatus,
    pub client: Option<String>,
    /// The assigned agent's email, matched to Tickettime's staff.
    pub agent_email: Option<String>,
    pub fields: DeskFields,
    pub created_at: DateTime<Utc>,
    pub entries: Vec<DeskEntry>,
}

/// One message, response or internal note of a desk ticket's thread.
#[derive(Clone, Debug, PartialEq)]
pub struct DeskEntry {
    pub id: String,
    pub kind: ThreadKind,
    pub author: String,
    pub author_email: Option<String>,
    pub at: DateTime<Utc>,
    /// Plain text (HTML already converted).
    pub body: String,
    /// The desk outbox id when Tickettime wrote this entry itself.
    pub marker: Option<String>,
}

/// One read of a desk: whole tickets, the cursor after them, and whether
/// more may follow.
#[derive(Clone, Debug)]
pub struct DeskPage {
    pub tickets: Vec<DeskTicket>,
    pub cursor: String,
    pub more: bool,
    /// What the desk sent that could not be read and was left out (a
    /// ticket or comment without a readable time, say): the sync goes on.
    pub warnings: Vec<String>,
}

/// What a connector is told to write: a note (or reply) and its marker.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    pub marker: &'a str,
    pub ticket_id: &'a str,
    pub kind: OutgoingKind,
    pub body: &'a str,
    pub author: &'a str,
    pub author_email: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutgoingKind {
    Note,
    Reply,
}

/// What went wrong with a desk, in words that name it (never a password).
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("{desk} refused the login: {detail}")]
    Refused { desk: String, detail: String },
    #[error("cannot reach {desk}: {detail}")]
    Unreachable { desk: String, detail: String },
    #[error("{desk} does not look like {what}: {detail}")]
    Schema { desk: String, what: &'static str, detail: String },
    #[error("{desk}: {detail}")]
    Failed { desk: String, detail: String },
    #[error("{0}")]
    Config(String),
}

/// A connected desk, one arm per kind.
pub enum Connector {
    Osticket(osticket::OsTicket),
    Zendesk(zendesk::Zendesk),
}

impl Connector {
    /// Connects to `desk` with its secret and checks that it is what it says.
    pub async fn connect(desk: &DeskRecord, secret: &SecretString) -> Result<Connector, DeskError> {
        match desk.kind {
            DeskKind::Osticket => {
                let config: osticket::Config = serde_json::from_str(&desk.config).map_err(|e| {
                    DeskError::Config(format!("desk {}'s settings are unreadable: {e}", desk.id))
                })?;
                Ok(Connector::Osticket(osticket::OsTicket::connect(&desk.url, secret, config).await?))
            }
            DeskKind::Zendesk => {
                let config: zendesk::Config = serde_json::from_str(&desk.config).map_err(|e| {
                    DeskError::Config(format!("desk {}'s settings are unreadable: {e}", desk.id))
                })?;
                Ok(Connector::Zendesk(zendesk::Zendesk::connect(&desk.url, secret, config).await?))
            }
        }
    }

    /// The next page of changed tickets after `cursor` (none: the beginning).
    pub async fn page(&self, cursor: Option<&str>) -> Result<DeskPage, DeskError> {
        match self {
            Connector::Osticket(desk) => desk.page(cursor).await,
            Connector::Zendesk(desk) => desk.page(cursor).await,
        }
    }

    /// Whether this login may write Tickettime's notes into the desk.
    pub async fn writes_notes(&self) -> Result<bool, DeskError> {
        match self {
            Connector::Osticket(desk) => desk.may_write_notes().await,
            Connector::Zendesk(desk) => Ok(desk.may_write()),
        }
    }

    /// Writes `item` unless an entry with its marker is already there;
    /// returns the desk's id for the entry either way.
    pub async fn write(&self, item: &Outgoing<'_>) -> Result<String, DeskError> {
        match self {
            Connector::Osticket(desk) => desk.write_note(item).await,
            Connector::Zendesk(desk) => desk.write(item).await,
        }
    }

    pub async fn close(self) {
        match self {
            Connector::Osticket(desk) => desk.close().await,
            Connector::Zendesk(_) => {}
        }
    }
}

/// The keychain account a desk's secret is kept under: the desk's kind and
/// address (without the secret), so two databases that use one desk share it.
pub fn secret_account(kind: DeskKind, url: &str) -> String {
    format!("desk:{kind}:{url}")
}

/// The demo Zendesk's secret (public: it is the simulator's), when `desk` is
/// it: the address the demo's simulator runs at, on this machine. A desk
/// anywhere else never gets it, whatever the setting says.
async fn demo_secret(store: &Store, desk: &DeskRecord) -> Result<Option<SecretString>> {
    let demo = store.setting(crate::demo::DEMO_ZENDESK_SETTING).await?;
    Ok((desk.kind == DeskKind::Zendesk
        && demo.as_deref() == Some(desk.url.as_str())
        && crate::demo::is_local(&desk.url))
    .then(|| SecretString::from(zendesk_sim::Simulator::TOKEN.to_owned())))
}

/// Loads a desk's secret from this machine's keychain (the demo desk's is known).
pub async fn secret_for(store: &Store, keychain: &Keychain, desk: &DeskRecord) -> Result<SecretString> {
    if let Some(secret) = demo_secret(store, desk).await? {
        return Ok(secret);
    }
    let found = keychain.desk_secret(&secret_account(desk.kind, &desk.url)).map_err(|e| {
        Error::Invalid(format!(
            "cannot read desk {}'s password: this machine's keychain is not available ({e:?})",
            desk.id
        ))
    })?;
    found.ok_or_else(|| {
        Error::Invalid(format!(
            "desk {} ({} at {}) has no password in this machine's keychain: the machine that added it syncs it, \
             or add it here again with `tickettime desk add`",
            desk.id,
            desk.kind.title(),
            desk.url
        ))
    })
}

/// What one desk's sync did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeskOutcome {
    pub desk: i64,
    pub kind: String,
    #[serde(flatten)]
    pub report: DeskSyncReport,
    pub notes_written: usize,
    pub error: Option<String>,
}

/// Syncs one desk: writes what waits in its outbox, then reads every page
/// of changes, each committed with its cursor. A manager's to do (it
/// creates and changes tickets).
pub async fn sync_desk(
    store: &Store,
    actor: &Actor,
    desk: &DeskRecord,
    secret: &SecretString,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<DeskOutcome> {
    actor.require_manager("sync help desks")?;
    let connector = match Connector::connect(desk, secret).await {
        Ok(connector) => connector,
        Err(error) => {
            store.desk_synced(desk.id, Some(&error.to_string()), now()).await?;
            return Err(Error::Desk(error));
        }
    };
    let result = sync_connected(store, actor, desk, &connector, &now).await;
    connector.close().await;
    let mut outcome =
        DeskOutcome { desk: desk.id, kind: desk.kind.as_str().into(), ..DeskOutcome::default() };
    match result {
        Ok((report, notes)) => {
            store.desk_synced(desk.id, None, now()).await?;
            outcome.report = report;
            outcome.notes_written = notes;
            Ok(outcome)
        }
        Err(error) => {
            store.desk_synced(desk.id, Some(&error.to_string()), now()).await?;
            Err(error)
        }
    }
}

async fn sync_connected(
    store: &Store,
    actor: &Actor,
    desk: &DeskRecord,
    connector: &Connector,
    now: &impl Fn() -> DateTime<Utc>,
) -> Result<(DeskSyncReport, usize)> {
    let writes = connector.writes_notes().await.map_err(Error::Desk)?;
    store.set_desk_writes_notes(desk.id, writes).await?;
    let notes = if writes { push_notes(store, desk, connector, now).await? } else { 0 };
    let mut report = DeskSyncReport::default();
    let mut cursor = store.desk_cursor(desk.id).await?;
    loop {
        let page = connector.page(cursor.as_deref()).await.map_err(Error::Desk)?;
        let more = page.more;
        report.warnings.extend(page.warnings);
        let step = match store
            .apply_desk_page(actor, desk.id, page.tickets, &page.cursor, cursor.as_deref(), now())
            .await
        {
            Ok(step) => step,
            // Another sync of this desk is ahead: it brings the rest in.
            Err(Error::SyncBusy) => break,
            Err(error) => return Err(error),
        };
        report.add(step);
        cursor = Some(page.cursor);
        if !more {
            break;
        }
    }
    Ok((report, notes))
}

/// Writes the desk's waiting notes, each exactly once: claimed (marked
/// `sending`) and committed before the write, looked up by its marker in
/// the desk under the desk's own lock, written only when absent, then
/// marked sent. A crash anywhere leaves an item that the next push finds.
async fn push_notes(
    store: &Store,
    desk: &DeskRecord,
    connector: &Connector,
    now: &impl Fn() -> DateTime<Utc>,
) -> Result<usize> {
    let pusher = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4());
    let mut written = 0;
    for note in store.claim_desk_notes(desk.id, &pusher, now()).await? {
        let item = outgoing(&note);
        match connector.write(&item).await {
            Ok(remote) => {
                store.desk_note_sent(&note.id, &remote, now()).await?;
                written += 1;
            }
            // One note the desk refuses (its ticket deleted there, say)
            // waits with its reason; the others and the import go on.
            Err(error) => store.desk_note_failed(&note.id, &error.to_string(), now()).await?,
        }
    }
    Ok(written)
}

/// The background import's part: syncs every desk whose secret this
/// machine holds, when the acting person may sync desks (PMs and admins);
/// nothing otherwise. A desk that fails is reported in its outcome (and
/// its `last_error`), never stops the others or the Harvest import.
pub async fn sync_all(store: &Store, actor: &Actor) -> Vec<DeskOutcome> {
    if actor.require_manager("sync help desks").is_err() {
        return Vec::new();
    }
    let Ok(desks) = store.desks().await else { return Vec::new() };
    let keychain = Keychain::default();
    let mut outcomes = Vec::new();
    for desk in desks {
        // Another machine's desk: that machine syncs it.
        let secret = match demo_secret(store, &desk).await {
            Ok(Some(secret)) => secret,
            _ => match keychain.desk_secret(&secret_account(desk.kind, &desk.url)) {
                Ok(Some(secret)) => secret,
                _ => continue,
            },
        };
        let outcome = match sync_desk(store, actor, &desk, &secret, Utc::now).await {
            Ok(outcome) => outcome,
            Err(error) => DeskOutcome {
                desk: desk.id,
                kind: desk.kind.as_str().into(),
                error: Some(error.to_string()),
                ..DeskOutcome::default()
            },
        };
        outcomes.push(outcome);
    }
    outcomes
}

fn outgoing(note: &DeskNote) -> Outgoing<'_> {
    Outgoing {
        marker: &note.id,
        ticket_id: &note.source_id,
        kind: if note.kind == "reply" { OutgoingKind::Reply } else { OutgoingKind::Note },
        body: &note.body,
        author: &note.author,
        author_email: note.author_email.as_deref(),
    }
}
