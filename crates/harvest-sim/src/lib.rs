//! A Harvest v2 simulator: one small HTTP server on 127.0.0.1 that serves both the API
//! (`/v2/...`) and the identity side (`/oauth2/authorize`, `/api/v2/oauth2/token`,
//! `/api/v2/accounts`), so a client points `HARVEST_API_URL` and `HARVEST_ID_URL` at the same
//! [`Simulator::url`]. It follows `shared/harvest-api.md`, including the behaviours observed in
//! recorded traffic (error bodies, pagination envelope, 64-bit entry ids, string-typed writes).
//!
//! Tests start it on port 0 and drive it "as if in Harvest" through the methods on [`Simulator`]
//! (add or edit entries, expire tokens, inject [`Fault`]s, shift the clock, read the request log).
//! Tests in other languages use the same controls over HTTP under `/__sim/` (see `control.rs`).
//! What is not here: reports, expenses, invoices, cursor pagination, timestamp-timer accounts.

mod api;
mod control;
mod gate;
mod identity;
mod page;
pub mod seed;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use world::{EntryEdit, NewEntry, NewProject};

use world::World;

/// How a [`Simulator`] starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    /// Add a handful of past time entries (the people, clients, tasks and projects always exist).
    pub seed: bool,
    /// Per-token throttle on `/v2/...`; `None` disables it.
    pub rate_limit: Option<RateLimit>,
    /// Lifetime of OAuth access tokens (`expires_in`); the seeded demo tokens never expire.
    pub token_ttl: Duration,
    /// Keep only the last N requests in the log ([`Simulator::requests`]); `None` keeps every
    /// one. The demo runs for days: it keeps a few hundred, so that its memory stays flat.
    pub request_log: Option<usize>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 0,
            seed: true,
            rate_limit: Some(RateLimit { requests: 100, window: Duration::from_secs(15) }),
            token_ttl: Duration::from_secs(1_209_599),
            request_log: None,
        }
    }
}

/// A sliding-window throttle: at most `requests` per `window` for each access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// One request the simulator received (calls under `/__sim/` are not recorded).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub user_agent: Option<String>,
    pub authorization: Option<String>,
    /// The `Harvest-Account-Id` header.
    pub account_id: Option<String>,
    pub at: Instant,
    /// The status answered; for [`FaultKind::DropAfterHandling`] the status the handler chose
    /// (the client never saw it); 0 for [`FaultKind::Drop`].
    pub status: u16,
}

/// A queued misbehaviour: the next `times` requests matching `method` and `path_prefix` (matched
/// against the path and query) get `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// `None` matches any method; otherwise compared case-insensitively.
    pub method: Option<String>,
    /// Matched against the request path (without the query), e.g. `"/v2/time_entries"`.
    pub path_prefix: String,
    pub times: usize,
    pub kind: FaultKind,
}

impl Fault {
    /// A fault for the next single matching request.
    pub fn once(method: Option<&str>, path_prefix: &str, kind: FaultKind) -> Fault {
        Fault { method: method.map(str::to_owned), path_prefix: path_prefix.to_owned(), times: 1, kind }
    }

    /// The same fault for the next `times` matching requests.
    pub fn times(self, times: usize) -> Fault {
        Fault { times, ..self }
    }
}

/// What a [`Fault`] does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer this status without handling: `{"message": …}` (401 gives the invalid_token body,
    /// 404 the `{"status":404,"error":"Not Found"}` body, 429 an empty text/html body).
    Status(u16),
    /// Wait, then handle normally.
    Delay(Duration),
    /// Close the connection without a complete response, handling nothing.
    Drop,
    /// Handle the request (e.g. create the entry), then close the connection: the ambiguous POST.
    DropAfterHandling,
    /// Handle the request, then wait before answering: a client killed meanwhile never hears
    /// that its entry was created.
    DelayAfterHandling(Duration),
    /// 429 with an empty text/html body; `Retry-After` only when `Some` (seconds or HTTP-date).
    TooManyRequests { retry_after: Option<String> },
    /// 200 with `Content-Type: text/html` and a non-JSON body.
    Garbage,
}

/// State shared by every handler.
pub(crate) struct Shared {
    world: Mutex<World>,
    pub base_url: String,
    pub config: Config,
    pub started: Instant,
}

impl Shared {
    /// The one lock; never held across an `.await`. A panic elsewhere must not wedge the simulator.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(crate) type App = Arc<Shared>;

/// A running simulator. Dropping it stops the server; [`Simulator::shutdown`] waits for that.
pub struct Simulator {
    shared: App,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Simulator {
    pub const ACCOUNT_ID: i64 = seed::ACCOUNT_ID;
    pub const ADMIN_ID: i64 = seed::ADMIN_ID;
    pub const MANAGER_ID: i64 = seed::MANAGER_ID;
    pub const MEMBER_ID: i64 = seed::MEMBER_ID;
    pub const ADMIN_TOKEN: &'static str = seed::ADMIN_TOKEN;
    pub const MANAGER_TOKEN: &'static str = seed::MANAGER_TOKEN;
    pub const MEMBER_TOKEN: &'static str = seed::MEMBER_TOKEN;
    pub const CLIENT_ID: &'static str = seed::CLIENT_ID;
    pub const CLIENT_SECRET: &'static str = seed::CLIENT_SECRET;

    /// Binds 127.0.0.1:`config.port` and serves in the background of the current Tokio runtime.
    ///
    /// Errors: the port cannot be bound.
    pub async fn start(config: Config) -> std::io::Result<Simulator> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let port = listener.local_addr()?.port();
        let mut world = World::new();
        world.request_log = config.request_log;
        seed::people(&mut world);
        seed::catalogue(&mut world);
        if config.seed {
            seed::past_entries(&mut world);
        }
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            base_url: format!("http://127.0.0.1:{port}"),
            config,
            started: Instant::now(),
        });
        let router = api::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                eprintln!("harvest-sim: server error: {error}");
            }
        });
        Ok(Simulator { shared, stop: Some(stop), server: Some(server) })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash; both the API and the identity base URL.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Creates an entry as `entry.user_id` would in Harvest (no auth, no assignment checks).
    /// Without hours it is a running timer and stops that user's other timer. Returns the API JSON.
    pub fn add_entry(&self, entry: NewEntry) -> Value {
        let mut world = self.shared.world();
        let id = world.insert_entry(entry);
        let created = world.entries.get(&id).map(|e| world.entry_json(e));
        created.unwrap_or(Value::Null)
    }

    /// Edits an entry as if in Harvest (bumps `updated_at`); `None` if there is no such entry.
    pub fn edit_entry(&self, id: i64, edit: EntryEdit) -> Option<Value> {
        let mut world = self.shared.world();
        world.edit_entry(id, edit)?;
        world.entries.get(&id).map(|e| world.entry_json(e))
    }

    /// From now on answers `value` for `field` of entry `id` (a field type the client does not expect).
    pub fn corrupt_entry_field(&self, id: i64, field: &str, value: Value) {
        self.shared.world().corrupt_entry_field(id, field, value);
    }

    /// Deletes an entry as if in Harvest; false if there was none.
    pub fn delete_entry(&self, id: i64) -> bool {
        self.shared.world().entries.remove(&id).is_some()
    }

    /// One entry in API shape.
    pub fn entry(&self, id: i64) -> Option<Value> {
        let world = self.shared.world();
        world.entries.get(&id).map(|e| world.entry_json(e))
    }

    /// Every entry of every user in API shape, ordered by id.
    pub fn entries(&self) -> Vec<Value> {
        let world = self.shared.world();
        world.entries.values().map(|e| world.entry_json(e)).collect()
    }

    /// Adds a client (USD) and returns its id.
    pub fn add_client(&self, name: &str) -> i64 {
        self.shared.world().add_client(None, name)
    }

    /// Adds a task and returns its id.
    pub fn add_task(&self, name: &str) -> i64 {
        self.shared.world().add_task(None, name)
    }

    /// Adds a project with its task and user assignments (see [`NewProject`]); returns its id.
    pub fn add_project(&self, project: NewProject) -> i64 {
        self.shared.world().add_project(None, project)
    }

    /// Archives (`false`) or reactivates a project; false if there is no such project.
    pub fn set_project_active(&self, project_id: i64, is_active: bool) -> bool {
        let mut world = self.shared.world();
        let now = world.now();
        match world.projects.iter_mut().find(|p| p.id == project_id) {
            Some(project) => {
                project.is_active = is_active;
                project.updated_at = now;
                true
            }
            None => false,
        }
    }

    /// Activates or deactivates the assignment of `task_id` to `project_id` (creating it if
    /// missing); returns the task assignment id.
    pub fn set_task_assignment_active(&self, project_id: i64, task_id: i64, is_active: bool) -> i64 {
        let mut world = self.shared.world();
        let now = world.now();
        if let Some(existing) =
            world.task_assignments.iter_mut().find(|a| a.project_id == project_id && a.task_id == task_id)
        {
            existing.is_active = is_active;
            existing.updated_at = now;
            return existing.id;
        }
        world.assign_task(project_id, task_id, is_active, true, None, None)
    }

    /// One project in API shape.
    pub fn project(&self, id: i64) -> Option<Value> {
        let world = self.shared.world();
        world.project(id).map(|p| world.project_json(p))
    }

    /// Who "approves" `/oauth2/authorize` (default [`Simulator::MANAGER_ID`]).
    pub fn set_authorizing_user(&self, user_id: i64) {
        self.shared.world().authorizing_user = user_id;
    }

    /// The next use of `token` (an access token, demo or OAuth) gives 401 invalid_token.
    pub fn expire_access_token(&self, token: &str) {
        if let Some(access) = self.shared.world().tokens.get_mut(token) {
            access.expires_at = Some(chrono::DateTime::UNIX_EPOCH);
        }
    }

    /// Queues a fault. A request takes the oldest matching fault still in the queue, so a fault
    /// injected later for the same path waits until earlier ones are used up (or cleared).
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.shared.world().faults.push_back(fault);
        }
    }

    /// Drops every queued fault, used up or not (a fault with a large `times` outlives the call
    /// that gave up on it).
    pub fn clear_faults(&self) {
        self.shared.world().faults.clear();
    }

    /// Every request received (outside `/__sim/`), in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.world().requests.iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        self.shared.world().clear_requests();
    }

    /// Shifts the simulator's clock (timers, `updated_at`, token expiry) by `offset` from wall time.
    pub fn set_now_offset(&self, offset: chrono::Duration) {
        self.shared.world().now_offset = offset;
    }

    /// Stops accepting connections and waits (up to 2 s) for in-flight requests.
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_simulator_can_live_in_shared_application_state() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<super::Simulator>();
    }
}
