//! `tickettime-tray`: Tickettime in the system tray as a small native
//! process. It draws the core's tray picture as a StatusNotifierItem (ksni:
//! D-Bus only, no GTK), runs the background import and deliveries through
//! the core's sync loop, shows budget notifications, and starts the window
//! — `tickettime-desktop --window`, a process of its own — on demand. The
//! window's process (and every WebKit process with it) ends when the window
//! closes, so nothing of WebKit stays alive while no window is shown.
//!
//! `tickettime-tray [--demo] [--hidden]`: without `--hidden` the window opens
//! at start. With no tray host on the session bus it hands over to the
//! one-process app (`tickettime-desktop`), which keeps its window instead.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use ksni::TrayMethods;
use tickettime::app::tray::{icon_png, picture, Entry, Known, LastSync, Picture, TrayItem};
use tickettime::connection::{self, HarvestEnv};
use tickettime::keychain::Keychain;
use tickettime::personal::PersonalCache;
use tickettime::schedule::{self, Command, Outcome, Plan};
use tickettime::timer::TimerStatus;
use tickettime::{Session, Store};
use tokio::sync::{mpsc, oneshot};

mod trim;

/// The window process's binary: `TICKETTIME_WINDOW_BIN`, else beside this one.
fn window_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TICKETTIME_WINDOW_BIN") {
        return PathBuf::from(path);
    }
    let here = std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from));
    here.unwrap_or_default().join("tickettime-desktop")
}

/// What the tray process holds.
struct Tray {
    /// The database URL as given (a team URL without its password): the
    /// window opens the same database.
    url: String,
    store: Store,
    env: HarvestEnv,
    keychain: Keychain,
    cache: PersonalCache,
    timer: Mutex<TimerStatus>,
    sync: Mutex<LastSync>,
    window: Mutex<Option<u32>>,
    icon: Mutex<Option<ksni::Handle<Icon>>>,
    /// The nudges loop's commands (Snooze).
    nudges: mpsc::Sender<tickettime::nudge::Command>,
    _simulator: Option<tickettime::demo::Simulators>,
}

impl Tray {
    /// This OS user's session, resolved again each time: a sign-in or
    /// sign-out in the window shows here at the next step.
    async fn session(&self) -> tickettime::Result<Session> {
        let harvest = connection::open_optional(&self.store, &self.env, &self.keychain).await.ok().flatten();
        Session::open(self.store.clone(), harvest, self.cache.clone(), None, Utc::now()).await
    }

    /// Draws the core's picture of what is known now.
    async fn redraw(&self) {
        let Some(icon) = self.icon.lock().ok().and_then(|i| i.clone()) else { return };
        let shown = match self.picture().await {
            Ok(shown) => shown,
            Err(error) => {
                eprintln!("tickettime-tray: tray not updated: {error}");
                return;
            }
        };
        icon.update(|tray| tray.shown = shown).await;
    }

    async fn picture(&self) -> tickettime::Result<Picture> {
        let tickets = self.store.tickets().await?;
        let lines = self.store.thresholds().await?;
        let staff = self.session().await.ok().and_then(|s| s.actor.staff_id());
        let (waiting, _) = self.store.outbox_counts(staff).await?;
        let timer = self.timer.lock().map(|t| t.clone()).unwrap_or(TimerStatus::STOPPED);
        let sync = self.sync.lock().map(|s| s.clone()).unwrap_or_default();
        let recent = recent_tickets();
        Ok(picture(&Known { timer: &timer, tickets: &tickets, recent: &recent, lines, waiting, sync: &sync }))
    }

    async fn refresh_timer(&self) {
        let Ok(session) = self.session().await else { return };
        if session.harvest.is_none() {
            return;
        }
        match tickettime::timer::status(&session, Utc::now()).await {
            Ok(timer) => {
                if let Ok(mut shown) = self.timer.lock() {
                    *shown = timer;
                }
            }
            Err(error) => eprintln!("tickettime-tray: cannot read the running timer: {error}"),
        }
    }

    /// Starts the window process (a second one hands over to the first and
    /// ends: the single-instance plugin raises the open window).
    fn open_window(&self, ticket: Option<i64>) {
        let mut command = tokio::process::Command::new(window_binary());
        command.arg("--window");
        if let Some(number) = ticket {
            command.args(["--open-ticket", &number.to_string()]);
        }
        command
            .env(tickettime::store::DB_ENV, &self.url)
            .env("TICKETTIME_TRAY_PID", std::process::id().to_string());
        match command.spawn() {
            Ok(mut child) => {
                if let Ok(mut window) = self.window.lock() {
                    *window = child.id();
                }
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
            }
            Err(error) => {
                eprintln!("tickettime-tray: cannot start the window ({}): {error}", window_binary().display())
            }
        }
    }

    fn close_window(&self) {
        let pid = self.window.lock().ok().and_then(|mut w| w.take());
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }

    /// Acts on the button pressed on a nudge's notification.
    async fn answer(&self, answer: tickettime::nudge::Answer) {
        use tickettime::nudge::Answer;
        match answer {
            // Which ticket: the window asks (it shows the waiting away).
            Answer::MoveAway => self.open_window(None),
            Answer::Snooze => {
                let _ = self.nudges.send(tickettime::nudge::Command::Snooze).await;
            }
            answer => {
                let outcome = match self.session().await {
                    Ok(session) => tickettime::nudge::act(&session, answer, Utc::now()).await,
                    Err(error) => Err(error),
                };
                match (outcome, answer) {
                    (Ok(()), _) => {}
                    // The 90 % question, someone else's timer, a locked ticket: the window asks.
                    (
                        Err(
                            tickettime::Error::NeedsConfirmation(_)
                            | tickettime::Error::Rule(tickettime::domain::TicketError::Locked(_)),
                        ),
                        Answer::Start(number),
                    ) => self.open_window(Some(number.get())),
                    (Err(error), _) => eprintln!("tickettime-tray: {answer:?} failed: {error}"),
                }
                self.refresh_timer().await;
                self.redraw().await;
            }
        }
    }

    async fn notify(&self, session: &Session) {
        let Some(staff) = session.actor.staff().cloned() else { return };
        match tickettime::notify::take_notices(&self.store, &staff).await {
            Ok(notices) => tickettime::notify::desktop::show(notices).await,
            Err(error) => eprintln!("tickettime-tray: cannot read budget events: {error}"),
        }
        match self.store.take_request_news(&staff).await {
            Ok(news) if !news.is_empty() => {
                tickettime::notify::desktop::show_requests(&self.store, session.actor.clone(), news, || {})
                    .await
            }
            Ok(_) => {}
            Err(error) => eprintln!("tickettime-tray: cannot read unlock requests: {error}"),
        }
    }
}

/// The tickets the window opened lately (its `local.json`), newest first.
fn recent_tickets() -> Vec<i64> {
    let Some(dir) = directories::BaseDirs::new().map(|d| d.data_dir().join("app.tickettime.desktop")) else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(dir.join("local.json")).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("recent")?.clone()).ok())
        .unwrap_or_default()
}

/// The tray process tells nudges as notifications with buttons.
struct Nudged(Arc<Tray>);

impl tickettime::nudge::Listener for Nudged {
    async fn timer(&mut self) -> TimerStatus {
        self.0.timer.lock().map(|t| t.clone()).unwrap_or(TimerStatus::STOPPED)
    }

    async fn tell(&mut self, nudge: tickettime::nudge::Nudge) {
        use chrono::Offset;
        let tray = self.0.clone();
        let tickets = tray.store.tickets().await.unwrap_or_default();
        let recent = tickettime::nudge::start_offers(&tickets, &recent_tickets());
        let zone = chrono::Local::now().offset().fix();
        // Waiting for a button must not hold up the next look.
        tokio::spawn(async move {
            if let Some(answer) = tickettime::notify::desktop::nudge(nudge, zone, recent).await {
                tray.answer(answer).await;
            }
        });
    }
}

/// The tray process's part of the core's sync loop.
struct Work(Arc<Tray>);

impl schedule::Work for Work {
    async fn import(&mut self, asked: bool) -> Outcome {
        let tray = &self.0;
        let Ok(session) = tray.session().await else { return Outcome::Done };
        for desk in tickettime::desk::sync_all(&tray.store, &session.actor).await {
            if let Some(error) = desk.error {
                eprintln!("tickettime-tray: desk {} not synced: {error}", desk.desk);
            }
        }
        if session.harvest.is_none() {
            tray.redraw().await;
            return Outcome::Done;
        }
        let options = tickettime::sync::SyncOptions::default();
        let outcome = match tickettime::sync::run(&session, &options, &|_| {}).await {
            Err(tickettime::Error::ImportNotPermitted(_)) if asked => {
                let patience = tickettime::watch::Patience::default();
                tickettime::watch::ask_leader(&tray.store, patience).await.map(|_| ())
            }
            Err(tickettime::Error::ImportNotPermitted(_) | tickettime::Error::SyncBusy) => Ok(()),
            outcome => outcome.map(|_| ()),
        };
        if let Ok(mut sync) = tray.sync.lock() {
            sync.at = Some(Utc::now());
            sync.error = outcome.as_ref().err().map(ToString::to_string);
        }
        tray.refresh_timer().await;
        tray.notify(&session).await;
        tray.redraw().await;
        // The import's pages are free now: back to the system with them.
        trim::release_free_memory();
        match outcome {
            Ok(()) => Outcome::Done,
            Err(error) => {
                eprintln!("tickettime-tray: import failed: {error}");
                Outcome::Failed
            }
        }
    }

    async fn deliver(&mut self) -> Outcome {
        let Ok(session) = self.0.session().await else { return Outcome::Done };
        if session.harvest.is_none()
            || session.store.outbox_waiting(session.actor.staff_id()).await.unwrap_or(0) == 0
        {
            return Outcome::Done;
        }
        let outcome = tickettime::logging::push(&session).await;
        self.0.redraw().await;
        match outcome {
            Ok(report) if report.stopped.is_none() => Outcome::Done,
            Ok(_) => Outcome::Failed,
            Err(error) => {
                eprintln!("tickettime-tray: outbox not pushed: {error}");
                Outcome::Failed
            }
        }
    }

    async fn interval(&mut self) -> Duration {
        if let Some(seconds) =
            std::env::var("TICKETTIME_SYNC_INTERVAL_SECS").ok().and_then(|v| v.parse::<u64>().ok())
        {
            return Duration::from_secs(seconds.max(1));
        }
        let minutes =
            tickettime::app::Settings::load(&self.0.store).await.map_or(5, |s| s.sync_interval_minutes);
        Duration::from_secs(u64::from(minutes) * 60)
    }

    /// The minute tick moves a running timer's elapsed time.
    async fn tick(&mut self) {
        if self.0.timer.lock().is_ok_and(|t| t.running) {
            self.0.refresh_timer().await;
            self.0.redraw().await;
        }
    }

    async fn refresh(&mut self) {
        self.0.refresh_timer().await;
        self.0.redraw().await;
    }
}

/// The StatusNotifierItem: the last picture, and where clicks go.
struct Icon {
    shown: Picture,
    clicks: mpsc::UnboundedSender<TrayItem>,
}

impl ksni::Tray for Icon {
    fn id(&self) -> String {
        "tickettime".into()
    }

    fn title(&self) -> String {
        if self.shown.title.is_empty() {
            "Tickettime".into()
        } else {
            self.shown.title.clone()
        }
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        pixmap(self.shown.icon).into_iter().collect()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip { title: self.shown.tooltip.clone(), ..Default::default() }
    }

    /// A left click opens the window.
    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.clicks.send(TrayItem::Open);
    }

    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        items(&self.shown.menu)
    }
}

fn items(menu: &[Entry]) -> Vec<ksni::MenuItem<Icon>> {
    use ksni::menu::{StandardItem, SubMenu};
    menu.iter()
        .map(|entry| match entry {
            Entry::Item(item, label) => {
                let item = *item;
                StandardItem {
                    label: label.clone(),
                    activate: Box::new(move |tray: &mut Icon| {
                        let _ = tray.clicks.send(item);
                    }),
                    ..Default::default()
                }
                .into()
            }
            Entry::Submenu(label, children) => {
                SubMenu { label: label.clone(), submenu: items(children), ..Default::default() }.into()
            }
            Entry::Separator => ksni::MenuItem::Separator,
        })
        .collect()
}

/// A tray PNG as the ARGB32 pixmap StatusNotifierItem carries.
fn pixmap(name: &str) -> Option<ksni::Icon> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(icon_png(name))).read_info().ok()?;
    let mut rgba = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut rgba).ok()?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return None;
    }
    let data = rgba[..info.buffer_size()].chunks_exact(4).flat_map(|p| [p[3], p[0], p[1], p[2]]).collect();
    Some(ksni::Icon {
        width: i32::try_from(info.width).ok()?,
        height: i32::try_from(info.height).ok()?,
        data,
    })
}

/// What a menu item does.
async fn on_click(tray: &Arc<Tray>, commands: &mpsc::Sender<Command>, item: TrayItem) {
    match item {
        TrayItem::Open | TrayItem::Choose | TrayItem::LogTime => tray.open_window(None),
        TrayItem::SyncNow => {
            let (done, _finished) = oneshot::channel();
            let _ = commands.send(Command::SyncNow(done)).await;
        }
        TrayItem::Stop => {
            let outcome = match tray.session().await {
                Ok(session) => tickettime::timer::stop(&session, None, Utc::now()).await.map(|_| ()),
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                eprintln!("tickettime-tray: stop failed: {error}");
            }
            let _ = commands.send(Command::Refresh).await;
        }
        TrayItem::Start(number) => {
            let outcome = match tray.session().await {
                Ok(session) => {
                    tickettime::timer::start(&session, number, None, false, Utc::now()).await.map(|_| ())
                }
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => {}
                // The 90 % question, a locked ticket: the window asks and offers what may be done.
                Err(
                    tickettime::Error::NeedsConfirmation(_)
                    | tickettime::Error::Rule(tickettime::domain::TicketError::Locked(_)),
                ) => tray.open_window(Some(number.get())),
                Err(error) => eprintln!("tickettime-tray: start on #{number} failed: {error}"),
            }
            let _ = commands.send(Command::Refresh).await;
        }
        TrayItem::Quit => {
            tray.close_window();
            std::process::exit(0);
        }
    }
}

/// Hands over to the one-process app (no tray host to show an icon on).
fn hand_over(args: &[String]) -> ExitCode {
    eprintln!("tickettime-tray: no system tray on this desktop; opening the window app instead");
    let status = std::process::Command::new(window_binary()).args(args).status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("tickettime-tray: cannot start {}: {error}", window_binary().display());
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = args.iter().find(|a| !matches!(a.as_str(), "--demo" | "--hidden")) {
        eprintln!("error: unknown argument {unknown} (tickettime-tray [--demo] [--hidden])");
        return ExitCode::from(2);
    }
    let demo = args.iter().any(|a| a == "--demo");
    let hidden = args.iter().any(|a| a == "--hidden");
    match run(demo, hidden).await {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(())) => hand_over(&args),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One tray per OS user: the first holds a lock on a file naming its pid. A
/// second start asks that one to open its window (SIGUSR2) and ends.
fn single_instance() -> anyhow::Result<Option<std::fs::File>> {
    use std::io::{Read, Seek, Write};
    let dir = std::env::var_os("XDG_RUNTIME_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let path = dir.join(format!("tickettime-tray-{}.lock", nix::unistd::getuid()));
    let mut file =
        std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
    if file.try_lock().is_ok() {
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        return Ok(Some(file));
    }
    let mut pid = String::new();
    file.rewind()?;
    file.read_to_string(&mut pid)?;
    if let Ok(pid) = pid.trim().parse::<i32>() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGUSR2);
    }
    Ok(None)
}

/// Runs until Quit; `Some` when there is no tray host to run in.
async fn run(demo: bool, hidden: bool) -> anyhow::Result<Option<()>> {
    let Some(_only) = single_instance()? else {
        eprintln!("tickettime-tray: already running; its window opens");
        return Ok(None);
    };
    // Handlers first: the default action of both signals ends the process.
    use tokio::signal::unix::{signal, SignalKind};
    let mut changed = signal(SignalKind::user_defined1())?;
    let mut again = signal(SignalKind::user_defined2())?;
    // The icon first: without a tray host nothing else may start (the demo's
    // simulator port is the window app's then).
    let (clicks, mut clicked) = mpsc::unbounded_channel();
    let blank =
        Picture { menu: Vec::new(), icon: "idle", title: String::new(), tooltip: "Tickettime".into() };
    let icon = match (Icon { shown: blank, clicks }).spawn().await {
        Ok(icon) => icon,
        Err(ksni::Error::Watcher(_) | ksni::Error::WontShow) => return Ok(Some(())),
        Err(error) => return Err(error.into()),
    };
    let url = connection::desktop_database_url(demo)?;
    let keychain = Keychain::default();
    let store = Store::open(&connection::database_url(&url, &keychain)?).await?;
    let simulator = if demo {
        let port = std::env::var("TICKETTIME_DEMO_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some(tickettime::demo::start(&store, port).await?.0)
    } else {
        None
    };
    let (nudges, nudge_inbox) = mpsc::channel(4);
    let tray = Arc::new(Tray {
        url,
        store,
        env: HarvestEnv::from_env(),
        keychain,
        cache: PersonalCache::default(),
        timer: Mutex::new(TimerStatus::STOPPED),
        sync: Mutex::new(LastSync::default()),
        window: Mutex::new(None),
        icon: Mutex::new(Some(icon)),
        nudges,
        _simulator: simulator,
    });
    tray.redraw().await;

    let (commands, inbox) = mpsc::channel(16);
    tokio::spawn(schedule::run(Work(tray.clone()), inbox, Plan::default()));
    // Idle time on a running timer, and reminders, as notifications.
    let source = tickettime::idle::SessionIdle::open().await;
    let nudges = tickettime::nudge::Nudges::new(source);
    let every = tickettime::nudge::look_every();
    tokio::spawn(tickettime::nudge::run(
        nudges,
        Nudged(tray.clone()),
        tray.cache.clone(),
        nudge_inbox,
        every,
    ));
    // The window process says when it changed something (a timer, a sign-in).
    let signalled = commands.clone();
    tokio::spawn(async move {
        while changed.recv().await.is_some() {
            let _ = signalled.try_send(Command::Refresh);
        }
    });
    // Another start of the tray (the menu entry, a second login item) opens the window.
    let reopen = tray.clone();
    tokio::spawn(async move {
        while again.recv().await.is_some() {
            reopen.open_window(None);
        }
    });
    if !hidden {
        tray.open_window(None);
    }
    while let Some(item) = clicked.recv().await {
        on_click(&tray, &commands, item).await;
    }
    Ok(None)
}
