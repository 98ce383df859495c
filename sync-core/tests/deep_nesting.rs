//! Nesting of any depth plans in time linear in its size: a chain 100,000 groups deep (issue 11
//! measured 178 s for it). Correctness is asserted here; the time is a bench row.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::*;

#[test]
fn a_chain_100000_groups_deep_plans() {
    const DEPTH: usize = 100_000;
    // root ⊃ g0 ⊃ g1 ⊃ … ⊃ g99999 ⊃ ann; zed directly in g50000; g99999 also contains g0 (a
    // cycle through the whole chain).
    let mut groups: Vec<DirectoryGroup> = (0..DEPTH)
        .map(|i| {
            let mut members = vec![sid(&format!("g{}", (i + 1) % DEPTH))];
            if i == DEPTH - 1 {
                members.push(sid("ann"));
            }
            if i == DEPTH / 2 {
                members.push(sid("zed"));
            }
            DirectoryGroup {
                id: sid(&format!("g{i}")),
                name: format!("Group {i}"),
                members,
                locator: None,
            }
        })
        .collect();
    groups.push(group("root", "Dropbox Users", &["g0"]));
    let d = DesiredState {
        user_roots: vec![sid("root")],
        users: vec![
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("zed", "zed@x.com", "Zed", "Last"),
        ],
        groups,
        ..Default::default()
    };
    let a = team(
        vec![managed(
            "dbmid:zed",
            "zed",
            "zed@x.com",
            "Zed",
            "Last",
            MemberStatus::Active,
        )],
        vec![],
    );
    let p = plan_ok(&d, &a, &Policy::default());
    assert_eq!(p.stats.users_in_scope, 2);
    assert_eq!(p.stats.groups_in_scope, DEPTH);
    let counts = p.counts();
    assert_eq!(counts["invite"], 1);
    assert_eq!(counts["create group"], DEPTH);
    // Every group of the cycle holds both people.
    assert_eq!(counts["add to group"], 2 * DEPTH);
    assert_eq!(
        p.warnings
            .iter()
            .filter(|w| w.kind == WarningKind::GroupCycle)
            .count(),
        1
    );
}
