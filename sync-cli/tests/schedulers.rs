//! The scheduler examples (`examples/schedulers/`) run command lines teamsync accepts: each is
//! run with its config path pointing at a file that does not exist, which must give exit 3
//! (config invalid), not 2 (command line not understood).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn examples() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/schedulers"
    ))
}

/// The arguments after the program, split on spaces, quotes dropped (none of the examples
/// quote a value that contains a space except Windows paths, replaced below).
fn arguments_after(line: &str, program: &str) -> Vec<String> {
    let start = line
        .find(program)
        .unwrap_or_else(|| panic!("{program} not in {line}"))
        + program.len();
    line[start..]
        .split_whitespace()
        .take_while(|a| !a.starts_with('>'))
        .map(|a| a.trim_matches('"').to_owned())
        .collect()
}

fn assert_accepted(mut args: Vec<String>, source: &str) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    for (i, arg) in args.clone().iter().enumerate() {
        if arg == "--config" {
            args[i + 1] = missing.to_string_lossy().into_owned();
        }
        if arg == "--log-file" {
            args[i + 1] = dir
                .path()
                .join("teamsync.log")
                .to_string_lossy()
                .into_owned();
        }
        if arg == "--lock-file" {
            args[i + 1] = dir
                .path()
                .join("teamsync.lock")
                .to_string_lossy()
                .into_owned();
        }
    }
    if !args.iter().any(|a| a == "--log-file") {
        args.splice(
            0..0,
            [
                "--log-file".to_owned(),
                dir.path()
                    .join("teamsync.log")
                    .to_string_lossy()
                    .into_owned(),
            ],
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{source}: teamsync {args:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn systemd_service_command_line_is_accepted() {
    let unit = std::fs::read_to_string(examples().join("teamsync.service")).unwrap();
    let exec = unit
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .expect("ExecStart");
    assert_accepted(
        arguments_after(exec, "/usr/local/bin/teamsync"),
        "teamsync.service",
    );
    assert!(unit.contains("Type=oneshot"));
}

#[test]
fn cron_line_is_accepted() {
    let cron = std::fs::read_to_string(examples().join("teamsync.cron")).unwrap();
    let line = cron
        .lines()
        .find(|l| l.starts_with("*/30"))
        .expect("schedule line");
    assert_accepted(
        arguments_after(line, "/usr/local/bin/teamsync"),
        "teamsync.cron",
    );
}

#[test]
fn windows_task_arguments_are_accepted_and_ignore_new_instances() {
    let xml = std::fs::read_to_string(examples().join("teamsync-task.xml")).unwrap();
    assert!(xml.contains("<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>"));
    let start = xml.find("<Arguments>").unwrap() + "<Arguments>".len();
    let end = xml.find("</Arguments>").unwrap();
    let args = xml[start..end].replace(
        "\"C:\\ProgramData\\teamsync\\teamsync.toml\"",
        "placeholder",
    );
    assert_accepted(
        args.split_whitespace().map(str::to_owned).collect(),
        "teamsync-task.xml",
    );
}
