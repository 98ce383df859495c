//! [`DropboxTeam`]: the core's [`TeamStore`] over the Dropbox team API.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use teamsync_core::{
    ActualState, Backoff, GroupChange, GroupRef, MemberRef, MemberStatus, NewMember, ProfileChange,
    ReadOptions, ReadReporter, ReadStage, RemoveOptions, StoreError, StoreLimits, TeamGroup,
    TeamMember, TeamStore, WantedState,
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
/// from `first_delay` up to `max_delay` (the core's [`Backoff`], without jitter), for at most
/// `max_wait` in all. Each poll is a read, repeated on retryable errors like every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobPolling {
    /// Delay before the first poll.
    pub first_delay: Duration,
    /// Longest delay between polls.
    pub max_delay: Duration,
    /// Give up (error `async_job_timed_out`) after this long.
    pub max_wait: Duration,
}

impl JobPolling {
    /// Polls after `first_delay`, doubling up to `max_delay`, for at most `max_wait`.
    pub fn new(first_delay: Duration, max_delay: Duration, max_wait: Duration) -> Self {
        Self {
            first_delay,
            max_delay,
            max_wait,
        }
    }
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

/// The default of [`TeamOptions::max_team_members`]: more members (removed ones included) than
/// any Dropbox team holds. Dropbox publishes no hard maximum; its largest plans are sold for
/// tens of thousands of seats, so half a million leaves a wide margin while still stopping a
/// server that pages forever after about a minute instead of filling memory.
pub const DEFAULT_MAX_TEAM_MEMBERS: usize = 500_000;

/// Settings of [`DropboxTeam`] beyond the client's. `#[non_exhaustive]`: start from
/// `TeamOptions::default()` and chain the `with_*` setters (or assign fields of a `mut` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The most entries one listing may return: members (removed ones included), groups, or
    /// the members of one group. It bounds every list a hostile or broken server could make
    /// endless (`has_more` true forever): past it, or past the pages it takes
    /// ([`TeamOptions::max_pages`]), the read fails as incomplete.
    pub max_team_members: usize,
}

impl TeamOptions {
    /// Sets [`page_size`](Self::page_size).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Sets [`group_members_per_call`](Self::group_members_per_call).
    #[must_use]
    pub fn with_group_members_per_call(mut self, members: usize) -> Self {
        self.group_members_per_call = members;
        self
    }

    /// Sets [`max_concurrency`](Self::max_concurrency).
    #[must_use]
    pub fn with_max_concurrency(mut self, calls: usize) -> Self {
        self.max_concurrency = calls;
        self
    }

    /// Sets [`job_polling`](Self::job_polling).
    #[must_use]
    pub fn with_job_polling(mut self, job_polling: JobPolling) -> Self {
        self.job_polling = job_polling;
        self
    }

    /// Sets [`max_team_members`](Self::max_team_members).
    #[must_use]
    pub fn with_max_team_members(mut self, entries: usize) -> Self {
        self.max_team_members = entries;
        self
    }

    /// The most pages one listing may take: full pages for `max_team_members` entries, twice
    /// over (Dropbox may answer with short pages), plus a few.
    pub fn max_pages(&self) -> usize {
        let full = self
            .max_team_members
            .div_ceil(self.page_size.max(1) as usize);
        full.saturating_mul(2).saturating_add(8)
    }
}

impl Default for TeamOptions {
    fn default() -> Self {
        Self {
            page_size: 1000,
            group_members_per_call: DEFAULT_GROUP_MEMBERS_PER_CALL,
            max_concurrency: 4,
            job_polling: JobPolling::default(),
            max_team_members: DEFAULT_MAX_TEAM_MEMBERS,
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
        options.max_team_members = options.max_team_members.max(1);
        Self { client, options }
    }

    /// The underlying client, for routes the trait does not cover (`team/get_info`).
    pub fn client(&self) -> &DropboxClient {
        &self.client
    }

    /// A guard for one listing of `route`.
    fn pager(&self, route: &'static str) -> Pager {
        Pager {
            route,
            cursors: HashSet::new(),
            pages: 1,
            entries: 0,
            max_pages: self.options.max_pages(),
            max_entries: self.options.max_team_members,
        }
    }

    async fn list_members(&self, reporter: &ReadReporter) -> Result<Vec<TeamMember>, StoreError> {
        let arg = MembersListArg {
            limit: self.options.page_size,
            include_removed: true,
        };
        let mut pager = self.pager("team/members/list/continue_v2");
        let mut page = self.client.members_list_v2(&arg).await?;
        let mut members = Vec::with_capacity(page.members.len());
        loop {
            pager.entries(page.members.len())?;
            for info in &page.members {
                members.push(map::team_member(info)?);
            }
            reporter.counted(ReadStage::TeamMembers, members.len(), None);
            if !page.has_more {
                reporter.finished(ReadStage::TeamMembers, members.len());
                return Ok(members);
            }
            pager.next(&page.cursor)?;
            page = self.client.members_list_continue_v2(&page.cursor).await?;
        }
    }

    async fn list_groups(&self, reporter: &ReadReporter) -> Result<Vec<GroupSummary>, StoreError> {
        let arg = GroupsListArg {
            limit: self.options.page_size,
        };
        let mut pager = self.pager("team/groups/list/continue");
        let mut page = self.client.groups_list(&arg).await?;
        pager.entries(page.groups.len())?;
        let mut groups = std::mem::take(&mut page.groups);
        reporter.counted(ReadStage::TeamGroups, groups.len(), None);
        while page.has_more {
            pager.next(&page.cursor)?;
            page = self.client.groups_list_continue(&page.cursor).await?;
            pager.entries(page.groups.len())?;
            groups.append(&mut page.groups);
            reporter.counted(ReadStage::TeamGroups, groups.len(), None);
        }
        reporter.finished(ReadStage::TeamGroups, groups.len());
        Ok(groups)
    }

    async fn group_member_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError> {
        let arg = GroupsMembersListArg {
            group: GroupSelector::GroupId {
                group_id: group_id.to_owned(),
            },
            limit: self.options.page_size,
        };
        let mut pager = self.pager("team/groups/members/list/continue");
        let mut page = self.client.groups_members_list(&arg).await?;
        let mut ids: Vec<String> = Vec::with_capacity(page.members.len());
        loop {
            pager.entries(page.members.len())?;
            ids.extend(
                page.members
                    .iter()
                    .map(|m| m.profile.team_member_id.clone()),
            );
            if !page.has_more {
                return Ok(ids);
            }
            pager.next(&page.cursor)?;
            page = self
                .client
                .groups_members_list_continue(&page.cursor)
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
        let schedule = Backoff::new(polling.first_delay, polling.max_delay).without_jitter();
        let started = Instant::now();
        for step in 1u32.. {
            tokio::time::sleep(schedule.delay(step, 0)).await;
            if let Some(done) = poll().await? {
                return Ok(done);
            }
            if started.elapsed() >= polling.max_wait {
                break;
            }
        }
        Err(DropboxError::JobTimedOut {
            route: route.to_owned(),
            waited: started.elapsed(),
        })
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
                message: match other {
                    MembersAddStatus::InProgress => "launch answered in_progress".to_owned(),
                    MembersAddStatus::Failed(why) => format!(
                        "launch answered failed: {}",
                        teamsync_core::text::escape_for_display(&why)
                    ),
                    _ => "launch answered an unexpected status".to_owned(),
                },
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

    async fn snapshot_once(&self, reporter: &ReadReporter) -> Result<ActualState, StoreError> {
        let members = self.list_members(reporter).await?;
        let summaries = self.list_groups(reporter).await?;
        let lists = summaries.len();
        let mut lists_read = 0;
        reporter.counted(ReadStage::TeamGroupMembers, 0, Some(lists));
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
            .inspect_ok(|_| {
                lists_read += 1;
                reporter.counted(ReadStage::TeamGroupMembers, lists_read, Some(lists));
            })
            .try_collect()
            .await?;
        reporter.finished(ReadStage::TeamGroupMembers, lists_read);
        Ok(ActualState { members, groups })
    }
}

/// Bounds one listing: a cursor seen before, more entries than a team can hold, or more pages
/// than those entries take, ends it as an incomplete read (a server whose `has_more` never
/// turns false cannot fill memory or hold the run).
struct Pager {
    route: &'static str,
    cursors: HashSet<String>,
    pages: usize,
    entries: usize,
    max_pages: usize,
    max_entries: usize,
}

impl Pager {
    fn incomplete(&self, reason: String) -> DropboxError {
        DropboxError::Incomplete {
            route: self.route.to_owned(),
            reason,
        }
    }

    /// Counts a page's entries.
    fn entries(&mut self, count: usize) -> Result<(), DropboxError> {
        self.entries = self.entries.saturating_add(count);
        if self.entries > self.max_entries {
            return Err(self.incomplete(format!(
                "the listing goes on past {} entries, more than a team holds (max_team_members)",
                self.max_entries
            )));
        }
        Ok(())
    }

    /// Before asking for the page after `cursor`.
    fn next(&mut self, cursor: &str) -> Result<(), DropboxError> {
        self.pages += 1;
        if self.pages > self.max_pages {
            return Err(self.incomplete(format!(
                "the listing goes on past {} pages, more than a team holds takes ({} entries at most: max_team_members)",
                self.max_pages, self.max_entries
            )));
        }
        if !self.cursors.insert(cursor.to_owned()) {
            return Err(self.incomplete(format!(
                "the server answered with a cursor it had already given (page {}): the listing would never end",
                self.pages - 1
            )));
        }
        Ok(())
    }
}

impl DropboxTeam {
    /// The member one of `refs` names (the first that matches), read with `members/get_info_v2`.
    async fn find_member(&self, refs: &[MemberRef]) -> Result<Option<TeamMember>, StoreError> {
        let arg = MembersGetInfoV2Arg {
            members: refs.iter().map(map::user_selector).collect(),
        };
        let answer = self.client.members_get_info_v2(&arg).await?;
        for item in &answer.members_info {
            if let MembersGetInfoItemV2::MemberInfo(info) = item {
                return Ok(Some(map::team_member(info)?));
            }
        }
        Ok(None)
    }

    /// The group `group` names, from the group list (confirmations are rare: one per lost
    /// reply).
    async fn find_group(&self, group: &GroupRef) -> Result<Option<GroupSummary>, StoreError> {
        let groups = self.list_groups(&ReadReporter::silent()).await?;
        Ok(groups.into_iter().find(|g| match group {
            GroupRef::GroupId(id) => &g.group_id == id,
            GroupRef::ExternalId(id) => g.group_external_id.as_deref() == Some(id.as_str()),
        }))
    }

    /// Whether every (or no) member of `members` is in `group`.
    async fn group_holds(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
        wanted_in: bool,
    ) -> Result<bool, StoreError> {
        let Some(summary) = self.find_group(group).await? else {
            return Ok(false);
        };
        let in_group: HashSet<String> = self
            .group_member_ids(&summary.group_id)
            .await?
            .into_iter()
            .collect();
        for member in members {
            let found = self.find_member(std::slice::from_ref(member)).await?;
            let is_in = found.is_some_and(|m| in_group.contains(&m.team_member_id));
            if is_in != wanted_in {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn confirm_state(&self, wanted: &WantedState) -> Result<bool, StoreError> {
        let on_team =
            |m: &TeamMember| matches!(m.status, MemberStatus::Active | MemberStatus::Invited);
        Ok(match wanted {
            WantedState::Invited(new) => {
                let refs = [
                    MemberRef::ExternalId(new.external_id.clone()),
                    MemberRef::Email(new.email.clone()),
                ];
                self.find_member(&refs).await?.is_some_and(|m| {
                    on_team(&m)
                        && m.email == new.email
                        && m.external_id.as_deref() == Some(new.external_id.as_str())
                })
            }
            WantedState::Suspended(member) => self
                .find_member(std::slice::from_ref(member))
                .await?
                .is_some_and(|m| m.status == MemberStatus::Suspended),
            WantedState::OnTeam(member) => self
                .find_member(std::slice::from_ref(member))
                .await?
                .is_some_and(|m| on_team(&m)),
            WantedState::Removed(member) => self
                .find_member(std::slice::from_ref(member))
                .await?
                .is_none_or(|m| matches!(m.status, MemberStatus::Removed { .. })),
            WantedState::Profile(member, change) => {
                let mut refs = vec![member.clone()];
                refs.extend(change.external_id.clone().map(MemberRef::ExternalId));
                refs.extend(change.email.clone().map(MemberRef::Email));
                self.find_member(&refs).await?.is_some_and(|m| {
                    change.email.as_ref().is_none_or(|e| &m.email == e)
                        && change
                            .given_name
                            .as_ref()
                            .is_none_or(|g| &m.given_name == g)
                        && change.surname.as_ref().is_none_or(|s| &m.surname == s)
                        && change
                            .external_id
                            .as_ref()
                            .is_none_or(|x| m.external_id.as_ref() == Some(x))
                })
            }
            WantedState::GroupExists { name, external_id } => self
                .find_group(&GroupRef::ExternalId(external_id.clone()))
                .await?
                .is_some_and(|g| &g.group_name == name),
            WantedState::GroupUpdated(group, change) => {
                let found = match self.find_group(group).await? {
                    Some(g) => Some(g),
                    None => match &change.external_id {
                        Some(x) => self.find_group(&GroupRef::ExternalId(x.clone())).await?,
                        None => None,
                    },
                };
                found.is_some_and(|g| {
                    change.name.as_ref().is_none_or(|n| &g.group_name == n)
                        && change
                            .external_id
                            .as_ref()
                            .is_none_or(|x| g.group_external_id.as_ref() == Some(x))
                        && change
                            .management_type
                            .is_none_or(|t| map::management_type(&g.group_management_type) == t)
                })
            }
            WantedState::GroupDeleted(group) => self.find_group(group).await?.is_none(),
            WantedState::InGroup(group, members) => self.group_holds(group, members, true).await?,
            WantedState::NotInGroup(group, members) => {
                self.group_holds(group, members, false).await?
            }
            _ => false,
        })
    }
}

#[async_trait]
impl TeamStore for DropboxTeam {
    async fn confirm(&self, wanted: &WantedState) -> Result<bool, StoreError> {
        let confirmed = self.confirm_state(wanted).await;
        tracing::debug!(
            ?wanted,
            ?confirmed,
            "confirming a refused retry after a lost reply"
        );
        confirmed
    }

    fn limits(&self) -> StoreLimits {
        StoreLimits {
            invites_per_call: INVITES_PER_CALL,
            group_members_per_call: self.options.group_members_per_call,
            max_concurrency: self.options.max_concurrency,
        }
    }

    async fn snapshot(&self) -> Result<ActualState, StoreError> {
        self.snapshot_with(&ReadOptions::default()).await
    }

    async fn snapshot_with(&self, options: &ReadOptions) -> Result<ActualState, StoreError> {
        // A cursor dies when the team changes under a listing (or when it is too old); the
        // pages read so far may then disagree with the rest, so the whole read starts over
        // (the reporter keeps the counts shown from going back).
        let reporter = options.reporter();
        let mut restarts = 0;
        loop {
            match self.snapshot_once(&reporter).await {
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
