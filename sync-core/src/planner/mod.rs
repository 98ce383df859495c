//! `plan(desired, actual, policy)`: the sync rules of DESIGN §3 as one pure function.
//!
//! One concern per file:
//! * [`index`]: both sides indexed once, ids and addresses interned into dense indices;
//! * [`scope`]: reach from the roots (with paths), cycles, and every group's transitive users;
//! * [`users`]: which in-scope users can be planned, and their cleaned names and addresses;
//! * [`members`]: the lifecycle table for every managed member;
//! * [`new_users`]: invites and adoptions for users with no member yet;
//! * [`groups`]: synced groups, their membership, and managed groups that left scope;
//! * [`names`]: Dropbox's rules for names and addresses, and the wording of changes.
//!
//! Output is sorted on what operations do (phase, action, target), so the same inputs in any
//! order give the same plan.

mod groups;
mod index;
mod members;
mod names;
mod new_users;
mod rule_hooks;
mod scope;
mod users;

use std::borrow::Cow;

use crate::model::SourceIssue;
use crate::model::{ActualState, DesiredState, TeamMember};
use crate::plan::{
    Action, Guard, IdleUser, Observed, Operation, PLAN_FORMAT_VERSION, Phase, Plan, Stats, Warning,
    WarningKind,
};
use crate::policy::{Policy, PolicyError};
use crate::rules::prepare::{RuleEffects, prepare};
use crate::text::quoted;

use index::{DirectoryIndex, Emails, TeamIndex};
use scope::Reach;

pub use names::{NAME_PART_MAX, clean_name_part};

/// Why no plan could be made. Either of these stops the run before anything is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The policy is unusable.
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// No user is in scope: the directory read or the root group is probably wrong, so nothing
    /// is planned (a plan now would deprovision everyone).
    #[error(
        "no users in scope (user roots: {roots}); refusing to plan, since every managed member would be deprovisioned"
    )]
    NoUsersInScope {
        /// How many user roots the snapshot named.
        roots: usize,
    },
}

/// Makes the plan that brings `actual` in line with `desired` under `policy`.
///
/// Pure and deterministic: no I/O, no clock; inputs in any order give the same plan.
pub fn plan(
    desired: &DesiredState,
    actual: &ActualState,
    policy: &Policy,
) -> Result<Plan, PlanError> {
    policy.validate()?;
    match policy.rules.compiled() {
        None => plan_with(desired, actual, policy, None),
        Some(rules) => {
            let effects = prepare(desired, actual, policy, rules);
            plan_with(desired, actual, policy, Some(&effects))
        }
    }
}

/// The plan for a snapshot as the rules (if any) change it: `rules` says what they did, by
/// index, and the planner reads the snapshot through it.
fn plan_with(
    desired: &DesiredState,
    actual: &ActualState,
    policy: &Policy,
    rules: Option<&RuleEffects>,
) -> Result<Plan, PlanError> {
    let mut planner = Planner::new(desired, actual, policy, rules);
    planner.report_directory();
    planner.hold_rule_groups();
    planner.compute_user_scope();
    if planner.stats.users_in_scope == 0 {
        return Err(PlanError::NoUsersInScope {
            roots: desired.user_roots.len(),
        });
    }
    // The team first: most users' addresses are their members', known valid and interned.
    planner.index_team();
    planner.classify_users();
    planner.index_team_groups();
    planner.plan_managed_members();
    planner.plan_new_users();
    planner.plan_groups();
    Ok(planner.finish())
}

/// What the plan will do with a directory user.
#[derive(Debug, Clone)]
enum UserPlan<'a> {
    /// Not in user scope.
    OutOfScope,
    /// In scope, but not planned: its managed member is left as it is.
    Held,
    /// Disabled in the directory.
    Disabled,
    /// Enabled, with a usable address (an entry of [`Emails`]) and cleaned names.
    Enabled {
        email: u32,
        given_name: Cow<'a, str>,
        surname: Cow<'a, str>,
    },
}

/// Where a user stands after the plan, for group membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    /// No seat: not added to groups.
    None,
    /// Invited by this plan.
    New,
    /// This existing member.
    Member(u32),
}

/// The plan under construction: both sides indexed, per-user and per-member state, and the
/// operations and warnings so far. Its methods live in the files of the concern they serve.
struct Planner<'a> {
    d: &'a DesiredState,
    a: &'a ActualState,
    p: &'a Policy,
    /// What the policy's rules did to the snapshot, when it has rules.
    rules: Option<&'a RuleEffects>,

    dir: DirectoryIndex<'a>,
    emails: Emails<'a>,
    team: TeamIndex<'a>,
    team_groups: groups::TeamGroups<'a>,
    /// The directory's strongly connected sets of groups, found while reporting cycles.
    components: Option<scope::Components>,
    /// Groups the user roots reach, with paths.
    user_reach: Reach,
    in_scope: Vec<bool>,
    user_plans: Vec<UserPlan<'a>>,
    seats: Vec<Seat>,

    ops: Vec<Operation>,
    warnings: Vec<Warning>,
    idle: Vec<IdleUser>,
    stats: Stats,
}

impl<'a> Planner<'a> {
    fn new(
        d: &'a DesiredState,
        a: &'a ActualState,
        p: &'a Policy,
        rules: Option<&'a RuleEffects>,
    ) -> Self {
        Planner {
            d,
            a,
            p,
            rules,
            dir: DirectoryIndex::new(d, rules),
            emails: Emails::with_capacity(d.users.len() + a.members.len() / 8),
            team: TeamIndex::empty(),
            team_groups: groups::TeamGroups::empty(),
            components: None,
            user_reach: Reach::empty(),
            in_scope: Vec::new(),
            user_plans: Vec::new(),
            seats: Vec::new(),
            ops: Vec::new(),
            warnings: Vec::new(),
            idle: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The snapshot's issues, then those of the rules.
    fn issues(&self) -> impl Iterator<Item = &'a SourceIssue> + use<'a> {
        let rules: &'a [SourceIssue] = self.rules.map_or(&[], |e| e.issues.as_slice());
        self.d.issues.iter().chain(rules)
    }

    fn warn(&mut self, kind: WarningKind, subject: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning::new(kind, subject, message));
    }

    fn push(
        &mut self,
        phase: Phase,
        action: Action,
        target: String,
        before: Observed,
        after: Observed,
        reason: String,
    ) {
        self.ops.push(Operation {
            phase,
            action,
            target,
            before,
            after,
            reason,
        });
    }

    /// `<prefix><id>`.
    fn external_id(&self, id: &str) -> String {
        let mut s = String::with_capacity(self.p.external_id_prefix.len() + id.len());
        s.push_str(&self.p.external_id_prefix);
        s.push_str(id);
        s
    }

    fn member(&self, mi: u32) -> &'a TeamMember {
        &self.a.members[mi as usize]
    }

    fn index_team(&mut self) {
        let prefix = self.p.external_id_prefix.as_str();
        self.team = TeamIndex::new(
            self.a,
            prefix,
            &mut self.dir,
            &mut self.emails,
            self.d.users.len(),
        );
        for mi in std::mem::take(&mut self.team.malformed) {
            let m = self.member(mi);
            self.warn(
                WarningKind::MalformedExternalId,
                m.email.as_str(),
                format!(
                    "external id {} has teamsync's prefix but no valid directory id; left alone",
                    quoted(m.external_id.as_deref().unwrap_or_default())
                ),
            );
        }
        self.stats.managed_members = self
            .team
            .flags
            .iter()
            .zip(&self.a.members)
            .filter(|(f, m)| f.owned && !m.status.is_removed())
            .count();
    }

    fn finish(mut self) -> Plan {
        // Ordered and de-duplicated on what an operation does (phase, action, target: see
        // `Operation`'s `Ord` and `Eq`); the reason is for people and takes no part. The sort is
        // stable, so of two operations that do the same the first planned stays.
        // Sorted through a permutation: operations are large, indices are cheap to move.
        let mut order: Vec<u32> = (0..self.ops.len() as u32).collect();
        order.sort_by(|&x, &y| self.ops[x as usize].cmp(&self.ops[y as usize]));
        order.dedup_by(|later, kept| self.ops[*later as usize] == self.ops[*kept as usize]);
        let mut slots: Vec<Option<Operation>> = std::mem::take(&mut self.ops)
            .into_iter()
            .map(Some)
            .collect();
        self.ops = order
            .iter()
            .filter_map(|&i| slots[i as usize].take())
            .collect();
        self.warnings.sort_unstable();
        self.warnings.dedup();
        self.idle.sort_unstable();

        // One computation of the guard, shared with the check of saved plans.
        let guard = Guard::for_operations(&self.ops, self.a, self.p);
        if guard.needs_permission() {
            self.warnings.push(Warning::new(
                WarningKind::GuardLimit,
                "guard",
                format!(
                    "the plan suspends or removes {} of {} managed members (limit {}) and removes {} group memberships (limit {}); apply refuses without explicit permission",
                    guard.deprovisions, self.stats.managed_members, guard.deprovision_limit, guard.group_member_removals, guard.group_member_removal_limit
                ),
            ));
        }
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            external_id_prefix: self.p.external_id_prefix.clone(),
            operations: self.ops,
            warnings: self.warnings,
            idle: self.idle,
            guard,
            stats: self.stats,
            origin: None,
        }
    }
}
