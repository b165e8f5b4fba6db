//! Demo mode: the project's Harvest and Zendesk simulators, in this process,
//! with seed tickets and projects, and this database pointed at them — so
//! every feature can be tried without a Harvest account or a help desk.

use anyhow::Context;
use chrono::Utc;

use crate::connection::{self, HarvestEnv, DEMO_URL_SETTING};
use crate::desk::DeskKind;
use crate::domain::Hours;
use crate::keychain::Keychain;
use crate::personal::PersonalCache;
use crate::session::Session;
use crate::store::{Backend, NewDesk, NewTicket, Store};
use secrecy::SecretString;

/// How many requests the demo's simulators remember: the demo runs for days
/// and imports every few minutes; an unbounded log grew the tray by ~0.7 MiB
/// an hour (found with heaptrack in a soak).
const DEMO_REQUEST_LOG: usize = 500;

/// The setting that names the demo Zendesk's address (its token is public).
pub const DEMO_ZENDESK_SETTING: &str = "zendesk_demo_url";
const DEMO_DESK_NAME: &str = "Demo Zendesk";

/// The demo's simulators; they serve while this lives.
pub struct Simulators {
    pub harvest: harvest_sim::Simulator,
    pub zendesk: zendesk_sim::Simulator,
}

impl Simulators {
    /// The Harvest simulator's address.
    pub fn url(&self) -> String {
        self.harvest.url()
    }

    pub async fn shutdown(self) {
        self.harvest.shutdown().await;
        self.zendesk.shutdown().await;
    }
}

/// Starts the Harvest simulator on `port` (0: any free port) and a Zendesk
/// simulator, points `store` at them, and seeds an empty database; returns
/// them with the demo PM's session. Keep them alive. Never on a team
/// database: demo data would land in everyone's tickets.
pub async fn start(store: &Store, port: u16) -> anyhow::Result<(Simulators, Session)> {
    if store.backend() == Backend::Postgres {
        anyhow::bail!(
            "the demo never writes to a team database: start the desktop with --demo, or run \
             `tickettime --db /tmp/demo.db demo`"
        );
    }
    let config =
        harvest_sim::Config { port, request_log: Some(DEMO_REQUEST_LOG), ..harvest_sim::Config::default() };
    let simulator = harvest_sim::Simulator::start(config)
        .await
        .with_context(|| format!("cannot start the Harvest simulator on 127.0.0.1:{port}"))?;
    store.set_setting(DEMO_URL_SETTING, Some(&simulator.url())).await?;
    let harvest = connection::open(store, &HarvestEnv::default(), &Keychain::default()).await?;
    let session =
        Session::open(store.clone(), Some(harvest), PersonalCache::default(), None, Utc::now()).await?;
    if store.tickets().await?.is_empty() {
        work_done_in_harvest(&simulator);
        seed(&session).await?;
    }
    let zendesk = zendesk(store, &session, &simulator).await?;
    Ok((Simulators { harvest: simulator, zendesk }, session))
}

/// The demo's help desk: a simulated Zendesk whose two tickets bill to
/// Harvest projects of their own, added as a desk (once) and synced.
async fn zendesk(
    store: &Store,
    session: &Session,
    harvest: &harvest_sim::Simulator,
) -> anyhow::Result<zendesk_sim::Simulator> {
    use harvest_sim::seed::{ACME_ID, ADMIN_ID, GLOBEX_ID, MANAGER_ID, MEMBER_ID, TASK_IDS};
    let config = zendesk_sim::Config {
        id_seed: Some(20_261_204),
        request_log: Some(DEMO_REQUEST_LOG),
        ..zendesk_sim::Config::default()
    };
    let zendesk =
        zendesk_sim::Simulator::start(config).await.context("cannot start the Zendesk simulator")?;
    let project = |client_id: i64, name: &str, code: &str, budget: f64| {
        harvest.add_project(harvest_sim::NewProject {
            client_id,
            name: name.into(),
            code: Some(code.into()),
            budget: Some(budget),
            is_active: true,
            task_ids: TASK_IDS.to_vec(),
            user_ids: vec![ADMIN_ID, MEMBER_ID],
            manager_ids: vec![MANAGER_ID],
        })
    };
    let projects = [
        project(ACME_ID, "Acme Leeds office", "ACME-LDS", 8.0),
        project(GLOBEX_ID, "Globex VAT change", "GLX-VAT", 4.0),
    ];
    let field = zendesk.field_id(zendesk_sim::seed::PROJECT_FIELD);
    let tickets = zendesk.ticket_ids();
    {
        // Set "before" the demo starts: no change for the export's minute to hide.
        let mut world = zendesk.world();
        for (id, project) in tickets.iter().zip(projects) {
            if let Some(ticket) = world.tickets.get_mut(id) {
                ticket.custom.insert(field, serde_json::json!(project.to_string()));
            }
        }
    }
    store.set_setting(DEMO_ZENDESK_SETTING, Some(&zendesk.url())).await?;
    // The demo's desk from an earlier run (its simulator ran on another
    // port); a desk of the same name elsewhere is someone's real one.
    let existing = store
        .desks()
        .await?
        .into_iter()
        .find(|d| d.kind == DeskKind::Zendesk && d.name == DEMO_DESK_NAME && is_local(&d.url));
    let desk = match existing {
        Some(desk) => store.move_desk(&session.actor, desk.id, &zendesk.url()).await?,
        None => {
            let config = crate::desk::zendesk::Config {
                email: zendesk_sim::Simulator::ADMIN_EMAIL.into(),
                ..crate::desk::zendesk::Config::default()
            };
            let config = serde_json::to_string(&config)?;
            let new = NewDesk {
                kind: DeskKind::Zendesk,
                name: DEMO_DESK_NAME,
                url: &zendesk.url(),
                config: &config,
                writes_notes: true,
            };
            store.add_desk(&session.actor, new, Utc::now()).await?
        }
    };
    let secret = SecretString::from(zendesk_sim::Simulator::TOKEN.to_owned());
    crate::desk::sync_desk(store, &session.actor, &desk, &secret, Utc::now).await?;
    Ok(zendesk)
}

/// Time logged "in Harvest" so the demo shows the bands: #1 Acme VPN and #2
/// Globex billing yellow, #3 Initech SSO green, #4 Acme onboarding over its
/// budget (locked).
fn work_done_in_harvest(simulator: &harvest_sim::Simulator) {
    use harvest_sim::seed::{
        ACME_ONBOARDING_PROJECT_ID, ACME_VPN_PROJECT_ID, GLOBEX_BILLING_PROJECT_ID, MEMBER_ID,
        SUPPORT_TASK_ID,
    };
    let today = chrono::Local::now().date_naive();
    for (project, hours, notes, days_ago) in [
        (ACME_VPN_PROJECT_ID, 3.5, "Investigate hourly VPN drops", 3),
        (ACME_VPN_PROJECT_ID, 2.0, "Capture gateway logs", 2),
        (GLOBEX_BILLING_PROJECT_ID, 1.75, "Debug blank invoice PDF", 1),
        (ACME_ONBOARDING_PROJECT_ID, 8.0, "Onboarding workshop and setup", 4),
    ] {
        simulator.add_entry(harvest_sim::NewEntry {
            user_id: MEMBER_ID,
            project_id: project,
            task_id: SUPPORT_TASK_ID,
            spent_date: today - chrono::Days::new(days_ago),
            hours: Some(hours),
            notes: Some(notes.to_owned()),
            external_reference: None,
        });
    }
}

/// The help-desk ticket each demo project stands for.
fn subject(project: &harvest::Project) -> String {
    use harvest_sim::seed::{ACME_VPN_PROJECT_ID, GLOBEX_BILLING_PROJECT_ID, INITECH_SSO_PROJECT_ID};
    match project.id {
        ACME_VPN_PROJECT_ID => "VPN drops every hour".to_owned(),
        GLOBEX_BILLING_PROJECT_ID => "Invoice PDF renders blank".to_owned(),
        INITECH_SSO_PROJECT_ID => "SSO login loops back to sign-in".to_owned(),
        _ => format!("Onboarding: {}", project.name),
    }
}

/// One ticket per demo project, budgets from Harvest, and Harvest's entries imported.
async fn seed(session: &Session) -> anyhow::Result<()> {
    let now = Utc::now();
    let (store, client, actor) = (&session.store, session.client()?, &session.actor);
    let pm = actor.staff().context("the demo user is not known")?;
    let pm = crate::domain::Email::parse(&pm.email).map_err(|e| anyhow::anyhow!(e))?;
    let agent = crate::domain::Email::parse("ana@demo.test").map_err(|e| anyhow::anyhow!(e))?;
    if store.staff(&agent).await.is_err() {
        // Setting the demo up is the tool's doing, not the demo PM's (who is no admin).
        store
            .add_staff(
                &crate::Actor::local_owner(None),
                &agent,
                "Ana Alvarez",
                crate::domain::Role::Agent,
                now,
            )
            .await?;
    }
    let mut pager = client.projects(true)?;
    let mut projects = Vec::new();
    while let Some(page) = pager.next_page().await? {
        projects.extend(page.items);
    }
    // Ticket numbers follow the projects' order, so the demo is the same every time.
    projects.sort_by_key(|p| p.id);
    for project in projects {
        let subject = subject(&project);
        let budget = project.hour_budget().map(Hours::from_harvest).transpose()?;
        let new = NewTicket {
            subject,
            client: project.client.as_ref().map(|c| c.name.clone()),
            agent: Some(agent.clone()),
            pm: Some(pm.clone()),
            budget,
            quoted: budget,
            project: Some(project.id),
        };
        store.create_ticket(actor, new, now).await?;
    }
    let mut entries = client.time_entries(&harvest::TimeEntryQuery::default())?;
    while let Some(page) = entries.next_page().await? {
        store.import_entries(&page.items, now).await?;
    }
    Ok(())
}

/// Whether `url` is on this machine (the demo's simulators always are).
pub fn is_local(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn only_this_machines_addresses_are_the_demos() {
        assert!(is_local("http://127.0.0.1:43117"));
        assert!(is_local("http://localhost:9"));
        assert!(is_local("http://[::1]:9"));
        assert!(!is_local("https://acme.zendesk.com"));
        assert!(!is_local("https://127.0.0.1.example.com"));
        assert!(!is_local("not a url"));
    }
}
