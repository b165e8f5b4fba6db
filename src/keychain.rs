//! Harvest tokens in the OS keychain (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows), never in the database, a log or a
//! config file. With no keychain the caller is told so and keeps the token
//! in memory for that run only.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The keychain's service name for Tickettime's Harvest credentials.
pub const SERVICE: &str = "app.tickettime.harvest";
/// The keychain's service name for team database passwords.
pub const DATABASE_SERVICE: &str = "app.tickettime.database";

/// Why the keychain could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "no keychain is available ({0}); the Harvest token is kept in memory for this run only \
         (set HARVEST_ACCESS_TOKEN and HARVEST_ACCOUNT_ID to use a personal token without a keychain)"
    )]
    Unavailable(String),
    #[error("the keychain holds unreadable Tickettime credentials ({0}); run `tickettime disconnect` and connect again")]
    Corrupt(String),
}

/// What is kept for one connected Harvest account.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub account_id: i64,
    pub kind: CredentialKind,
    access_token: String,
    refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The OAuth app the tokens belong to (refresh needs the same one).
    pub client_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    Personal,
    Oauth,
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("account_id", &self.account_id)
            .field("kind", &self.kind)
            .field("access_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredCredentials {
    pub fn personal(account_id: i64, token: &SecretString) -> Self {
        StoredCredentials {
            account_id,
            kind: CredentialKind::Personal,
            access_token: token.expose_secret().to_owned(),
            refresh_token: None,
            expires_at: None,
            client_id: None,
        }
    }

    pub fn oauth(account_id: i64, tokens: &harvest::OAuthTokens, client_id: &str) -> Self {
        StoredCredentials {
            account_id,
            kind: CredentialKind::Oauth,
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: Some(tokens.refresh_token.expose_secret().to_owned()),
            expires_at: tokens.expires_at,
            client_id: Some(client_id.to_owned()),
        }
    }

    pub fn access_token(&self) -> SecretString {
        SecretString::from(self.access_token.clone())
    }

    pub fn oauth_tokens(&self) -> Option<harvest::OAuthTokens> {
        Some(harvest::OAuthTokens {
            access_token: self.access_token(),
            refresh_token: SecretString::from(self.refresh_token.clone()?),
            expires_at: self.expires_at,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredApp {
    client_id: String,
    client_secret: String,
}

/// One keychain slot. Tests use their own service name.
#[derive(Clone, Debug)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain {
            service: std::env::var("TICKETTIME_KEYCHAIN_SERVICE").unwrap_or_else(|_| SERVICE.to_owned()),
        }
    }
}

impl Keychain {
    pub fn with_service(service: &str) -> Self {
        Keychain { service: service.to_owned() }
    }

    fn entry(&self) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, "harvest").map_err(unavailable)
    }

    /// The stored credentials, if any.
    pub fn load(&self) -> Result<Option<StoredCredentials>, KeychainError> {
        match self.entry()?.get_password() {
            Ok(json) => {
                serde_json::from_str(&json).map(Some).map_err(|e| KeychainError::Corrupt(e.to_string()))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Replaces the stored credentials in one write (a rotated refresh token
    /// must replace the old one, never sit beside it).
    pub fn save(&self, credentials: &StoredCredentials) -> Result<(), KeychainError> {
        let json = serde_json::to_string(credentials).map_err(|e| KeychainError::Corrupt(e.to_string()))?;
        self.entry()?.set_password(&json).map_err(unavailable)
    }

    /// The password kept for a team database (`user@host:port/db`).
    pub fn database_password(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        let entry = keyring::Entry::new(DATABASE_SERVICE, account).map_err(unavailable)?;
        match entry.get_password() {
            Ok(password) => Ok(Some(SecretString::from(password))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn save_database_password(
        &self,
        account: &str,
        password: &SecretString,
    ) -> Result<(), KeychainError> {
        keyring::Entry::new(DATABASE_SERVICE, account)
            .and_then(|entry| entry.set_password(password.expose_secret()))
            .map_err(unavailable)
    }

    /// A help desk's secret (a database password or an API token), kept
    /// under the desk's kind and address (see [`crate::desk::secret_account`]).
    pub fn desk_secret(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        let entry = keyring::Entry::new(&self.desk_service(), account).map_err(unavailable)?;
        match entry.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn save_desk_secret(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError> {
        keyring::Entry::new(&self.desk_service(), account)
            .and_then(|entry| entry.set_password(secret.expose_secret()))
            .map_err(unavailable)
    }

    pub fn delete_desk_secret(&self, account: &str) -> Result<(), KeychainError> {
        match keyring::Entry::new(&self.desk_service(), account).and_then(|entry| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn desk_service(&self) -> String {
        format!("{}-desks", self.service)
    }

    /// The agency's Harvest OAuth app (client id and secret), entered once
    /// with `tickettime connect --client-id` or in the desktop's Settings.
    pub fn oauth_app(&self) -> Result<Option<harvest::OAuthApp>, KeychainError> {
        let entry = keyring::Entry::new(&self.service, "oauth-app").map_err(unavailable)?;
        match entry.get_password() {
            Ok(json) => {
                let app: StoredApp =
                    serde_json::from_str(&json).map_err(|e| KeychainError::Corrupt(e.to_string()))?;
                Ok(Some(harvest::OAuthApp {
                    client_id: app.client_id,
                    client_secret: SecretString::from(app.client_secret),
                }))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn save_oauth_app(&self, client_id: &str, client_secret: &SecretString) -> Result<(), KeychainError> {
        let json = serde_json::to_string(&StoredApp {
            client_id: client_id.to_owned(),
            client_secret: client_secret.expose_secret().to_owned(),
        })
        .map_err(|e| KeychainError::Corrupt(e.to_string()))?;
        keyring::Entry::new(&self.service, "oauth-app")
            .and_then(|entry| entry.set_password(&json))
            .map_err(unavailable)
    }

    pub fn delete(&self) -> Result<(), KeychainError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(error: keyring::Error) -> KeychainError {
    KeychainError::Unavailable(error.to_string())
}
