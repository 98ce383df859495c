//! `teamsync demo`: the whole flow on an embedded default. A small company's directory
//! (bundled JSON) against the in-process Dropbox emulator seeded with a team that has drifted:
//! plan, apply, then plan again to show the team now matches.

use teamsync::config::{FileFormat, FileSection};
use teamsync::source::FileDirectory;
use teamsync::{RunError, Sides, plan_sides};
use teamsync_core::{Permission, Policy, Secret, TeamStore as _};
use teamsync_dropbox::{ClientConfig, Credentials, DropboxClient, DropboxTeam, ProxySetting};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, TeamSeed};

use crate::app::{self, CliError};
use crate::log::RunLog;

/// The bundled directory: nested groups, a disabled user, a leaver, a contractor out of scope.
pub const DIRECTORY_JSON: &str = include_str!("../demo/directory.json");
/// The drifted team the emulator starts with.
pub const TEAM_SEED_JSON: &str = include_str!("../demo/team.json");

/// Runs the demo, printing to stdout.
pub async fn run(log: &mut RunLog) -> Result<(), CliError> {
    let seed: TeamSeed = serde_json::from_str(TEAM_SEED_JSON)
        .map_err(|e| CliError::Internal(format!("bundled team seed: {e}")))?;
    let emulator = Emulator::start(EmulatorConfig {
        team_name: "Acme Corp (emulated)".into(),
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| CliError::Internal(format!("starting the emulator: {e}")))?;
    emulator
        .try_seed(&seed)
        .map_err(|e| CliError::Internal(e.to_string()))?;

    let source = FileDirectory::new(
        "demo/directory.json",
        FileSection::new("demo/directory.json", FileFormat::SimpleJson),
    );
    let mut client_config = ClientConfig::with_base_url(emulator.base_url());
    client_config.proxy = ProxySetting::Disabled;
    let client = DropboxClient::new(
        client_config,
        Credentials::access_token(Secret::new(emulator.access_token())),
    )
    .map_err(|e| CliError::Internal(e.to_string()))?;
    let info = client
        .team_get_info()
        .await
        .map_err(|e| RunError::from_team(e.into()))?;
    let team = DropboxTeam::new(client);
    let policy = Policy::default();

    println!(
        "teamsync demo: a bundled directory (10 people, 6 groups) against an emulated Dropbox team on {}",
        emulator.base_url()
    );
    println!(
        "Team: {} ({} provisioned members)\n",
        info.name, info.num_provisioned_users
    );

    // The bundled directory is read from memory instead of a file.
    let desired = source
        .state_from_text(DIRECTORY_JSON, std::time::SystemTime::now())
        .map_err(RunError::Directory)?;
    let actual = team.snapshot().await.map_err(RunError::from_team)?;
    let plan = plan_sides(&Sides::new(desired.clone(), actual), &policy)?;
    println!("== 1. Plan (teamsync plan)\n");
    println!("{}", plan.render());
    app::log_plan(&plan, log);

    println!("== 2. Apply (teamsync apply)\n");
    emulator.reset_call_counts();
    let outcome = app::apply_plan(&plan, &team, Permission::WithinLimits, log).await?;
    let writes: u64 = emulator
        .call_counts()
        .iter()
        .filter(|(route, _)| is_write(route))
        .map(|(_, n)| n)
        .sum();
    print!("{}", app::outcome_summary(&plan, &outcome));
    println!("Dropbox API write calls: {writes}\n");
    app::outcome_result(&outcome)?;

    println!("== 3. Plan again: the team now matches the directory\n");
    let actual = team.snapshot().await.map_err(RunError::from_team)?;
    let again = plan_sides(&Sides::new(desired, actual), &policy)?;
    println!("{}", again.render());
    if !again.is_empty() {
        return Err(CliError::Internal(format!(
            "the second plan still has {} operation(s)",
            again.operations.len()
        )));
    }
    println!(
        "Next: write a config (see sync-cli/README.md) and run `teamsync check`, `teamsync plan`, `teamsync apply`."
    );
    emulator.shutdown().await;
    Ok(())
}

/// The Dropbox routes that change the team (everything else teamsync calls only reads).
pub const WRITE_ROUTES: &[&str] = &[
    "team/members/add_v2",
    "team/members/set_profile_v2",
    "team/members/suspend",
    "team/members/unsuspend",
    "team/members/remove",
    "team/members/recover",
    "team/groups/create",
    "team/groups/update",
    "team/groups/delete",
    "team/groups/members/add",
    "team/groups/members/remove",
];

/// Whether a route changes the team.
pub fn is_write(route: &str) -> bool {
    WRITE_ROUTES.contains(&route)
}
