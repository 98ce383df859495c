//! The command's side of a run: the error of every stage with its exit code, the run log's
//! view of the runner's events, progress on stderr, and the terminal summary. The run itself
//! is the `teamsync` library's [`teamsync::Runner`].

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use serde_json::json;
use teamsync::config::ConfigError;
use teamsync::{RunError, RunErrorKind, RunEvent, Runner};
use teamsync_core::{ApplyOptions, OpResult, OpStatus, Outcome, Permission, Plan, TeamStore};

use crate::exit::Exit;
use crate::log::RunLog;

/// Why a command stopped; each maps to one [`Exit`] code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A stage of the run failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The team refused the credentials (`teamsync auth`).
    #[error("Dropbox authentication failed: {0}")]
    TeamAuth(String),
    /// The token endpoint could not be used (`teamsync auth`).
    #[error("cannot read the Dropbox team: {0}")]
    TeamRead(String),
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
    /// The deprovision guard refused the plan; the message names the flag that allows it.
    #[error("{0}")]
    Guard(String),
    /// The log file cannot take this run's lines (it holds the other format).
    #[error("{0}")]
    LogFile(String),
    /// Another run holds the lock.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// A notification could not be sent.
    #[error("notification failed: {0}")]
    Notify(String),
    /// `--only` named someone neither the directory nor the team knows.
    #[error(transparent)]
    UnknownPeople(#[from] teamsync_core::OnlyError),
    /// Anything else (I/O writing an output file, a bug).
    #[error("{0}")]
    Internal(String),
}

impl From<ConfigError> for CliError {
    fn from(error: ConfigError) -> Self {
        CliError::Run(RunError::Config(error))
    }
}

impl CliError {
    /// The exit code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Run(e) => match e.kind() {
                RunErrorKind::Config => Exit::ConfigInvalid,
                RunErrorKind::DirectoryConnect => Exit::DirectoryConnect,
                RunErrorKind::DirectoryRead => Exit::DirectoryRead,
                RunErrorKind::NoUsersInScope => Exit::NoUsersInScope,
                RunErrorKind::TeamAuth => Exit::TeamAuth,
                RunErrorKind::TeamRead => Exit::TeamRead,
                RunErrorKind::GuardRefused => Exit::GuardRefused,
                RunErrorKind::PlanStale => Exit::PlanStale,
                RunErrorKind::PlanRefused => Exit::PlanRefused,
                _ => Exit::Internal,
            },
            CliError::TeamAuth(_) => Exit::TeamAuth,
            CliError::TeamRead(_) => Exit::TeamRead,
            CliError::ApplyFailures { .. } => Exit::ApplyFailures,
            CliError::LogFile(_) => Exit::ConfigInvalid,
            CliError::Guard(_) => Exit::GuardRefused,
            CliError::Lock(crate::lock::LockError::Held(_)) => Exit::LockHeld,
            CliError::Lock(_) => Exit::Internal,
            CliError::Notify(_) => Exit::NotifyFailed,
            CliError::UnknownPeople(_) => Exit::Usage,
            CliError::Internal(_) => Exit::Internal,
        }
    }
}

/// The runner's events, waiting to be written to the run log, and the read progress shown.
pub struct Events(Receiver<RunEvent>, Arc<crate::progress::ReadDisplay>);

/// The config's runner, with its events collected for the log and its reads' progress shown
/// on stderr.
pub fn runner(config: teamsync::Config) -> Result<(Runner, Events), CliError> {
    let (sender, receiver) = channel();
    let sender = std::sync::Mutex::new(sender);
    let display = crate::progress::ReadDisplay::on_stderr();
    let shown = display.clone();
    let runner = Runner::new(config)?.with_observer(move |event| {
        shown.show(event);
        if matches!(event, RunEvent::Reading(_)) {
            return; // many per read: for the display, not the log
        }
        if let Ok(sender) = sender.lock() {
            let _ = sender.send(event.clone());
        }
    });
    Ok((runner, Events(receiver, display)))
}

impl Events {
    /// Writes the events so far to the log. Called once a read is over, so it also clears the
    /// read progress bar before the command prints.
    pub fn log(&self, log: &mut RunLog) {
        self.1.finish();
        for event in self.0.try_iter() {
            crate::history::observe(log, &event);
            match event {
                RunEvent::TeamConnected { name, provisioned } => log.event(
                    "team",
                    &format!(
                        "connected to team \"{}\" ({provisioned} members provisioned)",
                        teamsync_core::text::escape_for_display(&name)
                    ),
                    json!({}),
                ),
                RunEvent::TeamRead { members, groups } => log.event(
                    "team",
                    &format!("read {members} members, {groups} groups"),
                    json!({}),
                ),
                RunEvent::DirectoryRead { users, groups } => log.event(
                    "directory",
                    &format!("read {users} users, {groups} groups"),
                    json!({}),
                ),
                _ => {}
            }
        }
    }
}

/// Logs (and records in the run history) every operation of a plan as planned, and its
/// warnings.
pub fn log_plan(plan: &Plan, log: &mut RunLog) {
    crate::history::planned(log, plan);
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

/// Applies a plan to `store` with progress on stderr, logging every operation's result.
pub async fn apply_plan(
    plan: &Plan,
    store: &dyn TeamStore,
    permission: Permission,
    log: &mut RunLog,
) -> Result<Outcome, CliError> {
    let (on_progress, bar) = crate::progress::apply_reporter();
    // Each result goes into the log file the moment it is known (an audit trail after any
    // crash); the mail gets them from the outcome below.
    let on_result = log.writer().map(|writer| {
        let plan = std::sync::Arc::new(plan.clone());
        std::sync::Arc::new(move |result: &OpResult| {
            if let Some((message, fields)) = result_line(&plan, result) {
                writer.write("applied", &message, fields);
            }
        }) as teamsync_core::ResultCallback
    });
    let written_as_they_happen = on_result.is_some();
    let mut options = ApplyOptions::default().with_permission(permission);
    options.on_progress = Some(on_progress);
    options.on_result = on_result;
    let applied = teamsync_core::apply(plan, store, &options).await;
    crate::history::applied(log, plan, permission, &applied);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = applied.map_err(|e| guard_refusal(plan, permission, e))?;
    for result in &outcome.results {
        if let Some((message, fields)) = result_line(plan, result) {
            if written_as_they_happen {
                log.remember("applied", &message);
            } else {
                log.event("applied", &message, fields);
            }
        }
    }
    Ok(outcome)
}

/// The log line of one operation's result.
fn result_line(plan: &Plan, result: &OpResult) -> Option<(String, serde_json::Value)> {
    let op = plan.operations.get(result.index)?;
    let (status, detail) = match &result.status {
        OpStatus::Done => ("done".to_owned(), String::new()),
        OpStatus::Failed { error, attempts } => (
            "failed".to_owned(),
            format!(" ({error}; {attempts} attempt(s))"),
        ),
        OpStatus::Skipped { because } => ("skipped".to_owned(), format!(" ({because})")),
    };
    Some((
        format!(
            "{} {} {}: {status}{detail}",
            op.action.sign(),
            op.action.verb(),
            op.target
        ),
        json!({"index": result.index, "phase": op.phase, "action": op.action.verb(), "target": op.target, "result": result.status}),
    ))
}

/// The guard's refusal, naming the exact flag that allows this plan.
fn guard_refusal(
    plan: &Plan,
    permission: Permission,
    error: teamsync_core::ApplyError,
) -> CliError {
    let (Some(finding), Some(needed)) = (
        teamsync::report::guard_finding(plan),
        teamsync::report::permission_needed(plan),
    ) else {
        return CliError::Run(RunError::Guard(error));
    };
    let given = match permission {
        Permission::UpTo(n) => format!(" (--allow-deprovision {n} is not enough)"),
        _ => String::new(),
    };
    CliError::Guard(format!(
        "refused: the plan {finding}{given}: rerun with `--allow-deprovision {needed}` to allow exactly this, or `--force`"
    ))
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

/// Writes an output file atomically (a full disk leaves the previous file as it was), mapping
/// failure to an internal error.
pub fn write_output(path: &Path, contents: &str) -> Result<(), CliError> {
    crate::files::write_atomically(path, contents.as_bytes(), crate::files::Readers::Default)
        .map_err(|e| CliError::Internal(format!("cannot write {}: {e}", path.display())))
}
