//! The bad-input catalogue (issue 7, item 4), through the real binary with JSON and LDIF file
//! sources: each case gets a clear, per-entry warning or error naming the input, and the run
//! does the right thing with the rest. `docs/bad-input.md` maps every case to its test here or
//! in `sync-core`/the adapters.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::time::Duration;

use support::*;
use teamsync_dropbox_emulator::{EmulatorConfig, MemberStatus};

fn admin_only() -> teamsync_dropbox_emulator::TeamSeed {
    seed(serde_json::json!({
        "members": [{"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}]
    }))
}

/// A directory of `people` (JSON objects without `groups`: all put in "Staff") and extra groups.
fn directory(people: serde_json::Value, extra_groups: serde_json::Value) -> String {
    let mut groups = vec![serde_json::json!({"name": "Staff", "id": "g-staff"})];
    groups.extend(extra_groups.as_array().unwrap().iter().cloned());
    let people: Vec<serde_json::Value> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if p.get("groups").is_none() {
                p["groups"] = serde_json::json!(["Staff"]);
            }
            p
        })
        .collect();
    serde_json::json!({"user_roots": ["Staff"], "groups": groups, "people": people}).to_string()
}

fn person(id: &str, email: &str, given: &str, surname: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "email": email, "given_name": given, "surname": surname})
}

/// Plans the directory; returns (stdout, log). Every `warning` must show in both, the plan's
/// output and the run log, each naming its input.
fn plan_with(env: &Env, directory: &str, warnings: &[&str]) -> String {
    env.file_config("people.json", directory, "", "");
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    let log = env.log();
    for warning in warnings {
        assert!(
            out.contains(warning),
            "plan output lacks {warning:?}:\n{out}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains("warning: ") && l.contains(warning)),
            "run log lacks {warning:?}:\n{log}"
        );
    }
    out
}

fn apply(env: &Env) {
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn invalid_email_skips_that_user_only_and_names_it() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([
        person("1", "not-an-email", "Bad", "Mail"),
        person("2", "two@@corp.test", "Two", "Ats"),
        person("3", "ok@corp.test", "Ok", "Fine"),
    ]);
    let out = plan_with(
        &env,
        &directory(people, serde_json::json!([])),
        &[
            "person 1: \"not-an-email\" is not an address Dropbox accepts",
            "person 2: \"two@@corp.test\" is not an address Dropbox accepts",
        ],
    );
    assert!(out.contains("+ invite            ok@corp.test"), "{out}");
    apply(&env);
    let state = env.state();
    assert_eq!(state.members.len(), 2, "the admin and ok@ only");
    assert!(state.member_by_email("ok@corp.test").is_some());
}

#[test]
fn duplicate_emails_invite_neither_and_name_both() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([
        person("2", "dup@corp.test", "Dup", "One"),
        person("3", "dup@corp.test", "Dup", "Two"),
    ]);
    let out = plan_with(
        &env,
        &directory(people, serde_json::json!([])),
        &[
            "dup@corp.test: 2 directory users share this email (person 2; person 3); none of them is invited",
        ],
    );
    assert!(!out.contains("+ invite"), "{out}");
}

#[test]
fn emails_differing_only_in_case_are_one_email() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([
        person("4", "Case@Corp.test", "Case", "Upper"),
        person("5", "case@corp.test", "Case", "Lower"),
    ]);
    let out = plan_with(
        &env,
        &directory(people, serde_json::json!([])),
        &[
            "case@corp.test: 2 directory users share this email (person 4; person 5); none of them is invited",
        ],
    );
    assert!(!out.contains("+ invite"), "{out}");
    // And a team member whose email differs only in case is that user, not a new invite.
    let env = Env::new(&seed(serde_json::json!({"members": [
        {"email": "admin@corp.test", "is_admin": true},
        {"email": "MIXED@Corp.Test", "given_name": "Mix", "surname": "Ed"}
    ]})));
    let out = plan_with(
        &env,
        &directory(
            serde_json::json!([person("6", "mixed@corp.test", "Mix", "Ed")]),
            serde_json::json!([]),
        ),
        &[],
    );
    assert!(
        !out.contains("+ invite"),
        "adopted, not invited again: {out}"
    );
    apply(&env);
    let state = env.state();
    assert_eq!(state.members.len(), 2);
    assert_eq!(
        state
            .member_by_email("mixed@corp.test")
            .unwrap()
            .external_id
            .as_deref(),
        Some("teamsync:6")
    );
}

#[test]
fn surrounding_spaces_in_emails_are_trimmed() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([person("7", "  spaced@corp.test \t", "Spa", "Ced")]);
    let out = plan_with(&env, &directory(people, serde_json::json!([])), &[]);
    assert!(
        out.contains("+ invite            spaced@corp.test\n"),
        "{out}"
    );
    apply(&env);
    let state = env.state();
    assert_eq!(
        state.member_by_email("spaced@corp.test").unwrap().email,
        "spaced@corp.test"
    );
}

#[test]
fn forbidden_characters_in_names_are_dropped_and_named() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([person("8", "forbid@corp.test", "A/B:C?*", "<D>\"E|")]);
    plan_with(
        &env,
        &directory(people, serde_json::json!([])),
        &[
            "forbid@corp.test: given name \"A/B:C?*\" is sent as \"ABC\"",
            "forbid@corp.test: surname \"<D>\"E|\" is sent as \"DE\"",
        ],
    );
    apply(&env);
    let member = env
        .state()
        .member_by_email("forbid@corp.test")
        .cloned()
        .unwrap();
    assert_eq!(
        (member.given_name.as_str(), member.surname.as_str()),
        ("ABC", "DE")
    );
}

#[test]
fn names_longer_than_50_are_cut_on_a_character_boundary_and_named() {
    let env = Env::new(&admin_only());
    let long_given = "G".repeat(60);
    // 49 ASCII letters then multi-byte characters: the cut must not split one.
    let long_surname = format!("{}ééé", "s".repeat(49));
    let people = serde_json::json!([person("9", "long@corp.test", &long_given, &long_surname)]);
    plan_with(
        &env,
        &directory(people, serde_json::json!([])),
        &[
            &format!(
                "long@corp.test: given name \"{long_given}\" is sent as \"{}\"",
                "G".repeat(50)
            ),
            &format!(
                "long@corp.test: surname \"{long_surname}\" is sent as \"{}é\"",
                "s".repeat(49)
            ),
        ],
    );
    apply(&env);
    let member = env
        .state()
        .member_by_email("long@corp.test")
        .cloned()
        .unwrap();
    assert_eq!(member.given_name.chars().count(), 50);
    assert_eq!(member.surname, format!("{}é", "s".repeat(49)));
}

#[test]
fn unicode_names_combining_marks_rtl_and_emoji_are_kept_exactly() {
    let env = Env::new(&admin_only());
    let cases = [
        ("10", "comb@corp.test", "Zoe\u{301}", "Mu\u{308}ller"),
        (
            "11",
            "rtl@corp.test",
            "\u{5e9}\u{5dc}\u{5d5}\u{5dd}",
            "\u{202e}cba",
        ),
        ("12", "emoji@corp.test", "😀 Emo", "Ji 🎉"),
        ("13", "cjk@corp.test", "太郎", "山田"),
    ];
    let people: Vec<serde_json::Value> = cases
        .iter()
        .map(|(i, e, g, s)| person(i, e, g, s))
        .collect();
    let out = plan_with(
        &env,
        &directory(serde_json::json!(people), serde_json::json!([])),
        &[],
    );
    assert!(!out.contains("is sent as"), "no name was changed: {out}");
    apply(&env);
    let state = env.state();
    for (_, email, given, surname) in cases {
        let member = state.member_by_email(email).unwrap();
        assert_eq!(
            (member.given_name.as_str(), member.surname.as_str()),
            (given, surname),
            "{email}"
        );
    }
    // A second run sees no difference (no normalisation ping-pong).
    let output = env.run(&["plan"]);
    assert!(
        stdout(&output).contains("No changes"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn empty_groups_are_created_empty() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([person("1", "a@corp.test", "A", "A")]);
    let groups = serde_json::json!([{"name": "Empty", "id": "g-empty", "groups": ["Staff"]}]);
    let out = plan_with(&env, &directory(people, groups), &[]);
    assert!(out.contains("+ create group      Empty"), "{out}");
    apply(&env);
    assert!(
        env.state()
            .group_by_name("Empty")
            .unwrap()
            .members
            .is_empty()
    );
}

#[test]
fn group_cycles_and_a_group_containing_itself_are_tolerated() {
    let env = Env::new(&admin_only());
    let people = serde_json::json!([
        {"id": "1", "email": "a@corp.test", "given_name": "A", "surname": "A", "groups": ["Loop B"]},
        {"id": "2", "email": "b@corp.test", "given_name": "B", "surname": "B", "groups": ["Selfish"]},
    ]);
    let groups = serde_json::json!([
        {"name": "Loop A", "id": "g-a", "groups": ["Staff", "Loop B"]},
        {"name": "Loop B", "id": "g-b", "groups": ["Loop A"]},
        {"name": "Selfish", "id": "g-self", "groups": ["Staff", "Selfish"]},
    ]);
    // Each is tolerated and named, in the plan and the run log.
    plan_with(
        &env,
        &directory(people, groups),
        &[
            "these 2 groups contain each other in a cycle",
            "the group contains itself",
        ],
    );
    apply(&env);
    let state = env.state();
    let members = |name: &str| -> Vec<String> {
        state
            .group_by_name(name)
            .unwrap()
            .members
            .iter()
            .map(|m| m.email.clone())
            .collect()
    };
    // Flattened: a is in Loop B directly and in Loop A through Loop B.
    assert_eq!(members("Loop A"), vec!["a@corp.test"]);
    assert_eq!(members("Loop B"), vec!["a@corp.test"]);
    assert_eq!(members("Selfish"), vec!["b@corp.test"]);
}

#[test]
fn ldif_entries_without_email_or_with_a_bad_one_are_named_by_dn() {
    let env = Env::new(&admin_only());
    let ldif = "dn: cn=staff,dc=corp\nobjectClass: groupOfNames\ncn: staff\nentryUUID: g-staff\n\
                member: uid=ann,dc=corp\nmember: uid=dave,dc=corp\nmember: uid=gina,dc=corp\nmember: cn=loop,dc=corp\nmember: cn=staff,dc=corp\n\n\
                dn: cn=loop,dc=corp\nobjectClass: groupOfNames\ncn: loop\nentryUUID: g-loop\nmember: cn=staff,dc=corp\n\n\
                dn: uid=ann,dc=corp\nobjectClass: inetOrgPerson\nuid: ann\nentryUUID: u-ann\nmail: ann@corp.test\ngivenName: Ann\nsn: Lee\n\n\
                dn: uid=dave,dc=corp\nobjectClass: inetOrgPerson\nuid: dave\nentryUUID: u-dave\ngivenName: Dave\nsn: NoMail\n\n\
                dn: uid=gina,dc=corp\nobjectClass: inetOrgPerson\nuid: gina\nentryUUID: u-gina\nmail: gina at example\ngivenName: Gina\nsn: Bad\n";
    env.file_config(
        "people.ldif",
        ldif,
        "user_roots = [\"cn=staff,dc=corp\"]",
        "",
    );
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    for warning in [
        "uid=dave,dc=corp: no email address",
        "uid=gina,dc=corp: unusable email in mail: \"gina at example\"",
    ] {
        assert!(out.contains(warning), "{warning:?} missing:\n{out}");
        assert!(env.log().contains(warning), "{warning:?} not in the log");
    }
    assert!(out.contains("+ invite            ann@corp.test"), "{out}");
    assert_eq!(out.matches("+ invite").count(), 1, "{out}");
}

#[test]
fn unreadable_config_is_exit_3_naming_the_file() {
    let env = Env::new(&admin_only());
    std::fs::create_dir(env.path("a-directory.toml")).unwrap();
    std::fs::write(env.path("latin1.toml"), b"log_file = \"caf\xe9.log\"\n").unwrap();
    std::fs::write(env.path("garbage.toml"), b"\x00\x01 garbage [[[").unwrap();
    for (name, message) in [
        ("missing.toml", "No such file"),
        ("a-directory.toml", "Is a directory"),
        ("latin1.toml", "valid UTF-8"),
        ("garbage.toml", "TOML parse error at line 1"),
    ] {
        let path = env.path(name);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", path.to_str().unwrap(), "plan"])
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        show(&[name], &output);
        let err = stderr(&output);
        assert_eq!(code(&output), 3, "{name}: {err}");
        assert!(err.contains(name) && err.contains(message), "{name}: {err}");
    }
}

#[test]
fn config_with_unknown_keys_is_exit_3_naming_key_and_line() {
    let env = Env::new(&admin_only());
    let people = directory(
        serde_json::json!([person("1", "a@corp.test", "A", "A")]),
        serde_json::json!([]),
    );
    for (directory_extra, extra, key, line) in [
        ("", "frobnicate = 1\n", "frobnicate", None),
        ("colour = \"blue\"", "", "colour", None),
        ("", "\n[policy]\nwipe_dat = false\n", "wipe_dat", None),
        ("", "\n[tema]\nx = 1\n", "tema", None),
        (
            "[directory.attributes]\nemial = [\"mail\"]",
            "",
            "emial",
            None,
        ),
    ] {
        let path = env.file_config("people.json", &people, directory_extra, extra);
        let text = std::fs::read_to_string(&path).unwrap();
        let expected_line = line.unwrap_or_else(|| {
            text.lines()
                .position(|l| l.starts_with(key) || l.starts_with(&format!("[{key}]")))
                .unwrap()
                + 1
        });
        let output = env.run(&["plan"]);
        let err = stderr(&output);
        assert_eq!(code(&output), 3, "{key}: {err}");
        assert!(err.contains(&format!("`{key}`")), "{key}: {err}");
        assert!(
            err.contains(&format!("line {expected_line}")),
            "{key} at line {expected_line}: {err}"
        );
        assert_eq!(env.write_calls(), 0);
    }
}

#[test]
fn unreadable_secrets_are_exit_3_naming_the_key() {
    let env = Env::new(&admin_only());
    let people = directory(
        serde_json::json!([person("1", "a@corp.test", "A", "A")]),
        serde_json::json!([]),
    );
    env.file_config("people.json", &people, "", "");
    let path = env.path("teamsync.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    for replacement in [
        "token = { env = \"TEAMSYNC_UNSET_VARIABLE_FOR_TEST\" }",
        "token = { file = \"/nonexistent/token\" }",
    ] {
        write_private(
            &path,
            &text.replace(&format!("token = {{ env = \"{TOKEN_VAR}\" }}"), replacement),
        );
        let output = env.run(&["plan"]);
        let err = stderr(&output);
        assert_eq!(code(&output), 3, "{replacement}: {err}");
        assert!(err.contains("team.token"), "{replacement}: {err}");
        let named = if replacement.contains("env") {
            "TEAMSYNC_UNSET_VARIABLE_FOR_TEST"
        } else {
            "/nonexistent/token"
        };
        assert!(err.contains(named), "{replacement}: {err}");
    }
}

/// Mints an access token through the refresh grant (it expires after the emulator's TTL).
fn short_lived_token(env: &Env) -> String {
    let emu = env.emulator();
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", &emu.refresh_token())
        .append_pair("client_id", &emu.app_key())
        .append_pair("client_secret", &emu.app_secret())
        .finish();
    let url = format!("{}/oauth2/token", emu.base_url());
    let text = env.runtime.block_on(async move {
        reqwest::Client::new()
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn expired_token_is_exit_7_saying_so() {
    let env = Env::with_config(
        &admin_only(),
        EmulatorConfig {
            access_token_ttl: Duration::from_secs(1),
            ..EmulatorConfig::default()
        },
    );
    let people = directory(
        serde_json::json!([person("1", "a@corp.test", "A", "A")]),
        serde_json::json!([]),
    );
    env.file_config("people.json", &people, "", "");
    let token = short_lived_token(&env);
    std::thread::sleep(Duration::from_millis(2100));
    for command in ["plan", "check", "apply"] {
        let output = env
            .command(&[command])
            .env(TOKEN_VAR, &token)
            .output()
            .unwrap();
        show(&[command], &output);
        let err = stderr(&output);
        assert_eq!(code(&output), 7, "{command}: {err}");
        assert!(err.contains("expired_access_token"), "{command}: {err}");
    }
    assert_eq!(env.write_calls(), 0);
}

#[test]
fn token_without_the_needed_scopes_is_exit_7_naming_the_route() {
    let env = Env::new(&admin_only());
    let people = directory(
        serde_json::json!([person("1", "a@corp.test", "A", "A")]),
        serde_json::json!([]),
    );
    env.file_config("people.json", &people, "", "");
    // Can read members but not groups: the snapshot fails on the first groups route.
    let token = env
        .emulator()
        .token_with_scopes(&["team_info.read", "members.read"]);
    let output = env
        .command(&["apply"])
        .env(TOKEN_VAR, &token)
        .output()
        .unwrap();
    show(&["apply"], &output);
    let err = stderr(&output);
    assert_eq!(code(&output), 7, "{err}");
    assert!(
        err.contains("missing_scope") && err.contains("team/groups/list"),
        "{err}"
    );
    assert_eq!(env.write_calls(), 0);
    // Can read everything but not write: the snapshot passes, every write fails, named.
    let token =
        env.emulator()
            .token_with_scopes(&["team_info.read", "members.read", "groups.read"]);
    let output = env
        .command(&["apply"])
        .env(TOKEN_VAR, &token)
        .output()
        .unwrap();
    show(&["apply"], &output);
    let (out, err) = (stdout(&output), stderr(&output));
    // The plan is applied and each write fails by name (exit 11, not 7: the credentials were
    // accepted for reading).
    assert_eq!(code(&output), 11, "{err}");
    assert!(
        out.contains(
            "failed: invite a@corp.test: team/members/add_v2: authentication failed (missing_scope: the token lacks the members.write scope)"
        ),
        "{out}\n{err}"
    );
    assert_eq!(env.state().members.len(), 1, "nothing was written");
}

#[test]
fn token_without_the_needed_scopes_names_the_scope() {
    let env = Env::new(&admin_only());
    let people = directory(
        serde_json::json!([person("1", "a@corp.test", "A", "A")]),
        serde_json::json!([]),
    );
    env.file_config("people.json", &people, "", "");
    let token = env
        .emulator()
        .token_with_scopes(&["team_info.read", "members.read"]);
    let output = env
        .command(&["plan"])
        .env(TOKEN_VAR, &token)
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("groups.read"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn team_at_its_license_limit_fails_each_invite_by_name_with_exit_11() {
    // Three licences, one taken: two of the four invitations fit.
    let env = Env::new(&seed(serde_json::json!({
        "license_limit": 3,
        "members": [{"email": "admin@corp.test", "is_admin": true}]
    })));
    let people: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            person(
                &i.to_string(),
                &format!("u{i}@corp.test"),
                "U",
                &i.to_string(),
            )
        })
        .collect();
    env.file_config(
        "people.json",
        &directory(serde_json::json!(people), serde_json::json!([])),
        "",
        "",
    );
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 11, "{}", stderr(&output));
    let out = stdout(&output);
    let failed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("failed: invite"))
        .collect();
    assert_eq!(failed.len(), 2, "{out}");
    for line in &failed {
        assert!(
            line.contains("team_license_limit") && line.contains("@corp.test"),
            "{line}"
        );
    }
    assert!(env.log().contains("team_license_limit"));
    assert!(stderr(&output).contains("2 failed"), "{}", stderr(&output));
    assert_eq!(env.state().members.len(), 3);
    // The next run retries only those two, and fails them again the same way.
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 11);
    assert_eq!(stdout(&output).matches("failed: invite").count(), 2);
    assert!(
        env.state()
            .members
            .iter()
            .all(|m| m.status != MemberStatus::Suspended)
    );
}

/// Issue 11: one id of 65+ characters or one group name two groups share no longer fails the
/// whole read. The entries are held: their members and groups are left exactly as they are,
/// each is named in the plan's warnings, and the joiner and the leaver are processed.
#[test]
fn an_unusable_id_and_a_shared_group_name_are_held_and_the_rest_is_synced() {
    let env = Env::new(&admin_only());
    let people = |bob_id: &str, last: (&str, &str)| {
        serde_json::json!([
            person("1", "ann@corp.test", "Ann", "A"),
            person(bob_id, "bob@corp.test", "Bob", "B"),
            {"id": "3", "email": "cy@corp.test", "given_name": "Cy", "surname": "C", "groups": ["Eng"]},
            {"id": "4", "email": "dee@corp.test", "given_name": "Dee", "surname": "D", "groups": ["Platform"]},
            person(last.0, last.1, "Last", "L"),
        ])
    };
    let eng = serde_json::json!({"name": "Eng", "id": "g-eng", "groups": ["Staff"]});
    let platform = serde_json::json!({"name": "Platform", "id": "g-platform", "groups": ["Eng"]});
    plan_with(
        &env,
        &directory(
            people("2", ("5", "old@corp.test")),
            serde_json::json!([eng, platform]),
        ),
        &[],
    );
    apply(&env);
    let before = env.state();
    assert_eq!(before.members.len(), 6);

    let long_id = "b".repeat(65);
    let twin = serde_json::json!({"name": "eng", "id": "g-eng-2", "groups": ["Staff"]});
    let out = plan_with(
        &env,
        &directory(
            people(&long_id, ("6", "new@corp.test")),
            serde_json::json!([eng, platform, twin]),
        ),
        &[
            "person bob@corp.test (id \"bbbb",
            "a directory id may be at most 64 characters, this one has 65",
            "group \"Eng\": 2 groups are named \"Eng\" (ids \"g-eng\", \"g-eng-2\")",
            "group \"Platform\": it is beneath a group that is skipped",
            "person 3: in group \"Eng\", which is skipped",
            "person 4: in group \"Platform\", which is skipped",
        ],
    );
    assert!(out.contains("+ invite            new@corp.test"), "{out}");
    assert!(out.contains("- remove            old@corp.test"), "{out}");
    assert!(out.contains("Plan: 2 operations"), "{out}");
    apply(&env);
    let after = env.state();
    // Nobody but the joiner and the leaver changed; the held groups kept every member.
    for email in [
        "admin@corp.test",
        "ann@corp.test",
        "bob@corp.test",
        "cy@corp.test",
        "dee@corp.test",
    ] {
        assert_eq!(
            before.member_by_email(email),
            after.member_by_email(email),
            "{email} changed"
        );
    }
    // old@ never joined: the leaver's invitation is withdrawn.
    assert_eq!(
        after.member_by_email("old@corp.test").map(|m| m.status),
        Some(MemberStatus::Removed)
    );
    assert!(after.member_by_email("new@corp.test").is_some());
    for group in ["Eng", "Platform"] {
        assert_eq!(
            before.group_by_name(group),
            after.group_by_name(group),
            "{group} changed"
        );
    }
}
