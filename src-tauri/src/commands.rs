//! IPC commands: parse the input, call the core, map the error. The
//! contract is docs/desktop-ipc.md.

use chrono::{Local, Offset, Utc};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use tickettime::domain::{Email, Hours, ThreadKind, TicketNumber};
use tickettime::logging::{Delivery, TimeInput};
use tickettime::store::{NewTicket, TicketChanges, TicketView};
use tickettime::timer::TimerStatus;
use tickettime::{Error, Session, Store};

use crate::background::{publish, Importer};
use crate::link::{HarvestLink, Mode};
use crate::live::{Live, SyncStatus};
use tickettime::app::{self, Me, Settings, SettingsInput, TicketDetail, TimelinePage};

/// What the UI switches on when a command fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    NotFound,
    Locked,
    Forbidden,
    Invalid,
    Storage,
    Harvest,
    NotConnected,
    Confirm,
}

/// An error as it crosses IPC: `{ code, message }`.
#[derive(Debug, Serialize, specta::Type)]
pub struct CommandError {
    code: Code,
    message: String,
}

impl CommandError {
    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Error> for CommandError {
    fn from(error: Error) -> Self {
        use tickettime::domain::TicketError;
        let code = match &error {
            Error::TicketNotFound(_) | Error::StaffNotFound(_) => Code::NotFound,
            Error::Rule(TicketError::Locked(_)) => Code::Locked,
            Error::Rule(TicketError::NotPermitted { .. }) => Code::Forbidden,
            Error::Rule(_)
            | Error::Hours(_)
            | Error::Invalid(_)
            | Error::StaffExists(_)
            | Error::NoProject(_)
            | Error::Desk(_) => Code::Invalid,
            Error::Open { .. } | Error::Database(_) | Error::Migrate(_) => Code::Storage,
            Error::Harvest(_) | Error::SyncBusy | Error::NoLeader => Code::Harvest,
            Error::ImportNotPermitted(_) => Code::Forbidden,
            Error::NeedsConfirmation(_) => Code::Confirm,
            Error::NotConnected | Error::Keychain(_) => Code::NotConnected,
        };
        CommandError { code, message: error.to_string() }
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(error: anyhow::Error) -> Self {
        match error.downcast::<Error>() {
            Ok(error) => error.into(),
            Err(other) => CommandError { code: Code::Invalid, message: format!("{other:#}") },
        }
    }
}

type Reply<T> = Result<T, CommandError>;

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError { code: Code::Invalid, message: message.into() }
}

fn ticket_number(number: i64) -> Reply<TicketNumber> {
    TicketNumber::new(number).ok_or_else(|| invalid(format!("{number} is not a ticket number")))
}

fn hours(field: &str, text: Option<&str>) -> Reply<Option<Hours>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Hours::parse(t).map(Some).map_err(|e| invalid(format!("{field}: {e}"))),
    }
}

/// This desktop's session: who acts, resolved once per connection by the core.
pub async fn session<R: Runtime>(app: &AppHandle<R>) -> Reply<Session> {
    Ok(app.state::<HarvestLink>().session().await?)
}

/// This person's time on its way to Harvest.
#[derive(Clone, Copy, Debug, Default, Serialize, specta::Type)]
pub struct OutboxSummary {
    /// Waiting to be sent (it goes out on its own when Harvest answers).
    pub waiting: usize,
    /// Refused by Harvest: shown with Retry and Discard.
    pub refused: usize,
}

/// This desktop's person's outbox counts.
pub async fn outbox_summary<R: Runtime>(app: &AppHandle<R>) -> OutboxSummary {
    let Ok(session) = app.state::<HarvestLink>().session().await else { return OutboxSummary::default() };
    match session.store.outbox_counts(session.actor.staff_id()).await {
        Ok((waiting, refused)) => OutboxSummary { waiting, refused },
        Err(error) => {
            log::warn!("cannot count the outbox: {error}");
            OutboxSummary::default()
        }
    }
}

/// The whole picture the window starts from.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct AppState {
    connection: Mode,
    me: Option<Me>,
    timer: TimerStatus,
    sync: SyncStatus,
    outbox: OutboxSummary,
    /// Harvest entries the import keeps aside (see `sync status`).
    quarantined: usize,
    settings: Settings,
    notice: Option<String>,
    /// An away the person came back from while a timer ran, waiting for
    /// an answer (keep, discard, stop at its start, or move it).
    away: Option<tickettime::nudge::PendingAway>,
}

pub async fn build_app_state<R: Runtime>(app: &AppHandle<R>) -> Reply<AppState> {
    let store = app.state::<Store>();
    let live = app.state::<Live>();
    let me = app.state::<HarvestLink>().session().await.ok().map(|s| Me::of(&s.actor));
    Ok(AppState {
        connection: app.state::<HarvestLink>().mode().await,
        me,
        timer: live.timer(),
        sync: live.sync(),
        outbox: outbox_summary(app).await,
        quarantined: store.quarantine().await.map(|q| q.len()).unwrap_or_default(),
        settings: Settings::load(&store).await?,
        notice: live.take_notice(),
        away: tickettime::personal::PersonalCache::default().pending_away(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn app_state<R: Runtime>(app: AppHandle<R>) -> Reply<AppState> {
    build_app_state(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_tickets(store: State<'_, Store>) -> Reply<Vec<TicketView>> {
    Ok(store.tickets().await?)
}

#[derive(Deserialize, specta::Type)]
pub struct NumberInput {
    number: i64,
}

#[tauri::command]
#[specta::specta]
pub async fn get_ticket<R: Runtime>(app: AppHandle<R>, input: NumberInput) -> Reply<TicketDetail> {
    let session = session(&app).await.ok();
    let detail =
        app::ticket_detail(session.as_ref(), &app.state::<Store>(), ticket_number(input.number)?).await?;
    crate::remember_ticket(&app, input.number);
    Ok(detail)
}

#[derive(Deserialize, specta::Type)]
pub struct TimelineInput {
    number: i64,
    limit: usize,
    before: Option<usize>,
}

#[tauri::command]
#[specta::specta]
pub async fn timeline(store: State<'_, Store>, input: TimelineInput) -> Reply<TimelinePage> {
    let zone = Local::now().offset().fix();
    let number = ticket_number(input.number)?;
    Ok(app::timeline_page(&store, number, zone, input.limit, input.before).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct CreateTicketInput {
    subject: String,
    client: Option<String>,
    agent: Option<String>,
    pm: Option<String>,
    budget_hours: Option<String>,
    quoted_hours: Option<String>,
    project_id: Option<i64>,
}

fn email(field: &str, text: Option<String>) -> Reply<Option<Email>> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Email::parse(t).map(Some).map_err(|e| invalid(format!("{field}: {e}"))),
    }
}

#[tauri::command]
#[specta::specta]
pub async fn create_ticket<R: Runtime>(app: AppHandle<R>, input: CreateTicketInput) -> Reply<TicketView> {
    let store = app.state::<Store>();
    let session = session(&app).await?;
    let new = NewTicket {
        subject: input.subject,
        client: input.client,
        agent: email("agent", input.agent)?,
        pm: email("PM", input.pm)?,
        budget: hours("budget", input.budget_hours.as_deref())?,
        quoted: hours("quoted hours", input.quoted_hours.as_deref())?,
        project: None,
    };
    let view = store.create_ticket(&session.actor, new, Utc::now()).await?;
    let view = match input.project_id {
        Some(project) => link(&session, ticket_number(view.number)?, project).await?,
        None => view,
    };
    publish(&app).await;
    Ok(view)
}

#[derive(Deserialize, specta::Type)]
pub struct UpdateTicketInput {
    number: i64,
    budget_hours: Option<String>,
    quoted_hours: Option<String>,
    status: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn update_ticket<R: Runtime>(app: AppHandle<R>, input: UpdateTicketInput) -> Reply<TicketView> {
    let store = app.state::<Store>();
    let session = session(&app).await?;
    let changes = TicketChanges {
        budget: hours("budget", input.budget_hours.as_deref())?,
        quoted: hours("quoted hours", input.quoted_hours.as_deref())?,
        status: input.status.as_deref().map(str::parse).transpose().map_err(invalid)?,
        ..TicketChanges::default()
    };
    let view = store.update_ticket(&session.actor, ticket_number(input.number)?, changes, Utc::now()).await?;
    publish(&app).await;
    Ok(view)
}

#[derive(Deserialize, specta::Type)]
pub struct LinkInput {
    number: i64,
    project_id: i64,
}

async fn link(session: &Session, number: TicketNumber, project: i64) -> Reply<TicketView> {
    Ok(tickettime::sync::link_ticket(session, number, project, Utc::now()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn link_project<R: Runtime>(app: AppHandle<R>, input: LinkInput) -> Reply<TicketView> {
    let session = session(&app).await?;
    let view = link(&session, ticket_number(input.number)?, input.project_id).await?;
    publish(&app).await;
    Ok(view)
}

#[tauri::command]
#[specta::specta]
pub async fn harvest_clients<R: Runtime>(app: AppHandle<R>) -> Reply<Vec<app::HarvestClient>> {
    Ok(app::harvest_clients(&session(&app).await?).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct CreateProjectInput {
    number: i64,
    client_id: i64,
}

#[tauri::command]
#[specta::specta]
pub async fn create_harvest_project<R: Runtime>(
    app: AppHandle<R>,
    input: CreateProjectInput,
) -> Reply<TicketView> {
    let session = session(&app).await?;
    let number = ticket_number(input.number)?;
    let view = tickettime::logging::create_project(&session, number, input.client_id, Utc::now()).await?;
    publish(&app).await;
    Ok(view)
}

#[derive(Deserialize, specta::Type)]
pub struct MessageInput {
    number: i64,
    from: String,
    body: String,
}

#[tauri::command]
#[specta::specta]
pub async fn record_message<R: Runtime>(app: AppHandle<R>, input: MessageInput) -> Reply<()> {
    let store = app.state::<Store>();
    let number = ticket_number(input.number)?;
    store.add_client_message(number, &input.from, &input.body, Utc::now()).await?;
    Ok(())
}

/// What the person writes on a ticket from the window.
#[derive(Clone, Copy, Debug, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Response,
    Note,
}

#[derive(Deserialize, specta::Type)]
pub struct EntryInput {
    number: i64,
    kind: EntryKind,
    body: String,
    time: Option<TimeInput>,
}

/// What became of the time given with a reply or note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// In Harvest.
    Sent,
    /// Waiting for Harvest; it goes out on its own.
    Queued,
    /// Refused by Harvest (see the message).
    Failed,
    /// No time was given.
    None,
}

#[derive(Serialize, specta::Type)]
pub struct DeliveryDto {
    state: DeliveryState,
    harvest_id: Option<i64>,
    message: Option<String>,
}

impl From<Delivery> for DeliveryDto {
    fn from(delivery: Delivery) -> Self {
        match delivery {
            Delivery::Sent { harvest_id } => {
                DeliveryDto { state: DeliveryState::Sent, harvest_id: Some(harvest_id), message: None }
            }
            Delivery::Queued { reason } => {
                DeliveryDto { state: DeliveryState::Queued, harvest_id: None, message: Some(reason) }
            }
            Delivery::Failed { message } => {
                DeliveryDto { state: DeliveryState::Failed, harvest_id: None, message: Some(message) }
            }
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn submit_entry<R: Runtime>(app: AppHandle<R>, input: EntryInput) -> Reply<DeliveryDto> {
    let kind = match input.kind {
        EntryKind::Response => ThreadKind::Response,
        EntryKind::Note => ThreadKind::Note,
    };
    let number = ticket_number(input.number)?;
    let session = session(&app).await?;
    let today = Local::now().date_naive();
    let delivery =
        tickettime::logging::submit(&session, number, kind, &input.body, input.time, today, Utc::now())
            .await?;
    crate::remember_ticket(&app, input.number);
    let dto = delivery.map_or(
        DeliveryDto { state: DeliveryState::None, harvest_id: None, message: None },
        DeliveryDto::from,
    );
    if dto.state == DeliveryState::Queued {
        // Sent on its own as soon as Harvest answers again.
        app.state::<Importer>().deliver();
    }
    if dto.state == DeliveryState::Sent && !session.actor.writes_entries() {
        // A team agent's entry is stored by the import leader, not here:
        // ask for an import now so hours, band and lock follow at once.
        let handle = app.clone();
        tauri::async_runtime::spawn(async move { handle.state::<Importer>().sync_now().await });
    }
    // Otherwise the core stored the entry (or the queued item) and
    // recomputed the ticket: the window refreshes that one ticket itself;
    // no import runs and no `tickets-changed` goes out, so nothing loads
    // twice. The tray and the header follow the app state.
    publish(&app).await;
    Ok(dto)
}

#[derive(Deserialize, specta::Type)]
pub struct TimerStartInput {
    number: i64,
    task_id: Option<i64>,
    confirmed: bool,
}

/// Starts the timer (shared by the window and the tray).
pub async fn start_timer<R: Runtime>(
    app: &AppHandle<R>,
    number: TicketNumber,
    task: Option<i64>,
    confirmed: bool,
) -> Reply<TimerStatus> {
    let session = session(app).await?;
    tickettime::timer::start(&session, number, task, confirmed, Utc::now()).await?;
    crate::remember_ticket(app, number.get());
    let status = tickettime::timer::status(&session, Utc::now()).await?;
    app.state::<Live>().set_timer(status.clone());
    publish(app).await;
    Ok(status)
}

#[tauri::command]
#[specta::specta]
pub async fn timer_start<R: Runtime>(app: AppHandle<R>, input: TimerStartInput) -> Reply<TimerStatus> {
    start_timer(&app, ticket_number(input.number)?, input.task_id, input.confirmed).await
}

#[derive(Deserialize, specta::Type)]
pub struct TimerStopInput {
    notes: Option<String>,
}

/// Stops the timer (shared by the window and the tray); returns the stopped entry.
pub async fn stop_timer<R: Runtime>(app: &AppHandle<R>, notes: Option<String>) -> Reply<TimerStatus> {
    let session = session(app).await?;
    let stopped = tickettime::timer::stop(&session, notes, Utc::now()).await?;
    let ticket = session.store.attribute(&stopped).await?.map(TicketNumber::get);
    app.state::<Live>().set_timer(TimerStatus::STOPPED);
    publish(app).await;
    Ok(TimerStatus {
        running: false,
        ticket,
        harvest_id: Some(stopped.id),
        started_at: None,
        elapsed_hours: Some(stopped.hours),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn timer_stop<R: Runtime>(app: AppHandle<R>, input: TimerStopInput) -> Reply<TimerStatus> {
    stop_timer(&app, input.notes).await
}

#[derive(Deserialize, specta::Type)]
pub struct TextInput {
    text: String,
}

#[tauri::command]
#[specta::specta]
pub async fn summarize(input: TextInput) -> Reply<tickettime::summarize::Note> {
    if input.text.trim().is_empty() {
        return Err(invalid("write the reply or note first; ✦ summarizes it"));
    }
    let llm = tickettime::summarize::LlmConfig::from_env();
    Ok(tickettime::summarize::summarize(&input.text, llm.as_ref()).await)
}

#[derive(Deserialize, specta::Type)]
pub struct UnlockInput {
    number: i64,
    reason: String,
    extra_hours: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_ticket<R: Runtime>(app: AppHandle<R>, input: UnlockInput) -> Reply<TicketView> {
    let session = session(&app).await?;
    let extra = hours("extra hours", input.extra_hours.as_deref())?.unwrap_or(Hours::ZERO);
    let view = session
        .store
        .unlock(&session.actor, ticket_number(input.number)?, &input.reason, extra, Utc::now())
        .await?;
    publish(&app).await;
    Ok(view)
}

/// This person's time that waits for Harvest or that Harvest refused.
#[tauri::command]
#[specta::specta]
pub async fn outbox_items<R: Runtime>(app: AppHandle<R>) -> Reply<Vec<tickettime::store::OutboxItem>> {
    let session = session(&app).await?;
    Ok(session.store.outbox_open(session.actor.staff_id()).await?)
}

#[derive(Debug, Deserialize, specta::Type)]
pub struct OutboxInput {
    id: String,
}

/// Puts a refused item back in line and sends it now.
#[tauri::command]
#[specta::specta]
pub async fn outbox_retry<R: Runtime>(app: AppHandle<R>, input: OutboxInput) -> Reply<()> {
    let session = session(&app).await?;
    session.store.outbox_retry(&session.actor, &input.id, Utc::now()).await?;
    app.state::<Importer>().deliver();
    publish(&app).await;
    Ok(())
}

/// Gives an item up: it is never sent (the window asks first).
#[tauri::command]
#[specta::specta]
pub async fn outbox_discard<R: Runtime>(app: AppHandle<R>, input: OutboxInput) -> Reply<()> {
    let session = session(&app).await?;
    session.store.outbox_discard(&session.actor, &input.id, Utc::now()).await?;
    publish(&app).await;
    Ok(())
}

/// Harvest entries the import keeps aside, with the reason: fixed in
/// Harvest, the next import takes them and they leave the list.
#[tauri::command]
#[specta::specta]
pub async fn quarantine(store: State<'_, Store>) -> Reply<Vec<tickettime::store::Quarantined>> {
    Ok(store.quarantine().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_now<R: Runtime>(app: AppHandle<R>) -> Reply<SyncStatus> {
    app.state::<Importer>().sync_now().await;
    Ok(app.state::<Live>().sync())
}

/// The agency's OAuth app, entered once on this computer (kept in the keychain).
#[derive(Deserialize, specta::Type)]
pub struct OAuthAppInput {
    client_id: String,
    client_secret: String,
}

#[tauri::command]
#[specta::specta]
pub async fn connect_oauth<R: Runtime>(app: AppHandle<R>, input: Option<OAuthAppInput>) -> Reply<()> {
    if let Some(input) = input {
        tickettime::connection::save_oauth_app(
            &tickettime::keychain::Keychain::default(),
            &input.client_id,
            &secrecy::SecretString::from(input.client_secret),
        )?;
    }
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let store = handle.state::<Store>().inner().clone();
        match handle.state::<HarvestLink>().connect_oauth(&store).await {
            Ok(warning) => {
                if let Some(w) = warning {
                    handle.state::<Live>().add_notice(w);
                }
                handle.state::<Importer>().sync_now().await;
            }
            Err(error) => handle.state::<Live>().add_notice(format!("Connecting to Harvest failed: {error}")),
        }
        publish(&handle).await;
    });
    Ok(())
}

#[derive(Deserialize, specta::Type)]
pub struct TokenInput {
    token: String,
    account_id: i64,
}

#[tauri::command]
#[specta::specta]
pub async fn connect_token<R: Runtime>(app: AppHandle<R>, input: TokenInput) -> Reply<AppState> {
    let store = app.state::<Store>();
    if let Some(warning) =
        app.state::<HarvestLink>().connect_token(&store, input.token, input.account_id).await?
    {
        app.state::<Live>().add_notice(warning);
    }
    app.state::<Importer>().sync_now().await;
    build_app_state(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn start_demo<R: Runtime>(app: AppHandle<R>) -> Reply<AppState> {
    let store = app.state::<Store>();
    app.state::<HarvestLink>().start_demo(&store, 0).await?;
    app.state::<Importer>().sync_now().await;
    build_app_state(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn disconnect<R: Runtime>(app: AppHandle<R>) -> Reply<AppState> {
    let store = app.state::<Store>();
    if let Some(warning) = app.state::<HarvestLink>().disconnect(&store).await? {
        app.state::<Live>().add_notice(warning);
    }
    app.state::<Live>().set_timer(TimerStatus::STOPPED);
    publish(&app).await;
    build_app_state(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(app: AppHandle<R>, input: SettingsInput) -> Reply<Settings> {
    let store = app.state::<Store>();
    let session = session(&app).await.ok();
    let before = Settings::load(&store).await?.team_database;
    let saved = input
        .settings
        .save(input.team_password.as_deref(), &store, session.as_ref().map(|s| &s.actor))
        .await?;
    if saved.team_database != before {
        app.state::<Live>().add_notice("Restart Tickettime to open the new database.".into());
    }
    crate::apply_settings(&app, &saved);
    app.state::<Importer>().reschedule();
    publish(&app).await;
    Ok(saved)
}

#[tauri::command]
#[specta::specta]
pub async fn open_project<R: Runtime>(app: AppHandle<R>, input: NumberInput) -> Reply<()> {
    let session = session(&app).await.ok();
    let number = ticket_number(input.number)?;
    let url = app::project_url(session.as_ref(), &app.state::<Store>(), number).await?;
    // From Rust, in the system browser: the webview gets no opener permission.
    open::that_detached(&url).map_err(|e| invalid(format!("cannot open the browser: {e}")))?;
    Ok(())
}

/// Opens a desk ticket's page in the help desk (the system browser).
#[tauri::command]
#[specta::specta]
pub async fn open_in_desk<R: Runtime>(app: AppHandle<R>, input: NumberInput) -> Reply<()> {
    let number = ticket_number(input.number)?;
    let url = app::desk_url(&app.state::<Store>(), number).await?;
    open::that_detached(&url).map_err(|e| invalid(format!("cannot open the browser: {e}")))?;
    Ok(())
}

#[derive(Deserialize, specta::Type)]
pub struct RequestUnlockInput {
    number: i64,
    reason: String,
    hours: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn request_unlock<R: Runtime>(
    app: AppHandle<R>,
    input: RequestUnlockInput,
) -> Reply<tickettime::store::UnlockRequest> {
    let session = session(&app).await?;
    let hours = hours("extra hours", input.hours.as_deref())?;
    let request = session
        .store
        .request_unlock(&session.actor, ticket_number(input.number)?, &input.reason, hours, Utc::now())
        .await?;
    publish(&app).await;
    Ok(request)
}

#[derive(Deserialize, specta::Type)]
pub struct RequestsInput {
    number: Option<i64>,
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_requests(
    store: State<'_, Store>,
    input: RequestsInput,
) -> Reply<Vec<tickettime::store::UnlockRequest>> {
    let number = input.number.map(ticket_number).transpose()?;
    // One ticket: its whole history (the agent sees the answer); all: what waits.
    Ok(store.unlock_requests(number, number.is_none()).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct AnswerInput {
    id: i64,
    approve: bool,
    extra_hours: Option<String>,
    note: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn answer_unlock_request<R: Runtime>(
    app: AppHandle<R>,
    input: AnswerInput,
) -> Reply<tickettime::store::UnlockRequest> {
    let session = session(&app).await?;
    let extra = hours("extra hours", input.extra_hours.as_deref())?.unwrap_or(Hours::ZERO);
    let answered = session
        .store
        .answer_unlock_request(
            &session.actor,
            input.id,
            input.approve,
            extra,
            input.note.as_deref(),
            Utc::now(),
        )
        .await?;
    publish(&app).await;
    Ok(answered)
}

/// The help desks whose tickets come in (Settings → Help desks).
#[tauri::command]
#[specta::specta]
pub async fn desks(store: State<'_, Store>) -> Reply<Vec<tickettime::store::DeskRecord>> {
    Ok(store.desks().await?)
}

/// Adds a help desk: signed in and checked first; its secret goes to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn add_desk<R: Runtime>(
    app: AppHandle<R>,
    input: tickettime::app::desks::DeskInput,
) -> Reply<tickettime::store::DeskRecord> {
    let session = session(&app).await?;
    let keychain = tickettime::keychain::Keychain::default();
    Ok(tickettime::app::desks::add(&session.store, &session.actor, &keychain, input).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct DeskIdInput {
    id: i64,
}

/// Removes a help desk; its tickets stay.
#[tauri::command]
#[specta::specta]
pub async fn remove_desk<R: Runtime>(
    app: AppHandle<R>,
    input: DeskIdInput,
) -> Reply<tickettime::store::DeskRecord> {
    let session = session(&app).await?;
    let keychain = tickettime::keychain::Keychain::default();
    Ok(tickettime::app::desks::remove(&session.store, &session.actor, &keychain, input.id).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct AwayInput {
    choice: tickettime::domain::idle::IdleChoice,
}

/// Answers the away waiting in the app state.
#[tauri::command]
#[specta::specta]
pub async fn answer_away<R: Runtime>(app: AppHandle<R>, input: AwayInput) -> Reply<TimerStatus> {
    let session = session(&app).await?;
    let pending = session.cache.pending_away();
    let outcome = match &pending {
        Some(pending) => tickettime::timer::resolve_away(&session, pending, input.choice, Utc::now()).await,
        None => Ok(None),
    };
    // The timer and the away changed either way: the window and the tray follow.
    app.state::<Importer>().refresh_timer();
    publish(&app).await;
    outcome?;
    Ok(app.state::<Live>().timer())
}

#[derive(Deserialize, specta::Type)]
pub struct TimesheetInput {
    /// `2026-W48`; this week when absent.
    week: Option<String>,
    /// Another person's (a PM's to read); yours when absent.
    user: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn timesheet<R: Runtime>(
    app: AppHandle<R>,
    input: TimesheetInput,
) -> Reply<tickettime::report::Timesheet> {
    use tickettime::report::{self, Week};
    let session = session(&app).await?;
    let person = report::person(&session, email("user", input.user)?.as_ref()).await?;
    let week = match input.week.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(week) => Week::parse(week)?,
        None => Week::of(Local::now().date_naive()),
    };
    Ok(report::timesheet(&session, &person, week).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct GapsInput {
    days: Option<u32>,
    /// Another person's (a PM's to read); yours when absent.
    user: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn gaps<R: Runtime>(app: AppHandle<R>, input: GapsInput) -> Reply<Vec<tickettime::report::Gap>> {
    let session = session(&app).await?;
    let person = tickettime::report::person(&session, email("user", input.user)?.as_ref()).await?;
    Ok(tickettime::report::gaps(&session, &person, input.days.unwrap_or(7), Utc::now(), &Local).await?)
}

#[derive(Deserialize, specta::Type)]
pub struct LogGapInput {
    number: i64,
    /// The day the reply or note was written (the time is spent then).
    date: chrono::NaiveDate,
}

/// Logs the smallest amount (0.25 h) on the gap's ticket and day.
#[tauri::command]
#[specta::specta]
pub async fn log_gap<R: Runtime>(app: AppHandle<R>, input: LogGapInput) -> Reply<DeliveryDto> {
    let session = session(&app).await?;
    let request = tickettime::logging::LogRequest {
        ticket: ticket_number(input.number)?,
        hours: tickettime::domain::LoggedHours::parse(&tickettime::domain::LoggedHours::MIN.to_string())
            .map_err(|e| invalid(e.to_string()))?,
        task: None,
        notes: None,
        spent_date: input.date,
    };
    let (_, delivery) = tickettime::logging::log_time(&session, &request, None, Utc::now()).await?;
    let dto = DeliveryDto::from(delivery);
    if dto.state == DeliveryState::Queued {
        app.state::<Importer>().deliver();
    }
    publish(&app).await;
    Ok(dto)
}

/// A file the window saved.
#[derive(Serialize, specta::Type)]
pub struct SavedFile {
    path: String,
}

/// A ticket's entries as CSV, saved in the downloads folder.
#[tauri::command]
#[specta::specta]
pub async fn export_ticket<R: Runtime>(app: AppHandle<R>, input: NumberInput) -> Reply<SavedFile> {
    let session = session(&app).await?;
    let csv = tickettime::report::ticket_csv(&session, ticket_number(input.number)?).await?;
    let path = tickettime::app::save_download(&format!("tickettime-ticket-{}", input.number), &csv)?;
    Ok(SavedFile { path: path.display().to_string() })
}

/// The budgets overview as CSV, saved in the downloads folder.
#[tauri::command]
#[specta::specta]
pub async fn export_budgets(store: State<'_, Store>) -> Reply<SavedFile> {
    let tickets = store.tickets().await?;
    let csv = tickettime::report::budgets_csv(&tickettime::report::budgets(&tickets));
    let path = tickettime::app::save_download("tickettime-budgets", &csv)?;
    Ok(SavedFile { path: path.display().to_string() })
}
