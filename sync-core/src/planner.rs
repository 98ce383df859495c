//! `plan(desired, actual, policy)`: the sync rules of DESIGN §3 as one pure function.
//!
//! The planner indexes both sides into hash maps, computes user scope and synced groups from
//! the directory's nesting (cycle-safe), walks the lifecycle table for every managed member,
//! invites or adopts the users who have no member yet, and diffs group membership. Output is
//! sorted, so the same inputs in any order give the same plan.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{
    ActualState, DesiredState, DirectoryUser, Email, GroupRef, ManagementType, MemberRef,
    MemberStatus, SourceId, TeamGroup, TeamMember,
};
use crate::plan::{
    Action, Guard, Observed, Operation, PLAN_FORMAT_VERSION, Phase, Plan, Stats, Warning,
    WarningKind,
};
use crate::policy::{
    GroupLeave, GroupSync, InvitedDeprovision, LeaveAction, Policy, PolicyError, RemovalTransfer,
};
use crate::rules::prepare::{RuleEffects, prepare};
use crate::store::{NewMember, ProfileChange, RemoveMode, RemoveOptions};

mod rule_hooks;

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

/// Longest name part Dropbox accepts.
pub const NAME_PART_MAX: usize = 50;
const FORBIDDEN_NAME_CHARS: &[char] = &['/', ':', '?', '*', '<', '>', '"', '|'];
/// Printable ASCII that Dropbox accepts in a name part as it is.
const PLAIN_NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        table[b] = !matches!(
            b as u8,
            b'/' | b':' | b'?' | b'*' | b'<' | b'>' | b'"' | b'|'
        );
        b += 1;
    }
    table
};

/// Cleans a name part to Dropbox's rules: trimmed, forbidden characters `/:?*<>"|` and control
/// characters dropped, cut to 50 characters on a character boundary. Borrowed when already clean.
pub fn clean_name_part(name: &str) -> Cow<'_, str> {
    let trimmed = name.trim();
    // Fast path, taken by nearly every name: short, printable ASCII, nothing forbidden.
    if trimmed.len() <= NAME_PART_MAX && trimmed.bytes().all(|b| PLAIN_NAME_BYTE[b as usize]) {
        return Cow::Borrowed(trimmed);
    }
    let clean = |c: char| !FORBIDDEN_NAME_CHARS.contains(&c) && !c.is_control();
    if trimmed.chars().count() <= NAME_PART_MAX && trimmed.chars().all(clean) {
        return Cow::Borrowed(trimmed);
    }
    let kept: String = trimmed
        .chars()
        .filter(|&c| clean(c))
        .take(NAME_PART_MAX)
        .collect();
    let kept_trimmed = kept.trim();
    if kept_trimmed.len() == kept.len() {
        Cow::Owned(kept)
    } else {
        Cow::Owned(kept_trimmed.to_owned())
    }
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
            let prepared = prepare(desired, actual, policy, rules);
            plan_with(&prepared.desired, actual, policy, Some(&prepared.effects))
        }
    }
}

fn plan_with(
    desired: &DesiredState,
    actual: &ActualState,
    policy: &Policy,
    rules: Option<&RuleEffects>,
) -> Result<Plan, PlanError> {
    let mut planner = Planner::new(desired, actual, policy, rules);
    planner.index_directory();
    planner.hold_rule_groups();
    planner.compute_user_scope();
    if planner.stats.users_in_scope == 0 {
        return Err(PlanError::NoUsersInScope {
            roots: desired.user_roots.len(),
        });
    }
    planner.classify_users();
    planner.find_collisions();
    planner.index_team();
    planner.plan_managed_members();
    planner.plan_new_users();
    planner.plan_groups();
    Ok(planner.finish())
}

/// What the plan will do with an in-scope user.
#[derive(Debug, Clone)]
enum UserPlan<'a> {
    /// Not planned; its managed member is left as it is.
    Held,
    /// Disabled in the directory.
    Disabled,
    /// Enabled, with a usable email and cleaned names.
    Enabled {
        email: Cow<'a, str>,
        given_name: Cow<'a, str>,
        surname: Cow<'a, str>,
    },
}

/// A direct member of a directory group, resolved once to an index.
#[derive(Debug, Clone, Copy)]
enum Node {
    User(u32),
    Group(u32),
}

/// Whether a user holds a seat after the plan: `Some(member)` when the member already exists.
type Seat = Option<u32>;

/// Where a managed member's source id stands in the directory.
enum DirectoryStanding {
    Held,
    Enabled(usize),
    Disabled(usize),
    OutOfScope,
    Deleted,
}

/// Per-member flags, indexed like `ActualState::members`.
#[derive(Debug, Clone, Copy, Default)]
struct MemberFlags {
    /// teamsync's member for its source id (the one a managed external id resolves to).
    owned: bool,
    /// Its directory entry has a problem: group memberships are left as they are.
    frozen: bool,
    /// Keeps a seat after the plan.
    seated: bool,
    /// Removed or its invitation withdrawn by this plan, which takes it out of its groups.
    leaving_groups: bool,
    /// Adopted by this plan: teamsync's once the plan has run.
    adopted: bool,
}

struct Planner<'a> {
    d: &'a DesiredState,
    a: &'a ActualState,
    p: &'a Policy,
    /// What the policy's rules did to the snapshot, when it has rules.
    rules: Option<&'a RuleEffects>,

    user_index: FxHashMap<&'a str, u32>,
    group_index: FxHashMap<&'a str, u32>,
    /// Direct members of each directory group, resolved.
    group_nodes: Vec<Vec<Node>>,
    held_ids: FxHashSet<&'a str>,
    held_group_ids: FxHashSet<&'a str>,
    deleted: FxHashSet<&'a str>,
    in_scope: Vec<bool>,
    user_plans: Vec<Option<UserPlan<'a>>>,
    seats: Vec<Option<Seat>>,
    /// Addresses several in-scope users claim: nobody takes them.
    colliding_emails: FxHashSet<String>,
    colliding_users: Vec<bool>,

    /// Members by Dropbox id.
    member_index: FxHashMap<&'a str, u32>,
    flags: Vec<MemberFlags>,
    /// teamsync's member for each directory user.
    member_of_user: Vec<Option<u32>>,
    /// teamsync's members whose source id is not a directory user, by source id.
    orphans: FxHashMap<&'a str, u32>,
    live_by_email: FxHashMap<&'a str, u32>,
    reserved_by_removed: FxHashMap<&'a str, u32>,
    /// Addresses of invitations this plan withdraws: free for other members.
    released_emails: FxHashSet<&'a str>,

    ops: Vec<Operation>,
    warnings: Vec<Warning>,
    stats: Stats,
}

/// A source id as teamsync writes it: what `SourceId::new` accepts, checked without allocating.
fn is_valid_source(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return false;
    };
    !first.is_whitespace()
        && !last.is_whitespace()
        && (s.len() <= SourceId::MAX_LEN || s.chars().count() <= SourceId::MAX_LEN)
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
            user_index: FxHashMap::default(),
            group_index: FxHashMap::default(),
            group_nodes: Vec::new(),
            held_ids: FxHashSet::default(),
            held_group_ids: FxHashSet::default(),
            deleted: FxHashSet::default(),
            in_scope: Vec::new(),
            user_plans: Vec::new(),
            seats: Vec::new(),
            colliding_emails: FxHashSet::default(),
            colliding_users: Vec::new(),
            member_index: FxHashMap::default(),
            flags: Vec::new(),
            member_of_user: Vec::new(),
            orphans: FxHashMap::default(),
            live_by_email: FxHashMap::default(),
            reserved_by_removed: FxHashMap::default(),
            released_emails: FxHashSet::default(),
            ops: Vec::new(),
            warnings: Vec::new(),
            stats: Stats::default(),
        }
    }

    fn warn(&mut self, kind: WarningKind, subject: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            kind,
            subject: subject.into(),
            message: message.into(),
        });
    }

    fn external_id(&self, id: &str) -> String {
        let mut s = String::with_capacity(self.p.external_id_prefix.len() + id.len());
        s.push_str(&self.p.external_id_prefix);
        s.push_str(id);
        s
    }

    fn member(&self, mi: u32) -> &'a TeamMember {
        &self.a.members[mi as usize]
    }

    fn index_directory(&mut self) {
        let d = self.d;
        self.user_index.reserve(d.users.len());
        for (i, u) in d.users.iter().enumerate() {
            if let Some(&first) = self.user_index.get(u.id.as_str()) {
                if self.held_ids.insert(u.id.as_str()) {
                    let (a, b) = (locator(&d.users[first as usize]), locator(u));
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    self.warn(
                        WarningKind::DuplicateUserId,
                        u.id.as_str(),
                        format!("two directory users have id {} ({a}; {b}); neither is changed until one is fixed", u.id),
                    );
                }
            } else {
                self.user_index.insert(u.id.as_str(), i as u32);
            }
        }
        for (i, g) in d.groups.iter().enumerate() {
            if self.group_index.contains_key(g.id.as_str()) {
                if self.held_group_ids.insert(g.id.as_str()) {
                    self.warn(
                        WarningKind::DuplicateGroupId,
                        g.id.as_str(),
                        format!("two directory groups have id {}; the group is not synced until one is fixed", g.id),
                    );
                }
            } else {
                self.group_index.insert(g.id.as_str(), i as u32);
            }
        }
        // Members resolved once; ids the snapshot does not hold are out of scope and dropped.
        self.group_nodes = d
            .groups
            .iter()
            .map(|g| {
                g.members
                    .iter()
                    .filter_map(|m| {
                        let m = m.as_str();
                        self.user_index
                            .get(m)
                            .map(|&u| Node::User(u))
                            .or_else(|| self.group_index.get(m).map(|&sub| Node::Group(sub)))
                    })
                    .collect()
            })
            .collect();
        for cycle in group_cycles(&self.group_nodes) {
            let mut names: Vec<String> = cycle
                .iter()
                .map(|&g| group_label(&d.groups[g as usize]))
                .collect();
            names.sort_unstable();
            let message = if names.len() == 1 {
                "the group contains itself; tolerated (its people count once)".to_owned()
            } else {
                format!(
                    "these {} groups contain each other in a cycle: {}; tolerated (their people count once)",
                    names.len(),
                    names.join(", ")
                )
            };
            self.warn(WarningKind::GroupCycle, names[0].clone(), message);
        }
        for issue in &d.issues {
            if let Some(id) = &issue.id {
                self.held_ids.insert(id.as_str());
            }
            self.warn(
                WarningKind::SourceIssue,
                issue.entry.clone(),
                issue.problem.clone(),
            );
        }
        self.deleted = d.deleted.iter().map(SourceId::as_str).collect();
    }

    /// The groups reachable from `roots` (roots included), in no particular order.
    fn reachable_groups(&self, roots: &[SourceId]) -> Vec<u32> {
        let mut seen = vec![false; self.d.groups.len()];
        let mut queue: Vec<u32> = Vec::new();
        for root in roots {
            if let Some(&g) = self.group_index.get(root.as_str()) {
                if !seen[g as usize] {
                    seen[g as usize] = true;
                    queue.push(g);
                }
            }
        }
        let mut reached = Vec::new();
        while let Some(g) = queue.pop() {
            reached.push(g);
            for node in &self.group_nodes[g as usize] {
                if let Node::Group(sub) = *node {
                    if !seen[sub as usize] {
                        seen[sub as usize] = true;
                        queue.push(sub);
                    }
                }
            }
        }
        reached
    }

    /// Marks the users reachable from the user roots.
    fn compute_user_scope(&mut self) {
        let d = self.d;
        for root in &d.user_roots {
            if !self.group_index.contains_key(root.as_str()) {
                self.warn(
                    WarningKind::UnknownRoot,
                    root.as_str(),
                    "this user root group is not in the directory snapshot",
                );
            }
        }
        self.in_scope = vec![false; d.users.len()];
        for g in self.reachable_groups(&d.user_roots) {
            for node in &self.group_nodes[g as usize] {
                if let Node::User(u) = *node {
                    self.in_scope[u as usize] = true;
                }
            }
        }
        self.stats.users_in_scope = self.in_scope.iter().filter(|&&s| s).count();
    }

    fn classify_users(&mut self) {
        let d = self.d;
        let prefix_len = self.p.external_id_prefix.chars().count();
        let mut plans: Vec<Option<UserPlan<'a>>> = vec![None; d.users.len()];
        for (i, u) in d.users.iter().enumerate() {
            if !self.in_scope[i] {
                continue;
            }
            if u.enabled {
                self.stats.users_enabled += 1;
            }
            if !self.held_ids.is_empty() && self.held_ids.contains(u.id.as_str()) {
                plans[i] = Some(UserPlan::Held);
                continue;
            }
            let id = u.id.as_str();
            // Bytes bound characters from above: count characters only for long ids.
            if prefix_len + id.len() > 64 && prefix_len + id.chars().count() > 64 {
                self.warn(
                    WarningKind::ExternalIdTooLong,
                    locator(u),
                    format!("the external id {}{} is longer than Dropbox's 64 characters; this user is skipped", self.p.external_id_prefix, u.id),
                );
                plans[i] = Some(UserPlan::Held);
                continue;
            }
            if !u.enabled {
                plans[i] = Some(UserPlan::Disabled);
                continue;
            }
            let email = match normalize_email(&u.email) {
                Ok(e) => e,
                Err(err) => {
                    self.warn(
                        WarningKind::InvalidEmail,
                        locator(u),
                        format!("{err}; this user is skipped"),
                    );
                    plans[i] = Some(UserPlan::Held);
                    continue;
                }
            };
            let given_name = clean_name_part(&u.given_name);
            let surname = clean_name_part(&u.surname);
            for (raw, cleaned, which) in [
                (&u.given_name, &given_name, "given name"),
                (&u.surname, &surname, "surname"),
            ] {
                if matches!(cleaned, Cow::Owned(_)) {
                    self.warn(
                        WarningKind::NameCleaned,
                        email.to_string(),
                        format!("{which} {raw:?} is sent as {cleaned:?} (Dropbox allows 50 characters and none of / : ? * < > \" |)"),
                    );
                }
            }
            plans[i] = Some(UserPlan::Enabled {
                email,
                given_name,
                surname,
            });
        }
        self.user_plans = plans;
    }

    /// Email collisions among the users that would get a seat: reported, and nobody takes such
    /// an address (a member that already has it keeps it).
    fn find_collisions(&mut self) {
        let d = self.d;
        self.colliding_users = vec![false; d.users.len()];
        let mut first: FxHashMap<&str, u32> = FxHashMap::default();
        first.reserve(d.users.len());
        let mut shared: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
        for (ui, plan) in self.user_plans.iter().enumerate() {
            if let Some(UserPlan::Enabled { email, .. }) = plan {
                match first.get(email.as_ref()) {
                    None => {
                        first.insert(email.as_ref(), ui as u32);
                    }
                    Some(&earlier) => shared
                        .entry(email.as_ref())
                        .or_insert_with(|| vec![earlier])
                        .push(ui as u32),
                }
            }
        }
        let mut collisions: Vec<(String, Vec<u32>)> =
            shared.into_iter().map(|(e, v)| (e.to_owned(), v)).collect();
        collisions.sort_unstable();
        for (email, users) in collisions {
            let mut names: Vec<String> = users
                .iter()
                .map(|&ui| locator(&d.users[ui as usize]))
                .collect();
            names.sort_unstable();
            for &ui in &users {
                self.colliding_users[ui as usize] = true;
            }
            self.warn(
                WarningKind::EmailCollision,
                email.clone(),
                format!("{} directory users share this email ({}); none of them is invited, a user already on the team keeps its account", users.len(), names.join("; ")),
            );
            self.colliding_emails.insert(email);
        }
    }

    fn index_team(&mut self) {
        let a = self.a;
        let prefix = self.p.external_id_prefix.as_str();
        let n = a.members.len();
        self.flags = vec![MemberFlags::default(); n];
        self.member_of_user = vec![None; self.d.users.len()];
        self.member_index.reserve(n);
        self.live_by_email.reserve(n);
        for (i, m) in a.members.iter().enumerate() {
            let mi = i as u32;
            self.member_index.insert(&m.team_member_id, mi);
            if m.status.is_removed() {
                if m.status == (MemberStatus::Removed { recoverable: true }) {
                    self.reserved_by_removed.insert(m.email.as_str(), mi);
                }
            } else {
                self.live_by_email.insert(m.email.as_str(), mi);
            }
            let Some(source) = m
                .external_id
                .as_deref()
                .and_then(|x| x.strip_prefix(prefix))
            else {
                continue;
            };
            if !is_valid_source(source) {
                if !m.status.is_removed() {
                    self.warn(
                        WarningKind::MalformedExternalId,
                        m.email.as_str(),
                        format!("external id {:?} has teamsync's prefix but no valid directory id; left alone", m.external_id.as_deref().unwrap_or_default()),
                    );
                }
                continue;
            }
            // Two members claiming one id: a live one wins, then the smaller Dropbox id.
            match self.user_index.get(source) {
                Some(&ui) => {
                    let slot = &mut self.member_of_user[ui as usize];
                    match *slot {
                        Some(kept) if prefer_member(&a.members[kept as usize], m) => {}
                        _ => *slot = Some(mi),
                    }
                }
                None => match self.orphans.get(source) {
                    Some(&kept) if prefer_member(&a.members[kept as usize], m) => {}
                    _ => {
                        self.orphans.insert(source, mi);
                    }
                },
            }
        }
        let owned: Vec<u32> = self
            .member_of_user
            .iter()
            .flatten()
            .copied()
            .chain(self.orphans.values().copied())
            .collect();
        for mi in owned {
            self.flags[mi as usize].owned = true;
        }
        self.stats.managed_members = self
            .flags
            .iter()
            .zip(&a.members)
            .filter(|(f, m)| f.owned && !m.status.is_removed())
            .count();
    }

    fn standing_of_user(&self, ui: usize) -> DirectoryStanding {
        if self.in_scope[ui] {
            return match self.user_plans[ui] {
                Some(UserPlan::Held) | None => DirectoryStanding::Held,
                Some(UserPlan::Disabled) => DirectoryStanding::Disabled(ui),
                Some(UserPlan::Enabled { .. }) => DirectoryStanding::Enabled(ui),
            };
        }
        self.standing_elsewhere(self.d.users[ui].id.as_str())
    }

    fn standing_elsewhere(&self, source: &str) -> DirectoryStanding {
        if self.held_ids.contains(source) {
            DirectoryStanding::Held
        } else if self.deleted.contains(source) {
            DirectoryStanding::Deleted
        } else {
            DirectoryStanding::OutOfScope
        }
    }

    /// Every managed member through the lifecycle table.
    fn plan_managed_members(&mut self) {
        let mut managed: Vec<(u32, DirectoryStanding)> =
            Vec::with_capacity(self.stats.managed_members);
        for ui in 0..self.member_of_user.len() {
            if let Some(mi) = self.member_of_user[ui] {
                managed.push((mi, self.standing_of_user(ui)));
            }
        }
        let orphans: Vec<(&'a str, u32)> = self.orphans.iter().map(|(s, m)| (*s, *m)).collect();
        for (source, mi) in orphans {
            managed.push((mi, self.standing_elsewhere(source)));
        }
        self.seats = vec![None; self.d.users.len()];
        // Invitations withdrawn by this plan free their addresses before anything else runs.
        for (mi, standing) in &managed {
            let m = self.member(*mi);
            let leaving = matches!(
                standing,
                DirectoryStanding::Disabled(_)
                    | DirectoryStanding::OutOfScope
                    | DirectoryStanding::Deleted
            );
            if leaving && self.will_withdraw(m) {
                self.released_emails.insert(m.email.as_str());
                self.flags[*mi as usize].leaving_groups = true;
            }
        }
        for (mi, standing) in managed {
            let m = self.member(mi);
            match standing {
                DirectoryStanding::Held => {
                    let flags = &mut self.flags[mi as usize];
                    flags.frozen = true;
                    flags.seated = true;
                    if !m.status.is_removed() {
                        let source = m.external_id.as_deref().unwrap_or_default();
                        self.warn(
                            WarningKind::HeldMember,
                            m.email.as_str(),
                            format!("the directory entry for {source} has a problem (see the warnings above); this member is left as it is"),
                        );
                    }
                }
                DirectoryStanding::Enabled(ui) => self.plan_enabled_member(ui, mi),
                DirectoryStanding::Disabled(ui) => self.plan_disabled_member(ui, mi),
                DirectoryStanding::OutOfScope => {
                    let why = self.leave_reason(mi);
                    self.plan_leaver(mi, self.p.on_leave, &why);
                }
                DirectoryStanding::Deleted => {
                    self.plan_leaver(mi, self.p.on_delete, "deleted in the directory")
                }
            }
        }
    }

    fn own_ref(m: &TeamMember) -> MemberRef {
        MemberRef::ExternalId(m.external_id.clone().unwrap_or_default())
    }

    fn plan_enabled_member(&mut self, ui: usize, mi: u32) {
        let Some(UserPlan::Enabled {
            email,
            given_name,
            surname,
        }) = self.user_plans[ui].clone()
        else {
            return;
        };
        let m = self.member(mi);
        let u = &self.d.users[ui];
        match m.status {
            MemberStatus::Active => {
                self.update_profile_if_needed(
                    m,
                    &email,
                    &given_name,
                    &surname,
                    "the directory changed",
                );
            }
            MemberStatus::Invited => {
                let change = self.profile_change(m, &email, &given_name, &surname, false);
                if !change.is_empty() {
                    self.warn(
                        WarningKind::DeferredUpdate,
                        m.email.as_str(),
                        "the directory profile changed, but the member has not accepted the invitation yet; updated once they do",
                    );
                }
            }
            MemberStatus::Suspended => {
                let before = Observed::of_member(m);
                let after = before.with_status(MemberStatus::Active);
                self.push(
                    Phase::Provision,
                    Action::Unsuspend {
                        member: Self::own_ref(m),
                        external_id: m.external_id.clone(),
                    },
                    m.email.to_string(),
                    before,
                    after,
                    format!("enabled and in scope in the directory ({})", locator(u)),
                );
                self.update_profile_if_needed(
                    m,
                    &email,
                    &given_name,
                    &surname,
                    "the directory changed while suspended",
                );
            }
            MemberStatus::Removed { recoverable: true } => {
                if let Some(&holder) = self
                    .live_by_email
                    .get(m.email.as_str())
                    .filter(|_| !self.released_emails.contains(m.email.as_str()))
                {
                    let holder = self.member(holder);
                    self.warn(
                        WarningKind::EmailTaken,
                        m.email.as_str(),
                        format!(
                            "cannot recover: the email is now used by team member {}",
                            holder.team_member_id
                        ),
                    );
                    return;
                }
                let before = Observed::of_member(m);
                let after = before.with_status(MemberStatus::Active);
                self.push(
                    Phase::Provision,
                    Action::Recover { member: MemberRef::TeamMemberId(m.team_member_id.clone()), external_id: m.external_id.clone().unwrap_or_default() },
                    m.email.to_string(),
                    before,
                    after,
                    format!("back in scope in the directory ({}); the removed member is still recoverable", locator(u)),
                );
                self.update_profile_if_needed(
                    m,
                    &email,
                    &given_name,
                    &surname,
                    "the directory changed while removed",
                );
            }
            MemberStatus::Removed { recoverable: false } => {
                // No longer recoverable: treated like a user with no member.
                return;
            }
        }
        self.seats[ui] = Some(Some(mi));
        self.flags[mi as usize].seated = true;
    }

    fn plan_disabled_member(&mut self, ui: usize, mi: u32) {
        let m = self.member(mi);
        let u = &self.d.users[ui];
        match m.status {
            MemberStatus::Active => {
                let reason = format!("disabled in the directory ({})", locator(u));
                if !self.deprovision(mi, LeaveAction::Suspend, reason) {
                    return;
                }
            }
            MemberStatus::Invited => {
                if self
                    .withdraw_invitation(mi, &format!("disabled in the directory ({})", locator(u)))
                {
                    return;
                }
            }
            MemberStatus::Suspended => {}
            MemberStatus::Removed { .. } => return,
        }
        // A disabled account is suspended, which is reversible: its group memberships are kept
        // as they are, neither added to (no seat) nor taken away (frozen).
        let flags = &mut self.flags[mi as usize];
        flags.seated = true;
        flags.frozen = true;
    }

    fn plan_leaver(&mut self, mi: u32, action: LeaveAction, why: &str) {
        let m = self.member(mi);
        match m.status {
            MemberStatus::Active => {
                self.deprovision(mi, action, why.to_owned());
            }
            MemberStatus::Invited => {
                self.withdraw_invitation(mi, why);
            }
            MemberStatus::Suspended if action == LeaveAction::Remove => {
                self.deprovision(mi, action, format!("{why}; already suspended"));
            }
            MemberStatus::Suspended | MemberStatus::Removed { .. } => {}
        }
    }

    /// Plans a suspension or removal, unless the member is a protected admin. Returns true when
    /// the member stays on the team (suspended or protected).
    fn deprovision(&mut self, mi: u32, action: LeaveAction, reason: String) -> bool {
        let m = self.member(mi);
        let target = m.email.to_string();
        if m.is_admin && !self.p.deprovision_admins {
            self.warn(
                WarningKind::AdminProtected,
                target,
                format!("would be {} ({reason}), but team admins are only deprovisioned with deprovision_admins = true", match action {
                    LeaveAction::Suspend => "suspended",
                    LeaveAction::Remove => "removed",
                }),
            );
            return true;
        }
        let member = Self::own_ref(m);
        let before = Observed::of_member(m);
        match action {
            LeaveAction::Suspend => {
                let after = before.with_status(MemberStatus::Suspended);
                self.push(
                    Phase::Deprovision,
                    Action::Suspend {
                        member,
                        wipe_data: self.p.wipe_data,
                    },
                    target,
                    before,
                    after,
                    reason,
                );
                true
            }
            LeaveAction::Remove => {
                let mode = match &self.p.transfer {
                    RemovalTransfer::None => RemoveMode::Plain,
                    RemovalTransfer::Transfer { dest, admin } => RemoveMode::Transfer {
                        dest: dest.clone(),
                        admin: admin.clone(),
                    },
                    RemovalTransfer::KeepAccount => RemoveMode::KeepAccount,
                };
                let after = before.with_status(MemberStatus::Removed { recoverable: true });
                let options = RemoveOptions {
                    wipe_data: self.p.remove_wipes(),
                    mode,
                };
                self.flags[mi as usize].leaving_groups = true;
                self.push(
                    Phase::Deprovision,
                    Action::Remove { member, options },
                    target,
                    before,
                    after,
                    reason,
                );
                false
            }
        }
    }

    /// Whether an invitation of someone who should not join is withdrawn.
    fn will_withdraw(&self, m: &TeamMember) -> bool {
        m.status == MemberStatus::Invited
            && self.p.on_invited_deprovision == InvitedDeprovision::RemoveInvitation
            && (!m.is_admin || self.p.deprovision_admins)
    }

    /// Withdraws an invitation per `on_invited_deprovision`. Returns true when it is withdrawn.
    fn withdraw_invitation(&mut self, mi: u32, why: &str) -> bool {
        let m = self.member(mi);
        if self.p.on_invited_deprovision == InvitedDeprovision::Leave {
            return false;
        }
        if !self.will_withdraw(m) {
            self.warn(
                WarningKind::AdminProtected,
                m.email.as_str(),
                format!("invitation kept ({why}): team admins are protected"),
            );
            return false;
        }
        let before = Observed::of_member(m);
        let after = before.with_status(MemberStatus::Removed { recoverable: false });
        self.push(
            Phase::Withdraw,
            Action::Remove {
                member: Self::own_ref(m),
                options: RemoveOptions {
                    wipe_data: false,
                    mode: RemoveMode::Plain,
                },
            },
            m.email.to_string(),
            before,
            after,
            format!("{why}; the invitation is withdrawn"),
        );
        true
    }

    /// The profile fields that differ; an email another member holds is reported, not changed.
    fn profile_change(
        &mut self,
        m: &TeamMember,
        email: &str,
        given_name: &str,
        surname: &str,
        report_taken: bool,
    ) -> ProfileChange {
        let mut change = ProfileChange::default();
        // An address several directory users claim is taken by none of them (reported once).
        if m.email.as_str() != email
            && !self.colliding_emails.contains(email)
            && !self.created_only(0)
        {
            let taken_by = self
                .live_by_email
                .get(email)
                .filter(|_| !self.released_emails.contains(email))
                .or_else(|| self.reserved_by_removed.get(email))
                .map(|&i| self.member(i));
            match taken_by {
                Some(other) if other.team_member_id != m.team_member_id => {
                    if report_taken {
                        self.warn(
                            WarningKind::EmailTaken,
                            m.email.as_str(),
                            format!("the directory's new email {email} belongs to team member {}; the email is not changed", other.team_member_id),
                        );
                    }
                }
                _ => change.email = Email::parse(email).ok(),
            }
        }
        if !given_name.is_empty() && m.given_name != given_name && !self.created_only(1) {
            change.given_name = Some(given_name.to_owned());
        }
        if !surname.is_empty() && m.surname != surname && !self.created_only(2) {
            change.surname = Some(surname.to_owned());
        }
        change
    }

    fn update_profile_if_needed(
        &mut self,
        m: &TeamMember,
        email: &str,
        given_name: &str,
        surname: &str,
        why: &str,
    ) {
        let change = self.profile_change(m, email, given_name, surname, true);
        if change.is_empty() {
            return;
        }
        let before = Observed::of_member(m);
        let after = apply_change(&before, &change);
        let reason = format!(
            "{why}: {}{}",
            describe_change(m, &change),
            self.mapping_note(&change)
        );
        self.push(
            Phase::Profiles,
            Action::UpdateProfile {
                member: Self::own_ref(m),
                change,
            },
            m.email.to_string(),
            before,
            after,
            reason,
        );
    }

    /// Enabled in-scope users with no managed member: adopt an existing member or invite.
    fn plan_new_users(&mut self) {
        let d = self.d;
        for ui in 0..d.users.len() {
            let Some(UserPlan::Enabled {
                email,
                given_name,
                surname,
            }) = &self.user_plans[ui]
            else {
                continue;
            };
            let has_member = self.member_of_user[ui].is_some_and(|mi| {
                self.member(mi).status != MemberStatus::Removed { recoverable: false }
            });
            if has_member || self.colliding_users[ui] {
                continue;
            }
            let (email, given_name, surname) = (email.clone(), given_name.clone(), surname.clone());
            let u = &d.users[ui];
            let external_id = self.external_id(u.id.as_str());
            if self.has_match_rules() {
                if self.match_by_rules(ui, &external_id, &email, &given_name, &surname) {
                    continue;
                }
            } else if let Some(&oi) = self
                .live_by_email
                .get(email.as_ref())
                .filter(|_| !self.released_emails.contains(email.as_ref()))
            {
                self.adopt_or_report(ui, oi, external_id, &email, &given_name, &surname, None);
                continue;
            }
            if let Some(&ri) = self.reserved_by_removed.get(email.as_ref()) {
                let other = self.member(ri);
                self.warn(
                    WarningKind::EmailTaken,
                    email.as_ref(),
                    format!("the email belongs to removed member {} that can still be recovered; not invited (recover it or wait until it expires)", other.team_member_id),
                );
                continue;
            }
            let Ok(parsed) = Email::parse(&email) else {
                continue;
            };
            let new_member = NewMember {
                email: parsed.clone(),
                given_name: given_name.to_string(),
                surname: surname.to_string(),
                external_id: external_id.clone(),
                send_welcome_email: self.p.send_welcome_email,
            };
            let after = Observed::Member {
                email: parsed,
                given_name: given_name.to_string(),
                surname: surname.to_string(),
                external_id: Some(external_id),
                status: MemberStatus::Invited,
            };
            // An address freed by a withdrawn invitation is still held when the plan is made.
            let before = self
                .live_by_email
                .get(email.as_ref())
                .map_or(Observed::Absent, |&i| Observed::of_member(self.member(i)));
            self.push(
                Phase::Provision,
                Action::Invite { member: new_member },
                email.to_string(),
                before,
                after,
                format!(
                    "in scope in the directory ({}), not on the team",
                    locator(u)
                ),
            );
            self.seats[ui] = Some(None);
        }
    }

    /// Adopts the member holding the user's email when the policy allows it; `rule` is the match
    /// rule that found it.
    #[allow(clippy::too_many_arguments)]
    fn adopt_or_report(
        &mut self,
        ui: usize,
        oi: u32,
        external_id: String,
        email: &str,
        given_name: &str,
        surname: &str,
        rule: Option<&str>,
    ) {
        let o = self.member(oi);
        let prefix = self.p.external_id_prefix.as_str();
        let allowed = match o.external_id.as_deref() {
            None if self.p.manage_existing_users => true,
            None => {
                self.warn(
                    WarningKind::UnmanagedMember,
                    email,
                    "a team member with this email has no external id and manage_existing_users is off; left alone",
                );
                false
            }
            Some(x) if x.starts_with(prefix) => {
                self.warn(
                    WarningKind::EmailTaken,
                    email,
                    format!("the email belongs to team member {} managed for another directory id ({x}); not invited", o.team_member_id),
                );
                false
            }
            Some(_) if self.p.adopt_foreign => true,
            Some(x) => {
                self.warn(
                    WarningKind::ForeignMember,
                    email,
                    format!("a team member with this email is managed by another tool (external id {x:?}) and adopt_foreign is off; left alone"),
                );
                false
            }
        };
        if !allowed {
            return;
        }
        let how = format!(
            "by email{}; teamsync takes it over ({})",
            rule.map(|r| format!(" (match rule {r:?})"))
                .unwrap_or_default(),
            if o.external_id.is_some() {
                "adopt_foreign"
            } else {
                "manage_existing_users"
            }
        );
        self.adopt(ui, oi, external_id, email, given_name, surname, &how);
    }

    /// Takes over member `oi` for user `ui`: unsuspends it, sets its external id and profile.
    #[allow(clippy::too_many_arguments)]
    fn adopt(
        &mut self,
        ui: usize,
        oi: u32,
        external_id: String,
        email: &str,
        given_name: &str,
        surname: &str,
        how: &str,
    ) {
        let o = self.member(oi);
        let u = &self.d.users[ui];
        let by_id = MemberRef::TeamMemberId(o.team_member_id.clone());
        let target = o.email.to_string();
        if o.status == MemberStatus::Suspended {
            let before = Observed::of_member(o);
            let after = before.with_status(MemberStatus::Active);
            self.push(
                Phase::Provision,
                Action::Unsuspend {
                    member: by_id.clone(),
                    external_id: None,
                },
                target.clone(),
                before,
                after,
                format!(
                    "adopted: enabled and in scope in the directory ({})",
                    locator(u)
                ),
            );
        }
        let mut change = if o.status == MemberStatus::Invited {
            ProfileChange::default()
        } else {
            self.profile_change(o, email, given_name, surname, true)
        };
        change.external_id = Some(external_id);
        let before = Observed::of_member(o);
        let after = apply_change(&before, &change);
        let profile = describe_change(o, &change);
        let reason = format!(
            "matches directory user {} {how}{}{}{}",
            locator(u),
            if profile.is_empty() { "" } else { ": " },
            profile,
            self.mapping_note(&change)
        );
        self.push(
            Phase::Profiles,
            Action::AdoptMember {
                member: by_id,
                change,
            },
            target,
            before,
            after,
            reason,
        );
        self.seats[ui] = Some(Some(oi));
        let flags = &mut self.flags[oi as usize];
        flags.seated = true;
        flags.adopted = true;
    }

    /// How group operations name a member teamsync owns or is adopting; `None` for the others.
    fn owned_ref(&self, mi: u32) -> Option<MemberRef> {
        let m = self.member(mi);
        let flags = self.flags[mi as usize];
        if flags.adopted {
            // Named by Dropbox id: it has no external id of ours until its adoption has run.
            return Some(MemberRef::TeamMemberId(m.team_member_id.clone()));
        }
        flags.owned.then(|| Self::own_ref(m))
    }

    /// Groups: which directory groups are synced, matching to team groups, membership diffs,
    /// and managed groups that left scope.
    fn plan_groups(&mut self) {
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
                if !self.group_index.contains_key(root.as_str()) {
                    self.warn(
                        WarningKind::UnknownRoot,
                        root.as_str(),
                        "this group root is not in the directory snapshot",
                    );
                }
            }
        }
        let root_set: FxHashSet<u32> = roots
            .iter()
            .filter_map(|r| self.group_index.get(r.as_str()).copied())
            .collect();
        let mut synced: Vec<u32> = self
            .reachable_groups(roots)
            .into_iter()
            .filter(|g| !root_set.contains(g))
            .collect();
        self.drop_rule_excluded_groups(&mut synced);
        synced.sort_unstable_by(|&x, &y| d.groups[x as usize].id.cmp(&d.groups[y as usize].id));

        // Team group lookups; members resolved to indices once.
        let mut managed_groups: FxHashMap<&str, usize> = FxHashMap::default();
        let mut groups_by_name: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (gi, g) in a.groups.iter().enumerate() {
            groups_by_name
                .entry(g.name.to_lowercase())
                .or_default()
                .push(gi);
            if g.management_type == ManagementType::SystemManaged {
                continue;
            }
            if let Some(source) = g
                .external_id
                .as_deref()
                .and_then(|x| x.strip_prefix(prefix.as_str()))
            {
                managed_groups.insert(source, gi);
            }
        }
        self.stats.managed_groups = managed_groups.len();

        // Directory name clashes among synced groups.
        let mut dir_names: FxHashMap<String, usize> = FxHashMap::default();
        for &g in &synced {
            *dir_names
                .entry(d.groups[g as usize].name.trim().to_lowercase())
                .or_default() += 1;
        }

        let mut handled: FxHashSet<&str> = FxHashSet::default();
        let mut closure = Closure::new(d.users.len(), d.groups.len(), a.members.len());
        for &g in &synced {
            let group = &d.groups[g as usize];
            let source = group.id.as_str();
            handled.insert(source);
            if self.held_group_ids.contains(source) {
                continue;
            }
            self.stats.groups_in_scope += 1;
            let name = group.name.trim();
            if name.is_empty() {
                self.warn(
                    WarningKind::GroupNameInvalid,
                    group.locator.clone().unwrap_or_else(|| source.to_owned()),
                    "the group has no name; not synced",
                );
                continue;
            }
            // Flatten: transitive users, split by user scope.
            let mut wanted: Vec<u32> = Vec::new();
            let mut out_of_scope = 0usize;
            for &ui in closure.users_of(g, &self.group_nodes) {
                if !self.in_scope[ui as usize] {
                    out_of_scope += 1;
                } else if self.seats[ui as usize].is_some() {
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
            let existing = match managed_groups.get(source) {
                Some(&gi) => Some(&a.groups[gi]),
                None => {
                    if dir_names.get(&name.to_lowercase()).copied().unwrap_or(0) > 1 {
                        self.warn(WarningKind::GroupNameConflict, name, "several synced directory groups have this name; none of them is created");
                        continue;
                    }
                    match groups_by_name
                        .get(&name.to_lowercase())
                        .and_then(|v| v.first())
                        .map(|&gi| &a.groups[gi])
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
                        Some(other) => {
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
                                Action::AdoptGroup { group: GroupRef::GroupId(other.group_id.clone()), external_id: external_id.clone(), rename },
                                name.to_owned(),
                                before,
                                after,
                                "an unmanaged team group has this name; adopt_existing_groups takes it over".to_owned(),
                            );
                            // It has no external id of ours yet: later operations name it by its id.
                            group_ref = GroupRef::GroupId(other.group_id.clone());
                            Some(other)
                        }
                    }
                }
            };
            if let Some(team_group) = existing {
                if team_group.name != name
                    && team_group.external_id.as_deref() == Some(external_id.as_str())
                {
                    let taken = groups_by_name.get(&name.to_lowercase()).is_some_and(|v| {
                        v.iter()
                            .any(|&gi| a.groups[gi].group_id != team_group.group_id)
                    });
                    if taken {
                        self.warn(
                            WarningKind::GroupNameConflict,
                            name,
                            format!(
                                "cannot rename {:?}: another team group has this name",
                                team_group.name
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
                                "renamed in the directory (was {:?}){}",
                                team_group.name,
                                self.group_name_note()
                            ),
                        );
                    }
                }
            }
            self.diff_members(name, &group_ref, existing, &wanted, &mut closure);
        }

        // Managed team groups whose directory group is no longer synced.
        let mut left: Vec<(&str, usize)> = managed_groups
            .iter()
            .filter(|(s, _)| !handled.contains(*s))
            .map(|(s, g)| (*s, *g))
            .collect();
        left.sort_unstable();
        for (source, gi) in left {
            if self.held_group_ids.contains(source) {
                continue;
            }
            let g = &a.groups[gi];
            let why = if self.deleted.contains(source) {
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
                    for mi in closure.members_of(g, &self.member_index) {
                        if self.flags[mi as usize].leaving_groups {
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
                }
            }
        }
    }

    fn diff_members(
        &mut self,
        name: &str,
        group_ref: &GroupRef,
        existing: Option<&'a TeamGroup>,
        wanted: &[u32],
        closure: &mut Closure,
    ) {
        let d = self.d;
        // Mark the group's current members, then walk the wanted users.
        let current: Vec<u32> = existing
            .map(|g| closure.members_of(g, &self.member_index))
            .unwrap_or_default();
        let stamp = closure.next_stamp();
        for &mi in &current {
            closure.member_mark[mi as usize] = stamp;
        }
        let mut wanted_stamp_members: Vec<u32> = Vec::new();
        for &ui in wanted {
            let Some(seat) = self.seats[ui as usize] else {
                continue;
            };
            if let Some(mi) = seat {
                wanted_stamp_members.push(mi);
                if closure.member_mark[mi as usize] == stamp {
                    continue;
                }
            }
            let u = &d.users[ui as usize];
            let email = match &self.user_plans[ui as usize] {
                Some(UserPlan::Enabled { email, .. }) => email.to_string(),
                _ => seat
                    .map(|mi| self.member(mi).email.to_string())
                    .unwrap_or_default(),
            };
            let member = MemberRef::ExternalId(self.external_id(u.id.as_str()));
            self.push(
                Phase::GroupAdds,
                Action::AddGroupMember {
                    group: group_ref.clone(),
                    member,
                },
                format!("{name}: {email}"),
                Observed::Absent,
                Observed::InGroup,
                "member of the directory group (directly or through nested groups)".to_owned(),
            );
        }
        let Some(g) = existing else { return };
        // Unmark the wanted; what stays marked is extra.
        for mi in wanted_stamp_members {
            closure.member_mark[mi as usize] = 0;
        }
        for mi in current {
            if closure.member_mark[mi as usize] != stamp {
                continue;
            }
            let flags = self.flags[mi as usize];
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
                format!("{}: {}", g.name, m.email),
                Observed::InGroup,
                Observed::Absent,
                reason.to_owned(),
            );
        }
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

    fn finish(mut self) -> Plan {
        self.ops.sort_unstable();
        self.ops.dedup();
        self.warnings.sort_unstable();
        self.warnings.dedup();

        let deprovisions = self
            .ops
            .iter()
            .filter(|op| op.action.is_deprovision())
            .count();
        let group_member_removals = self
            .ops
            .iter()
            .filter(|op| matches!(op.action, Action::RemoveGroupMember { .. }))
            .count();
        let managed_memberships: usize = {
            let prefix = self.p.external_id_prefix.as_str();
            self.a
                .groups
                .iter()
                .filter(|g| {
                    g.external_id
                        .as_deref()
                        .is_some_and(|x| x.starts_with(prefix))
                })
                .map(|g| g.members.len())
                .sum()
        };
        let guard = Guard {
            deprovisions,
            deprovision_limit: self.p.max_deprovision.allowed(self.stats.managed_members),
            group_member_removals,
            group_member_removal_limit: self
                .p
                .max_group_member_removals
                .allowed(managed_memberships),
        };
        if guard.needs_permission() {
            self.warnings.push(Warning {
                kind: WarningKind::GuardLimit,
                subject: "guard".to_owned(),
                message: format!(
                    "the plan suspends or removes {} of {} managed members (limit {}) and removes {} group memberships (limit {}); apply refuses without explicit permission",
                    guard.deprovisions, self.stats.managed_members, guard.deprovision_limit, guard.group_member_removals, guard.group_member_removal_limit
                ),
            });
        }
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            external_id_prefix: self.p.external_id_prefix.clone(),
            operations: self.ops,
            warnings: self.warnings,
            guard,
            stats: self.stats,
        }
    }
}

/// Buffers reused across groups: transitive user members (cycle-safe) and member marks.
struct Closure {
    user_mark: Vec<u32>,
    group_mark: Vec<u32>,
    member_mark: Vec<u32>,
    stamp: u32,
    users: Vec<u32>,
    stack: Vec<u32>,
}

impl Closure {
    fn new(users: usize, groups: usize, members: usize) -> Self {
        Closure {
            user_mark: vec![0; users],
            group_mark: vec![0; groups],
            member_mark: vec![0; members],
            stamp: 0,
            users: Vec::new(),
            stack: Vec::new(),
        }
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp += 1;
        self.stamp
    }

    /// The users of directory group `group`, directly or through nested groups, sorted.
    fn users_of(&mut self, group: u32, nodes: &[Vec<Node>]) -> &[u32] {
        let stamp = self.next_stamp();
        self.users.clear();
        self.stack.clear();
        self.stack.push(group);
        self.group_mark[group as usize] = stamp;
        while let Some(g) = self.stack.pop() {
            for node in &nodes[g as usize] {
                match *node {
                    Node::User(u) => {
                        if self.user_mark[u as usize] != stamp {
                            self.user_mark[u as usize] = stamp;
                            self.users.push(u);
                        }
                    }
                    Node::Group(sub) => {
                        if self.group_mark[sub as usize] != stamp {
                            self.group_mark[sub as usize] = stamp;
                            self.stack.push(sub);
                        }
                    }
                }
            }
        }
        self.users.sort_unstable();
        &self.users
    }

    /// A team group's members as indices, without duplicates, sorted.
    fn members_of(&mut self, g: &TeamGroup, index: &FxHashMap<&str, u32>) -> Vec<u32> {
        let mut out: Vec<u32> = g
            .members
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The cycles among directory groups: every strongly connected set of more than one group, and
/// every group that contains itself (Tarjan's algorithm, iterative so deep nesting cannot
/// overflow the stack).
fn group_cycles(nodes: &[Vec<Node>]) -> Vec<Vec<u32>> {
    let n = nodes.len();
    let mut t = Tarjan {
        index: vec![Tarjan::UNSEEN; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        calls: Vec::new(),
        next: 0,
    };
    let mut cycles = Vec::new();
    for root in 0..n as u32 {
        if t.index[root as usize] != Tarjan::UNSEEN {
            continue;
        }
        t.visit(root);
        while let Some(&(v, pos)) = t.calls.last() {
            let vi = v as usize;
            if let Some(node) = nodes[vi].get(pos) {
                if let Some(top) = t.calls.last_mut() {
                    top.1 += 1;
                }
                if let Node::Group(w) = *node {
                    let wi = w as usize;
                    if t.index[wi] == Tarjan::UNSEEN {
                        t.visit(w);
                    } else if t.on_stack[wi] {
                        t.low[vi] = t.low[vi].min(t.index[wi]);
                    }
                }
                continue;
            }
            t.calls.pop();
            if let Some(&(parent, _)) = t.calls.last() {
                t.low[parent as usize] = t.low[parent as usize].min(t.low[vi]);
            }
            if t.low[vi] == t.index[vi] {
                let mut component = Vec::new();
                while let Some(w) = t.stack.pop() {
                    t.on_stack[w as usize] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                let contains_itself = nodes[vi]
                    .iter()
                    .any(|node| matches!(node, Node::Group(w) if *w == v));
                if component.len() > 1 || contains_itself {
                    cycles.push(component);
                }
            }
        }
    }
    cycles
}

/// State of the iterative strongly-connected-components walk.
struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// The walk's own call stack: (group, next edge to look at).
    calls: Vec<(u32, usize)>,
    next: u32,
}

impl Tarjan {
    const UNSEEN: u32 = u32::MAX;

    fn visit(&mut self, v: u32) {
        self.index[v as usize] = self.next;
        self.low[v as usize] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v as usize] = true;
        self.calls.push((v, 0));
    }
}

fn group_label(g: &crate::model::DirectoryGroup) -> String {
    g.locator.clone().unwrap_or_else(|| g.name.clone())
}

/// Of two team members claiming one managed external id, keeps a live one, then the smaller id.
fn prefer_member(kept: &TeamMember, other: &TeamMember) -> bool {
    match (kept.status.is_removed(), other.status.is_removed()) {
        (false, true) => true,
        (true, false) => false,
        _ => kept.team_member_id <= other.team_member_id,
    }
}

fn normalize_email(raw: &str) -> Result<Cow<'_, str>, crate::model::EmailError> {
    let padded = raw.as_bytes().first().is_some_and(u8::is_ascii_whitespace)
        || raw.as_bytes().last().is_some_and(u8::is_ascii_whitespace);
    let trimmed = if padded || !raw.is_ascii() {
        raw.trim()
    } else {
        raw
    };
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        let e = Email::parse(trimmed)?;
        Ok(Cow::Owned(String::from(e)))
    } else {
        // Validates without allocating on the common path.
        crate::model::validate_email(trimmed).map(|()| Cow::Borrowed(trimmed))
    }
}

fn locator(u: &DirectoryUser) -> String {
    u.locator.clone().unwrap_or_else(|| format!("id {}", u.id))
}

fn apply_change(before: &Observed, change: &ProfileChange) -> Observed {
    match before.clone() {
        Observed::Member {
            email,
            given_name,
            surname,
            external_id,
            status,
        } => Observed::Member {
            email: change.email.clone().unwrap_or(email),
            given_name: change.given_name.clone().unwrap_or(given_name),
            surname: change.surname.clone().unwrap_or(surname),
            external_id: change.external_id.clone().or(external_id),
            status,
        },
        other => other,
    }
}

fn describe_change(m: &TeamMember, change: &ProfileChange) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &change.email {
        parts.push(format!("email {} → {e}", m.email));
    }
    if let Some(g) = &change.given_name {
        parts.push(format!("given name {:?} → {g:?}", m.given_name));
    }
    if let Some(s) = &change.surname {
        parts.push(format!("surname {:?} → {s:?}", m.surname));
    }
    parts.join(", ")
}
