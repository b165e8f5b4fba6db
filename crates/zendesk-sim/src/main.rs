//! `zendesk-sim [--port P] [--empty]`: runs the Zendesk simulator alone until
//! Ctrl-C, printing its URL and the demo credentials.

use clap::Parser;
use zendesk_sim::{Config, Simulator};

#[derive(Parser)]
#[command(name = "zendesk-sim", about = "A local Zendesk Support API simulator for tests and demos")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Start without the demo tickets (people and fields stay).
    #[arg(long)]
    empty: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let simulator =
        Simulator::start(Config { port: args.port, seed_tickets: !args.empty, ..Config::default() }).await?;
    println!("zendesk-sim listening on {}", simulator.url());
    println!(
        "api token:   {} (with {}/token or {}/token)",
        Simulator::TOKEN,
        Simulator::ADMIN_EMAIL,
        Simulator::AGENT_EMAIL
    );
    println!("oauth token: {}", Simulator::OAUTH_TOKEN);
    tokio::signal::ctrl_c().await?;
    simulator.shutdown().await;
    Ok(())
}
