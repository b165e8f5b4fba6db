//! `tickettime demo`: the Harvest and Zendesk simulators with seed data, in this
//! process, with this database pointed at it, until Ctrl-C.

use anyhow::Context;

use crate::store::Store;

pub async fn run(store: &Store, db_url: &str, port: u16) -> anyhow::Result<()> {
    let (simulator, session) =
        crate::demo::start(store, port).await.map_err(|e| anyhow::anyhow!("{e:#}; try another --port"))?;
    println!(
        "Demo Harvest running at {} (account {}, you are {}).",
        simulator.url(),
        harvest_sim::Simulator::ACCOUNT_ID,
        session.actor.describe()
    );
    println!("Demo Zendesk at {} (a desk; `tickettime desk list`).", simulator.zendesk.url());
    println!("In another terminal, with the same database:");
    println!("  export TICKETTIME_DB={}", crate::store::redact(db_url));
    println!("  tickettime ticket list");
    println!("  tickettime log 1 --hours 0.5 --notes \"Check VPN logs\"");
    println!("  tickettime timer start 3 && tickettime timer status");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    simulator.shutdown().await;
    println!("Demo stopped; this database keeps pointing at it (run `tickettime demo` again, or `tickettime connect`).");
    Ok(())
}
