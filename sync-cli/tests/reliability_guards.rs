//! Guards end to end through the real binary (issue 7, item 3): a directory read that comes
//! back empty, a filter narrowed by mistake (90% of users vanish; once with a file source at
//! the default limits, once with a real `user_filter` against the slapd fixture), and a root
//! group deleted. In each case nothing is deprovisioned without `--allow-deprovision`/`--force`
//! (or at all, when the read itself is unusable), the message says why, the exit code is the
//! guard's and the emulator records zero write calls.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use support::*;
use teamsync_dropbox_emulator::{MemberStatus, TeamSeed, TeamState};

fn admin_only() -> TeamSeed {
    seed(serde_json::json!({
        "members": [{"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}]
    }))
}

/// Syncs `users` users into a fresh team, accepts every invitation, and returns the env.
fn synced_env(users: usize, groups: usize) -> Env {
    let env = Env::new(&admin_only());
    let directory = serde_json::to_string(&simple_directory(users, groups)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    env.emulator().accept_invitations(&[]);
    env.emulator().reset_call_counts();
    env
}

fn active_count(state: &TeamState) -> usize {
    state
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .count()
}

/// Runs `apply` with each of `args_list` and checks: exit `expected`, zero writes, team
/// unchanged, stderr containing every one of `messages`.
fn assert_refused(env: &Env, args_list: &[&[&str]], expected: i32, messages: &[&str]) {
    let before = env.state();
    for args in args_list {
        let output = env.run(args);
        let err = stderr(&output);
        assert_eq!(code(&output), expected, "{args:?}: {err}");
        for message in messages {
            assert!(err.contains(message), "{args:?}: {message:?} not in: {err}");
        }
        assert_eq!(
            env.write_calls(),
            0,
            "{args:?}: {:?}",
            env.emulator().call_counts()
        );
        assert_eq!(env.state(), before, "{args:?}: the team changed");
        let log = env.log();
        let last = log.trim_end().lines().last().unwrap_or_default().to_owned();
        assert!(
            last.contains(&format!("exit code {expected} (")),
            "the log's last line gives the exit code: {last}"
        );
    }
}

#[test]
fn empty_directory_read_stops_before_planning_even_with_force() {
    let env = synced_env(60, 3);
    // The root group is there, but the read found nobody in it.
    env.file_config(
        "people.json",
        r#"{"user_roots": ["Staff"], "groups": [{"name": "Staff", "id": "g-staff"}], "people": []}"#,
        "",
        "",
    );
    assert_refused(
        &env,
        &[
            &["apply"],
            &["apply", "--force"],
            &["apply", "--allow-deprovision", "1000"],
        ],
        6,
        &["no users in scope"],
    );
    // People in the file, but none of them in the root group.
    let mut directory = simple_directory(60, 3);
    for person in directory["people"].as_array_mut().unwrap() {
        person["groups"] = serde_json::json!([]);
    }
    env.file_config("people.json", &directory.to_string(), "", "");
    assert_refused(
        &env,
        &[&["apply"], &["apply", "--force"]],
        6,
        &["no users in scope"],
    );
    assert_eq!(active_count(&env.state()), 61);
}

#[test]
fn ninety_percent_vanishing_is_refused_until_permitted() {
    let env = synced_env(100, 4);
    // The export now holds the first 10 people only (as a filter narrowed by mistake would).
    let mut directory = simple_directory(100, 4);
    directory["people"].as_array_mut().unwrap().truncate(10);
    env.file_config("people.json", &directory.to_string(), "", "");

    let plan = env.run(&["plan"]);
    assert_eq!(
        code(&plan),
        0,
        "a dry run shows the plan: {}",
        stderr(&plan)
    );
    assert_eq!(env.write_calls(), 0);

    assert_refused(
        &env,
        &[&["apply"], &["apply", "--allow-deprovision", "89"]],
        9,
        &[
            "refused",
            "suspends 90 of 100 managed members (limit 25)",
            "rerun with `--allow-deprovision 90` to allow exactly this, or `--force`",
        ],
    );
    let output = env.run(&["apply", "--allow-deprovision", "90"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let state = env.state();
    assert_eq!(
        state
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Suspended)
            .count(),
        90
    );
    for i in 0..10 {
        assert_eq!(
            state
                .member_by_email(&format!("p{i:04}@corp.test"))
                .unwrap()
                .status,
            MemberStatus::Active
        );
    }
}

#[test]
fn ninety_percent_vanishing_applies_with_force() {
    let env = synced_env(100, 4);
    let mut directory = simple_directory(100, 4);
    directory["people"].as_array_mut().unwrap().truncate(10);
    env.file_config("people.json", &directory.to_string(), "", "");
    assert_refused(&env, &[&["apply"]], 9, &["refused"]);
    let output = env.run(&["apply", "--force"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(active_count(&env.state()), 11);
}

#[test]
fn deleted_user_root_fails_the_read_and_deprovisions_nobody() {
    let env = synced_env(60, 3);
    let mut directory = simple_directory(60, 3);
    // "Staff" (the user root) deleted: its subgroups now hang from nothing.
    let groups = directory["groups"].as_array_mut().unwrap();
    groups.retain(|g| g["name"] != "Staff");
    for g in groups.iter_mut() {
        g["groups"] = serde_json::json!([]);
    }
    env.file_config("people.json", &directory.to_string(), "", "");
    assert_refused(&env, &[&["apply"], &["apply", "--force"]], 5, &["Staff"]);
}

#[test]
fn deleted_group_root_fails_the_read_and_empties_no_group() {
    // Group sync from a separate root "Teams"; the users' root stays.
    let env = Env::new(&admin_only());
    let mut directory = simple_directory(60, 3);
    let groups = directory["groups"].as_array_mut().unwrap();
    groups.push(serde_json::json!({"name": "Teams", "id": "g-teams"}));
    for g in groups.iter_mut() {
        if g["name"].as_str().unwrap().starts_with("Team ") {
            g["groups"] = serde_json::json!(["Staff", "Teams"]);
        }
    }
    let extra = "\n[policy]\ngroup_sync = \"group_roots\"\n";
    env.file_config(
        "people.json",
        &directory.to_string(),
        "group_roots = [\"Teams\"]",
        extra,
    );
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(env.state().groups.len(), 3);
    env.emulator().reset_call_counts();

    let groups = directory["groups"].as_array_mut().unwrap();
    groups.retain(|g| g["name"] != "Teams");
    for g in groups.iter_mut() {
        if g["name"].as_str().unwrap().starts_with("Team ") {
            g["groups"] = serde_json::json!(["Staff"]);
        }
    }
    env.file_config(
        "people.json",
        &directory.to_string(),
        "group_roots = [\"Teams\"]",
        extra,
    );
    assert_refused(&env, &[&["apply"], &["apply", "--force"]], 5, &["Teams"]);
    assert!(env.state().groups.iter().all(|g| g.members.len() == 20));
}

fn slapd_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the OpenLDAP fixture with `scripts/fixtures/slapd.sh start STATE_DIR` \
             and load STATE_DIR/slapd.env (scripts/test.sh does both)"
        )
    })
}

fn ldap_config(env: &Env, user_filter: Option<&str>) {
    let base = slapd_var("TEAMSYNC_SLAPD_BASE");
    slapd_var("TEAMSYNC_SLAPD_BIND_PW");
    let filter = user_filter
        .map(|f| format!("user_filter = \"{f}\"\n"))
        .unwrap_or_default();
    let text = format!(
        "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"ldap\"\n\
         url = \"{}\"\nallow_plaintext_bind = true\nprofile = \"openldap\"\n\
         bind_dn = \"{}\"\nbind_password = {{ env = \"TEAMSYNC_SLAPD_BIND_PW\" }}\nbase_dn = \"{base}\"\n\
         user_roots = [\"cn=dropbox,ou=groups,{base}\"]\n{filter}\n{}\n\
         [policy]\nmax_deprovision = {{ floor = 2, percent = 10.0 }}\n",
        slapd_var("TEAMSYNC_SLAPD_URL"),
        slapd_var("TEAMSYNC_SLAPD_BIND_DN"),
        env.team_section()
    );
    env.write_config(&text);
}

#[test]
fn ldap_user_filter_narrowed_by_mistake_is_refused() {
    if support::slapd_missing("ldap_user_filter_narrowed_by_mistake_is_refused") {
        return;
    }
    let env = Env::new(&admin_only());
    ldap_config(&env, None);
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    env.emulator().accept_invitations(&[]);
    env.emulator().reset_call_counts();
    let synced = active_count(&env.state()) - 1;
    assert!(synced >= 5, "{synced} users synced from the fixture");

    // The filter now matches one user of the population.
    ldap_config(&env, Some("(uid=ann)"));
    assert_refused(
        &env,
        &[&["apply"]],
        9,
        &[
            "refused",
            &format!(
                "suspends {} of {synced} managed members (limit 2)",
                synced - 1
            ),
        ],
    );
    let output = env.run(&["check"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 users in scope") || stdout(&output).contains("1 user in scope"),
        "{}",
        stdout(&output)
    );
}

/// `[team] max_team_members` reaches the client the run builds: a team with more members
/// than it allows is an incomplete read, exit 8 naming the bound, and nothing is written.
#[test]
fn max_team_members_smaller_than_the_team_fails_the_read_with_exit_8() {
    let env = synced_env(6, 2);
    let directory = serde_json::to_string(&simple_directory(6, 2)).unwrap();
    env.file_config("people.json", &directory, "", "max_team_members = 3\n");
    assert_refused(
        &env,
        &[&["apply"], &["apply", "--force"]],
        8,
        &["past 3 entries", "max_team_members"],
    );
    // The same team under the default bound is read and already in sync.
    env.file_config("people.json", &directory, "", "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(env.write_calls(), 0);
}
