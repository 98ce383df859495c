//! A saved plan is input, not authority (issue 11): tampered files are caught by the guard
//! recomputed from the operations, the ownership check on the team as it is now, and the
//! comparison with a fresh plan.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::saved::{RefusalReason, ownership_refusals, replan_refusals};
use teamsync_core::*;

use MemberStatus::Active;

/// 60 managed people in the directory and on the team, plus an admin, a member of another
/// tool and an unmanaged person; one managed group.
fn scene() -> (DesiredState, ActualState) {
    let mut users = Vec::new();
    let mut members = Vec::new();
    let mut ids = Vec::new();
    for i in 0..60 {
        let id = format!("u{i:02}");
        let email = format!("{id}@x.com");
        users.push(user(&id, &email, "Given", "Sur"));
        members.push(managed(
            &format!("dbmid:{id}"),
            &id,
            &email,
            "Given",
            "Sur",
            Active,
        ));
        ids.push(id);
    }
    let mut admin = member("dbmid:boss", "boss@x.com", None, "Big", "Boss", Active);
    admin.is_admin = true;
    members.push(admin);
    members.push(member(
        "dbmid:other",
        "other@x.com",
        Some("azure:abc"),
        "Other",
        "Tool",
        Active,
    ));
    members.push(member(
        "dbmid:free",
        "free@x.com",
        None,
        "Free",
        "Agent",
        Active,
    ));
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let eng = group("eng", "Eng", &refs[..10]);
    let mut root_members = refs.clone();
    root_members.push("eng");
    let d = directory(users, vec![eng], &root_members);
    let group_members: Vec<String> = (0..10).map(|i| format!("dbmid:u{i:02}")).collect();
    let group_refs: Vec<&str> = group_members.iter().map(String::as_str).collect();
    let a = team(
        members,
        vec![
            team_group("g:eng", "Eng", Some("teamsync:eng"), &group_refs),
            team_group("g:sales", "Sales", None, &["dbmid:free"]),
        ],
    );
    (d, a)
}

fn suspend(member: MemberRef, target: &str) -> Operation {
    Operation {
        phase: Phase::Deprovision,
        action: Action::Suspend {
            member,
            wipe_data: true,
        },
        target: target.to_owned(),
        before: Observed::Absent,
        after: Observed::Absent,
        reason: "added by hand".to_owned(),
    }
}

#[test]
fn a_fresh_plan_passes_every_check() {
    let (d, mut a) = scene();
    // Some real work: one person left, one group member removed.
    a.members.push(managed(
        "dbmid:gone",
        "gone",
        "gone@x.com",
        "Gone",
        "Away",
        Active,
    ));
    let policy = Policy::default();
    let plan = plan_ok(&d, &a, &policy);
    assert!(!plan.operations.is_empty());
    assert!(ownership_refusals(&plan, &a, &policy).is_empty());
    assert!(replan_refusals(&plan, &plan_ok(&d, &a, &policy)).is_empty());
    assert_eq!(
        Guard::for_operations(&plan.operations, &a, &policy),
        plan.guard
    );
}

#[test]
fn the_guard_is_recomputed_from_the_operations_not_read_from_the_file() {
    let (d, a) = scene();
    let policy = Policy::default();
    let mut plan = plan_ok(&d, &a, &policy);
    assert!(plan.operations.is_empty());
    // 40 suspensions appended; the file still says 0 deprovisions.
    for i in 0..40 {
        let id = format!("u{i:02}");
        plan.operations.push(suspend(
            MemberRef::ExternalId(format!("teamsync:{id}")),
            &format!("{id}@x.com"),
        ));
    }
    assert_eq!(plan.guard.deprovisions, 0);
    assert!(!plan.guard.needs_permission());
    let guard = Guard::for_operations(&plan.operations, &a, &policy);
    assert_eq!(guard.deprovisions, 40);
    assert_eq!(guard.deprovision_limit, 25);
    assert!(guard.needs_permission());
    // And re-planning refuses every one of them.
    let refused = replan_refusals(&plan, &plan_ok(&d, &a, &policy));
    assert_eq!(refused.len(), 40);
    assert!(
        refused
            .iter()
            .all(|r| r.why == RefusalReason::NotPlannedNow)
    );
}

#[test]
fn hand_added_operations_on_members_or_groups_teamsync_does_not_own_are_refused() {
    let (d, a) = scene();
    let policy = Policy::default();
    let mut plan = plan_ok(&d, &a, &policy);
    plan.operations.extend([
        // another tool's member, by Dropbox id and by email
        suspend(MemberRef::TeamMemberId("dbmid:other".into()), "other@x.com"),
        suspend(
            MemberRef::Email(Email::parse("free@x.com").unwrap()),
            "free@x.com",
        ),
        // a protected admin
        suspend(MemberRef::TeamMemberId("dbmid:boss".into()), "boss@x.com"),
        // a member who does not exist at all
        suspend(MemberRef::ExternalId("teamsync:nobody".into()), "nobody"),
        // an unmanaged group
        Operation {
            phase: Phase::GroupRemoves,
            action: Action::RemoveGroupMember {
                group: GroupRef::GroupId("g:sales".into()),
                member: MemberRef::ExternalId("teamsync:u01".into()),
            },
            target: "Sales: u01@x.com".into(),
            before: Observed::Absent,
            after: Observed::Absent,
            reason: String::new(),
        },
        // an adoption of another tool's member without adopt_foreign
        Operation {
            phase: Phase::Profiles,
            action: Action::AdoptMember {
                member: MemberRef::TeamMemberId("dbmid:other".into()),
                change: ProfileChange {
                    external_id: Some("teamsync:u05".into()),
                    ..ProfileChange::default()
                },
            },
            target: "other@x.com".into(),
            before: Observed::Absent,
            after: Observed::Absent,
            reason: String::new(),
        },
    ]);
    let refusals = ownership_refusals(&plan, &a, &policy);
    let reasons: Vec<&RefusalReason> = refusals.iter().map(|r| &r.why).collect();
    assert_eq!(
        reasons,
        [
            &RefusalReason::MemberNotOwned {
                member: "dbmid:other".into()
            },
            &RefusalReason::MemberNotOwned {
                member: "free@x.com".into()
            },
            &RefusalReason::MemberNotOwned {
                member: "dbmid:boss".into()
            },
            &RefusalReason::MemberNotOwned {
                member: "external_id:teamsync:nobody".into()
            },
            &RefusalReason::GroupNotOwned {
                group: "g:sales".into()
            },
            &RefusalReason::AdoptionNotAllowed {
                subject: "dbmid:other".into()
            },
        ]
    );
    assert!(
        refusals[0].to_string().contains("does not own"),
        "{}",
        refusals[0]
    );
}

#[test]
fn a_protected_admin_teamsync_manages_is_still_never_deprovisioned_from_a_file() {
    let (d, mut a) = scene();
    a.members[3].is_admin = true; // u03 is managed and an admin
    let policy = Policy::default();
    let mut plan = plan_ok(&d, &a, &policy);
    plan.operations.push(suspend(
        MemberRef::ExternalId("teamsync:u03".into()),
        "u03@x.com",
    ));
    let refusals = ownership_refusals(&plan, &a, &policy);
    assert_eq!(
        refusals.iter().map(|r| &r.why).collect::<Vec<_>>(),
        [&RefusalReason::AdminProtected {
            member: "external_id:teamsync:u03".into()
        }]
    );
    let allowed = Policy::default().with_deprovision_admins(true);
    assert!(ownership_refusals(&plan, &a, &allowed).is_empty());
}

#[test]
fn an_operation_whose_displayed_target_differs_from_what_it_acts_on_is_refused_by_replanning() {
    let (d, mut a) = scene();
    a.members.push(managed(
        "dbmid:gone",
        "gone",
        "gone@x.com",
        "Gone",
        "Away",
        Active,
    ));
    let policy = Policy::default();
    let fresh = plan_ok(&d, &a, &policy);
    let mut saved = fresh.clone();
    let suspend_gone = saved
        .operations
        .iter_mut()
        .find(|op| matches!(op.action, Action::Suspend { .. }))
        .unwrap();
    // The reviewer sees gone@x.com; the operation now acts on u07.
    suspend_gone.action = Action::Suspend {
        member: MemberRef::ExternalId("teamsync:u07".into()),
        wipe_data: true,
    };
    let refused = replan_refusals(&saved, &fresh);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].operation, "suspend gone@x.com");
    // A changed reason alone is not a refusal: reasons are for people.
    let mut reworded = fresh.clone();
    for op in &mut reworded.operations {
        op.reason = "reworded".into();
    }
    assert!(replan_refusals(&reworded, &fresh).is_empty());
}

#[test]
fn foreign_external_ids_written_by_a_tampered_invite_are_refused() {
    let (d, a) = scene();
    let policy = Policy::default();
    let mut plan = plan_ok(&d, &a, &policy);
    plan.operations.push(Operation {
        phase: Phase::Provision,
        action: Action::Invite {
            member: NewMember {
                email: Email::parse("mallory@evil.test").unwrap(),
                given_name: "M".into(),
                surname: "E".into(),
                external_id: "azure:mallory".into(),
                send_welcome_email: false,
            },
        },
        target: "mallory@evil.test".into(),
        before: Observed::Absent,
        after: Observed::Absent,
        reason: String::new(),
    });
    let refusals = ownership_refusals(&plan, &a, &policy);
    assert_eq!(
        refusals.iter().map(|r| &r.why).collect::<Vec<_>>(),
        [&RefusalReason::ForeignExternalId {
            external_id: "azure:mallory".into()
        }]
    );
}
