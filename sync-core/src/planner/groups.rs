//! Groups: which directory groups are synced, matching them to team groups (create, rename,
//! adopt, or a name conflict), membership diffs, and managed groups that left scope.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{GroupRef, ManagementType, MemberRef, SourceId, TeamGroup};
use crate::plan::{Action, Observed, Phase, WarningKind};
use crate::policy::{GroupLeave, GroupSync};
use crate::text::quoted;

use super::scope::{Closure, Reach};
use super::{Planner, Seat, UserPlan};

/// The team's groups, indexed: managed ones by source id, all by lower-cased name, and the
/// members of the managed ones resolved to member indices (sorted, without duplicates).
pub(super) struct TeamGroups<'a> {
    managed: FxHashMap<&'a str, u32>,
    by_name: FxHashMap<String, Vec<u32>>,
    /// Members of each team group, resolved; empty for groups teamsync does not manage.
    members: Vec<Vec<u32>>,
    /// The directory group each managed team group mirrors, when the snapshot holds it.
    source: Vec<Option<u32>>,
    /// Whether each team group is managed.
    managed_flag: Vec<bool>,
}

impl<'a> Planner<'a> {
    /// Indexes the team's groups (once, before the members are planned: reasons use them).
    pub(super) fn index_team_groups(&mut self) {
        let a = self.a;
        let prefix = self.p.external_id_prefix.as_str();
        let mut groups = TeamGroups {
            managed: FxHashMap::default(),
            by_name: FxHashMap::default(),
            members: vec![Vec::new(); a.groups.len()],
            source: vec![None; a.groups.len()],
            managed_flag: vec![false; a.groups.len()],
        };
        for (gi, g) in a.groups.iter().enumerate() {
            groups
                .by_name
                .entry(g.name.to_lowercase())
                .or_default()
                .push(gi as u32);
            if g.management_type == ManagementType::SystemManaged {
                continue;
            }
            if let Some(source) = g
                .external_id
                .as_deref()
                .and_then(|x| x.strip_prefix(prefix))
            {
                groups.managed.insert(source, gi as u32);
                groups.source[gi] = self.dir.group_of(source);
            }
        }
        for &gi in groups.managed.values() {
            groups.managed_flag[gi as usize] = true;
            groups.members[gi as usize] = self.resolve_members(gi);
        }
        self.stats.managed_groups = groups.managed.len();
        self.team_groups = groups;
    }

    /// A team group's members as member indices, sorted, without duplicates.
    fn resolve_members(&self, gi: u32) -> Vec<u32> {
        let g = &self.a.groups[gi as usize];
        let mut out: Vec<u32> = Vec::with_capacity(g.members.len());
        out.extend(g.members.iter().filter_map(|id| self.team.member_by_id(id)));
        // Teams list members in a stable order, so the list is often sorted already.
        if !out.is_sorted() {
            out.sort_unstable();
        }
        out.dedup();
        out
    }

    /// Groups: which directory groups are synced, matching to team groups, membership diffs,
    /// and managed groups that left scope.
    pub(super) fn plan_groups(&mut self) {
        let d = self.d;
        let a = self.a;
        let prefix = self.p.external_id_prefix.clone();

        // Synced directory groups: reachable from the group roots, roots excluded.
        let roots: &[SourceId] = match self.p.group_sync {
            GroupSync::Off => &[],
            GroupSync::UserRoots => &d.user_roots,
            GroupSync::GroupRoots => &d.group_roots,
        };
        if self.p.group_sync == GroupSync::GroupRoots {
            for root in &d.group_roots {
                if self.dir.group_of(root.as_str()).is_none() {
                    self.warn(
                        WarningKind::UnknownRoot,
                        root.as_str(),
                        "this group root is not in the directory snapshot",
                    );
                }
            }
        }
        let reached = match self.p.group_sync {
            GroupSync::Off => Vec::new(),
            GroupSync::UserRoots => self.user_reach.order.clone(),
            GroupSync::GroupRoots => Reach::from(d, &self.dir, roots).order,
        };
        let root_set: FxHashSet<u32> = roots
            .iter()
            .filter_map(|r| self.dir.group_of(r.as_str()))
            .collect();
        let mut synced: Vec<u32> = reached
            .into_iter()
            .filter(|g| !root_set.contains(g))
            .collect();
        self.drop_rule_excluded_groups(&mut synced);
        synced.sort_unstable_by(|&x, &y| d.groups[x as usize].id.cmp(&d.groups[y as usize].id));

        // Directory name clashes among synced groups.
        let mut dir_names: FxHashMap<String, usize> = FxHashMap::default();
        for &g in &synced {
            *dir_names
                .entry(self.group_name(g).to_lowercase())
                .or_default() += 1;
        }

        let components = self
            .components
            .take()
            .unwrap_or_else(|| super::scope::Components::of(&self.dir));
        let closure = Closure::new(&self.dir, components, &synced);
        let mut handled: FxHashSet<&str> = FxHashSet::default();
        let mut marks = Marks::new(a.members.len());
        for &g in &synced {
            let group = &d.groups[g as usize];
            let source = group.id.as_str();
            handled.insert(source);
            if self.dir.group_held[g as usize] {
                continue;
            }
            let name = self.group_name(g);
            if name.is_empty() {
                self.warn(
                    WarningKind::GroupNameInvalid,
                    group.locator.clone().unwrap_or_else(|| source.to_owned()),
                    "the group has no name; not synced",
                );
                continue;
            }
            // Flatten: transitive users, split by user scope.
            let users = closure.users_of(g);
            let mut wanted: Vec<u32> = Vec::with_capacity(users.len());
            let mut out_of_scope = 0usize;
            for &ui in users {
                if !self.in_scope[ui as usize] {
                    out_of_scope += 1;
                } else if self.seats[ui as usize] != Seat::None {
                    wanted.push(ui);
                }
            }
            if out_of_scope > 0 {
                if self.p.strict_group_scope {
                    self.warn(
                        WarningKind::GroupSkipped,
                        name,
                        format!("{out_of_scope} members are outside user scope and strict_group_scope is on; the group is not synced"),
                    );
                    continue;
                }
                self.warn(
                    WarningKind::GroupMembersOutOfScope,
                    name,
                    format!("{out_of_scope} members are outside user scope and are not added"),
                );
            }

            let external_id = format!("{prefix}{source}");
            let mut group_ref = GroupRef::ExternalId(external_id.clone());
            let existing = match self.team_groups.managed.get(source) {
                Some(&gi) => Some(gi),
                None => {
                    if dir_names.get(&name.to_lowercase()).copied().unwrap_or(0) > 1 {
                        self.warn(
                            WarningKind::GroupNameConflict,
                            name,
                            "several synced directory groups have this name; none of them is created",
                        );
                        continue;
                    }
                    match self
                        .team_groups
                        .by_name
                        .get(&name.to_lowercase())
                        .and_then(|v| v.first())
                        .copied()
                    {
                        None => {
                            let after = Observed::Group {
                                name: name.to_owned(),
                                external_id: Some(external_id.clone()),
                            };
                            self.push(
                                Phase::Groups,
                                Action::CreateGroup {
                                    name: name.to_owned(),
                                    external_id: external_id.clone(),
                                },
                                name.to_owned(),
                                Observed::Absent,
                                after,
                                format!(
                                    "a synced directory group ({}){}",
                                    group
                                        .locator
                                        .as_deref()
                                        .map_or_else(|| format!("id {source}"), str::to_owned),
                                    self.group_name_note()
                                ),
                            );
                            None
                        }
                        Some(oi) => {
                            let other = &a.groups[oi as usize];
                            let adoptable = self.p.adopt_existing_groups
                                && other.management_type != ManagementType::SystemManaged
                                && other
                                    .external_id
                                    .as_deref()
                                    .is_none_or(|x| !x.starts_with(prefix.as_str()));
                            if !adoptable {
                                self.warn(
                                    WarningKind::GroupNameConflict,
                                    name,
                                    "a team group with this name is not managed by teamsync; the group is skipped (adopt_existing_groups takes it over)",
                                );
                                continue;
                            }
                            let before = Observed::of_group(other);
                            let after = Observed::Group {
                                name: name.to_owned(),
                                external_id: Some(external_id.clone()),
                            };
                            let rename = (other.name != name).then(|| name.to_owned());
                            self.push(
                                Phase::Groups,
                                Action::AdoptGroup {
                                    group: GroupRef::GroupId(other.group_id.clone()),
                                    external_id: external_id.clone(),
                                    rename,
                                },
                                name.to_owned(),
                                before,
                                after,
                                "an unmanaged team group has this name; adopt_existing_groups takes it over".to_owned(),
                            );
                            // It has no external id of ours yet: later operations name it by its id.
                            group_ref = GroupRef::GroupId(other.group_id.clone());
                            Some(oi)
                        }
                    }
                }
            };
            self.stats.groups_in_scope += 1;
            if let Some(gi) = existing {
                let team_group = &a.groups[gi as usize];
                if team_group.name != name
                    && team_group.external_id.as_deref() == Some(external_id.as_str())
                {
                    let taken = self
                        .team_groups
                        .by_name
                        .get(&name.to_lowercase())
                        .is_some_and(|v| {
                            v.iter()
                                .any(|&x| a.groups[x as usize].group_id != team_group.group_id)
                        });
                    if taken {
                        self.warn(
                            WarningKind::GroupNameConflict,
                            name,
                            format!(
                                "cannot rename {}: another team group has this name",
                                quoted(&team_group.name)
                            ),
                        );
                    } else {
                        let before = Observed::of_group(team_group);
                        let after = Observed::Group {
                            name: name.to_owned(),
                            external_id: team_group.external_id.clone(),
                        };
                        self.push(
                            Phase::Groups,
                            Action::RenameGroup {
                                group: group_ref.clone(),
                                name: name.to_owned(),
                            },
                            name.to_owned(),
                            before,
                            after,
                            format!(
                                "renamed in the directory (was {}){}",
                                quoted(&team_group.name),
                                self.group_name_note()
                            ),
                        );
                    }
                }
            }
            self.diff_members(name, &group_ref, existing, &wanted, &mut marks);
        }

        // Managed team groups whose directory group is no longer synced.
        let mut left: Vec<(&str, u32)> = self
            .team_groups
            .managed
            .iter()
            .filter(|(s, _)| !handled.contains(*s))
            .map(|(s, g)| (*s, *g))
            .collect();
        left.sort_unstable();
        for (source, gi) in left {
            let entry = self.dir.find(source);
            if entry.is_some_and(|e| e.group_held) {
                continue;
            }
            let g = &a.groups[gi as usize];
            let why = if entry.is_some_and(|e| e.deleted) {
                "deleted in the directory"
            } else if let Some(rule) = self.group_exclusion(source) {
                rule
            } else if self.p.group_sync == GroupSync::Off {
                "group sync is off"
            } else {
                "left group scope"
            };
            let group_ref = GroupRef::ExternalId(g.external_id.clone().unwrap_or_default());
            match self.p.on_group_leave {
                GroupLeave::Keep => {}
                GroupLeave::Delete => {
                    self.push(
                        Phase::GroupCleanup,
                        Action::DeleteGroup { group: group_ref },
                        g.name.clone(),
                        Observed::of_group(g),
                        Observed::Absent,
                        format!("{why}; on_group_leave = delete"),
                    );
                }
                GroupLeave::Empty => {
                    let members = std::mem::take(&mut self.team_groups.members[gi as usize]);
                    for &mi in &members {
                        let flags = self.team.flags[mi as usize];
                        // Members left as they are (held, disabled, protected) keep their groups.
                        if flags.leaving_groups || flags.frozen {
                            continue;
                        }
                        let Some(member) = self.owned_ref(mi) else {
                            continue;
                        };
                        let m = self.member(mi);
                        self.push(
                            Phase::GroupCleanup,
                            Action::RemoveGroupMember {
                                group: group_ref.clone(),
                                member,
                            },
                            format!("{}: {}", g.name, m.email),
                            Observed::InGroup,
                            Observed::Absent,
                            format!("{why}; on_group_leave = empty"),
                        );
                    }
                    self.team_groups.members[gi as usize] = members;
                }
            }
        }
    }

    fn diff_members(
        &mut self,
        name: &str,
        group_ref: &GroupRef,
        existing: Option<u32>,
        wanted: &[u32],
        marks: &mut Marks,
    ) {
        let d = self.d;
        // Managed groups were resolved up front; an adopted one is resolved now.
        let current = match existing {
            Some(gi) if self.team_groups.is_managed(gi) => {
                std::mem::take(&mut self.team_groups.members[gi as usize])
            }
            Some(gi) => self.resolve_members(gi),
            None => Vec::new(),
        };
        // Mark the group's current members, then walk the wanted users.
        let stamp = marks.next_stamp();
        for &mi in &current {
            marks.member[mi as usize] = stamp;
        }
        let mut wanted_members: Vec<u32> = Vec::with_capacity(wanted.len());
        for &ui in wanted {
            let seat = self.seats[ui as usize];
            if let Seat::Member(mi) = seat {
                wanted_members.push(mi);
                if marks.member[mi as usize] == stamp {
                    continue;
                }
            }
            let u = &d.users[ui as usize];
            let email = match &self.user_plans[ui as usize] {
                UserPlan::Enabled { email, .. } => self.emails.text(*email),
                _ => match seat {
                    Seat::Member(mi) => self.member(mi).email.as_str(),
                    _ => "",
                },
            };
            let target = group_target(name, email);
            let member = MemberRef::ExternalId(self.external_id(u.id.as_str()));
            self.push(
                Phase::GroupAdds,
                Action::AddGroupMember {
                    group: group_ref.clone(),
                    member,
                },
                target,
                Observed::Absent,
                Observed::InGroup,
                "member of the directory group (directly or through nested groups)".to_owned(),
            );
        }
        let Some(gi) = existing else { return };
        let g: &TeamGroup = &self.a.groups[gi as usize];
        // Unmark the wanted; what stays marked is extra.
        for mi in wanted_members {
            marks.member[mi as usize] = 0;
        }
        for &mi in &current {
            if marks.member[mi as usize] != stamp {
                continue;
            }
            let flags = self.team.flags[mi as usize];
            if flags.frozen || flags.leaving_groups {
                continue;
            }
            let Some(member) = self.owned_ref(mi) else {
                continue;
            };
            let reason = if flags.seated {
                "no longer a member of the directory group"
            } else {
                "leaving the team"
            };
            let m = self.member(mi);
            self.push(
                Phase::GroupRemoves,
                Action::RemoveGroupMember {
                    group: group_ref.clone(),
                    member,
                },
                group_target(&g.name, m.email.as_str()),
                Observed::InGroup,
                Observed::Absent,
                reason.to_owned(),
            );
        }
        self.team_groups.members[gi as usize] = current;
    }

    /// The path a leaving member was in scope by, from the team's managed groups it is still in:
    /// "was in Dropbox Users via Backend → Platform; Platform is no longer in Backend". `None`
    /// when the team's groups say nothing about it.
    pub(super) fn lost_path(&self, team_groups: &[u32], user: Option<usize>) -> Option<String> {
        let d = self.d;
        let reach = &self.user_reach;
        // The directory groups whose managed team group holds this member.
        let mut was_in: Vec<u32> = team_groups
            .iter()
            .filter_map(|&gi| self.team_groups.source[gi as usize])
            .collect();
        if was_in.is_empty() {
            return None;
        }
        let by_id = |x: &u32, y: &u32| d.groups[*x as usize].id.cmp(&d.groups[*y as usize].id);
        was_in.sort_unstable_by(by_id);
        // Still reached: the deepest is where the path broke below.
        let still = was_in
            .iter()
            .copied()
            .filter(|&g| reach.reached[g as usize])
            .max_by(|x, y| {
                reach
                    .path(*x)
                    .len()
                    .cmp(&reach.path(*y).len())
                    .then(by_id(y, x))
            });
        // No longer reached: prefer a group the user is directly in.
        let direct = |g: u32| {
            user.is_some_and(|u| {
                self.dir
                    .members(g)
                    .iter()
                    .any(|n| n.as_user() == Some(u as u32))
            })
        };
        let lost = was_in
            .iter()
            .copied()
            .filter(|&g| !reach.reached[g as usize])
            .min_by(|x, y| direct(*y).cmp(&direct(*x)).then(by_id(x, y)));
        let names = |path: &[u32]| {
            path.iter()
                .map(|&g| self.group_name(g))
                .collect::<Vec<_>>()
                .join(" → ")
        };
        match (still, lost) {
            (Some(b), Some(l)) => {
                let path = reach.path(b);
                let root = self.group_name(path[0]);
                let mut via: Vec<u32> = path[1..].to_vec();
                via.push(l);
                Some(format!(
                    "was in {root} via {}; {} is no longer in {}",
                    names(&via),
                    self.group_name(l),
                    self.group_name(b)
                ))
            }
            (Some(b), None) => {
                let path = reach.path(b);
                let root = self.group_name(path[0]);
                let via = if path.len() > 1 {
                    format!(" via {}", names(&path[1..]))
                } else {
                    String::new()
                };
                Some(format!(
                    "was in {root}{via}; no longer a member of {}",
                    self.group_name(b)
                ))
            }
            (None, Some(l)) => Some(format!(
                "was in {}; it is no longer under a user root",
                self.group_name(l)
            )),
            (None, None) => None,
        }
    }
}

impl TeamGroups<'_> {
    pub(super) fn empty() -> Self {
        TeamGroups {
            managed: FxHashMap::default(),
            by_name: FxHashMap::default(),
            members: Vec::new(),
            source: Vec::new(),
            managed_flag: Vec::new(),
        }
    }

    fn is_managed(&self, gi: u32) -> bool {
        self.managed_flag.get(gi as usize).copied().unwrap_or(false)
    }

    /// For each member in `wanted` (a flag per member), the managed team groups holding it.
    pub(super) fn groups_of(&self, wanted: &[bool]) -> FxHashMap<u32, Vec<u32>> {
        let mut out: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for &gi in self.managed.values() {
            for &mi in &self.members[gi as usize] {
                if wanted[mi as usize] {
                    out.entry(mi).or_default().push(gi);
                }
            }
        }
        out
    }
}

/// `<group>: <email>`, the target of a group membership operation.
fn group_target(group: &str, email: &str) -> String {
    let mut target = String::with_capacity(group.len() + 2 + email.len());
    target.push_str(group);
    target.push_str(": ");
    target.push_str(email);
    target
}

/// Stamps over the team's members, reused across groups: a member is marked for the group
/// being diffed when its stamp is the current one.
struct Marks {
    member: Vec<u32>,
    stamp: u32,
}

impl Marks {
    fn new(members: usize) -> Self {
        Marks {
            member: vec![0; members],
            stamp: 0,
        }
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp += 1;
        self.stamp
    }
}
