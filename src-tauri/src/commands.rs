//! IPC commands: parse, call one core function, map the error.

use serde::Serialize;
use tauri::State;
use tickettime::store::TicketView;
use tickettime::{Error, Store};

/// What the UI switches on when a command fails.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    NotFound,
    Locked,
    Forbidden,
    Invalid,
    Storage,
    Harvest,
    NotConnected,
    Confirm,
}

/// An error as it crosses IPC: `{ code, message }`.
#[derive(Debug, Serialize)]
pub struct CommandError {
    code: Code,
    message: String,
}

impl From<Error> for CommandError {
    fn from(error: Error) -> Self {
        use tickettime::domain::TicketError;
        let code = match &error {
            Error::TicketNotFound(_) | Error::StaffNotFound(_) => Code::NotFound,
            Error::Rule(TicketError::Locked(_)) => Code::Locked,
            Error::Rule(TicketError::NotPermitted { .. }) => Code::Forbidden,
            Error::Rule(_)
            | Error::Hours(_)
            | Error::Invalid(_)
            | Error::StaffExists(_)
            | Error::NoProject(_) => Code::Invalid,
            Error::Open { .. } | Error::Database(_) | Error::Migrate(_) => Code::Storage,
            Error::Harvest(_) | Error::SyncBusy => Code::Harvest,
            Error::NeedsConfirmation(_) => Code::Confirm,
            Error::NotConnected | Error::Keychain(_) => Code::NotConnected,
        };
        CommandError { code, message: error.to_string() }
    }
}

/// Every ticket with its budget figures, for the list.
#[tauri::command]
pub async fn list_tickets(store: State<'_, Store>) -> Result<Vec<TicketView>, CommandError> {
    Ok(store.tickets().await?)
}
