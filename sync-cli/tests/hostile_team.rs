//! The real `teamsync` binary against a hostile "Dropbox" on loopback (issue 11): each mode that
//! the client's default bounds end quickly gives exit 8 (the team read failed) naming the bound,
//! never a panic (exit 101), and no write reaches the server. The hostile server is the one of
//! `sync-dropbox/tests/hostile/mod.rs`; the modes that need small bounds (a day's wait, a byte
//! a second) are tested there, with the bounds configured small.
#![allow(clippy::unwrap_used)]

#[path = "../../sync-dropbox/tests/hostile/mod.rs"]
mod hostile;

use std::process::Command;

use hostile::{Hostile, Mode};

fn run_against(mode: Mode) -> (i32, String, Hostile) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Hostile::start(mode));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("people.json"),
        r#"{"user_roots": ["Staff"], "groups": [{"name": "Staff", "id": "g"}],
            "people": [{"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Staff"]}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("teamsync.toml"),
        format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"people.json\"\n\n[team]\nbase_url = \"{}\"\ntoken = {{ env = \"TEAMSYNC_HOSTILE_TOKEN\" }}\n",
            server.base_url
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args([
            "--config",
            dir.path().join("teamsync.toml").to_str().unwrap(),
            "apply",
        ])
        .env("TEAMSYNC_HOSTILE_TOKEN", "sl.hostile")
        .env("NO_PROXY", "127.0.0.1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("{stderr}");
    // Keep the runtime (and the server) alive until the run ended.
    drop(runtime);
    (output.status.code().unwrap_or(-1), stderr, server)
}

#[test]
fn hostile_team_servers_end_in_exit_8_with_no_write() {
    let cases = [
        (Mode::RetryAfterHeader("1e30"), "the server asked to wait"),
        (Mode::RetryAfterJson("1e30"), "the server asked to wait"),
        (Mode::RetryAfterHeader("86400"), "86400s"),
        (Mode::SameCursor, "a cursor it had already given"),
        (Mode::EndlessPages, "more than a team holds"),
        (Mode::EndlessBody, "max_response_bytes"),
        (Mode::HugeContentLength, "max_response_bytes"),
    ];
    for (mode, says) in cases {
        let label = format!("{mode:?}");
        let (code, stderr, server) = run_against(mode);
        assert_eq!(code, 8, "{label}: {stderr}");
        assert!(stderr.contains(says), "{label}: {says:?} not in {stderr}");
        assert!(server.writes().is_empty(), "{label}: {:?}", server.writes());
    }
}
