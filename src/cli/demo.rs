//! `tickettime demo`: the Harvest simulator with seed data, in this
//! process, with this database pointed at it, until Ctrl-C.

use anyhow::Context;
use chrono::Utc;

use crate::connection::{self, HarvestEnv, DEMO_URL_SETTING};
use crate::domain::Hours;
use crate::keychain::Keychain;
use crate::store::{NewTicket, Store};

pub async fn run(store: &Store, db_url: &str, port: u16) -> anyhow::Result<()> {
    let config = harvest_sim::Config { port, ..harvest_sim::Config::default() };
    let simulator = harvest_sim::Simulator::start(config)
        .await
        .with_context(|| format!("cannot start the Harvest simulator on 127.0.0.1:{port} (try --port)"))?;
    store.set_setting(DEMO_URL_SETTING, Some(&simulator.url())).await?;
    let harvest = connection::open(store, &HarvestEnv::default(), &Keychain::default()).await?;
    let (account, _) = connection::identify(store, &harvest.client).await?;
    if store.tickets().await?.is_empty() {
        work_done_in_harvest(&simulator);
        seed(store, &harvest.client).await?;
    }
    println!(
        "Demo Harvest running at {} (account {}, you are {}, {}).",
        simulator.url(),
        account.account_id,
        account.name,
        account.role
    );
    println!("In another terminal, with the same database:");
    println!("  export TICKETTIME_DB={db_url}");
    println!("  tickettime ticket list");
    println!("  tickettime log 1 --hours 0.5 --notes \"Check VPN logs\"");
    println!("  tickettime timer start 2 && tickettime timer status");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    simulator.shutdown().await;
    println!("Demo stopped; this database keeps pointing at it (run `tickettime demo` again, or `tickettime connect`).");
    Ok(())
}

/// Time logged "in Harvest" so the demo shows every band: Acme VPN near its
/// budget, Globex billing over it (locked).
fn work_done_in_harvest(simulator: &harvest_sim::Simulator) {
    use harvest_sim::seed::{ACME_VPN_PROJECT_ID, GLOBEX_BILLING_PROJECT_ID, MEMBER_ID, SUPPORT_TASK_ID};
    let today = chrono::Local::now().date_naive();
    for (project, hours, notes, days_ago) in [
        (ACME_VPN_PROJECT_ID, 3.5, "Investigate hourly VPN drops", 3),
        (ACME_VPN_PROJECT_ID, 2.0, "Capture gateway logs", 2),
        (GLOBEX_BILLING_PROJECT_ID, 3.0, "Debug blank invoice PDF", 1),
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
async fn seed(store: &Store, client: &harvest::HarvestClient) -> anyhow::Result<()> {
    let now = Utc::now();
    let account = store.account().await?.context("the demo user is not known")?;
    let pm = crate::domain::Email::parse(&account.email).map_err(|e| anyhow::anyhow!(e))?;
    let agent = crate::domain::Email::parse("ana@demo.test").map_err(|e| anyhow::anyhow!(e))?;
    if store.staff(&agent).await.is_err() {
        store.add_staff(&agent, "Ana Alvarez", crate::domain::Role::Agent, now).await?;
    }
    let mut projects = client.projects(true)?;
    while let Some(page) = projects.next_page().await? {
        for project in page.items {
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
            store.create_ticket(new, None, now).await?;
        }
    }
    let mut entries = client.time_entries(&harvest::TimeEntryQuery::default())?;
    while let Some(page) = entries.next_page().await? {
        store.import_entries(&page.items, now).await?;
    }
    Ok(())
}
