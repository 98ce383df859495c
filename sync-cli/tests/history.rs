//! The run history through the real binary (issue 13): every check, plan and apply leaves a
//! record beside the log; `teamsync history` lists them and `--user` follows one person;
//! `history_keep` prunes; a failed run is recorded with its exit code and error; forged,
//! huge and symlinked files are reported by name and never affect a sync; `--metrics-file`.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::*;

fn admin_only() -> teamsync_dropbox_emulator::TeamSeed {
    seed(serde_json::json!({
        "members": [{"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}]
    }))
}

fn history_dir(env: &Env) -> PathBuf {
    env.path("history")
}

fn record_files(env: &Env) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(history_dir(env))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("run-"))
        .collect();
    files.sort();
    files
}

fn history_json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["history", "--json"];
    all.extend_from_slice(args);
    let output = env.run(&all);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn runs_are_listed_and_one_person_is_followed_across_them() {
    let env = Env::new(&admin_only());
    env.file_config("people.json", &simple_directory(3, 2).to_string(), "", "");
    assert_eq!(code(&env.run(&["check"])), 0);
    assert_eq!(code(&env.run(&["plan"])), 0);
    assert_eq!(code(&env.run(&["apply"])), 0);
    assert_eq!(
        record_files(&env).len(),
        3,
        "one record per run, beside the log"
    );

    let output = env.run(&["history"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows[0].contains("check") && rows[0].contains("3 users, 3 groups"),
        "{text}"
    );
    assert!(
        rows[1].contains("plan") && rows[1].contains("1 member, 0 groups"),
        "{text}"
    );
    assert!(rows[1].contains("8 planned"), "{text}");
    assert!(
        rows[2].contains("apply") && rows[2].contains("8 done"),
        "{text}"
    );

    let listing = history_json(&env, &[]);
    let runs = listing["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[2]["command"], "apply");
    assert_eq!(runs[2]["exit_code"], 0);
    assert_eq!(runs[2]["operations"]["done"], 8);
    assert_eq!(runs[2]["directory"]["users"], 3);
    assert_eq!(runs[2]["team"]["members"], 1);
    assert_eq!(runs[2]["guard"], "within_limits");

    // The record itself: every field the issue asks for.
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_files(&env)[2]).unwrap()).unwrap();
    assert_eq!(record["schema_version"], 1);
    assert_eq!(record["teamsync_version"], env!("CARGO_PKG_VERSION"));
    assert!(record["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(record["ended_at"].as_str().unwrap() >= record["started_at"].as_str().unwrap());
    assert!(record["duration_ms"].is_u64());
    assert!(
        record["config"]
            .as_str()
            .unwrap()
            .ends_with("teamsync.toml")
    );
    assert_eq!(record["guard"]["permission"], "none");

    // By email and by directory id: the same runs.
    let by_email = history_json(&env, &["--user", "P0001@corp.test"]);
    let by_id = history_json(&env, &["--user", "p0001"]);
    assert_eq!(by_email["runs"], by_id["runs"]);
    assert_eq!(by_id["emails"], serde_json::json!(["p0001@corp.test"]));
    let runs = by_id["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        2,
        "plan and apply name p0001; check plans nothing"
    );
    let ops = runs[1]["operations"].as_array().unwrap();
    let kinds: Vec<&str> = ops.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invite", "add_group_member"]);
    assert!(ops.iter().all(|o| o["result"] == "done"));
    let output = env.run(&["history", "--user", "p0001@corp.test"]);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "History of p0001@corp.test (email p0001@corp.test; directory id p0001): 2 runs"
        ),
        "{text}"
    );
    assert!(text.contains("  invite p0001@corp.test: done"), "{text}");
    assert!(
        text.contains("  add to group Team 01: p0001@corp.test: done"),
        "{text}"
    );
    let output = env.run(&["history", "--user", "nobody@corp.test"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains("no run in the history names them"));
}

#[test]
fn history_keep_prunes_the_oldest_records() {
    let env = Env::new(&admin_only());
    env.file_config("people.json", &simple_directory(2, 1).to_string(), "", "");
    // Top-level keys come before the tables.
    let config = std::fs::read_to_string(env.path("teamsync.toml")).unwrap();
    env.write_config(&format!("history_keep = 2\n{config}"));
    for _ in 0..4 {
        assert_eq!(code(&env.run(&["plan"])), 0);
    }
    let files = record_files(&env);
    assert_eq!(files.len(), 2, "{files:?}");
    let listing = history_json(&env, &[]);
    assert_eq!(listing["runs"].as_array().unwrap().len(), 2);
    // history_keep = 0 names the key and its line.
    env.write_config(&format!("history_keep = 0\n{config}"));
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 3);
    assert!(
        stderr(&output).contains("line 1: history_keep: must be at least 1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn failed_runs_are_recorded_with_their_exit_code_and_error() {
    let env = Env::new(&admin_only());
    env.file_config(
        "people.json",
        &simple_directory(30, 2).to_string(),
        "",
        "[policy]\nmax_deprovision = { floor = 2, percent = 0.0 }\n",
    );
    // A bad read: the directory file is missing.
    std::fs::rename(env.path("people.json"), env.path("away.json")).unwrap();
    assert_eq!(code(&env.run(&["plan"])), 5);
    std::fs::rename(env.path("away.json"), env.path("people.json")).unwrap();
    // Apply errors: the token may read but not write.
    let token =
        env.emulator()
            .token_with_scopes(&["team_info.read", "members.read", "groups.read"]);
    let output = env
        .command(&["apply"])
        .env(TOKEN_VAR, &token)
        .output()
        .unwrap();
    assert_eq!(code(&output), 11);
    // A guard refusal: 28 of 30 leave.
    assert_eq!(code(&env.run(&["apply"])), 0);
    env.emulator().accept_invitations(&[]);
    std::fs::write(env.path("people.json"), simple_directory(2, 2).to_string()).unwrap();
    assert_eq!(code(&env.run(&["apply"])), 9);

    let runs = history_json(&env, &[])["runs"].as_array().unwrap().clone();
    let exits: Vec<i64> = runs
        .iter()
        .map(|r| r["exit_code"].as_i64().unwrap())
        .collect();
    assert_eq!(exits, [5, 11, 0, 9]);
    assert!(
        runs[0]["error"].as_str().unwrap().contains("people.json"),
        "{}",
        runs[0]
    );
    assert!(
        runs[0]["directory"].is_null(),
        "the directory was never read"
    );
    assert!(runs[1]["error"].as_str().unwrap().contains("failed"));
    assert!(
        runs[3]["error"]
            .as_str()
            .unwrap()
            .contains("--allow-deprovision")
    );
    assert_eq!(runs[3]["guard"], "refused");
    let not_applied = runs[3]["operations"].as_object().unwrap();
    assert_eq!(
        not_applied.keys().collect::<Vec<_>>(),
        ["not_applied"],
        "nothing ran"
    );
    assert!(not_applied["not_applied"].as_u64().unwrap() >= 28);

    // The failed invite, per person, with the error and attempts.
    let person = history_json(&env, &["--user", "p0000"]);
    let first_apply = &person["runs"][0];
    assert_eq!(first_apply["exit_code"], 11);
    let invite = &first_apply["operations"][0];
    assert_eq!(invite["result"], "failed");
    assert!(
        invite["error"].as_str().unwrap().contains("members.write"),
        "{invite}"
    );
    assert!(invite["attempts"].as_u64().unwrap() >= 1);
    // p0029 was in the refused apply: a suspension, not applied.
    let person = history_json(&env, &["--user", "p0029@corp.test"]);
    let last = person["runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["exit_code"], 9);
    let suspend = last["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "suspend")
        .unwrap_or_else(|| panic!("no suspension: {last}"));
    assert_eq!(suspend["result"], "not_applied");

    // A config that does not load is recorded beside the default log path given.
    env.write_config("this is = = not toml");
    let output = env
        .command(&[
            "plan",
            "--log-file",
            env.path("other/teamsync.log").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&output), 3);
    let other = history_json(
        &env,
        &["--dir", env.path("other/history").to_str().unwrap()],
    );
    assert_eq!(other["runs"][0]["exit_code"], 3);
}

#[test]
fn forged_files_are_reported_by_name_and_never_affect_a_sync() {
    let env = Env::new(&admin_only());
    env.file_config("people.json", &simple_directory(3, 1).to_string(), "", "");
    let clean = env.run(&["plan"]);
    assert_eq!(code(&clean), 0);
    let dir = history_dir(&env);
    std::fs::write(
        dir.join("run-garbage.json"),
        "{\"schema_version\": 1, \"operations\": 7",
    )
    .unwrap();
    std::fs::write(dir.join("run-deep.json"), "[".repeat(1_000_000)).unwrap();
    std::fs::File::create(dir.join("run-huge.json"))
        .unwrap()
        .set_len(teamsync::history::MAX_RECORD_BYTES + 1)
        .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(env.path("teamsync.toml"), dir.join("run-link.json")).unwrap();
    // A well-formed forgery whose names try to rewrite the terminal and forge lines.
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_files(&env)[0]).unwrap()).unwrap();
    forged["command"] = "apply\u{1b}[2J".into();
    forged["error"] = "x\nteamsync: all good".into();
    for op in forged["operations"].as_array_mut().unwrap() {
        if op["kind"] == "invite" && op["email"] == "p0000@corp.test" {
            op["target"] = "p0000@corp.test\u{202e}moc.live".into();
        }
    }
    std::fs::write(dir.join("run-0-forged.json"), forged.to_string()).unwrap();

    let output = env.run(&["history"]);
    assert_eq!(code(&output), 0);
    let (out, err) = (stdout(&output), stderr(&output));
    for name in ["run-garbage.json", "run-deep.json", "run-huge.json"] {
        assert!(
            err.lines()
                .any(|l| l.contains(name) && l.contains("not read")),
            "{name} not reported:\n{err}"
        );
    }
    #[cfg(unix)]
    assert!(
        err.contains("run-link.json not read: it is a symbolic link"),
        "{err}"
    );
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out}"
    );
    assert!(out.contains("apply\\u{1b}[2J"), "{out}");
    assert!(out.contains("error: x\\nteamsync: all good"), "{out}");
    let person = env.run(&["history", "--user", "p0000"]);
    assert!(!stdout(&person).contains('\u{202e}'));
    assert!(stdout(&person).contains("\\u{202e}"), "{}", stdout(&person));
    // JSON lists them too, and keeps the forged names exact.
    let listing = history_json(&env, &[]);
    let unreadable: Vec<&str> = listing["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap())
        .collect();
    assert!(unreadable.contains(&"run-garbage.json"), "{unreadable:?}");
    assert_eq!(listing["runs"][0]["command"], "apply\u{1b}[2J");

    // The sync is the same as before, and still records.
    let again = env.run(&["plan"]);
    assert_eq!(code(&again), 0);
    assert_eq!(stdout(&again), stdout(&clean));
    assert_eq!(record_files(&env).len(), 2 + 5);
}

#[test]
fn the_metrics_file_is_replaced_whole_and_never_written_through_a_link() {
    let env = Env::new(&admin_only());
    env.file_config("people.json", &simple_directory(3, 1).to_string(), "", "");
    let metrics = env.path("teamsync.prom");
    #[cfg(unix)]
    {
        std::fs::write(env.path("victim"), "untouched").unwrap();
        std::os::unix::fs::symlink(env.path("victim"), &metrics).unwrap();
    }
    let output = env.run(&["apply", "--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(code(&output), 0);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("teamsync_last_run_exit_code{command=\"apply\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "teamsync_last_run_operations{command=\"apply\",kind=\"invite\",result=\"done\"} 3\n"
        ),
        "{text}"
    );
    #[cfg(unix)]
    {
        assert_eq!(
            std::fs::read_to_string(env.path("victim")).unwrap(),
            "untouched"
        );
        assert!(
            !std::fs::symlink_metadata(&metrics)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A failed run writes its exit code too.
    std::fs::remove_file(env.path("people.json")).unwrap();
    assert_eq!(
        code(&env.run(&["plan", "--metrics-file", metrics.to_str().unwrap()])),
        5
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("teamsync_last_run_exit_code{command=\"plan\"} 5\n"),
        "{text}"
    );
    assert!(
        !text.contains("teamsync_last_run_directory_users{"),
        "{text}"
    );
    // Only for runs.
    let output = env.run(&["history", "--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(code(&output), 2);
}
