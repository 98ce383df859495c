//! A saved plan is input, not authority.
//!
//! `teamsync plan --out FILE` writes a plan that someone reviews and `apply --plan FILE` applies
//! later. Between the two the file can be edited. So nothing in it is trusted that can be
//! derived again:
//!
//! * the guard is recomputed from the operations ([`Guard::for_operations`]), never read from
//!   the file;
//! * every operation is checked against the ownership rules on the team as it is now
//!   ([`ownership_refusals`]): an operation may act only on members and groups teamsync owns
//!   (or adopts in the same plan, as the policy allows), never suspend a protected admin, and
//!   only write teamsync's own external ids;
//! * by default the plan is compared with a fresh plan made from the directory and team as they
//!   are now ([`replan_refusals`]): any saved operation the planner would not produce now is
//!   refused, so a reviewed plan is applied exactly, and only while it is still true.
//!
//! Binding a plan to its team and its age needs the team's id and a clock, which the core does
//! not have: [`PlanOrigin`] carries them, filled in by the runner.

use std::collections::BTreeSet;
use std::fmt;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::model::{ActualState, GroupRef, MemberRef, MemberStatus, TeamGroup, TeamMember};
use crate::plan::{Action, Guard, Operation, Plan};
use crate::policy::Policy;

/// Where and when a saved plan was made: written by the runner into `plan --out` files and
/// checked by `apply --plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanOrigin {
    /// The Dropbox team's id (`team/get_info`).
    pub team_id: String,
    /// The team's name, for messages.
    pub team_name: String,
    /// The directory it was planned from, as the config describes it (e.g. `ldap ldaps://dc1:636`).
    pub directory: String,
    /// When it was made, in seconds since the Unix epoch.
    pub created_at: u64,
    /// The people `plan --only` restricted it to (emails or directory ids, as given); empty
    /// for a whole plan. `apply --plan` re-plans for the same people, so the plan reviewed
    /// for them is applied, and nothing added for anyone else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
}

impl PlanOrigin {
    /// A plan origin.
    pub fn new(team_id: String, team_name: String, directory: String, created_at: u64) -> Self {
        Self {
            team_id,
            team_name,
            directory,
            created_at,
            only: Vec::new(),
        }
    }

    /// The origin of a plan restricted to `people` ([`PlanOrigin::only`]).
    pub fn with_only(mut self, people: Vec<String>) -> Self {
        self.only = people;
        self
    }
}

/// Why one operation of a saved plan is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refusal {
    /// Position in [`Plan::operations`].
    pub index: usize,
    /// The operation's verb and target, as the file shows them.
    pub operation: String,
    /// Why.
    pub why: RefusalReason,
}

/// The reasons an operation of a saved plan is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefusalReason {
    /// It acts on a member teamsync does not own (another tool's, or nobody's) and does not
    /// adopt in this plan.
    MemberNotOwned {
        /// The member as the operation names it.
        member: String,
    },
    /// It acts on a group teamsync does not own and does not create or adopt in this plan.
    GroupNotOwned {
        /// The group as the operation names it.
        group: String,
    },
    /// It suspends or removes a team admin while `deprovision_admins` is off.
    AdminProtected {
        /// The admin.
        member: String,
    },
    /// It adopts a member or group the policy does not allow teamsync to take over.
    AdoptionNotAllowed {
        /// What it would adopt.
        subject: String,
    },
    /// It writes an external id outside teamsync's prefix.
    ForeignExternalId {
        /// The id it would write.
        external_id: String,
    },
    /// The planner, run now on the current directory and team, does not produce it.
    NotPlannedNow,
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MemberNotOwned { member } => {
                write!(f, "acts on {member}, a member teamsync does not own")
            }
            Self::GroupNotOwned { group } => {
                write!(f, "acts on {group}, a group teamsync does not own")
            }
            Self::AdminProtected { member } => write!(
                f,
                "would deprovision {member}, a team admin (deprovision_admins is off)"
            ),
            Self::AdoptionNotAllowed { subject } => {
                write!(
                    f,
                    "would take over {subject}, which the policy does not allow"
                )
            }
            Self::ForeignExternalId { external_id } => write!(
                f,
                "would write the external id {}, outside teamsync's prefix",
                crate::text::quoted(external_id)
            ),
            Self::NotPlannedNow => {
                f.write_str("is not what the planner produces now from the directory and the team")
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "operation {} ({}) {}",
            self.index + 1,
            self.operation,
            self.why
        )
    }
}

impl Guard {
    /// The guard of `operations` on `actual` under `policy`: the counts come from the
    /// operations themselves, the limits from the policy and the members and memberships
    /// teamsync manages now. The planner and the saved-plan check both use this.
    pub fn for_operations(
        operations: &[Operation],
        actual: &ActualState,
        policy: &Policy,
    ) -> Guard {
        let prefix = policy.external_id_prefix.as_str();
        let owned = |x: &Option<String>| x.as_deref().is_some_and(|x| x.starts_with(prefix));
        let managed_members = actual
            .members
            .iter()
            .filter(|m| owned(&m.external_id) && !matches!(m.status, MemberStatus::Removed { .. }))
            .count();
        let managed_memberships: usize = actual
            .groups
            .iter()
            .filter(|g| owned(&g.external_id))
            .map(|g| g.members.len())
            .sum();
        Guard {
            deprovisions: operations
                .iter()
                .filter(|op| op.action.is_deprovision())
                .count(),
            deprovision_limit: policy.max_deprovision.allowed(managed_members),
            group_member_removals: operations
                .iter()
                .filter(|op| matches!(op.action, Action::RemoveGroupMember { .. }))
                .count(),
            group_member_removal_limit: policy
                .max_group_member_removals
                .allowed(managed_memberships),
        }
    }
}

/// The team as the ownership check sees it.
struct Team<'a> {
    prefix: &'a str,
    by_id: FxHashMap<&'a str, &'a TeamMember>,
    by_external: FxHashMap<&'a str, &'a TeamMember>,
    by_email: FxHashMap<&'a str, &'a TeamMember>,
    groups_by_id: FxHashMap<&'a str, &'a TeamGroup>,
    groups_by_external: FxHashMap<&'a str, &'a TeamGroup>,
}

impl<'a> Team<'a> {
    fn new(actual: &'a ActualState, prefix: &'a str) -> Self {
        let mut team = Team {
            prefix,
            by_id: FxHashMap::default(),
            by_external: FxHashMap::default(),
            by_email: FxHashMap::default(),
            groups_by_id: FxHashMap::default(),
            groups_by_external: FxHashMap::default(),
        };
        for m in &actual.members {
            team.by_id.insert(&m.team_member_id, m);
            team.by_email.insert(m.email.as_str(), m);
            if let Some(x) = &m.external_id {
                team.by_external.insert(x, m);
            }
        }
        for g in &actual.groups {
            team.groups_by_id.insert(&g.group_id, g);
            if let Some(x) = &g.external_id {
                team.groups_by_external.insert(x, g);
            }
        }
        team
    }

    fn owns(&self, external_id: Option<&str>) -> bool {
        external_id.is_some_and(|x| x.starts_with(self.prefix))
    }

    fn member(&self, member: &MemberRef) -> Option<&'a TeamMember> {
        match member {
            MemberRef::ExternalId(x) => self.by_external.get(x.as_str()).copied(),
            MemberRef::TeamMemberId(id) => self.by_id.get(id.as_str()).copied(),
            MemberRef::Email(email) => self.by_email.get(email.as_str()).copied(),
        }
    }

    fn group(&self, group: &GroupRef) -> Option<&'a TeamGroup> {
        match group {
            GroupRef::ExternalId(x) => self.groups_by_external.get(x.as_str()).copied(),
            GroupRef::GroupId(id) => self.groups_by_id.get(id.as_str()).copied(),
        }
    }
}

/// Every operation of `plan` that breaks the ownership rules on `actual` under `policy` (see
/// the module doc), plus a refusal of every operation when the plan was made with another
/// external id prefix than the policy's.
pub fn ownership_refusals(plan: &Plan, actual: &ActualState, policy: &Policy) -> Vec<Refusal> {
    let team = Team::new(actual, &policy.external_id_prefix);
    let foreign_id = |x: &str| !x.starts_with(team.prefix);
    let may_adopt_member = |member: &MemberRef| {
        team.member(member).is_some_and(|m| match &m.external_id {
            None => policy.manage_existing_users,
            Some(x) if x.starts_with(team.prefix) => true,
            // An external-id match rule names which foreign members to take over.
            Some(_) => policy.adopt_foreign || policy.rules.matches_by_external_id(),
        })
    };
    let may_adopt_group = |group: &GroupRef| {
        team.group(group).is_some_and(|g| {
            team.owns(g.external_id.as_deref())
                || (policy.adopt_existing_groups && g.external_id.is_none())
        })
    };
    // What this plan itself brings under management (by an allowed invite, creation or
    // adoption) before later operations name it.
    let mut new_members: FxHashSet<String> = FxHashSet::default();
    let mut new_groups: FxHashSet<String> = FxHashSet::default();
    for op in &plan.operations {
        match &op.action {
            Action::Invite { member } if !foreign_id(&member.external_id) => {
                new_members.insert(format!("x:{}", member.external_id));
            }
            Action::AdoptMember { member, change }
                if may_adopt_member(member)
                    && !change.external_id.as_deref().is_some_and(foreign_id) =>
            {
                new_members.insert(member_key(member));
                if let Some(m) = team.member(member) {
                    new_members.insert(format!("id:{}", m.team_member_id));
                }
                if let Some(x) = &change.external_id {
                    new_members.insert(format!("x:{x}"));
                }
            }
            Action::CreateGroup { external_id, .. } if !foreign_id(external_id) => {
                new_groups.insert(format!("x:{external_id}"));
            }
            Action::AdoptGroup {
                group, external_id, ..
            } if may_adopt_group(group) && !foreign_id(external_id) => {
                new_groups.insert(group_key(group));
                if let Some(g) = team.group(group) {
                    new_groups.insert(format!("gid:{}", g.group_id));
                }
                new_groups.insert(format!("x:{external_id}"));
            }
            _ => {}
        }
    }

    let mut refusals = Vec::new();
    for (index, op) in plan.operations.iter().enumerate() {
        let mut refuse = |why: RefusalReason| {
            refusals.push(Refusal {
                index,
                operation: format!("{} {}", op.action.verb(), op.target),
                why,
            });
        };
        match &op.action {
            Action::Invite { member } => {
                if foreign_id(&member.external_id) {
                    refuse(RefusalReason::ForeignExternalId {
                        external_id: member.external_id.clone(),
                    });
                }
                continue;
            }
            Action::CreateGroup { external_id, .. } => {
                if foreign_id(external_id) {
                    refuse(RefusalReason::ForeignExternalId {
                        external_id: external_id.clone(),
                    });
                }
                continue;
            }
            Action::AdoptMember { member, change } => {
                if let Some(x) = change.external_id.as_deref().filter(|x| foreign_id(x)) {
                    refuse(RefusalReason::ForeignExternalId {
                        external_id: x.to_owned(),
                    });
                }
                if !may_adopt_member(member) {
                    refuse(RefusalReason::AdoptionNotAllowed {
                        subject: member.to_string(),
                    });
                }
                continue;
            }
            Action::AdoptGroup {
                group, external_id, ..
            } => {
                if foreign_id(external_id) {
                    refuse(RefusalReason::ForeignExternalId {
                        external_id: external_id.clone(),
                    });
                }
                if !may_adopt_group(group) {
                    refuse(RefusalReason::AdoptionNotAllowed {
                        subject: group.to_string(),
                    });
                }
                continue;
            }
            _ => {}
        }
        if let Some(group) = op.action.group() {
            let owned = new_groups.contains(&group_key(group))
                || team.group(group).is_some_and(|g| {
                    team.owns(g.external_id.as_deref())
                        || new_groups.contains(&format!("gid:{}", g.group_id))
                });
            if !owned {
                refuse(RefusalReason::GroupNotOwned {
                    group: group.to_string(),
                });
            }
        }
        if let Some(member) = op.action.member() {
            let found = team.member(member);
            let owned = new_members.contains(&member_key(member))
                || found.is_some_and(|m| {
                    team.owns(m.external_id.as_deref())
                        || new_members.contains(&format!("id:{}", m.team_member_id))
                });
            if !owned {
                refuse(RefusalReason::MemberNotOwned {
                    member: member.to_string(),
                });
            } else if op.action.is_deprovision()
                && !policy.deprovision_admins
                && found.is_some_and(|m| m.is_admin)
            {
                refuse(RefusalReason::AdminProtected {
                    member: member.to_string(),
                });
            }
        }
    }
    refusals
}

fn member_key(member: &MemberRef) -> String {
    match member {
        MemberRef::ExternalId(x) => format!("x:{x}"),
        MemberRef::TeamMemberId(id) => format!("id:{id}"),
        MemberRef::Email(email) => format!("email:{email}"),
    }
}

fn group_key(group: &GroupRef) -> String {
    match group {
        GroupRef::ExternalId(x) => format!("x:{x}"),
        GroupRef::GroupId(id) => format!("gid:{id}"),
    }
}

/// The saved operations that `fresh` (a plan made now from the current directory and team, with
/// the same policy) does not contain. Operations are compared on everything but their reason:
/// phase, action, displayed target and the state they were planned against.
pub fn replan_refusals(saved: &Plan, fresh: &Plan) -> Vec<Refusal> {
    let now: BTreeSet<_> = fresh.operations.iter().map(comparable).collect();
    saved
        .operations
        .iter()
        .enumerate()
        .filter(|(_, op)| !now.contains(&comparable(op)))
        .map(|(index, op)| Refusal {
            index,
            operation: format!("{} {}", op.action.verb(), op.target),
            why: RefusalReason::NotPlannedNow,
        })
        .collect()
}

fn comparable(op: &Operation) -> impl Ord + '_ {
    (op.phase, &op.action, &op.target, &op.before, &op.after)
}
