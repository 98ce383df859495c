//! `teamsync init` with flags (for scripts) and `teamsync config explain`, through the real
//! binary: a config for every source that `Config::load` accepts and holds no secret, never
//! an existing file replaced without `--force`, and, against the slapd fixture, a written
//! config that `teamsync check` passes. The questions on a terminal are tested through a pty
//! in sync-cli/tests-py/test_init_pty.py.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::*;

fn teamsync(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("TEAMSYNC_CONFIG")
        .output()
        .unwrap();
    show(args, &output);
    output
}

/// The flags of each source, with a secret-looking value nowhere in them.
fn sources(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "ldap",
            s(&[
                "--url",
                "ldap://ldap.example.org",
                "--starttls",
                "--bind-dn",
                "cn=teamsync,ou=service,dc=example,dc=org",
                "--password-from",
                "env:LDAP_PW",
                "--root",
                "cn=dropbox,ou=groups,dc=example,dc=org",
            ]),
        ),
        (
            "ad",
            s(&[
                "--url",
                "ldaps://dc1.corp.example.com",
                "--bind-dn",
                "CN=svc-teamsync,OU=Service,DC=corp,DC=example,DC=com",
                "--password-from",
                &format!("file:{}", file("bind-password")),
                "--root",
                "CN=Dropbox Users,OU=Groups,DC=corp,DC=example,DC=com",
                "--team-token-from",
                &format!("file:{}", file("refresh-token")),
                "--app-key",
                "abc123",
            ]),
        ),
        (
            "entra",
            s(&[
                "--tenant-id",
                "contoso.onmicrosoft.com",
                "--client-id",
                "00000000-0000-0000-0000-000000000001",
                "--root",
                "Dropbox Users",
            ]),
        ),
        (
            "csv",
            s(&["--path", &file("people.csv"), "--root", "Dropbox Users"]),
        ),
        ("json", s(&["--path", "people.json"])),
        (
            "ldif",
            s(&["--path", &file("export.ldif"), "--root", "dropbox"]),
        ),
    ]
}

#[test]
fn every_source_gives_a_config_that_loads_and_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    for (source, flags) in sources(dir.path()) {
        let out = dir.path().join(format!("{source}.toml"));
        let mut args = vec!["init", "--source", source, "-o", out.to_str().unwrap()];
        args.extend(flags.iter().map(String::as_str));
        let output = teamsync(dir.path(), &args);
        assert_eq!(code(&output), 0, "{source}: {}", stderr(&output));
        assert!(stdout(&output).contains("Wrote "), "{}", stdout(&output));
        let config = teamsync::Config::load(&out)
            .unwrap_or_else(|e| panic!("{source}: the written config is refused: {e}"));
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        let text = std::fs::read_to_string(&out).unwrap();
        // Every secret is a reference; the comments come from the doc comments.
        assert!(
            text.contains("{ env = ") || text.contains("{ file = "),
            "{text}"
        );
        assert!(!text.contains("allow_inline_secrets"), "{text}");
        assert!(text.contains("# The Dropbox team."), "{text}");
        assert!(text.contains("# on_leave = \"suspend\""), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{source}");
        }
        let kind = config.file().directory.kind();
        let expected = match source {
            "ldap" | "ad" => "ldap",
            "entra" => "entra",
            _ => "file",
        };
        assert_eq!(kind, expected);
    }
    // A relative --path is made absolute: the config works from any folder.
    let json = std::fs::read_to_string(dir.path().join("json.toml")).unwrap();
    let absolute = dir.path().join("people.json");
    assert!(
        json.contains(&format!("path = \"{}\"", absolute.display())),
        "{json}"
    );
    let ad = std::fs::read_to_string(dir.path().join("ad.toml")).unwrap();
    assert!(ad.contains("profile = \"active_directory\""), "{ad}");
    assert!(ad.contains("refresh_token = { file = "), "{ad}");
    assert!(ad.contains("app_key = \"abc123\""), "{ad}");
    assert!(
        ad.contains("base_dn = \"DC=corp,DC=example,DC=com\""),
        "{ad}"
    );
}

#[test]
fn an_existing_file_is_kept_without_force_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("teamsync.toml");
    std::fs::write(&out, "# mine\n").unwrap();
    let args = [
        "init",
        "--source",
        "json",
        "--path",
        "people.json",
        "-o",
        out.to_str().unwrap(),
    ];
    let output = teamsync(dir.path(), &args);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("exists; teamsync init does not replace it without --force"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    let output = teamsync(dir.path(), &forced);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("kind = \"file\"")
    );
    // The default output is --config's path.
    let output = teamsync(
        dir.path(),
        &[
            "-c",
            "other.toml",
            "init",
            "--source",
            "json",
            "--path",
            "p.json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(dir.path().join("other.toml").exists());
}

#[test]
fn missing_flags_and_no_terminal_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Not a terminal (the test's stdin), no --source: nothing to ask.
    let output = teamsync(dir.path(), &["init"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("needs --source"),
        "{}",
        stderr(&output)
    );
    let output = teamsync(
        dir.path(),
        &["init", "--source", "ldap", "--url", "ldaps://x"],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("needs --root"),
        "{}",
        stderr(&output)
    );
    let output = teamsync(dir.path(), &["init", "--source", "csv", "--path", "a.csv"]);
    assert_eq!(code(&output), 2);
    let output = teamsync(
        dir.path(),
        &[
            "init",
            "--source",
            "json",
            "--path",
            "a.json",
            "--password-from",
            "hunter2!",
        ],
    );
    assert_eq!(code(&output), 2, "a secret itself is no reference");
    assert!(!dir.path().join("teamsync.toml").exists());
}

#[test]
fn config_explain_prints_every_key_and_names_close_matches_for_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = teamsync(dir.path(), &["config", "explain"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    for key in [
        "policy.on_leave = \"suspend\" (default)",
        "policy.max_deprovision.floor = 25 (default)",
        "directory.user_base_dn (with kind = \"ldap\") (not set by default)",
        "team.base_url = \"https://api.dropboxapi.com\" (default)",
        "[notify]",
    ] {
        assert!(text.contains(key), "{key} missing:\n{text}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 80));
    // --help names both.
    let help = stdout(&teamsync(dir.path(), &["--help"]));
    assert!(
        help.contains("init") && help.contains("teamsync config explain"),
        "{help}"
    );
    let output = teamsync(dir.path(), &["config", "explain", "policy.wipe_data"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).starts_with("policy.wipe_data = true (default)\n"));
    let output = teamsync(
        dir.path(),
        &["config", "explain", "policy.max_suspend_percent"],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("no config key \"policy.max_suspend_percent\"; did you mean policy.max_deprovision.percent"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_ldap_config_written_by_flags_passes_check_against_slapd() {
    if slapd_missing("an_ldap_config_written_by_flags_passes_check_against_slapd") {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap();
    let env = Env::new(&seed(serde_json::json!({"members": []})));
    let config = env.path("teamsync.toml");
    let base = var("TEAMSYNC_SLAPD_BASE");
    let root = format!("cn=dropbox,ou=groups,{base}");
    let output = env.run(&[
        "init",
        "--source",
        "ldap",
        "--url",
        &var("TEAMSYNC_SLAPD_URL"),
        "--starttls",
        "--ca-file",
        &var("TEAMSYNC_SLAPD_CA"),
        "--bind-dn",
        &var("TEAMSYNC_SLAPD_BIND_DN"),
        "--password-from",
        "env:TEAMSYNC_TEST_BIND_PW",
        "--root",
        &root,
        "--team-token-from",
        &format!("env:{TOKEN_VAR}"),
        "--team-base-url",
        &env.emulator().base_url(),
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(config.exists());
    let output = env
        .command(&[
            "--log-file",
            "teamsync.log",
            "--lock-file",
            "teamsync.lock",
            "check",
        ])
        .env("TEAMSYNC_TEST_BIND_PW", var("TEAMSYNC_SLAPD_BIND_PW"))
        .output()
        .unwrap();
    show(&["check"], &output);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Directory: OK"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("Dropbox: OK"),
        "{}",
        stdout(&output)
    );
}
