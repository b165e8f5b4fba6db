//! The rules of Tickettime, with no I/O: tickets, staff and roles, exact
//! hours, budget math (utilization, bands, lock, threshold events),
//! attribution of Harvest entries to tickets and the merged timeline.
//! Time is always passed in; nothing here reads a clock or a database.

pub mod attribution;
pub mod budget;
pub mod hours;
pub mod idle;
pub mod reminder;
pub mod staff;
pub mod ticket;
pub mod timeline;

pub use budget::{
    evaluate, unlock, AlertLevel, Band, BudgetState, Evaluation, EventKind, Thresholds, Utilization,
};
pub use hours::{Hours, HoursError, LoggedHours};
pub use staff::{Email, Role};
pub use ticket::{ThreadKind, TicketNumber, TicketStatus};

/// A ticket rule was broken. Callers branch on these (the CLI prints them,
/// the desktop maps them to codes), so each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("ticket is locked: it reached its budget; a PM must unlock it before {0} can be added")]
    Locked(&'static str),
    #[error("{article} {role} may not {action}; ask a PM or admin", article = if matches!(.role, Role::Pm) { "a" } else { "an" })]
    NotPermitted { action: &'static str, role: Role },
    #[error("a reason is required to unlock a ticket")]
    ReasonRequired,
    #[error("the ticket is not locked")]
    NotLocked,
    #[error("{0} cannot be empty")]
    Empty(&'static str),
}
