//! Tickettime's integration tests, one binary (one link instead of nine):
//! real SQLite files and, when `TICKETTIME_TEST_PG` is set, a real
//! PostgreSQL server; the Harvest simulator; the `tickettime` command as a
//! user runs it. Each module says what it covers.

mod support;

mod away;
mod cli;
mod delivery;
mod harvest;
mod keychain;
mod osticket;
mod outbox_model;
mod reports;
mod store;
mod summarize;
mod sync;
mod team;
mod zendesk;
