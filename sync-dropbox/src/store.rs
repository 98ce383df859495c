//! [`DropboxTeam`]: the core's [`TeamStore`] over the Dropbox team API.

use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use teamsync_core::{
    ActualState, GroupChange, GroupRef, MemberRef, NewMember, ProfileChange, RemoveOptions,
    StoreError, StoreLimits, TeamGroup, TeamMember, TeamStore,
};

use crate::client::DropboxClient;
use crate::error::DropboxError;
use crate::map;
use crate::wire::*;

/// Invitations per `members/add_v2` call: the route's documented maximum.
pub const INVITES_PER_CALL: usize = 20;

/// Members per `groups/members/add` or `groups/members/remove` call.
///
/// The spec states no maximum. 100 keeps a request near 10 KB and well inside any timeout, and
/// since those routes are all-or-nothing (one unknown user fails the batch), it bounds how much
/// one bad member holds back. 10,000 memberships still take only 100 calls.
pub const DEFAULT_GROUP_MEMBERS_PER_CALL: usize = 100;

/// How async jobs (`members/add`, `members/remove`, `groups/delete`) are polled: delays double
/// from `first_delay` up to `max_delay`, for at most `max_wait` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobPolling {
    /// Delay before the first poll.
    pub first_delay: Duration,
    /// Longest delay between polls.
    pub max_delay: Duration,
    /// Give up (error `async_job_timed_out`) after this long.
    pub max_wait: Duration,
}

impl Default for JobPolling {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_wait: Duration::from_secs(300),
        }
    }
}

/// The async jobs whose result is empty (`async.PollEmptyResult`).
#[derive(Debug, Clone, Copy)]
enum EmptyJob {
    /// `members/remove`, polled with `members/remove/job_status/get`.
    MembersRemove,
    /// `groups/delete`, polled with `groups/job_status/get`.
    GroupsDelete,
}

impl EmptyJob {
    fn route(self) -> &'static str {
        match self {
            Self::MembersRemove => "team/members/remove/job_status/get",
            Self::GroupsDelete => "team/groups/job_status/get",
        }
    }
}

/// How many times `snapshot` starts over after a list cursor expired.
const MAX_SNAPSHOT_RESTARTS: u32 = 3;

/// Settings of [`DropboxTeam`] beyond the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamOptions {
    /// Page size of the list routes (1..=1000).
    pub page_size: u32,
    /// Members per group-membership call.
    pub group_members_per_call: usize,
    /// Calls in flight at once (reported to the executor, and used by `snapshot` to list
    /// group members).
    pub max_concurrency: usize,
    /// Polling of async jobs.
    pub job_polling: JobPolling,
    /// How many times `snapshot` and job polls try a read that failed with a retryable error
    /// (rate limit, 5xx, transport). Reads change nothing, so repeating them is always safe,
    /// and a snapshot has no executor above it to retry one page of thousands.
    pub read_attempts: u32,
}

impl Default for TeamOptions {
    fn default() -> Self {
        Self {
            page_size: 1000,
            group_members_per_call: DEFAULT_GROUP_MEMBERS_PER_CALL,
            max_concurrency: 4,
            job_polling: JobPolling::default(),
            read_attempts: 6,
        }
    }
}

/// The Dropbox team as a [`TeamStore`].
#[derive(Debug, Clone)]
pub struct DropboxTeam {
    client: DropboxClient,
    options: TeamOptions,
}

impl DropboxTeam {
    /// A store over `client` with default options.
    pub fn new(client: DropboxClient) -> Self {
        Self::with_options(client, TeamOptions::default())
    }

    /// A store over `client` with `options` (page size clamped to 1..=1000, batch sizes and
    /// concurrency to at least 1).
    pub fn with_options(client: DropboxClient, mut options: TeamOptions) -> Self {
        options.page_size = options.page_size.clamp(1, 1000);
        options.group_members_per_call = options.group_members_per_call.max(1);
        options.max_concurrency = options.max_concurrency.max(1);
        options.read_attempts = options.read_attempts.max(1);
        Self { client, options }
    }

    /// The underlying client, for routes the trait does not cover (`team/get_info`).
    pub fn client(&self) -> &DropboxClient {
        &self.client
    }

    /// Runs a read, repeating it on retryable errors (honouring the server's delay), up to
    /// `read_attempts` times.
    async fn read<T, F, Fut>(&self, mut call: F) -> Result<T, DropboxError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DropboxError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(error)
                    if error.kind().is_retryable() && attempt < self.options.read_attempts =>
                {
                    let backoff = Duration::from_millis(200u64 << attempt.min(5));
                    let delay = match &error {
                        DropboxError::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => backoff,
                    };
                    tracing::debug!(%error, attempt, ?delay, "repeating a read");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn list_members(&self) -> Result<Vec<TeamMember>, StoreError> {
        let arg = MembersListArg {
            limit: self.options.page_size,
            include_removed: true,
        };
        let mut page = self.read(|| self.client.members_list_v2(&arg)).await?;
        let mut members = Vec::with_capacity(page.members.len());
        loop {
            for info in &page.members {
                members.push(map::team_member(info)?);
            }
            if !page.has_more {
                return Ok(members);
            }
            let cursor = page.cursor;
            page = self
                .read(|| self.client.members_list_continue_v2(&cursor))
                .await?;
        }
    }

    async fn list_groups(&self) -> Result<Vec<GroupSummary>, StoreError> {
        let arg = GroupsListArg {
            limit: self.options.page_size,
        };
        let mut page = self.read(|| self.client.groups_list(&arg)).await?;
        let mut groups = std::mem::take(&mut page.groups);
        while page.has_more {
            let cursor = page.cursor;
            page = self
                .read(|| self.client.groups_list_continue(&cursor))
                .await?;
            groups.append(&mut page.groups);
        }
        Ok(groups)
    }

    async fn group_member_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError> {
        let arg = GroupsMembersListArg {
            group: GroupSelector::GroupId {
                group_id: group_id.to_owned(),
            },
            limit: self.options.page_size,
        };
        let mut page = self.read(|| self.client.groups_members_list(&arg)).await?;
        let mut ids: Vec<String> = Vec::with_capacity(page.members.len());
        loop {
            ids.extend(
                page.members
                    .iter()
                    .map(|m| m.profile.team_member_id.clone()),
            );
            if !page.has_more {
                return Ok(ids);
            }
            let cursor = page.cursor;
            page = self
                .read(|| self.client.groups_members_list_continue(&cursor))
                .await?;
        }
    }

    /// Waits for an async job with the bounded backoff of [`JobPolling`]. `poll` returns
    /// `Some(result)` once the job is done.
    async fn wait_for_job<T, F, Fut>(&self, route: &str, mut poll: F) -> Result<T, DropboxError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, DropboxError>>,
    {
        let polling = self.options.job_polling;
        let started = Instant::now();
        let mut delay = polling.first_delay;
        loop {
            tokio::time::sleep(delay).await;
            if let Some(done) = self.read(&mut poll).await? {
                return Ok(done);
            }
            if started.elapsed() >= polling.max_wait {
                return Err(DropboxError::JobTimedOut {
                    route: route.to_owned(),
                    waited: started.elapsed(),
                });
            }
            delay = (delay * 2).min(polling.max_delay);
        }
    }

    async fn wait_for_empty_job(
        &self,
        job: EmptyJob,
        launched: EmptyJobStatus,
    ) -> Result<(), DropboxError> {
        let job_id = match launched {
            EmptyJobStatus::Complete => return Ok(()),
            EmptyJobStatus::AsyncJobId(id) => id,
            EmptyJobStatus::InProgress => {
                return Err(DropboxError::Decode {
                    route: job.route().to_owned(),
                    message: "launch answered in_progress".to_owned(),
                });
            }
        };
        self.wait_for_job(job.route(), || async {
            let status = match job {
                EmptyJob::GroupsDelete => self.client.groups_job_status_get(&job_id).await?,
                EmptyJob::MembersRemove => {
                    self.client.members_remove_job_status_get(&job_id).await?
                }
            };
            Ok((status == EmptyJobStatus::Complete).then_some(()))
        })
        .await
    }

    async fn invite_batch(&self, batch: &[NewMember]) -> Vec<Result<(), StoreError>> {
        let arg = MembersAddV2Arg {
            new_members: batch.iter().map(map::member_add_arg).collect(),
            force_async: false,
        };
        let outcome = match self.client.members_add_v2(&arg).await {
            Ok(MembersAddStatus::Complete(results)) => Ok(results),
            Ok(MembersAddStatus::AsyncJobId(job_id)) => {
                self.wait_for_job("team/members/add/job_status/get_v2", || async {
                    match self.client.members_add_job_status_get_v2(&job_id).await? {
                        MembersAddStatus::InProgress => Ok(None),
                        MembersAddStatus::Complete(results) => Ok(Some(results)),
                        MembersAddStatus::Failed(message) => Err(DropboxError::JobFailed {
                            route: "team/members/add/job_status/get_v2".to_owned(),
                            message,
                        }),
                        MembersAddStatus::AsyncJobId(_) => Err(DropboxError::Decode {
                            route: "team/members/add/job_status/get_v2".to_owned(),
                            message: "job status answered async_job_id".to_owned(),
                        }),
                    }
                })
                .await
            }
            Ok(other) => Err(DropboxError::Decode {
                route: "team/members/add_v2".to_owned(),
                message: format!("launch answered {other:?}"),
            }),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(results) => map::invite_results(batch, &results),
            Err(error) => {
                let error = StoreError::from(error);
                batch.iter().map(|_| Err(error.clone())).collect()
            }
        }
    }

    async fn snapshot_once(&self) -> Result<ActualState, StoreError> {
        let members = self.list_members().await?;
        let summaries = self.list_groups().await?;
        // System-managed groups ("Everyone at …") are never touched, and listing their members
        // would read the whole team again; they are reported with no members.
        let groups: Vec<TeamGroup> = stream::iter(summaries)
            .map(|summary| async move {
                let members = if summary.group_management_type == GroupManagementType::SystemManaged
                {
                    Vec::new()
                } else {
                    self.group_member_ids(&summary.group_id).await?
                };
                Ok::<_, StoreError>(map::team_group(&summary, members))
            })
            .buffered(self.options.max_concurrency)
            .try_collect()
            .await?;
        Ok(ActualState { members, groups })
    }
}

#[async_trait]
impl TeamStore for DropboxTeam {
    fn limits(&self) -> StoreLimits {
        StoreLimits {
            invites_per_call: INVITES_PER_CALL,
            group_members_per_call: self.options.group_members_per_call,
            max_concurrency: self.options.max_concurrency,
        }
    }

    async fn snapshot(&self) -> Result<ActualState, StoreError> {
        // A cursor dies when the team changes under a listing (or when it is too old); the
        // pages read so far may then disagree with the rest, so the whole read starts over.
        let mut restarts = 0;
        loop {
            match self.snapshot_once().await {
                Err(error)
                    if error.code.as_deref() == Some("invalid_cursor")
                        && restarts < MAX_SNAPSHOT_RESTARTS =>
                {
                    restarts += 1;
                    tracing::debug!(restarts, "a list cursor expired; reading the team again");
                }
                other => return other,
            }
        }
    }

    async fn invite(&self, members: &[NewMember]) -> Vec<Result<(), StoreError>> {
        let mut results = Vec::with_capacity(members.len());
        for batch in members.chunks(INVITES_PER_CALL) {
            results.extend(self.invite_batch(batch).await);
        }
        results
    }

    async fn set_profile(
        &self,
        member: &MemberRef,
        change: &ProfileChange,
    ) -> Result<(), StoreError> {
        let Some(arg) = map::set_profile_arg(member, change) else {
            return Ok(());
        };
        self.client.members_set_profile_v2(&arg).await?;
        Ok(())
    }

    async fn suspend(&self, member: &MemberRef, wipe_data: bool) -> Result<(), StoreError> {
        let arg = MembersDeactivateArg {
            user: map::user_selector(member),
            wipe_data,
        };
        Ok(self.client.members_suspend(&arg).await?)
    }

    async fn unsuspend(&self, member: &MemberRef) -> Result<(), StoreError> {
        Ok(self
            .client
            .members_unsuspend(&map::user_selector(member))
            .await?)
    }

    async fn remove(&self, member: &MemberRef, options: &RemoveOptions) -> Result<(), StoreError> {
        let launched = self
            .client
            .members_remove(&map::remove_arg(member, options))
            .await?;
        Ok(self
            .wait_for_empty_job(EmptyJob::MembersRemove, launched)
            .await?)
    }

    async fn recover(&self, member: &MemberRef) -> Result<(), StoreError> {
        Ok(self
            .client
            .members_recover(&map::user_selector(member))
            .await?)
    }

    async fn create_group(&self, name: &str, external_id: &str) -> Result<String, StoreError> {
        let arg = GroupCreateArg {
            group_name: name.to_owned(),
            add_creator_as_owner: false,
            group_external_id: (!external_id.is_empty()).then(|| external_id.to_owned()),
            group_management_type: Some(GroupManagementType::CompanyManaged),
        };
        Ok(self.client.groups_create(&arg).await?.group_id)
    }

    async fn update_group(&self, group: &GroupRef, change: &GroupChange) -> Result<(), StoreError> {
        let Some(arg) = map::group_update_arg(group, change) else {
            return Ok(());
        };
        self.client.groups_update(&arg).await?;
        Ok(())
    }

    async fn delete_group(&self, group: &GroupRef) -> Result<(), StoreError> {
        let launched = self
            .client
            .groups_delete(&map::group_selector(group))
            .await?;
        Ok(self
            .wait_for_empty_job(EmptyJob::GroupsDelete, launched)
            .await?)
    }

    async fn add_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError> {
        for batch in members.chunks(self.options.group_members_per_call) {
            let arg = GroupMembersAddArg {
                return_members: false,
                group: map::group_selector(group),
                members: batch
                    .iter()
                    .map(|m| MemberAccess {
                        user: map::user_selector(m),
                        access_type: GroupAccessType::Member,
                    })
                    .collect(),
            };
            self.client.groups_members_add(&arg).await?;
        }
        Ok(())
    }

    async fn remove_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError> {
        for batch in members.chunks(self.options.group_members_per_call) {
            let arg = GroupMembersRemoveArg {
                return_members: false,
                group: map::group_selector(group),
                users: batch.iter().map(map::user_selector).collect(),
            };
            self.client.groups_members_remove(&arg).await?;
        }
        Ok(())
    }
}
