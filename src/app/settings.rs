//! The desktop's settings and their rules. What is one person's (sync
//! interval, start at login, shortcut, theme) lives in this OS user's config
//! file; the budget lines are the team's, in the database, changed through
//! the store's setters (which check the actor's role).

use serde::{Deserialize, Serialize};

use crate::Store;

/// The window's colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    /// Follows the desktop's light or dark preference.
    #[default]
    System,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }

    fn parse(text: &str) -> Option<Theme> {
        [Theme::Light, Theme::Dark, Theme::System].into_iter().find(|t| t.as_str() == text)
    }
}

/// Everything the Settings screen edits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    pub sync_interval_minutes: u32,
    pub approaching_pct: u32,
    pub near_pct: u32,
    pub lock_pct: u32,
    pub start_at_login: bool,
    pub global_shortcut: String,
    pub theme: Theme,
    /// The team's PostgreSQL database (no password), or empty for this
    /// computer's own file. Used from the next start.
    pub team_database: String,
    /// Ask after this many minutes without input while a timer runs; 0: never.
    pub idle_minutes: u32,
    /// When reminders come ("Start a timer?", "Still working on #12?").
    pub reminders: crate::domain::reminder::ReminderSettings,
}

/// What Save sends: the settings, and the team database's password when
/// one is typed (write-only: it goes to the keychain and is never sent back).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsInput {
    #[serde(flatten)]
    pub settings: Settings,
    pub team_password: Option<String>,
}

pub const DEFAULT_SHORTCUT: &str = "CommandOrControl+Shift+T";

impl Settings {
    pub async fn load(store: &Store) -> crate::Result<Self> {
        let lines = store.thresholds().await?;
        let nudges = crate::nudge::NudgeSettings::load();
        let get =
            |key: &'static str| async move { Ok::<_, crate::Error>(crate::connection::desktop_setting(key)) };
        Ok(Settings {
            sync_interval_minutes: get("sync_interval_minutes")
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            approaching_pct: lines.approaching,
            near_pct: lines.near,
            lock_pct: lines.lock,
            start_at_login: get("start_at_login").await?.is_some_and(|v| v == "true"),
            global_shortcut: get("global_shortcut").await?.unwrap_or_else(|| DEFAULT_SHORTCUT.to_owned()),
            theme: get("theme").await?.as_deref().and_then(Theme::parse).unwrap_or_default(),
            team_database: crate::connection::desktop_database().unwrap_or_default(),
            idle_minutes: nudges.idle_minutes,
            reminders: nudges.reminders,
        })
    }

    /// Saves what changed: the budget lines as `actor` (PMs and admins; the
    /// lock line only admins), the rest for this OS user only.
    pub async fn save(
        &self,
        team_password: Option<&str>,
        store: &Store,
        actor: Option<&crate::Actor>,
    ) -> crate::Result<Settings> {
        let may_set_lock = actor.is_some_and(|a| a.role() == crate::domain::Role::Admin);
        let current = Settings::load(store).await?;
        if !(1..=1440).contains(&self.sync_interval_minutes) {
            return Err(crate::Error::Invalid("the sync interval must be 1 to 1440 minutes".into()));
        }
        let nudges = crate::nudge::NudgeSettings {
            idle_minutes: self.idle_minutes,
            reminders: self.reminders.clone(),
        };
        nudges.validate()?;
        if self.lock_pct != current.lock_pct && !may_set_lock {
            return Err(crate::Error::Invalid("only an admin changes the lock threshold".into()));
        }
        let lines_changed = self.lock_pct != current.lock_pct
            || self.near_pct != current.near_pct
            || self.approaching_pct != current.approaching_pct;
        if lines_changed {
            let actor = actor.ok_or(crate::Error::NotConnected)?;
            for (key, new, old) in [
                ("lock_pct", self.lock_pct, current.lock_pct),
                ("near_pct", self.near_pct, current.near_pct),
                ("approaching_pct", self.approaching_pct, current.approaching_pct),
            ] {
                if new != old {
                    store.set_threshold(actor, key, new).await?;
                }
            }
        }
        crate::connection::set_desktop_settings(&[
            ("sync_interval_minutes", self.sync_interval_minutes.to_string()),
            ("start_at_login", if self.start_at_login { "true" } else { "false" }.to_owned()),
            ("global_shortcut", self.global_shortcut.trim().to_owned()),
            ("theme", self.theme.as_str().to_owned()),
        ])?;
        nudges.save()?;
        if self.team_database != current.team_database || team_password.is_some_and(|p| !p.is_empty()) {
            crate::connection::set_desktop_database(
                &self.team_database,
                team_password,
                &crate::keychain::Keychain::default(),
            )?;
        }
        Settings::load(store).await
    }
}
