//! The Harvest REST API v2, as Tickettime needs it.
//!
//! This crate knows Harvest and nothing of tickets: typed models shaped on
//! recorded Harvest traffic (64-bit ids, nullable fields, unknown keys
//! ignored). Ticket attribution and storage live in the `tickettime` core.

pub mod model;

pub use model::{ExternalReference, IdName, TimeEntry, TimeEntryPage};
