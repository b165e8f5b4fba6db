//! The core's error: what went wrong, in words a user can act on.

use crate::domain::{HoursError, TicketError, TicketNumber};

/// Everything a core operation can refuse or fail with. The CLI prints the
/// message on one line; the desktop maps the variant to a code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rule(#[from] TicketError),
    #[error("ticket {0} does not exist")]
    TicketNotFound(TicketNumber),
    #[error("no staff member has the email {0}; add one with `tickettime staff add`")]
    StaffNotFound(String),
    #[error("a staff member with the email {0} already exists")]
    StaffExists(String),
    #[error("invalid hours: {0}")]
    Hours(#[from] HoursError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Harvest(#[from] harvest::HarvestError),
    #[error(
        "not connected to Harvest: run `tickettime connect` (or set HARVEST_ACCESS_TOKEN and HARVEST_ACCOUNT_ID; \
         `tickettime demo` tries it without an account)"
    )]
    NotConnected,
    #[error(transparent)]
    Desk(#[from] crate::desk::DeskError),
    #[error(transparent)]
    Keychain(#[from] crate::keychain::KeychainError),
    /// The action needs the user's yes; the message is the question.
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error(
        "on a team database only a PM or admin whose Harvest token sees every entry of the linked projects (a \
         Harvest administrator, or a manager of every linked project) imports, and {0} is not one: ask the \
         team's sync leader (a PM's or admin's desktop, or `tickettime sync --every 5m` with their token)"
    )]
    ImportNotPermitted(String),
    #[error(
        "nobody who can import is online: a PM's or admin's Tickettime desktop imports for the team; ask one to \
         open it, or run `tickettime sync --every 5m` with their token"
    )]
    NoLeader,
    #[error("another import is running on this database; skipped (it will have fetched the same entries)")]
    SyncBusy,
    #[error("ticket {0} has no Harvest project; link one with `tickettime ticket link {n} --project ID`", n = .0.get())]
    NoProject(TicketNumber),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
