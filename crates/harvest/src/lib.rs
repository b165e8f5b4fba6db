//! The Harvest REST API v2, as Tickettime needs it.
//!
//! This crate knows Harvest and nothing of tickets: typed models shaped on
//! recorded Harvest traffic (64-bit ids, nullable fields, unknown keys
//! ignored) and [`HarvestClient`], which sends the required headers, follows
//! `links.next`, stays under the rate limit, retries what is safe to retry,
//! refreshes an OAuth token once (single-flight) and maps failures to
//! [`HarvestError`]. [`oauth`] holds the authorization-code flow with its
//! loopback redirect. Ticket attribution and storage live in the core.

mod client;
mod error;
mod limiter;
pub mod model;
pub mod oauth;

pub use client::{
    Config, Credentials, HarvestClient, OAuthApp, OAuthTokens, Page, Pager, Rejected, RetryPolicy,
    TimeEntryQuery,
};
pub use error::HarvestError;
pub use limiter::RateLimit;
pub use model::*;

/// `Result` with a [`HarvestError`].
pub type Result<T, E = HarvestError> = std::result::Result<T, E>;
