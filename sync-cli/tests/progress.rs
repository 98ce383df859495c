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
    // The log names the team in words, not as a Rust string literal.
    let log = std::fs::read_to_string(env.path("teamsync.log")).unwrap();
    assert!(
        log.contains("connected to team \"Acme Corp (emulated)\" (7 members provisioned)"),
        "{log}"
    );
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

/// Runs `teamsync ARGS` with stderr on a pseudo-terminal (util-linux `script`), stdout to a
/// file; returns what the terminal showed and the stdout file. `None` without `script`.
fn run_on_a_terminal(env: &Env, args: &str) -> Option<(String, String)> {
    let found = Command::new("script").arg("--version").output();
    if found.map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("SKIPPED: no util-linux `script` to run teamsync on a pseudo-terminal");
        return None;
    }
    let out = env.path("stdout.txt");
    let command = format!(
        "{} --config {} {args} > {}",
        env!("CARGO_BIN_EXE_teamsync"),
        env.path("teamsync.toml").display(),
        out.display()
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env(TOKEN_VAR, env.emulator().access_token())
        .env("NO_PROXY", "127.0.0.1")
        .env("COLUMNS", "80")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let terminal = String::from_utf8_lossy(&output.stdout).into_owned();
    Some((terminal, std::fs::read_to_string(out).unwrap()))
}

#[test]
fn on_a_terminal_the_bar_is_cleared_and_never_shows_0_of_0() {
    let env = Env::new();
    let Some((terminal, stdout)) = run_on_a_terminal(&env, "plan") else {
        return;
    };
    // The lines that stay once the bar is cleared.
    assert!(
        terminal.contains("reading team: 7 members, 3 groups"),
        "{terminal:?}"
    );
    assert!(
        terminal.contains("reading directory: 10 users, 6 groups"),
        "{terminal:?}"
    );
    assert!(!terminal.contains("0/0"), "{terminal:?}");
    // The plan itself never carries a bar.
    assert!(stdout.starts_with("Directory: "), "{stdout:?}");
    assert!(
        !stdout.contains('\r') && !stdout.contains('\u{1b}'),
        "{stdout:?}"
    );
}

#[test]
fn an_empty_team_draws_no_bar_at_0_of_0() {
    let env = Env::new();
    env.emulator().try_seed(&TeamSeed::default()).unwrap();
    let Some((terminal, _)) = run_on_a_terminal(&env, "plan") else {
        return;
    };
    assert!(
        terminal.contains("reading team: 0 members, 0 groups"),
        "{terminal:?}"
    );
    assert!(
        !terminal.contains("0/0") && !terminal.contains("[="),
        "{terminal:?}"
    );
}
