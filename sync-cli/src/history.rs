//! The command's side of the run history (the library's [`teamsync::history`]): the record
//! every `check`, `plan` and `apply` leaves (begun once the log is open, fed by the run's
//! events, plan and outcome, written with the exit code at the end), the `--metrics-file`,
//! and `teamsync history`.

use std::path::{Path, PathBuf};

use serde_json::json;
use teamsync::history::{History, PersonHistory, RunRecord, Unreadable, metrics};
use teamsync::{Config, RunEvent};
use teamsync_core::text::escape_for_display as shown;
use teamsync_core::{ApplyError, Outcome, Permission, Plan};

use crate::app::CliError;
use crate::exit::Exit;
use crate::log::RunLog;

/// A run being recorded: the record, where it goes, and the metrics file it also feeds.
#[derive(Debug)]
pub struct Recording {
    record: RunRecord,
    history: History,
    metrics_file: Option<PathBuf>,
}

impl RunLog {
    /// The run's record, when this run is recorded.
    fn record(&mut self) -> Option<&mut RunRecord> {
        self.recording.as_mut().map(|r| &mut r.record)
    }
}

/// Starts recording `command`: into the config's history (`history_dir`, else beside
/// `log_file`), or beside the log for a config that did not load.
pub fn begin(
    log: &mut RunLog,
    command: &str,
    config_path: &Path,
    config: Option<&Config>,
    log_file: &Path,
    metrics_file: Option<PathBuf>,
) {
    let history = match config {
        Some(config) => History::for_config(config, Some(log_file)),
        None => History::beside_log(log_file),
    };
    log.recording = Some(Recording {
        record: RunRecord::begin(command, config_path),
        history,
        metrics_file,
    });
}

/// A runner event: the team's name, both sides' counts.
pub fn observe(log: &mut RunLog, event: &RunEvent) {
    let Some(record) = log.record() else {
        return;
    };
    match event {
        RunEvent::TeamConnected { name, .. } => record.team_connected(name),
        RunEvent::TeamRead { members, groups } => record.team_read(*members, *groups),
        RunEvent::DirectoryRead { users, groups } => record.directory_read(*users, *groups),
        _ => {}
    }
}

/// The plan the run shows (or applies).
pub fn planned(log: &mut RunLog, plan: &Plan) {
    if let Some(record) = log.record() {
        record.planned(plan);
    }
}

/// What the apply did, or the guard's refusal.
pub fn applied(
    log: &mut RunLog,
    plan: &Plan,
    permission: Permission,
    applied: &Result<Outcome, ApplyError>,
) {
    if let Some(record) = log.record() {
        record.applied(plan, permission, applied);
    }
}

/// Ends the record with the exit code and the error, writes it (and the metrics file). A
/// record or metrics file that cannot be written is a warning: the run's own exit code stands.
pub fn end(log: &mut RunLog, exit: Exit, error: Option<String>) {
    let Some(Recording {
        mut record,
        history,
        metrics_file,
    }) = log.recording.take()
    else {
        return;
    };
    record.end(exit.code(), error);
    match history.write(&record) {
        Ok(written) => log.event(
            "history",
            &format!("run recorded in {}", written.path.display()),
            json!({"file": written.path, "pruned": written.pruned}),
        ),
        Err(e) => warn(
            log,
            &format!(
                "cannot write the run history in {}: {e}",
                history.folder().display()
            ),
        ),
    }
    if let Some(path) = metrics_file
        && let Err(e) = metrics::write(&path, &record)
    {
        warn(
            log,
            &format!("cannot write the metrics file {}: {e}", path.display()),
        );
    }
}

fn warn(log: &mut RunLog, message: &str) {
    eprintln!("teamsync: warning: {}", shown(message));
    log.event("warning", message, json!({}));
}

/// What `teamsync history` was asked.
#[derive(Debug)]
pub struct Query<'a> {
    /// One person's history (email or directory id).
    pub user: Option<&'a str>,
    /// JSON instead of text.
    pub json: bool,
    /// The folder, instead of the config's.
    pub dir: Option<&'a Path>,
    /// Only the newest N runs.
    pub last: Option<usize>,
}

/// `teamsync history`: the runs, or one person's history. Reads only: no lock, no log line,
/// no record of its own.
pub fn command(config_path: &Path, log_file: Option<&Path>, query: &Query<'_>) -> Exit {
    match run_query(config_path, log_file, query) {
        Ok(()) => Exit::Success,
        Err(e) => {
            eprintln!("teamsync: error: {e}");
            e.exit()
        }
    }
}

fn run_query(
    config_path: &Path,
    log_file: Option<&Path>,
    query: &Query<'_>,
) -> Result<(), CliError> {
    let history = match query.dir {
        Some(dir) => History::new(dir, teamsync::history::DEFAULT_KEEP),
        None => History::for_config(&Config::load(config_path)?, log_file),
    };
    let unreadable_folder = |e: std::io::Error| {
        CliError::Internal(format!(
            "cannot read the run history in {}: {e}",
            history.folder().display()
        ))
    };
    let unreadable = match query.user {
        Some(user) => {
            let mut person = history.person(user).map_err(unreadable_folder)?;
            if let Some(last) = query.last {
                let skip = person.runs.len().saturating_sub(last);
                person.runs.drain(..skip);
            }
            if query.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&person).unwrap_or_default()
                );
            } else {
                print!("{}", person_text(&person));
            }
            person.unreadable
        }
        None => {
            let mut runs = Vec::new();
            let unreadable = history
                .visit(|file, record| runs.push(summary(file, record)))
                .map_err(unreadable_folder)?;
            if let Some(last) = query.last {
                let skip = runs.len().saturating_sub(last);
                runs.drain(..skip);
            }
            if query.json {
                let out =
                    json!({"folder": history.folder(), "runs": runs, "unreadable": unreadable});
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else {
                print!("{}", listing_text(&history, &runs));
            }
            unreadable
        }
    };
    report_unreadable(&history, &unreadable);
    Ok(())
}

/// One line's worth of a run.
#[derive(Debug, serde::Serialize)]
struct Summary {
    file: String,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<u64>,
    command: String,
    exit_code: Option<u8>,
    error: Option<String>,
    team_name: Option<String>,
    directory: Option<teamsync::history::Counts>,
    team: Option<teamsync::history::TeamCounts>,
    operations: std::collections::BTreeMap<String, usize>,
    warnings: usize,
    guard: Option<String>,
}

fn summary(file: &str, record: RunRecord) -> Summary {
    Summary {
        file: file.to_owned(),
        operations: record
            .results()
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n))
            .collect(),
        warnings: record.warnings.len(),
        guard: record.guard.as_ref().map(|g| g.verdict.clone()),
        started_at: record.started_at,
        ended_at: record.ended_at,
        duration_ms: record.duration_ms,
        command: record.command,
        exit_code: record.exit_code,
        error: record.error,
        team_name: record.team_name,
        directory: record.directory,
        team: record.team,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn listing_text(history: &History, runs: &[Summary]) -> String {
    let mut out = format!(
        "Run history in {} ({}, keeping the newest {}):\n",
        shown(&history.folder().display().to_string()),
        plural(runs.len(), "run", "runs"),
        history.keep()
    );
    if runs.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "{:<24}  {:<7}  {:>4}  {:<20}  {:<20}  {}\n",
        "STARTED (UTC)", "COMMAND", "EXIT", "DIRECTORY", "TEAM", "OPERATIONS"
    ));
    for run in runs {
        let directory = run.directory.map_or("-".to_owned(), |d| {
            format!(
                "{}, {}",
                plural(d.users, "user", "users"),
                plural(d.groups, "group", "groups")
            )
        });
        let team = run.team.map_or("-".to_owned(), |t| {
            format!(
                "{}, {}",
                plural(t.members, "member", "members"),
                plural(t.groups, "group", "groups")
            )
        });
        let mut operations: Vec<String> = run
            .operations
            .iter()
            .map(|(result, n)| format!("{n} {}", shown(result)))
            .collect();
        if operations.is_empty() {
            operations.push(if run.guard.is_some() { "none" } else { "-" }.to_owned());
        }
        if run.warnings > 0 {
            operations.push(plural(run.warnings, "warning", "warnings"));
        }
        let exit = run.exit_code.map_or("?".to_owned(), |c| c.to_string());
        out.push_str(&format!(
            "{:<24}  {:<7}  {:>4}  {:<20}  {:<20}  {}\n",
            shown(&run.started_at),
            shown(&run.command),
            exit,
            directory,
            team,
            operations.join(", ")
        ));
        if let Some(error) = &run.error {
            out.push_str(&format!("{:<24}  error: {}\n", "", shown(error)));
        }
    }
    out
}

fn person_text(person: &PersonHistory) -> String {
    let mut out = format!("History of {}", shown(&person.who));
    let mut known = Vec::new();
    if !person.emails.is_empty() {
        known.push(format!("email {}", shown(&person.emails.join(", "))));
    }
    if !person.directory_ids.is_empty() {
        known.push(format!(
            "directory id {}",
            shown(&person.directory_ids.join(", "))
        ));
    }
    if !known.is_empty() {
        out.push_str(&format!(" ({})", known.join("; ")));
    }
    if person.runs.is_empty() {
        out.push_str(": no run in the history names them.\n");
        return out;
    }
    out.push_str(&format!(": {}\n", plural(person.runs.len(), "run", "runs")));
    for run in &person.runs {
        let exit = run.exit_code.map_or("?".to_owned(), |c| c.to_string());
        out.push_str(&format!(
            "{}  {} (exit {exit})\n",
            shown(&run.started_at),
            shown(&run.command)
        ));
        for op in &run.operations {
            let mut line = format!(
                "  {} {}: {}",
                shown(&op.action),
                shown(&op.target),
                shown(&op.result)
            );
            if let Some(error) = &op.error {
                line.push_str(&format!(": {}", shown(error)));
            }
            if let Some(attempts) = op.attempts {
                line.push_str(&format!(
                    " ({})",
                    plural(attempts as usize, "attempt", "attempts")
                ));
            }
            if !op.reason.is_empty() {
                line.push_str(&format!(" [{}]", shown(&op.reason)));
            }
            out.push_str(&line);
            out.push('\n');
        }
        for warning in &run.warnings {
            out.push_str(&format!(
                "  warning ({}): {}: {}\n",
                shown(&warning.kind),
                shown(&warning.subject),
                shown(&warning.message)
            ));
        }
    }
    out
}

/// Every history file not read, by name, on stderr.
fn report_unreadable(history: &History, unreadable: &[Unreadable]) {
    for file in unreadable {
        eprintln!(
            "teamsync: warning: history file {} not read: {}",
            shown(&history.folder().join(&file.file).display().to_string()),
            shown(&file.problem)
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use teamsync::RunError;

    /// Python's records use the library's table of exit codes; it must be the command's.
    #[test]
    fn the_library_exit_codes_are_the_commands() {
        let path = PathBuf::from("t.toml");
        let errors = [
            RunError::Config(teamsync::ConfigError::Read {
                path: path.clone(),
                message: "x".into(),
            }),
            RunError::NoUsers(teamsync_core::PlanError::NoUsersInScope { roots: 0 }),
            RunError::TeamAuth("x".into()),
            RunError::TeamRead("x".into()),
            RunError::Stale {
                count: 1,
                first: "x".into(),
            },
            RunError::PlanRefused {
                path,
                message: "x".into(),
            },
            RunError::Internal("x".into()),
        ];
        for error in errors {
            let kind = error.kind();
            let command = CliError::Run(error).exit().code();
            assert_eq!(teamsync::history::exit_code(kind), command, "{kind:?}");
        }
        assert_eq!(Exit::ApplyFailures.code(), 11);
    }
}
