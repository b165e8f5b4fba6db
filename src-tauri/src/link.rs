//! The running app's session: who this desktop acts as (resolved once per
//! connection by the core's [`Session`]), its Harvest client, and the demo
//! simulator when there is one. Connecting and disconnecting go through the
//! core's flows; this only keeps the result.

use harvest::HarvestClient;
use tickettime::connection::{self, HarvestEnv};
use tickettime::keychain::Keychain;
use tickettime::personal::PersonalCache;
use tickettime::{Error, Session, Store};
use tokio::sync::RwLock;

/// How the app reaches Harvest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Connected,
    Demo,
    Disconnected,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Connected => "connected",
            Mode::Demo => "demo",
            Mode::Disconnected => "disconnected",
        }
    }
}

struct State {
    /// `Err` says why nobody could be resolved (an unmapped team login, a
    /// token of someone else): nothing can be changed until it is fixed.
    session: Result<Session, String>,
    mode: Mode,
    simulator: Option<tickettime::demo::Simulators>,
}

/// The session, behind an async lock (connecting takes a while).
pub struct HarvestLink {
    state: RwLock<State>,
    env: HarvestEnv,
    keychain: Keychain,
    cache: PersonalCache,
}

impl HarvestLink {
    /// At start-up: demo mode when asked, else whatever credentials this OS
    /// user has. Returns a notice for the user when something is wrong.
    pub async fn open(store: &Store, demo_port: Option<u16>) -> (Self, Option<String>) {
        let link = HarvestLink {
            state: RwLock::new(State {
                session: Err(String::new()),
                mode: Mode::Disconnected,
                simulator: None,
            }),
            env: HarvestEnv::from_env(),
            keychain: Keychain::default(),
            cache: PersonalCache::default(),
        };
        let notice = match demo_port {
            Some(port) => {
                link.start_demo(store, port).await.err().map(|e| format!("The demo could not start: {e:#}"))
            }
            None => link.resume(store).await.err(),
        };
        (link, notice)
    }

    /// Resolves the session from this OS user's credentials (or none).
    async fn resume(&self, store: &Store) -> Result<(), String> {
        let harvest = match connection::open_optional(store, &self.env, &self.keychain).await {
            Ok(harvest) => harvest,
            Err(error) => {
                // Credentials that cannot be used: act without Harvest, say why.
                let _ = self.settle(store, None, None).await;
                return Err(error.to_string());
            }
        };
        let mode = match harvest.as_ref().map(|h| h.source) {
            Some(connection::Source::Demo) => Mode::Demo,
            Some(_) => Mode::Connected,
            None => Mode::Disconnected,
        };
        match Session::open(store.clone(), harvest, self.cache.clone(), None, chrono::Utc::now()).await {
            Ok(session) => {
                self.set(Ok(session), mode, None).await;
                Ok(())
            }
            Err(error) => {
                self.set(Err(error.to_string()), Mode::Disconnected, None).await;
                Err(error.to_string())
            }
        }
    }

    /// Resolves the session with `harvest` (or none) and keeps it.
    async fn settle(
        &self,
        store: &Store,
        harvest: Option<connection::Harvest>,
        simulator: Option<tickettime::demo::Simulators>,
    ) -> tickettime::Result<()> {
        let mode = match &harvest {
            None => Mode::Disconnected,
            Some(_) if simulator.is_some() => Mode::Demo,
            Some(_) => Mode::Connected,
        };
        match Session::open(store.clone(), harvest, self.cache.clone(), None, chrono::Utc::now()).await {
            Ok(session) => {
                self.set(Ok(session), mode, simulator).await;
                Ok(())
            }
            Err(error) => {
                self.set(Err(error.to_string()), Mode::Disconnected, None).await;
                Err(error)
            }
        }
    }

    async fn set(
        &self,
        session: Result<Session, String>,
        mode: Mode,
        simulator: Option<tickettime::demo::Simulators>,
    ) {
        let mut state = self.state.write().await;
        state.session = session;
        state.mode = mode;
        if simulator.is_some() || mode != Mode::Demo {
            state.simulator = simulator;
        }
    }

    /// This desktop's session, or why there is none.
    pub async fn session(&self) -> tickettime::Result<Session> {
        match &self.state.read().await.session {
            Ok(session) => Ok(session.clone()),
            Err(why) if why.is_empty() => Err(Error::NotConnected),
            Err(why) => Err(Error::Invalid(why.clone())),
        }
    }

    pub async fn client(&self) -> Option<HarvestClient> {
        self.state.read().await.session.as_ref().ok().and_then(|s| s.client_opt().cloned())
    }

    pub async fn mode(&self) -> Mode {
        self.state.read().await.mode
    }

    /// Starts the in-process Harvest simulator with seed data (port 0: any).
    /// The core refuses on a team database: demo data never goes there.
    pub async fn start_demo(&self, store: &Store, port: u16) -> anyhow::Result<()> {
        let (simulator, _) = tickettime::demo::start(store, port).await?;
        let harvest = connection::open(store, &HarvestEnv::default(), &self.keychain).await?;
        log::info!("demo mode: Harvest simulator at {}", simulator.url());
        self.settle(store, Some(harvest), Some(simulator)).await?;
        Ok(())
    }

    /// Connects with a personal token; returns a keychain warning if any. A
    /// token that is not this desktop's database person's is refused (and
    /// not kept).
    pub async fn connect_token(
        &self,
        store: &Store,
        token: String,
        account_id: i64,
    ) -> tickettime::Result<Option<String>> {
        let (_, harvest, warning) = connection::connect_token(
            store,
            &self.env,
            &self.keychain,
            &self.cache,
            secrecy::SecretString::from(token),
            account_id,
        )
        .await?;
        self.keep(store, harvest).await?;
        Ok(warning)
    }

    /// Runs the OAuth sign-in in the system browser; returns a keychain warning if any.
    pub async fn connect_oauth(&self, store: &Store) -> tickettime::Result<Option<String>> {
        let (_, harvest, warning) =
            connection::connect_oauth(store, &self.env, &self.keychain, &self.cache, None, |url| {
                if let Err(error) = open::that_detached(url) {
                    log::warn!("could not open the browser: {error}");
                }
            })
            .await?;
        self.keep(store, harvest).await?;
        Ok(warning)
    }

    async fn keep(&self, store: &Store, harvest: connection::Harvest) -> tickettime::Result<()> {
        if let Err(error) = self.settle(store, Some(harvest), None).await {
            let _ = self.keychain.delete();
            // Back to acting without Harvest (solo owner / own login).
            let _ = self.settle(store, None, None).await;
            return Err(error);
        }
        Ok(())
    }

    /// Forgets this OS user's connection; nobody else's changes.
    pub async fn disconnect(&self, store: &Store) -> tickettime::Result<Option<String>> {
        let harvest = self.state.read().await.session.as_ref().ok().and_then(|s| s.harvest.clone());
        let warning = connection::disconnect(store, &self.keychain, &self.cache, harvest.as_ref()).await?;
        self.settle(store, None, None).await?;
        Ok(warning)
    }
}
