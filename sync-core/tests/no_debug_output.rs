//! No Rust debug formatting reaches a person: a plan built to raise as many kinds of warning
//! as one run can, from names holding quotes and backslashes, renders its table, warnings,
//! reasons and consequences without `Some(`, `None`, `{ `, `Duration` or `\"`.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::collections::BTreeSet;

use common::*;
use teamsync_core::*;

/// What Rust's `{:?}` leaves in text meant for people.
pub const DEBUG_ARTIFACTS: &[&str] = &["Some(", "None", "{ ", "Duration", "\\\""];

fn assert_for_people(what: &str, text: &str) {
    for artifact in DEBUG_ARTIFACTS {
        assert!(
            !text.contains(artifact),
            "{what} holds the debug artifact {artifact}: {text}"
        );
    }
}

/// A directory and team that raise one warning of each kind a single plan can hold.
fn troubled() -> (DesiredState, ActualState) {
    let long_name = format!("Name/With:Bad*Chars \"quoted\" {}", "x".repeat(60));
    let mut users = vec![
        user("u1", "alice@x.test", "Al\"ice", "Sm\\ith"),
        user("u2", "not an email", "Bad", "Email"),
        user("u3", "shared@x.test", "Sha", "Red"),
        user("u4", "shared@x.test", "Also", "Shared"),
        user("u5", "five@x.test", "Five", "First"),
        user("u5", "five.again@x.test", "Five", "Again"),
        user("u6", "six@x.test", &long_name, "Six"),
        user("u7", "foreign@x.test", "For", "Eign"),
        user(&"9".repeat(60), "long.id@x.test", "Long", "Id"),
    ];
    users.push(user("u8", "taken@x.test", "Ta", "Ken"));
    let mut desired = directory(
        users,
        vec![
            group("g-cyc1", "Cycle \"One\"", &["g-cyc2", "u1"]),
            group("g-cyc2", "Cycle Two", &["g-cyc1"]),
            group("g-dup", "Dup \\ One", &["u1"]),
            group("g-dup", "Dup Two", &["u1"]),
            group("g-mkt", "Marketing", &["u1"]),
            group("g-bad", "", &["u1"]),
        ],
        &[
            "u1",
            "u2",
            "u3",
            "u4",
            "u5",
            "u6",
            "u7",
            "u8",
            "g-cyc1",
            "g-dup",
            "g-mkt",
            "g-bad",
            &"9".repeat(60),
        ],
    );
    desired.user_roots.push(sid("missing \"root\""));
    desired.group_roots = desired.user_roots.clone();
    desired.issues.push(SourceIssue {
        entry: "person \"u-held\"".into(),
        problem: "the entry has two ids".into(),
        id: Some(sid("u-held")),
        email: None,
    });
    let mut members = vec![
        managed(
            "m1",
            "u1",
            "alice@x.test",
            "Alice",
            "Smith",
            MemberStatus::Active,
        ),
        member(
            "m7",
            "foreign@x.test",
            Some("other-tool:7"),
            "For",
            "Eign",
            MemberStatus::Active,
        ),
        member(
            "m-bad",
            "bad.id@x.test",
            Some("teamsync:"),
            "Bad",
            "Id",
            MemberStatus::Active,
        ),
        managed(
            "m-held",
            "u-held",
            "held@x.test",
            "He",
            "Ld",
            MemberStatus::Active,
        ),
    ];
    let mut admin = managed(
        "m-admin",
        "gone-admin",
        "admin@x.test",
        "Ad",
        "Min",
        MemberStatus::Active,
    );
    admin.is_admin = true;
    members.push(admin);
    // More leavers than the guard allows.
    for n in 0..30 {
        members.push(managed(
            &format!("m-leaver-{n}"),
            &format!("leaver-{n}"),
            &format!("leaver{n}@x.test"),
            "Lea",
            "Ver",
            MemberStatus::Active,
        ));
    }
    let mut marketing = team_group("tg-mkt", "Marketing", None, &["m1"]);
    marketing.management_type = ManagementType::UserManaged;
    let managed_group = team_group("tg-old", "Old \"Group\"", Some("teamsync:g-old"), &["m1"]);
    (desired, team(members, vec![marketing, managed_group]))
}

#[test]
fn every_warning_reason_and_consequence_reads_as_words() {
    let (desired, actual) = troubled();
    let plan = plan(&desired, &actual, &Policy::default()).unwrap();
    let rendered = plan.render();
    assert_for_people("the plan table", &rendered);
    for w in &plan.warnings {
        assert_for_people("a warning", &format!("{}: {}", w.subject, w.message));
    }
    for op in &plan.operations {
        assert_for_people("a reason", &op.reason);
        assert_for_people("a target", &op.target);
        assert_for_people("an observed state", &op.before.to_string());
        assert_for_people("an observed state", &op.after.to_string());
        if let Some(c) = op.consequence() {
            assert_for_people("a consequence", &c);
        }
    }
    let kinds: BTreeSet<String> = plan
        .warnings
        .iter()
        .map(|w| format!("{:?}", w.kind))
        .collect();
    eprintln!("warning kinds raised: {kinds:?}");
    for wanted in [
        "SourceIssue",
        "DuplicateUserId",
        "DuplicateGroupId",
        "UnknownRoot",
        "GroupCycle",
        "InvalidEmail",
        "EmailCollision",
        "ExternalIdTooLong",
        "NameCleaned",
        "ForeignMember",
        "AdminProtected",
        "HeldMember",
        "GroupNameConflict",
        "GroupNameInvalid",
        "MalformedExternalId",
        "GuardLimit",
    ] {
        assert!(
            kinds.contains(wanted),
            "no {wanted} warning: {kinds:?}\n{rendered}"
        );
    }
    // The quotes in the names are shown as they are, not escaped.
    assert!(rendered.contains("Al\"ice"), "{rendered}");
}

/// The warning kinds [`troubled`] cannot raise under the default policy: an invited member
/// whose profile changed, an address another directory id holds, an unmanaged member with
/// `manage_existing_users` off, and a synced group with members outside user scope (strict
/// and not).
#[test]
fn the_other_warning_kinds_read_as_words_too() {
    let desired = {
        let mut d = directory(
            vec![
                user("u1", "one@x.test", "O\"ne", "Fir\\st"),
                user("u2", "unmanaged@x.test", "Un", "Managed"),
                user("u3", "taken@x.test", "Ta", "Ken"),
                user("u4", "invited@x.test", "New \"Name\"", "Changed"),
                user("u-out", "out@x.test", "Out", "Side"),
            ],
            vec![
                group("g-s", "Strict \"Group\"", &["u1", "u-out"]),
                group("g-synced", "Synced", &["g-s"]),
            ],
            &["u1", "u2", "u3", "u4"],
        );
        // Group roots sync the groups beneath them.
        d.group_roots = vec![sid("g-synced")];
        d
    };
    let actual = team(
        vec![
            managed(
                "m1",
                "u1",
                "one@x.test",
                "O\"ne",
                "Fir\\st",
                MemberStatus::Active,
            ),
            member(
                "m-un",
                "unmanaged@x.test",
                None,
                "Un",
                "Managed",
                MemberStatus::Active,
            ),
            managed(
                "m-other",
                "u-other",
                "taken@x.test",
                "Ta",
                "Ken",
                MemberStatus::Active,
            ),
            managed(
                "m4",
                "u4",
                "invited@x.test",
                "Old",
                "Name",
                MemberStatus::Invited,
            ),
        ],
        vec![],
    );
    let mut kinds = BTreeSet::new();
    for strict in [false, true] {
        let policy = Policy::default()
            .with_manage_existing_users(false)
            .with_group_sync(GroupSync::GroupRoots)
            .with_strict_group_scope(strict);
        let plan = plan(&desired, &actual, &policy).unwrap();
        assert_for_people("the plan table", &plan.render());
        for w in &plan.warnings {
            assert_for_people("a warning", &format!("{}: {}", w.subject, w.message));
            kinds.insert(format!("{:?}", w.kind));
        }
        for op in &plan.operations {
            assert_for_people("a reason", &op.reason);
        }
    }
    for wanted in [
        "DeferredUpdate",
        "EmailTaken",
        "UnmanagedMember",
        "GroupMembersOutOfScope",
        "GroupSkipped",
    ] {
        assert!(kinds.contains(wanted), "no {wanted} warning: {kinds:?}");
    }
}

#[test]
fn core_errors_read_as_words() {
    let errors: Vec<String> = vec![
        Email::parse("no \"at\" sign").unwrap_err().to_string(),
        StoreError::rate_limited(Some(std::time::Duration::from_secs(3))).to_string(),
        StoreError::rate_limited(None).to_string(),
        DirectoryError::new(DirectoryErrorKind::RootNotFound, "cn=x").to_string(),
        DirectoryError::new(DirectoryErrorKind::Incomplete, "page 3").to_string(),
        PlanError::NoUsersInScope { roots: 2 }.to_string(),
        {
            let mut p = Policy::default();
            p.external_id_prefix = "\"".repeat(70);
            plan(&DesiredState::default(), &ActualState::default(), &p)
                .unwrap_err()
                .to_string()
        },
    ];
    for e in &errors {
        assert_for_people("an error", e);
    }
}
