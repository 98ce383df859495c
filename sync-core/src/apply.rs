//! `apply(plan, store, options)`: runs a plan against a [`TeamStore`], phase by phase.
//!
//! The only async code in the core. It batches to the store's limits, runs batches with bounded
//! concurrency, retries what is safe to retry (transient and rate-limited errors, through the
//! one [`RetryPolicy`] mechanism, honouring the delay the store reports up to its cap), confirms
//! with the store a retried write whose first reply was lost (see [`TeamStore::confirm`]),
//! never lets one failure stop the rest, and skips the operations that
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
use crate::retry::{GiveUp, RetryDecision, RetryPolicy};
use crate::store::{ErrorKind, GroupChange, StoreError, TeamStore, WantedState};

/// Waits. Injected so that tests run without real delays and the core needs no runtime.
pub trait Sleeper: Send + Sync {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Sleeps with `futures-timer`, which works under any executor (cargo feature `timer`, on by
/// default; it starts one helper thread the first time it waits).
#[cfg(feature = "timer")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TimerSleeper;

#[cfg(feature = "timer")]
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
///
/// The struct is `#[non_exhaustive]`: build one with [`ApplyOptions::default()`] (cargo feature
/// `timer`) or [`ApplyOptions::new`] with your own [`Sleeper`], then change what you need with
/// the chainable `with_*` setters, or assign the public fields of a `mut` value.
///
/// ```
/// use teamsync_core::{ApplyOptions, Permission};
///
/// let options = ApplyOptions::default()
///     .with_permission(Permission::UpTo(40))
///     .with_concurrency(4)
///     .with_on_progress(|p| eprintln!("{:?}: {}/{}", p.phase, p.done, p.total));
/// assert_eq!(options.concurrency, Some(4));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Permission for plans over the guard's limits. Default [`Permission::WithinLimits`].
    pub permission: Permission,
    /// How retryable errors are retried ([`RetryPolicy::writes`] by default): the same
    /// mechanism the adapters use for their reads. A rate limit asking for a longer wait than
    /// the policy's `max_server_wait` fails the operation at once, naming the wait.
    pub retry: RetryPolicy,
    /// Calls in flight at once; `None` (the default) uses the store's limit.
    pub concurrency: Option<usize>,
    /// How to wait between retries. Default [`TimerSleeper`] (feature `timer`).
    pub sleeper: Arc<dyn Sleeper>,
    /// Called as operations finish. Default none.
    pub on_progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// Called with each operation's result the moment it is known (done, failed, or skipped
    /// because something it depends on did not complete), for audit logs that must survive a
    /// crash mid-apply. Operations never reached (a guard refusal) are not reported here.
    /// Default none.
    pub on_result: Option<ResultCallback>,
}

/// See [`ApplyOptions::on_result`].
pub type ResultCallback = Arc<dyn Fn(&OpResult) + Send + Sync>;

impl ApplyOptions {
    /// The defaults, waiting with `sleeper`: within the guard's limits, [`RetryPolicy::writes`],
    /// the store's concurrency, no callbacks.
    pub fn new(sleeper: Arc<dyn Sleeper>) -> Self {
        Self {
            permission: Permission::WithinLimits,
            retry: RetryPolicy::writes(),
            concurrency: None,
            sleeper,
            on_progress: None,
            on_result: None,
        }
    }

    /// Sets [`permission`](Self::permission).
    #[must_use]
    pub fn with_permission(mut self, permission: Permission) -> Self {
        self.permission = permission;
        self
    }

    /// Sets [`retry`](Self::retry).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets [`concurrency`](Self::concurrency) to at most `calls` in flight.
    #[must_use]
    pub fn with_concurrency(mut self, calls: usize) -> Self {
        self.concurrency = Some(calls);
        self
    }

    /// Sets [`sleeper`](Self::sleeper).
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Sets [`on_progress`](Self::on_progress).
    #[must_use]
    pub fn with_on_progress(mut self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Sets [`on_result`](Self::on_result).
    #[must_use]
    pub fn with_on_result(mut self, callback: impl Fn(&OpResult) + Send + Sync + 'static) -> Self {
        self.on_result = Some(Arc::new(callback));
        self
    }
}

/// The defaults of [`ApplyOptions::new`], waiting with [`TimerSleeper`].
#[cfg(feature = "timer")]
impl Default for ApplyOptions {
    fn default() -> Self {
        Self::new(Arc::new(TimerSleeper))
    }
}

impl fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("permission", &self.permission)
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Why a plan was not applied at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
                let status = OpStatus::Skipped {
                    because: format!(
                        "depends on operation #{culprit} ({} {}), which did not complete",
                        c.action.verb(),
                        c.target
                    ),
                };
                announce(options, i, &status);
                statuses[i] = Some(status);
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
                announce(options, i, &status);
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

fn announce(options: &ApplyOptions, index: usize, status: &OpStatus) {
    if let Some(cb) = &options.on_result {
        cb(&OpResult {
            index,
            status: status.clone(),
        });
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
            let action = &plan.operations[i].action;
            let (result, attempts) = retrying(
                store,
                options,
                i as u64,
                || wanted_state(action),
                || run_single(action, store),
            )
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

/// The team state `action` brings about, for [`TeamStore::confirm`].
fn wanted_state(action: &Action) -> Option<WantedState> {
    Some(match action {
        Action::CreateGroup { name, external_id } => WantedState::GroupExists {
            name: name.clone(),
            external_id: external_id.clone(),
        },
        Action::RenameGroup { group, name } => WantedState::GroupUpdated(
            group.clone(),
            GroupChange {
                name: Some(name.clone()),
                ..GroupChange::default()
            },
        ),
        Action::AdoptGroup {
            group,
            external_id,
            rename,
        } => WantedState::GroupUpdated(
            group.clone(),
            GroupChange {
                name: rename.clone(),
                external_id: Some(external_id.clone()),
                management_type: Some(ManagementType::CompanyManaged),
            },
        ),
        Action::Recover { member, .. } | Action::Unsuspend { member, .. } => {
            WantedState::OnTeam(member.clone())
        }
        Action::UpdateProfile { member, change } | Action::AdoptMember { member, change } => {
            WantedState::Profile(member.clone(), change.clone())
        }
        Action::Suspend { member, .. } => WantedState::Suspended(member.clone()),
        Action::Remove { member, .. } => WantedState::Removed(member.clone()),
        Action::DeleteGroup { group } => WantedState::GroupDeleted(group.clone()),
        Action::Invite { member } => WantedState::Invited(member.clone()),
        Action::AddGroupMember { group, member } => {
            WantedState::InGroup(group.clone(), vec![member.clone()])
        }
        Action::RemoveGroupMember { group, member } => {
            WantedState::NotInGroup(group.clone(), vec![member.clone()])
        }
    })
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

/// Whether a failed call may still have taken effect: its reply was lost (a dropped connection,
/// a timeout) or the server failed after it may have acted (5xx). A rate limit refused the call
/// before it ran, and other errors are the server's considered answer.
fn outcome_unknown(error: &StoreError) -> bool {
    error.kind == ErrorKind::Transient
}

/// Whether a refusal may only say that an earlier attempt already did the work.
fn may_mean_done(error: &StoreError) -> bool {
    matches!(error.kind, ErrorKind::Conflict | ErrorKind::NotFound)
}

/// After a refusal that followed an attempt of unknown outcome: asks the store whether the
/// wanted state holds. A failed confirmation leaves the refusal standing.
async fn confirmed(store: &dyn TeamStore, wanted: Option<WantedState>) -> bool {
    match wanted {
        Some(wanted) => store.confirm(&wanted).await.unwrap_or(false),
        None => false,
    }
}

/// The error an operation ends with when retries stop: the store's, plus why retrying stopped
/// when that is news (a server wait past the cap).
fn given_up(mut error: StoreError, reason: GiveUp) -> StoreError {
    if let GiveUp::WaitTooLong { .. } = reason {
        error.message = format!("{}; not retried: {reason}", error.message);
    }
    error
}

/// Calls `f` until it succeeds, fails for good, or the policy says stop. Returns the last result
/// and the number of calls. A refusal after an attempt of unknown outcome is checked with
/// [`TeamStore::confirm`] and counts as success when the team already is as wanted.
async fn retrying<W, F, Fut>(
    store: &dyn TeamStore,
    options: &ApplyOptions,
    seed: u64,
    wanted: W,
    mut f: F,
) -> (Result<(), StoreError>, u32)
where
    W: Fn() -> Option<WantedState>,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut calls = 0u32;
    let mut unknown = false;
    loop {
        calls += 1;
        let error = match f().await {
            Ok(()) => return (Ok(()), calls),
            Err(error) => error,
        };
        if unknown && may_mean_done(&error) {
            let done = confirmed(store, wanted()).await;
            return (if done { Ok(()) } else { Err(error) }, calls);
        }
        match options.retry.decide(error.kind, calls - 1, seed) {
            RetryDecision::Retry { after } => {
                unknown |= outcome_unknown(&error);
                options.sleeper.sleep(after).await;
            }
            RetryDecision::GiveUp(reason) => return (Err(given_up(error, reason)), calls),
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
    let member_of = |i: usize| match &plan.operations[i].action {
        Action::Invite { member } => Some(member.clone()),
        _ => None,
    };
    let mut out = Vec::with_capacity(indices.len());
    // Each pending invitation, and whether an earlier attempt of it may have gone through.
    let mut pending: Vec<(usize, bool)> = indices.into_iter().map(|i| (i, false)).collect();
    let mut calls = 0u32;
    while !pending.is_empty() {
        calls += 1;
        let members: Vec<_> = pending.iter().filter_map(|&(i, _)| member_of(i)).collect();
        let mut results = store.invite(&members).await;
        results.resize_with(pending.len(), || {
            Err(StoreError::permanent(
                "the store returned fewer results than invitations",
            ))
        });
        let mut retry = Vec::new();
        let mut delay: Option<Duration> = None;
        for (&(i, unknown), result) in pending.iter().zip(results) {
            let error = match result {
                Ok(()) => {
                    out.push((i, OpStatus::Done));
                    continue;
                }
                Err(error) => error,
            };
            if unknown && may_mean_done(&error) {
                let done = confirmed(store, member_of(i).map(WantedState::Invited)).await;
                out.push((
                    i,
                    if done {
                        OpStatus::Done
                    } else {
                        OpStatus::Failed {
                            error,
                            attempts: calls,
                        }
                    },
                ));
                continue;
            }
            match options.retry.decide(error.kind, calls - 1, i as u64) {
                RetryDecision::Retry { after } => {
                    delay = Some(delay.map_or(after, |old| old.max(after)));
                    retry.push((i, unknown || outcome_unknown(&error)));
                }
                RetryDecision::GiveUp(reason) => out.push((
                    i,
                    OpStatus::Failed {
                        error: given_up(error, reason),
                        attempts: calls,
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
    let wanted_of = |idx: &[usize]| {
        let members = members_of(idx);
        Some(if add {
            WantedState::InGroup(group.clone(), members)
        } else {
            WantedState::NotInGroup(group.clone(), members)
        })
    };
    let call = |members: Vec<MemberRef>| async move {
        if add {
            store.add_group_members(group, &members).await
        } else {
            store.remove_group_members(group, &members).await
        }
    };
    let seed = indices.first().copied().unwrap_or(0) as u64;
    let (result, attempts) = retrying(
        store,
        options,
        seed,
        || wanted_of(&indices),
        || call(members_of(&indices)),
    )
    .await;
    match result {
        Ok(()) => indices.into_iter().map(|i| (i, OpStatus::Done)).collect(),
        Err(error) if indices.len() == 1 => {
            vec![(indices[0], OpStatus::Failed { error, attempts })]
        }
        Err(_) => {
            let mut out = Vec::with_capacity(indices.len());
            for i in indices {
                let (result, attempts) = retrying(
                    store,
                    options,
                    i as u64,
                    || wanted_of(&[i]),
                    || call(members_of(&[i])),
                )
                .await;
                out.push((i, status_of(result, attempts)));
            }
            out
        }
    }
}
