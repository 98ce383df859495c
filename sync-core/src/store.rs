//! The two edges the core talks to: a [`Directory`] (where people come from) and a [`TeamStore`]
//! (the Dropbox team). Adapters implement them; the core never sees LDAP or HTTP.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{ActualState, DesiredState, Email, GroupRef, MemberRef};
use crate::reading::{ReadOptions, ReadStage};

/// How an adapter error should be treated. `apply` decides retry or give up from this alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A passing fault (5xx, reset connection, timeout): safe to retry.
    Transient,
    /// The server asked to slow down; retry after the delay when it gave one.
    RateLimited {
        /// How long the server asked to wait, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// Credentials missing, expired beyond refresh, or lacking a scope. Retrying will not help.
    Auth,
    /// The request clashes with the team's state (email or name taken, invited member can't be
    /// suspended, license limit).
    Conflict,
    /// The member or group named does not exist.
    NotFound,
    /// Anything else that will fail again the same way.
    Permanent,
}

impl ErrorKind {
    /// Whether repeating the same call may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient | Self::RateLimited { .. })
    }
}

/// An error from a [`TeamStore`], already classified by the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    /// How to treat it.
    pub kind: ErrorKind,
    /// The service's own tag when it has one (e.g. Dropbox's `user_already_on_team`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For people.
    pub message: String,
}

impl StoreError {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// Attaches the service's error tag.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// A transient error.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// A rate limit, with the delay the server asked for.
    pub fn rate_limited(retry_after: Option<Duration>) -> Self {
        Self::new(
            ErrorKind::RateLimited {
                retry_after_ms: retry_after
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
            "rate limited",
        )
    }

    /// A conflict with the team's state.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message).with_code(code)
    }

    /// The target does not exist.
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message).with_code(code)
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, message)
    }

    /// An authentication or authorisation error.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }
}

/// Batch sizes and concurrency the store accepts. They come from the store, not from the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreLimits {
    /// Invitations per call (Dropbox `members/add_v2`: 20).
    pub invites_per_call: usize,
    /// Members added to or removed from one group per call.
    pub group_members_per_call: usize,
    /// Calls in flight at once.
    pub max_concurrency: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            invites_per_call: 20,
            group_members_per_call: 100,
            max_concurrency: 4,
        }
    }
}

/// A person to invite.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NewMember {
    /// Login email.
    pub email: Email,
    /// First name (already cleaned to Dropbox's rules).
    pub given_name: String,
    /// Last name (already cleaned).
    pub surname: String,
    /// The managed external id.
    pub external_id: String,
    /// Whether Dropbox should send its welcome email.
    pub send_welcome_email: bool,
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProfileChange {
    /// New login email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// New first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// New last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// New external id (adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl ProfileChange {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.given_name.is_none()
            && self.surname.is_none()
            && self.external_id.is_none()
    }
}

/// What happens to a removed member's account and files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum RemoveMode {
    /// Remove; files stay with the removed account (recoverable for a while).
    Plain,
    /// Transfer the member's files to `dest`; `admin` receives errors.
    Transfer {
        /// Who receives the files.
        dest: MemberRef,
        /// Admin notified of transfer errors.
        admin: MemberRef,
    },
    /// Convert the member into a Basic (personal) account that keeps its files
    /// (Dropbox `keep_account`; needs `wipe_data = false`).
    KeepAccount,
}

/// How to remove a member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RemoveOptions {
    /// Wipe the member's devices.
    pub wipe_data: bool,
    /// What happens to the account and files.
    pub mode: RemoveMode,
}

/// The Dropbox team, as the executor drives it.
///
/// Batch operations return one result per input, in order. Every error is a [`StoreError`]
/// classified by the adapter.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Batch sizes and concurrency this store accepts.
    fn limits(&self) -> StoreLimits;

    /// Reads every member (removed ones included) and every group with its members.
    async fn snapshot(&self) -> Result<ActualState, StoreError>;

    /// [`TeamStore::snapshot`], reporting progress as it goes (see [`ReadOptions`]). The
    /// default reads with `snapshot` and reports each stage once, finished, at the end; an
    /// adapter whose reads take long reports per page.
    async fn snapshot_with(&self, options: &ReadOptions) -> Result<ActualState, StoreError> {
        let actual = self.snapshot().await?;
        let reporter = options.reporter();
        reporter.finished(ReadStage::TeamMembers, actual.members.len());
        reporter.finished(ReadStage::TeamGroups, actual.groups.len());
        Ok(actual)
    }

    /// Invites up to `limits().invites_per_call` people; one result per input, in order.
    async fn invite(&self, members: &[NewMember]) -> Vec<Result<(), StoreError>>;

    /// Changes a member's profile (names, email, external id).
    async fn set_profile(
        &self,
        member: &MemberRef,
        change: &ProfileChange,
    ) -> Result<(), StoreError>;

    /// Suspends an active member.
    async fn suspend(&self, member: &MemberRef, wipe_data: bool) -> Result<(), StoreError>;

    /// Unsuspends a suspended member.
    async fn unsuspend(&self, member: &MemberRef) -> Result<(), StoreError>;

    /// Removes a member (or an invitation).
    async fn remove(&self, member: &MemberRef, options: &RemoveOptions) -> Result<(), StoreError>;

    /// Recovers a recently removed member.
    async fn recover(&self, member: &MemberRef) -> Result<(), StoreError>;

    /// Creates a company-managed group; returns its group id.
    async fn create_group(&self, name: &str, external_id: &str) -> Result<String, StoreError>;

    /// Renames a group and/or sets its external id (adoption makes it company-managed).
    async fn update_group(&self, group: &GroupRef, change: &GroupChange) -> Result<(), StoreError>;

    /// Deletes a group.
    async fn delete_group(&self, group: &GroupRef) -> Result<(), StoreError>;

    /// Adds up to `limits().group_members_per_call` members to a group, all or nothing.
    async fn add_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError>;

    /// Removes up to `limits().group_members_per_call` members from a group, all or nothing.
    async fn remove_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError>;

    /// Whether the team already is in the `wanted` state (a read; changes nothing).
    ///
    /// The executor asks after a retried write was refused with a conflict or "not found"
    /// when an earlier attempt's outcome is unknown (a reply lost to a dropped connection or a
    /// 5xx): the first attempt may have done the work, and the refusal only says so
    /// (`user_already_on_team` after an invitation that went through). `Ok(true)` counts the
    /// operation as done. The default knows nothing and answers `Ok(false)`, so the refusal
    /// stands.
    async fn confirm(&self, wanted: &WantedState) -> Result<bool, StoreError> {
        let _ = wanted;
        Ok(false)
    }
}

/// A state of the team an operation brings about, for [`TeamStore::confirm`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WantedState {
    /// A member (invited or active) with this email and external id.
    Invited(NewMember),
    /// The member is suspended.
    Suspended(MemberRef),
    /// The member is on the team and neither suspended nor removed (unsuspend, recover).
    OnTeam(MemberRef),
    /// The member is removed (or gone).
    Removed(MemberRef),
    /// The member's profile already has these values.
    Profile(MemberRef, ProfileChange),
    /// A group with this external id and name exists.
    GroupExists {
        /// The group's name.
        name: String,
        /// Its external id.
        external_id: String,
    },
    /// The group has these changes already (rename, adoption).
    GroupUpdated(GroupRef, GroupChange),
    /// The group is gone.
    GroupDeleted(GroupRef),
    /// Every one of these members is in the group.
    InGroup(GroupRef, Vec<MemberRef>),
    /// None of these members is in the group.
    NotInGroup(GroupRef, Vec<MemberRef>),
}

/// Changes to a group; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupChange {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New external id (adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// New management type (adoption makes a group company-managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_type: Option<crate::model::ManagementType>,
}

/// What went wrong reading a directory. Any of these fails the run before planning: a partial
/// directory is never planned against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct DirectoryError {
    /// Which stage failed.
    pub kind: DirectoryErrorKind,
    /// For people; names the server, base or entry involved.
    pub message: String,
}

/// Stages of a directory read, so the command can map them to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DirectoryErrorKind {
    /// Settings are wrong (bad URL, missing CA file, unknown profile).
    Config,
    /// The server could not be reached, or TLS failed.
    Connect,
    /// The bind was refused.
    Bind,
    /// The read did not complete (size or time limit, dropped connection, non-success result).
    Incomplete,
    /// A root group named in the config does not exist.
    RootNotFound,
    /// Anything else.
    Other,
}

impl fmt::Display for DirectoryErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Config => "directory configuration",
            Self::Connect => "directory connection",
            Self::Bind => "directory bind",
            Self::Incomplete => "incomplete directory read",
            Self::RootNotFound => "root group not found",
            Self::Other => "directory",
        })
    }
}

impl DirectoryError {
    /// An error of `kind`.
    pub fn new(kind: DirectoryErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Where people come from: LDAP, Active Directory, a file, Python dicts.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Reads the roots and everything reachable from them. Must fail rather than return a
    /// partial result.
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError>;

    /// [`Directory::snapshot`], reporting progress as it goes (see [`ReadOptions`]). The
    /// default reads with `snapshot` and reports users and groups once, finished, at the end
    /// (right for a file); a directory whose reads take long reports per page.
    async fn snapshot_with(&self, options: &ReadOptions) -> Result<DesiredState, DirectoryError> {
        let desired = self.snapshot().await?;
        let reporter = options.reporter();
        reporter.finished(ReadStage::DirectoryUsers, desired.users.len());
        reporter.finished(ReadStage::DirectoryGroups, desired.groups.len());
        Ok(desired)
    }
}
