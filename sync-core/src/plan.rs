//! A plan: the ordered operations that bring the team in line with the directory, with the
//! warnings a dry run shows, rendered for people (a table) and machines (versioned JSON).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::model::{ActualState, Email, GroupRef, MemberRef, MemberStatus, TeamGroup, TeamMember};
use crate::store::{NewMember, ProfileChange, RemoveMode, RemoveOptions};

/// Version of the JSON plan format. Bumped on any incompatible change.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// The phases of a plan, in the order they are applied. Adds come before removes so that nobody
/// loses access half-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Withdraw invitations of people who should not join. First, because it takes no access
    /// from anyone and frees addresses that invitations and profile updates below may need.
    Withdraw,
    /// Create, rename and adopt groups.
    Groups,
    /// Invite, recover and unsuspend members.
    Provision,
    /// Profile updates and member adoptions.
    Profiles,
    /// Group member additions.
    GroupAdds,
    /// Group member removals.
    GroupRemoves,
    /// Suspensions and removals.
    Deprovision,
    /// Emptying and deleting groups that left scope.
    GroupCleanup,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 8] = [
        Phase::Withdraw,
        Phase::Groups,
        Phase::Provision,
        Phase::Profiles,
        Phase::GroupAdds,
        Phase::GroupRemoves,
        Phase::Deprovision,
        Phase::GroupCleanup,
    ];

    /// Heading in the rendered table.
    pub fn title(self) -> &'static str {
        match self {
            Phase::Withdraw => "withdrawn invitations",
            Phase::Groups => "groups",
            Phase::Provision => "invite, recover, unsuspend",
            Phase::Profiles => "profile updates and adoptions",
            Phase::GroupAdds => "group member additions",
            Phase::GroupRemoves => "group member removals",
            Phase::Deprovision => "suspend and remove",
            Phase::GroupCleanup => "groups that left scope",
        }
    }
}

/// What an operation does. The executor maps each to one [`TeamStore`](crate::TeamStore) call
/// (batching those it can).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Create a company-managed group with teamsync's external id.
    CreateGroup {
        /// Group name.
        name: String,
        /// `<prefix><SourceId>`.
        external_id: String,
    },
    /// Rename a managed group.
    RenameGroup {
        /// The group.
        group: GroupRef,
        /// Its new name.
        name: String,
    },
    /// Take over an unmanaged group of the same name (`adopt_existing_groups`).
    AdoptGroup {
        /// The group, by its Dropbox id.
        group: GroupRef,
        /// The external id it receives.
        external_id: String,
        /// The directory's name, when the team group's differs (e.g. only in case).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rename: Option<String>,
    },
    /// Invite a person.
    Invite {
        /// Who.
        member: NewMember,
    },
    /// Recover a removed member.
    Recover {
        /// Who.
        member: MemberRef,
        /// The member's managed external id, so that later operations naming it wait for this.
        external_id: String,
    },
    /// Unsuspend a suspended member.
    Unsuspend {
        /// Who.
        member: MemberRef,
        /// The member's managed external id, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
    },
    /// Bring a managed member's profile in line with the directory.
    UpdateProfile {
        /// Who.
        member: MemberRef,
        /// What changes.
        change: ProfileChange,
    },
    /// Take over an existing member: set its external id (and profile).
    AdoptMember {
        /// Who, by Dropbox id.
        member: MemberRef,
        /// The external id and any profile changes.
        change: ProfileChange,
    },
    /// Add a member to a group.
    AddGroupMember {
        /// The group.
        group: GroupRef,
        /// The member.
        member: MemberRef,
    },
    /// Remove a member from a group.
    RemoveGroupMember {
        /// The group.
        group: GroupRef,
        /// The member.
        member: MemberRef,
    },
    /// Suspend a member.
    Suspend {
        /// Who.
        member: MemberRef,
        /// Wipe the member's devices.
        wipe_data: bool,
    },
    /// Remove a member or withdraw an invitation.
    Remove {
        /// Who.
        member: MemberRef,
        /// Data and account handling.
        options: RemoveOptions,
    },
    /// Delete a managed group.
    DeleteGroup {
        /// The group.
        group: GroupRef,
    },
}

impl Action {
    /// Short verb for tables and logs.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::CreateGroup { .. } => "create group",
            Action::RenameGroup { .. } => "rename group",
            Action::AdoptGroup { .. } => "adopt group",
            Action::Invite { .. } => "invite",
            Action::Recover { .. } => "recover",
            Action::Unsuspend { .. } => "unsuspend",
            Action::UpdateProfile { .. } => "update profile",
            Action::AdoptMember { .. } => "adopt member",
            Action::AddGroupMember { .. } => "add to group",
            Action::RemoveGroupMember { .. } => "remove from group",
            Action::Suspend { .. } => "suspend",
            Action::Remove { .. } => "remove",
            Action::DeleteGroup { .. } => "delete group",
        }
    }

    /// `+` adds, `~` changes, `-` takes away.
    pub fn sign(&self) -> char {
        match self {
            Action::CreateGroup { .. }
            | Action::Invite { .. }
            | Action::Recover { .. }
            | Action::AddGroupMember { .. } => '+',
            Action::RenameGroup { .. }
            | Action::AdoptGroup { .. }
            | Action::Unsuspend { .. }
            | Action::UpdateProfile { .. }
            | Action::AdoptMember { .. } => '~',
            Action::RemoveGroupMember { .. }
            | Action::Suspend { .. }
            | Action::Remove { .. }
            | Action::DeleteGroup { .. } => '-',
        }
    }

    /// Whether this operation takes a member off the team (counted by the deprovision guard).
    pub fn is_deprovision(&self) -> bool {
        matches!(self, Action::Suspend { .. } | Action::Remove { .. })
    }

    /// The member this operation names, if any.
    pub fn member(&self) -> Option<&MemberRef> {
        match self {
            Action::Recover { member, .. }
            | Action::Unsuspend { member, .. }
            | Action::UpdateProfile { member, .. }
            | Action::AdoptMember { member, .. }
            | Action::AddGroupMember { member, .. }
            | Action::RemoveGroupMember { member, .. }
            | Action::Suspend { member, .. }
            | Action::Remove { member, .. } => Some(member),
            Action::CreateGroup { .. }
            | Action::RenameGroup { .. }
            | Action::AdoptGroup { .. }
            | Action::Invite { .. }
            | Action::DeleteGroup { .. } => None,
        }
    }

    /// The group this operation names, if any.
    pub fn group(&self) -> Option<&GroupRef> {
        match self {
            Action::RenameGroup { group, .. }
            | Action::AdoptGroup { group, .. }
            | Action::AddGroupMember { group, .. }
            | Action::RemoveGroupMember { group, .. }
            | Action::DeleteGroup { group } => Some(group),
            _ => None,
        }
    }
}

/// A member or group as it was seen when the plan was made (`before`) or as it will be (`after`).
/// A saved plan is refused when what the team shows now differs from `before`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Observed {
    /// No such member, group or membership.
    Absent,
    /// A member.
    Member {
        /// Login email.
        email: Email,
        /// First name.
        given_name: String,
        /// Last name.
        surname: String,
        /// External id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
        /// State on the team.
        status: MemberStatus,
    },
    /// A group.
    Group {
        /// Name.
        name: String,
        /// External id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
    },
    /// The member is in the group.
    InGroup,
}

impl Observed {
    pub(crate) fn of_member(m: &TeamMember) -> Self {
        Observed::Member {
            email: m.email.clone(),
            given_name: m.given_name.clone(),
            surname: m.surname.clone(),
            external_id: m.external_id.clone(),
            status: m.status,
        }
    }

    /// The same member in another state; other observations unchanged.
    pub(crate) fn with_status(&self, status: MemberStatus) -> Self {
        match self {
            Observed::Member {
                email,
                given_name,
                surname,
                external_id,
                ..
            } => Observed::Member {
                email: email.clone(),
                given_name: given_name.clone(),
                surname: surname.clone(),
                external_id: external_id.clone(),
                status,
            },
            other => other.clone(),
        }
    }

    pub(crate) fn of_group(g: &TeamGroup) -> Self {
        Observed::Group {
            name: g.name.clone(),
            external_id: g.external_id.clone(),
        }
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Absent => f.write_str("absent"),
            Observed::Member {
                email,
                given_name,
                surname,
                status,
                ..
            } => {
                write!(f, "{given_name} {surname} <{email}> {}", status.word())
            }
            Observed::Group { name, .. } => write!(f, "group {}", crate::text::quoted(name)),
            Observed::InGroup => f.write_str("in group"),
        }
    }
}

/// One step of a plan.
///
/// Two operations are the same when they do the same thing ([`phase`](Self::phase),
/// [`action`](Self::action)) to the same [`target`](Self::target): equality, ordering and
/// hashing look at those three only. `before`, `after` and `reason` describe the step for
/// people and for the staleness check; they never decide where it goes or whether it is a
/// duplicate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// When it runs.
    pub phase: Phase,
    /// What it does.
    #[serde(flatten)]
    pub action: Action,
    /// Who or what, for people (an email, a group name).
    pub target: String,
    /// The target as seen when planned.
    pub before: Observed,
    /// The target as it will be.
    pub after: Observed,
    /// Why this operation exists. For people only: apply never branches on it.
    pub reason: String,
}

impl Operation {
    /// What decides an operation's place and identity.
    fn effect(&self) -> (Phase, &Action, &str) {
        (self.phase, &self.action, &self.target)
    }

    /// What the operation does to its target beyond the verb, for the table: "devices wiped",
    /// "files to carol@…", "kept as Basic".
    pub fn consequence(&self) -> Option<String> {
        match &self.action {
            Action::Suspend {
                wipe_data: true, ..
            } => Some("devices wiped".to_owned()),
            Action::Remove { options, .. } if self.phase != Phase::Withdraw => {
                let mut parts = Vec::new();
                match &options.mode {
                    RemoveMode::Plain => {}
                    RemoveMode::Transfer { dest, .. } => parts.push(format!("files to {dest}")),
                    RemoveMode::KeepAccount => parts.push("kept as Basic".to_owned()),
                }
                if options.wipe_data {
                    parts.push("devices wiped".to_owned());
                }
                (!parts.is_empty()).then(|| parts.join(", "))
            }
            _ => None,
        }
    }
}

impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.effect() == other.effect()
    }
}

impl Eq for Operation {}

impl PartialOrd for Operation {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Operation {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.effect().cmp(&other.effect())
    }
}

impl std::hash::Hash for Operation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.effect().hash(state);
    }
}

/// Kinds of warnings and conflicts a plan carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// The directory source reported an entry it could not read.
    SourceIssue,
    /// Two directory users share an id; both are held.
    DuplicateUserId,
    /// Two directory groups share an id; both are skipped.
    DuplicateGroupId,
    /// A root group named in the snapshot is not in it.
    UnknownRoot,
    /// Directory groups contain each other (or a group contains itself); tolerated, each
    /// person counts once.
    GroupCycle,
    /// A user's email is one Dropbox would reject; that user is skipped.
    InvalidEmail,
    /// Two in-scope users have the same email; neither is invited.
    EmailCollision,
    /// The email belongs to another team member; the invite or change waits.
    EmailTaken,
    /// `<prefix><id>` does not fit Dropbox's 64-character external id.
    ExternalIdTooLong,
    /// A name was cut or had forbidden characters dropped.
    NameCleaned,
    /// An invited member's profile differs; the update waits until the invite is accepted.
    DeferredUpdate,
    /// A member with no external id matches a user, but `manage_existing_users` is off.
    UnmanagedMember,
    /// A member managed by another tool matches a user, and `adopt_foreign` is off.
    ForeignMember,
    /// A team admin would be suspended or removed; `deprovision_admins` is off.
    AdminProtected,
    /// A managed member's directory entry has a problem; the member is left as it is.
    HeldMember,
    /// A directory group's name is taken by an unmanaged or other group on the team.
    GroupNameConflict,
    /// A synced group has members outside user scope; they are not synced.
    GroupMembersOutOfScope,
    /// With `strict_group_scope`, a group with out-of-scope members is not synced.
    GroupSkipped,
    /// A group name is empty.
    GroupNameInvalid,
    /// A team member's external id carries teamsync's prefix but no valid id; not touched.
    MalformedExternalId,
    /// The deprovision or group-removal guard needs explicit permission.
    GuardLimit,
}

/// Something a run will skip or a person should know, shown in every dry run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Warning {
    /// What kind.
    pub kind: WarningKind,
    /// Who or what (an email, a DN, a group name).
    pub subject: String,
    /// What happened and what to do.
    pub message: String,
}

impl Warning {
    /// A warning of `kind` about `subject`.
    pub fn new(kind: WarningKind, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            kind,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

/// A disabled user in scope whose state causes nothing (already suspended, never invited),
/// listed so that an admin can see them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdleUser {
    /// The address (or the entry, when it has none).
    pub subject: String,
    /// The directory entry (a DN, a file line, an id).
    pub entry: String,
    /// Why nothing is done.
    pub state: String,
}

impl IdleUser {
    /// An idle user.
    pub fn new(
        subject: impl Into<String>,
        entry: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        IdleUser {
            subject: subject.into(),
            entry: entry.into(),
            state: state.into(),
        }
    }
}

/// The safety limits measured on a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    /// Suspensions and removals in the plan.
    pub deprovisions: usize,
    /// How many are allowed without permission.
    pub deprovision_limit: usize,
    /// Group member removals in the plan.
    pub group_member_removals: usize,
    /// How many are allowed without permission.
    pub group_member_removal_limit: usize,
}

impl Guard {
    /// True when applying this plan needs explicit permission (`--allow-deprovision` / force).
    pub fn needs_permission(&self) -> bool {
        self.deprovisions > self.deprovision_limit
            || self.group_member_removals > self.group_member_removal_limit
    }
}

/// Figures about the inputs, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Users in user scope.
    pub users_in_scope: usize,
    /// Of which enabled.
    pub users_enabled: usize,
    /// Team members teamsync manages (removed ones excluded).
    pub managed_members: usize,
    /// Directory groups synced.
    pub groups_in_scope: usize,
    /// Team groups teamsync manages.
    pub managed_groups: usize,
}

/// The plan: what a run would do, and what it would skip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// External id prefix the plan was made with.
    pub external_id_prefix: String,
    /// Operations in apply order.
    pub operations: Vec<Operation>,
    /// Warnings and conflicts, sorted.
    pub warnings: Vec<Warning>,
    /// Disabled users in scope that cause nothing, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idle: Vec<IdleUser>,
    /// Deprovision and group-removal counts against their limits.
    pub guard: Guard,
    /// Input figures.
    pub stats: Stats,
    /// Which team and directory a saved plan was made for, and when (set by the runner for
    /// `plan --out`; absent in plans that are not saved). See [`crate::saved`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::saved::PlanOrigin>,
}

/// Why a saved plan cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanFormatError {
    /// Not JSON of a plan.
    #[error("not a teamsync plan: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by another version of the format.
    #[error(
        "plan format version {found} is not supported (this build reads version {PLAN_FORMAT_VERSION})"
    )]
    Version {
        /// The version in the file.
        found: u32,
    },
}

/// An operation of a saved plan whose target changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleOperation {
    /// Position in [`Plan::operations`].
    pub index: usize,
    /// The operation's target.
    pub target: String,
    /// What the plan expected.
    pub expected: Observed,
    /// What the team shows now.
    pub found: Observed,
}

impl Plan {
    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Number of operations per action verb, sorted by verb.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for op in &self.operations {
            *counts.entry(op.action.verb()).or_insert(0) += 1;
        }
        counts
    }

    /// Stable, pretty JSON with the format version.
    pub fn to_json(&self) -> String {
        // Serialising plain data to a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a plan saved by [`Plan::to_json`], checking the format version.
    pub fn from_json(json: &str) -> Result<Self, PlanFormatError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            format_version: u32,
        }
        let version: VersionOnly = serde_json::from_str(json)?;
        if version.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanFormatError::Version {
                found: version.format_version,
            });
        }
        Ok(serde_json::from_str(json)?)
    }

    /// The operations whose target on `actual` no longer looks as it did when planned. A saved
    /// plan is applied only when this is empty.
    pub fn stale_operations(&self, actual: &ActualState) -> Vec<StaleOperation> {
        let view = TeamView::new(actual);
        let mut stale = Vec::new();
        for (index, op) in self.operations.iter().enumerate() {
            let found = view.observe(&op.action);
            if found != op.before {
                stale.push(StaleOperation {
                    index,
                    target: op.target.clone(),
                    expected: op.before.clone(),
                    found,
                });
            }
        }
        stale
    }

    /// The human table: operations grouped by phase with counts, then warnings.
    pub fn render(&self) -> String {
        // Names and ids come from the directory and the team: no newline may forge a line,
        // no escape code reach the terminal (JSON output stays exact).
        let safe = crate::text::escape_for_display;
        let mut out = String::new();
        let s = &self.stats;
        let _ = writeln!(
            out,
            "Directory: {} in scope ({} enabled), {} synced. Team: {}, {}.",
            count(s.users_in_scope, "user"),
            s.users_enabled,
            count(s.groups_in_scope, "group"),
            count(s.managed_members, "managed member"),
            count(s.managed_groups, "managed group")
        );
        if self.operations.is_empty() {
            out.push_str("\nNo changes: the team matches the directory.\n");
        }
        for phase in Phase::ALL {
            let ops: Vec<&Operation> = self
                .operations
                .iter()
                .filter(|op| op.phase == phase)
                .collect();
            if ops.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{} ({})", phase.title(), ops.len());
            for op in ops {
                let consequence = op
                    .consequence()
                    .map(|c| format!(" ({})", safe(&c)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} {:<17} {}{consequence}",
                    op.action.sign(),
                    op.action.verb(),
                    safe(&op.target)
                );
                let _ = writeln!(out, "      {}", safe(&op.reason));
            }
        }
        if !self.idle.is_empty() {
            let _ = writeln!(
                out,
                "\ndisabled in the directory, nothing to do ({})",
                self.idle.len()
            );
            for idle in &self.idle {
                let _ = writeln!(
                    out,
                    "    {} ({}): {}",
                    safe(&idle.subject),
                    safe(&idle.entry),
                    safe(&idle.state.to_string())
                );
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\nwarnings ({})", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(out, "  ! {}: {}", safe(&w.subject), safe(&w.message));
            }
        }
        let counts = self.counts();
        let summary: Vec<String> = counts
            .iter()
            .map(|(verb, n)| format!("{n} {verb}"))
            .collect();
        let _ = writeln!(
            out,
            "\nPlan: {}{}{}.",
            count(self.operations.len(), "operation"),
            if summary.is_empty() {
                String::new()
            } else {
                format!(" ({})", summary.join(", "))
            },
            if self.warnings.is_empty() {
                String::new()
            } else {
                format!(", {}", count(self.warnings.len(), "warning"))
            }
        );
        let g = &self.guard;
        if g.needs_permission() {
            let _ = writeln!(
                out,
                "GUARD: this plan suspends or removes {} members (limit {}) and removes {} group memberships (limit {}); apply needs explicit permission.",
                g.deprovisions,
                g.deprovision_limit,
                g.group_member_removals,
                g.group_member_removal_limit
            );
        }
        out
    }
}

/// "1 user", "2 users".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Lookups over a team state, for checking what an operation's target looks like now.
struct TeamView<'a> {
    by_id: FxHashMap<&'a str, &'a TeamMember>,
    by_external: FxHashMap<&'a str, &'a TeamMember>,
    by_email: FxHashMap<&'a str, &'a TeamMember>,
    groups_by_id: FxHashMap<&'a str, &'a TeamGroup>,
    groups_by_external: FxHashMap<&'a str, &'a TeamGroup>,
}

impl<'a> TeamView<'a> {
    fn new(actual: &'a ActualState) -> Self {
        let mut view = TeamView {
            by_id: FxHashMap::default(),
            by_external: FxHashMap::default(),
            by_email: FxHashMap::default(),
            groups_by_id: FxHashMap::default(),
            groups_by_external: FxHashMap::default(),
        };
        for m in &actual.members {
            view.by_id.insert(&m.team_member_id, m);
            if let Some(x) = &m.external_id {
                // A live member wins over a removed one holding the same external id.
                let keep_existing = view
                    .by_external
                    .get(x.as_str())
                    .is_some_and(|old| !old.status.is_removed());
                if !keep_existing {
                    view.by_external.insert(x, m);
                }
            }
            if !m.status.is_removed() {
                view.by_email.insert(m.email.as_str(), m);
            }
        }
        for g in &actual.groups {
            view.groups_by_id.insert(&g.group_id, g);
            if let Some(x) = &g.external_id {
                view.groups_by_external.insert(x, g);
            }
        }
        view
    }

    fn member(&self, r: &MemberRef) -> Option<&'a TeamMember> {
        match r {
            MemberRef::ExternalId(x) => self.by_external.get(x.as_str()).copied(),
            MemberRef::TeamMemberId(id) => self.by_id.get(id.as_str()).copied(),
            MemberRef::Email(e) => self.by_email.get(e.as_str()).copied(),
        }
    }

    fn group(&self, r: &GroupRef) -> Option<&'a TeamGroup> {
        match r {
            GroupRef::ExternalId(x) => self.groups_by_external.get(x.as_str()).copied(),
            GroupRef::GroupId(id) => self.groups_by_id.get(id.as_str()).copied(),
        }
    }

    fn observe(&self, action: &Action) -> Observed {
        match action {
            Action::Invite { member } => {
                // An invite expects neither its email nor its external id on the team.
                match (
                    self.by_email.get(member.email.as_str()),
                    self.by_external.get(member.external_id.as_str()),
                ) {
                    (Some(m), _) => Observed::of_member(m),
                    (None, Some(m)) if !m.status.is_removed() => Observed::of_member(m),
                    _ => Observed::Absent,
                }
            }
            Action::CreateGroup { external_id, .. } => self
                .groups_by_external
                .get(external_id.as_str())
                .map_or(Observed::Absent, |g| Observed::of_group(g)),
            Action::AddGroupMember { group, member }
            | Action::RemoveGroupMember { group, member } => {
                match (self.group(group), self.member(member)) {
                    (Some(g), Some(m)) if g.members.iter().any(|id| id == &m.team_member_id) => {
                        Observed::InGroup
                    }
                    _ => Observed::Absent,
                }
            }
            Action::RenameGroup { group, .. }
            | Action::AdoptGroup { group, .. }
            | Action::DeleteGroup { group } => self
                .group(group)
                .map_or(Observed::Absent, Observed::of_group),
            Action::Recover { member, .. }
            | Action::Unsuspend { member, .. }
            | Action::UpdateProfile { member, .. }
            | Action::AdoptMember { member, .. }
            | Action::Suspend { member, .. }
            | Action::Remove { member, .. } => self
                .member(member)
                .map_or(Observed::Absent, Observed::of_member),
        }
    }
}
