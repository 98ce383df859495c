//! teamsync as a program of the platform it runs on, through the real binary: the default
//! places of the config, log and lock (`%ProgramData%\teamsync\` on Windows), files written
//! with Windows line ends (CRLF) and a byte-order mark, and the packaged Task Scheduler
//! definition. Run on Linux by `cargo test` and on Windows (under Wine) by
//! scripts/windows/test.sh.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teamsync_dropbox_emulator::{Emulator, EmulatorConfig};

const TOKEN_VAR: &str = "TEAMSYNC_TEST_TOKEN";

/// An emulated team on a loopback port, for the duration of a test.
struct Team {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
}

impl Team {
    fn start() -> Team {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .unwrap();
        Team {
            runtime,
            emulator: Some(emulator),
        }
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    /// `teamsync ARGS` with the team's token, in `dir`, with no config named unless `args` do.
    fn run(&self, dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_teamsync"));
        command
            .args(args)
            .env_remove("TEAMSYNC_CONFIG")
            .env(TOKEN_VAR, self.emulator().access_token())
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(dir);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        eprintln!(
            "teamsync {args:?} -> {:?}\n--- stdout\n{}\n--- stderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// A config for a file source next to it (`people.json` unless `extra` says otherwise).
    fn config_text(&self, extra_directory: &str) -> String {
        format!(
            "[directory]\nkind = \"file\"\npath = \"people.json\"\n{extra_directory}\n[team]\nbase_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n",
            self.emulator().base_url()
        )
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

const PEOPLE: &str = r#"{
  "user_roots": ["Staff"],
  "groups": [{"name": "Staff", "id": "g-staff"}, {"name": "Eng", "id": "g-eng", "groups": ["Staff"]}],
  "people": [
    {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Eng"]},
    {"id": "2", "email": "ben@corp.test", "given_name": "Ben", "surname": "Ng", "groups": ["Staff"]}
  ]
}"#;

const LDIF: &str = "version: 1\n\n# the staff group\ndn: cn=staff,dc=corp\nobjectClass: groupOfNames\ncn: staff\nentryUUID: g-staff\nmember: uid=ann,dc=corp\nmember: uid=ben,\n dc=corp\n\n\
                    dn: uid=ann,dc=corp\nobjectClass: inetOrgPerson\nuid: ann\nentryUUID: u-ann\nmail: ann@corp.test\ngivenName: Ann\nsn: Lee\n\n\
                    dn: uid=ben,dc=corp\nobjectClass: inetOrgPerson\nuid: ben\nentryUUID: u-ben\nmail: ben@corp.test\ngivenName:: QmVu\nsn: Ng\n";

fn code(output: &Output) -> i32 {
    output.status.code().expect("teamsync was killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

/// Where teamsync looks without `--config`, and where it logs and locks without `log_file`
/// and `lock_file`, given a machine folder `root`: (environment, config file, state folder).
fn default_places(root: &Path, cwd: &Path) -> (Vec<(&'static str, PathBuf)>, PathBuf, PathBuf) {
    if cfg!(windows) {
        let data = root.join("ProgramData");
        let teamsync = data.join("teamsync");
        (
            vec![("ProgramData", data)],
            teamsync.join("teamsync.toml"),
            teamsync,
        )
    } else if cfg!(target_os = "macos") {
        let home = root.join("home");
        (
            vec![("HOME", home.clone())],
            cwd.join("teamsync.toml"),
            home.join("Library/Logs/teamsync"),
        )
    } else {
        let state = root.join("state");
        (
            vec![("XDG_STATE_HOME", state.clone())],
            cwd.join("teamsync.toml"),
            state.join("teamsync"),
        )
    }
}

#[test]
fn without_flags_config_log_and_lock_are_in_the_platform_places() {
    let team = Team::start();
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let (env, config, state) = default_places(root.path(), &cwd);
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, team.config_text("")).unwrap();
    std::fs::write(config.with_file_name("people.json"), PEOPLE).unwrap();
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();

    let output = team.run(&cwd, &["plan"], &env);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("+ invite            ann@corp.test"),
        "{}",
        stdout(&output)
    );
    let log = std::fs::read_to_string(state.join("teamsync.log")).unwrap();
    assert!(
        log.contains(&format!("(config {})", config_as_given(&config).display())),
        "{log}"
    );
    assert!(log.trim_end().ends_with("exit code 0 (success)"), "{log}");
    assert!(state.join("teamsync.lock").is_file());
    // No log or lock where the command was started.
    assert!(!cwd.join("teamsync.log").exists() && !cwd.join("teamsync.lock").exists());
}

/// The config path as the log shows it: the default as teamsync names it.
fn config_as_given(config: &Path) -> PathBuf {
    if cfg!(windows) {
        config.to_owned()
    } else {
        PathBuf::from("teamsync.toml")
    }
}

#[test]
fn help_names_the_windows_defaults() {
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&output);
    assert!(
        help.contains(r"%ProgramData%\teamsync\teamsync.toml"),
        "{help}"
    );
    assert!(
        help.contains(r"%ProgramData%\teamsync\teamsync.log"),
        "{help}"
    );
}

#[test]
fn crlf_config_and_directory_files_plan_exactly_like_lf_ones() {
    let team = Team::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = |config_text: &str, file: &str, file_text: &str| -> String {
        std::fs::write(dir.path().join(file), file_text).unwrap();
        let config = dir.path().join("teamsync.toml");
        std::fs::write(&config, config_text).unwrap();
        let output = team.run(
            dir.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "--log-file",
                "teamsync.log",
                "--lock-file",
                "teamsync.lock",
                "plan",
                "--json",
            ],
            &[],
        );
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        stdout(&output)
    };
    // Simple JSON.
    let lf = plan(&team.config_text(""), "people.json", PEOPLE);
    assert!(lf.contains("ann@corp.test"), "{lf}");
    assert_eq!(
        plan(&crlf(&team.config_text("")), "people.json", &crlf(PEOPLE)),
        lf
    );
    // LDIF, with a folded line, a comment and a base64 value.
    let ldif_config = team
        .config_text("user_roots = [\"cn=staff,dc=corp\"]")
        .replace("people.json", "people.ldif");
    let lf = plan(&ldif_config, "people.ldif", LDIF);
    assert!(
        lf.contains("ben@corp.test") && lf.contains("\"Ben\""),
        "{lf}"
    );
    assert_eq!(plan(&crlf(&ldif_config), "people.ldif", &crlf(LDIF)), lf);
    // Notepad's UTF-8 byte-order mark in front of each.
    assert_eq!(
        plan(
            &format!("\u{feff}{}", crlf(&ldif_config)),
            "people.ldif",
            &format!("\u{feff}{}", crlf(LDIF))
        ),
        lf
    );
}

#[test]
fn crlf_config_errors_name_the_right_line() {
    let team = Team::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("teamsync.toml");
    let text = crlf(&format!(
        "{}\n[policy]\non_leave = \"vanish\"\n",
        team.config_text("")
    ));
    let line = text
        .split("\r\n")
        .position(|l| l.starts_with("on_leave"))
        .unwrap()
        + 1;
    std::fs::write(&config, &text).unwrap();
    let output = team.run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--log-file",
            "teamsync.log",
            "--lock-file",
            "teamsync.lock",
            "plan",
        ],
        &[],
    );
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("line {line}")),
        "{}",
        stderr(&output)
    );
    // A cross-key error (found after parsing) too.
    let text = crlf(&team.config_text("base_dn = \"dc=x\""));
    let line = text
        .split("\r\n")
        .position(|l| l.starts_with("base_dn"))
        .unwrap()
        + 1;
    std::fs::write(&config, &text).unwrap();
    let output = team.run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--log-file",
            "x.log",
            "--lock-file",
            "x.lock",
            "plan",
        ],
        &[],
    );
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("line {line}: directory.base_dn")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_utf16_file_from_powershell_is_refused_with_what_to_do() {
    // Windows PowerShell 5's `>` and Out-File write UTF-16LE with a byte-order mark.
    let team = Team::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("teamsync.toml");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in team.config_text("").encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(&config, &bytes).unwrap();
    let output = team.run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--log-file",
            "x.log",
            "--lock-file",
            "x.lock",
            "plan",
        ],
        &[],
    );
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("UTF-16") && err.contains("UTF-8"), "{err}");
}

#[test]
fn the_packaged_task_runs_daily_one_instance_at_a_time_with_a_command_teamsync_accepts() {
    let xml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../packaging/windows/teamsync-task.xml"
    ))
    .unwrap();
    // The file is in the encoding it declares (an XML reader may refuse UTF-8 declared UTF-16).
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    assert!(xml.contains("<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>"));
    assert!(xml.contains("<DaysInterval>1</DaysInterval>"), "{xml}");
    let between = |open: &str, close: &str| -> String {
        let start = xml.find(open).unwrap() + open.len();
        let end = start + xml[start..].find(close).unwrap();
        xml[start..end].to_owned()
    };
    assert_eq!(
        between("<Command>", "</Command>"),
        r"C:\Program Files\teamsync\teamsync.exe"
    );
    let arguments = between("<Arguments>", "</Arguments>");
    assert!(
        arguments.contains(r"C:\ProgramData\teamsync\teamsync.toml"),
        "{arguments}"
    );
    // The same arguments with the config pointing at a file that does not exist: exit 3
    // (config invalid), not 2 (command line not understood).
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let args: Vec<String> = arguments
        .replace("&quot;", "")
        .replace(
            r"C:\ProgramData\teamsync\teamsync.toml",
            missing.to_str().unwrap(),
        )
        .split_whitespace()
        .map(|a| a.trim_matches('"').to_owned())
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(["--log-file", dir.path().join("t.log").to_str().unwrap()])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(code(&output), 3, "{args:?}: {}", stderr(&output));
}

#[test]
fn the_packaged_sample_config_is_valid_up_to_its_secret_files() {
    // Copied where an admin copies it: the first thing missing is a secret file next to it,
    // not a key or a value teamsync refuses.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("teamsync.toml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../packaging/windows/teamsync.sample.toml"
        ),
        &config,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(["--config", config.to_str().unwrap()])
        .args(["--log-file", dir.path().join("t.log").to_str().unwrap()])
        .args(["--lock-file", dir.path().join("t.lock").to_str().unwrap()])
        .arg("check")
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(code(&output), 3, "{err}");
    assert!(err.contains("cannot read secret file"), "{err}");
    assert!(err.contains(".txt"), "{err}");
}

/// Sets a file's DACL from SDDL (protected: nothing inherited).
#[cfg(windows)]
fn set_dacl(path: &Path, sddl: &str) {
    use windows_permissions::constants::{SeObjectType, SecurityInformation};
    use windows_permissions::{LocalBox, SecurityDescriptor, wrappers};
    let descriptor: LocalBox<SecurityDescriptor> = sddl.parse().unwrap();
    wrappers::SetNamedSecurityInfo(
        path.as_os_str(),
        SeObjectType::SE_FILE_OBJECT,
        SecurityInformation::Dacl | SecurityInformation::ProtectedDacl,
        None,
        None,
        descriptor.dacl(),
        None,
    )
    .unwrap();
}

#[cfg(windows)]
#[test]
fn a_config_whose_acl_lets_everyone_read_it_warns_like_a_world_readable_one() {
    let team = Team::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.json"), PEOPLE).unwrap();
    let config = dir.path().join("teamsync.toml");
    std::fs::write(&config, team.config_text("")).unwrap();
    let run = || {
        team.run(
            dir.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "--log-file",
                "t.log",
                "--lock-file",
                "t.lock",
                "plan",
            ],
            &[],
        )
    };
    set_dacl(
        &config,
        "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)",
    );
    let output = run();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("is readable by every user (its ACL lets Everyone read it)"),
        "{err}"
    );
    let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
    assert!(log.contains("readable by every user"), "{log}");

    set_dacl(&config, "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)");
    if std::env::var_os("WINEPREFIX").is_some() {
        // Wine makes a file's ACL up from its Unix mode and keeps no other.
        println!("under Wine: a private ACL cannot be set; checked on a real Windows only");
        return;
    }
    let output = run();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("readable by"),
        "{}",
        stderr(&output)
    );
}
