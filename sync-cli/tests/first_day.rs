//! A new admin's first day (issue 15): the mistakes a config written from the docs runs into,
//! each through the real binary, each answered with a message that names the fix.
//!
//! The LDAP cases need the slapd fixture (`scripts/fixtures/slapd.sh start DIR`, then
//! `set -a; . DIR/slapd.env; set +a`); without `TEAMSYNC_SLAPD_URL` they are skipped with one
//! printed line. The others need only the in-process emulator.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use support::*;

/// The slapd fixture's settings, or `None` after one printed line.
struct Slapd {
    url: String,
    ca: String,
    base: String,
    bind_dn: String,
    bind_pw: String,
}

impl Slapd {
    fn get(test: &str) -> Option<Slapd> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("TEAMSYNC_SLAPD_URL") else {
            eprintln!(
                "SKIPPED {test}: TEAMSYNC_SLAPD_URL is not set (run scripts/test.sh, or scripts/fixtures/slapd.sh start DIR and source DIR/slapd.env)"
            );
            return None;
        };
        Some(Slapd {
            url,
            ca: var("TEAMSYNC_SLAPD_CA").unwrap(),
            base: var("TEAMSYNC_SLAPD_BASE").unwrap(),
            bind_dn: var("TEAMSYNC_SLAPD_BIND_DN").unwrap(),
            bind_pw: var("TEAMSYNC_SLAPD_BIND_PW").unwrap(),
        })
    }

    /// A `[directory]` section for this slapd over StartTLS; `extra` lines are appended.
    fn directory(&self, extra: &str) -> String {
        format!(
            "[directory]\nkind = \"ldap\"\nurl = \"{}\"\nstarttls = true\nbind_dn = \"{}\"\n\
             bind_password = {{ env = \"TEAMSYNC_TEST_BIND_PW\" }}\nprofile = \"openldap\"\nbase_dn = \"{}\"\n{extra}\n",
            self.url, self.bind_dn, self.base
        )
    }
}

fn empty_team() -> Env {
    Env::new(&seed(serde_json::json!({"members": []})))
}

fn ldap_config(env: &Env, directory: &str) {
    env.write_config(&format!(
        "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n{directory}\n{}",
        env.team_section()
    ));
}

#[test]
fn a_refused_bind_names_bind_dn_and_bind_password() {
    let Some(slapd) = Slapd::get("a_refused_bind_names_bind_dn_and_bind_password") else {
        return;
    };
    let env = empty_team();
    let directory = slapd.directory(&format!(
        "ca_file = \"{}\"\nuser_roots = [\"cn=dropbox,ou=groups,{}\"]",
        slapd.ca, slapd.base
    ));
    ldap_config(&env, &directory);
    let output = env
        .command(&["check"])
        .env("TEAMSYNC_TEST_BIND_PW", "not-the-password")
        .output()
        .unwrap();
    show(&["check"], &output);
    assert_eq!(code(&output), 4);
    assert!(
        stderr(&output).contains(&format!(
            "invalid credentials for bind_dn {} (rc 49); check `directory.bind_dn` and the password in `directory.bind_password`",
            slapd.bind_dn
        )),
        "{}",
        stderr(&output)
    );
    // With the right password the same config works.
    let output = env
        .command(&["check"])
        .env("TEAMSYNC_TEST_BIND_PW", &slapd.bind_pw)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn an_untrusted_certificate_names_ca_file() {
    let Some(slapd) = Slapd::get("an_untrusted_certificate_names_ca_file") else {
        return;
    };
    let env = empty_team();
    // No ca_file: the fixture's own CA is in no system store.
    let directory = slapd.directory(&format!(
        "user_roots = [\"cn=dropbox,ou=groups,{}\"]",
        slapd.base
    ));
    ldap_config(&env, &directory);
    let output = env
        .command(&["check"])
        .env("TEAMSYNC_TEST_BIND_PW", &slapd.bind_pw)
        .output()
        .unwrap();
    show(&["check"], &output);
    assert_eq!(code(&output), 4);
    let err = stderr(&output);
    assert!(
        err.contains(
            "the directory's certificate is not trusted: set `directory.ca_file` to its CA"
        ),
        "{err}"
    );
    assert!(!err.contains("UnknownIssuer"), "{err}");
}

#[test]
fn a_group_name_as_an_ldap_root_asks_for_a_dn() {
    // Refused before any connection: no server needed.
    let env = empty_team();
    let directory = "[directory]\nkind = \"ldap\"\nurl = \"ldaps://127.0.0.1:1\"\nbind_dn = \"cn=svc,dc=corp,dc=example\"\n\
                     bind_password = { env = \"TEAMSYNC_TEST_BIND_PW\" }\nprofile = \"active_directory\"\nbase_dn = \"dc=corp,dc=example\"\nuser_roots = [\"dropbox\"]\n";
    ldap_config(&env, directory);
    let output = env
        .command(&["check"])
        .env("TEAMSYNC_TEST_BIND_PW", "pw")
        .output()
        .unwrap();
    show(&["check"], &output);
    assert_eq!(code(&output), 3);
    assert!(
        stderr(&output).contains(
            "`directory.user_roots`: \"dropbox\" is not a DN; LDAP roots are DNs, e.g. `cn=dropbox,ou=groups,dc=corp,dc=example`"
        ),
        "{}",
        stderr(&output)
    );
}

fn file_env() -> Env {
    let env = empty_team();
    env.file_config("people.json", &simple_directory(3, 1).to_string(), "", "");
    env
}

#[test]
fn a_json_log_is_never_appended_to_a_text_log() {
    let env = file_env();
    assert_eq!(code(&env.run(&["plan"])), 0);
    let text_log = env.log();
    let output = env.run(&["--log-format", "json", "plan"]);
    assert_eq!(code(&output), 3);
    let err = stderr(&output);
    assert!(
        err.contains("holds text lines and this run would append JSON lines; one file holds one format: give the JSON log a file of its own (--log-file, or log_file in the config)"),
        "{err}"
    );
    assert_eq!(env.log(), text_log, "the text log was written to");
    // Its own file takes it.
    let output = env.run(&[
        "--log-format",
        "json",
        "--log-file",
        "teamsync.json.log",
        "plan",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let json_log = std::fs::read_to_string(env.path("teamsync.json.log")).unwrap();
    assert!(json_log.lines().all(|l| l.starts_with('{')), "{json_log}");
}

/// The targets of the diagnostics lines on stderr (`TIME LEVEL target: message`).
fn diagnostic_targets(stderr: &str) -> std::collections::BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let _time = words.next()?;
            let level = words.next()?;
            let target = words.next()?.strip_suffix(':')?;
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&level)
                .then(|| target.split("::").next().unwrap_or(target).to_owned())
        })
        .collect()
}

#[test]
fn rust_log_debug_shows_teamsync_records_not_the_http_stack() {
    let env = file_env();
    let run = |filter: &str| {
        let output = env
            .command(&["plan"])
            .env("RUST_LOG", filter)
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        diagnostic_targets(&stderr(&output))
    };
    let debug = run("debug");
    assert!(debug.contains("teamsync_dropbox"), "{debug:?}");
    for internal in ["hyper", "hyper_util", "h2", "rustls", "reqwest"] {
        assert!(
            !debug.contains(internal),
            "RUST_LOG=debug shows {internal}: {debug:?}"
        );
    }
    let trace = run("trace");
    assert!(trace.contains("hyper_util"), "{trace:?}");
    let by_target = run("debug,hyper_util=debug");
    assert!(
        by_target.contains("hyper_util") && by_target.contains("teamsync_dropbox"),
        "{by_target:?}"
    );
}

#[test]
fn a_missing_refresh_token_file_says_run_auth_first() {
    let env = empty_team();
    std::fs::write(env.path("people.json"), simple_directory(2, 1).to_string()).unwrap();
    env.write_config(&format!(
        "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"people.json\"\n\n\
         [team]\nbase_url = \"{}\"\nrefresh_token = {{ file = \"dropbox-refresh-token\" }}\napp_key = \"abc\"\n",
        env.emulator().base_url()
    ));
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 3);
    let err = stderr(&output);
    assert!(
        err.contains("team.refresh_token: the refresh token file "),
        "{err}"
    );
    assert!(
        err.contains("dropbox-refresh-token does not exist yet: run `teamsync auth` first"),
        "{err}"
    );
}

#[test]
fn the_guard_refusal_names_the_exact_flag() {
    let leavers: Vec<serde_json::Value> = (0..30)
        .map(|i| serde_json::json!({"email": format!("left{i}@corp.test"), "given_name": "Left", "surname": "Over", "external_id": format!("teamsync:left{i}")}))
        .collect();
    let env = Env::new(&seed(serde_json::json!({ "members": leavers })));
    env.file_config("people.json", &simple_directory(2, 1).to_string(), "", "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 9);
    let err = stderr(&output);
    assert!(
        err.contains("refused: the plan suspends 30 of 30 managed members (limit 25): rerun with `--allow-deprovision 30` to allow exactly this, or `--force`"),
        "{err}"
    );
    let output = env.run(&["apply", "--allow-deprovision", "29"]);
    assert_eq!(code(&output), 9);
    assert!(
        stderr(&output).contains(
            "(--allow-deprovision 29 is not enough): rerun with `--allow-deprovision 30`"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.write_calls(), 0);
    let output = env.run(&["apply", "--allow-deprovision", "30"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn an_ldif_without_operational_attributes_says_how_to_export() {
    let env = empty_team();
    let ldif = "dn: cn=dropbox,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: dropbox\nmember: uid=ann,ou=people,dc=example,dc=org\n\n\
                dn: uid=ann,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: ann\nmail: ann@example.org\ngivenName: Ann\nsn: Lee\n";
    env.file_config(
        "export.ldif",
        ldif,
        "user_roots = [\"cn=dropbox,ou=groups,dc=example,dc=org\"]",
        "",
    );
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 5);
    let err = stderr(&output);
    assert!(
        err.contains("no entryUUID in the export (the id attribute is an operational attribute, left out unless asked for): export with `ldapsearch -LLL … '*' +`"),
        "{err}"
    );
    assert!(!err.contains("JSON"), "{err}");
}

#[test]
fn check_counts_the_users_it_will_skip_and_why() {
    let env = empty_team();
    let people = serde_json::json!({
        "user_roots": ["Staff"],
        "groups": [{"name": "Staff", "id": "g-staff"}],
        "people": [
            {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Staff"]},
            {"id": "2", "email": "", "given_name": "No", "surname": "Mail", "groups": ["Staff"]},
            {"id": "3", "email": "not-an-email", "given_name": "Bad", "surname": "Mail", "groups": ["Staff"]},
            {"id": "4", "email": "shared@corp.test", "given_name": "One", "surname": "Of", "groups": ["Staff"]},
            {"id": "5", "email": "SHARED@corp.test", "given_name": "Two", "surname": "Of", "groups": ["Staff"]}
        ]
    });
    env.file_config("people.json", &people.to_string(), "", "");
    let output = env.run(&["check"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("4 users will be skipped: 1 without an email, 1 with an email Dropbox refuses, 2 sharing an email with another user (`teamsync plan` names them)"),
        "{out}"
    );
    assert!(
        out.contains("Dropbox write scopes: cannot be known before a write"),
        "{out}"
    );
    assert!(!out.contains("team \"\\\""), "{out}");
}
