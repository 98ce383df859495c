//! Shared generators for the benches: realistic directories and teams of any size, with a
//! chosen share of drift between them.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use teamsync_core::{
    ActualState, DesiredState, DirectoryGroup, DirectoryUser, Email, ManagementType, MemberStatus,
    SourceId, TeamGroup, TeamMember,
};

/// A GUID-shaped id (AD objectGUID's canonical form), deterministic from `n`.
pub fn guid(n: u64) -> String {
    let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995;
    let y = n
        .wrapping_add(0x1234_5678)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xffff,
        y >> 48,
        y & 0xffff_ffff_ffff
    )
}

/// A generated pair of sides and what the drift was.
pub struct World {
    /// The directory.
    pub desired: DesiredState,
    /// The team.
    pub actual: ActualState,
}

/// `users` people in `groups` groups (each person in two groups, a tenth of the groups nested
/// in another), all under one root; the team mirrors it except for `drift_percent` of the
/// people, spread over new hires, leavers, profile changes, disabled accounts and group moves.
pub fn world(users: usize, groups: usize, drift_percent: f64) -> World {
    let ids: Vec<SourceId> = (0..users as u64)
        .map(|n| SourceId::new(guid(n)).expect("guid"))
        .collect();
    let group_ids: Vec<SourceId> = (0..groups as u64)
        .map(|n| SourceId::new(guid(1 << 40 | n)).expect("guid"))
        .collect();
    let drift_every = if drift_percent > 0.0 {
        (500.0 / drift_percent) as usize
    } else {
        usize::MAX
    };
    // Person i drifts in one of five ways when i % drift_every < 5.
    let drift = |i: usize| {
        if drift_every == usize::MAX {
            None
        } else {
            Some(i % drift_every).filter(|&k| k < 5)
        }
    };

    let mut dir_users = Vec::with_capacity(users);
    let mut members = Vec::with_capacity(users);
    let mut dir_members: Vec<Vec<SourceId>> = vec![Vec::new(); groups];
    let mut team_members: Vec<Vec<String>> = vec![Vec::new(); groups];
    let mut root = Vec::with_capacity(users + groups);
    for (i, id) in ids.iter().enumerate() {
        let email = format!("person.{i}@corp.example.com");
        let given = format!("Given{}", i % 997);
        let surname = format!("Surname{}", i % 1009);
        let tmid = format!("dbmid:AA{i:010}");
        let (g1, g2) = (i % groups.max(1), (i * 7 + 3) % groups.max(1));
        let kind = drift(i);
        // 0: new hire (not on the team), 1: leaver (not in the directory), 2: renamed,
        // 3: disabled, 4: moved from one group to another.
        if kind != Some(1) {
            let mut u = DirectoryUser::new(
                id.clone(),
                email.clone(),
                given.clone(),
                if kind == Some(2) {
                    format!("{surname}-New")
                } else {
                    surname.clone()
                },
            );
            u.enabled = kind != Some(3);
            dir_users.push(u);
            root.push(id.clone());
            if groups > 0 {
                dir_members[g1].push(id.clone());
                dir_members[if kind == Some(4) {
                    (g2 + 1) % groups
                } else {
                    g2
                }]
                .push(id.clone());
            }
        }
        if kind != Some(0) {
            members.push(TeamMember {
                team_member_id: tmid.clone(),
                email: Email::parse(&email).expect("email"),
                external_id: Some(format!("teamsync:{id}")),
                given_name: given,
                surname,
                status: MemberStatus::Active,
                is_admin: false,
            });
            if groups > 0 {
                team_members[g1].push(tmid.clone());
                if g2 != g1 {
                    team_members[g2].push(tmid);
                }
            }
        }
    }
    let mut dir_groups: Vec<DirectoryGroup> = Vec::with_capacity(groups + 1);
    let mut team_groups = Vec::with_capacity(groups);
    for (g, id) in group_ids.iter().enumerate() {
        let mut ms = std::mem::take(&mut dir_members[g]);
        ms.dedup();
        // A tenth of the groups hold the next group as a nested member (its people count too).
        let nested = g % 10 == 9 && g + 1 < groups;
        if nested {
            ms.push(group_ids[g + 1].clone());
        }
        dir_groups.push(DirectoryGroup {
            id: id.clone(),
            name: format!("Group {g}"),
            members: ms,
            locator: None,
        });
        root.push(id.clone());
        team_groups.push(TeamGroup {
            group_id: format!("g:{g:08}"),
            name: format!("Group {g}"),
            external_id: Some(format!("teamsync:{id}")),
            management_type: ManagementType::CompanyManaged,
            members: std::mem::take(&mut team_members[g]),
        });
    }
    // Nested groups: the parent's team group already holds the child's people, as a previous
    // sync would have left it.
    for g in 0..groups {
        if g % 10 == 9 && g + 1 < groups {
            let child: Vec<String> = team_groups[g + 1].members.clone();
            let parent = &mut team_groups[g].members;
            let have: rustc_hash::FxHashSet<String> = parent.iter().cloned().collect();
            parent.extend(child.into_iter().filter(|m| !have.contains(m)));
        }
    }
    let root_id = SourceId::new("root-group").expect("id");
    dir_groups.push(DirectoryGroup {
        id: root_id.clone(),
        name: "Dropbox Users".into(),
        members: root,
        locator: None,
    });
    World {
        desired: DesiredState {
            user_roots: vec![root_id],
            users: dir_users,
            groups: dir_groups,
            ..Default::default()
        },
        actual: ActualState {
            members,
            groups: team_groups,
        },
    }
}

/// The baseline the planner is compared with: index both sides into hash maps, the least any
/// diff must do. Directory users and groups by id, with every group's members resolved to
/// indices; team members by external id, Dropbox id and email, with every team group's members
/// resolved; each directory user looked up on the team. No rules, no output.
pub fn baseline(d: &DesiredState, a: &ActualState) -> usize {
    let users: FxHashMap<&str, u32> = d
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i as u32))
        .collect();
    let groups: FxHashMap<&str, u32> = d
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i as u32))
        .collect();
    let dir_edges: Vec<Vec<u32>> = d
        .groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .filter_map(|m| {
                    users
                        .get(m.as_str())
                        .or_else(|| groups.get(m.as_str()))
                        .copied()
                })
                .collect()
        })
        .collect();
    let by_external: FxHashMap<&str, u32> = a
        .members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            m.external_id
                .as_deref()
                .and_then(|x| x.strip_prefix("teamsync:"))
                .map(|x| (x, i as u32))
        })
        .collect();
    let by_id: FxHashMap<&str, u32> = a
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.team_member_id.as_str(), i as u32))
        .collect();
    let by_email: FxHashMap<&str, u32> = a
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.email.as_str(), i as u32))
        .collect();
    let team_groups: FxHashMap<&str, u32> = a
        .groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.external_id.as_deref().map(|x| (x, i as u32)))
        .collect();
    let team_edges: Vec<Vec<u32>> = a
        .groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .filter_map(|m| by_id.get(m.as_str()).copied())
                .collect()
        })
        .collect();
    let matched = d
        .users
        .iter()
        .filter(|u| by_external.contains_key(u.id.as_str()))
        .count();
    matched
        + dir_edges.iter().map(Vec::len).sum::<usize>()
        + team_edges.iter().map(Vec::len).sum::<usize>()
        + by_email.len()
        + team_groups.len()
}

/// Peak resident memory of this process so far (VmHWM), in MiB; 0 where /proc is missing.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Counts of operations by verb, for printing.
pub fn op_counts(plan: &teamsync_core::Plan) -> BTreeMap<&'static str, usize> {
    plan.counts()
}
