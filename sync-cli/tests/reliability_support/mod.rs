//! Helpers shared by the reliability, bad-input, config-fuzz and secrets tests of the real
//! `teamsync` binary: an emulator in the test process (so the team survives a killed
//! `teamsync`), a temp dir with a config and a directory file, runs of the binary, and the
//! invariants checked on the team.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, MemberStatus, TeamSeed, TeamState};

pub const TOKEN_VAR: &str = "TEAMSYNC_TEST_TOKEN";

/// Routes that change the team.
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

pub struct Env {
    pub runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new(seed: &TeamSeed) -> Env {
        Env::with_config(seed, EmulatorConfig::default())
    }

    pub fn with_config(seed: &TeamSeed, config: EmulatorConfig) -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(Emulator::start(config)).unwrap();
        emulator.try_seed(seed).unwrap();
        Env {
            runtime,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `[team]` section pointing at the emulator with the token from the environment.
    pub fn team_section(&self) -> String {
        format!(
            "[team]\nbase_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n",
            self.emulator().base_url()
        )
    }

    /// Writes `file_name` (the directory file) and a config with a file source reading it.
    /// `directory_extra` goes into `[directory]`, `extra` at the end of the config.
    pub fn file_config(
        &self,
        file_name: &str,
        contents: &str,
        directory_extra: &str,
        extra: &str,
    ) -> PathBuf {
        std::fs::write(self.path(file_name), contents).unwrap();
        let text = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"{file_name}\"\n{directory_extra}\n\n{}{extra}",
            self.team_section()
        );
        self.write_config(&text)
    }

    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.path("teamsync.toml");
        write_private(&path, text);
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_teamsync"));
        command
            .args(["--config", self.path("teamsync.toml").to_str().unwrap()])
            .args(args)
            .env(TOKEN_VAR, self.emulator().access_token())
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(self.dir.path());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        show(args, &output);
        output
    }

    pub fn state(&self) -> TeamState {
        self.emulator().state()
    }

    pub fn write_calls(&self) -> u64 {
        write_calls(self.emulator())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("teamsync.log")).unwrap_or_default()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

pub fn write_calls(emulator: &Emulator) -> u64 {
    emulator
        .call_counts()
        .iter()
        .filter(|(route, _)| WRITE_ROUTES.contains(&route.as_str()))
        .map(|(_, n)| n)
        .sum()
}

pub fn show(args: &[&str], output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let shown: String = stdout.chars().take(4000).collect();
    eprintln!(
        "teamsync {args:?} -> {:?}\n--- stdout (start)\n{shown}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

pub fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("teamsync was killed by a signal")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One member per email (case-insensitive) and per external id, removed members included.
pub fn assert_no_duplicates(state: &TeamState, when: &str) {
    let mut emails = BTreeSet::new();
    let mut external_ids = BTreeSet::new();
    for member in &state.members {
        assert!(
            emails.insert(member.email.to_lowercase()),
            "{when}: two members with email {}",
            member.email
        );
        if let Some(external_id) = &member.external_id {
            assert!(
                external_ids.insert(external_id.clone()),
                "{when}: two members with external id {external_id}"
            );
        }
    }
}

/// Every member whose email is in `staying` is on the team and neither suspended nor removed.
pub fn assert_nobody_staying_deprovisioned<'a>(
    state: &TeamState,
    staying: impl IntoIterator<Item = &'a str>,
    when: &str,
) {
    for email in staying {
        if let Some(member) = state.member_by_email(email) {
            assert!(
                matches!(member.status, MemberStatus::Active | MemberStatus::Invited),
                "{when}: {email} should stay but is {:?}",
                member.status
            );
        }
    }
}

/// A small seeded generator (xorshift64*) for kill points and random inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

/// A simple-JSON directory (the HR-export format): `users` people `p0000..` with emails
/// `p0000@corp.test`, spread over `groups` groups under the root "Staff".
pub fn simple_directory(users: usize, groups: usize) -> serde_json::Value {
    let mut group_list = vec![serde_json::json!({"name": "Staff", "id": "g-staff"})];
    for g in 0..groups {
        group_list.push(serde_json::json!({"name": format!("Team {g:02}"), "id": format!("g{g:02}"), "groups": ["Staff"]}));
    }
    let people: Vec<serde_json::Value> = (0..users)
        .map(|i| {
            serde_json::json!({
                "id": format!("p{i:04}"),
                "email": format!("p{i:04}@corp.test"),
                "given_name": format!("Given{i}"),
                "surname": format!("Sur{i}"),
                "groups": [format!("Team {:02}", i % groups.max(1))],
            })
        })
        .collect();
    serde_json::json!({"user_roots": ["Staff"], "groups": group_list, "people": people})
}

pub fn seed(json: serde_json::Value) -> TeamSeed {
    serde_json::from_value(json).unwrap()
}

/// Without the OpenLDAP fixture a test prints one line and passes, so that plain `cargo test`
/// works on a contributor's machine; `scripts/test.sh` starts the fixture, so CI runs it.
pub fn slapd_missing(test: &str) -> bool {
    let missing = std::env::var_os("TEAMSYNC_SLAPD_URL").is_none_or(|v| v.is_empty());
    if missing {
        eprintln!(
            "SKIPPED {test}: TEAMSYNC_SLAPD_URL is not set; start the OpenLDAP fixture (scripts/fixtures/slapd.sh start DIR; load DIR/slapd.env)"
        );
    }
    missing
}
