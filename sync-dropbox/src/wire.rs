//! The JSON shapes of the Dropbox team routes teamsync calls, as the Stone spec defines them
//! (`team.stone`, `team_common.stone`, `users.stone`, `async.stone`).
//!
//! Stone's JSON rules (`docs/json_serializer.rst`): a union member is `{".tag": "x", …}`; a
//! struct member's fields are inlined next to the tag; a primitive or list member sits under a
//! key named like the tag; a void member may also be the bare string `"x"`. Unset optional
//! fields are omitted. Unknown fields in responses are ignored (both official SDKs do the same).
//!
//! Request types serialize exactly as the spec says; response types decode only the fields
//! teamsync reads, and keep the spec's required fields required so that a wrong shape is an
//! error rather than a silent default.

use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

// ───────────────────────────── selectors ─────────────────────────────

/// `team.UserSelectorArg`: one member, by id, external id or email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = ".tag", rename_all = "snake_case")]
pub enum UserSelectorArg {
    /// `{".tag":"team_member_id","team_member_id":"dbmid:…"}`
    TeamMemberId {
        /// Dropbox's member id.
        team_member_id: String,
    },
    /// `{".tag":"external_id","external_id":"…"}`
    ExternalId {
        /// The member's external id.
        external_id: String,
    },
    /// `{".tag":"email","email":"…"}`
    Email {
        /// The member's login email.
        email: String,
    },
}

/// `team_common.GroupSelector` / `team.GroupSelector`: one group, by id or external id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = ".tag", rename_all = "snake_case")]
pub enum GroupSelector {
    /// `{".tag":"group_id","group_id":"g:…"}`
    GroupId {
        /// Dropbox's group id.
        group_id: String,
    },
    /// `{".tag":"group_external_id","group_external_id":"…"}`
    GroupExternalId {
        /// The group's external id.
        group_external_id: String,
    },
}

// ───────────────────────────── members ─────────────────────────────

/// `users.Name`. The spec makes all five parts required; teamsync reads two.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Name {
    /// First name.
    pub given_name: String,
    /// Last name.
    pub surname: String,
}

/// `team.TeamMemberStatus` (closed union). `removed` carries `RemovedStatus` inlined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamMemberStatus {
    /// Joined.
    Active,
    /// Invited, not joined yet.
    Invited,
    /// Suspended by an admin.
    Suspended,
    /// Removed (listed only with `include_removed`).
    Removed {
        /// Whether `members/recover` can still bring the member back.
        is_recoverable: bool,
        /// Whether the removed account was disconnected (kept as a Basic account).
        is_disconnected: bool,
    },
}

impl<'de> Deserialize<'de> for TeamMemberStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let flag = |key: &str| value.get(key).and_then(Value::as_bool);
        match tag_of(&value) {
            Some("active") => Ok(Self::Active),
            Some("invited") => Ok(Self::Invited),
            Some("suspended") => Ok(Self::Suspended),
            Some("removed") => Ok(Self::Removed {
                is_recoverable: flag("is_recoverable")
                    .ok_or_else(|| de::Error::missing_field("is_recoverable"))?,
                is_disconnected: flag("is_disconnected").unwrap_or(false),
            }),
            // A closed union: an unknown status is an error, never a guess.
            other => Err(unexpected_tag::<D::Error>("TeamMemberStatus", other)),
        }
    }
}

/// `team.MemberProfile` (the fields teamsync reads). `TeamMemberProfile` extends it with
/// `groups`, `member_folder_id` and `root_folder_id`, which teamsync does not need.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberProfile {
    /// `dbmid:…`
    pub team_member_id: String,
    /// Login email.
    pub email: String,
    /// Status on the team.
    pub status: TeamMemberStatus,
    /// Name parts.
    pub name: Name,
    /// External id, when one is set.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `team.TeamMemberRole`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamMemberRole {
    /// `pid_dbtmr:…`
    pub role_id: String,
    /// Display name; each old `AdminTier` has a role with a matching name ("Team admin").
    pub name: String,
}

/// `team.TeamMemberInfoV2`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamMemberInfoV2 {
    /// The member's profile.
    pub profile: MemberProfile,
    /// Roles; absent or empty for plain members.
    #[serde(default)]
    pub roles: Option<Vec<TeamMemberRole>>,
}

/// `team.MembersListArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersListArg {
    /// 1..=1000 members per page.
    pub limit: u32,
    /// List removed members too.
    pub include_removed: bool,
}

/// A `{cursor}` argument (`members/list/continue_v2`, `groups/list/continue`,
/// `groups/members/list/continue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorArg {
    /// The cursor of the previous page.
    pub cursor: String,
}

/// `team.MembersListV2Result`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MembersListV2Result {
    /// This page.
    pub members: Vec<TeamMemberInfoV2>,
    /// Where the next page starts.
    pub cursor: String,
    /// Whether there is a next page.
    pub has_more: bool,
}

/// `team.MembersGetInfoV2Arg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersGetInfoV2Arg {
    /// Members to look up.
    pub members: Vec<UserSelectorArg>,
}

/// `team.MembersGetInfoItemV2`: a member, or the selector value that matched nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersGetInfoItemV2 {
    /// `{".tag":"member_info", profile, roles}` (struct inlined).
    MemberInfo(Box<TeamMemberInfoV2>),
    /// `{".tag":"id_not_found","id_not_found":"…"}`
    IdNotFound(String),
}

impl<'de> Deserialize<'de> for MembersGetInfoItemV2 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("member_info") => Ok(Self::MemberInfo(Box::new(from_value(value)?))),
            Some("id_not_found") => Ok(Self::IdNotFound(string_member(&value, "id_not_found")?)),
            other => Err(unexpected_tag::<D::Error>("MembersGetInfoItemV2", other)),
        }
    }
}

/// `team.MembersGetInfoV2Result`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MembersGetInfoV2Result {
    /// One item per selector, in order.
    pub members_info: Vec<MembersGetInfoItemV2>,
}

/// `team.MemberAddV2Arg` (`MemberAddArgBase` + `role_ids`, which teamsync never sets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberAddV2Arg {
    /// Login email.
    pub member_email: String,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_given_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_surname: Option<String>,
    /// External id (at most 64 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_external_id: Option<String>,
    /// Whether Dropbox sends its welcome email.
    pub send_welcome_email: bool,
}

/// `team.MembersAddV2Arg`: at most 20 members per call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersAddV2Arg {
    /// The people to invite.
    pub new_members: Vec<MemberAddV2Arg>,
    /// Ask for an async job even for small batches.
    pub force_async: bool,
}

/// `team.MemberAddV2Result`: one per invited person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberAddV2Result {
    /// `{".tag":"success", profile, roles}` (struct inlined).
    Success(Box<TeamMemberInfoV2>),
    /// Any failure tag of `MemberAddResultBase`; the email rides under the tag's key.
    Failure {
        /// The failure tag, e.g. `user_already_on_team`.
        tag: String,
        /// The email the failure is about, when the server named it.
        email: Option<String>,
    },
}

/// The failure tags of `team.MemberAddResultBase` (team.stone), all carrying the email.
#[cfg(test)]
pub const MEMBER_ADD_FAILURE_TAGS: &[&str] = &[
    "team_license_limit",
    "free_team_member_limit_reached",
    "user_already_on_team",
    "user_on_another_team",
    "user_already_paired",
    "user_migration_failed",
    "duplicate_external_member_id",
    "duplicate_member_persistent_id",
    "persistent_id_disabled",
    "user_creation_failed",
];

impl MemberAddV2Result {
    /// The email this result is about: the profile's on success, the tag's value on failure.
    pub fn email(&self) -> Option<&str> {
        match self {
            Self::Success(info) => Some(&info.profile.email),
            Self::Failure { email, .. } => email.as_deref(),
        }
    }
}

impl<'de> Deserialize<'de> for MemberAddV2Result {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("success") => Ok(Self::Success(Box::new(from_value(value)?))),
            // `MemberAddV2Result` is open: a failure tag this build does not know still names
            // the email the same way, so it is kept as a failure rather than refused.
            Some(tag) => {
                let email = value.get(tag).and_then(Value::as_str).map(str::to_owned);
                Ok(Self::Failure {
                    tag: tag.to_owned(),
                    email,
                })
            }
            None => Err(unexpected_tag::<D::Error>("MemberAddV2Result", None)),
        }
    }
}

/// `team.MembersAddLaunchV2Result` and, with `in_progress`/`failed`,
/// `team.MembersAddJobStatusV2Result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersAddStatus {
    /// The job is still running (job status only).
    InProgress,
    /// Done: one result per person.
    Complete(Vec<MemberAddV2Result>),
    /// The call went async: poll `members/add/job_status/get_v2`.
    AsyncJobId(String),
    /// The whole job failed (job status only).
    Failed(String),
}

impl<'de> Deserialize<'de> for MembersAddStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("in_progress") => Ok(Self::InProgress),
            Some("complete") => {
                let list = value
                    .get("complete")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new()));
                Ok(Self::Complete(from_value(list)?))
            }
            Some("async_job_id") => Ok(Self::AsyncJobId(string_member(&value, "async_job_id")?)),
            Some("failed") => Ok(Self::Failed(
                value
                    .get("failed")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            other => Err(unexpected_tag::<D::Error>(
                "MembersAddJobStatusV2Result",
                other,
            )),
        }
    }
}

/// `async.PollArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollArg {
    /// The job to ask about.
    pub async_job_id: String,
}

/// `async.LaunchEmptyResult` and `async.PollEmptyResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmptyJobStatus {
    /// Done.
    Complete,
    /// Still running (poll only).
    InProgress,
    /// Went async (launch only).
    AsyncJobId(String),
}

impl<'de> Deserialize<'de> for EmptyJobStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("complete") => Ok(Self::Complete),
            Some("in_progress") => Ok(Self::InProgress),
            Some("async_job_id") => Ok(Self::AsyncJobId(string_member(&value, "async_job_id")?)),
            other => Err(unexpected_tag::<D::Error>("PollEmptyResult", other)),
        }
    }
}

/// `team.MembersSetProfileArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersSetProfileArg {
    /// Who.
    pub user: UserSelectorArg,
    /// New login email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// New external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_external_id: Option<String>,
    /// New first name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_given_name: Option<String>,
    /// New last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_surname: Option<String>,
}

/// `team.TeamMemberInfoV2Result` (result of `members/set_profile_v2`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamMemberInfoV2Result {
    /// The member after the change.
    pub member_info: TeamMemberInfoV2,
}

/// `team.MembersDeactivateArg` (`members/suspend`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersDeactivateArg {
    /// Who.
    pub user: UserSelectorArg,
    /// Wipe the member's linked devices.
    pub wipe_data: bool,
}

/// `team.MembersUnsuspendArg` and `team.MembersRecoverArg`: `{user}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserArg {
    /// Who.
    pub user: UserSelectorArg,
}

/// `team.MembersRemoveArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersRemoveArg {
    /// Who.
    pub user: UserSelectorArg,
    /// Wipe the member's linked devices.
    pub wipe_data: bool,
    /// Who receives the member's files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_dest_id: Option<UserSelectorArg>,
    /// Admin notified of transfer errors (required with `transfer_dest_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_admin_id: Option<UserSelectorArg>,
    /// Downgrade to a Basic account that keeps its files (needs `wipe_data = false`).
    pub keep_account: bool,
}

/// `team.TeamGetInfoResult` (the fields teamsync reports).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamGetInfoResult {
    /// Team name.
    pub name: String,
    /// Team id.
    pub team_id: String,
    /// Licences bought.
    pub num_licensed_users: u32,
    /// Members invited or active.
    pub num_provisioned_users: u32,
}

// ───────────────────────────── groups ─────────────────────────────

/// `team_common.GroupManagementType` (open union).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = ".tag", rename_all = "snake_case")]
pub enum GroupManagementType {
    /// Members can manage it.
    UserManaged,
    /// Only admins can manage it.
    CompanyManaged,
    /// Dropbox's own.
    SystemManaged,
    /// A tag this build does not know (never sent).
    #[serde(skip_serializing)]
    Other,
}

impl<'de> Deserialize<'de> for GroupManagementType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("user_managed") => Ok(Self::UserManaged),
            Some("company_managed") => Ok(Self::CompanyManaged),
            Some("system_managed") => Ok(Self::SystemManaged),
            Some(_) => Ok(Self::Other),
            None => Err(unexpected_tag::<D::Error>("GroupManagementType", None)),
        }
    }
}

/// `team_common.GroupSummary`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupSummary {
    /// Name.
    pub group_name: String,
    /// `g:…`
    pub group_id: String,
    /// External id, when set.
    #[serde(default)]
    pub group_external_id: Option<String>,
    /// Member count, when Dropbox gives it.
    #[serde(default)]
    pub member_count: Option<u32>,
    /// Who manages it.
    pub group_management_type: GroupManagementType,
}

/// `team.GroupsListArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupsListArg {
    /// 1..=1000 groups per page.
    pub limit: u32,
}

/// `team.GroupsListResult`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupsListResult {
    /// This page.
    pub groups: Vec<GroupSummary>,
    /// Where the next page starts.
    pub cursor: String,
    /// Whether there is a next page.
    pub has_more: bool,
}

/// `team.GroupCreateArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCreateArg {
    /// Name (unique on the team).
    pub group_name: String,
    /// Whether the calling admin becomes an owner; always false for teamsync.
    pub add_creator_as_owner: bool,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_external_id: Option<String>,
    /// Who manages it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_management_type: Option<GroupManagementType>,
}

/// `team.GroupFullInfo` (the summary fields teamsync reads; `members` and `created` ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupFullInfo {
    /// Name.
    pub group_name: String,
    /// `g:…`
    pub group_id: String,
    /// External id, when set.
    #[serde(default)]
    pub group_external_id: Option<String>,
    /// Who manages it.
    pub group_management_type: GroupManagementType,
}

/// `team.GroupUpdateArgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupUpdateArgs {
    /// Which group.
    pub group: GroupSelector,
    /// Whether the response lists the members; teamsync never needs them.
    pub return_members: bool,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_group_name: Option<String>,
    /// New external id; an empty string clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_group_external_id: Option<String>,
    /// New management type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_group_management_type: Option<GroupManagementType>,
}

/// `team.GroupAccessType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = ".tag", rename_all = "snake_case")]
pub enum GroupAccessType {
    /// A plain member.
    Member,
    /// A group owner.
    Owner,
}

impl<'de> Deserialize<'de> for GroupAccessType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match tag_of(&value) {
            Some("member") => Ok(Self::Member),
            Some("owner") => Ok(Self::Owner),
            other => Err(unexpected_tag::<D::Error>("GroupAccessType", other)),
        }
    }
}

/// `team.MemberAccess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberAccess {
    /// Who.
    pub user: UserSelectorArg,
    /// As what.
    pub access_type: GroupAccessType,
}

/// `team.GroupMembersAddArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMembersAddArg {
    /// Whether the response lists the members.
    pub return_members: bool,
    /// Which group.
    pub group: GroupSelector,
    /// Who to add.
    pub members: Vec<MemberAccess>,
}

/// `team.GroupMembersRemoveArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMembersRemoveArg {
    /// Whether the response lists the members.
    pub return_members: bool,
    /// Which group.
    pub group: GroupSelector,
    /// Who to remove.
    pub users: Vec<UserSelectorArg>,
}

/// `team.GroupMembersChangeResult`. `async_job_id` is deprecated (always `" "`) but required.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupMembersChangeResult {
    /// The group after the change.
    pub group_info: GroupFullInfo,
    /// Always one space.
    pub async_job_id: String,
}

/// `team.GroupsMembersListArg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupsMembersListArg {
    /// Which group.
    pub group: GroupSelector,
    /// 1..=1000 members per page.
    pub limit: u32,
}

/// `team.GroupMemberInfo`. `profile` is the base `MemberProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupMemberInfo {
    /// The member.
    pub profile: MemberProfile,
    /// Member or owner.
    pub access_type: GroupAccessType,
}

/// `team.GroupsMembersListResult`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupsMembersListResult {
    /// This page.
    pub members: Vec<GroupMemberInfo>,
    /// Where the next page starts.
    pub cursor: String,
    /// Whether there is a next page.
    pub has_more: bool,
}

// ───────────────────────────── errors ─────────────────────────────

/// The body of a route error (HTTP 409) or an auth error (401):
/// `{"error_summary":"…","error":{".tag":"…",…},"user_message":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// `tag/…` for people; teamsync reads the tag from `error`.
    #[serde(default)]
    pub error_summary: Option<String>,
    /// The error union.
    pub error: Value,
}

impl ErrorBody {
    /// The outer tag of the error union (`user_not_found`, `expired_access_token`, …).
    pub fn tag(&self) -> Option<&str> {
        tag_of(&self.error)
    }
}

// ───────────────────────────── helpers ─────────────────────────────

/// The tag of a union value: `{".tag":"x",…}` or the void shorthand `"x"`.
pub fn tag_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(tag) => Some(tag),
        Value::Object(map) => map.get(".tag").and_then(Value::as_str),
        _ => None,
    }
}

fn from_value<T: DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}

fn string_member<E: de::Error>(value: &Value, key: &str) -> Result<String, E> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            E::custom(format!(
                "union member {} has no string value",
                teamsync_core::text::quoted(key)
            ))
        })
}

fn unexpected_tag<E: de::Error>(union: &str, tag: Option<&str>) -> E {
    match tag {
        Some(tag) => E::custom(format!(
            "unknown tag {} for {union}",
            teamsync_core::text::quoted(tag)
        )),
        None => E::custom(format!("{union} without a .tag")),
    }
}
