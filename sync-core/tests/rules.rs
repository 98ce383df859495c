//! DESIGN §3 rules beyond the lifecycle table: ownership, scope, names, collisions, admins,
//! groups, guards, and the plan's formats.
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

// ---- ownership ----

#[test]
fn unmanaged_member_with_matching_email_is_adopted() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            member("dbmid:ann", "ANN@x.com", None, "Ann", "Old", Active),
        ],
        vec![],
    );
    assert_eq!(
        ops(&plan_ok(&d, &a, &Policy::default())),
        ["adopt member ann@x.com surname=Lee external_id=teamsync:ann"]
    );
}

#[test]
fn suspended_unmanaged_member_is_unsuspended_and_adopted() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            member("dbmid:ann", "ann@x.com", None, "Ann", "Lee", Suspended),
        ],
        vec![],
    );
    assert_eq!(
        ops(&plan_ok(&d, &a, &Policy::default())),
        [
            "unsuspend ann@x.com",
            "adopt member ann@x.com external_id=teamsync:ann"
        ]
    );
}

#[test]
fn without_manage_existing_users_an_unmanaged_match_is_a_conflict() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            member("dbmid:ann", "ann@x.com", None, "Ann", "Lee", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default().with_manage_existing_users(false));
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::UnmanagedMember]);
}

#[test]
fn foreign_members_are_never_touched_unless_adopt_foreign() {
    // A foreign member matching an in-scope user, and a foreign member out of scope.
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            member(
                "dbmid:ann",
                "ann@x.com",
                Some("okta:123"),
                "Ann",
                "Lee",
                Active,
            ),
            member(
                "dbmid:bob",
                "bob@x.com",
                Some("okta:456"),
                "Bob",
                "B",
                Active,
            ),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(warning_kinds(&p), [WarningKind::ForeignMember]);

    let p = plan_ok(&d, &a, &Policy::default().with_adopt_foreign(true));
    assert_eq!(ops(&p), ["adopt member ann@x.com external_id=teamsync:ann"]);
}

#[test]
fn unmanaged_out_of_scope_members_are_never_deprovisioned() {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let a = team(
        vec![
            zed_member(),
            member("dbmid:ceo", "ceo@x.com", None, "C", "E", Active),
        ],
        vec![],
    );
    assert!(plan_ok(&d, &a, &Policy::default()).operations.is_empty());
}

#[test]
fn a_custom_prefix_owns_only_its_own_members() {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let a = team(
        vec![
            member(
                "dbmid:zed",
                "zed@x.com",
                Some("corp/zed"),
                "Zed",
                "Last",
                Active,
            ),
            zed_member(),
        ],
        vec![],
    );
    // With prefix "corp/", the "teamsync:" member is foreign; it has zed's email... but emails are unique on
    // a real team, so give it another.
    let mut a2 = a.clone();
    a2.members[1].email = Email::parse("old-zed@x.com").unwrap();
    a2.members[1].team_member_id = "dbmid:old".into();
    let p = plan_ok(&d, &a2, &Policy::default().with_external_id_prefix("corp/"));
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
}

#[test]
fn malformed_managed_external_id_is_reported_and_left_alone() {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let a = team(
        vec![
            zed_member(),
            member(
                "dbmid:odd",
                "odd@x.com",
                Some("teamsync:"),
                "O",
                "D",
                Active,
            ),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::MalformedExternalId]);
}

// ---- scope ----

#[test]
fn nested_groups_three_deep_and_cycles_are_flattened() {
    // root -> g1 -> g2 -> g3 -> g1 (cycle); ann only via g3.
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![
            group("g1", "One", &["g2"]),
            group("g2", "Two", &["g3"]),
            group("g3", "Three", &["ann", "g1"]),
        ],
        &["zed", "g1"],
    );
    let p = plan_ok(
        &d,
        &team(vec![zed_member()], vec![]),
        &Policy::default().with_group_sync(GroupSync::Off),
    );
    assert_eq!(ops(&p), ["invite ann@x.com (teamsync:ann Ann Lee)"]);
    assert_eq!(p.stats.users_in_scope, 2);
    assert_eq!(warning_kinds(&p), [WarningKind::GroupCycle]);
    assert_eq!(
        p.warnings[0].message,
        "these 3 groups contain each other in a cycle: One, Three, Two; tolerated (their people count once)"
    );
}

#[test]
fn a_group_containing_itself_is_tolerated() {
    let d = directory(
        vec![zed()],
        vec![group("self", "Self", &["self", "zed"])],
        &["self"],
    );
    let p = plan_ok(
        &d,
        &team(vec![zed_member()], vec![]),
        &Policy::default().with_group_sync(GroupSync::Off),
    );
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::GroupCycle]);
    assert_eq!(p.warnings[0].subject, "Self");
}

#[test]
fn users_outside_the_roots_are_out_of_scope() {
    let mut d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![group("other", "Other", &["ann"])],
        &["zed"],
    );
    d.users.push(user("bob", "bob@x.com", "Bob", "B"));
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert!(p.operations.is_empty());
}

#[test]
fn no_users_in_scope_stops_before_planning() {
    let d = directory(vec![zed()], vec![], &[]);
    let a = team(vec![zed_member()], vec![]);
    assert_eq!(
        plan(&d, &a, &Policy::default()).unwrap_err(),
        PlanError::NoUsersInScope { roots: 1 }
    );
    // An empty directory too.
    assert!(matches!(
        plan(&DesiredState::default(), &a, &Policy::default()),
        Err(PlanError::NoUsersInScope { roots: 0 })
    ));
}

#[test]
fn unknown_root_is_reported() {
    let mut d = directory(vec![zed()], vec![], &["zed"]);
    d.user_roots.push(sid("gone"));
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert_eq!(warning_kinds(&p), [WarningKind::UnknownRoot]);
}

// ---- bad entries are held, never deprovisioned ----

#[test]
fn invalid_email_is_reported_and_its_member_held() {
    let d = directory(
        vec![
            zed(),
            user("ann", "ann at x", "Ann", "Lee"),
            user("bob", "", "Bob", "B"),
        ],
        vec![],
        &["zed", "ann", "bob"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(
        warning_kinds(&p),
        [
            WarningKind::InvalidEmail,
            WarningKind::InvalidEmail,
            WarningKind::HeldMember
        ]
    );
}

#[test]
fn source_issue_holds_the_member_with_that_id() {
    let mut d = directory(vec![zed()], vec![], &["zed"]);
    d.issues.push(SourceIssue {
        entry: "cn=ann,ou=people".into(),
        problem: "unreadable mail attribute".into(),
        id: Some(sid("ann")),
        email: None,
    });
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(
        warning_kinds(&p),
        [WarningKind::SourceIssue, WarningKind::HeldMember]
    );
}

#[test]
fn duplicate_user_ids_hold_both() {
    let d = directory(
        vec![
            zed(),
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("ann", "ann2@x.com", "Ann", "Two"),
        ],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(
        warning_kinds(&p),
        [WarningKind::DuplicateUserId, WarningKind::HeldMember]
    );
}

#[test]
fn too_long_external_id_is_reported() {
    let long = "x".repeat(60);
    let d = directory(
        vec![zed(), user(&long, "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", &long],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::ExternalIdTooLong]);
}

// ---- email collisions ----

#[test]
fn two_users_with_one_email_are_neither_invited() {
    let d = directory(
        vec![
            zed(),
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("ann2", " ANN@x.com ", "Ann", "Other"),
        ],
        vec![],
        &["zed", "ann", "ann2"],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(warning_kinds(&p), [WarningKind::EmailCollision]);
    assert!(p.warnings[0].message.contains("2 directory users"));
}

#[test]
fn a_managed_user_keeps_its_mapping_in_a_collision() {
    let mut ann = user("ann", "ann@x.com", "Ann", "Lee");
    ann.given_name = "Annie".into();
    let d = directory(
        vec![zed(), ann, user("ann2", "ann@x.com", "Ann", "Other")],
        vec![],
        &["zed", "ann", "ann2"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(ops(&p), ["update profile ann@x.com given=Annie"]);
    assert_eq!(warning_kinds(&p), [WarningKind::EmailCollision]);
}

#[test]
fn an_email_held_by_another_managed_member_is_not_invited() {
    // bob left; ann got bob's old address. Bob is suspended but still holds the email.
    let d = directory(
        vec![zed(), user("ann", "shared@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:bob", "bob", "shared@x.com", "Bob", "B", Suspended),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(warning_kinds(&p), [WarningKind::EmailTaken]);
}

#[test]
fn an_email_change_to_a_taken_address_updates_only_the_names() {
    let mut z = zed();
    z.email = "taken@x.com".into();
    z.surname = "New".into();
    let d = directory(vec![z], vec![], &["zed"]);
    let a = team(
        vec![
            zed_member(),
            member("dbmid:t", "taken@x.com", None, "T", "T", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(ops(&p), ["update profile zed@x.com surname=New"]);
    assert_eq!(warning_kinds(&p), [WarningKind::EmailTaken]);
}

// ---- names ----

#[test]
fn names_are_cleaned_to_dropbox_rules_and_reported() {
    let long: String = "é".repeat(60);
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "A/n:n*?", &long)],
        vec![],
        &["zed", "ann"],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert_eq!(
        ops(&p),
        [format!(
            "invite ann@x.com (teamsync:ann Ann {})",
            "é".repeat(50)
        )]
    );
    assert_eq!(
        warning_kinds(&p),
        [WarningKind::NameCleaned, WarningKind::NameCleaned]
    );
}

#[test]
fn clean_name_part_rules() {
    assert_eq!(clean_name_part("  Ann  "), "Ann");
    assert_eq!(clean_name_part("a<b>c\"d|e"), "abcde");
    assert_eq!(clean_name_part("x\u{7}y"), "xy");
    assert_eq!(clean_name_part(&"a".repeat(51)).chars().count(), 50);
    assert_eq!(clean_name_part("نص عربي"), "نص عربي");
    assert_eq!(clean_name_part("😀 emoji"), "😀 emoji");
    // Cut on a character boundary: 50 combining sequences would be 100 chars; 50 chars are kept.
    assert_eq!(clean_name_part(&"e\u{301}".repeat(30)).chars().count(), 50);
}

#[test]
fn empty_directory_names_do_not_erase_team_names() {
    let mut z = zed();
    z.given_name = String::new();
    let d = directory(vec![z], vec![], &["zed"]);
    assert!(
        plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default())
            .operations
            .is_empty()
    );
}

// ---- admins ----

#[test]
fn admins_are_reported_not_deprovisioned_unless_allowed() {
    let d = directory(vec![zed()], vec![], &["zed"]);
    let mut boss = managed("dbmid:boss", "boss", "boss@x.com", "B", "Oss", Active);
    boss.is_admin = true;
    let a = team(vec![zed_member(), boss], vec![]);
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::AdminProtected]);
    let p = plan_ok(&d, &a, &Policy::default().with_deprovision_admins(true));
    assert_eq!(ops(&p), ["suspend boss@x.com wipe=true"]);
}

// ---- guards ----

fn big_team(n: usize) -> (DesiredState, ActualState) {
    let users: Vec<DirectoryUser> = (0..n)
        .map(|i| {
            user(
                &format!("u{i}"),
                &format!("u{i}@x.com"),
                "U",
                &format!("{i}"),
            )
        })
        .collect();
    let members: Vec<TeamMember> = (0..n)
        .map(|i| {
            managed(
                &format!("dbmid:{i}"),
                &format!("u{i}"),
                &format!("u{i}@x.com"),
                "U",
                &format!("{i}"),
                Active,
            )
        })
        .collect();
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    (directory(users, vec![], &refs), team(members, vec![]))
}

#[test]
fn deprovision_limit_marks_the_plan_as_needing_permission() {
    let (mut d, a) = big_team(400);
    // 90% of users vanish from the root group (a filter narrowed by mistake).
    let root = d
        .groups
        .iter_mut()
        .find(|g| g.id.as_str() == "root")
        .unwrap();
    root.members.truncate(40);
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(p.guard.deprovisions, 360);
    assert_eq!(p.guard.deprovision_limit, 40); // 10% of 400
    assert!(p.guard.needs_permission());
    assert!(p.warnings.iter().any(|w| w.kind == WarningKind::GuardLimit));
    assert!(p.render().contains("GUARD"));

    // Within the floor of 25: no permission needed.
    let (mut d, a) = big_team(100);
    d.groups
        .iter_mut()
        .find(|g| g.id.as_str() == "root")
        .unwrap()
        .members
        .truncate(80);
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(p.guard.deprovisions, 20);
    assert!(!p.guard.needs_permission());
}

// ---- groups ----

fn with_groups() -> DesiredState {
    directory(
        vec![
            zed(),
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("bob", "bob@x.com", "Bob", "B"),
        ],
        vec![
            group("sales", "Sales", &["ann", "emea"]),
            group("emea", "Sales EMEA", &["bob"]),
        ],
        &["zed", "sales"],
    )
}

fn team_with_people() -> Vec<TeamMember> {
    vec![
        zed_member(),
        managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        managed("dbmid:bob", "bob", "bob@x.com", "Bob", "B", Active),
    ]
}

#[test]
fn synced_groups_are_created_flat_with_transitive_members() {
    let p = plan_ok(
        &with_groups(),
        &team(team_with_people(), vec![]),
        &Policy::default(),
    );
    assert_eq!(
        ops(&p),
        [
            "create group Sales",
            "create group Sales EMEA",
            // Sorted by the group's external id: teamsync:emea before teamsync:sales.
            "add to group Sales EMEA: bob@x.com",
            "add to group Sales: ann@x.com",
            "add to group Sales: bob@x.com",
        ]
    );
}

#[test]
fn new_users_are_added_to_groups_by_external_id_after_their_invite() {
    let p = plan_ok(
        &with_groups(),
        &team(vec![zed_member()], vec![]),
        &Policy::default(),
    );
    let invite_pos = p
        .operations
        .iter()
        .position(|op| op.target == "ann@x.com")
        .unwrap();
    let add_pos = p
        .operations
        .iter()
        .position(|op| op.target == "Sales: ann@x.com")
        .unwrap();
    assert!(invite_pos < add_pos);
    assert_eq!(
        p.operations[add_pos].action.member(),
        Some(&MemberRef::ExternalId("teamsync:ann".into()))
    );
    assert_eq!(
        p.operations[add_pos].action.group(),
        Some(&GroupRef::ExternalId("teamsync:sales".into()))
    );
}

#[test]
fn managed_groups_are_renamed_and_their_membership_diffed() {
    let a = team(
        team_with_people(),
        vec![
            team_group(
                "g:1",
                "Sales (old)",
                Some("teamsync:sales"),
                &["dbmid:ann", "dbmid:zed", "dbmid:foreign"],
            ),
            team_group("g:2", "Sales EMEA", Some("teamsync:emea"), &["dbmid:bob"]),
        ],
    );
    let mut a = a;
    a.members
        .push(member("dbmid:foreign", "f@x.com", None, "F", "F", Active));
    let p = plan_ok(&with_groups(), &a, &Policy::default());
    // bob added (via EMEA), zed removed (managed, not in the group); the foreign member stays.
    assert_eq!(
        ops(&p),
        [
            "rename group Sales -> Sales",
            "add to group Sales: bob@x.com",
            "remove from group Sales (old): zed@x.com"
        ]
    );
}

#[test]
fn disabled_members_keep_their_group_memberships_as_they_are() {
    // ann is disabled (suspended by this plan) and already in Sales; bob is disabled and not in
    // Sales EMEA. Neither membership changes: suspension is reversible.
    let mut d = with_groups();
    for u in &mut d.users {
        if u.id.as_str() != "zed" {
            u.enabled = false;
        }
    }
    let a = team(
        team_with_people(),
        vec![
            team_group("g:1", "Sales", Some("teamsync:sales"), &["dbmid:ann"]),
            team_group("g:2", "Sales EMEA", Some("teamsync:emea"), &[]),
        ],
    );
    assert_eq!(
        ops(&plan_ok(&d, &a, &Policy::default())),
        ["suspend ann@x.com wipe=true", "suspend bob@x.com wipe=true"]
    );
}

#[test]
fn unmanaged_group_with_the_same_name_is_a_conflict_or_adopted() {
    let a = team(
        team_with_people(),
        vec![
            team_group("g:9", "sales", None, &["dbmid:ann"]),
            team_group("g:2", "Sales EMEA", Some("teamsync:emea"), &["dbmid:bob"]),
        ],
    );
    let p = plan_ok(&with_groups(), &a, &Policy::default());
    assert!(p.operations.is_empty(), "{:?}", ops(&p));
    assert_eq!(warning_kinds(&p), [WarningKind::GroupNameConflict]);

    let p = plan_ok(
        &with_groups(),
        &a,
        &Policy::default().with_adopt_existing_groups(true),
    );
    assert_eq!(
        ops(&p),
        ["adopt group Sales", "add to group Sales: bob@x.com"]
    );
}

#[test]
fn groups_that_leave_scope_are_emptied_deleted_or_kept() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
            member("dbmid:f", "f@x.com", None, "F", "F", Active),
        ],
        vec![team_group(
            "g:1",
            "Old",
            Some("teamsync:old"),
            &["dbmid:ann", "dbmid:f"],
        )],
    );
    assert_eq!(
        ops(&plan_ok(&d, &a, &Policy::default())),
        ["remove from group Old: ann@x.com"]
    );
    let delete = Policy::default().with_on_group_leave(GroupLeave::Delete);
    assert_eq!(ops(&plan_ok(&d, &a, &delete)), ["delete group Old"]);
    let keep = Policy::default().with_on_group_leave(GroupLeave::Keep);
    assert!(plan_ok(&d, &a, &keep).operations.is_empty());
}

#[test]
fn group_sync_off_treats_managed_groups_as_left() {
    let a = team(
        team_with_people(),
        vec![team_group(
            "g:1",
            "Sales",
            Some("teamsync:sales"),
            &["dbmid:ann"],
        )],
    );
    let p = plan_ok(
        &with_groups(),
        &a,
        &Policy::default().with_group_sync(GroupSync::Off),
    );
    assert_eq!(ops(&p), ["remove from group Sales: ann@x.com"]);
    assert!(p.operations[0].reason.contains("group sync is off"));
}

#[test]
fn separate_group_root_syncs_in_scope_members_and_reports_the_rest() {
    // User root: zed, ann. Group root contains "team", which has ann and bob (bob not in user scope).
    let mut d = directory(
        vec![
            zed(),
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("bob", "bob@x.com", "Bob", "B"),
        ],
        vec![
            group("groot", "Group root", &["team", "ann"]),
            group("team", "Team", &["ann", "bob"]),
        ],
        &["zed", "ann"],
    );
    d.group_roots.push(sid("groot"));
    let p = plan_ok(
        &d,
        &team(team_with_people()[..2].to_vec(), vec![]),
        &Policy::default().with_group_sync(GroupSync::GroupRoots),
    );
    assert_eq!(
        ops(&p),
        ["create group Team", "add to group Team: ann@x.com"]
    );
    assert_eq!(warning_kinds(&p), [WarningKind::GroupMembersOutOfScope]);

    let strict = Policy::default()
        .with_group_sync(GroupSync::GroupRoots)
        .with_strict_group_scope(true);
    let p = plan_ok(&d, &team(team_with_people()[..2].to_vec(), vec![]), &strict);
    assert!(p.operations.is_empty());
    assert_eq!(warning_kinds(&p), [WarningKind::GroupSkipped]);
}

#[test]
fn two_directory_groups_with_one_name_are_not_created() {
    let d = directory(
        vec![zed()],
        vec![group("a", "Team", &["zed"]), group("b", "team", &["zed"])],
        &["zed", "a", "b"],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert!(p.operations.is_empty());
    assert_eq!(
        warning_kinds(&p),
        [
            WarningKind::GroupNameConflict,
            WarningKind::GroupNameConflict
        ]
    );
}

#[test]
fn empty_groups_are_created_empty_and_nameless_groups_reported() {
    let d = directory(
        vec![zed()],
        vec![group("e", "Empty", &[]), group("n", "  ", &["zed"])],
        &["zed", "e", "n"],
    );
    let p = plan_ok(&d, &team(vec![zed_member()], vec![]), &Policy::default());
    assert_eq!(ops(&p), ["create group Empty"]);
    assert_eq!(warning_kinds(&p), [WarningKind::GroupNameInvalid]);
}

#[test]
fn group_member_removal_guard() {
    let (mut d, mut a) = big_team(300);
    d.groups.push(group("all", "All", &[]));
    d.groups
        .iter_mut()
        .find(|g| g.id.as_str() == "root")
        .unwrap()
        .members
        .push(sid("all"));
    let ids: Vec<String> = a.members.iter().map(|m| m.team_member_id.clone()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    a.groups
        .push(team_group("g:all", "All", Some("teamsync:all"), &refs));
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(p.guard.group_member_removals, 300);
    assert_eq!(p.guard.group_member_removal_limit, 30);
    assert!(p.guard.needs_permission());
}

// ---- determinism and formats ----

#[test]
fn input_order_does_not_change_the_plan() {
    let d = with_groups();
    let a = team(vec![zed_member()], vec![]);
    let one = plan_ok(&d, &a, &Policy::default()).to_json();
    let mut d2 = d.clone();
    d2.users.reverse();
    d2.groups.reverse();
    for g in &mut d2.groups {
        g.members.reverse();
    }
    assert_eq!(one, plan_ok(&d2, &a, &Policy::default()).to_json());
}

#[test]
fn json_is_versioned_and_round_trips() {
    let p = plan_ok(
        &with_groups(),
        &team(vec![zed_member()], vec![]),
        &Policy::default(),
    );
    let json = p.to_json();
    assert!(json.contains("\"format_version\": 1"));
    assert!(json.contains("\"kind\": \"invite\""));
    assert_eq!(Plan::from_json(&json).unwrap(), p);
    let other = json.replace("\"format_version\": 1", "\"format_version\": 99");
    assert!(matches!(
        Plan::from_json(&other),
        Err(PlanFormatError::Version { found: 99 })
    ));
}

#[test]
fn render_groups_operations_by_phase_with_counts() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![group("s", "Sales", &["ann"])],
        &["zed", "s"],
    );
    let a = team(
        vec![
            zed_member(),
            managed("dbmid:old", "old", "old@x.com", "Old", "Timer", Active),
        ],
        vec![],
    );
    let text = plan_ok(&d, &a, &Policy::default()).render();
    let expected = "\
Directory: 2 users in scope (2 enabled), 1 group synced. Team: 2 managed members, 0 managed groups.

groups (1)
  + create group      Sales
      a synced directory group (id s)

invite, recover, unsuspend (1)
  + invite            ann@x.com
      in scope in the directory (id ann), not on the team

group member additions (1)
  + add to group      Sales: ann@x.com
      member of the directory group (directly or through nested groups)

suspend and remove (1)
  - suspend           old@x.com (devices wiped)
      left the directory's user scope

Plan: 4 operations (1 add to group, 1 create group, 1 invite, 1 suspend).
";
    assert_eq!(text, expected);
}

#[test]
fn a_saved_plan_is_stale_when_the_team_changed() {
    let d = directory(
        vec![zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        vec![],
        &["zed", "ann"],
    );
    let mut a = team(
        vec![
            zed_member(),
            managed("dbmid:old", "old", "old@x.com", "Old", "Timer", Active),
        ],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert!(p.stale_operations(&a).is_empty());
    // Someone invited ann by hand and suspended old.
    a.members.push(member(
        "dbmid:ann",
        "ann@x.com",
        None,
        "Ann",
        "Lee",
        MemberStatus::Invited,
    ));
    a.members[1].status = Suspended;
    let stale = p.stale_operations(&a);
    let targets: Vec<&str> = stale.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(targets, ["ann@x.com", "old@x.com"]);
}
