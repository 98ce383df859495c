//! One run's record: what the history folder holds, one JSON file per run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use teamsync_core::{
    Action, ApplyError, MemberRef, OpStatus, Operation, Outcome, Permission, Plan,
};

use super::time::rfc3339_millis;

/// The record format's version. Fields are added without a new version (readers ignore the
/// ones they do not know, and default the ones a file lacks); a new version means an older
/// teamsync cannot read the record, and reports it as unreadable.
pub const SCHEMA_VERSION: u32 = 1;

/// The result of an operation that was planned but not applied (a `plan`, a `check`).
pub(crate) const PLANNED: &str = "planned";
/// The result of an operation of an apply that stopped before reaching it (a guard refusal).
pub(crate) const NOT_APPLIED: &str = "not_applied";

/// The directory's side, as read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Counts {
    /// Users read.
    pub users: usize,
    /// Groups read.
    pub groups: usize,
}

/// The team's side, as read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TeamCounts {
    /// Members read (every status).
    pub members: usize,
    /// Groups read.
    pub groups: usize,
}

/// The deprovision guard's figures and what it decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GuardRecord {
    /// Suspensions and removals planned.
    pub deprovisions: usize,
    /// Allowed without permission.
    pub deprovision_limit: usize,
    /// Group member removals planned.
    pub group_member_removals: usize,
    /// Allowed without permission.
    pub group_member_removal_limit: usize,
    /// The permission an apply was given: `none`, `allow_deprovision N` or `force`; absent
    /// when nothing was applied.
    pub permission: Option<String>,
    /// `within_limits`, `needs_permission` (a plan an apply would refuse without permission),
    /// `refused` (an apply stopped by the guard) or `permitted` (an apply over the limits,
    /// with permission).
    pub verdict: String,
}

/// One operation of the run, with what became of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OperationRecord {
    /// Position in the plan.
    pub index: usize,
    /// The plan phase (`provision`, `group_adds`, ...).
    pub phase: String,
    /// The action's kind as the plan JSON names it (`invite`, `add_group_member`, ...).
    pub kind: String,
    /// The action for people (`invite`, `add to group`, ...).
    pub action: String,
    /// Who or what (an email, `Group: email`, a group name).
    pub target: String,
    /// Why it was planned.
    pub reason: String,
    /// The person it concerns, by email (lowercase), when it concerns one.
    pub email: Option<String>,
    /// The person it concerns, by directory id, when the plan names it.
    pub directory_id: Option<String>,
    /// `planned`, `done`, `failed`, `skipped` or `not_applied`.
    pub result: String,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// Calls made, for a failed operation.
    pub attempts: Option<u32>,
}

/// A warning of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct WarningRecord {
    /// Its kind as the plan JSON names it (`email_taken`, ...).
    pub kind: String,
    /// Who or what (an email, a DN, a group name).
    pub subject: String,
    /// What happened and what to do.
    pub message: String,
}

/// One run, as the history keeps it. Build it as the run goes ([`RunRecord::begin`], the
/// counts, [`RunRecord::planned`], [`RunRecord::applied`]) and close it with
/// [`RunRecord::end`], also when the run fails: the exit code and the error are recorded
/// whatever stage stopped it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RunRecord {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The teamsync that ran.
    pub teamsync_version: String,
    /// `check`, `plan`, `apply` (Python's `sync()` records `plan` for a dry run).
    pub command: String,
    /// The config file.
    pub config: String,
    /// When the run started (RFC 3339, UTC, milliseconds).
    pub started_at: String,
    /// When it ended.
    pub ended_at: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<u64>,
    /// The `teamsync` command's exit code for this run (`0` success; see its `--help`).
    pub exit_code: Option<u8>,
    /// The error that stopped the run, or the apply's failures.
    pub error: Option<String>,
    /// The team's name, when it was reached.
    pub team_name: Option<String>,
    /// The directory's side, when it was read.
    pub directory: Option<Counts>,
    /// The team's side, when it was read.
    pub team: Option<TeamCounts>,
    /// Users in user scope, when planned.
    pub users_in_scope: Option<usize>,
    /// Team members teamsync manages, when planned.
    pub managed_members: Option<usize>,
    /// The guard, when planned.
    pub guard: Option<GuardRecord>,
    /// Every operation, in plan order.
    pub operations: Vec<OperationRecord>,
    /// The plan's warnings.
    pub warnings: Vec<WarningRecord>,
    #[serde(skip)]
    started: Option<SystemTime>,
    #[serde(skip)]
    ended: Option<SystemTime>,
}

impl RunRecord {
    /// A record of `command` started now, with `config`.
    pub fn begin(command: &str, config: impl AsRef<Path>) -> RunRecord {
        let now = SystemTime::now();
        RunRecord {
            schema_version: SCHEMA_VERSION,
            teamsync_version: env!("CARGO_PKG_VERSION").to_owned(),
            command: command.to_owned(),
            config: config.as_ref().display().to_string(),
            started_at: rfc3339_millis(now),
            started: Some(now),
            ..RunRecord::default()
        }
    }

    /// The team answered `team/get_info`.
    pub fn team_connected(&mut self, name: &str) {
        self.team_name = Some(name.to_owned());
    }

    /// The team was read.
    pub fn team_read(&mut self, members: usize, groups: usize) {
        self.team = Some(TeamCounts { members, groups });
    }

    /// The directory was read.
    pub fn directory_read(&mut self, users: usize, groups: usize) {
        self.directory = Some(Counts { users, groups });
    }

    /// The plan the run made (or loaded): every operation as `planned`, the warnings, the
    /// guard's figures, the scope figures.
    pub fn planned(&mut self, plan: &Plan) {
        let prefix = plan.external_id_prefix.as_str();
        self.operations = plan
            .operations
            .iter()
            .enumerate()
            .map(|(index, op)| operation_record(index, op, prefix))
            .collect();
        self.warnings = plan
            .warnings
            .iter()
            .map(|w| WarningRecord {
                kind: snake_name(&w.kind).unwrap_or_else(|| "unknown".to_owned()),
                subject: w.subject.clone(),
                message: w.message.clone(),
            })
            .collect();
        let guard = plan.guard;
        self.guard = Some(GuardRecord {
            deprovisions: guard.deprovisions,
            deprovision_limit: guard.deprovision_limit,
            group_member_removals: guard.group_member_removals,
            group_member_removal_limit: guard.group_member_removal_limit,
            permission: None,
            verdict: if guard.needs_permission() {
                "needs_permission"
            } else {
                "within_limits"
            }
            .to_owned(),
        });
        self.users_in_scope = Some(plan.stats.users_in_scope);
        self.managed_members = Some(plan.stats.managed_members);
    }

    /// What an apply of `plan` (recorded by [`RunRecord::planned`] first) did, or that the
    /// guard refused it.
    pub fn applied(
        &mut self,
        plan: &Plan,
        permission: Permission,
        applied: &Result<Outcome, ApplyError>,
    ) {
        if self.operations.len() != plan.operations.len() {
            self.planned(plan);
        }
        let needs_permission = plan.guard.needs_permission();
        if let Some(guard) = &mut self.guard {
            guard.permission = Some(match permission {
                Permission::UpTo(n) => format!("allow_deprovision {n}"),
                Permission::Force => "force".to_owned(),
                _ => "none".to_owned(),
            });
            guard.verdict = match (applied, needs_permission) {
                (Err(_), _) => "refused",
                (Ok(_), true) => "permitted",
                (Ok(_), false) => "within_limits",
            }
            .to_owned();
        }
        for op in &mut self.operations {
            op.result = NOT_APPLIED.to_owned();
        }
        let Ok(outcome) = applied else {
            return;
        };
        for result in &outcome.results {
            let Some(op) = self.operations.get_mut(result.index) else {
                continue;
            };
            match &result.status {
                OpStatus::Done => op.result = "done".to_owned(),
                OpStatus::Failed { error, attempts } => {
                    op.result = "failed".to_owned();
                    op.error = Some(error.to_string());
                    op.attempts = Some(*attempts);
                }
                OpStatus::Skipped { because } => {
                    op.result = "skipped".to_owned();
                    op.error = Some(because.clone());
                }
            }
        }
    }

    /// Closes the record: now, the exit code, the error (if any).
    pub fn end(&mut self, exit_code: u8, error: Option<String>) {
        let now = SystemTime::now();
        self.ended_at = Some(rfc3339_millis(now));
        self.duration_ms = self
            .started
            .and_then(|start| now.duration_since(start).ok())
            .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX));
        self.exit_code = Some(exit_code);
        self.error = error;
        self.ended = Some(now);
    }

    /// When the run ended, as seconds since the Unix epoch (for the metrics); `None` for a
    /// record not ended in this process.
    pub fn ended_unix_seconds(&self) -> Option<f64> {
        let ended = self.ended?;
        ended
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64())
    }

    /// Operations by result (`done` → 3, ...).
    pub fn results(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for op in &self.operations {
            *counts.entry(op.result.as_str()).or_insert(0) += 1;
        }
        counts
    }

    /// Operations by kind and result (`(invite, done)` → 3, ...).
    pub fn operations_by_kind(&self) -> BTreeMap<(&str, &str), usize> {
        let mut counts = BTreeMap::new();
        for op in &self.operations {
            *counts
                .entry((op.kind.as_str(), op.result.as_str()))
                .or_insert(0) += 1;
        }
        counts
    }

    /// The start time as a file-name stem part: `20261201T135333.123Z`.
    pub(crate) fn compact_start(&self) -> String {
        self.started_at
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect()
    }
}

/// A serde unit variant's name (`email_taken`).
fn snake_name(value: &impl Serialize) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// An operation as planned, with the person it concerns.
fn operation_record(index: usize, op: &Operation, prefix: &str) -> OperationRecord {
    let kind = serde_json::to_value(&op.action)
        .ok()
        .and_then(|v| v.get("kind")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| op.action.verb().replace(' ', "_"));
    let (email, directory_id) = person(op, prefix);
    OperationRecord {
        index,
        phase: snake_name(&op.phase).unwrap_or_default(),
        kind,
        action: op.action.verb().to_owned(),
        target: op.target.clone(),
        reason: op.reason.clone(),
        email,
        directory_id,
        result: PLANNED.to_owned(),
        error: None,
        attempts: None,
    }
}

/// The person an operation concerns, by email and by directory id, as far as the plan names
/// them: a managed member by its external id (`<prefix><id>`), an invitation by both; member
/// operations name the member's email as their target, group membership operations as
/// `Group: email`.
fn person(op: &Operation, prefix: &str) -> (Option<String>, Option<String>) {
    let id_of = |external_id: &str| external_id.strip_prefix(prefix).map(str::to_owned);
    let mut email = None;
    let mut id = None;
    match &op.action {
        Action::Invite { member } => {
            email = Some(member.email.as_str().to_owned());
            id = id_of(&member.external_id);
        }
        Action::Recover { external_id, .. }
        | Action::Unsuspend {
            external_id: Some(external_id),
            ..
        } => id = id_of(external_id),
        Action::AdoptMember { change, .. } => {
            id = change.external_id.as_deref().and_then(id_of);
        }
        _ => {}
    }
    if let Some(member) = op.action.member() {
        match member {
            MemberRef::ExternalId(x) => id = id.or_else(|| id_of(x)),
            MemberRef::Email(e) => email = email.or_else(|| Some(e.as_str().to_owned())),
            MemberRef::TeamMemberId(_) => {}
        }
        if email.is_none() {
            let named = match &op.action {
                Action::AddGroupMember { .. } | Action::RemoveGroupMember { .. } => {
                    op.target.rsplit_once(": ").map(|(_, e)| e)
                }
                _ => Some(op.target.as_str()),
            };
            email = named.filter(|e| e.contains('@')).map(str::to_owned);
        }
    }
    (email.map(|e| e.to_ascii_lowercase()), id)
}

/// The exit code the `teamsync` command gives a run that stopped with an error of `kind`
/// (its `--help` lists them), for runs recorded outside the command (Python's `sync()`).
#[cfg(feature = "dropbox")]
pub fn exit_code(kind: crate::RunErrorKind) -> u8 {
    use crate::RunErrorKind as K;
    match kind {
        K::Config => 3,
        K::DirectoryConnect => 4,
        K::DirectoryRead => 5,
        K::NoUsersInScope => 6,
        K::TeamAuth => 7,
        K::TeamRead => 8,
        K::GuardRefused => 9,
        K::PlanStale => 10,
        K::PlanRefused => 14,
        _ => 1,
    }
}

/// The exit code of an apply whose operations did not all succeed.
#[cfg(feature = "dropbox")]
const EXIT_APPLY_FAILURES: u8 = 11;

#[cfg(feature = "dropbox")]
impl RunRecord {
    /// Closes the record of a library run (Python's `sync()`): exit code 0, 11 when an
    /// operation failed or was skipped, or the code of the error's kind ([`exit_code`]).
    pub fn end_with(&mut self, result: Result<Option<&Outcome>, &crate::RunError>) {
        match result {
            Ok(Some(outcome)) if !outcome.is_success() => self.end(
                EXIT_APPLY_FAILURES,
                Some(format!(
                    "apply finished with {} failed and {} skipped operation(s) out of {}",
                    outcome.failed,
                    outcome.skipped,
                    outcome.results.len()
                )),
            ),
            Ok(_) => self.end(0, None),
            Err(e) => self.end(exit_code(e.kind()), Some(e.to_string())),
        }
    }
}
