//! What a plan tells the admin beyond its operations (issue 15): consequences in the table, the
//! path a leaver lost, disabled users who cause nothing, honest group counts, and protected
//! admins left untouched.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::*;

use MemberStatus::{Active, Suspended};

fn zed() -> DirectoryUser {
    user("zed", "zed@x.com", "Zed", "Last")
}

fn zed_member() -> TeamMember {
    managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active)
}

fn bob_leaves() -> (DesiredState, ActualState) {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:bob", "bob", "bob@x.com", "Bob", "B", Active),
        ],
        vec![],
    );
    (d, a)
}

#[test]
fn the_table_shows_what_a_suspension_or_removal_does() {
    let (d, a) = bob_leaves();
    let text = plan_ok(&d, &a, &Policy::default()).render();
    assert!(
        text.contains("  - suspend           bob@x.com (devices wiped)\n"),
        "{text}"
    );
    let text = plan_ok(&d, &a, &Policy::default().with_wipe_data(false)).render();
    assert!(text.contains("  - suspend           bob@x.com\n"), "{text}");

    let carol = MemberRef::Email(Email::parse("carol@x.com").unwrap());
    let transfer = Policy::default()
        .with_on_leave(LeaveAction::Remove)
        .with_transfer(RemovalTransfer::Transfer {
            dest: carol.clone(),
            admin: carol,
        });
    let text = plan_ok(&d, &a, &transfer).render();
    assert!(
        text.contains("  - remove            bob@x.com (files to carol@x.com, devices wiped)\n"),
        "{text}"
    );
    let keep = Policy::default()
        .with_on_leave(LeaveAction::Remove)
        .with_transfer(RemovalTransfer::KeepAccount);
    let text = plan_ok(&d, &a, &keep).render();
    assert!(
        text.contains("  - remove            bob@x.com (kept as Basic)\n"),
        "{text}"
    );
}

#[test]
fn a_withdrawn_invitation_has_no_consequence_line() {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let a = team(
        vec![
            zed_member(),
            managed(
                "dbmid:bob",
                "bob",
                "bob@x.com",
                "Bob",
                "B",
                MemberStatus::Invited,
            ),
        ],
        vec![],
    );
    let text = plan_ok(&d, &a, &Policy::default()).render();
    assert!(text.contains("  - remove            bob@x.com\n"), "{text}");
}

#[test]
fn leaving_scope_names_the_lost_path() {
    // Dropbox Users ⊃ Backend; Platform (bob's group) used to be in Backend and no longer is.
    let d = directory(
        vec![zed(), user("bob", "bob@x.com", "Bob", "B")],
        vec![
            group("backend", "Backend", &["zed"]),
            group("platform", "Platform", &["bob"]),
        ],
        &["backend"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:bob", "bob", "bob@x.com", "Bob", "B", Active),
        ],
        vec![
            team_group(
                "g:1",
                "Backend",
                Some("teamsync:backend"),
                &["dbmid:zed", "dbmid:bob"],
            ),
            team_group("g:2", "Platform", Some("teamsync:platform"), &["dbmid:bob"]),
        ],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    let suspend = p
        .operations
        .iter()
        .find(|op| matches!(op.action, Action::Suspend { .. }))
        .unwrap();
    assert_eq!(suspend.target, "bob@x.com");
    assert_eq!(
        suspend.reason,
        "left the directory's user scope: was in Dropbox Users via Backend → Platform; Platform is no longer in Backend"
    );

    // Nothing on the team to tell the path by: the plain reason.
    let (d, a) = bob_leaves();
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(p.operations[0].reason, "left the directory's user scope");
}

#[test]
fn disabled_users_who_cause_nothing_are_listed() {
    let d = directory(
        vec![
            zed(),
            disabled(user("carol", "carol@x.com", "Carol", "C")),
            disabled(user("dave", "Dave@X.com", "Dave", "D")),
        ],
        vec![],
        &["zed", "carol", "dave"],
    );
    let a = team(
        vec![
            zed_member(),
            managed(
                "dbmid:carol",
                "carol",
                "carol@x.com",
                "Carol",
                "C",
                Suspended,
            ),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(
        p.idle,
        [
            IdleUser::new("carol@x.com", "id carol", "already suspended"),
            IdleUser::new("dave@x.com", "id dave", "never invited")
        ]
    );
    let text = p.render();
    assert!(
        text.contains("\ndisabled in the directory, nothing to do (2)\n    carol@x.com (id carol): already suspended\n    dave@x.com (id dave): never invited\n"),
        "{text}"
    );
}

#[test]
fn groups_skipped_for_a_name_conflict_are_not_counted_as_synced() {
    let d = directory(
        vec![zed()],
        vec![
            group("a", "Team", &["zed"]),
            group("b", "team", &["zed"]),
            group("c", "Other", &["zed"]),
        ],
        &["zed", "a", "b", "c"],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert_eq!(p.stats.groups_in_scope, 1);
    assert!(
        p.render()
            .starts_with("Directory: 1 user in scope (1 enabled), 1 group synced."),
        "{}",
        p.render()
    );
}

#[test]
fn a_protected_admin_leaving_scope_keeps_every_membership() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![group("sales", "Sales", &["ann"])],
        &["zed", "sales"],
    );
    let mut boss = managed("dbmid:boss", "boss", "boss@x.com", "B", "Oss", Active);
    boss.is_admin = true;
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
            boss,
        ],
        vec![
            team_group(
                "g:1",
                "Sales",
                Some("teamsync:sales"),
                &["dbmid:ann", "dbmid:boss"],
            ),
            team_group("g:2", "Old", Some("teamsync:old"), &["dbmid:boss"]),
        ],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    let w = p
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::AdminProtected)
        .unwrap();
    assert_eq!(w.subject, "boss@x.com");
    assert!(
        w.message
            .ends_with("left as it is, group memberships included"),
        "{}",
        w.message
    );
    // Allowed to deprovision admins: suspended, and out of the groups like anyone else.
    let p = plan_ok(&d, &a, &Policy::default().with_deprovision_admins(true));
    assert_eq!(
        ops(&p),
        [
            "remove from group Sales: boss@x.com",
            "suspend boss@x.com wipe=true",
            "remove from group Old: boss@x.com"
        ]
    );
}
