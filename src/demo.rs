//! Demo mode: the project's Harvest simulator, in this process, with seed
//! tickets and projects, and this database pointed at it — so every feature
//! can be tried without a Harvest account.

use anyhow::Context;
use chrono::Utc;

use crate::connection::{self, HarvestEnv, DEMO_URL_SETTING};
use crate::domain::Hours;
use crate::keychain::Keychain;
use crate::personal::PersonalCache;
use crate::session::Session;
use crate::store::{Backend, NewTicket, Store};

/// Starts the simulator on `port` (0: any free port), points `store` at it,
/// and seeds an empty database; returns it with the demo PM's session. Keep
/// the simulator alive. Never on a team database: demo data would land in
/// everyone's tickets.
pub async fn start(store: &Store, port: u16) -> anyhow::Result<(harvest_sim::Simulator, Session)> {
    if store.backend() == Backend::Postgres {
        anyhow::bail!(
            "the demo never writes to a team database: start the desktop with --demo, or run \
             `tickettime --db /tmp/demo.db demo`"
        );
    }
    let config = harvest_sim::Config { port, ..harvest_sim::Config::default() };
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
    Ok((simulator, session))
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
