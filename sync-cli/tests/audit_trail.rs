//! The run log is an audit trail after any crash (issue 11): `teamsync apply` killed with
//! SIGKILL mid-apply has already written a line for each operation that finished, the moment
//! it finished, and every invitation the log calls done is on the team.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::*;
use teamsync_dropbox_emulator::{EmulatorConfig, Faults};

#[test]
fn a_run_killed_mid_apply_has_logged_every_result_it_reached() {
    let env = Env::with_config(
        &seed(serde_json::json!({
            "members": [{"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}]
        })),
        EmulatorConfig {
            // Latency stretches the apply over seconds, so that the kill lands mid-apply.
            faults: Faults {
                latency_ms: 40,
                latency_jitter_ms: 10,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    );
    let directory = serde_json::to_string(&simple_directory(600, 6)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let mut child = env
        .command(&["apply"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none()
        && env.write_calls() < 12
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let killed = {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(9)
    };
    assert!(
        killed,
        "the run ended before the kill ({status}): the test did not test what it says"
    );

    let log = env.log();
    let done: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" applied: ") && l.ends_with(": done"))
        .collect();
    assert!(
        !done.is_empty(),
        "no result was logged before the kill:\n{log}"
    );
    assert!(
        !log.lines().any(|l| l.contains(" end: ")),
        "a killed run cannot have written its end line:\n{log}"
    );
    // Every invitation the log calls done was really made.
    let state = env.state();
    let on_team: std::collections::BTreeSet<String> = state
        .members
        .iter()
        .map(|m| m.email.to_lowercase())
        .collect();
    let mut invites = 0;
    for line in &done {
        if let Some(rest) = line.split(" + invite ").nth(1) {
            let email = rest.trim_end_matches(": done").trim().to_lowercase();
            assert!(
                on_team.contains(&email),
                "logged as invited but not on the team: {email}"
            );
            invites += 1;
        }
    }
    assert!(invites > 0, "no invitation was logged as done:\n{log}");
    eprintln!(
        "killed after {} write calls; {} results logged, {invites} invitations, all on the team",
        env.write_calls(),
        done.len()
    );
}
