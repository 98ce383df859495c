//! Saved plans that cannot be forged (issue 11), through the real binary: a plan file is input,
//! not authority. Tampered operations, a plan for another team, an old plan, a plan the
//! directory no longer agrees with and a file that is not a plan are each refused with exit 14
//! (exit 9 when only the recomputed guard objects), and nothing is written to the team.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::*;

fn admin_only() -> teamsync_dropbox_emulator::TeamSeed {
    seed(json!({
        "members": [
            {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true},
            {"email": "outsider@corp.test", "given_name": "Out", "surname": "Sider", "external_id": "other-tool:7"}
        ]
    }))
}

/// `users` people synced and accepted: the next plan is empty. `emulator_seed` tells two teams
/// apart (it seeds the team's id).
fn synced_with(users: usize, emulator_seed: u64) -> Env {
    let config = teamsync_dropbox_emulator::EmulatorConfig {
        seed: emulator_seed,
        ..Default::default()
    };
    let env = Env::with_config(&admin_only(), config);
    let directory = serde_json::to_string(&simple_directory(users, 4)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    env.emulator().accept_invitations(&[]);
    env.emulator().reset_call_counts();
    env
}

fn synced(users: usize) -> Env {
    synced_with(users, 1)
}

fn saved_plan(env: &Env) -> Value {
    let output = env.run(&["plan", "--out", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    serde_json::from_str(&std::fs::read_to_string(env.path("plan.json")).unwrap()).unwrap()
}

fn write_plan(env: &Env, plan: &Value) {
    std::fs::write(
        env.path("plan.json"),
        serde_json::to_string_pretty(plan).unwrap(),
    )
    .unwrap();
}

/// A suspension as the planner writes it, made by hand as an attacker would: `before` matches
/// the member as the team shows it, so the plan is not stale.
fn suspend(selector: Value, email: &str, given: &str, surname: &str, external_id: &str) -> Value {
    let mut before = json!({"state": "member", "email": email, "given_name": given, "surname": surname, "status": {"state": "active"}});
    if !external_id.is_empty() {
        before["external_id"] = json!(external_id);
    }
    json!({
        "phase": "deprovision",
        "kind": "suspend",
        "member": selector,
        "wipe_data": true,
        "target": email,
        "before": before,
        "after": before,
        "reason": "added by hand"
    })
}

fn suspend_managed(i: usize) -> Value {
    suspend(
        json!({"by": "external_id", "value": format!("teamsync:p{i:04}")}),
        &format!("p{i:04}@corp.test"),
        &format!("Given{i}"),
        &format!("Sur{i}"),
        &format!("teamsync:p{i:04}"),
    )
}

fn assert_refused(env: &Env, args: &[&str], expect_code: i32, needle: &str) {
    let output = env.run(args);
    assert_eq!(code(&output), expect_code, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(needle),
        "{needle:?} not in:\n{}",
        stderr(&output)
    );
    assert_eq!(env.write_calls(), 0, "a refused plan wrote to the team");
}

#[test]
fn a_reviewed_plan_is_stamped_with_its_team_and_applies() {
    let env = synced(30);
    let directory = serde_json::to_string(&simple_directory(32, 4)).unwrap();
    std::fs::write(env.path("people.json"), directory).unwrap();
    let plan = saved_plan(&env);
    assert_eq!(plan["origin"]["team_id"], env.emulator().state().team_id);
    assert!(plan["origin"]["created_at"].as_u64().unwrap() > 1_700_000_000);
    assert!(
        plan["origin"]["directory"]
            .as_str()
            .unwrap()
            .starts_with("file ")
    );
    let output = env.run(&["apply", "--plan", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(env.write_calls() > 0);
}

#[test]
fn forty_suspensions_appended_to_a_plan_that_says_zero_are_refused_and_the_guard_is_recomputed() {
    let env = synced(100);
    let mut plan = saved_plan(&env);
    assert_eq!(plan["operations"].as_array().unwrap().len(), 0);
    for i in 0..40 {
        plan["operations"]
            .as_array_mut()
            .unwrap()
            .push(suspend_managed(i));
    }
    assert_eq!(plan["guard"]["deprovisions"], 0);
    write_plan(&env, &plan);
    // By default the plan is made again: none of the 40 is what the planner produces now.
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json"],
        14,
        "40 operation(s) refused",
    );
    // Without re-planning, the guard is recomputed from the operations: 40 > 25.
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json", "--no-replan"],
        9,
        "suspends 40 of 100 managed members (limit 25)",
    );
    let state = env.state();
    assert!(
        state
            .members
            .iter()
            .all(|m| m.status != teamsync_dropbox_emulator::MemberStatus::Suspended)
    );
}

#[test]
fn an_operation_on_a_member_teamsync_does_not_own_is_refused_even_without_replanning() {
    let env = synced(10);
    let mut plan = saved_plan(&env);
    plan["operations"].as_array_mut().unwrap().push(suspend(
        json!({"by": "email", "value": "outsider@corp.test"}),
        "outsider@corp.test",
        "Out",
        "Sider",
        "other-tool:7",
    ));
    write_plan(&env, &plan);
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json", "--no-replan"],
        14,
        "a member teamsync does not own",
    );
}

#[test]
fn a_plan_made_for_another_team_is_refused() {
    let env = synced(10);
    let other = synced_with(10, 2);
    assert_ne!(
        env.emulator().state().team_id,
        other.emulator().state().team_id
    );
    let mut plan = saved_plan(&other);
    plan["operations"]
        .as_array_mut()
        .unwrap()
        .push(suspend_managed(1));
    write_plan(&env, &plan);
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json"],
        14,
        "this config reaches team",
    );
}

#[test]
fn an_old_plan_is_refused_past_max_plan_age_and_a_plan_from_the_future_always() {
    let env = synced(10);
    let mut plan = saved_plan(&env);
    let created = plan["origin"]["created_at"].as_u64().unwrap();
    plan["origin"]["created_at"] = json!(created - 7200);
    write_plan(&env, &plan);
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json", "--max-plan-age", "1h"],
        14,
        "more than the allowed 3600s",
    );
    let output = env.run(&["apply", "--plan", "plan.json", "--max-plan-age", "3h"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    plan["origin"]["created_at"] = json!(created + 86_400);
    write_plan(&env, &plan);
    assert_refused(&env, &["apply", "--plan", "plan.json"], 14, "in the future");
}

#[test]
fn a_plan_the_directory_no_longer_agrees_with_is_refused() {
    let env = synced(10);
    // Two joiners are planned…
    let directory = serde_json::to_string(&simple_directory(12, 4)).unwrap();
    std::fs::write(env.path("people.json"), &directory).unwrap();
    saved_plan(&env);
    // …then HR takes them out again before the plan is applied.
    let directory = serde_json::to_string(&simple_directory(10, 4)).unwrap();
    std::fs::write(env.path("people.json"), &directory).unwrap();
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json"],
        14,
        "is not what the planner produces now",
    );
}

#[test]
fn a_file_that_is_not_a_plan_or_has_no_origin_is_refused_with_its_own_code() {
    let env = synced(5);
    std::fs::write(env.path("plan.json"), "{\"format_version\": 1, \"oops\"").unwrap();
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json"],
        14,
        "not a teamsync plan",
    );
    assert_refused(
        &env,
        &["apply", "--plan", "missing.json"],
        14,
        "cannot read it",
    );
    let mut plan = saved_plan(&env);
    plan.as_object_mut().unwrap().remove("origin");
    write_plan(&env, &plan);
    assert_refused(
        &env,
        &["apply", "--plan", "plan.json"],
        14,
        "does not say which team",
    );
}

/// `plan --only … --out`, reviewed, then `apply --plan`: the saved plan holds the named
/// people's operations alone and applies exactly those, though the directory has other
/// changes pending; the re-plan check compares it with a plan restricted to the same people.
#[test]
fn a_saved_plan_for_some_people_applies_only_their_operations() {
    let env = synced(10);
    // Two joiners (p0010, p0011) and a leaver (p0009) are pending…
    let mut directory = simple_directory(12, 4);
    directory["people"].as_array_mut().unwrap().remove(9);
    std::fs::write(env.path("people.json"), directory.to_string()).unwrap();
    // …and the reviewed plan is for p0010 alone.
    let output = env.run(&["plan", "--only", "p0010@corp.test", "--out", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("plan.json")).unwrap()).unwrap();
    let targets: Vec<&str> = plan["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["target"].as_str().unwrap())
        .collect();
    assert!(
        targets.iter().all(|t| t.contains("p0010@corp.test")),
        "{targets:?}"
    );
    assert!(!targets.is_empty());

    // A plan for p0010 with p0011's invitation added by hand is not the plan reviewed: refused,
    // though the planner would invite p0011 in a full plan.
    let full = {
        let output = env.run(&["plan", "--out", "full.json"]);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let full: Value =
            serde_json::from_str(&std::fs::read_to_string(env.path("full.json")).unwrap()).unwrap();
        full
    };
    let invite_p0011 = full["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["target"] == "p0011@corp.test" && op["kind"] == "invite")
        .unwrap()
        .clone();
    let mut tampered = plan.clone();
    tampered["operations"]
        .as_array_mut()
        .unwrap()
        .push(invite_p0011);
    std::fs::write(env.path("tampered.json"), tampered.to_string()).unwrap();
    assert_refused(
        &env,
        &["apply", "--plan", "tampered.json"],
        14,
        "is not what the planner produces now",
    );
    // The leaver's suspension slipped into it is refused too.
    let mut tampered = plan.clone();
    tampered["operations"]
        .as_array_mut()
        .unwrap()
        .push(suspend_managed(9));
    std::fs::write(env.path("tampered.json"), tampered.to_string()).unwrap();
    assert_refused(
        &env,
        &["apply", "--plan", "tampered.json"],
        14,
        "is not what the planner produces now",
    );

    // The reviewed plan applies, and only for p0010.
    let output = env.run(&["apply", "--plan", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let state = env.state();
    assert!(state.member_by_email("p0010@corp.test").is_some());
    assert!(state.member_by_email("p0011@corp.test").is_none());
    assert_eq!(
        state.member_by_email("p0009@corp.test").unwrap().status,
        teamsync_dropbox_emulator::MemberStatus::Active
    );
}
