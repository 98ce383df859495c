//! A run's figures in the Prometheus text exposition format, for node_exporter's textfile
//! collector (`--collector.textfile.directory`; the file's name must end in `.prom`).
//!
//! Every sample carries the run's `command` label. The file is replaced whole ([`write()`]): the
//! collector reads the folder whenever it is scraped and would otherwise see half a file.
//!
//! | metric | meaning |
//! |---|---|
//! | `teamsync_last_run_timestamp_seconds` | when the run ended (Unix time) |
//! | `teamsync_last_run_exit_code` | the exit code (0 success) |
//! | `teamsync_last_run_success` | 1 when the exit code is 0 |
//! | `teamsync_last_run_duration_seconds` | how long it took |
//! | `teamsync_last_run_operations{kind,result}` | operations by kind and result (`planned`, `done`, `failed`, `skipped`, `not_applied`) |
//! | `teamsync_last_run_warnings` | the plan's warnings |
//! | `teamsync_last_run_directory_users`, `…_directory_groups` | the directory's side, when read |
//! | `teamsync_last_run_team_members`, `…_team_groups` | the team's side, when read |
//! | `teamsync_last_run_users_in_scope`, `…_managed_members` | scope figures, when planned |
//! | `teamsync_last_run_deprovisions` | suspensions and removals planned |
//! | `teamsync_build_info{version}` | 1, with the version |

use std::fmt::Write as _;
use std::path::Path;

use super::record::RunRecord;
use crate::files::{Readers, write_atomically};

/// The record's figures as exposition text.
pub fn text(record: &RunRecord) -> String {
    let mut out = String::new();
    let command = format!("command=\"{}\"", escape_label(&record.command));
    let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {}", number(*value));
        }
    };
    let one = |value: Option<f64>| -> Vec<(String, f64)> {
        value.map(|v| (command.clone(), v)).into_iter().collect()
    };
    let count = |value: Option<usize>| one(value.map(|v| v as f64));
    gauge(
        "teamsync_last_run_timestamp_seconds",
        "When the last teamsync run ended, in seconds since the Unix epoch.",
        &one(record.ended_unix_seconds()),
    );
    gauge(
        "teamsync_last_run_exit_code",
        "Exit code of the last teamsync run (0 success; see teamsync --help).",
        &one(record.exit_code.map(f64::from)),
    );
    gauge(
        "teamsync_last_run_success",
        "1 when the last teamsync run exited 0, else 0.",
        &one(record.exit_code.map(|c| if c == 0 { 1.0 } else { 0.0 })),
    );
    gauge(
        "teamsync_last_run_duration_seconds",
        "How long the last teamsync run took.",
        &one(record.duration_ms.map(|ms| ms as f64 / 1000.0)),
    );
    let operations: Vec<(String, f64)> = record
        .operations_by_kind()
        .into_iter()
        .map(|((kind, result), n)| {
            (
                format!(
                    "{command},kind=\"{}\",result=\"{}\"",
                    escape_label(kind),
                    escape_label(result)
                ),
                n as f64,
            )
        })
        .collect();
    gauge(
        "teamsync_last_run_operations",
        "Operations of the last teamsync run by kind and result (planned, done, failed, skipped, not_applied).",
        &operations,
    );
    gauge(
        "teamsync_last_run_warnings",
        "Warnings of the last teamsync run's plan.",
        &count(record.guard.as_ref().map(|_| record.warnings.len())),
    );
    let directory = record.directory;
    let team = record.team;
    gauge(
        "teamsync_last_run_directory_users",
        "Users the last teamsync run read from the directory.",
        &count(directory.map(|d| d.users)),
    );
    gauge(
        "teamsync_last_run_directory_groups",
        "Groups the last teamsync run read from the directory.",
        &count(directory.map(|d| d.groups)),
    );
    gauge(
        "teamsync_last_run_team_members",
        "Members the last teamsync run read from the Dropbox team.",
        &count(team.map(|t| t.members)),
    );
    gauge(
        "teamsync_last_run_team_groups",
        "Groups the last teamsync run read from the Dropbox team.",
        &count(team.map(|t| t.groups)),
    );
    gauge(
        "teamsync_last_run_users_in_scope",
        "Users in scope of the last teamsync run's plan.",
        &count(record.users_in_scope),
    );
    gauge(
        "teamsync_last_run_managed_members",
        "Team members teamsync managed when the last run planned.",
        &count(record.managed_members),
    );
    gauge(
        "teamsync_last_run_deprovisions",
        "Suspensions and removals the last teamsync run planned.",
        &count(record.guard.as_ref().map(|g| g.deprovisions)),
    );
    gauge(
        "teamsync_build_info",
        "The teamsync version that wrote this file.",
        &[(
            format!("version=\"{}\"", escape_label(&record.teamsync_version)),
            1.0,
        )],
    );
    out
}

/// Replaces `path` with the record's figures: a temp file in the same folder, renamed over
/// it, so that the collector never reads half a file (and a symlink at `path` is replaced,
/// not written through). The folder must exist.
pub fn write(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    write_atomically(path, text(record).as_bytes(), Readers::Default)
}

/// A label value as the format wants it: `\` `"` and line feeds escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text as the format wants it: `\` and line feeds escaped.
fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others with millisecond precision.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}
