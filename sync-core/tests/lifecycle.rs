//! Every cell of DESIGN §3's lifecycle table, each asserting the exact operations planned.
//!
//! Rows: in scope & enabled, in scope & disabled, out of scope, deleted in the directory.
//! Columns: the member's state on the team (absent, active, invited, suspended, removed).
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::*;

use MemberStatus::{Active, Invited, Suspended};
const REMOVED_RECOVERABLE: MemberStatus = MemberStatus::Removed { recoverable: true };
const REMOVED_FOR_GOOD: MemberStatus = MemberStatus::Removed { recoverable: false };

/// Ann (id "ann") is the subject; Zed keeps scope non-empty and already matches the team.
fn dir_with_ann(ann: Option<DirectoryUser>, ann_in_root: bool) -> DesiredState {
    let mut users = vec![user("zed", "zed@x.com", "Zed", "Last")];
    let mut root = vec!["zed"];
    if let Some(a) = ann {
        users.push(a);
        if ann_in_root {
            root.push("ann");
        }
    }
    directory(users, vec![], &root)
}

fn ann() -> DirectoryUser {
    user("ann", "ann@x.com", "Ann", "Lee")
}

fn team_with_ann(status: Option<MemberStatus>) -> ActualState {
    let mut members = vec![managed(
        "dbmid:zed",
        "zed",
        "zed@x.com",
        "Zed",
        "Last",
        Active,
    )];
    if let Some(s) = status {
        members.push(managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", s));
    }
    team(members, vec![])
}

fn run(d: DesiredState, a: ActualState, p: &Policy) -> Vec<String> {
    ops(&plan_ok(&d, &a, p))
}

// ---- in scope, enabled ----

#[test]
fn enabled_absent_is_invited() {
    let got = run(
        dir_with_ann(Some(ann()), true),
        team_with_ann(None),
        &Policy::default(),
    );
    assert_eq!(got, ["invite ann@x.com (teamsync:ann Ann Lee)"]);
}

#[test]
fn enabled_active_same_profile_is_left_alone() {
    assert!(
        run(
            dir_with_ann(Some(ann()), true),
            team_with_ann(Some(Active)),
            &Policy::default()
        )
        .is_empty()
    );
}

#[test]
fn enabled_active_with_changed_profile_is_updated() {
    let mut a = ann();
    a.surname = "Lee-Smith".into();
    a.email = "Ann.Lee@X.com".into();
    let got = run(
        dir_with_ann(Some(a), true),
        team_with_ann(Some(Active)),
        &Policy::default(),
    );
    assert_eq!(
        got,
        ["update profile ann@x.com email=ann.lee@x.com surname=Lee-Smith"]
    );
}

#[test]
fn enabled_invited_waits_and_warns_when_profile_differs() {
    let mut a = ann();
    a.given_name = "Annie".into();
    let p = plan_ok(
        &dir_with_ann(Some(a), true),
        &team_with_ann(Some(Invited)),
        &Policy::default(),
    );
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::DeferredUpdate]);
    assert!(
        plan_ok(
            &dir_with_ann(Some(ann()), true),
            &team_with_ann(Some(Invited)),
            &Policy::default()
        )
        .warnings
        .is_empty()
    );
}

#[test]
fn enabled_suspended_is_unsuspended_then_updated() {
    let mut a = ann();
    a.given_name = "Annie".into();
    let got = run(
        dir_with_ann(Some(a), true),
        team_with_ann(Some(Suspended)),
        &Policy::default(),
    );
    assert_eq!(
        got,
        [
            "unsuspend ann@x.com",
            "update profile ann@x.com given=Annie"
        ]
    );
}

#[test]
fn enabled_removed_recoverable_is_recovered() {
    let got = run(
        dir_with_ann(Some(ann()), true),
        team_with_ann(Some(REMOVED_RECOVERABLE)),
        &Policy::default(),
    );
    assert_eq!(got, ["recover ann@x.com"]);
}

#[test]
fn enabled_removed_for_good_is_invited_again() {
    let got = run(
        dir_with_ann(Some(ann()), true),
        team_with_ann(Some(REMOVED_FOR_GOOD)),
        &Policy::default(),
    );
    assert_eq!(got, ["invite ann@x.com (teamsync:ann Ann Lee)"]);
}

// ---- in scope, disabled ----

#[test]
fn disabled_absent_is_not_invited() {
    assert!(
        run(
            dir_with_ann(Some(disabled(ann())), true),
            team_with_ann(None),
            &Policy::default()
        )
        .is_empty()
    );
}

#[test]
fn disabled_active_is_suspended_with_wipe() {
    let got = run(
        dir_with_ann(Some(disabled(ann())), true),
        team_with_ann(Some(Active)),
        &Policy::default(),
    );
    assert_eq!(got, ["suspend ann@x.com wipe=true"]);
    let no_wipe = Policy::default().with_wipe_data(false);
    let got = run(
        dir_with_ann(Some(disabled(ann())), true),
        team_with_ann(Some(Active)),
        &no_wipe,
    );
    assert_eq!(got, ["suspend ann@x.com wipe=false"]);
}

#[test]
fn disabled_invited_invitation_is_withdrawn_or_left() {
    let got = run(
        dir_with_ann(Some(disabled(ann())), true),
        team_with_ann(Some(Invited)),
        &Policy::default(),
    );
    assert_eq!(got, ["remove ann@x.com wipe=false Plain"]);
    let leave = Policy::default().with_on_invited_deprovision(InvitedDeprovision::Leave);
    assert!(
        run(
            dir_with_ann(Some(disabled(ann())), true),
            team_with_ann(Some(Invited)),
            &leave
        )
        .is_empty()
    );
}

#[test]
fn disabled_suspended_or_removed_is_left_alone() {
    for status in [Suspended, REMOVED_RECOVERABLE, REMOVED_FOR_GOOD] {
        let got = run(
            dir_with_ann(Some(disabled(ann())), true),
            team_with_ann(Some(status)),
            &Policy::default(),
        );
        assert!(got.is_empty(), "{status:?}: {got:?}");
    }
}

// ---- out of scope (still in the directory, not under the root; or gone without a tombstone) ----

#[test]
fn out_of_scope_absent_is_nothing() {
    assert!(
        run(
            dir_with_ann(Some(ann()), false),
            team_with_ann(None),
            &Policy::default()
        )
        .is_empty()
    );
}

#[test]
fn out_of_scope_active_follows_on_leave() {
    let got = run(
        dir_with_ann(Some(ann()), false),
        team_with_ann(Some(Active)),
        &Policy::default(),
    );
    assert_eq!(got, ["suspend ann@x.com wipe=true"]);
    let remove = Policy::default().with_on_leave(LeaveAction::Remove);
    let got = run(
        dir_with_ann(None, false),
        team_with_ann(Some(Active)),
        &remove,
    );
    assert_eq!(got, ["remove ann@x.com wipe=true Plain"]);
}

#[test]
fn out_of_scope_invited_invitation_is_withdrawn() {
    let got = run(
        dir_with_ann(Some(ann()), false),
        team_with_ann(Some(Invited)),
        &Policy::default(),
    );
    assert_eq!(got, ["remove ann@x.com wipe=false Plain"]);
}

#[test]
fn out_of_scope_suspended_is_removed_only_when_on_leave_is_remove() {
    assert!(
        run(
            dir_with_ann(Some(ann()), false),
            team_with_ann(Some(Suspended)),
            &Policy::default()
        )
        .is_empty()
    );
    let remove = Policy::default().with_on_leave(LeaveAction::Remove);
    let got = run(
        dir_with_ann(Some(ann()), false),
        team_with_ann(Some(Suspended)),
        &remove,
    );
    assert_eq!(got, ["remove ann@x.com wipe=true Plain"]);
}

#[test]
fn out_of_scope_removed_is_nothing() {
    let remove = Policy::default().with_on_leave(LeaveAction::Remove);
    for status in [REMOVED_RECOVERABLE, REMOVED_FOR_GOOD] {
        assert!(
            run(
                dir_with_ann(Some(ann()), false),
                team_with_ann(Some(status)),
                &remove
            )
            .is_empty()
        );
    }
}

// ---- deleted in the directory (tombstone) ----

fn deleted_ann() -> DesiredState {
    let mut d = dir_with_ann(None, false);
    d.deleted.push(sid("ann"));
    d
}

#[test]
fn deleted_absent_is_nothing() {
    assert!(run(deleted_ann(), team_with_ann(None), &Policy::default()).is_empty());
}

#[test]
fn deleted_active_follows_on_delete_not_on_leave() {
    let p = Policy::default()
        .with_on_leave(LeaveAction::Remove)
        .with_on_delete(LeaveAction::Suspend);
    assert_eq!(
        run(deleted_ann(), team_with_ann(Some(Active)), &p),
        ["suspend ann@x.com wipe=true"]
    );
    let p = Policy::default()
        .with_on_leave(LeaveAction::Suspend)
        .with_on_delete(LeaveAction::Remove);
    assert_eq!(
        run(deleted_ann(), team_with_ann(Some(Active)), &p),
        ["remove ann@x.com wipe=true Plain"]
    );
}

#[test]
fn deleted_invited_invitation_is_withdrawn() {
    assert_eq!(
        run(
            deleted_ann(),
            team_with_ann(Some(Invited)),
            &Policy::default()
        ),
        ["remove ann@x.com wipe=false Plain"]
    );
}

#[test]
fn deleted_suspended_follows_on_delete() {
    assert!(
        run(
            deleted_ann(),
            team_with_ann(Some(Suspended)),
            &Policy::default()
        )
        .is_empty()
    );
    let p = Policy::default().with_on_delete(LeaveAction::Remove);
    assert_eq!(
        run(deleted_ann(), team_with_ann(Some(Suspended)), &p),
        ["remove ann@x.com wipe=true Plain"]
    );
}

#[test]
fn deleted_removed_is_nothing() {
    let p = Policy::default().with_on_delete(LeaveAction::Remove);
    assert!(run(deleted_ann(), team_with_ann(Some(REMOVED_RECOVERABLE)), &p).is_empty());
}

// ---- removal options ----

#[test]
fn removal_can_transfer_or_keep_the_account() {
    let dest = MemberRef::ExternalId("teamsync:zed".into());
    let p = Policy::default()
        .with_on_leave(LeaveAction::Remove)
        .with_transfer(RemovalTransfer::Transfer {
            dest: dest.clone(),
            admin: dest.clone(),
        });
    let got = run(dir_with_ann(None, false), team_with_ann(Some(Active)), &p);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("remove ann@x.com wipe=true Transfer"),
        "{got:?}"
    );

    let keep = Policy::default()
        .with_on_leave(LeaveAction::Remove)
        .with_transfer(RemovalTransfer::KeepAccount);
    // Keeping the account needs wipe_data = false, whatever wipe_data says.
    assert_eq!(
        run(
            dir_with_ann(None, false),
            team_with_ann(Some(Active)),
            &keep
        ),
        ["remove ann@x.com wipe=false KeepAccount"]
    );
}

// ---- before / after and reasons ----

#[test]
fn operations_carry_before_after_and_a_reason() {
    let p = plan_ok(
        &dir_with_ann(Some(disabled(ann())), true),
        &team_with_ann(Some(Active)),
        &Policy::default(),
    );
    let op = &p.operations[0];
    assert_eq!(op.phase, Phase::Deprovision);
    assert!(matches!(
        op.before,
        Observed::Member {
            status: MemberStatus::Active,
            ..
        }
    ));
    assert!(matches!(
        op.after,
        Observed::Member {
            status: MemberStatus::Suspended,
            ..
        }
    ));
    assert!(
        op.reason.contains("disabled in the directory"),
        "{}",
        op.reason
    );
    assert_eq!(
        op.action.member(),
        Some(&MemberRef::ExternalId("teamsync:ann".into()))
    );
}
