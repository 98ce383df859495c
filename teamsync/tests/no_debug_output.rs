//! No Rust debug formatting in the errors people read: file sources (JSON, CSV, LDIF) fed
//! names with quotes and backslashes, configs with mistakes, the Dropbox adapter's error of
//! every kind and the run's errors display without `Some(`, `None`, `{ `, `Duration` or `\"`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use teamsync::config::{FileFormat, FileSection};
use teamsync::source::FileDirectory;
use teamsync_core::Directory;

const DEBUG_ARTIFACTS: &[&str] = &["Some(", "None", "{ ", "Duration", "\\\""];

fn assert_for_people(what: &str, text: &str) {
    for artifact in DEBUG_ARTIFACTS {
        assert!(
            !text.contains(artifact),
            "{what} holds the debug artifact {artifact}: {text}"
        );
    }
}

async fn read_error(name: &str, text: &str, format: FileFormat, roots: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let mut section = FileSection::new(&path, format);
    section.user_roots = roots.iter().map(|r| r.to_string()).collect();
    let source = FileDirectory::new(&path, section);
    match source.snapshot().await {
        Ok(state) => {
            // Not an error: then its issues are what people read.
            state
                .issues
                .iter()
                .map(|i| format!("{}: {}", i.entry, i.problem))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn file_source_errors_and_issues_read_as_words() {
    let json_root = read_error(
        "people.json",
        r#"{"user_roots": ["Staff \"HQ\""], "groups": [], "people": []}"#,
        FileFormat::SimpleJson,
        &[],
    )
    .await;
    assert!(json_root.contains("root group"), "{json_root}");
    let json_issues = read_error(
        "people.json",
        r#"{"user_roots": ["Staff"], "groups": [{"name": "Staff", "groups": ["No \"Such\" Group"]}],
            "people": [{"id": "a\"1", "email": "a@x.test", "groups": ["Gh\\ost"]},
                       {"id": "a\"1", "email": "b@x.test", "groups": ["Staff"]}]}"#,
        FileFormat::SimpleJson,
        &[],
    )
    .await;
    assert!(json_issues.contains("unknown group"), "{json_issues}");
    let dup_group = read_error(
        "people.json",
        r#"{"user_roots": ["Staff"], "groups": [{"name": "Sta\"ff"}, {"name": "sta\"ff"}], "people": []}"#,
        FileFormat::SimpleJson,
        &[],
    )
    .await;
    let csv = read_error(
        "people.csv",
        "id,email,enabled,groups\n1,a@x.test,\"ma\"\"ybe\",Staff\n2,b@x.test,yes,Staff\n",
        FileFormat::Csv,
        &["Staff"],
    )
    .await;
    assert!(csv.contains("not one of true/false"), "{csv}");
    let csv_header = read_error(
        "people.csv",
        "\"e\"\"mail\",name\nx,y\n",
        FileFormat::Csv,
        &["Staff"],
    )
    .await;
    let ldif = read_error(
        "export.ldif",
        "dn: cn=a,dc=x\nthis \"line\" has no colon\n",
        FileFormat::Ldif,
        &["cn=staff,dc=x"],
    )
    .await;
    for (what, text) in [
        ("a JSON root error", &json_root),
        ("JSON issues", &json_issues),
        ("a duplicate group", &dup_group),
        ("a CSV issue", &csv),
        ("a CSV header error", &csv_header),
        ("an LDIF error", &ldif),
    ] {
        assert_for_people(what, text);
    }
}

#[test]
fn config_errors_read_as_words() {
    let path = std::path::Path::new("/etc/teamsync/teamsync.toml");
    for toml in [
        "[directory]\nkind = \"file\"\n",
        "[directory]\nkind = \"file\"\npath = \"x.json\"\n[team]\nbase_url = \"ftp://\\\"x\\\"\"\ntoken = { env = \"T\" }\n",
        "[directory]\nkind = \"ldap\"\nurl = \"ldap://x\"\nbase_dn = \"dc=x\"\nuser_roots = [\"dropbox\"]\n[team]\ntoken = { env = \"T\" }\n",
        "[directory]\nkind = \"file\"\npath = \"x.json\"\n[team]\ntoken = { env = \"T\" }\n[policy]\nexternal_id_prefix = \"this prefix is far far far far far far far far far far too long\"\n",
        "[directory]\nkind = \"file\"\npath = \"x.json\"\n[team]\ntoken = { env = \"T\" }\n[policy]\non_leave = \"vanish\"\n",
    ] {
        if let Err(e) = teamsync::Config::from_toml_str(toml, path) {
            assert_for_people("a config error", &e.to_string());
        }
    }
}

#[cfg(feature = "dropbox")]
#[test]
fn dropbox_and_run_errors_read_as_words() {
    use teamsync::dropbox::DropboxError;
    use teamsync_core::{PlanError, StoreError};
    let route = || "team/members/list_v2".to_owned();
    let errors = vec![
        DropboxError::Route {
            route: route(),
            tag: "invalid_cursor".into(),
        },
        DropboxError::Auth {
            route: route(),
            tag: "missing_scope".into(),
            required_scope: Some("members.read".into()),
        },
        DropboxError::Auth {
            route: route(),
            tag: "invalid_access_token".into(),
            required_scope: None,
        },
        DropboxError::AccessDenied {
            route: route(),
            message: "no".into(),
        },
        DropboxError::BadRequest {
            route: route(),
            message: "bad".into(),
        },
        DropboxError::RateLimited {
            route: route(),
            retry_after: Some(Duration::from_millis(3200)),
        },
        DropboxError::RateLimited {
            route: route(),
            retry_after: None,
        },
        DropboxError::Server {
            route: route(),
            status: 503,
            message: "busy".into(),
        },
        DropboxError::UnexpectedStatus {
            route: route(),
            status: 418,
            message: "teapot".into(),
        },
        DropboxError::Transport {
            route: route(),
            message: "reset".into(),
        },
        DropboxError::Decode {
            route: route(),
            message: "garbage".into(),
        },
        DropboxError::JobFailed {
            route: route(),
            message: "failed".into(),
        },
        DropboxError::JobTimedOut {
            route: route(),
            waited: Duration::from_secs(125),
        },
        DropboxError::Incomplete {
            route: route(),
            reason: "cut".into(),
        },
    ];
    for e in errors {
        assert_for_people("a Dropbox error", &e.to_string());
        let store: StoreError = e.into();
        assert_for_people("a store error", &store.to_string());
        assert_for_people(
            "a run error",
            &teamsync::RunError::from_team(store).to_string(),
        );
    }
    let run_errors = [
        teamsync::RunError::NoUsers(PlanError::NoUsersInScope { roots: 1 }),
        teamsync::RunError::Stale {
            count: 2,
            first: "#3 ann@x.test".into(),
        },
    ];
    for e in run_errors {
        assert_for_people("a run error", &e.to_string());
    }
}
