//! `harvest-sim [--port P] [--no-seed] [--no-rate-limit]`: runs the Harvest simulator alone until
//! Ctrl-C, printing its URL (use it for both HARVEST_API_URL and HARVEST_ID_URL) and demo tokens.

use clap::Parser;
use harvest_sim::{Config, Simulator};

#[derive(Parser)]
#[command(name = "harvest-sim", about = "A local Harvest v2 simulator (API + OAuth) for tests and demos")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Start without the seeded past time entries.
    #[arg(long)]
    no_seed: bool,
    /// Disable the 100-requests-per-15-seconds throttle.
    #[arg(long)]
    no_rate_limit: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut config = Config { port: args.port, seed: !args.no_seed, ..Config::default() };
    if args.no_rate_limit {
        config.rate_limit = None;
    }
    let simulator = Simulator::start(config).await?;
    println!("harvest-sim listening on {}", simulator.url());
    println!("account id:     {}", Simulator::ACCOUNT_ID);
    println!("admin token:    {} (user {})", Simulator::ADMIN_TOKEN, Simulator::ADMIN_ID);
    println!("manager token:  {} (user {})", Simulator::MANAGER_TOKEN, Simulator::MANAGER_ID);
    println!("member token:   {} (user {})", Simulator::MEMBER_TOKEN, Simulator::MEMBER_ID);
    println!("oauth client:   {} / {}", Simulator::CLIENT_ID, Simulator::CLIENT_SECRET);
    tokio::signal::ctrl_c().await?;
    simulator.shutdown().await;
    Ok(())
}
