//! A Zendesk Support API simulator: one small HTTP server on 127.0.0.1 that
//! answers what Tickettime's Zendesk connector uses, the way Zendesk does:
//!
//! - `GET /api/v2/users/me.json`, `/users/show_many.json?ids=…`,
//!   `/users/search.json?query=email:…`
//! - `GET /api/v2/ticket_fields.json` (offset pages, `next_page`)
//! - `GET /api/v2/incremental/tickets/cursor.json?start_time=…|cursor=…`:
//!   tickets by `(updated_at, id)`, `after_cursor`/`after_url`,
//!   `end_of_stream`; items changed in the last minute are left out; ten
//!   requests a minute, then 429 with `Retry-After`
//! - `GET /api/v2/tickets/{id}.json`, `GET /api/v2/tickets/{id}/comments.json`
//!   (cursor pages with `page[size]`, `meta.has_more`, `links.next`)
//! - `PUT /api/v2/tickets/{id}.json` with a `comment` (public or private),
//!   `metadata`, `status`, `custom_fields`, and `safe_update` +
//!   `updated_stamp` (409 `UpdateConflict` when the ticket moved on)
//!
//! Authentication is `email/token:TOKEN` basic auth or an OAuth bearer
//! token; 401 `Couldn't authenticate you` otherwise; end-users get 403 on
//! ticket endpoints. Every answer carries `X-Rate-Limit` and
//! `X-Rate-Limit-Remaining`. Tests drive it "as if in Zendesk" through the
//! methods on [`Simulator`] (tickets, comments, field changes, the clock,
//! [`Fault`]s, held writes, the request log).

mod api;
pub mod seed;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use world::{Comment, NewTicket, Role, Ticket, User, World};

/// How a [`Simulator`] starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    /// Start with the demo account's fields, people and tickets ([`seed`]);
    /// the people and the fields always exist.
    pub seed_tickets: bool,
    /// Changes newer than this are left out of the incremental export
    /// (Zendesk: one minute).
    pub export_lag: Duration,
    /// The incremental endpoints' limit (Zendesk: 10 a minute).
    pub incremental_limit: Option<RateLimit>,
    /// Every endpoint's limit per account (Zendesk Team: 200 a minute).
    pub rate_limit: Option<RateLimit>,
    /// Most tickets one export page holds (Zendesk: 1000).
    pub export_page_max: usize,
    /// Seeds the ids: the same ids on every start (the demo); `None`: random.
    pub id_seed: Option<u64>,
    /// Keep only the last N requests in the log ([`Simulator::requests`]); `None` keeps every
    /// one. The demo runs for days: it keeps a few hundred, so that its memory stays flat.
    pub request_log: Option<usize>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 0,
            seed_tickets: true,
            export_lag: Duration::from_secs(60),
            incremental_limit: Some(RateLimit { requests: 10, window: Duration::from_secs(60) }),
            rate_limit: Some(RateLimit { requests: 200, window: Duration::from_secs(60) }),
            export_page_max: 1000,
            id_seed: None,
            request_log: None,
        }
    }
}

/// At most `requests` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// A queued misbehaviour: the next `times` requests whose method matches
/// and whose path starts with `path_prefix` get `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub method: Option<String>,
    pub path_prefix: String,
    pub times: usize,
    pub kind: FaultKind,
}

impl Fault {
    pub fn once(method: Option<&str>, path_prefix: &str, kind: FaultKind) -> Fault {
        Fault { method: method.map(str::to_owned), path_prefix: path_prefix.to_owned(), times: 1, kind }
    }

    pub fn times(self, times: usize) -> Fault {
        Fault { times, ..self }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer this status, handling nothing (`{"error": …}`; 503 with `Retry-After: 1`).
    Status(u16),
    /// Close the connection without an answer, handling nothing.
    Drop,
    /// Handle the request (the comment is written), then close the connection.
    DropAfterHandling,
    /// Wait, then handle.
    Delay(Duration),
}

/// One request the simulator answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub status: u16,
}

pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub config: Config,
    pub base_url: String,
    pub faults: Mutex<Vec<Fault>>,
    pub log: Mutex<Vec<Recorded>>,
    pub offset: Mutex<chrono::Duration>,
    /// Held for writing while a test holds the writes: PUTs wait on it.
    pub writes: Arc<tokio::sync::RwLock<()>>,
    pub incremental_calls: Mutex<Vec<std::time::Instant>>,
    pub calls: Mutex<Vec<std::time::Instant>>,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// While alive, every `PUT` waits (a write "in flight" a test can time).
pub struct HeldWrites(#[allow(dead_code)] tokio::sync::OwnedRwLockWriteGuard<()>);

impl Simulator {
    /// The account's API token (any agent's email with it).
    pub const TOKEN: &'static str = seed::API_TOKEN;
    /// An OAuth access token of Ada's.
    pub const OAUTH_TOKEN: &'static str = seed::OAUTH_TOKEN;
    pub const ADMIN_EMAIL: &'static str = seed::ADA_EMAIL;
    pub const AGENT_EMAIL: &'static str = seed::ANA_EMAIL;
    pub const END_USER_EMAIL: &'static str = seed::OLIVIA_EMAIL;

    /// Binds 127.0.0.1:`config.port` and serves in the background of the
    /// current Tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Simulator> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let port = listener.local_addr()?.port();
        let mut world = World::new(config.id_seed);
        seed::account(&mut world);
        if config.seed_tickets {
            seed::tickets(&mut world, Utc::now() - chrono::Duration::days(3));
        }
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            config,
            base_url: format!("http://127.0.0.1:{port}"),
            faults: Mutex::default(),
            log: Mutex::default(),
            offset: Mutex::new(chrono::Duration::zero()),
            writes: Arc::new(tokio::sync::RwLock::new(())),
            incremental_calls: Mutex::default(),
            calls: Mutex::default(),
        });
        let router = api::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                eprintln!("zendesk-sim: server error: {error}");
            }
        });
        Ok(Simulator { shared, stop: Some(stop), server: Some(server) })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The account's data, to read or change directly.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world()
    }

    /// The simulator's clock (the real one, moved by [`Simulator::advance`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Moves the clock on: what changed before is then old enough to export.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.shared.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += chrono::Duration::from_std(by).unwrap_or_default();
    }

    pub fn field_id(&self, title: &str) -> u64 {
        let world = self.world();
        world
            .fields
            .iter()
            .find(|f| f.title == title)
            .map(|f| f.id)
            .unwrap_or_else(|| panic!("no field {title}"))
    }

    pub fn user_id(&self, email: &str) -> u64 {
        self.world().user_by_email(email).map(|u| u.id).unwrap_or_else(|| panic!("no user {email}"))
    }

    pub fn add_user(&self, name: &str, email: &str, role: Role) -> u64 {
        self.world().add_user(name, email, role)
    }

    pub fn add_ticket(&self, ticket: NewTicket) -> u64 {
        let now = self.now();
        self.world().add_ticket(ticket, now)
    }

    /// A comment written in Zendesk (by a person, through its web UI).
    pub fn add_comment(&self, ticket: u64, author: u64, html: &str, public: bool) -> u64 {
        let now = self.now();
        self.world()
            .add_comment(ticket, author, html, public, Value::Null, "web", now)
            .expect("a known ticket")
    }

    /// Sets a custom field's value (`Value::Null` clears it); touches the ticket.
    pub fn set_field(&self, ticket: u64, field: u64, value: Value) {
        let now = self.now();
        let mut world = self.world();
        let t = world.tickets.get_mut(&ticket).expect("a known ticket");
        t.custom.insert(field, value);
        t.updated_at = now;
    }

    /// Makes the ticket's JSON carry `value` for `key` as given (`None`:
    /// its own again); touches the ticket.
    pub fn set_raw(&self, ticket: u64, key: &str, value: Option<Value>) {
        let now = self.now();
        let mut world = self.world();
        let t = world.tickets.get_mut(&ticket).expect("a known ticket");
        match value {
            Some(value) => t.raw.insert(key.to_owned(), value),
            None => t.raw.remove(key),
        };
        t.updated_at = now;
    }

    pub fn set_status(&self, ticket: u64, status: &str) {
        let now = self.now();
        let mut world = self.world();
        let t = world.tickets.get_mut(&ticket).expect("a known ticket");
        t.status = status.into();
        t.updated_at = now;
    }

    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.world().tickets.get(&id).cloned()
    }

    pub fn comments(&self, ticket: u64) -> Vec<Comment> {
        self.world().comments_of(ticket).into_iter().cloned().collect()
    }

    /// Ticket ids, oldest first.
    pub fn ticket_ids(&self) -> Vec<u64> {
        let world = self.world();
        let mut tickets: Vec<&Ticket> = world.tickets.values().collect();
        tickets.sort_by_key(|t| (t.created_at, t.id));
        tickets.into_iter().map(|t| t.id).collect()
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    /// Holds every `PUT` until the returned guard is dropped.
    pub async fn hold_writes(&self) -> HeldWrites {
        HeldWrites(self.shared.writes.clone().write_owned().await)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut server).await.is_err() {
                server.abort();
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
