//! Run a sync from the `teamsync` command's own config file: plan, print, and apply with
//! `--apply`. `cargo run -p teamsync-examples --example sync_from_config -- teamsync.toml`
use teamsync::{ApplyOptions, Config, Runner};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "teamsync.toml".into());
    let runner = Runner::new(Config::load(path)?)?;
    let planned = runner.plan().await?;
    print!("{}", planned.plan.render());
    if std::env::args().any(|a| a == "--apply") {
        let outcome = runner.apply(&planned.plan, ApplyOptions::default()).await?;
        println!(
            "{} done, {} failed, {} skipped",
            outcome.done, outcome.failed, outcome.skipped
        );
    }
    Ok(())
}
