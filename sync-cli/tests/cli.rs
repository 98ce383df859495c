//! End-to-end tests of the real `teamsync` binary against the in-process Dropbox emulator
//! (started by the test on a free loopback port) with a file directory source. Every exit code
//! is produced here by a run that causes it (the LDAP ones are in `ad.rs`).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, MemberStatus, TeamSeed, TeamState};

const TOKEN_VAR: &str = "TEAMSYNC_TEST_TOKEN";

struct Env {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(seed: &str) -> Env {
        Env::with_config(seed, EmulatorConfig::default())
    }

    fn with_config(seed: &str, config: EmulatorConfig) -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(Emulator::start(config)).unwrap();
        let seed: TeamSeed = serde_json::from_str(seed).unwrap();
        emulator.try_seed(&seed).unwrap();
        Env {
            runtime,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the directory file and a config pointing at it and at the emulator.
    fn config(&self, directory_json: &str, extra: &str) -> PathBuf {
        std::fs::write(self.path("people.json"), directory_json).unwrap();
        let text = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"people.json\"\n\n\
             [team]\nbase_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n{extra}",
            self.emulator().base_url()
        );
        write_private(&self.path("teamsync.toml"), &text);
        self.path("teamsync.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_token(args, &self.emulator().access_token())
    }

    fn run_with_token(&self, args: &[&str], token: &str) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", self.path("teamsync.toml").to_str().unwrap()])
            .args(args)
            .env(TOKEN_VAR, token)
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

    fn state(&self) -> TeamState {
        self.emulator().state()
    }

    fn write_calls(&self) -> u64 {
        self.emulator()
            .call_counts()
            .iter()
            .filter(|(route, _)| WRITE_ROUTES.contains(&route.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    fn log(&self) -> String {
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

const WRITE_ROUTES: &[&str] = &[
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

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("teamsync was killed by a signal")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const DIRECTORY: &str = r#"{
  "user_roots": ["Staff"],
  "groups": [
    {"name": "Staff", "id": "g-staff"},
    {"name": "Eng", "id": "g-eng", "groups": ["Staff"]},
    {"name": "Ops", "id": "g-ops", "groups": ["Eng"]}
  ],
  "people": [
    {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Eng"]},
    {"id": "2", "email": "ben@corp.test", "given_name": "Ben", "surname": "Ng", "groups": ["Ops"]},
    {"id": "3", "email": "cat@corp.test", "given_name": "Cat", "surname": "Ro", "enabled": false, "groups": ["Staff"]},
    {"id": "4", "email": "dov@corp.test", "given_name": "Dov", "surname": "Sa", "groups": ["Staff"]}
  ]
}"#;

const TEAM: &str = r#"{
  "members": [
    {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true},
    {"email": "cat@corp.test", "given_name": "Cat", "surname": "Ro", "external_id": "teamsync:3"},
    {"email": "old@corp.test", "given_name": "Old", "surname": "Timer", "external_id": "teamsync:99"}
  ]
}"#;

#[test]
fn demo_plans_applies_and_converges() {
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .arg("demo")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    let out = stdout(&output);
    assert_eq!(code(&output), 0, "{out}\n{}", stderr(&output));
    assert!(out.contains("== 1. Plan"), "{out}");
    assert!(
        out.contains("Applied: 23 done, 0 failed, 0 skipped."),
        "{out}"
    );
    assert!(
        out.contains("No changes: the team matches the directory."),
        "{out}"
    );
}

#[test]
fn help_lists_every_exit_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&output);
    assert_eq!(code(&output), 0);
    for (code, meaning) in [
        (3, "config file invalid"),
        (9, "guard refused"),
        (12, "holds the lock"),
    ] {
        assert!(
            help.contains(&format!("{code:>5}  ")) && help.contains(meaning),
            "{help}"
        );
    }
}

#[test]
fn apply_converges_member_by_member_then_makes_no_writes() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0);
    let state = env.state();
    let member = |email: &str| {
        state
            .member_by_email(email)
            .unwrap_or_else(|| panic!("{email} missing"))
    };
    for (email, external_id, status, given, surname) in [
        (
            "ann@corp.test",
            "teamsync:1",
            MemberStatus::Invited,
            "Ann",
            "Lee",
        ),
        (
            "ben@corp.test",
            "teamsync:2",
            MemberStatus::Invited,
            "Ben",
            "Ng",
        ),
        (
            "cat@corp.test",
            "teamsync:3",
            MemberStatus::Suspended,
            "Cat",
            "Ro",
        ),
        (
            "dov@corp.test",
            "teamsync:4",
            MemberStatus::Invited,
            "Dov",
            "Sa",
        ),
        (
            "old@corp.test",
            "teamsync:99",
            MemberStatus::Suspended,
            "Old",
            "Timer",
        ),
    ] {
        let m = member(email);
        assert_eq!(
            (
                m.external_id.as_deref(),
                m.status,
                m.given_name.as_str(),
                m.surname.as_str()
            ),
            (Some(external_id), status, given, surname),
            "{email}"
        );
    }
    assert_eq!(member("admin@corp.test").status, MemberStatus::Active);
    assert_eq!(member("admin@corp.test").external_id, None);
    assert_eq!(state.members.len(), 6);
    let group = |name: &str| {
        let g = state
            .group_by_name(name)
            .unwrap_or_else(|| panic!("group {name} missing"));
        let mut emails: Vec<&str> = g.members.iter().map(|m| m.email.as_str()).collect();
        emails.sort();
        (g.external_id.clone(), emails)
    };
    assert_eq!(
        group("Eng"),
        (
            Some("teamsync:g-eng".into()),
            vec!["ann@corp.test", "ben@corp.test"]
        )
    );
    assert_eq!(
        group("Ops"),
        (Some("teamsync:g-ops".into()), vec!["ben@corp.test"])
    );
    assert_eq!(
        state.groups.len(),
        2,
        "the root group itself is not mirrored"
    );

    let log = env.log();
    assert!(
        log.contains("applied: + invite ann@corp.test: done"),
        "{log}"
    );
    assert!(
        log.trim_end().ends_with("end: exit code 0 (success)"),
        "{log}"
    );

    env.emulator().reset_call_counts();
    let again = env.run(&["apply"]);
    assert_eq!(code(&again), 0);
    assert!(stdout(&again).contains("No changes"), "{}", stdout(&again));
    assert_eq!(env.write_calls(), 0, "{:?}", env.emulator().call_counts());
}

#[test]
fn plan_changes_nothing_and_saved_plan_applies_or_is_refused_when_stale() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let before = env.state();
    let output = env.run(&["plan", "--out", "plan.json"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("+ invite            ann@corp.test"),
        "{}",
        stdout(&output)
    );
    assert_eq!(env.state(), before, "plan must not change the team");
    assert_eq!(env.write_calls(), 0);

    let json = env.run(&["plan", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["format_version"], 1);

    // The team changes under the saved plan: refused with its own code, nothing written.
    let mut seed = before.to_seed();
    seed.members.retain(|m| m.email != "old@corp.test");
    env.emulator().seed(&seed);
    env.emulator().reset_call_counts();
    let stale = env.run(&["apply", "--plan", "plan.json"]);
    assert_eq!(code(&stale), 10, "{}", stderr(&stale));
    assert!(stderr(&stale).contains("stale"), "{}", stderr(&stale));
    assert_eq!(env.write_calls(), 0);

    // A fresh saved plan applies exactly.
    assert_eq!(code(&env.run(&["plan", "--out", "plan.json"])), 0);
    assert_eq!(code(&env.run(&["apply", "--plan", "plan.json"])), 0);
    assert_eq!(
        env.state()
            .member_by_email("dov@corp.test")
            .map(|m| m.status),
        Some(MemberStatus::Invited)
    );
}

#[test]
fn json_log_lines_end_with_the_exit_code() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let output = env.run(&["--log-format", "json", "plan"]);
    assert_eq!(code(&output), 0);
    let lines: Vec<serde_json::Value> = env
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.first().unwrap()["event"], "start");
    assert!(lines.iter().any(|l| l["event"] == "planned"
        && l["action"] == "invite"
        && l["target"] == "ann@corp.test"));
    let last = lines.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["exit_code"].as_u64()),
        (Some("end"), Some(0))
    );
}

#[test]
fn exit_3_config_invalid_names_key_and_line() {
    let env = Env::new(TEAM);
    env.config(
        DIRECTORY,
        "\n[policy]\non_leave = \"remove\"\nwipe_dat = false\n",
    );
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 3);
    let err = stderr(&output);
    assert!(err.contains("line 14") && err.contains("wipe_dat"), "{err}");
    assert!(
        env.log()
            .trim_end()
            .ends_with("exit code 3 (config file invalid or a secret unreadable)"),
        "{}",
        env.log()
    );

    // Inline secret refused.
    let path = env.config(DIRECTORY, "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&format!("{{ env = \"{TOKEN_VAR}\" }}"), "\"inline-token\"");
    write_private(&path, &text);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 3);
    assert!(
        stderr(&output).contains("team.token"),
        "{}",
        stderr(&output)
    );
}

#[cfg(unix)]
#[test]
fn world_readable_config_warns() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(TEAM);
    let path = env.config(DIRECTORY, "");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0);
    assert!(
        stderr(&output).contains("readable by every user"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn exit_4_directory_connect_failed() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    // An LDAP directory on a loopback port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let text = format!(
        "lock_file = \"teamsync.lock\"\nlog_file = \"teamsync.log\"\n[directory]\nkind = \"ldap\"\nurl = \"ldap://127.0.0.1:{port}\"\n\
         base_dn = \"dc=x\"\nprofile = \"openldap\"\nuser_roots = [\"cn=staff,dc=x\"]\nconnect_timeout_secs = 5\n\
         [team]\nbase_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n",
        env.emulator().base_url()
    );
    write_private(&env.path("teamsync.toml"), &text);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    let check = env.run(&["check"]);
    assert_eq!(code(&check), 4, "{}", stderr(&check));
}

#[test]
fn exit_5_directory_read_failed() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    // A root group the file does not have.
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "path = \"people.json\"",
        "path = \"people.json\"\nuser_roots = [\"Nobody\"]",
    );
    write_private(&path, &text);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 5);
    assert!(stderr(&output).contains("Nobody"), "{}", stderr(&output));
    // A file that is not valid JSON.
    env.config("{ not json", "");
    assert_eq!(code(&env.run(&["plan"])), 5);
}

#[test]
fn exit_6_no_users_in_scope() {
    let env = Env::new(TEAM);
    env.config(
        r#"{"user_roots":["Staff"],"groups":[{"name":"Staff"}],"people":[]}"#,
        "",
    );
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 6);
    assert!(
        stderr(&output).contains("no users in scope"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.write_calls(), 0);
    assert_eq!(code(&env.run(&["check"])), 6);
}

#[test]
fn exit_7_team_auth_failed() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let output = env.run_with_token(&["plan"], "not-a-valid-token");
    assert_eq!(code(&output), 7, "{}", stderr(&output));
    assert_eq!(
        code(&env.run_with_token(&["check"], "not-a-valid-token")),
        7
    );
}

#[test]
fn exit_8_team_read_failed() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&env.emulator().base_url(), &closed);
    write_private(&path, &text);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 8, "{}", stderr(&output));
}

#[test]
fn exit_9_guard_refuses_until_allowed() {
    // 30 managed members who left the directory: over the default floor of 25.
    let members: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"email":"gone{i}@corp.test","given_name":"G","surname":"{i}","external_id":"teamsync:gone{i}"}}"#))
        .collect();
    let env = Env::new(&format!(r#"{{"members":[{}]}}"#, members.join(",")));
    env.config(DIRECTORY, "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 9, "{}", stderr(&output));
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
    assert_eq!(env.write_calls(), 0);
    assert_eq!(code(&env.run(&["apply", "--allow-deprovision", "10"])), 9);
    let allowed = env.run(&["apply", "--allow-deprovision", "30"]);
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
    assert_eq!(
        env.state()
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Suspended)
            .count(),
        30
    );
}

#[test]
fn exit_9_force_applies() {
    let members: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"email":"gone{i}@corp.test","given_name":"G","surname":"{i}","external_id":"teamsync:gone{i}"}}"#))
        .collect();
    let env = Env::new(&format!(r#"{{"members":[{}]}}"#, members.join(",")));
    env.config(DIRECTORY, "");
    assert_eq!(code(&env.run(&["apply", "--force"])), 0);
}

#[test]
fn exit_11_apply_with_failed_operations() {
    // Two licences, one taken: only one of the three invitations fits.
    let env = Env::new(
        r#"{"license_limit": 2, "members": [{"email":"admin@corp.test","is_admin":true}]}"#,
    );
    env.config(DIRECTORY, "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 11, "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("failed: invite"), "{out}");
    assert!(env.log().contains("failed ("), "{}", env.log());
    assert!(
        env.log()
            .trim_end()
            .ends_with("exit code 11 (apply finished with failed or skipped operations)")
    );
}

#[test]
fn exit_12_lock_held() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.path("teamsync.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 12, "{}", stderr(&output));
    assert!(stderr(&output).contains("holds the lock"));
    assert_eq!(env.write_calls(), 0);
    drop(lock);
    assert_eq!(code(&env.run(&["plan"])), 0);
}

#[test]
fn check_reports_both_sides() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let output = env.run(&["check"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Directory: OK, 4 users in scope"), "{out}");
    assert!(out.contains("Dropbox: OK, team \"Emulated Team\""), "{out}");
}

#[test]
fn ldif_source_plans_like_json() {
    let env = Env::new(TEAM);
    let ldif = "dn: cn=staff,dc=corp\nobjectClass: groupOfNames\ncn: staff\nentryUUID: g-staff\nmember: uid=ann,dc=corp\n\n\
                dn: uid=ann,dc=corp\nobjectClass: inetOrgPerson\nuid: ann\nentryUUID: u-ann\nmail: ann@corp.test\ngivenName: Ann\nsn: Lee\n";
    std::fs::write(env.path("people.ldif"), ldif).unwrap();
    env.config(DIRECTORY, "");
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "path = \"people.json\"",
        "path = \"people.ldif\"\nuser_roots = [\"cn=staff,dc=corp\"]",
    );
    write_private(&path, &text);
    let output = env.run(&["--allow-deprovision", "0", "plan"]);
    // `--allow-deprovision` belongs to apply: usage error.
    assert_eq!(code(&output), 2);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("+ invite            ann@corp.test"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn auth_exchanges_the_pasted_code_for_a_refresh_token_stored_0600() {
    use std::io::Write as _;
    let env = Env::new(TEAM);
    let path = env.config(DIRECTORY, "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&format!("token = {{ env = \"{TOKEN_VAR}\" }}"), "refresh_token = { file = \"secrets/refresh-token\" }\napp_secret = { env = \"TEAMSYNC_TEST_APP_SECRET\" }")
        .replace("[team]\n", &format!("[team]\napp_key = \"{}\"\n", env.emulator().app_key()));
    write_private(&path, &text);
    let run_auth = |code: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", path.to_str().unwrap(), "auth"])
            .env("TEAMSYNC_TEST_APP_SECRET", env.emulator().app_secret())
            .env("NO_PROXY", "127.0.0.1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{code}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let refused = run_auth("not-a-code");
    assert_eq!(code(&refused), 7, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("invalid_grant"),
        "{}",
        stderr(&refused)
    );

    let output = run_auth(&env.emulator().authorization_code());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("token_access_type=offline")
            && err.contains(&format!("client_id={}", env.emulator().app_key())),
        "{err}"
    );
    let secret = env.path("secrets/refresh-token");
    assert!(!std::fs::read_to_string(&secret).unwrap().trim().is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The stored refresh token works: check authenticates with it (refreshing an access token).
    env.emulator().reset_call_counts();
    let check = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(["--config", path.to_str().unwrap(), "check"])
        .env("TEAMSYNC_TEST_APP_SECRET", env.emulator().app_secret())
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert_eq!(env.emulator().call_counts().get("oauth2/token"), Some(&1));
}

// ---- notifications: mails received by a real SMTP server (aiosmtpd, scripts/deps/smtp.sh) ----

#[derive(Clone, Copy, PartialEq)]
enum SmtpMode {
    Plain,
    Starttls,
    ImplicitTls,
}

struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem).
fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "teamsync SMTP test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("smtp-cert.pem"),
        dir.join("smtp-key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn start_smtp(dir: &Path, mode: SmtpMode) -> SmtpServer {
    let (_, cert, key) = test_ca(dir);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let maildir = dir.join("maildir");
    let mut command = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
    command.args([
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        &format!("127.0.0.1:{port}"),
        "-c",
        "aiosmtpd.handlers.Mailbox",
    ]);
    match mode {
        SmtpMode::Plain => {}
        SmtpMode::Starttls => {
            command.args([
                "--tlscert",
                cert.to_str().unwrap(),
                "--tlskey",
                key.to_str().unwrap(),
            ]);
        }
        SmtpMode::ImplicitTls => {
            command.args([
                "--smtpscert",
                cert.to_str().unwrap(),
                "--smtpskey",
                key.to_str().unwrap(),
            ]);
        }
    }
    command.arg(&maildir);
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!(
                "aiosmtpd exited ({status}): {err}\nThe notification tests need aiosmtpd: run scripts/deps/smtp.sh"
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "aiosmtpd did not listen on {port} within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    SmtpServer {
        child,
        port,
        maildir,
    }
}

impl SmtpServer {
    fn mails(&self) -> Vec<String> {
        let mut mails: Vec<String> = std::fs::read_dir(self.maildir.join("new"))
            .map(|dir| {
                dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        mails
    }

    fn notify_section(&self, security: &str, ca: Option<&Path>, when: &str) -> String {
        let ca = ca
            .map(|p| format!("ca_file = \"{}\"\n", p.display()))
            .unwrap_or_default();
        format!(
            "\n[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsecurity = \"{security}\"\n{ca}from = \"teamsync@corp.test\"\nto = [\"it@corp.test\", \"oncall@corp.test\"]\nwhen = \"{when}\"\n",
            self.port
        )
    }
}

#[test]
fn notify_plain_port_25_style_mails_a_failed_run_only() {
    let env = Env::new(
        r#"{"license_limit": 2, "members": [{"email":"admin@corp.test","is_admin":true}]}"#,
    );
    let smtp = start_smtp(env.dir.path(), SmtpMode::Plain);
    env.config(DIRECTORY, &smtp.notify_section("plain", None, "failure"));
    assert_eq!(code(&env.run(&["plan"])), 0);
    assert!(
        smtp.mails().is_empty(),
        "no mail after a successful run with when = failure"
    );
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 11, "{}", stderr(&output));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(
        mail.contains("Subject: teamsync apply FAILED (exit 11"),
        "{mail}"
    );
    assert!(
        mail.contains("To: it@corp.test, oncall@corp.test"),
        "{mail}"
    );
    assert!(mail.contains("applied: + invite"), "{mail}");
    assert!(
        env.log()
            .contains("notified: mailed it@corp.test, oncall@corp.test"),
        "{}",
        env.log()
    );
}

#[test]
fn notify_starttls_587_style_check_sends_a_test_mail() {
    let env = Env::new(TEAM);
    let smtp = start_smtp(env.dir.path(), SmtpMode::Starttls);
    let ca = env.path("ca.pem");
    env.config(
        DIRECTORY,
        &smtp.notify_section("starttls", Some(&ca), "failure"),
    );
    let output = env.run(&["check", "--notify"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Notification: OK"),
        "{}",
        stdout(&output)
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: teamsync test notification"),
        "{}",
        mails[0]
    );

    // Without the test CA the server's certificate is not trusted: no mail, exit 13.
    env.config(DIRECTORY, &smtp.notify_section("starttls", None, "failure"));
    let output = env.run(&["check", "--notify"]);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    assert_eq!(smtp.mails().len(), 1);
}

#[test]
fn notify_implicit_tls_465_style_mails_every_run_when_always() {
    let env = Env::new(TEAM);
    let smtp = start_smtp(env.dir.path(), SmtpMode::ImplicitTls);
    let ca = env.path("ca.pem");
    env.config(DIRECTORY, &smtp.notify_section("tls", Some(&ca), "always"));
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: teamsync plan succeeded"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("planned: + invite ann@corp.test"),
        "{}",
        mails[0]
    );
}

#[test]
fn exit_13_notification_failed() {
    let env = Env::new(TEAM);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    env.config(
        DIRECTORY,
        &format!("\n[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsecurity = \"plain\"\nfrom = \"a@corp.test\"\nto = [\"b@corp.test\"]\nwhen = \"always\"\n"),
    );
    let output = env.run(&["check", "--notify"]);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    // A successful run whose report cannot be mailed also says so.
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    assert!(
        env.log()
            .trim_end()
            .ends_with("exit code 13 (a notification mail could not be sent)"),
        "{}",
        env.log()
    );
}

#[test]
fn exit_12_a_second_run_while_the_first_runs() {
    // Every API call takes 300 ms, so the first run is still going when the second starts.
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    env.emulator()
        .set_faults(teamsync_dropbox_emulator::Faults {
            latency_ms: 300,
            ..Default::default()
        });
    let first = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args([
            "--config",
            env.path("teamsync.toml").to_str().unwrap(),
            "apply",
        ])
        .env(TOKEN_VAR, env.emulator().access_token())
        .env("NO_PROXY", "127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = env.path("teamsync.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !lock_taken_by(&lock, first.id()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = env.run(&["apply"]);
    assert_eq!(code(&second), 12, "{}", stderr(&second));
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0));
    assert!(
        env.log().contains("another teamsync run holds the lock"),
        "{}",
        env.log()
    );
}

/// Whether the process `pid` holds the run lock at `path`: the file holds its pid once the lock
/// is taken. On Windows the lock is mandatory: while it is held, reading the file fails with
/// ERROR_LOCK_VIOLATION, which says the same.
fn lock_taken_by(path: &Path, pid: u32) -> bool {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim() == pid.to_string(),
        Err(e) => cfg!(windows) && e.raw_os_error() == Some(33),
    }
}

#[test]
fn exit_1_internal_when_the_plan_cannot_be_saved() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "");
    let output = env.run(&["plan", "--out", "no-such-folder/plan.json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn exit_3_cross_key_error_names_the_line() {
    let env = Env::new(TEAM);
    env.config(DIRECTORY, "request_timeout_secs = 5\n");
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("kind = \"file\"", "kind = \"file\"\nbase_dn = \"dc=x\"");
    write_private(&path, &text);
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 3);
    assert!(
        stderr(&output).contains("line 6: directory.base_dn: only for directory.kind = \"ldap\""),
        "{}",
        stderr(&output)
    );
}
