//! Ticket identity, status and the kinds of thread entries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A ticket's number as the help desk shows it (`#123`); always positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TicketNumber(i64);

impl TicketNumber {
    pub fn new(number: i64) -> Option<Self> {
        (number > 0).then_some(TicketNumber(number))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl FromStr for TicketNumber {
    type Err = String;

    /// Accepts `123` and `#123`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches('#');
        digits
            .parse::<i64>()
            .ok()
            .and_then(TicketNumber::new)
            .ok_or_else(|| format!("`{}` is not a ticket number", s.trim()))
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a ticket is in the help desk's flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketStatus {
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::OnHold,
        TicketStatus::Solved,
        TicketStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::OnHold => "on-hold",
            TicketStatus::Solved => "solved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl FromStr for TicketStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        TicketStatus::ALL.into_iter().find(|status| status.as_str() == wanted).ok_or_else(|| {
            format!("unknown status `{}` (expected open, pending, on-hold, solved or closed)", s.trim())
        })
    }
}

/// The three kinds of entries in a ticket's thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ThreadKind {
    /// From the client.
    Message,
    /// From staff, to the client.
    Response,
    /// Internal, staff only.
    Note,
}

impl ThreadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Message => "message",
            ThreadKind::Response => "response",
            ThreadKind::Note => "note",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "message" => Some(ThreadKind::Message),
            "response" => Some(ThreadKind::Response),
            "note" => Some(ThreadKind::Note),
            _ => None,
        }
    }

    /// Staff write responses and notes; a locked ticket refuses both.
    /// Client messages always arrive.
    pub fn refused_when_locked(self) -> bool {
        matches!(self, ThreadKind::Response | ThreadKind::Note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_accept_a_hash_and_refuse_zero() {
        assert_eq!("#12".parse::<TicketNumber>().map(TicketNumber::get), Ok(12));
        assert!("0".parse::<TicketNumber>().is_err());
        assert!("abc".parse::<TicketNumber>().is_err());
    }

    #[test]
    fn statuses_parse_loosely() {
        assert_eq!("On Hold".parse::<TicketStatus>(), Ok(TicketStatus::OnHold));
        assert!("done".parse::<TicketStatus>().is_err());
    }

    #[test]
    fn only_staff_entries_are_refused_when_locked() {
        assert!(!ThreadKind::Message.refused_when_locked(), "clients can always write in");
        assert!(ThreadKind::Response.refused_when_locked());
        assert!(ThreadKind::Note.refused_when_locked());
    }
}
