//! The commands: wiring config, sources, the team, the planner and the executor, with the
//! exit code of every failure stage.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use teamsync_core::{
    ActualState, ApplyError, ApplyOptions, DesiredState, Directory, DirectoryError,
    DirectoryErrorKind, ErrorKind, OpStatus, Outcome, Permission, Plan, PlanError, Policy,
    Progress, StoreError, TeamStore,
};
use teamsync_dropbox::{CaSource, ClientConfig, Credentials, DropboxClient, DropboxTeam, Secret};

use crate::config::{Config, ConfigError, DirectoryKind};
use crate::exit::Exit;
use crate::log::RunLog;
use crate::source::FileDirectory;

/// Why a command stopped; each maps to one [`Exit`] code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The directory could not be read.
    #[error("{0}")]
    Directory(DirectoryError),
    /// Planning refused: no users in scope.
    #[error("{0}")]
    NoUsers(PlanError),
    /// The team refused the credentials.
    #[error("Dropbox authentication failed: {0}")]
    TeamAuth(String),
    /// The team could not be read.
    #[error("cannot read the Dropbox team: {0}")]
    TeamRead(String),
    /// The deprovision guard refused the plan.
    #[error("{0}")]
    Guard(ApplyError),
    /// A saved plan no longer matches the team.
    #[error(
        "the saved plan is stale: {count} operation(s) no longer match the team (first: {first}); plan again"
    )]
    Stale {
        /// Stale operations.
        count: usize,
        /// The first one, for people.
        first: String,
    },
    /// Some operations failed or were skipped.
    #[error(
        "apply finished with {failed} failed and {skipped} skipped operation(s) out of {total}"
    )]
    ApplyFailures {
        /// Failed.
        failed: usize,
        /// Skipped.
        skipped: usize,
        /// All.
        total: usize,
    },
    /// Another run holds the lock.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// A notification could not be sent.
    #[error("notification failed: {0}")]
    Notify(String),
    /// Anything else (I/O writing an output file, a bug).
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    /// The exit code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Config(_) => Exit::ConfigInvalid,
            CliError::Directory(e) => match e.kind {
                DirectoryErrorKind::Config => Exit::ConfigInvalid,
                DirectoryErrorKind::Connect | DirectoryErrorKind::Bind => Exit::DirectoryConnect,
                DirectoryErrorKind::Incomplete
                | DirectoryErrorKind::RootNotFound
                | DirectoryErrorKind::Other => Exit::DirectoryRead,
            },
            CliError::NoUsers(_) => Exit::NoUsersInScope,
            CliError::TeamAuth(_) => Exit::TeamAuth,
            CliError::TeamRead(_) => Exit::TeamRead,
            CliError::Guard(_) => Exit::GuardRefused,
            CliError::Stale { .. } => Exit::PlanStale,
            CliError::ApplyFailures { .. } => Exit::ApplyFailures,
            CliError::Lock(crate::lock::LockError::Held(_)) => Exit::LockHeld,
            CliError::Lock(_) => Exit::Internal,
            CliError::Notify(_) => Exit::NotifyFailed,
            CliError::Internal(_) => Exit::Internal,
        }
    }
}

/// A team error from reading: auth failures get their own code.
pub fn team_error(error: StoreError) -> CliError {
    match error.kind {
        ErrorKind::Auth => CliError::TeamAuth(error.message),
        _ => CliError::TeamRead(error.message),
    }
}

/// Builds the Dropbox client from `[team]`.
pub fn team_client(config: &Config) -> Result<DropboxClient, CliError> {
    let team = &config.file.team;
    let credentials = match (&team.token, &team.refresh_token) {
        (Some(token), _) => {
            Credentials::access_token(Secret::new(config.secret("team.token", token)?))
        }
        (None, Some(refresh)) => {
            let refresh = config.secret("team.refresh_token", refresh)?;
            let app_secret = team
                .app_secret
                .as_ref()
                .map(|s| config.secret("team.app_secret", s))
                .transpose()?;
            let app_key = team.app_key.clone().unwrap_or_default();
            Credentials::refresh_token(Secret::new(refresh), app_key, app_secret.map(Secret::new))
        }
        (None, None) => {
            return Err(config.invalid("team.token", "give team.token or team.refresh_token (run `teamsync auth` to get a refresh token)")
            .into());
        }
    };
    let mut client_config = ClientConfig::with_base_url(team.base_url.clone());
    client_config.ca = team
        .ca_file
        .as_deref()
        .map(|p| CaSource::File(config.resolve(p)));
    if let Some(secs) = team.request_timeout_secs {
        client_config.request_timeout = Duration::from_secs(secs);
    }
    DropboxClient::new(client_config, credentials)
        .map_err(|e| CliError::Config(config.invalid("team", e.to_string())))
}

/// Builds the directory from `[directory]`; `known_ids` feed OpenLDAP-style deletion detection.
pub fn directory(
    config: &Config,
    known_ids: Vec<teamsync_core::SourceId>,
) -> Result<Box<dyn Directory>, CliError> {
    let d = &config.file.directory;
    match d.kind {
        DirectoryKind::File => Ok(Box::new(FileDirectory {
            path: config.resolve(d.path.as_deref().unwrap_or(Path::new(""))),
            format: d.format,
            user_roots: d.user_roots.clone(),
            group_roots: d.group_roots.clone(),
            profile: d.profile,
            attributes: d.attributes.clone(),
        })),
        DirectoryKind::Ldap => {
            let mut ldap = config.ldap_config()?;
            ldap.known_ids = known_ids;
            Ok(Box::new(
                teamsync_ldap::LdapDirectory::new(ldap).map_err(CliError::Directory)?,
            ))
        }
    }
}

/// Ids of the team's managed members and groups, for directories that detect deletions by
/// looking known ids up.
pub fn known_ids(actual: &ActualState, policy: &Policy) -> Vec<teamsync_core::SourceId> {
    let prefix = policy.external_id_prefix.as_str();
    let member_ids = actual
        .members
        .iter()
        .filter_map(|m| m.external_id.as_deref());
    let group_ids = actual
        .groups
        .iter()
        .filter_map(|g| g.external_id.as_deref());
    member_ids
        .chain(group_ids)
        .filter_map(|e| e.strip_prefix(prefix))
        .filter_map(|id| teamsync_core::SourceId::new(id).ok())
        .collect()
}

/// Both sides read.
pub struct Sides {
    /// The directory's state.
    pub desired: DesiredState,
    /// The team's state.
    pub actual: ActualState,
}

/// Reads the team, then the directory (which may need the team's managed ids).
pub async fn read_sides(
    config: &Config,
    team: &DropboxTeam,
    log: &mut RunLog,
) -> Result<Sides, CliError> {
    let actual = team.snapshot().await.map_err(team_error)?;
    log.event(
        "team",
        &format!(
            "read {} members, {} groups",
            actual.members.len(),
            actual.groups.len()
        ),
        json!({}),
    );
    let directory = directory(config, known_ids(&actual, &config.file.policy))?;
    let desired = directory.snapshot().await.map_err(CliError::Directory)?;
    log.event(
        "directory",
        &format!(
            "read {} users, {} groups",
            desired.users.len(),
            desired.groups.len()
        ),
        json!({}),
    );
    Ok(Sides { desired, actual })
}

/// Plans, mapping a refusal to its exit code.
pub fn make_plan(sides: &Sides, policy: &Policy) -> Result<Plan, CliError> {
    teamsync_core::plan(&sides.desired, &sides.actual, policy).map_err(|e| match e {
        PlanError::NoUsersInScope { .. } => CliError::NoUsers(e),
        PlanError::Policy(p) => CliError::Internal(format!("policy: {p}")),
    })
}

/// Logs every operation of a plan as planned, and its warnings.
pub fn log_plan(plan: &Plan, log: &mut RunLog) {
    for (index, op) in plan.operations.iter().enumerate() {
        log.event(
            "planned",
            &format!("{} {} {}: {}", op.action.sign(), op.action.verb(), op.target, op.reason),
            json!({"index": index, "phase": op.phase, "action": op.action.verb(), "target": op.target, "reason": op.reason}),
        );
    }
    for warning in &plan.warnings {
        log.event(
            "warning",
            &format!("{}: {}", warning.subject, warning.message),
            json!({"kind": warning.kind}),
        );
    }
}

/// Progress on stderr: a bar on a terminal (returned, to be cleared at the end), a line per
/// finished phase otherwise.
fn progress_reporter() -> (
    Arc<dyn Fn(Progress) + Send + Sync>,
    Option<indicatif::ProgressBar>,
) {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        let shown = bar.clone();
        let callback = Arc::new(move |p: Progress| {
            // Position before length, so a shorter phase never shows more done than total.
            shown.set_message(p.phase.title());
            shown.set_position(p.done as u64);
            shown.set_length(p.total as u64);
            if p.done == p.total {
                shown.println(format!("  {:<32} {}/{}", p.phase.title(), p.done, p.total));
            }
        });
        (callback, Some(bar))
    } else {
        let callback = Arc::new(|p: Progress| {
            if p.done == p.total {
                eprintln!("  {:<32} {}/{}", p.phase.title(), p.done, p.total);
            }
        });
        (callback, None)
    }
}

/// Applies a plan, logging every operation's result.
pub async fn apply_plan(
    plan: &Plan,
    store: &dyn TeamStore,
    permission: Permission,
    log: &mut RunLog,
) -> Result<Outcome, CliError> {
    let (on_progress, bar) = progress_reporter();
    let options = ApplyOptions {
        permission,
        on_progress: Some(on_progress),
        ..ApplyOptions::default()
    };
    let applied = teamsync_core::apply(plan, store, &options).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = applied.map_err(CliError::Guard)?;
    for result in &outcome.results {
        let Some(op) = plan.operations.get(result.index) else {
            continue;
        };
        let (status, detail) = match &result.status {
            OpStatus::Done => ("done".to_owned(), String::new()),
            OpStatus::Failed { error, attempts } => (
                "failed".to_owned(),
                format!(" ({error}; {attempts} attempt(s))"),
            ),
            OpStatus::Skipped { because } => ("skipped".to_owned(), format!(" ({because})")),
        };
        log.event(
            "applied",
            &format!("{} {} {}: {status}{detail}", op.action.sign(), op.action.verb(), op.target),
            json!({"index": result.index, "phase": op.phase, "action": op.action.verb(), "target": op.target, "result": result.status}),
        );
    }
    Ok(outcome)
}

/// One line per failure, for the terminal.
pub fn outcome_summary(plan: &Plan, outcome: &Outcome) -> String {
    let mut out = format!(
        "Applied: {} done, {} failed, {} skipped.\n",
        outcome.done, outcome.failed, outcome.skipped
    );
    for result in &outcome.results {
        let Some(op) = plan.operations.get(result.index) else {
            continue;
        };
        match &result.status {
            OpStatus::Failed { error, .. } => out.push_str(&format!(
                "  failed: {} {}: {error}\n",
                op.action.verb(),
                op.target
            )),
            OpStatus::Skipped { because } => out.push_str(&format!(
                "  skipped: {} {}: {because}\n",
                op.action.verb(),
                op.target
            )),
            OpStatus::Done => {}
        }
    }
    out
}

/// The outcome as an error when anything failed.
pub fn outcome_result(outcome: &Outcome) -> Result<(), CliError> {
    if outcome.is_success() {
        Ok(())
    } else {
        Err(CliError::ApplyFailures {
            failed: outcome.failed,
            skipped: outcome.skipped,
            total: outcome.results.len(),
        })
    }
}

/// `--allow-deprovision N` and `--force` as a permission.
pub fn permission(allow_deprovision: Option<usize>, force: bool) -> Permission {
    match (force, allow_deprovision) {
        (true, _) => Permission::Force,
        (false, Some(n)) => Permission::UpTo(n),
        (false, None) => Permission::WithinLimits,
    }
}

/// Reads a saved plan and refuses it when the team changed since.
pub fn saved_plan(path: &Path, actual: &ActualState) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Internal(format!("cannot read plan {}: {e}", path.display())))?;
    let plan = Plan::from_json(&text)
        .map_err(|e| CliError::Internal(format!("plan {}: {e}", path.display())))?;
    let stale = plan.stale_operations(actual);
    if let Some(first) = stale.first() {
        return Err(CliError::Stale {
            count: stale.len(),
            first: format!("#{} {}", first.index, first.target),
        });
    }
    Ok(plan)
}

/// Writes an output file atomically (a full disk leaves the previous file as it was), mapping
/// failure to an internal error.
pub fn write_output(path: &PathBuf, contents: &str) -> Result<(), CliError> {
    crate::files::write_atomically(path, contents.as_bytes(), crate::files::Readers::Default)
        .map_err(|e| CliError::Internal(format!("cannot write {}: {e}", path.display())))
}
