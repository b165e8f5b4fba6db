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

/// One ticket per demo project, budgets from Harvest, and Harvest's entries imported.
async fn seed(store: &Store, client: &harvest::HarvestClient) -> anyhow::Result<()> {
    let now = Utc::now();
    let account = store.account().await?.context("the demo user is not known")?;
    let pm = crate::domain::Email::parse(&account.email).map_err(|e| anyhow::anyhow!(e))?;
    let mut projects = client.projects(true)?;
    let mut subjects =
        ["VPN drops every hour", "Invoice PDF renders blank", "SSO login loops back to sign-in"].into_iter();
    while let Some(page) = projects.next_page().await? {
        for project in page.items {
            let subject =
                subjects.next().map_or_else(|| format!("Support for {}", project.name), str::to_owned);
            let budget = project.hour_budget().map(Hours::from_harvest).transpose()?;
            let new = NewTicket {
                subject,
                client: project.client.as_ref().map(|c| c.name.clone()),
                agent: None,
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
