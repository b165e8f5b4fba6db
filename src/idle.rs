//! How long the person at this desktop has been idle, from what the
//! session offers: GNOME's `org.gnome.Mutter.IdleMonitor` (Wayland or X11),
//! the X11 screen-saver extension (X sessions, Xvfb included; never under
//! Wayland, where XWayland misses native input), or
//! `org.freedesktop.ScreenSaver.GetSessionIdleTime` (KDE and others). A locked screen
//! (`org.freedesktop.ScreenSaver.GetActive`, or logind's `LockedHint`)
//! counts as idle from the moment it was seen locked. The rules that turn
//! samples into an away live in `domain::idle`; [`IdleSource`] is what the
//! nudges loop (`crate::nudge`) reads, so tests give it a double.

use std::future::Future;
use std::time::Duration;

/// Where idle time comes from.
pub trait IdleSource: Send {
    /// The time since the last input now (a locked screen: at least since
    /// it locked); `None` when the session cannot tell.
    fn idle(&mut self) -> impl Future<Output = Option<Duration>> + Send;
}

/// A source that says what it is told (tests; a desktop without any of
/// the sources below says `None`).
#[derive(Clone, Debug, Default)]
pub struct Told(pub std::sync::Arc<std::sync::Mutex<Option<Duration>>>);

impl Told {
    pub fn set(&self, idle: Option<Duration>) {
        if let Ok(mut told) = self.0.lock() {
            *told = idle;
        }
    }
}

impl IdleSource for Told {
    async fn idle(&mut self) -> Option<Duration> {
        self.0.lock().ok().and_then(|told| *told)
    }
}

#[cfg(feature = "desktop-idle")]
pub use system::{SessionIdle, SourceKind};

#[cfg(feature = "desktop-idle")]
mod system {
    use std::time::{Duration, Instant};

    use x11rb::connection::Connection;
    use x11rb::protocol::screensaver::ConnectionExt as _;

    use super::IdleSource;

    /// Which source answered.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum SourceKind {
        Mutter,
        ScreenSaver,
        X11,
        None,
    }

    /// The session's idle time from the first source that answers.
    pub struct SessionIdle {
        bus: Option<zbus::Connection>,
        system: Option<zbus::Connection>,
        x11: Option<(x11rb::rust_connection::RustConnection, u32)>,
        kind: SourceKind,
        locked_since: Option<Instant>,
    }

    impl SessionIdle {
        /// Finds a source: the session bus's first, then the X server's.
        pub async fn open() -> SessionIdle {
            let bus = zbus::Connection::session().await.ok();
            let system = zbus::Connection::system().await.ok();
            let x11 = x11_connection();
            let mut idle = SessionIdle { bus, system, x11, kind: SourceKind::None, locked_since: None };
            // Under Wayland the X server (XWayland) sees only X clients'
            // input: its idle time would run on while the person types.
            let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
            let order: &[SourceKind] = if wayland {
                &[SourceKind::Mutter, SourceKind::ScreenSaver]
            } else {
                &[SourceKind::Mutter, SourceKind::X11, SourceKind::ScreenSaver]
            };
            for &kind in order {
                if idle.read(kind).await.is_some() {
                    idle.kind = kind;
                    break;
                }
            }
            idle
        }

        /// The X server's screen-saver extension alone (`None` without an X
        /// display or the extension).
        pub async fn x11() -> Option<SessionIdle> {
            let x11 = x11_connection()?;
            Some(SessionIdle {
                bus: None,
                system: None,
                x11: Some(x11),
                kind: SourceKind::X11,
                locked_since: None,
            })
        }

        pub fn kind(&self) -> SourceKind {
            self.kind
        }

        async fn read(&self, kind: SourceKind) -> Option<Duration> {
            match kind {
                SourceKind::Mutter => {
                    let reply = self
                        .bus
                        .as_ref()?
                        .call_method(
                            Some("org.gnome.Mutter.IdleMonitor"),
                            "/org/gnome/Mutter/IdleMonitor/Core",
                            Some("org.gnome.Mutter.IdleMonitor"),
                            "GetIdletime",
                            &(),
                        )
                        .await
                        .ok()?;
                    reply.body().deserialize::<u64>().ok().map(Duration::from_millis)
                }
                SourceKind::ScreenSaver => {
                    let reply = screensaver(self.bus.as_ref()?, "GetSessionIdleTime").await?;
                    let value = u64::from(reply.body().deserialize::<u32>().ok()?);
                    // The interface documents seconds; KDE's screen locker
                    // answers KIdleTime's milliseconds.
                    let kde = std::env::var("XDG_CURRENT_DESKTOP")
                        .is_ok_and(|d| d.to_ascii_uppercase().contains("KDE"));
                    Some(if kde { Duration::from_millis(value) } else { Duration::from_secs(value) })
                }
                SourceKind::X11 => {
                    let (conn, root) = self.x11.as_ref()?;
                    let info = conn.screensaver_query_info(*root).ok()?.reply().ok()?;
                    Some(Duration::from_millis(u64::from(info.ms_since_user_input)))
                }
                SourceKind::None => None,
            }
        }

        /// Whether the screen is locked: the screen saver says so, or logind.
        async fn locked(&self) -> bool {
            if let Some(bus) = &self.bus {
                if let Some(reply) = screensaver(bus, "GetActive").await {
                    if reply.body().deserialize::<bool>().unwrap_or(false) {
                        return true;
                    }
                }
            }
            let Some(system) = &self.system else { return false };
            let reply = system
                .call_method(
                    Some("org.freedesktop.login1"),
                    "/org/freedesktop/login1/session/auto",
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &("org.freedesktop.login1.Session", "LockedHint"),
                )
                .await;
            reply
                .ok()
                .and_then(|r| r.body().deserialize::<zbus::OwnedVariant>().ok())
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(false)
        }
    }

    fn x11_connection() -> Option<(x11rb::rust_connection::RustConnection, u32)> {
        let (conn, screen) = x11rb::connect(None).ok()?;
        let root = conn.setup().roots.get(screen)?.root;
        // The extension must answer once, or it is not there.
        conn.screensaver_query_info(root).ok()?.reply().ok()?;
        Some((conn, root))
    }

    async fn screensaver(bus: &zbus::Connection, method: &str) -> Option<zbus::Message> {
        bus.call_method(
            Some("org.freedesktop.ScreenSaver"),
            "/org/freedesktop/ScreenSaver",
            Some("org.freedesktop.ScreenSaver"),
            method,
            &(),
        )
        .await
        .ok()
    }

    impl IdleSource for SessionIdle {
        async fn idle(&mut self) -> Option<Duration> {
            let input = self.read(self.kind).await;
            if self.locked().await {
                let since = *self.locked_since.get_or_insert_with(Instant::now);
                return Some(input.unwrap_or_default().max(since.elapsed()));
            }
            self.locked_since = None;
            input
        }
    }
}
