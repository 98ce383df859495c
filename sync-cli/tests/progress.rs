//! Read progress through the real binary, stderr not a terminal (a log, a pipe, a scheduler):
//! one plain line per side read, no bar, no carriage returns or escape codes, no 0/0.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, TeamSeed};

const TOKEN_VAR: &str = "TEAMSYNC_TEST_TOKEN";
const DIRECTORY: &str = include_str!("../demo/directory.json");
const TEAM: &str = include_str!("../demo/team.json");

struct Env {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .unwrap();
        let seed: TeamSeed = serde_json::from_str(TEAM).unwrap();
        emulator.try_seed(&seed).unwrap();
        let env = Env {
            runtime,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(env.path("directory.json"), DIRECTORY).unwrap();
        let config = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"directory.json\"\n\n\
             [team]\nbase_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n",
            env.emulator().base_url()
        );
        write_private(&env.path("teamsync.toml"), &config);
        env
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", self.path("teamsync.toml").to_str().unwrap()])
            .args(args)
            .env(TOKEN_VAR, self.emulator().access_token())
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        eprintln!(
            "teamsync {args:?} -> {:?}\n--- stdout\n{}\n--- stderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// What a bar would leave in a file: carriage returns, escape codes, bar characters, 0/0.
fn assert_no_bar_garbage(stderr: &str) {
    for garbage in ["\r", "\u{1b}", "[=", "=>", "0/0", "[  "] {
        assert!(
            !stderr.contains(garbage),
            "stderr holds {garbage:?}:\n{stderr}"
        );
    }
}

#[test]
fn plan_prints_one_line_per_side_read_and_no_bar() {
    let env = Env::new();
    let output = env.run(&["plan"]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    // The demo team: 7 members, 3 groups; the demo directory: 10 people, 6 groups.
    assert_eq!(
        lines,
        [
            "reading team: 7 members, 3 groups",
            "reading directory: 10 users, 6 groups"
        ],
        "{stderr}"
    );
    assert_no_bar_garbage(&stderr);
    // Progress is for people watching; the plan on stdout is untouched by it.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("reading team"), "{stdout}");
}

#[test]
fn check_and_apply_show_the_reads_they_make() {
    let env = Env::new();
    let check = env.run(&["check"]);
    assert_eq!(check.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l == "reading directory: 10 users, 6 groups"),
        "{stderr}"
    );
    assert_no_bar_garbage(&stderr);

    let apply = env.run(&["apply"]);
    assert_eq!(apply.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&apply.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.first(), Some(&"reading team: 7 members, 3 groups"));
    assert_eq!(lines.get(1), Some(&"reading directory: 10 users, 6 groups"));
    // Then one line per finished apply phase.
    assert!(lines.len() > 2, "{stderr}");
    assert_no_bar_garbage(&stderr);
}
