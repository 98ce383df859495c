//! The serde shapes of a team: [`TeamSeed`] (input: seed files and [`crate::Emulator::seed`])
//! and [`TeamState`] (output: [`crate::Emulator::state`] and `GET /__emulator/state`).

use serde::{Deserialize, Serialize};

/// A member's state, as Dropbox's `TeamMemberStatus` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// A member who has joined.
    #[default]
    Active,
    /// Added but has not accepted the invitation yet.
    Invited,
    /// Suspended by an admin; still holds a licence.
    Suspended,
    /// Removed from the team; recoverable unless removed with `keep_account` or
    /// `permanently_delete_files`.
    Removed,
}

impl MemberStatus {
    /// The wire tag (`"active"`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Invited => "invited",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Removed => "removed",
        }
    }

    /// Whether a member in this state holds one of the team's licences.
    pub fn holds_licence(self) -> bool {
        !matches!(self, MemberStatus::Removed)
    }
}

/// Who may manage a group (Dropbox's `GroupManagementType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagementType {
    /// Managed by its owners.
    UserManaged,
    /// Managed by team admins only; the default for groups created through the API.
    #[default]
    CompanyManaged,
    /// Managed by Dropbox (e.g. "Everyone at ..."); the API may not change it.
    SystemManaged,
}

impl ManagementType {
    /// The wire tag.
    pub fn tag(self) -> &'static str {
        match self {
            ManagementType::UserManaged => "user_managed",
            ManagementType::CompanyManaged => "company_managed",
            ManagementType::SystemManaged => "system_managed",
        }
    }

    /// Parses a wire tag.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "user_managed" => Some(ManagementType::UserManaged),
            "company_managed" => Some(ManagementType::CompanyManaged),
            "system_managed" => Some(ManagementType::SystemManaged),
            _ => None,
        }
    }
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessType {
    /// A plain member.
    #[default]
    Member,
    /// An owner (may manage a user-managed group).
    Owner,
}

impl AccessType {
    /// The wire tag.
    pub fn tag(self) -> &'static str {
        match self {
            AccessType::Member => "member",
            AccessType::Owner => "owner",
        }
    }

    /// Parses a wire tag.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "member" => Some(AccessType::Member),
            "owner" => Some(AccessType::Owner),
            _ => None,
        }
    }
}

/// The contents to load into a team: the JSON seed file format of the binary, and the argument
/// of [`crate::Emulator::seed`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeamSeed {
    /// Replaces the team name when set.
    #[serde(alias = "name", skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    /// The licence limit; `None` means unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_limit: Option<u32>,
    /// Members, in listing order.
    pub members: Vec<SeedMember>,
    /// Groups, in listing order.
    pub groups: Vec<SeedGroup>,
}

/// One member of a [`TeamSeed`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    /// Primary email (unique on the team, compared case-insensitively).
    pub email: String,
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Last name.
    #[serde(default)]
    pub surname: String,
    /// External id (unique on the team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// State; `active` when omitted.
    #[serde(default)]
    pub status: MemberStatus,
    /// Team admin (the last active admin cannot be suspended or removed).
    #[serde(default)]
    pub is_admin: bool,
}

/// One group of a [`TeamSeed`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// Group name (unique on the team, compared case-insensitively).
    pub name: String,
    /// External id (unique among groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Management type; `company_managed` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_type: Option<ManagementType>,
    /// Emails of the group's members (plain members, not owners).
    #[serde(default)]
    pub members: Vec<String>,
}

/// A serde snapshot of the team: what a sync left behind, for tests to assert on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamState {
    /// The team name.
    pub team_name: String,
    /// The team id (`dbtid:...`).
    pub team_id: String,
    /// The licence limit; `None` means unlimited.
    pub license_limit: Option<u32>,
    /// Every member, removed ones included, in listing order.
    pub members: Vec<MemberState>,
    /// Every live group (deleted ones excluded), in listing order.
    pub groups: Vec<GroupState>,
}

/// One member in a [`TeamState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    /// `dbmid:...`
    pub team_member_id: String,
    /// Primary email, as given.
    pub email: String,
    /// First name.
    pub given_name: String,
    /// Last name.
    pub surname: String,
    /// External id, if any.
    pub external_id: Option<String>,
    /// State.
    pub status: MemberStatus,
    /// For removed members: whether `members/recover` can bring them back.
    pub recoverable: bool,
    /// Team admin.
    pub is_admin: bool,
    /// Names of the groups the member is in.
    pub groups: Vec<String>,
}

/// One group in a [`TeamState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// `g:...`
    pub group_id: String,
    /// Group name.
    pub name: String,
    /// External id, if any.
    pub external_id: Option<String>,
    /// Management type.
    pub management_type: ManagementType,
    /// Members, ordered by when they joined the team.
    pub members: Vec<GroupMemberState>,
}

/// One member of a group in a [`GroupState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMemberState {
    /// `dbmid:...`
    pub team_member_id: String,
    /// The member's email.
    pub email: String,
    /// Member or owner.
    pub access_type: AccessType,
}

impl TeamState {
    /// The seed that recreates this state (ids aside): handy to save a team and load it later.
    pub fn to_seed(&self) -> TeamSeed {
        TeamSeed {
            team_name: Some(self.team_name.clone()),
            license_limit: self.license_limit,
            members: self
                .members
                .iter()
                .map(|m| SeedMember {
                    email: m.email.clone(),
                    given_name: m.given_name.clone(),
                    surname: m.surname.clone(),
                    external_id: m.external_id.clone(),
                    status: m.status,
                    is_admin: m.is_admin,
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|g| SeedGroup {
                    name: g.name.clone(),
                    external_id: g.external_id.clone(),
                    management_type: Some(g.management_type),
                    members: g.members.iter().map(|m| m.email.clone()).collect(),
                })
                .collect(),
        }
    }

    /// The member with this email (case-insensitive), if any.
    pub fn member_by_email(&self, email: &str) -> Option<&MemberState> {
        self.members
            .iter()
            .find(|m| m.email.eq_ignore_ascii_case(email))
    }

    /// The live group with this name (case-insensitive), if any.
    pub fn group_by_name(&self, name: &str) -> Option<&GroupState> {
        self.groups
            .iter()
            .find(|g| g.name.to_lowercase() == name.to_lowercase())
    }
}
