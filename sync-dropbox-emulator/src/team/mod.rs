//! The team's state and its rules: members and groups with their indexes, licences, async
//! jobs, pagination, and the rendering of Dropbox's JSON shapes for them.
//!
//! Lookups go through hash indexes (team member id, lowercase email, external id; group id,
//! lowercase name, external id), so no request scans the team. Members are never deleted
//! (removal is a status), so a member's position in `members` is a stable pagination key.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Value, json};

use crate::seed::{
    AccessType, GroupMemberState, GroupState, ManagementType, MemberState, MemberStatus, TeamSeed,
    TeamState,
};
use crate::wire::{self, Cursor, GroupSelector, RouteError, UserSelector};
use teamsync_emulator_support::Rng;

mod groups;
mod jobs;
mod member_lookups;
mod members;
mod render;
mod seeding;

pub(crate) struct Member {
    pub(crate) team_member_id: String,
    pub(crate) account_id: String,
    pub(crate) email: String,
    pub(crate) given_name: String,
    pub(crate) surname: String,
    pub(crate) external_id: Option<String>,
    pub(crate) status: MemberStatus,
    /// For removed members: `members/recover` may restore them.
    pub(crate) recoverable: bool,
    /// For removed members: they kept their account as a Basic user.
    pub(crate) disconnected: bool,
    pub(crate) is_admin: bool,
    pub(crate) is_directory_restricted: Option<bool>,
    pub(crate) invited_on: Option<SystemTime>,
    pub(crate) joined_on: Option<SystemTime>,
    pub(crate) suspended_on: Option<SystemTime>,
    /// Positions in `Team::groups` of the groups this member is in.
    pub(crate) groups: BTreeSet<usize>,
    pub(crate) member_folder_id: String,
    pub(crate) root_folder_id: String,
}

pub(crate) struct Group {
    pub(crate) group_id: String,
    pub(crate) name: String,
    pub(crate) external_id: Option<String>,
    pub(crate) management_type: ManagementType,
    /// Member position in `Team::members` → access type; ordered, so it paginates.
    pub(crate) members: BTreeMap<usize, AccessType>,
    pub(crate) created: SystemTime,
    /// Deleted groups stay (so their id answers `group_already_deleted`) but leave the
    /// name and external-id indexes.
    pub(crate) deleted: bool,
}

/// What an async job reports once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    MembersAdd,
    MembersRemove,
    Groups,
}

struct Job {
    kind: JobKind,
    polls_left: u32,
    complete: Value,
}

/// A new member as `members/add_v2` describes one.
pub(crate) struct NewMember<'a> {
    pub(crate) email: &'a str,
    pub(crate) given_name: &'a str,
    pub(crate) surname: &'a str,
    pub(crate) external_id: Option<&'a str>,
    pub(crate) persistent_id: Option<&'a str>,
    pub(crate) is_directory_restricted: Option<bool>,
}

/// The optional changes of `members/set_profile_v2`.
#[derive(Default)]
pub(crate) struct ProfileChanges<'a> {
    pub(crate) new_email: Option<&'a str>,
    pub(crate) new_external_id: Option<&'a str>,
    pub(crate) new_given_name: Option<&'a str>,
    pub(crate) new_surname: Option<&'a str>,
    pub(crate) new_persistent_id: Option<&'a str>,
    pub(crate) new_is_directory_restricted: Option<bool>,
}

/// The options of `members/remove` after selector resolution.
pub(crate) struct RemoveOptions {
    pub(crate) wipe_data: bool,
    pub(crate) transfer_dest: Option<UserSelector>,
    pub(crate) transfer_admin: Option<UserSelector>,
    pub(crate) keep_account: bool,
    pub(crate) retain_team_shares: bool,
    pub(crate) permanently_delete_files: bool,
}

/// One page of a listing: positions, the position to resume from, and whether more follow.
pub(crate) struct Page {
    pub(crate) items: Vec<usize>,
    pub(crate) next: usize,
    pub(crate) has_more: bool,
}

pub(crate) struct Team {
    pub(crate) name: String,
    pub(crate) team_id: String,
    pub(crate) license_limit: Option<u32>,
    /// Bumped by every seed; cursors from an older generation are `invalid_cursor`.
    pub(crate) generation: u64,
    pub(crate) members: Vec<Member>,
    member_by_id: HashMap<String, usize>,
    member_by_email: HashMap<String, usize>,
    member_by_external_id: HashMap<String, usize>,
    pub(crate) groups: Vec<Group>,
    group_by_id: HashMap<String, usize>,
    group_by_name: HashMap<String, usize>,
    group_by_external_id: HashMap<String, usize>,
    /// Members holding a licence (every status but removed).
    licensed: u32,
    active_admins: u32,
    jobs: HashMap<String, Job>,
    next_folder_id: u64,
    ids: Rng,
    job_polls_in_progress: u32,
}

/// The role team admins carry (`TeamMemberRole`); plain members carry none.
const TEAM_ADMIN_ROLE: [RoleView; 1] = [RoleView {
    role_id: "pid_dbtmr:emulator-team-admin",
    name: "Team",
    description: "Manage everything and access all permissions",
}];

#[derive(Serialize)]
pub(crate) struct RoleView {
    role_id: &'static str,
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
pub(crate) struct TagView {
    #[serde(rename = ".tag")]
    tag: &'static str,
}

/// `TeamMemberStatus`; `removed` inlines `RemovedStatus`.
#[derive(Serialize)]
pub(crate) struct StatusView {
    #[serde(rename = ".tag")]
    tag: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_recoverable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_disconnected: Option<bool>,
}

/// `users.Name`: all five parts are required.
#[derive(Serialize)]
pub(crate) struct NameView<'a> {
    given_name: &'a str,
    surname: &'a str,
    familiar_name: &'a str,
    display_name: String,
    abbreviated_name: String,
}

impl<'a> NameView<'a> {
    fn new(given_name: &'a str, surname: &'a str) -> Self {
        NameView {
            given_name,
            surname,
            familiar_name: given_name,
            display_name: wire::display_name(given_name, surname),
            abbreviated_name: wire::abbreviated_name(given_name, surname),
        }
    }
}

/// `MemberProfile` / `TeamMemberProfile` (the last three fields).
#[derive(Serialize)]
pub(crate) struct ProfileView<'a> {
    team_member_id: &'a str,
    email: &'a str,
    email_verified: bool,
    status: StatusView,
    name: NameView<'a>,
    membership_type: TagView,
    secondary_emails: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    joined_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspended_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_directory_restricted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_folder_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_folder_id: Option<&'a str>,
}

/// `TeamMemberInfoV2`, or a union member inlining it (`member_info`, `success`).
#[derive(Serialize)]
pub(crate) struct MemberInfoView<'a> {
    #[serde(rename = ".tag", skip_serializing_if = "Option::is_none")]
    tag: Option<&'static str>,
    profile: ProfileView<'a>,
    roles: &'static [RoleView],
}

impl Team {
    pub(crate) fn new(
        name: String,
        license_limit: Option<u32>,
        seed: u64,
        job_polls_in_progress: u32,
    ) -> Team {
        let mut ids = Rng::new(seed ^ 0x1d5_1d5_1d5);
        let team_id = format!("dbtid:AA{}", ids.token(33));
        Team {
            name,
            team_id,
            license_limit,
            generation: 1,
            members: Vec::new(),
            member_by_id: HashMap::new(),
            member_by_email: HashMap::new(),
            member_by_external_id: HashMap::new(),
            groups: Vec::new(),
            group_by_id: HashMap::new(),
            group_by_name: HashMap::new(),
            group_by_external_id: HashMap::new(),
            licensed: 0,
            active_admins: 0,
            jobs: HashMap::new(),
            next_folder_id: 1_000_000_000,
            ids,
            job_polls_in_progress,
        }
    }

    pub(crate) fn set_job_polls_in_progress(&mut self, polls: u32) {
        self.job_polls_in_progress = polls;
    }
}

/// Strict seed checks: unique emails, external ids and group names; group members known.
fn check_seed(seed: &TeamSeed) -> Result<(), String> {
    let mut emails = BTreeSet::new();
    let mut externals = BTreeSet::new();
    for m in &seed.members {
        if !wire::is_valid_email(&m.email) {
            return Err(format!("invalid email {:?}", m.email));
        }
        if !emails.insert(m.email.to_lowercase()) {
            return Err(format!("duplicate member email {:?}", m.email));
        }
        if let Some(ext) = &m.external_id {
            if !externals.insert(ext.clone()) {
                return Err(format!("duplicate member external_id {ext:?}"));
            }
        }
    }
    let mut names = BTreeSet::new();
    let mut group_externals = BTreeSet::new();
    for g in &seed.groups {
        if !names.insert(g.name.to_lowercase()) {
            return Err(format!("duplicate group name {:?}", g.name));
        }
        if let Some(ext) = &g.external_id {
            if !group_externals.insert(ext.clone()) {
                return Err(format!("duplicate group external_id {ext:?}"));
            }
        }
        for email in &g.members {
            if !emails.contains(&email.to_lowercase()) {
                return Err(format!("group {:?} lists unknown member {email:?}", g.name));
            }
        }
    }
    Ok(())
}
