//! In-memory [`TeamStore`] and [`Directory`] for tests, examples and the Python binding.
//!
//! [`MemoryTeam`] follows the Dropbox rules the planner relies on: emails and external ids are
//! unique among members that hold them, invited members cannot be suspended, group names are
//! unique (ignoring case), removed members stay recoverable, group member changes are all or
//! nothing. Faults can be injected per call.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use rustc_hash::FxHashMap;

use crate::model::{
    ActualState, DesiredState, Email, GroupRef, ManagementType, MemberRef, MemberStatus, TeamGroup,
    TeamMember,
};
use crate::planner::NAME_PART_MAX;
use crate::store::{
    Directory, DirectoryError, GroupChange, NewMember, ProfileChange, RemoveMode, RemoveOptions,
    StoreError, StoreLimits, TeamStore,
};

/// The store calls, for fault rules and call counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Call {
    /// `snapshot`
    Snapshot,
    /// `invite` (counted per call, faults matched per member)
    Invite,
    /// `set_profile`
    SetProfile,
    /// `suspend`
    Suspend,
    /// `unsuspend`
    Unsuspend,
    /// `remove`
    Remove,
    /// `recover`
    Recover,
    /// `create_group`
    CreateGroup,
    /// `update_group`
    UpdateGroup,
    /// `delete_group`
    DeleteGroup,
    /// `add_group_members`
    AddGroupMembers,
    /// `remove_group_members`
    RemoveGroupMembers,
}

/// An injected failure: the next `times` calls of `call` whose subject contains `subject` (an
/// email, external id or group name; empty matches all) fail with `error`.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Which call.
    pub call: Call,
    /// Substring of the subject to match.
    pub subject: String,
    /// How many times it fires.
    pub times: usize,
    /// What the call returns.
    pub error: StoreError,
}

#[derive(Debug, Default)]
struct Team {
    members: Vec<Option<TeamMember>>,
    by_id: FxHashMap<String, usize>,
    /// Live members and removed ones that can still be recovered hold their email and external id.
    by_email: FxHashMap<Email, usize>,
    by_external: FxHashMap<String, usize>,
    groups: Vec<Option<TeamGroup>>,
    group_by_id: FxHashMap<String, usize>,
    next_member: u64,
    next_group: u64,
    license_limit: Option<usize>,
    faults: Vec<Fault>,
    calls: BTreeMap<Call, usize>,
}

/// A Dropbox team in memory.
#[derive(Debug, Default)]
pub struct MemoryTeam {
    team: Mutex<Team>,
    limits: StoreLimits,
}

fn holds_identity(status: MemberStatus) -> bool {
    status != MemberStatus::Removed { recoverable: false }
}

impl MemoryTeam {
    /// An empty team.
    pub fn new() -> Self {
        Self::default()
    }

    /// A team holding `state`.
    pub fn with_state(state: ActualState) -> Self {
        let team = Self::new();
        team.replace_state(state);
        team
    }

    /// Uses other batch limits.
    pub fn with_limits(mut self, limits: StoreLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Caps live members (invited, active, suspended) like a license count.
    pub fn set_license_limit(&self, limit: Option<usize>) {
        self.lock().license_limit = limit;
    }

    /// Replaces the whole team.
    pub fn replace_state(&self, state: ActualState) {
        let mut t = self.lock();
        let (license_limit, faults) = (t.license_limit, std::mem::take(&mut t.faults));
        *t = Team {
            license_limit,
            faults,
            ..Team::default()
        };
        for m in state.members {
            t.insert_member(m);
        }
        for g in state.groups {
            t.insert_group(g);
        }
    }

    /// The team now, sorted by id (removed members included).
    pub fn state(&self) -> ActualState {
        let t = self.lock();
        let mut members: Vec<TeamMember> = t.members.iter().flatten().cloned().collect();
        members.sort_by(|a, b| a.team_member_id.cmp(&b.team_member_id));
        let mut groups: Vec<TeamGroup> = t.groups.iter().flatten().cloned().collect();
        groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        ActualState { members, groups }
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Calls made so far, per call kind.
    pub fn calls(&self) -> BTreeMap<Call, usize> {
        self.lock().calls.clone()
    }

    /// Write calls made so far (everything but `snapshot`).
    pub fn write_calls(&self) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|(c, _)| **c != Call::Snapshot)
            .map(|(_, n)| n)
            .sum()
    }

    /// Makes every removed member unrecoverable, as Dropbox does after a few days.
    pub fn expire_removed(&self) {
        let mut t = self.lock();
        let ids: Vec<usize> = t
            .members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                m.as_ref()
                    .filter(|m| m.status == MemberStatus::Removed { recoverable: true })
                    .map(|_| i)
            })
            .collect();
        for i in ids {
            t.set_status(i, MemberStatus::Removed { recoverable: false });
        }
    }

    fn lock(&self) -> MutexGuard<'_, Team> {
        self.team.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Team {
    fn count(&mut self, call: Call) {
        *self.calls.entry(call).or_insert(0) += 1;
    }

    fn fault(&mut self, call: Call, subject: &str) -> Result<(), StoreError> {
        if let Some(f) = self
            .faults
            .iter_mut()
            .find(|f| f.call == call && f.times > 0 && subject.contains(&f.subject))
        {
            f.times -= 1;
            return Err(f.error.clone());
        }
        Ok(())
    }

    fn insert_member(&mut self, m: TeamMember) -> usize {
        let i = self.members.len();
        self.by_id.insert(m.team_member_id.clone(), i);
        if holds_identity(m.status) {
            self.by_email.insert(m.email.clone(), i);
            if let Some(x) = &m.external_id {
                self.by_external.insert(x.clone(), i);
            }
        }
        self.members.push(Some(m));
        i
    }

    fn insert_group(&mut self, g: TeamGroup) {
        self.group_by_id
            .insert(g.group_id.clone(), self.groups.len());
        self.groups.push(Some(g));
    }

    fn member(&self, i: usize) -> &TeamMember {
        self.members[i]
            .as_ref()
            .expect("index points at a live slot")
    }

    fn member_mut(&mut self, i: usize) -> &mut TeamMember {
        self.members[i]
            .as_mut()
            .expect("index points at a live slot")
    }

    fn set_status(&mut self, i: usize, status: MemberStatus) {
        let m = self.member_mut(i);
        m.status = status;
        let (email, external) = (m.email.clone(), m.external_id.clone());
        if holds_identity(status) {
            self.by_email.insert(email, i);
            if let Some(x) = external {
                self.by_external.insert(x, i);
            }
        } else {
            if self.by_email.get(&email) == Some(&i) {
                self.by_email.remove(&email);
            }
            if let Some(x) = external {
                if self.by_external.get(&x) == Some(&i) {
                    self.by_external.remove(&x);
                }
            }
        }
    }

    fn live_count(&self) -> usize {
        self.members
            .iter()
            .flatten()
            .filter(|m| !m.status.is_removed())
            .count()
    }

    fn resolve(&self, r: &MemberRef) -> Result<usize, StoreError> {
        let found = match r {
            MemberRef::TeamMemberId(id) => self.by_id.get(id).copied(),
            MemberRef::ExternalId(x) => self.by_external.get(x).copied(),
            MemberRef::Email(e) => self.by_email.get(e).copied(),
        };
        found
            .filter(|&i| self.members[i].is_some())
            .ok_or_else(|| StoreError::not_found("user_not_found", format!("no team member {r}")))
    }

    fn resolve_group(&self, r: &GroupRef) -> Result<usize, StoreError> {
        let found = match r {
            GroupRef::GroupId(id) => self.group_by_id.get(id).copied(),
            GroupRef::ExternalId(x) => self.groups.iter().position(|g| {
                g.as_ref()
                    .is_some_and(|g| g.external_id.as_deref() == Some(x))
            }),
        };
        found
            .filter(|&i| self.groups[i].is_some())
            .ok_or_else(|| StoreError::not_found("group_not_found", format!("no group {r}")))
    }

    fn group_name_taken(&self, name: &str, except: Option<usize>) -> bool {
        let lower = name.to_lowercase();
        self.groups.iter().enumerate().any(|(i, g)| {
            Some(i) != except && g.as_ref().is_some_and(|g| g.name.to_lowercase() == lower)
        })
    }

    fn group_external_taken(&self, external_id: &str, except: Option<usize>) -> bool {
        self.groups.iter().enumerate().any(|(i, g)| {
            Some(i) != except
                && g.as_ref()
                    .is_some_and(|g| g.external_id.as_deref() == Some(external_id))
        })
    }

    fn invite_one(&mut self, n: &NewMember) -> Result<(), StoreError> {
        self.fault(Call::Invite, &format!("{} {}", n.email, n.external_id))?;
        for part in [&n.given_name, &n.surname] {
            if part.chars().count() > NAME_PART_MAX
                || part.contains(['/', ':', '?', '*', '<', '>', '"', '|'])
            {
                return Err(StoreError::permanent(format!(
                    "invalid name part {}",
                    crate::text::quoted(part)
                ))
                .with_code("bad_request"));
            }
        }
        if self.by_email.contains_key(&n.email) {
            return Err(StoreError::conflict(
                "user_already_on_team",
                format!("{} is already on the team", n.email),
            ));
        }
        if n.external_id.chars().count() > 64 {
            return Err(
                StoreError::permanent("external id longer than 64 characters")
                    .with_code("bad_request"),
            );
        }
        if self.by_external.contains_key(&n.external_id) {
            return Err(StoreError::conflict(
                "duplicate_external_member_id",
                format!("external id {} is in use", n.external_id),
            ));
        }
        if self
            .license_limit
            .is_some_and(|limit| self.live_count() >= limit)
        {
            return Err(StoreError::conflict(
                "team_license_limit",
                "the team has no free license",
            ));
        }
        self.next_member += 1;
        let m = TeamMember {
            team_member_id: format!("dbmid:mem{:06}", self.next_member),
            email: n.email.clone(),
            external_id: Some(n.external_id.clone()),
            given_name: n.given_name.clone(),
            surname: n.surname.clone(),
            status: MemberStatus::Invited,
            is_admin: false,
        };
        self.insert_member(m);
        Ok(())
    }

    fn set_profile(&mut self, r: &MemberRef, change: &ProfileChange) -> Result<(), StoreError> {
        let i = self.resolve(r)?;
        self.fault(
            Call::SetProfile,
            &format!(
                "{} {}",
                self.member(i).email,
                self.member(i).external_id.as_deref().unwrap_or("")
            ),
        )?;
        if change.is_empty() {
            return Err(
                StoreError::permanent("no new data specified").with_code("no_new_data_specified")
            );
        }
        // MembersSetProfileError: selecting by external id while changing it is refused.
        if matches!(r, MemberRef::ExternalId(_)) && change.external_id.is_some() {
            return Err(StoreError::permanent(
                "it is unsafe to use both external_id and new_external_id",
            )
            .with_code("external_id_and_new_external_id_unsafe"));
        }
        if self.member(i).status.is_removed() {
            return Err(StoreError::conflict(
                "set_profile_disallowed",
                "modifying deleted users is not allowed",
            ));
        }
        if let Some(e) = &change.email {
            if self.by_email.get(e).is_some_and(|&j| j != i) {
                return Err(StoreError::conflict(
                    "email_reserved_for_other_user",
                    format!("{e} belongs to another member"),
                ));
            }
        }
        if let Some(x) = &change.external_id {
            if self.by_external.get(x).is_some_and(|&j| j != i) {
                return Err(StoreError::conflict(
                    "external_id_used_by_other_user",
                    format!("external id {x} is in use"),
                ));
            }
        }
        for part in [&change.given_name, &change.surname].into_iter().flatten() {
            if part.chars().count() > NAME_PART_MAX
                || part.contains(['/', ':', '?', '*', '<', '>', '"', '|'])
            {
                return Err(StoreError::permanent(format!(
                    "invalid name part {}",
                    crate::text::quoted(part)
                ))
                .with_code("bad_request"));
            }
        }
        let old = self.member(i).clone();
        if let Some(e) = &change.email {
            self.by_email.remove(&old.email);
            self.by_email.insert(e.clone(), i);
        }
        if let Some(x) = &change.external_id {
            if let Some(old_x) = &old.external_id {
                self.by_external.remove(old_x);
            }
            self.by_external.insert(x.clone(), i);
        }
        let m = self.member_mut(i);
        if let Some(e) = &change.email {
            m.email = e.clone();
        }
        if let Some(g) = &change.given_name {
            m.given_name = g.clone();
        }
        if let Some(s) = &change.surname {
            m.surname = s.clone();
        }
        if let Some(x) = &change.external_id {
            m.external_id = Some(x.clone());
        }
        Ok(())
    }

    fn subject(&self, i: usize) -> String {
        let m = self.member(i);
        format!("{} {}", m.email, m.external_id.as_deref().unwrap_or(""))
    }

    fn drop_from_groups(&mut self, i: usize) {
        let id = self.member(i).team_member_id.clone();
        for g in self.groups.iter_mut().flatten() {
            g.members.retain(|m| m != &id);
        }
    }
}

#[async_trait]
impl TeamStore for MemoryTeam {
    fn limits(&self) -> StoreLimits {
        self.limits
    }

    async fn snapshot(&self) -> Result<ActualState, StoreError> {
        {
            let mut t = self.lock();
            t.count(Call::Snapshot);
            t.fault(Call::Snapshot, "")?;
        }
        Ok(self.state())
    }

    async fn invite(&self, members: &[NewMember]) -> Vec<Result<(), StoreError>> {
        let mut t = self.lock();
        t.count(Call::Invite);
        if members.len() > self.limits.invites_per_call {
            let e = StoreError::permanent(format!(
                "at most {} invitations per call",
                self.limits.invites_per_call
            ));
            return members.iter().map(|_| Err(e.clone())).collect();
        }
        members.iter().map(|n| t.invite_one(n)).collect()
    }

    async fn set_profile(
        &self,
        member: &MemberRef,
        change: &ProfileChange,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::SetProfile);
        t.set_profile(member, change)
    }

    async fn suspend(&self, member: &MemberRef, wipe_data: bool) -> Result<(), StoreError> {
        let _ = wipe_data;
        let mut t = self.lock();
        t.count(Call::Suspend);
        let i = t.resolve(member)?;
        let subject = t.subject(i);
        t.fault(Call::Suspend, &subject)?;
        if t.member(i).status != MemberStatus::Active {
            return Err(StoreError::conflict(
                "suspend_inactive_user",
                "the user is not active, so it cannot be suspended",
            ));
        }
        t.set_status(i, MemberStatus::Suspended);
        Ok(())
    }

    async fn unsuspend(&self, member: &MemberRef) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::Unsuspend);
        let i = t.resolve(member)?;
        let subject = t.subject(i);
        t.fault(Call::Unsuspend, &subject)?;
        if t.member(i).status != MemberStatus::Suspended {
            return Err(StoreError::conflict(
                "unsuspend_non_suspended_member",
                "the user is not suspended",
            ));
        }
        t.set_status(i, MemberStatus::Active);
        Ok(())
    }

    async fn remove(&self, member: &MemberRef, options: &RemoveOptions) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::Remove);
        let i = t.resolve(member)?;
        let subject = t.subject(i);
        t.fault(Call::Remove, &subject)?;
        let status = t.member(i).status;
        if status.is_removed() {
            return Err(StoreError::not_found(
                "user_not_in_team",
                "the user is not on the team",
            ));
        }
        if options.mode == RemoveMode::KeepAccount && options.wipe_data {
            return Err(
                StoreError::permanent("keep_account needs wipe_data = false")
                    .with_code("cannot_keep_account_and_delete_data"),
            );
        }
        if let RemoveMode::Transfer { dest, admin } = &options.mode {
            let d = t.resolve(dest).map_err(|_| {
                StoreError::not_found(
                    "transfer_dest_user_not_found",
                    "transfer destination not found",
                )
            })?;
            let a = t.resolve(admin).map_err(|_| {
                StoreError::not_found("transfer_admin_user_not_found", "transfer admin not found")
            })?;
            if d == i {
                return Err(StoreError::conflict(
                    "removed_and_transfer_dest_should_differ",
                    "cannot transfer to the removed member",
                ));
            }
            if !t.member(a).is_admin {
                return Err(StoreError::conflict(
                    "transfer_admin_is_not_admin",
                    "transfer admin is not an admin",
                ));
            }
        }
        t.drop_from_groups(i);
        if status == MemberStatus::Invited {
            if options.mode == RemoveMode::KeepAccount {
                return Err(StoreError::conflict(
                    "cannot_keep_invited_user_account",
                    "cannot keep an invited user's account",
                ));
            }
            // Withdrawing an invitation leaves nothing behind.
            t.set_status(i, MemberStatus::Removed { recoverable: false });
            let id = t.member(i).team_member_id.clone();
            t.by_id.remove(&id);
            t.members[i] = None;
        } else {
            t.set_status(i, MemberStatus::Removed { recoverable: true });
        }
        Ok(())
    }

    async fn recover(&self, member: &MemberRef) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::Recover);
        let i = t.resolve(member)?;
        let subject = t.subject(i);
        t.fault(Call::Recover, &subject)?;
        if t.member(i).status != (MemberStatus::Removed { recoverable: true }) {
            return Err(StoreError::conflict(
                "user_unrecoverable",
                "the user cannot be recovered",
            ));
        }
        if t.license_limit.is_some_and(|limit| t.live_count() >= limit) {
            return Err(StoreError::conflict(
                "team_license_limit",
                "the team has no free license",
            ));
        }
        t.set_status(i, MemberStatus::Active);
        Ok(())
    }

    async fn create_group(&self, name: &str, external_id: &str) -> Result<String, StoreError> {
        let mut t = self.lock();
        t.count(Call::CreateGroup);
        t.fault(Call::CreateGroup, &format!("{name} {external_id}"))?;
        if name.trim().is_empty() {
            return Err(
                StoreError::permanent("group name is empty").with_code("group_name_invalid")
            );
        }
        if t.group_name_taken(name, None) {
            return Err(StoreError::conflict(
                "group_name_already_used",
                format!("a group named {} exists", crate::text::quoted(name)),
            ));
        }
        if t.group_external_taken(external_id, None) {
            return Err(StoreError::conflict(
                "external_id_already_in_use",
                format!("external id {external_id} is in use"),
            ));
        }
        t.next_group += 1;
        let id = format!("g:mem{:06}", t.next_group);
        t.insert_group(TeamGroup {
            group_id: id.clone(),
            name: name.to_owned(),
            external_id: Some(external_id.to_owned()),
            management_type: ManagementType::CompanyManaged,
            members: Vec::new(),
        });
        Ok(id)
    }

    async fn update_group(&self, group: &GroupRef, change: &GroupChange) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::UpdateGroup);
        let gi = t.resolve_group(group)?;
        let g = t.groups[gi]
            .clone()
            .unwrap_or_else(|| unreachable!("resolved"));
        t.fault(
            Call::UpdateGroup,
            &format!("{} {}", g.name, g.external_id.as_deref().unwrap_or("")),
        )?;
        if g.management_type == ManagementType::SystemManaged {
            return Err(StoreError::conflict(
                "system_managed_group_disallowed",
                "system-managed groups cannot be changed",
            ));
        }
        if let Some(name) = &change.name {
            if name.trim().is_empty() {
                return Err(
                    StoreError::permanent("group name is empty").with_code("group_name_invalid")
                );
            }
            if t.group_name_taken(name, Some(gi)) {
                return Err(StoreError::conflict(
                    "group_name_already_used",
                    format!("a group named {} exists", crate::text::quoted(name)),
                ));
            }
        }
        if let Some(x) = &change.external_id {
            if t.group_external_taken(x, Some(gi)) {
                return Err(StoreError::conflict(
                    "external_id_already_in_use",
                    format!("external id {x} is in use"),
                ));
            }
        }
        if let Some(g) = t.groups[gi].as_mut() {
            if let Some(name) = &change.name {
                g.name = name.clone();
            }
            if let Some(x) = &change.external_id {
                g.external_id = Some(x.clone());
            }
            if let Some(mt) = change.management_type {
                g.management_type = mt;
            }
        }
        Ok(())
    }

    async fn delete_group(&self, group: &GroupRef) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.count(Call::DeleteGroup);
        let gi = t.resolve_group(group)?;
        let g = t.groups[gi]
            .clone()
            .unwrap_or_else(|| unreachable!("resolved"));
        t.fault(
            Call::DeleteGroup,
            &format!("{} {}", g.name, g.external_id.as_deref().unwrap_or("")),
        )?;
        if g.management_type == ManagementType::SystemManaged {
            return Err(StoreError::conflict(
                "system_managed_group_disallowed",
                "system-managed groups cannot be deleted",
            ));
        }
        t.group_by_id.remove(&g.group_id);
        t.groups[gi] = None;
        Ok(())
    }

    async fn add_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let (gi, ids) = t.group_change(Call::AddGroupMembers, self.limits, group, members, true)?;
        let g = t.groups[gi]
            .as_mut()
            .unwrap_or_else(|| unreachable!("resolved"));
        if ids.iter().any(|id| g.members.contains(id)) {
            return Err(StoreError::conflict(
                "duplicate_user",
                "a member is already in the group",
            ));
        }
        g.members.extend(ids);
        Ok(())
    }

    async fn remove_group_members(
        &self,
        group: &GroupRef,
        members: &[MemberRef],
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let (gi, ids) =
            t.group_change(Call::RemoveGroupMembers, self.limits, group, members, false)?;
        let g = t.groups[gi]
            .as_mut()
            .unwrap_or_else(|| unreachable!("resolved"));
        if ids.iter().any(|id| !g.members.contains(id)) {
            // Not found, as the Dropbox adapter classifies it: the membership named does not exist.
            return Err(StoreError::not_found(
                "member_not_in_group",
                "a member is not in the group",
            ));
        }
        g.members.retain(|m| !ids.contains(m));
        Ok(())
    }
}

impl Team {
    /// The checks both group member changes share: batch size, the group, each member (live
    /// members only when adding), system-managed groups. Returns the group and the member ids.
    fn group_change(
        &mut self,
        call: Call,
        limits: StoreLimits,
        group: &GroupRef,
        members: &[MemberRef],
        adding: bool,
    ) -> Result<(usize, Vec<String>), StoreError> {
        self.count(call);
        if members.len() > limits.group_members_per_call {
            return Err(StoreError::permanent("too many members in one call"));
        }
        let gi = self.resolve_group(group)?;
        let mut ids = Vec::with_capacity(members.len());
        for r in members {
            let i = self.resolve(r).map_err(|_| {
                StoreError::not_found("users_not_found", format!("no team member {r}"))
            })?;
            let subject = self.subject(i);
            self.fault(call, &subject)?;
            if adding && self.member(i).status.is_removed() {
                return Err(StoreError::not_found(
                    "members_not_in_team",
                    format!("{r} is not on the team"),
                ));
            }
            ids.push(self.member(i).team_member_id.clone());
        }
        if self.groups[gi]
            .as_ref()
            .is_some_and(|g| g.management_type == ManagementType::SystemManaged)
        {
            return Err(StoreError::conflict(
                "system_managed_group_disallowed",
                "system-managed groups cannot be changed",
            ));
        }
        Ok((gi, ids))
    }
}

/// A directory in memory: returns the state it holds, or the error it was told to fail with.
#[derive(Debug)]
pub struct MemoryDirectory {
    state: Mutex<Result<DesiredState, DirectoryError>>,
}

impl MemoryDirectory {
    /// A directory holding `state`.
    pub fn new(state: DesiredState) -> Self {
        Self {
            state: Mutex::new(Ok(state)),
        }
    }

    /// Replaces what the next snapshot returns.
    pub fn set(&self, state: Result<DesiredState, DirectoryError>) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
