//! `Plan::only`: provision on demand, restricted to named people.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::*;

use MemberStatus::Active;

/// Ann is new (two groups, one of them new), Bob's surname changed, Cat left, Dan is new.
fn world() -> (DesiredState, ActualState) {
    let d = directory(
        vec![
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("bob", "bob@x.com", "Bob", "New"),
            user("dan", "dan@x.com", "Dan", "Do"),
        ],
        vec![
            group("g1", "Red", &["ann", "bob"]),
            group("g2", "Blue", &["ann", "dan"]),
        ],
        &["ann", "bob", "dan", "g1", "g2"],
    );
    let a = team(
        vec![
            managed("dbmid:bob", "bob", "bob@x.com", "Bob", "Old", Active),
            managed("dbmid:cat", "cat", "cat@x.com", "Cat", "Fox", Active),
        ],
        vec![team_group(
            "g:1",
            "Red",
            Some("teamsync:g1"),
            &["dbmid:bob", "dbmid:cat"],
        )],
    );
    (d, a)
}

#[test]
fn only_keeps_the_named_peoples_operations_and_the_groups_they_need() {
    let (d, a) = world();
    let full = plan_ok(&d, &a, &Policy::default());
    assert_eq!(full.operations.len(), 9, "{:?}", ops(&full));

    let p = full.only(&["ANN@x.com"], &d, &a).unwrap();
    assert_eq!(
        ops(&p),
        [
            "create group Blue",
            "invite ann@x.com (teamsync:ann Ann Lee)",
            "add to group Red: ann@x.com",
            "add to group Blue: ann@x.com"
        ]
    );
    assert_eq!(p.guard.deprovisions, 0);

    // By directory id, and several at once; a leaver by id.
    let p = full.only(&["bob", "cat"], &d, &a).unwrap();
    assert_eq!(
        ops(&p),
        [
            "update profile bob@x.com surname=New",
            "remove from group Red: cat@x.com",
            "suspend cat@x.com wipe=true"
        ]
    );
    assert_eq!(
        (p.guard.deprovisions, p.guard.group_member_removals),
        (1, 1)
    );
}

#[test]
fn only_refuses_a_name_nobody_has() {
    let (d, a) = world();
    let full = plan_ok(&d, &a, &Policy::default());
    let e = full.only(&["ann@x.com", "anne@x.com"], &d, &a).unwrap_err();
    assert_eq!(e.unknown, ["anne@x.com"]);
    assert!(e.to_string().contains("anne@x.com"), "{e}");
}

#[test]
fn an_only_plan_applies_and_the_full_plan_then_holds_the_rest() {
    let (d, a) = world();
    let full = plan_ok(&d, &a, &Policy::default());
    let p = full.only(&["dan@x.com"], &d, &a).unwrap();
    let memory = teamsync_core::memory::MemoryTeam::with_state(a);
    let outcome =
        futures::executor::block_on(apply(&p, &memory, &ApplyOptions::default())).unwrap();
    assert!(outcome.is_success());
    let rest = plan_ok(&d, &memory.state(), &Policy::default());
    assert_eq!(
        rest.operations.len(),
        full.operations.len() - p.operations.len(),
        "{:?}",
        ops(&rest)
    );
    assert!(!ops(&rest).iter().any(|o| o.contains("dan@x.com")));
}
