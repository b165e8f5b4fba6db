//! Tickettime's core: the time-tracking side of a help desk, wired to Harvest.
//!
//! Everything worth testing lives here, headless: the rules ([`domain`]),
//! storage ([`store`]) and the `tickettime` command line ([`cli`]). The
//! desktop shell in `src-tauri/` only wires these to windows and the tray.

pub mod actor;
pub mod app;
pub mod cli;
pub mod connection;
pub mod demo;
pub mod desk;
pub mod domain;
pub mod error;
pub mod export_file;
pub mod idle;
pub mod keychain;
pub mod logging;
pub mod notify;
pub mod nudge;
pub mod personal;
pub mod report;
pub mod schedule;
pub mod session;
pub mod store;
pub mod summarize;
pub mod sync;
pub mod timer;
pub mod watch;

pub use actor::Actor;
pub use error::{Error, Result};
pub use session::Session;
pub use store::Store;
