//! `teamsync-graph-emulator`: the Microsoft Graph / Entra ID emulator as a standalone server.
//!
//! Prints one JSON line with `base_url`, `tenant_id`, `access_token` (every read permission,
//! non-expiring) and `ca_file` once it is listening (also written to `--info-file`), then
//! serves until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use teamsync_emulator_support::binary::{self, read_json, wait_for_signal, write_atomically};
use teamsync_graph_emulator::{Emulator, EmulatorConfig, Faults, TenantSeed};

/// Emulates Microsoft Graph's directory reads and the Entra ID token endpoint on a local port.
#[derive(Debug, Parser)]
#[command(name = "teamsync-graph-emulator", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// Serve HTTPS with a certificate (SAN 127.0.0.1, localhost) signed by a fresh CA.
    #[arg(long)]
    tls: bool,
    /// Where to write the CA certificate (PEM) when --tls is given.
    #[arg(long, requires = "tls")]
    ca_file: Option<PathBuf>,
    /// JSON tenant seed to load (tenant_id, apps, users, groups, service_principals, deleted_users).
    #[arg(long)]
    seed_file: Option<PathBuf>,
    /// JSON faults to inject (rate_limit, throttle_rate, unavailable_rate, drop_on_page, latency_ms, ...).
    #[arg(long)]
    faults_file: Option<PathBuf>,
    /// Seed of tokens and fault decisions.
    #[arg(long, default_value_t = EmulatorConfig::default().seed)]
    seed: u64,
    /// Lifetime of access tokens from the token endpoint, in seconds.
    #[arg(long, default_value_t = 3599)]
    token_ttl_secs: u64,
    /// The most items per page, whatever $top asks (1..=999).
    #[arg(long, default_value_t = 999)]
    max_page_size: usize,
    /// Also write the startup JSON line to this file (written atomically).
    #[arg(long)]
    info_file: Option<PathBuf>,
}

async fn run(cli: Cli) -> Result<(), String> {
    let seed: Option<TenantSeed> = cli.seed_file.as_deref().map(read_json).transpose()?;
    let faults: Faults = cli
        .faults_file
        .as_deref()
        .map(read_json)
        .transpose()?
        .unwrap_or_default();
    let config = EmulatorConfig {
        access_token_ttl: Duration::from_secs(cli.token_ttl_secs),
        max_page_size: cli.max_page_size,
        faults,
        seed: cli.seed,
        tls: cli.tls,
        bind: cli.bind,
    };
    let emulator = Emulator::start(config).await.map_err(|e| e.to_string())?;
    let tenant_id = seed
        .as_ref()
        .map(|s| s.tenant_id.clone())
        .unwrap_or_default();
    if let Some(seed) = seed {
        emulator.try_seed(&seed).map_err(|e| e.to_string())?;
    }
    if let (Some(path), Some(pem)) = (&cli.ca_file, emulator.ca_pem()) {
        write_atomically(path, &pem)?;
    }
    let token = emulator.token_with_roles(&[
        "User.Read.All",
        "GroupMember.Read.All",
        "Application.Read.All",
    ]);
    let info = serde_json::json!({
        "base_url": emulator.base_url(),
        "tenant_id": tenant_id,
        "access_token": token,
        "ca_file": cli.ca_file,
        "pid": std::process::id(),
    });
    if let Some(path) = &cli.info_file {
        write_atomically(path, &info.to_string())?;
    }
    println!("{info}");
    wait_for_signal().await;
    emulator.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    binary::main("teamsync-graph-emulator", run(cli))
}
