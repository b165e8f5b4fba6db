//! What belongs to one person, not to the shared database: who a Harvest
//! token belongs to (`users/me`, cached per token) and the tasks that person
//! may log to. Kept in this OS user's cache directory, one small JSON file,
//! so two people sharing a database file (or a team database) never see
//! each other's identity or task list.
//!
//! The cache key is a SHA-256 of the account id and the token, never the
//! token itself. A lost or unreadable cache only costs one `users/me`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Role;

/// The environment variable that moves the cache (tests, portable installs).
pub const CACHE_ENV: &str = "TICKETTIME_CACHE_DIR";

/// How long a cached `users/me` answer is trusted while Harvest is reachable.
const FRESH_FOR_HOURS: i64 = 12;

/// Who a Harvest token belongs to, as `users/me` said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarvestIdentity {
    pub account_id: i64,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Administrators see every entry of the account; managers and members
    /// only some. Only a whole-account token may judge others' entries missing.
    pub sees_whole_account: bool,
}

impl HarvestIdentity {
    /// The identity of a `users/me` answer on `account_id`.
    pub fn of(account_id: i64, me: &harvest::User) -> Self {
        let base = me.base_role();
        HarvestIdentity {
            account_id,
            user_id: me.id,
            name: me.name(),
            email: me.email.trim().to_lowercase(),
            role: match base {
                "administrator" => Role::Admin,
                "manager" => Role::Pm,
                _ => Role::Agent,
            },
            sees_whole_account: base == "administrator",
        }
    }
}

/// One project's active tasks, in Harvest's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTasks {
    pub project_id: i64,
    pub project_name: String,
    pub client_name: Option<String>,
    pub tasks: Vec<(i64, String)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Entry {
    identity: Option<HarvestIdentity>,
    identified_at: Option<DateTime<Utc>>,
    #[serde(default)]
    tasks: Vec<ProjectTasks>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    tokens: BTreeMap<String, Entry>,
}

/// This OS user's cache of identities and task lists, keyed per token.
#[derive(Clone, Debug)]
pub struct PersonalCache {
    path: Option<PathBuf>,
}

impl Default for PersonalCache {
    /// `$TICKETTIME_CACHE_DIR/people.json`, else the platform cache directory.
    fn default() -> Self {
        let dir = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()).map(PathBuf::from).or_else(|| {
            directories::ProjectDirs::from("app", "Tickettime", "tickettime")
                .map(|d| d.cache_dir().to_owned())
        });
        PersonalCache { path: dir.map(|d| d.join("people.json")) }
    }
}

impl PersonalCache {
    /// A cache in a given file (tests).
    pub fn at(path: &Path) -> Self {
        PersonalCache { path: Some(path.to_owned()) }
    }

    /// A cache that keeps nothing (no home directory).
    pub fn none() -> Self {
        PersonalCache { path: None }
    }

    /// The key of a token on an account: a hash, never the token.
    pub fn key(account_id: i64, token: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(account_id.to_string().as_bytes());
        hash.update(b":");
        hash.update(token.as_bytes());
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The cached identity for `key`, and whether it is still fresh at `now`.
    pub fn identity(&self, key: &str, now: DateTime<Utc>) -> Option<(HarvestIdentity, bool)> {
        let entry = self.read().tokens.remove(key)?;
        let fresh = entry.identified_at.is_some_and(|at| now - at < Duration::hours(FRESH_FOR_HOURS));
        entry.identity.map(|identity| (identity, fresh))
    }

    pub fn save_identity(&self, key: &str, identity: &HarvestIdentity, now: DateTime<Utc>) {
        self.update(|file| {
            let entry = file.tokens.entry(key.to_owned()).or_default();
            entry.identity = Some(identity.clone());
            entry.identified_at = Some(now);
        });
    }

    /// The active tasks of `project` cached for `key` (empty when unknown).
    pub fn tasks(&self, key: &str, project: i64) -> Vec<(i64, String)> {
        self.read()
            .tokens
            .remove(key)
            .and_then(|e| e.tasks.into_iter().find(|p| p.project_id == project))
            .map(|p| p.tasks)
            .unwrap_or_default()
    }

    /// Replaces the task lists cached for `key` with the person's assignments.
    pub fn save_tasks(&self, key: &str, assignments: &[harvest::ProjectAssignment]) {
        let projects: Vec<ProjectTasks> = assignments
            .iter()
            .filter(|a| a.is_active)
            .map(|a| ProjectTasks {
                project_id: a.project.id,
                project_name: a.project.name.clone(),
                client_name: a.client.as_ref().map(|c| c.name.clone()),
                tasks: a.active_tasks().map(|t| (t.id, t.name.clone())).collect(),
            })
            .collect();
        self.update(|file| file.tokens.entry(key.to_owned()).or_default().tasks = projects);
    }

    /// An away waiting for the person's answer (see [`crate::nudge`]), kept
    /// beside the identities: the window asks it even after a restart.
    pub fn pending_away(&self) -> Option<crate::nudge::PendingAway> {
        let path = self.path.as_ref()?.with_file_name("away.json");
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Keeps (`Some`) or clears (`None`) the away waiting for an answer.
    pub fn set_pending_away(&self, away: Option<&crate::nudge::PendingAway>) {
        let Some(path) = self.path.as_ref().map(|p| p.with_file_name("away.json")) else { return };
        let outcome = match away {
            Some(away) => serde_json::to_vec(away)
                .map_err(std::io::Error::other)
                .and_then(|bytes| write_atomically(&path, &bytes)),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        if let Err(error) = outcome {
            eprintln!("note: the away waiting for an answer is not kept ({error})");
        }
    }

    /// Clears the away waiting for an answer, if it is still `answered`
    /// (a newer one waits on).
    pub fn clear_pending_away(&self, answered: &crate::nudge::PendingAway) {
        if self.pending_away().as_ref() == Some(answered) {
            self.set_pending_away(None);
        }
    }

    /// Forgets one token's entry (disconnect).
    pub fn forget(&self, key: &str) {
        self.update(|file| {
            file.tokens.remove(key);
        });
    }

    fn read(&self) -> File {
        let Some(path) = &self.path else { return File::default() };
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// Read, change, write to a temporary file and rename: a reader never
    /// sees half a file. Failures only cost a later `users/me`, so they are
    /// logged, not raised.
    fn update(&self, change: impl FnOnce(&mut File)) {
        let Some(path) = &self.path else { return };
        let mut file = self.read();
        change(&mut file);
        let write = || write_atomically(path, &serde_json::to_vec(&file).map_err(std::io::Error::other)?);
        if let Err(error) = write() {
            eprintln!("warning: the personal cache {} could not be written: {error}", path.display());
        }
    }
}

/// Writes a temporary file and renames it over `path`: a reader never sees
/// half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> HarvestIdentity {
        HarvestIdentity {
            account_id: 1,
            user_id: 7,
            name: "Ana".into(),
            email: "ana@example.com".into(),
            role: Role::Agent,
            sees_whole_account: false,
        }
    }

    #[test]
    fn identities_are_kept_per_token_and_never_under_the_token_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = PersonalCache::at(&dir.path().join("people.json"));
        let now = Utc::now();
        let (a, b) = (PersonalCache::key(1, "token-a"), PersonalCache::key(1, "token-b"));
        cache.save_identity(&a, &ana(), now);
        assert_eq!(cache.identity(&a, now), Some((ana(), true)));
        assert_eq!(cache.identity(&b, now), None, "another token is another person until Harvest says so");
        let text = std::fs::read_to_string(dir.path().join("people.json")).expect("written");
        assert!(!text.contains("token-a"), "the token is never written");
        assert_eq!(
            cache.identity(&a, now + Duration::hours(13)).map(|(_, fresh)| fresh),
            Some(false),
            "an old answer is stale"
        );
    }
}
