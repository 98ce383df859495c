#![allow(clippy::unwrap_used)]

use super::*;

fn op(
    kind: &str,
    target: &str,
    email: Option<&str>,
    id: Option<&str>,
    result: &str,
) -> OperationRecord {
    OperationRecord {
        kind: kind.into(),
        action: kind.replace('_', " "),
        target: target.into(),
        email: email.map(Into::into),
        directory_id: id.map(Into::into),
        result: result.into(),
        ..OperationRecord::default()
    }
}

fn record(command: &str, ops: Vec<OperationRecord>, exit: u8) -> RunRecord {
    let mut record = RunRecord::begin(command, "teamsync.toml");
    record.operations = ops;
    record.end(exit, (exit != 0).then(|| "it failed".to_owned()));
    record
}

#[test]
fn writes_records_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(dir.path().join("h"), 3);
    let mut written = Vec::new();
    for i in 0..5 {
        let w = history
            .write(&record(&format!("plan{i}"), vec![], 0))
            .unwrap();
        written.push(w);
    }
    assert_eq!(written[3].pruned, 1);
    let (records, unreadable) = history.records().unwrap();
    assert!(unreadable.is_empty(), "{unreadable:?}");
    let commands: Vec<_> = records.iter().map(|(_, r)| r.command.as_str()).collect();
    assert_eq!(commands, ["plan2", "plan3", "plan4"]);
    // Owner-only: records list people and errors.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&written[4].path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_missing_folder_has_no_runs() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(dir.path().join("never"), 3);
    assert!(history.records().unwrap().0.is_empty());
    assert_eq!(history.prune().unwrap(), 0);
}

#[test]
fn forged_files_are_reported_by_name_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(dir.path(), 10);
    history.write(&record("apply", vec![], 0)).unwrap();
    let at = |name: &str| dir.path().join(name);
    std::fs::write(
        at("run-broken.json"),
        "{\"schema_version\": 1, \"operations\": [",
    )
    .unwrap();
    std::fs::write(at("run-deep.json"), "[".repeat(100_000)).unwrap();
    std::fs::write(at("run-future.json"), "{\"schema_version\": 99}").unwrap();
    std::fs::write(at("run-empty.json"), "{}").unwrap();
    std::fs::write(at("run-binary.json"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::write(
        at("run-wrongtype.json"),
        "{\"schema_version\": 1, \"exit_code\": 300}",
    )
    .unwrap();
    std::fs::write(at("notes.txt"), "mine").unwrap();
    std::fs::create_dir(at("run-dir.json")).unwrap();
    let huge = std::fs::File::create(at("run-huge.json")).unwrap();
    huge.set_len(MAX_RECORD_BYTES + 1).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", at("run-link.json")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(at("run-fifo.json"))
            .status()
            .unwrap();
        assert!(made.success());
    }
    let (records, unreadable) = history.records().unwrap();
    assert_eq!(records.len(), 1);
    let problem = |name: &str| {
        unreadable
            .iter()
            .find(|u| u.file == name)
            .map(|u| u.problem.clone())
            .unwrap_or_else(|| panic!("{name} not reported: {unreadable:?}"))
    };
    assert!(problem("run-broken.json").starts_with("not a run record"));
    assert!(problem("run-deep.json").starts_with("not a run record"));
    assert!(problem("run-future.json").contains("newer teamsync"));
    assert!(problem("run-empty.json").contains("no schema_version"));
    assert!(problem("run-binary.json").starts_with("not a run record"));
    assert!(problem("run-wrongtype.json").starts_with("not a run record"));
    assert!(problem("notes.txt").contains("not a run record"));
    assert!(problem("run-dir.json").contains("not a regular file"));
    assert!(problem("run-huge.json").contains("more than the"));
    #[cfg(unix)]
    {
        assert!(problem("run-link.json").contains("symbolic link"));
        assert!(problem("run-fifo.json").contains("not a regular file"));
    }
    // Pruning removes only record names, and a link itself, never its target.
    let history = History::new(dir.path(), 1);
    history.prune().unwrap();
    assert!(at("notes.txt").exists());
    assert!(std::path::Path::new("/etc/passwd").exists());
}

#[test]
fn a_person_is_found_by_email_or_id_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(dir.path(), 10);
    let first = record(
        "apply",
        vec![
            op(
                "invite",
                "alice@corp.example",
                Some("alice@corp.example"),
                Some("u1"),
                "failed",
            ),
            op(
                "invite",
                "bob@corp.example",
                Some("bob@corp.example"),
                Some("u2"),
                "done",
            ),
        ],
        11,
    );
    history.write(&first).unwrap();
    let mut second = record(
        "apply",
        vec![op(
            "add_group_member",
            "Sales: alice@corp.example",
            Some("alice@corp.example"),
            None,
            "done",
        )],
        0,
    );
    second.warnings.push(WarningRecord {
        kind: "email_taken".into(),
        subject: "alice@corp.example".into(),
        message: "taken".into(),
    });
    history.write(&second).unwrap();
    // Her address changed: the update names the new one and her id.
    history
        .write(&record(
            "apply",
            vec![op(
                "update_profile",
                "alice.new@corp.example",
                Some("alice.new@corp.example"),
                Some("u1"),
                "done",
            )],
            0,
        ))
        .unwrap();
    let by_id = history.person("u1").unwrap();
    assert_eq!(by_id.runs.len(), 3, "{by_id:#?}");
    assert_eq!(
        by_id.emails,
        ["alice.new@corp.example", "alice@corp.example"]
    );
    assert_eq!(by_id.directory_ids, ["u1"]);
    assert_eq!(by_id.runs[0].operations.len(), 1);
    assert_eq!(by_id.runs[0].operations[0].result, "failed");
    assert_eq!(by_id.runs[1].warnings.len(), 1);
    let by_email = history.person("ALICE@corp.example").unwrap();
    assert_eq!(by_email.runs.len(), 3);
    let nobody = history.person("carol@corp.example").unwrap();
    assert!(nobody.runs.is_empty());
    assert!(nobody.directory_ids.is_empty());
}

#[test]
fn operations_name_their_person_from_the_plan() {
    use teamsync_core::{DesiredState, DirectoryUser, SourceId};
    let mut desired = DesiredState::default();
    let root = SourceId::new("g-root").unwrap();
    desired.user_roots = vec![root.clone()];
    let user = DirectoryUser::new(
        SourceId::new("u-alice").unwrap(),
        "Alice@Corp.Example",
        "Alice",
        "A",
    );
    let group = teamsync_core::DirectoryGroup {
        id: root,
        name: "Staff".into(),
        members: vec![user.id.clone()],
        locator: None,
    };
    desired.users.push(user);
    desired.groups.push(group);
    let mut policy = teamsync_core::Policy::default();
    policy.group_sync = teamsync_core::GroupSync::UserRoots;
    let plan = teamsync_core::plan(&desired, &Default::default(), &policy).unwrap();
    let mut record = RunRecord::begin("plan", "teamsync.toml");
    record.planned(&plan);
    assert!(!record.operations.is_empty());
    for op in &record.operations {
        if op.kind == "create_group" {
            assert_eq!(op.email, None);
            continue;
        }
        assert_eq!(op.email.as_deref(), Some("alice@corp.example"), "{op:?}");
        assert_eq!(op.result, "planned");
    }
    let invite = record
        .operations
        .iter()
        .find(|o| o.kind == "invite")
        .unwrap();
    assert_eq!(invite.directory_id.as_deref(), Some("u-alice"));
    assert_eq!(record.guard.as_ref().unwrap().verdict, "within_limits");
}

#[test]
fn metrics_escape_label_values() {
    let mut record = record(
        "apply",
        vec![
            op("invite", "a", None, None, "done"),
            op("invite", "b", None, None, "done"),
            op("x\"y\\z\nw", "c", None, None, "failed"),
        ],
        11,
    );
    record.directory_read(5, 2);
    let text = metrics::text(&record);
    assert!(
        text.contains("teamsync_last_run_exit_code{command=\"apply\"} 11\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "teamsync_last_run_operations{command=\"apply\",kind=\"invite\",result=\"done\"} 2\n"
        ),
        "{text}"
    );
    assert!(text.contains("kind=\"x\\\"y\\\\z\\nw\""), "{text}");
    assert!(text.contains("teamsync_last_run_directory_users{command=\"apply\"} 5\n"));
    // Not read: no sample rather than a made-up zero.
    assert!(!text.contains("teamsync_last_run_team_members{"));
    assert_eq!(metrics::escape_label("a\"b"), "a\\\"b");
}

#[test]
fn config_keys_are_checked_with_their_line() {
    let base = "[directory]\nkind = \"file\"\npath = \"people.json\"\n";
    let error = crate::Config::from_toml_str(&format!("history_keep = 0\n{base}"), "/etc/t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("/etc/t.toml: line 1: history_keep: must be at least 1"),
        "{error}"
    );
    let error =
        crate::Config::from_toml_str(&format!("\nhistory_dir = \"\"\n{base}"), "/etc/t.toml")
            .unwrap_err()
            .to_string();
    assert!(
        error.starts_with("/etc/t.toml: line 2: history_dir: a path may not be empty"),
        "{error}"
    );
    let error =
        crate::Config::from_toml_str(&format!("history_keep = \"ten\"\n{base}"), "/etc/t.toml")
            .unwrap_err()
            .to_string();
    assert!(error.contains("line 1: history_keep"), "{error}");
    let config = crate::Config::from_toml_str(
        &format!("history_dir = \"runs\"\nhistory_keep = 5\n{base}"),
        "/etc/teamsync/t.toml",
    )
    .unwrap();
    let history = History::for_config(&config, None);
    assert_eq!(history.folder(), std::path::Path::new("/etc/teamsync/runs"));
    assert_eq!(history.keep(), 5);
    assert!(History::configured(&config).is_some());
    let config = crate::Config::from_toml_str(
        &format!("log_file = \"/var/log/teamsync/teamsync.log\"\n{base}"),
        "/etc/teamsync/t.toml",
    )
    .unwrap();
    let history = History::for_config(&config, None);
    assert_eq!(
        history.folder(),
        std::path::Path::new("/var/log/teamsync/history")
    );
    assert_eq!(history.keep(), DEFAULT_KEEP);
    assert!(History::configured(&config).is_none());
    let history = History::for_config(&config, Some(std::path::Path::new("/tmp/x/run.log")));
    assert_eq!(history.folder(), std::path::Path::new("/tmp/x/history"));
}
