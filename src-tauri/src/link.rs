//! The running app's Harvest connection: which client, in what mode, and the
//! demo simulator when there is one. Connecting and disconnecting go through
//! the core's flows; this only keeps the result.

use harvest::HarvestClient;
use tickettime::connection::{self, HarvestEnv};
use tickettime::keychain::Keychain;
use tickettime::Store;
use tokio::sync::RwLock;

/// How the app reaches Harvest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    client: Option<HarvestClient>,
    mode: Mode,
    simulator: Option<harvest_sim::Simulator>,
}

/// The connection, behind an async lock (connecting takes a while).
pub struct HarvestLink {
    state: RwLock<State>,
    env: HarvestEnv,
    keychain: Keychain,
}

impl HarvestLink {
    /// At start-up: demo mode when asked, else whatever credentials exist.
    /// Returns a notice for the user when the keychain could not be read.
    pub async fn open(store: &Store, demo_port: Option<u16>) -> (Self, Option<String>) {
        let link = HarvestLink {
            state: RwLock::new(State { client: None, mode: Mode::Disconnected, simulator: None }),
            env: HarvestEnv::from_env(),
            keychain: Keychain::default(),
        };
        let notice = match demo_port {
            Some(port) => {
                link.start_demo(store, port).await.err().map(|e| format!("The demo could not start: {e:#}"))
            }
            None => match connection::open(store, &link.env, &link.keychain).await {
                Ok(harvest) => {
                    let mode =
                        if harvest.source == connection::Source::Demo { Mode::Demo } else { Mode::Connected };
                    link.set(Some(harvest.client), mode, None).await;
                    None
                }
                Err(tickettime::Error::NotConnected) => None,
                Err(error) => Some(error.to_string()),
            },
        };
        (link, notice)
    }

    async fn set(
        &self,
        client: Option<HarvestClient>,
        mode: Mode,
        simulator: Option<harvest_sim::Simulator>,
    ) {
        let mut state = self.state.write().await;
        state.client = client;
        state.mode = mode;
        if simulator.is_some() || mode != Mode::Demo {
            state.simulator = simulator;
        }
    }

    pub async fn client(&self) -> Option<HarvestClient> {
        self.state.read().await.client.clone()
    }

    pub async fn mode(&self) -> Mode {
        self.state.read().await.mode
    }

    /// Starts the in-process Harvest simulator with seed data (port 0: any).
    pub async fn start_demo(&self, store: &Store, port: u16) -> anyhow::Result<()> {
        let simulator = tickettime::demo::start(store, port).await?;
        let harvest = connection::open(store, &HarvestEnv::default(), &self.keychain).await?;
        log::info!("demo mode: Harvest simulator at {}", simulator.url());
        self.set(Some(harvest.client), Mode::Demo, Some(simulator)).await;
        Ok(())
    }

    /// Connects with a personal token; returns a keychain warning if any.
    pub async fn connect_token(
        &self,
        store: &Store,
        token: String,
        account_id: i64,
    ) -> tickettime::Result<Option<String>> {
        let (_, client, warning) = connection::connect_token(
            store,
            &self.env,
            &self.keychain,
            secrecy::SecretString::from(token),
            account_id,
        )
        .await?;
        self.set(Some(client), Mode::Connected, None).await;
        Ok(warning)
    }

    /// Runs the OAuth sign-in in the system browser; returns a keychain warning if any.
    pub async fn connect_oauth(&self, store: &Store) -> tickettime::Result<Option<String>> {
        let (_, client, warning) = connection::connect_oauth(store, &self.env, &self.keychain, None, |url| {
            if let Err(error) = open::that_detached(url) {
                log::warn!("could not open the browser: {error}");
            }
        })
        .await?;
        self.set(Some(client), Mode::Connected, None).await;
        Ok(warning)
    }

    pub async fn disconnect(&self, store: &Store) -> tickettime::Result<Option<String>> {
        let warning = connection::disconnect(store, &self.keychain).await?;
        self.set(None, Mode::Disconnected, None).await;
        Ok(warning)
    }
}
