//! `apply(plan, store, options)`: runs a plan against a [`TeamStore`], phase by phase.
//!
//! The only async code in the core. It batches to the store's limits, runs batches with bounded
//! concurrency, retries what is safe to retry (transient and rate-limited errors, honouring the
//! delay the store reports), never lets one failure stop the rest, and skips the operations that
//! depend on a failed one (adding a failed invite to a group). It knows nothing of HTTP: errors
//! arrive classified as [`ErrorKind`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::model::{GroupRef, ManagementType, MemberRef};
use crate::plan::{Action, Phase, Plan};
use crate::store::{ErrorKind, GroupChange, StoreError, TeamStore};

/// Waits. Injected so that tests run without real delays and the core needs no runtime.
pub trait Sleeper: Send + Sync {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Sleeps with `futures-timer`, which works under any executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimerSleeper;

impl Sleeper for TimerSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(futures_timer::Delay::new(duration))
    }
}

/// Permission to apply a plan whose guard was tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", content = "count", rename_all = "snake_case")]
pub enum Permission {
    /// Refuse plans over the limits (the default).
    #[default]
    WithinLimits,
    /// Allow up to this many suspensions/removals and group member removals.
    UpTo(usize),
    /// Allow any plan.
    Force,
}

/// Progress of a run, for progress bars and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The phase running.
    pub phase: Phase,
    /// Operations of this phase finished (done, failed or skipped).
    pub done: usize,
    /// Operations in this phase.
    pub total: usize,
}

/// How to apply.
#[derive(Clone)]
pub struct ApplyOptions {
    /// Permission for plans over the guard's limits.
    pub permission: Permission,
    /// Retries of a retryable error before the operation counts as failed.
    pub max_retries: u32,
    /// First backoff delay; doubles per attempt, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff delay, and longest wait honoured from a rate limit.
    pub backoff_max: Duration,
    /// Calls in flight at once; `None` uses the store's limit.
    pub concurrency: Option<usize>,
    /// How to wait.
    pub sleeper: Arc<dyn Sleeper>,
    /// Called as operations finish.
    pub on_progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            permission: Permission::WithinLimits,
            max_retries: 6,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(60),
            concurrency: None,
            sleeper: Arc::new(TimerSleeper),
            on_progress: None,
        }
    }
}

impl fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("permission", &self.permission)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Why a plan was not applied at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The plan deprovisions more than the guard allows and no permission was given.
    #[error(
        "refused: the plan suspends or removes {deprovisions} members (limit {deprovision_limit}) and removes {group_member_removals} group memberships (limit {group_member_removal_limit}); give explicit permission to go on"
    )]
    GuardRefused {
        /// Suspensions and removals planned.
        deprovisions: usize,
        /// Allowed without permission.
        deprovision_limit: usize,
        /// Group member removals planned.
        group_member_removals: usize,
        /// Allowed without permission.
        group_member_removal_limit: usize,
    },
}

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OpStatus {
    /// Done.
    Done,
    /// Failed after `attempts` tries.
    Failed {
        /// The last error.
        error: StoreError,
        /// Calls made.
        attempts: u32,
    },
    /// Not attempted.
    Skipped {
        /// Why (the failed operation it depended on).
        because: String,
    },
}

/// One operation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// Position in [`Plan::operations`].
    pub index: usize,
    /// What became of it.
    pub status: OpStatus,
}

/// What a run did: every operation counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Operations done.
    pub done: usize,
    /// Operations that failed.
    pub failed: usize,
    /// Operations skipped because one they depend on failed.
    pub skipped: usize,
    /// Every operation's result, in plan order.
    pub results: Vec<OpResult>,
}

impl Outcome {
    /// True when every operation was done.
    pub fn is_success(&self) -> bool {
        self.failed == 0 && self.skipped == 0
    }

    /// The failures, in plan order.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &StoreError)> {
        self.results.iter().filter_map(|r| match &r.status {
            OpStatus::Failed { error, .. } => Some((r.index, error)),
            _ => None,
        })
    }
}

/// Applies `plan` to `store`.
///
/// Refuses a plan over the guard's limits without permission; otherwise runs every phase and
/// returns an [`Outcome`] counting every operation, even when some failed.
pub async fn apply(
    plan: &Plan,
    store: &dyn TeamStore,
    options: &ApplyOptions,
) -> Result<Outcome, ApplyError> {
    check_permission(plan, options.permission)?;
    let limits = store.limits();
    let concurrency = options.concurrency.unwrap_or(limits.max_concurrency).max(1);
    let mut statuses: Vec<Option<OpStatus>> = vec![None; plan.operations.len()];
    // Keys provided by operations that did not complete, with the index of the culprit.
    let mut broken: FxHashMap<Key, usize> = FxHashMap::default();

    for phase in Phase::ALL {
        let indices: Vec<usize> = plan
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| op.phase == phase)
            .map(|(i, _)| i)
            .collect();
        if indices.is_empty() {
            continue;
        }
        let total = indices.len();
        let mut finished = 0usize;
        let mut runnable = Vec::with_capacity(total);
        for i in indices {
            let action = &plan.operations[i].action;
            if let Some(culprit) = requires(action).iter().find_map(|k| broken.get(k)) {
                let c = &plan.operations[*culprit];
                statuses[i] = Some(OpStatus::Skipped {
                    because: format!(
                        "depends on operation #{culprit} ({} {}), which did not complete",
                        c.action.verb(),
                        c.target
                    ),
                });
                finished += 1;
            } else {
                runnable.push(i);
            }
        }
        report(options, phase, finished, total);

        let work = batch(
            plan,
            &runnable,
            limits.invites_per_call.max(1),
            limits.group_members_per_call.max(1),
        );
        let mut results = stream::iter(work.into_iter().map(|w| run_work(plan, store, options, w)))
            .buffer_unordered(concurrency);
        while let Some(batch_results) = results.next().await {
            finished += batch_results.len();
            for (i, status) in batch_results {
                statuses[i] = Some(status);
            }
            report(options, phase, finished, total);
        }
        drop(results);

        for (i, op) in plan
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| op.phase == phase)
        {
            if !matches!(statuses[i], Some(OpStatus::Done)) {
                for key in provides(&op.action) {
                    broken.entry(key).or_insert(i);
                }
            }
        }
    }

    let mut outcome = Outcome::default();
    for (index, status) in statuses.into_iter().enumerate() {
        let status = status.unwrap_or(OpStatus::Skipped {
            because: "not reached".to_owned(),
        });
        match status {
            OpStatus::Done => outcome.done += 1,
            OpStatus::Failed { .. } => outcome.failed += 1,
            OpStatus::Skipped { .. } => outcome.skipped += 1,
        }
        outcome.results.push(OpResult { index, status });
    }
    Ok(outcome)
}

fn check_permission(plan: &Plan, permission: Permission) -> Result<(), ApplyError> {
    let g = &plan.guard;
    let allowed = match permission {
        Permission::Force => true,
        Permission::WithinLimits => !g.needs_permission(),
        Permission::UpTo(n) => {
            g.deprovisions <= n.max(g.deprovision_limit)
                && g.group_member_removals <= n.max(g.group_member_removal_limit)
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApplyError::GuardRefused {
            deprovisions: g.deprovisions,
            deprovision_limit: g.deprovision_limit,
            group_member_removals: g.group_member_removals,
            group_member_removal_limit: g.group_member_removal_limit,
        })
    }
}

fn report(options: &ApplyOptions, phase: Phase, done: usize, total: usize) {
    if let Some(cb) = &options.on_progress {
        cb(Progress { phase, done, total });
    }
}

/// What an operation needs to exist, or makes exist, on the team.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Member(MemberRef),
    Group(GroupRef),
}

fn requires(action: &Action) -> Vec<Key> {
    let mut keys = Vec::with_capacity(2);
    if let Some(m) = action.member() {
        keys.push(Key::Member(m.clone()));
    }
    if let Some(g) = action.group() {
        keys.push(Key::Group(g.clone()));
    }
    keys
}

fn provides(action: &Action) -> Vec<Key> {
    match action {
        Action::Invite { member } => vec![
            Key::Member(MemberRef::ExternalId(member.external_id.clone())),
            Key::Member(MemberRef::Email(member.email.clone())),
        ],
        Action::AdoptMember { member, change } => {
            let mut keys = vec![Key::Member(member.clone())];
            if let Some(x) = &change.external_id {
                keys.push(Key::Member(MemberRef::ExternalId(x.clone())));
            }
            keys
        }
        Action::Recover {
            member,
            external_id,
        } => vec![
            Key::Member(member.clone()),
            Key::Member(MemberRef::ExternalId(external_id.clone())),
        ],
        Action::Unsuspend {
            member,
            external_id,
        } => {
            let mut keys = vec![Key::Member(member.clone())];
            if let Some(x) = external_id {
                keys.push(Key::Member(MemberRef::ExternalId(x.clone())));
            }
            keys
        }
        Action::CreateGroup { external_id, .. } => {
            vec![Key::Group(GroupRef::ExternalId(external_id.clone()))]
        }
        Action::AdoptGroup {
            group, external_id, ..
        } => vec![
            Key::Group(group.clone()),
            Key::Group(GroupRef::ExternalId(external_id.clone())),
        ],
        _ => Vec::new(),
    }
}

/// A unit of work: one store call (or a batch call) and the operations it covers.
enum Work {
    Invites(Vec<usize>),
    GroupAdds(GroupRef, Vec<usize>),
    GroupRemoves(GroupRef, Vec<usize>),
    Single(usize),
}

fn batch(
    plan: &Plan,
    indices: &[usize],
    invites_per_call: usize,
    members_per_call: usize,
) -> Vec<Work> {
    let mut invites = Vec::new();
    let mut adds: BTreeMap<&GroupRef, Vec<usize>> = BTreeMap::new();
    let mut removes: BTreeMap<&GroupRef, Vec<usize>> = BTreeMap::new();
    let mut work = Vec::new();
    for &i in indices {
        match &plan.operations[i].action {
            Action::Invite { .. } => invites.push(i),
            Action::AddGroupMember { group, .. } => adds.entry(group).or_default().push(i),
            Action::RemoveGroupMember { group, .. } => removes.entry(group).or_default().push(i),
            _ => work.push(Work::Single(i)),
        }
    }
    work.extend(
        invites
            .chunks(invites_per_call)
            .map(|c| Work::Invites(c.to_vec())),
    );
    for (group, ops) in adds {
        work.extend(
            ops.chunks(members_per_call)
                .map(|c| Work::GroupAdds(group.clone(), c.to_vec())),
        );
    }
    for (group, ops) in removes {
        work.extend(
            ops.chunks(members_per_call)
                .map(|c| Work::GroupRemoves(group.clone(), c.to_vec())),
        );
    }
    work
}

async fn run_work(
    plan: &Plan,
    store: &dyn TeamStore,
    options: &ApplyOptions,
    work: Work,
) -> Vec<(usize, OpStatus)> {
    match work {
        Work::Single(i) => {
            let (result, attempts) = retrying(options, i as u64, || {
                run_single(&plan.operations[i].action, store)
            })
            .await;
            vec![(i, status_of(result, attempts))]
        }
        Work::Invites(indices) => run_invites(plan, store, options, indices).await,
        Work::GroupAdds(group, indices) => {
            run_group_batch(plan, store, options, &group, indices, true).await
        }
        Work::GroupRemoves(group, indices) => {
            run_group_batch(plan, store, options, &group, indices, false).await
        }
    }
}

fn status_of(result: Result<(), StoreError>, attempts: u32) -> OpStatus {
    match result {
        Ok(()) => OpStatus::Done,
        Err(error) => OpStatus::Failed { error, attempts },
    }
}

async fn run_single(action: &Action, store: &dyn TeamStore) -> Result<(), StoreError> {
    match action {
        Action::CreateGroup { name, external_id } => {
            store.create_group(name, external_id).await.map(|_| ())
        }
        Action::RenameGroup { group, name } => {
            store
                .update_group(
                    group,
                    &GroupChange {
                        name: Some(name.clone()),
                        ..GroupChange::default()
                    },
                )
                .await
        }
        Action::AdoptGroup {
            group,
            external_id,
            rename,
        } => {
            let change = GroupChange {
                name: rename.clone(),
                external_id: Some(external_id.clone()),
                management_type: Some(ManagementType::CompanyManaged),
            };
            store.update_group(group, &change).await
        }
        Action::Recover { member, .. } => store.recover(member).await,
        Action::Unsuspend { member, .. } => store.unsuspend(member).await,
        Action::UpdateProfile { member, change } | Action::AdoptMember { member, change } => {
            store.set_profile(member, change).await
        }
        Action::Suspend { member, wipe_data } => store.suspend(member, *wipe_data).await,
        Action::Remove { member, options } => store.remove(member, options).await,
        Action::DeleteGroup { group } => store.delete_group(group).await,
        Action::Invite { member } => {
            let mut results = store.invite(std::slice::from_ref(member)).await;
            results.pop().unwrap_or_else(|| {
                Err(StoreError::permanent(
                    "the store returned no result for the invite",
                ))
            })
        }
        Action::AddGroupMember { group, member } => {
            store
                .add_group_members(group, std::slice::from_ref(member))
                .await
        }
        Action::RemoveGroupMember { group, member } => {
            store
                .remove_group_members(group, std::slice::from_ref(member))
                .await
        }
    }
}

/// Invites in one call; items that fail with a retryable error are retried together.
async fn run_invites(
    plan: &Plan,
    store: &dyn TeamStore,
    options: &ApplyOptions,
    indices: Vec<usize>,
) -> Vec<(usize, OpStatus)> {
    let mut out = Vec::with_capacity(indices.len());
    let mut pending = indices;
    let mut attempt = 0u32;
    while !pending.is_empty() {
        attempt += 1;
        let members: Vec<_> = pending
            .iter()
            .filter_map(|&i| match &plan.operations[i].action {
                Action::Invite { member } => Some(member.clone()),
                _ => None,
            })
            .collect();
        let mut results = store.invite(&members).await;
        results.resize_with(pending.len(), || {
            Err(StoreError::permanent(
                "the store returned fewer results than invitations",
            ))
        });
        let mut retry = Vec::new();
        let mut delay: Option<Duration> = None;
        for (&i, result) in pending.iter().zip(results) {
            match result {
                Ok(()) => out.push((i, OpStatus::Done)),
                Err(e) if e.kind.is_retryable() && attempt <= options.max_retries => {
                    let d = wait_for(options, &e, attempt, i as u64);
                    delay = Some(delay.map_or(d, |old| old.max(d)));
                    retry.push(i);
                }
                Err(error) => out.push((
                    i,
                    OpStatus::Failed {
                        error,
                        attempts: attempt,
                    },
                )),
            }
        }
        if let Some(d) = delay {
            options.sleeper.sleep(d).await;
        }
        pending = retry;
    }
    out
}

/// A group batch is all or nothing; when it fails for good, each member is tried alone so one
/// bad member does not fail the others.
async fn run_group_batch(
    plan: &Plan,
    store: &dyn TeamStore,
    options: &ApplyOptions,
    group: &GroupRef,
    indices: Vec<usize>,
    add: bool,
) -> Vec<(usize, OpStatus)> {
    let members_of = |idx: &[usize]| -> Vec<MemberRef> {
        idx.iter()
            .filter_map(|&i| plan.operations[i].action.member().cloned())
            .collect()
    };
    let call = |members: Vec<MemberRef>| async move {
        if add {
            store.add_group_members(group, &members).await
        } else {
            store.remove_group_members(group, &members).await
        }
    };
    let seed = indices.first().copied().unwrap_or(0) as u64;
    let (result, attempts) = retrying(options, seed, || call(members_of(&indices))).await;
    match result {
        Ok(()) => indices.into_iter().map(|i| (i, OpStatus::Done)).collect(),
        Err(error) if indices.len() == 1 => {
            vec![(indices[0], OpStatus::Failed { error, attempts })]
        }
        Err(_) => {
            let mut out = Vec::with_capacity(indices.len());
            for i in indices {
                let (result, attempts) =
                    retrying(options, i as u64, || call(members_of(&[i]))).await;
                out.push((i, status_of(result, attempts)));
            }
            out
        }
    }
}

/// Calls `f` until it succeeds, fails for good, or retries run out. Returns the last result and
/// the number of calls.
async fn retrying<F, Fut>(
    options: &ApplyOptions,
    seed: u64,
    mut f: F,
) -> (Result<(), StoreError>, u32)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match f().await {
            Err(e) if e.kind.is_retryable() && attempt <= options.max_retries => {
                options
                    .sleeper
                    .sleep(wait_for(options, &e, attempt, seed))
                    .await;
            }
            result => return (result, attempt),
        }
    }
}

/// The wait before retry `attempt`: the server's delay for a rate limit when it gave one,
/// otherwise exponential backoff with deterministic jitter (50–100% of the step).
fn wait_for(options: &ApplyOptions, error: &StoreError, attempt: u32, seed: u64) -> Duration {
    if let ErrorKind::RateLimited {
        retry_after_ms: Some(ms),
    } = error.kind
    {
        return Duration::from_millis(ms).min(options.backoff_max);
    }
    let step = options
        .backoff_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(options.backoff_max);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(attempt).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    let fraction = 0.5 + (x % 1000) as f64 / 2000.0;
    step.mul_f64(fraction)
}
