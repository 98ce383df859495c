//! `sync-dropbox-emulator`: the Dropbox team API emulator as a standalone server.
//!
//! Prints one JSON line with `base_url`, `app_key`, `app_secret`, `refresh_token`,
//! `access_token` and `ca_file` once it is listening (also written to `--info-file`), then
//! serves until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, Faults, TeamSeed};
use teamsync_emulator_support::binary::{self, read_json, wait_for_signal, write_atomically};

/// Emulates the Dropbox team API (members, groups, OAuth) on a local port.
#[derive(Debug, Parser)]
#[command(name = "teamsync-dropbox-emulator", version)]
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
    /// JSON team seed to load (team_name, license_limit, members, groups).
    #[arg(long)]
    seed_file: Option<PathBuf>,
    /// JSON faults to inject (rate_limit, server_error_rate, drop_connection_rate, latency_ms, ...).
    #[arg(long)]
    faults_file: Option<PathBuf>,
    /// Seed of ids, tokens and fault decisions.
    #[arg(long, default_value_t = EmulatorConfig::default().seed)]
    seed: u64,
    /// Team name (a seed file's team_name wins).
    #[arg(long)]
    team_name: Option<String>,
    /// Licence limit (a seed file's license_limit wins).
    #[arg(long)]
    license_limit: Option<u32>,
    /// Lifetime of access tokens from /oauth2/token, in seconds.
    #[arg(long, default_value_t = 4 * 3600)]
    token_ttl_secs: u64,
    /// members/add_v2 goes async above this many members per call.
    #[arg(long, default_value_t = EmulatorConfig::default().async_add_threshold)]
    async_add_threshold: usize,
    /// Job-status polls answering in_progress before complete.
    #[arg(long, default_value_t = EmulatorConfig::default().job_polls_in_progress)]
    job_polls_in_progress: u32,
    /// Members added through the API become active at once instead of invited.
    #[arg(long)]
    added_members_active: bool,
    /// Also write the startup JSON line to this file (written atomically).
    #[arg(long)]
    info_file: Option<PathBuf>,
}

async fn run(cli: Cli) -> Result<(), String> {
    let seed: Option<TeamSeed> = cli.seed_file.as_deref().map(read_json).transpose()?;
    let faults: Faults = cli
        .faults_file
        .as_deref()
        .map(read_json)
        .transpose()?
        .unwrap_or_default();
    let defaults = EmulatorConfig::default();
    let config = EmulatorConfig {
        team_name: cli.team_name.unwrap_or(defaults.team_name),
        license_limit: cli.license_limit,
        access_token_ttl: Duration::from_secs(cli.token_ttl_secs),
        faults,
        seed: cli.seed,
        tls: cli.tls,
        bind: cli.bind,
        async_add_threshold: cli.async_add_threshold,
        job_polls_in_progress: cli.job_polls_in_progress,
        added_members_active: cli.added_members_active,
    };
    let emulator = Emulator::start(config).await.map_err(|e| e.to_string())?;
    if let Some(mut seed) = seed {
        if seed.license_limit.is_none() {
            seed.license_limit = cli.license_limit;
        }
        emulator.try_seed(&seed).map_err(|e| e.to_string())?;
    }
    if let (Some(path), Some(pem)) = (&cli.ca_file, emulator.ca_pem()) {
        write_atomically(path, &pem)?;
    }
    let info = serde_json::json!({
        "base_url": emulator.base_url(),
        "app_key": emulator.app_key(),
        "app_secret": emulator.app_secret(),
        "refresh_token": emulator.refresh_token(),
        "access_token": emulator.access_token(),
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
    binary::main("teamsync-dropbox-emulator", run(cli))
}
