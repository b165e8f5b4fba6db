//! Which Harvest to talk to, with whose token: a personal token from the
//! environment, the demo simulator, or this OS user's keychain. Who that
//! token belongs to is the [`crate::actor`]'s business, cached per token in
//! this OS user's [`PersonalCache`], never in the shared database.

use secrecy::{ExposeSecret, SecretString};

use crate::actor::identify;
use crate::keychain::{CredentialKind, Keychain, StoredCredentials};
use crate::personal::{HarvestIdentity, PersonalCache};
use crate::store::{Backend, Store};
use crate::{Error, Result};

/// The setting that points a database at a running `tickettime demo`.
pub const DEMO_URL_SETTING: &str = "harvest_demo_url";
/// The OAuth redirect port used when `TICKETTIME_OAUTH_PORT` is unset.
pub const DEFAULT_OAUTH_PORT: u16 = 47823;

/// Harvest configuration from the environment.
#[derive(Clone, Default)]
pub struct HarvestEnv {
    pub api_url: Option<String>,
    pub id_url: Option<String>,
    pub token: Option<SecretString>,
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub oauth_port: Option<String>,
}

impl std::fmt::Debug for HarvestEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarvestEnv")
            .field("api_url", &self.api_url)
            .field("id_url", &self.id_url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl HarvestEnv {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        HarvestEnv {
            api_url: var("HARVEST_API_URL"),
            id_url: var("HARVEST_ID_URL"),
            token: var("HARVEST_ACCESS_TOKEN").map(SecretString::from),
            account_id: var("HARVEST_ACCOUNT_ID"),
            client_id: var("HARVEST_CLIENT_ID"),
            client_secret: var("HARVEST_CLIENT_SECRET").map(SecretString::from),
            oauth_port: var("TICKETTIME_OAUTH_PORT"),
        }
    }

    pub fn oauth_port(&self) -> Result<u16> {
        match &self.oauth_port {
            None => Ok(DEFAULT_OAUTH_PORT),
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| Error::Invalid(format!("TICKETTIME_OAUTH_PORT `{port}` is not a port number"))),
        }
    }

    /// The agency's OAuth app: from the environment, else as entered once
    /// into this OS user's keychain (`tickettime connect --client-id`, or the
    /// desktop's Settings), so a restart needs no environment.
    pub fn oauth_app(&self, keychain: &Keychain) -> Result<harvest::OAuthApp> {
        if let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) {
            return Ok(harvest::OAuthApp { client_id: id.clone(), client_secret: secret.clone() });
        }
        if let Ok(Some(app)) = keychain.oauth_app() {
            return Ok(app);
        }
        Err(Error::Invalid(format!(
            "no Harvest OAuth app is known: register one at https://id.getharvest.com/developers with the \
             redirect URL http://127.0.0.1:{}/callback, then `tickettime connect --client-id ID` (the secret on \
             standard input) or set HARVEST_CLIENT_ID and HARVEST_CLIENT_SECRET \
             (or connect with a personal token: `tickettime connect --token T --account-id A`)",
            self.oauth_port().unwrap_or(DEFAULT_OAUTH_PORT)
        )))
    }

    fn account_id(&self) -> Result<Option<i64>> {
        self.account_id
            .as_deref()
            .map(|a| {
                a.trim()
                    .parse()
                    .map_err(|_| Error::Invalid(format!("HARVEST_ACCOUNT_ID `{a}` is not a number")))
            })
            .transpose()
    }
}

/// Where the credentials in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Environment,
    Demo,
    Keychain(CredentialKind),
}

/// A ready Harvest client and what it stands on.
#[derive(Debug, Clone)]
pub struct Harvest {
    pub client: harvest::HarvestClient,
    pub source: Source,
    /// The per-token key of this person's [`PersonalCache`] entry.
    pub key: String,
}

impl Harvest {
    /// A client its caller built (tests, benchmarks, embedding): no personal cache entry.
    pub fn of_client(client: &harvest::HarvestClient) -> Self {
        Harvest { client: client.clone(), source: Source::Environment, key: String::new() }
    }

    fn new(client: harvest::HarvestClient, source: Source, token: &SecretString) -> Self {
        let key = PersonalCache::key(client.account_id(), token.expose_secret());
        Harvest { client, source, key }
    }
}

/// The client configuration: URLs from the environment, else the demo's,
/// else Harvest's real ones.
pub async fn config(store: &Store, env: &HarvestEnv) -> Result<harvest::Config> {
    let demo = store.setting(DEMO_URL_SETTING).await?;
    let mut config = harvest::Config::default();
    if let Some(url) = env.api_url.clone().or_else(|| demo.clone()) {
        config.api_url = url;
    }
    if let Some(url) = env.id_url.clone().or(demo) {
        config.id_url = url;
    }
    Ok(config)
}

/// Opens a Harvest client for this database, or says how to connect.
pub async fn open(store: &Store, env: &HarvestEnv, keychain: &Keychain) -> Result<Harvest> {
    let config = config(store, env).await?;
    if let (Some(token), Some(account)) = (&env.token, env.account_id()?) {
        let client = harvest::HarvestClient::new(
            config,
            account,
            harvest::Credentials::Personal(token.clone()),
            None,
        )?;
        return Ok(Harvest::new(client, Source::Environment, token));
    }
    if env.token.is_some() {
        return Err(Error::Invalid("HARVEST_ACCESS_TOKEN is set but HARVEST_ACCOUNT_ID is not".into()));
    }
    if store.setting(DEMO_URL_SETTING).await?.is_some() {
        let token = SecretString::from(harvest_sim::Simulator::MANAGER_TOKEN.to_owned());
        let client = harvest::HarvestClient::new(
            config,
            harvest_sim::Simulator::ACCOUNT_ID,
            harvest::Credentials::Personal(token.clone()),
            None,
        )?;
        return Ok(Harvest::new(client, Source::Demo, &token));
    }
    let stored = keychain.load()?.ok_or(Error::NotConnected)?;
    let credentials = match stored.kind {
        CredentialKind::Personal => harvest::Credentials::Personal(stored.access_token()),
        CredentialKind::Oauth => {
            let app = env.oauth_app(keychain)?;
            let tokens = stored
                .oauth_tokens()
                .ok_or_else(|| Error::Invalid("the stored OAuth tokens are incomplete".into()))?;
            harvest::Credentials::OAuth { tokens, app }
        }
    };
    let account = stored.account_id;
    let client_id = stored.client_id.clone().or_else(|| env.client_id.clone()).unwrap_or_default();
    let saver = keychain.clone();
    let on_refresh: Box<dyn Fn(&harvest::OAuthTokens) + Send + Sync> = Box::new(move |tokens| {
        if let Err(error) = saver.save(&StoredCredentials::oauth(account, tokens, &client_id)) {
            eprintln!("warning: the renewed Harvest token could not be saved: {error}");
        }
    });
    let client = harvest::HarvestClient::new(config, account, credentials, Some(on_refresh))?;
    Ok(Harvest::new(client, Source::Keychain(stored.kind), &stored.access_token()))
}

/// [`open`], with "no connection" as `None` (the solo owner then acts).
/// No keychain at all (no Secret Service) counts as no connection: nothing
/// could have been kept there. Unreadable credentials are an error.
pub async fn open_optional(store: &Store, env: &HarvestEnv, keychain: &Keychain) -> Result<Option<Harvest>> {
    match open(store, env, keychain).await {
        Ok(harvest) => Ok(Some(harvest)),
        Err(Error::NotConnected | Error::Keychain(crate::keychain::KeychainError::Unavailable(_))) => {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Connects with a personal access token: checked against Harvest (who am I)
/// before it is kept. Returns the account and a warning when no keychain
/// could keep the token (it then lives for this run only).
pub async fn connect_token(
    store: &Store,
    env: &HarvestEnv,
    keychain: &Keychain,
    cache: &PersonalCache,
    token: secrecy::SecretString,
    account_id: i64,
) -> Result<(HarvestIdentity, Harvest, Option<String>)> {
    leave_demo(store).await?;
    let config = config(store, env).await?;
    let client =
        harvest::HarvestClient::new(config, account_id, harvest::Credentials::Personal(token.clone()), None)?;
    let harvest = Harvest::new(client, Source::Keychain(CredentialKind::Personal), &token);
    let identity = identify(&harvest, cache, chrono::Utc::now()).await?;
    let warning =
        keychain.save(&StoredCredentials::personal(account_id, &token)).err().map(|e| e.to_string());
    Ok((identity, harvest, warning))
}

/// Only a solo file is ever pointed at a demo simulator; a team database
/// never carries one.
async fn leave_demo(store: &Store) -> Result<()> {
    if store.backend() == Backend::Sqlite {
        store.set_setting(DEMO_URL_SETTING, None).await?;
    }
    Ok(())
}

/// The whole OAuth sign-in: a loopback listener on the configured port, the
/// authorization URL handed to `open_browser` (the system browser, never a
/// webview), the redirect checked against `state`, the code exchanged, the
/// account taken from the scope (or the accounts list, `account_id` choosing
/// among several), the user identified, the tokens kept in the keychain.
pub async fn connect_oauth(
    store: &Store,
    env: &HarvestEnv,
    keychain: &Keychain,
    cache: &PersonalCache,
    account_id: Option<i64>,
    open_browser: impl FnOnce(&str),
) -> Result<(HarvestIdentity, Harvest, Option<String>)> {
    let app = env.oauth_app(keychain)?;
    leave_demo(store).await?;
    let config = config(store, env).await?;
    let loopback = harvest::oauth::Loopback::bind(env.oauth_port()?).await?;
    let auth = harvest::oauth::authorize(&config.id_url, &app, &loopback.redirect_uri())?;
    open_browser(auth.url.as_str());
    let callback = loopback.wait(&auth.state, std::time::Duration::from_secs(300)).await?;
    let tokens = harvest::oauth::exchange(&config, &app, auth, &callback).await?;
    let account = match callback.scope.as_deref().and_then(harvest::oauth::account_from_scope) {
        Some(account) => account,
        None => choose_account(&config, &tokens.access_token, account_id).await?,
    };
    let client_id = app.client_id.clone();
    // Kept before first use, so a crash right after sign-in loses nothing.
    let warning =
        keychain.save(&StoredCredentials::oauth(account, &tokens, &client_id)).err().map(|e| e.to_string());
    let access = tokens.access_token.clone();
    let saver = keychain.clone();
    let saver_id = client_id.clone();
    let on_refresh: Box<dyn Fn(&harvest::OAuthTokens) + Send + Sync> = Box::new(move |tokens| {
        if let Err(error) = saver.save(&StoredCredentials::oauth(account, tokens, &saver_id)) {
            eprintln!("warning: the renewed Harvest token could not be saved: {error}");
        }
    });
    let client = harvest::HarvestClient::new(
        config,
        account,
        harvest::Credentials::OAuth { tokens, app },
        Some(on_refresh),
    )?;
    let harvest = Harvest::new(client, Source::Keychain(CredentialKind::Oauth), &access);
    let me = identify(&harvest, cache, chrono::Utc::now()).await?;
    Ok((me, harvest, warning))
}

/// Keeps the agency's OAuth app in this OS user's keychain, so OAuth works
/// after a restart with no environment.
pub fn save_oauth_app(keychain: &Keychain, client_id: &str, secret: &SecretString) -> Result<()> {
    let client_id = client_id.trim();
    if client_id.is_empty() || secret.expose_secret().trim().is_empty() {
        return Err(Error::Invalid("the OAuth client id and secret must not be empty".into()));
    }
    keychain.save_oauth_app(client_id, secret)?;
    Ok(())
}

async fn choose_account(
    config: &harvest::Config,
    token: &secrecy::SecretString,
    wanted: Option<i64>,
) -> Result<i64> {
    let accounts = harvest::oauth::accounts(config, token).await?;
    let harvest: Vec<_> = accounts.accounts.iter().filter(|a| a.product == "harvest").collect();
    match (wanted, harvest.as_slice()) {
        (Some(id), list) if list.iter().any(|a| a.id == id) => Ok(id),
        (Some(id), _) => Err(Error::Invalid(format!("Harvest account {id} is not one this sign-in reaches"))),
        (None, [only]) => Ok(only.id),
        (None, []) => Err(Error::Invalid("this sign-in reaches no Harvest account".into())),
        (None, several) => Err(Error::Invalid(format!(
            "this sign-in reaches several Harvest accounts; choose one with --account-id: {}",
            several.iter().map(|a| format!("{} ({})", a.id, a.name)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Forgets this OS user's connection: their keychain entry, their cached
/// identity, and (solo) the demo. Nobody else's connection changes.
pub async fn disconnect(
    store: &Store,
    keychain: &Keychain,
    cache: &PersonalCache,
    harvest: Option<&Harvest>,
) -> Result<Option<String>> {
    let warning = keychain.delete().err().map(|e| e.to_string());
    if let Some(harvest) = harvest {
        cache.forget(&harvest.key);
    }
    leave_demo(store).await?;
    Ok(warning)
}

/// The keychain account a team database's password is kept under:
/// `user@host:port/database`.
pub fn database_account(url: &url::Url) -> String {
    format!(
        "{}@{}:{}{}",
        url.username(),
        url.host_str().unwrap_or("localhost"),
        url.port().unwrap_or(5432),
        url.path()
    )
}

/// A PostgreSQL URL named without its password gets the password from the
/// keychain (set with `tickettime db-password`), so no config file holds it.
/// Other URLs, and URLs that carry a password, are returned unchanged.
pub fn database_url(url: &str, keychain: &Keychain) -> Result<String> {
    let Ok(mut parsed) = url::Url::parse(url) else { return Ok(url.to_owned()) };
    if !matches!(parsed.scheme(), "postgres" | "postgresql")
        || parsed.password().is_some()
        || parsed.username().is_empty()
    {
        return Ok(url.to_owned());
    }
    let password = match keychain.database_password(&database_account(&parsed)) {
        Ok(Some(password)) => password,
        Ok(None) | Err(_) => return Ok(url.to_owned()),
    };
    parsed
        .set_password(Some(password.expose_secret()))
        .map_err(|()| Error::Invalid("this database URL cannot carry a password".into()))?;
    Ok(parsed.to_string())
}

/// Where the desktop keeps the team database it should open (no secrets:
/// the password lives in the keychain).
fn desktop_config() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("app", "Tickettime", "tickettime")
        .map(|d| d.config_dir().join("desktop.json"))
}

/// The team database the desktop was told to use in its Settings, if any.
/// The database a desktop process opens: in demo mode a throw-away file,
/// else `TICKETTIME_DB`, else the team database chosen in Settings, else
/// the platform data directory. A team URL comes without its password
/// (see [`database_url`]).
pub fn desktop_database_url(demo: bool) -> Result<String> {
    // IMPORTANT: first: the demo never writes to the configured database,
    // even when TICKETTIME_DB names one.
    if demo {
        let dir = std::env::temp_dir().join(format!("tickettime-demo-{}", std::process::id()));
        return Ok(dir.join("demo.db").display().to_string());
    }
    if let Ok(url) = std::env::var(crate::store::DB_ENV) {
        if !url.trim().is_empty() {
            return Ok(url);
        }
    }
    if let Some(team) = desktop_database() {
        return Ok(team);
    }
    let path = crate::store::default_path().ok_or_else(|| {
        Error::Invalid("no home directory to keep the database in; set TICKETTIME_DB".into())
    })?;
    Ok(path.display().to_string())
}

pub fn desktop_database() -> Option<String> {
    desktop_database_at(&desktop_config()?)
}

/// [`desktop_database`] from a given settings file.
pub fn desktop_database_at(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("team_database")?.as_str().filter(|u| !u.trim().is_empty()).map(str::to_owned)
}

/// Saves the desktop's team database (empty: this computer's own file). A
/// password in the URL is moved to the keychain; the file never holds one.
/// Returns the URL as saved.
pub fn set_desktop_database(url: &str, password: Option<&str>, keychain: &Keychain) -> Result<String> {
    let path = desktop_config()
        .ok_or_else(|| Error::Invalid("no home directory for the desktop's settings".into()))?;
    set_desktop_database_at(&path, url, password, keychain)
}

/// One per-person desktop setting (theme, shortcut, sync interval, start at
/// login): this OS user's config file, never the shared database.
pub fn desktop_setting(key: &str) -> Option<String> {
    let value = read_desktop_config(&desktop_config()?).remove(key)?;
    value.as_str().map(str::to_owned)
}

/// Saves per-person desktop settings beside the team database choice.
pub fn set_desktop_settings(values: &[(&str, String)]) -> Result<()> {
    let path = desktop_config()
        .ok_or_else(|| Error::Invalid("no home directory for the desktop's settings".into()))?;
    let mut config = read_desktop_config(&path);
    for (key, value) in values {
        config.insert((*key).to_owned(), serde_json::Value::String(value.clone()));
    }
    write_desktop_config(&path, &config)
}

fn read_desktop_config(path: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn write_desktop_config(
    path: &std::path::Path,
    config: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Invalid(format!("cannot save {}: {e}", path.display())))?;
    }
    std::fs::write(path, serde_json::Value::Object(config.clone()).to_string())
        .map_err(|e| Error::Invalid(format!("cannot save {}: {e}", path.display())))
}

/// [`set_desktop_database`] into a given settings file.
pub fn set_desktop_database_at(
    path: &std::path::Path,
    url: &str,
    password: Option<&str>,
    keychain: &Keychain,
) -> Result<String> {
    let url = url.trim();
    let mut saved = String::new();
    if !url.is_empty() {
        let mut parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "postgres" | "postgresql") && !u.username().is_empty())
            .ok_or_else(|| Error::Invalid(format!("`{url}` is not a postgres://user@host/database URL")))?;
        let secret = password
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .or_else(|| parsed.password().map(str::to_owned));
        let _ = parsed.set_password(None);
        if let Some(secret) = secret {
            keychain.save_database_password(&database_account(&parsed), &SecretString::from(secret))?;
        }
        saved = parsed.to_string();
    }
    let mut config = read_desktop_config(path);
    config.insert("team_database".into(), serde_json::Value::String(saved.clone()));
    write_desktop_config(path, &config)?;
    Ok(saved)
}
