//! Entries the directory cannot give a usable id (empty, over 64 characters) are held and
//! reported; the rest of the directory is read and planned as usual (issue 11).
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::*;

use MemberStatus::Active;

fn desired_json(bad_id: &str) -> String {
    format!(
        r#"{{
        "user_roots": ["root", ""],
        "users": [
            {{"id": "zed", "email": "zed@x.com", "given_name": "Zed", "surname": "Last"}},
            {{"id": "new", "email": "new@x.com", "given_name": "New", "surname": "Hire"}},
            {{"id": {bad_id:?}, "email": "Bob@x.com", "given_name": "Bob", "surname": "B"}}
        ],
        "groups": [
            {{"id": "root", "name": "Dropbox Users", "members": ["zed", "new", {bad_id:?}, ""]}},
            {{"id": "", "name": "Nameless id"}}
        ]
    }}"#
    )
}

#[test]
fn a_bad_id_is_an_issue_not_a_failed_read() {
    for bad in ["", "   ", &"x".repeat(65)] {
        let d: DesiredState = serde_json::from_str(&desired_json(bad)).unwrap();
        assert_eq!(d.users.len(), 2, "{bad:?}");
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.user_roots, [sid("root")]);
        assert_eq!(d.issues.len(), 2, "{:?}", d.issues);
        let user_issue = d.issues.iter().find(|i| i.email.is_some()).unwrap();
        assert_eq!(user_issue.email.as_deref(), Some("Bob@x.com"));
        assert!(
            user_issue.entry.starts_with("user Bob@x.com (id "),
            "{}",
            user_issue.entry
        );
        assert!(
            user_issue.problem.contains("this entry is skipped"),
            "{}",
            user_issue.problem
        );
        let group_issue = d.issues.iter().find(|i| i.email.is_none()).unwrap();
        assert!(
            group_issue.entry.starts_with("group \"Nameless id\""),
            "{}",
            group_issue.entry
        );
    }
}

#[test]
fn the_member_of_an_entry_with_a_bad_id_is_held_and_the_rest_is_planned() {
    let d: DesiredState = serde_json::from_str(&desired_json(&"x".repeat(65))).unwrap();
    // bob's member still carries his old id; a leaver (old) is still processed.
    let a = team(
        vec![
            managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active),
            managed("dbmid:bob", "bob-old-id", "bob@x.com", "Bob", "B", Active),
            managed("dbmid:old", "old", "old@x.com", "Old", "Timer", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(
        ops(&p),
        [
            "invite new@x.com (teamsync:new New Hire)",
            "suspend old@x.com wipe=true"
        ]
    );
    let held = p
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::HeldMember)
        .unwrap();
    assert_eq!(held.subject, "bob@x.com");
    assert!(
        p.warnings
            .iter()
            .any(|w| w.kind == WarningKind::SourceIssue
                && w.message.contains("at most 64 characters"))
    );
}
