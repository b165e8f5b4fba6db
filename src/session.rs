//! One person's session on a database: the store, this process's Harvest
//! connection (if any), the [`Actor`] resolved from them once, and this OS
//! user's [`PersonalCache`]. The CLI opens one per command, the desktop one
//! per connection; every changing operation runs through it.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::connection::Harvest;
use crate::domain::Email;
use crate::personal::PersonalCache;
use crate::store::Store;
use crate::{Error, Result};

/// A resolved person on a database, with their Harvest connection.
#[derive(Clone, Debug)]
pub struct Session {
    pub store: Store,
    pub harvest: Option<Harvest>,
    pub actor: Actor,
    pub cache: PersonalCache,
}

impl Session {
    /// Resolves who acts (see [`Actor::resolve`]) and keeps it for the session.
    pub async fn open(
        store: Store,
        harvest: Option<Harvest>,
        cache: PersonalCache,
        label: Option<&Email>,
        now: DateTime<Utc>,
    ) -> Result<Session> {
        let actor = Actor::resolve(&store, harvest.as_ref(), &cache, label, now).await?;
        Ok(Session { store, harvest, actor, cache })
    }

    /// The session of whoever a ready client's token belongs to (asked of
    /// Harvest, as every process does), with no personal cache.
    pub async fn of_client(
        store: Store,
        client: &harvest::HarvestClient,
        now: DateTime<Utc>,
    ) -> Result<Session> {
        Session::open(store, Some(Harvest::of_client(client)), PersonalCache::none(), None, now).await
    }

    /// A session for an actor the caller has already established (tests, tools).
    pub fn with_actor(store: Store, harvest: Option<Harvest>, cache: PersonalCache, actor: Actor) -> Session {
        Session { store, harvest, actor, cache }
    }

    /// This session, with a client that does not keep a person waiting
    /// through long retries ([`harvest::RetryPolicy::WHILE_SOMEONE_WAITS`]):
    /// for work that is kept whatever Harvest answers.
    pub fn while_someone_waits(&self) -> Session {
        let mut session = self.clone();
        if let Some(harvest) = &mut session.harvest {
            harvest.client = harvest.client.with_retry(harvest::RetryPolicy::WHILE_SOMEONE_WAITS);
        }
        session
    }

    /// The Harvest client, or how to connect.
    pub fn client(&self) -> Result<&harvest::HarvestClient> {
        self.harvest.as_ref().map(|h| &h.client).ok_or(Error::NotConnected)
    }

    pub fn client_opt(&self) -> Option<&harvest::HarvestClient> {
        self.harvest.as_ref().map(|h| &h.client)
    }

    /// The Harvest user id of this session's token.
    pub fn harvest_user_id(&self) -> Result<i64> {
        self.actor.harvest().map(|h| h.user_id).ok_or(Error::NotConnected)
    }

    /// The active tasks of `project` this person may log to, as last cached.
    pub fn cached_tasks(&self, project: i64) -> Vec<(i64, String)> {
        self.harvest.as_ref().map(|h| self.cache.tasks(&h.key, project)).unwrap_or_default()
    }

    /// Refreshes this person's task cache from Harvest.
    pub fn cache_tasks(&self, assignments: &[harvest::ProjectAssignment]) {
        if let Some(h) = &self.harvest {
            self.cache.save_tasks(&h.key, assignments);
        }
    }
}
