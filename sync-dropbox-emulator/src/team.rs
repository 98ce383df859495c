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

use crate::rng::Rng;
use crate::seed::{
    AccessType, GroupMemberState, GroupState, ManagementType, MemberState, MemberStatus, TeamSeed,
    TeamState,
};
use crate::wire::{self, Cursor, GroupSelector, RouteError, UserSelector};

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

    // ----- seeding and snapshots -------------------------------------------------------------

    /// Replaces members and groups with the seed's. With `strict`, duplicate emails, external
    /// ids or group names and unknown group members are errors (and nothing changes);
    /// otherwise later duplicates and unknown emails are skipped.
    pub(crate) fn load_seed(
        &mut self,
        seed: &TeamSeed,
        strict: bool,
        now: SystemTime,
    ) -> Result<(), String> {
        if strict {
            check_seed(seed)?;
        }
        self.members.clear();
        self.member_by_id.clear();
        self.member_by_email.clear();
        self.member_by_external_id.clear();
        self.groups.clear();
        self.group_by_id.clear();
        self.group_by_name.clear();
        self.group_by_external_id.clear();
        self.jobs.clear();
        self.licensed = 0;
        self.active_admins = 0;
        self.generation += 1;
        if let Some(name) = &seed.team_name {
            self.name = name.clone();
        }
        self.license_limit = seed.license_limit;
        for m in &seed.members {
            if self.member_by_email.contains_key(&m.email.to_lowercase())
                || m.external_id
                    .as_ref()
                    .is_some_and(|e| self.member_by_external_id.contains_key(e))
            {
                continue;
            }
            let new = NewMember {
                email: &m.email,
                given_name: &m.given_name,
                surname: &m.surname,
                external_id: m.external_id.as_deref(),
                persistent_id: None,
                is_directory_restricted: None,
            };
            let idx = self.insert_member(&new, m.status, m.is_admin, now);
            if m.status == MemberStatus::Removed {
                self.members[idx].recoverable = true;
            }
        }
        for g in &seed.groups {
            if self.group_by_name.contains_key(&g.name.to_lowercase())
                || g.external_id
                    .as_ref()
                    .is_some_and(|e| self.group_by_external_id.contains_key(e))
            {
                continue;
            }
            let gidx = self.insert_group(
                &g.name,
                g.external_id.as_deref(),
                g.management_type.unwrap_or_default(),
                now,
            );
            for email in &g.members {
                if let Some(&idx) = self.member_by_email.get(&email.to_lowercase()) {
                    if self.members[idx].status != MemberStatus::Removed {
                        self.join_group(gidx, idx, AccessType::Member);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn state(&self) -> TeamState {
        TeamState {
            team_name: self.name.clone(),
            team_id: self.team_id.clone(),
            license_limit: self.license_limit,
            members: self
                .members
                .iter()
                .map(|m| MemberState {
                    team_member_id: m.team_member_id.clone(),
                    email: m.email.clone(),
                    given_name: m.given_name.clone(),
                    surname: m.surname.clone(),
                    external_id: m.external_id.clone(),
                    status: m.status,
                    recoverable: m.status == MemberStatus::Removed && m.recoverable,
                    is_admin: m.is_admin,
                    groups: m
                        .groups
                        .iter()
                        .map(|&g| self.groups[g].name.clone())
                        .collect(),
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| !g.deleted)
                .map(|g| GroupState {
                    group_id: g.group_id.clone(),
                    name: g.name.clone(),
                    external_id: g.external_id.clone(),
                    management_type: g.management_type,
                    members: g
                        .members
                        .iter()
                        .map(|(&idx, &access_type)| GroupMemberState {
                            team_member_id: self.members[idx].team_member_id.clone(),
                            email: self.members[idx].email.clone(),
                            access_type,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    // ----- members: lookups and counts -------------------------------------------------------

    pub(crate) fn find_member(&self, selector: &UserSelector) -> Option<usize> {
        match selector {
            UserSelector::TeamMemberId(id) => self.member_by_id.get(id).copied(),
            UserSelector::Email(email) => self.member_by_email.get(&email.to_lowercase()).copied(),
            UserSelector::ExternalId(id) => self.member_by_external_id.get(id).copied(),
        }
    }

    /// Resolves a selector to a member still on the team: `user_not_found` when unknown,
    /// `user_not_in_team` when removed.
    pub(crate) fn member_on_team(&self, selector: &UserSelector) -> Result<usize, RouteError> {
        let idx = self
            .find_member(selector)
            .ok_or_else(|| RouteError::tag("user_not_found"))?;
        if self.members[idx].status == MemberStatus::Removed {
            return Err(RouteError::tag("user_not_in_team"));
        }
        Ok(idx)
    }

    pub(crate) fn licensed_members(&self) -> u32 {
        self.licensed
    }

    fn licence_available(&self) -> bool {
        self.license_limit.is_none_or(|limit| self.licensed < limit)
    }

    /// Changes a member's status, keeping the licence and admin counters right.
    fn set_status(&mut self, idx: usize, status: MemberStatus) {
        let m = &mut self.members[idx];
        let old = m.status;
        if old.holds_licence() && !status.holds_licence() {
            self.licensed -= 1;
        } else if !old.holds_licence() && status.holds_licence() {
            self.licensed += 1;
        }
        if m.is_admin && old == MemberStatus::Active && status != MemberStatus::Active {
            self.active_admins -= 1;
        } else if m.is_admin && old != MemberStatus::Active && status == MemberStatus::Active {
            self.active_admins += 1;
        }
        m.status = status;
    }

    fn insert_member(
        &mut self,
        new: &NewMember<'_>,
        status: MemberStatus,
        is_admin: bool,
        now: SystemTime,
    ) -> usize {
        let idx = self.members.len();
        let mut team_member_id = format!("dbmid:AA{}", self.ids.token(33));
        while self.member_by_id.contains_key(&team_member_id) {
            team_member_id = format!("dbmid:AA{}", self.ids.token(33));
        }
        // AccountId is exactly 40 characters (users_common.stone).
        let account_id = format!("dbid:AA{}", self.ids.token(33));
        let member_folder_id = self.next_folder_id.to_string();
        let root_folder_id = (self.next_folder_id + 1).to_string();
        self.next_folder_id += 2;
        self.member_by_id.insert(team_member_id.clone(), idx);
        self.member_by_email.insert(new.email.to_lowercase(), idx);
        if let Some(ext) = new.external_id {
            self.member_by_external_id.insert(ext.to_owned(), idx);
        }
        self.members.push(Member {
            team_member_id,
            account_id,
            email: new.email.to_owned(),
            given_name: new.given_name.to_owned(),
            surname: new.surname.to_owned(),
            external_id: new.external_id.map(str::to_owned),
            status: MemberStatus::Removed,
            recoverable: false,
            disconnected: false,
            is_admin,
            is_directory_restricted: new.is_directory_restricted,
            invited_on: Some(now),
            joined_on: (status != MemberStatus::Invited).then_some(now),
            suspended_on: (status == MemberStatus::Suspended).then_some(now),
            groups: BTreeSet::new(),
            member_folder_id,
            root_folder_id,
        });
        // Start from "removed" (no licence, not counted) and move to the real status so the
        // counters go through one code path.
        self.members[idx].is_admin = false;
        self.set_status(idx, status);
        if is_admin {
            self.members[idx].is_admin = true;
            if status == MemberStatus::Active {
                self.active_admins += 1;
            }
        }
        idx
    }

    // ----- members: operations ---------------------------------------------------------------

    /// `members/add_v2` for one member. The error is the per-member failure tag.
    pub(crate) fn add_member(
        &mut self,
        new: &NewMember<'_>,
        active: bool,
        now: SystemTime,
    ) -> Result<usize, &'static str> {
        // A removed member that can no longer be recovered has left the team for good: its
        // email and external id are free again (the new member gets a new record).
        let still_holds = |idx: &usize| {
            let m = &self.members[*idx];
            m.status != MemberStatus::Removed || m.recoverable
        };
        if self
            .member_by_email
            .get(&new.email.to_lowercase())
            .is_some_and(still_holds)
        {
            // Includes removed-but-recoverable members (members/remove doc).
            return Err("user_already_on_team");
        }
        if new
            .external_id
            .and_then(|e| self.member_by_external_id.get(e))
            .is_some_and(still_holds)
        {
            return Err("duplicate_external_member_id");
        }
        if new.persistent_id.is_some() {
            // Persistent ids need SAML SSO, which an emulated team does not have.
            return Err("persistent_id_disabled");
        }
        if !self.licence_available() {
            return Err("team_license_limit");
        }
        let status = if active {
            MemberStatus::Active
        } else {
            MemberStatus::Invited
        };
        Ok(self.insert_member(new, status, false, now))
    }

    /// `members/set_profile_v2`: every check first, then every change (all or nothing).
    pub(crate) fn set_profile(
        &mut self,
        selector: &UserSelector,
        changes: &ProfileChanges<'_>,
    ) -> Result<usize, RouteError> {
        let idx = self
            .find_member(selector)
            .ok_or_else(|| RouteError::tag("user_not_found"))?;
        if self.members[idx].status == MemberStatus::Removed {
            return Err(RouteError::tag("set_profile_disallowed"));
        }
        let nothing = changes.new_email.is_none()
            && changes.new_external_id.is_none()
            && changes.new_given_name.is_none()
            && changes.new_surname.is_none()
            && changes.new_persistent_id.is_none()
            && changes.new_is_directory_restricted.is_none();
        if nothing {
            return Err(RouteError::tag("no_new_data_specified"));
        }
        if matches!(selector, UserSelector::ExternalId(_)) && changes.new_external_id.is_some() {
            return Err(RouteError::tag("external_id_and_new_external_id_unsafe"));
        }
        if let Some(email) = changes.new_email {
            if email.is_empty() {
                return Err(RouteError::tag("param_cannot_be_empty"));
            }
            if self
                .member_by_email
                .get(&email.to_lowercase())
                .is_some_and(|&other| other != idx)
            {
                return Err(RouteError::tag("email_reserved_for_other_user"));
            }
        }
        if let Some(ext) = changes.new_external_id.filter(|e| !e.is_empty()) {
            if self
                .member_by_external_id
                .get(ext)
                .is_some_and(|&other| other != idx)
            {
                return Err(RouteError::tag("external_id_used_by_other_user"));
            }
        }
        if changes.new_persistent_id.is_some() {
            return Err(RouteError::tag("persistent_id_disabled"));
        }
        // All checks passed: apply.
        if let Some(email) = changes.new_email {
            let old = std::mem::replace(&mut self.members[idx].email, email.to_owned());
            self.member_by_email.remove(&old.to_lowercase());
            self.member_by_email.insert(email.to_lowercase(), idx);
        }
        if let Some(ext) = changes.new_external_id {
            // An empty new_external_id clears it (the "Wipe External ID" workflow; unverified).
            if let Some(old) = self.members[idx].external_id.take() {
                self.member_by_external_id.remove(&old);
            }
            if !ext.is_empty() {
                self.members[idx].external_id = Some(ext.to_owned());
                self.member_by_external_id.insert(ext.to_owned(), idx);
            }
        }
        let m = &mut self.members[idx];
        if let Some(given) = changes.new_given_name {
            m.given_name = given.to_owned();
        }
        if let Some(surname) = changes.new_surname {
            m.surname = surname.to_owned();
        }
        if let Some(restricted) = changes.new_is_directory_restricted {
            m.is_directory_restricted = Some(restricted);
        }
        Ok(idx)
    }

    pub(crate) fn suspend(
        &mut self,
        selector: &UserSelector,
        now: SystemTime,
    ) -> Result<(), RouteError> {
        let idx = self.member_on_team(selector)?;
        let m = &self.members[idx];
        if m.status != MemberStatus::Active {
            // Invited members cannot be suspended (only active ones can).
            return Err(RouteError::tag("suspend_inactive_user"));
        }
        if m.is_admin && self.active_admins <= 1 {
            return Err(RouteError::tag("suspend_last_admin"));
        }
        self.set_status(idx, MemberStatus::Suspended);
        self.members[idx].suspended_on = Some(now);
        Ok(())
    }

    pub(crate) fn unsuspend(&mut self, selector: &UserSelector) -> Result<(), RouteError> {
        let idx = self.member_on_team(selector)?;
        if self.members[idx].status != MemberStatus::Suspended {
            return Err(RouteError::tag("unsuspend_non_suspended_member"));
        }
        // Suspended members keep their licence, so unsuspending needs no free one.
        self.set_status(idx, MemberStatus::Active);
        self.members[idx].suspended_on = None;
        Ok(())
    }

    pub(crate) fn remove(
        &mut self,
        selector: &UserSelector,
        opts: &RemoveOptions,
    ) -> Result<(), RouteError> {
        let idx = self.member_on_team(selector)?;
        let m = &self.members[idx];
        if opts.transfer_dest.is_some() {
            if opts.transfer_admin.is_none() {
                return Err(RouteError::tag("unspecified_transfer_admin_id"));
            }
            if opts.keep_account {
                return Err(RouteError::tag("cannot_keep_account_and_transfer"));
            }
            if opts.permanently_delete_files {
                return Err(RouteError::tag("cannot_permanently_delete_and_transfer"));
            }
        }
        if opts.keep_account {
            if opts.wipe_data {
                return Err(RouteError::tag("cannot_keep_account_and_delete_data"));
            }
            if opts.permanently_delete_files {
                return Err(RouteError::tag(
                    "cannot_keep_account_and_permanently_delete",
                ));
            }
            if m.status == MemberStatus::Invited {
                return Err(RouteError::tag("cannot_keep_invited_user_account"));
            }
        }
        if opts.retain_team_shares {
            if opts.wipe_data {
                return Err(RouteError::tag("cannot_retain_shares_when_data_wiped"));
            }
            if !opts.keep_account {
                return Err(RouteError::tag("cannot_retain_shares_when_no_account_kept"));
            }
        }
        if let Some(dest) = &opts.transfer_dest {
            let dest_idx = self
                .find_member(dest)
                .ok_or_else(|| RouteError::tag("transfer_dest_user_not_found"))?;
            if dest_idx == idx {
                return Err(RouteError::tag("removed_and_transfer_dest_should_differ"));
            }
            if self.members[dest_idx].status == MemberStatus::Removed {
                return Err(RouteError::tag("transfer_dest_user_not_in_team"));
            }
        }
        if let Some(admin) = &opts.transfer_admin {
            let admin_idx = self
                .find_member(admin)
                .ok_or_else(|| RouteError::tag("transfer_admin_user_not_found"))?;
            if admin_idx == idx {
                return Err(RouteError::tag("removed_and_transfer_admin_should_differ"));
            }
            if self.members[admin_idx].status == MemberStatus::Removed {
                return Err(RouteError::tag("transfer_admin_user_not_in_team"));
            }
            if !self.members[admin_idx].is_admin {
                return Err(RouteError::tag("transfer_admin_is_not_admin"));
            }
        }
        if m.is_admin && m.status == MemberStatus::Active && self.active_admins <= 1 {
            return Err(RouteError::tag("remove_last_admin"));
        }
        // Removing an invited member withdraws the invitation: there is no account or data to
        // recover, and the email is free for a new invitation (unverified against Dropbox).
        let was_invited = m.status == MemberStatus::Invited;
        self.set_status(idx, MemberStatus::Removed);
        let groups = std::mem::take(&mut self.members[idx].groups);
        for gidx in groups {
            self.groups[gidx].members.remove(&idx);
        }
        let m = &mut self.members[idx];
        m.recoverable = !opts.keep_account && !opts.permanently_delete_files && !was_invited;
        m.disconnected = opts.keep_account;
        m.suspended_on = None;
        Ok(())
    }

    pub(crate) fn recover(
        &mut self,
        selector: &UserSelector,
        now: SystemTime,
    ) -> Result<(), RouteError> {
        let idx = self
            .find_member(selector)
            .ok_or_else(|| RouteError::tag("user_not_found"))?;
        let m = &self.members[idx];
        if m.status != MemberStatus::Removed || !m.recoverable {
            return Err(RouteError::tag("user_unrecoverable"));
        }
        if !self.licence_available() {
            return Err(RouteError::tag("team_license_limit"));
        }
        self.set_status(idx, MemberStatus::Active);
        let m = &mut self.members[idx];
        m.recoverable = false;
        m.joined_on.get_or_insert(now);
        Ok(())
    }

    /// Invited members accept their invitation and become active, as they would by clicking
    /// the link in Dropbox's email: those with these emails, or all when `emails` is empty.
    /// Returns how many changed.
    pub(crate) fn accept_invitations(&mut self, emails: &[&str], now: SystemTime) -> usize {
        let targets: Vec<usize> = if emails.is_empty() {
            (0..self.members.len())
                .filter(|&i| self.members[i].status == MemberStatus::Invited)
                .collect()
        } else {
            emails
                .iter()
                .filter_map(|e| self.member_by_email.get(&e.to_lowercase()).copied())
                .filter(|&i| self.members[i].status == MemberStatus::Invited)
                .collect()
        };
        for &idx in &targets {
            self.set_status(idx, MemberStatus::Active);
            self.members[idx].joined_on = Some(now);
        }
        targets.len()
    }

    /// A page of members in team order, from position `start`.
    pub(crate) fn members_page(&self, start: usize, limit: usize, include_removed: bool) -> Page {
        let eligible = |m: &Member| include_removed || m.status != MemberStatus::Removed;
        let mut items = Vec::with_capacity(limit.min(self.members.len()));
        let mut pos = start.min(self.members.len());
        while pos < self.members.len() && items.len() < limit {
            if eligible(&self.members[pos]) {
                items.push(pos);
            }
            pos += 1;
        }
        let has_more = self.members[pos..].iter().any(eligible);
        Page {
            items,
            next: pos,
            has_more,
        }
    }

    // ----- groups ----------------------------------------------------------------------------

    fn insert_group(
        &mut self,
        name: &str,
        external_id: Option<&str>,
        management_type: ManagementType,
        now: SystemTime,
    ) -> usize {
        let gidx = self.groups.len();
        let group_id = format!("g:{}", self.ids.hex(32));
        self.group_by_id.insert(group_id.clone(), gidx);
        self.group_by_name.insert(name.to_lowercase(), gidx);
        if let Some(ext) = external_id {
            self.group_by_external_id.insert(ext.to_owned(), gidx);
        }
        self.groups.push(Group {
            group_id,
            name: name.to_owned(),
            external_id: external_id.map(str::to_owned),
            management_type,
            members: BTreeMap::new(),
            created: now,
            deleted: false,
        });
        gidx
    }

    fn join_group(&mut self, gidx: usize, idx: usize, access: AccessType) {
        self.groups[gidx].members.insert(idx, access);
        self.members[idx].groups.insert(gidx);
    }

    /// Resolves a group selector to a live group (`group_not_found` otherwise).
    pub(crate) fn find_group(&self, selector: &GroupSelector) -> Result<usize, RouteError> {
        let gidx = match selector {
            GroupSelector::GroupId(id) => self.group_by_id.get(id).copied(),
            GroupSelector::ExternalId(ext) => self.group_by_external_id.get(ext).copied(),
        };
        match gidx {
            Some(g) if !self.groups[g].deleted => Ok(g),
            _ => Err(RouteError::tag("group_not_found")),
        }
    }

    fn check_group_name(&self, name: &str, except: Option<usize>) -> Result<(), RouteError> {
        if name.trim().is_empty() || name.chars().count() > 255 {
            return Err(RouteError::tag("group_name_invalid"));
        }
        // Uniqueness ignores case (the spec is silent; Dropbox's admin console behaves so).
        if self
            .group_by_name
            .get(&name.to_lowercase())
            .is_some_and(|&g| Some(g) != except)
        {
            return Err(RouteError::tag("group_name_already_used"));
        }
        Ok(())
    }

    pub(crate) fn create_group(
        &mut self,
        name: &str,
        external_id: Option<&str>,
        management_type: Option<ManagementType>,
        now: SystemTime,
    ) -> Result<usize, RouteError> {
        self.check_group_name(name, None)?;
        if external_id.is_some_and(|e| self.group_by_external_id.contains_key(e)) {
            return Err(RouteError::tag("external_id_already_in_use"));
        }
        let management_type = management_type.unwrap_or_default();
        if management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        Ok(self.insert_group(name, external_id, management_type, now))
    }

    pub(crate) fn update_group(
        &mut self,
        selector: &GroupSelector,
        new_name: Option<&str>,
        new_external_id: Option<&str>,
        new_management_type: Option<ManagementType>,
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        if self.groups[gidx].management_type == ManagementType::SystemManaged
            || new_management_type == Some(ManagementType::SystemManaged)
        {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        if let Some(name) = new_name {
            self.check_group_name(name, Some(gidx))?;
        }
        if let Some(ext) = new_external_id.filter(|e| !e.is_empty()) {
            if self
                .group_by_external_id
                .get(ext)
                .is_some_and(|&g| g != gidx)
            {
                return Err(RouteError::tag("external_id_already_in_use"));
            }
        }
        if let Some(name) = new_name {
            let old = std::mem::replace(&mut self.groups[gidx].name, name.to_owned());
            self.group_by_name.remove(&old.to_lowercase());
            self.group_by_name.insert(name.to_lowercase(), gidx);
        }
        if let Some(ext) = new_external_id {
            // An empty new_group_external_id clears it (GroupUpdateArgs doc).
            if let Some(old) = self.groups[gidx].external_id.take() {
                self.group_by_external_id.remove(&old);
            }
            if !ext.is_empty() {
                self.groups[gidx].external_id = Some(ext.to_owned());
                self.group_by_external_id.insert(ext.to_owned(), gidx);
            }
        }
        if let Some(mt) = new_management_type {
            self.groups[gidx].management_type = mt;
        }
        Ok(gidx)
    }

    pub(crate) fn delete_group(&mut self, selector: &GroupSelector) -> Result<(), RouteError> {
        let gidx = match selector {
            GroupSelector::GroupId(id) => self.group_by_id.get(id).copied(),
            GroupSelector::ExternalId(ext) => self.group_by_external_id.get(ext).copied(),
        }
        .ok_or_else(|| RouteError::tag("group_not_found"))?;
        let group = &self.groups[gidx];
        if group.deleted {
            return Err(RouteError::tag("group_already_deleted"));
        }
        if group.management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let members = std::mem::take(&mut self.groups[gidx].members);
        for idx in members.keys() {
            self.members[*idx].groups.remove(&gidx);
        }
        let group = &mut self.groups[gidx];
        group.deleted = true;
        self.group_by_name.remove(&group.name.to_lowercase());
        if let Some(ext) = group.external_id.take() {
            self.group_by_external_id.remove(&ext);
        }
        Ok(())
    }

    /// Resolves the selectors of a group-membership change: `users_not_found` (unknown) and
    /// `members_not_in_team` (removed) list the identifiers as given.
    fn resolve_for_group<'s>(
        &self,
        selectors: impl Iterator<Item = &'s UserSelector>,
    ) -> Result<Vec<usize>, RouteError> {
        let mut found = Vec::new();
        let mut not_found = Vec::new();
        let mut not_in_team = Vec::new();
        for sel in selectors {
            match self.find_member(sel) {
                None => not_found.push(Value::String(sel.raw().to_owned())),
                Some(idx) if self.members[idx].status == MemberStatus::Removed => {
                    not_in_team.push(Value::String(sel.raw().to_owned()))
                }
                Some(idx) => found.push(idx),
            }
        }
        if !not_found.is_empty() {
            return Err(RouteError::with_value(
                "users_not_found",
                Value::Array(not_found),
            ));
        }
        if !not_in_team.is_empty() {
            return Err(RouteError::with_value(
                "members_not_in_team",
                Value::Array(not_in_team),
            ));
        }
        Ok(found)
    }

    pub(crate) fn add_group_members(
        &mut self,
        selector: &GroupSelector,
        members: &[(UserSelector, AccessType)],
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        let group = &self.groups[gidx];
        if group.management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let resolved = self.resolve_for_group(members.iter().map(|(s, _)| s))?;
        let mut seen = BTreeSet::new();
        let mut managers_refused = Vec::new();
        for (&idx, (sel, access)) in resolved.iter().zip(members) {
            if group.members.contains_key(&idx) || !seen.insert(idx) {
                return Err(RouteError::tag("duplicate_user"));
            }
            if *access == AccessType::Owner {
                if group.management_type == ManagementType::CompanyManaged {
                    managers_refused.push(Value::String(sel.raw().to_owned()));
                } else if self.members[idx].status != MemberStatus::Active {
                    return Err(RouteError::tag("user_must_be_active_to_be_owner"));
                }
            }
        }
        if !managers_refused.is_empty() {
            return Err(RouteError::with_value(
                "user_cannot_be_manager_of_company_managed_group",
                Value::Array(managers_refused),
            ));
        }
        for (idx, (_, access)) in resolved.into_iter().zip(members) {
            self.join_group(gidx, idx, *access);
        }
        Ok(gidx)
    }

    pub(crate) fn remove_group_members(
        &mut self,
        selector: &GroupSelector,
        users: &[UserSelector],
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        if self.groups[gidx].management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let resolved = self.resolve_for_group(users.iter())?;
        if resolved
            .iter()
            .any(|idx| !self.groups[gidx].members.contains_key(idx))
        {
            return Err(RouteError::tag("member_not_in_group"));
        }
        for idx in resolved {
            self.groups[gidx].members.remove(&idx);
            self.members[idx].groups.remove(&gidx);
        }
        Ok(gidx)
    }

    /// A page of live groups, from position `start`.
    pub(crate) fn groups_page(&self, start: usize, limit: usize) -> Page {
        let mut items = Vec::new();
        let mut pos = start.min(self.groups.len());
        while pos < self.groups.len() && items.len() < limit {
            if !self.groups[pos].deleted {
                items.push(pos);
            }
            pos += 1;
        }
        let has_more = self.groups[pos..].iter().any(|g| !g.deleted);
        Page {
            items,
            next: pos,
            has_more,
        }
    }

    /// A page of a group's members, from member position `start`.
    pub(crate) fn group_members_page(&self, gidx: usize, start: usize, limit: usize) -> Page {
        let mut iter = self.groups[gidx]
            .members
            .range(start..)
            .map(|(&idx, _)| idx);
        let items: Vec<usize> = iter.by_ref().take(limit).collect();
        let after = iter.next();
        let next = items.last().map_or(start, |&last| last + 1);
        Page {
            items,
            next,
            has_more: after.is_some(),
        }
    }

    // ----- async jobs ------------------------------------------------------------------------

    /// Records a finished job whose first polls answer `in_progress`; returns its id.
    pub(crate) fn launch_job(&mut self, kind: JobKind, complete: Value) -> String {
        let id = format!("dbjid:AA{}", self.ids.token(33));
        self.jobs.insert(
            id.clone(),
            Job {
                kind,
                polls_left: self.job_polls_in_progress,
                complete,
            },
        );
        id
    }

    /// Polls a job of the given kind: `in_progress`, then its result; `invalid_async_job_id`
    /// for unknown ids and ids of another route's jobs.
    pub(crate) fn poll_job(&mut self, kind: JobKind, id: &str) -> Result<Value, RouteError> {
        match self.jobs.get_mut(id) {
            Some(job) if job.kind == kind => {
                if job.polls_left > 0 {
                    job.polls_left -= 1;
                    Ok(json!({".tag": "in_progress"}))
                } else {
                    Ok(job.complete.clone())
                }
            }
            _ => Err(RouteError::tag("invalid_async_job_id")),
        }
    }

    // ----- rendering ------------------------------------------------------------------------

    /// `MemberProfile`, or `TeamMemberProfile` (adds groups and folder ids) when `team_profile`,
    /// as a borrowed serde view (no `Value` tree: list pages render 1000 of these).
    pub(crate) fn profile_view(&self, idx: usize, team_profile: bool) -> ProfileView<'_> {
        let m = &self.members[idx];
        ProfileView {
            team_member_id: &m.team_member_id,
            email: &m.email,
            email_verified: m.status != MemberStatus::Invited,
            status: StatusView {
                tag: m.status.tag(),
                is_recoverable: (m.status == MemberStatus::Removed).then_some(m.recoverable),
                is_disconnected: (m.status == MemberStatus::Removed).then_some(m.disconnected),
            },
            name: NameView::new(&m.given_name, &m.surname),
            membership_type: TagView { tag: "full" },
            secondary_emails: [],
            external_id: m.external_id.as_deref(),
            account_id: (m.status != MemberStatus::Invited).then_some(m.account_id.as_str()),
            invited_on: m.invited_on.map(wire::timestamp),
            joined_on: m.joined_on.map(wire::timestamp),
            suspended_on: m.suspended_on.map(wire::timestamp),
            is_directory_restricted: m.is_directory_restricted,
            groups: team_profile.then(|| {
                m.groups
                    .iter()
                    .map(|&g| self.groups[g].group_id.as_str())
                    .collect()
            }),
            member_folder_id: team_profile.then_some(m.member_folder_id.as_str()),
            root_folder_id: team_profile.then_some(m.root_folder_id.as_str()),
        }
    }

    pub(crate) fn profile_json(&self, idx: usize, team_profile: bool) -> Value {
        serde_json::to_value(self.profile_view(idx, team_profile)).unwrap_or(Value::Null)
    }

    /// `TeamMemberInfoV2` as a borrowed serde view, optionally inlined after a union tag.
    pub(crate) fn member_info_view(
        &self,
        tag: Option<&'static str>,
        idx: usize,
    ) -> MemberInfoView<'_> {
        MemberInfoView {
            tag,
            profile: self.profile_view(idx, true),
            roles: if self.members[idx].is_admin {
                &TEAM_ADMIN_ROLE[..]
            } else {
                &[]
            },
        }
    }

    /// `TeamMemberInfoV2` = `{profile, roles}`.
    pub(crate) fn member_info_v2(&self, idx: usize) -> Value {
        serde_json::to_value(self.member_info_view(None, idx)).unwrap_or(Value::Null)
    }

    /// The same fields inlined after a union tag (`{".tag": tag, "profile":..., "roles":...}`).
    pub(crate) fn tagged_member_info_v2(&self, tag: &'static str, idx: usize) -> Value {
        serde_json::to_value(self.member_info_view(Some(tag), idx)).unwrap_or(Value::Null)
    }

    pub(crate) fn group_summary(&self, gidx: usize) -> Value {
        let g = &self.groups[gidx];
        let mut v = json!({
            "group_name": g.name,
            "group_id": g.group_id,
            "member_count": g.members.len(),
            "group_management_type": {".tag": g.management_type.tag()},
        });
        if let (Some(ext), Some(obj)) = (&g.external_id, v.as_object_mut()) {
            obj.insert("group_external_id".into(), json!(ext));
        }
        v
    }

    /// `GroupMemberInfo` = `{profile: MemberProfile, access_type}`.
    pub(crate) fn group_member_info(&self, gidx: usize, idx: usize) -> Value {
        let access = self.groups[gidx]
            .members
            .get(&idx)
            .copied()
            .unwrap_or_default();
        json!({"profile": self.profile_json(idx, false), "access_type": {".tag": access.tag()}})
    }

    /// `GroupFullInfo`; `members` only when asked for (`return_members`).
    pub(crate) fn group_full_info(&self, gidx: usize, with_members: bool) -> Value {
        let mut v = self.group_summary(gidx);
        if let Some(obj) = v.as_object_mut() {
            if with_members {
                let members: Vec<Value> = self.groups[gidx]
                    .members
                    .keys()
                    .map(|&idx| self.group_member_info(gidx, idx))
                    .collect();
                obj.insert("members".into(), Value::Array(members));
            }
            obj.insert(
                "created".into(),
                json!(wire::epoch_millis(self.groups[gidx].created)),
            );
        }
        v
    }

    pub(crate) fn members_cursor(
        &self,
        next: usize,
        include_removed: bool,
        limit: usize,
    ) -> String {
        let (a, b, c) = (next as u64, u64::from(include_removed), limit as u64);
        Cursor {
            kind: "members",
            generation: self.generation,
            a,
            b,
            c,
        }
        .encode()
    }

    pub(crate) fn groups_cursor(&self, next: usize, limit: usize) -> String {
        Cursor {
            kind: "groups",
            generation: self.generation,
            a: next as u64,
            b: limit as u64,
            c: 0,
        }
        .encode()
    }

    pub(crate) fn group_members_cursor(&self, gidx: usize, next: usize, limit: usize) -> String {
        let (a, b, c) = (gidx as u64, next as u64, limit as u64);
        Cursor {
            kind: "group_members",
            generation: self.generation,
            a,
            b,
            c,
        }
        .encode()
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
