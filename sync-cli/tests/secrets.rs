//! Secrets never leak (issue 7, item 6): full syncs with the most verbose logging there is
//! (`RUST_LOG=trace`, text and `--log-format json`), with the team's token, with a refresh
//! token + app secret, and with an LDAP bind password; plus failing runs (a refused token, a
//! refused refresh token, a refused bind password, a team answering 500s and dropping
//! connections). No secret — right or wrong — may appear in stdout, stderr (errors and any
//! panic message), the log file or a saved plan.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::process::Output;

use support::*;
use teamsync_dropbox_emulator::{EmulatorConfig, Faults};

struct Secrets(Vec<String>);

impl Secrets {
    /// Fails when any secret, or a 12-character piece from the middle of a long one, shows in
    /// `text`.
    fn assert_absent(&self, what: &str, text: &str) {
        for secret in &self.0 {
            assert!(!secret.is_empty());
            assert!(
                !text.contains(secret.as_str()),
                "{what} contains the secret {secret:?}:\n{text}"
            );
            if secret.len() >= 24 {
                let mid = secret.len() / 2;
                let piece = &secret[mid - 6..mid + 6];
                assert!(
                    !text.contains(piece),
                    "{what} contains a piece ({piece:?}) of the secret {secret:?}:\n{text}"
                );
            }
        }
    }

    fn assert_run_clean(&self, env: &Env, label: &str, output: &Output) {
        self.assert_absent(&format!("{label}: stdout"), &stdout(output));
        self.assert_absent(&format!("{label}: stderr"), &stderr(output));
        self.assert_absent(&format!("{label}: log file"), &env.log());
        assert!(
            !stderr(output).contains("panicked"),
            "{label}: {}",
            stderr(output)
        );
        for file in ["plan.json"] {
            if let Ok(text) = std::fs::read_to_string(env.path(file)) {
                self.assert_absent(&format!("{label}: {file}"), &text);
            }
        }
    }
}

const DIRECTORY_USERS: usize = 30;

fn admin_only() -> teamsync_dropbox_emulator::TeamSeed {
    seed(serde_json::json!({
        "members": [
            {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true},
            {"email": "leaver@corp.test", "given_name": "Le", "surname": "Aver", "external_id": "teamsync:gone"}
        ]
    }))
}

/// Runs plan (saved), apply and check, each in text and JSON log formats, with trace logging.
fn run_all(env: &Env, secrets: &Secrets, extra_env: &[(&str, &str)], expected: i32) {
    for format in ["text", "json"] {
        // One log format per file: each format's runs start a log of their own.
        let _ = std::fs::remove_file(env.path("teamsync.log"));
        for args in [
            &[
                "--log-format",
                format,
                "plan",
                "--json",
                "--out",
                "plan.json",
            ][..],
            &["--log-format", format, "apply"][..],
            &["--log-format", format, "check"][..],
        ] {
            let mut command = env.command(args);
            command.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "1");
            for (k, v) in extra_env {
                command.env(k, v);
            }
            let output = command.output().unwrap();
            show(args, &output);
            let label = format!("{args:?}");
            // The diagnostics really are on: the check below reads trace output, not silence.
            assert!(
                stderr(&output).contains("TRACE") || stderr(&output).contains("DEBUG"),
                "{label}: RUST_LOG=trace produced no diagnostics:\n{}",
                stderr(&output)
            );
            secrets.assert_run_clean(env, &label, &output);
            if expected == 0 {
                assert!(
                    matches!(code(&output), 0 | 11),
                    "{label}: {}",
                    stderr(&output)
                );
            } else {
                assert_eq!(code(&output), expected, "{label}: {}", stderr(&output));
            }
        }
    }
}

#[test]
fn token_never_appears_in_output_logs_or_plans() {
    let env = Env::new(&admin_only());
    let directory = serde_json::to_string(&simple_directory(DIRECTORY_USERS, 3)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let token = env.emulator().access_token();
    let secrets = Secrets(vec![token.clone()]);
    run_all(&env, &secrets, &[], 0);
    assert!(
        env.state().member_by_email("p0000@corp.test").is_some(),
        "the sync ran"
    );
    assert!(
        env.log().contains("\"event\""),
        "JSON lines were logged too"
    );

    // A refused token is a secret too.
    let wrong = "sl.wrong-token-0123456789abcdefghijklmnopqrstuvwxyz".to_owned();
    let secrets = Secrets(vec![token, wrong.clone()]);
    run_all(&env, &secrets, &[(TOKEN_VAR, &wrong)], 7);
}

#[test]
fn token_never_appears_when_the_team_fails_and_drops_connections() {
    let env = Env::with_config(
        &admin_only(),
        EmulatorConfig {
            faults: Faults {
                server_error_rate: 0.3,
                drop_connection_rate: 0.2,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    );
    let directory = serde_json::to_string(&simple_directory(6, 2)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let secrets = Secrets(vec![env.emulator().access_token()]);
    for format in ["text", "json"] {
        // One log format per file: each format's run starts a log of its own.
        let _ = std::fs::remove_file(env.path("teamsync.log"));
        let args = ["--log-format", format, "apply"];
        let output = env
            .command(&args)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        show(&args, &output);
        secrets.assert_run_clean(&env, &format!("{args:?} under faults"), &output);
        assert!(matches!(code(&output), 0 | 8 | 11), "{}", stderr(&output));
    }
    // The faults were met: some call was refused or cut.
    let faulted = env.log().contains("500")
        || env.log().contains("connection")
        || env.log().contains("failed");
    assert!(
        faulted || env.emulator().call_counts().values().sum::<u64>() > 20,
        "{}",
        env.log()
    );
}

#[test]
fn refresh_token_and_app_secret_never_appear() {
    let env = Env::new(&admin_only());
    let directory = serde_json::to_string(&simple_directory(DIRECTORY_USERS, 3)).unwrap();
    let emu = env.emulator();
    let refresh_token = emu.refresh_token();
    let app_secret = emu.app_secret();
    std::fs::write(env.path("refresh-token"), format!("{refresh_token}\n")).unwrap();
    env.file_config("people.json", &directory, "", "");
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            &format!("token = {{ env = \"{TOKEN_VAR}\" }}"),
            &format!(
                "refresh_token = {{ file = \"refresh-token\" }}\napp_key = \"{}\"\napp_secret = {{ env = \"TEAMSYNC_TEST_APP_SECRET\" }}",
                emu.app_key()
            ),
        );
    write_private(&path, &text);
    let secrets = Secrets(vec![
        refresh_token.clone(),
        app_secret.clone(),
        emu.access_token(),
    ]);
    run_all(
        &env,
        &secrets,
        &[("TEAMSYNC_TEST_APP_SECRET", &app_secret)],
        0,
    );
    assert!(
        env.state().member_by_email("p0000@corp.test").is_some(),
        "the sync ran"
    );
    assert!(
        env.emulator()
            .call_counts()
            .get("oauth2/token")
            .copied()
            .unwrap_or(0)
            > 0,
        "the refresh token was used"
    );

    // A wrong app secret, then a wrong refresh token: refused (exit 7), neither shown.
    let wrong_secret = "wrong-app-secret-0123456789abcdef".to_owned();
    let secrets = Secrets(vec![
        refresh_token.clone(),
        app_secret.clone(),
        wrong_secret.clone(),
    ]);
    run_all(
        &env,
        &secrets,
        &[("TEAMSYNC_TEST_APP_SECRET", &wrong_secret)],
        7,
    );
    let wrong_refresh = "emu-refresh-WRONG0123456789abcdefghijklmnop".to_owned();
    std::fs::write(env.path("refresh-token"), &wrong_refresh).unwrap();
    let secrets = Secrets(vec![refresh_token, app_secret.clone(), wrong_refresh]);
    run_all(
        &env,
        &secrets,
        &[("TEAMSYNC_TEST_APP_SECRET", &app_secret)],
        7,
    );
}

fn slapd_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the OpenLDAP fixture with `scripts/fixtures/slapd.sh start STATE_DIR` \
             and load STATE_DIR/slapd.env (scripts/test.sh does both)"
        )
    })
}

#[test]
fn ldap_bind_password_never_appears() {
    if support::slapd_missing("ldap_bind_password_never_appears") {
        return;
    }
    let env = Env::new(&admin_only());
    let base = slapd_var("TEAMSYNC_SLAPD_BASE");
    let password = slapd_var("TEAMSYNC_SLAPD_BIND_PW");
    let text = format!(
        "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"ldap\"\n\
         url = \"{}\"\nca_file = \"{}\"\nprofile = \"openldap\"\n\
         bind_dn = \"{}\"\nbind_password = {{ env = \"TEAMSYNC_TEST_BIND_PW\" }}\nbase_dn = \"{base}\"\n\
         user_roots = [\"cn=dropbox,ou=groups,{base}\"]\n\n{}",
        slapd_var("TEAMSYNC_SLAPD_LDAPS_URL"),
        slapd_var("TEAMSYNC_SLAPD_CA"),
        slapd_var("TEAMSYNC_SLAPD_BIND_DN"),
        env.team_section()
    );
    env.write_config(&text);
    let secrets = Secrets(vec![password.clone(), env.emulator().access_token()]);
    run_all(&env, &secrets, &[("TEAMSYNC_TEST_BIND_PW", &password)], 0);
    assert!(env.state().members.len() > 2, "the sync ran");

    let wrong = "wrong-bind-password-0123456789".to_owned();
    let secrets = Secrets(vec![password, wrong.clone()]);
    run_all(&env, &secrets, &[("TEAMSYNC_TEST_BIND_PW", &wrong)], 4);
}
