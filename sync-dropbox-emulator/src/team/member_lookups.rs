//! The team: members: lookups and counts.

#[allow(unused_imports)]
use super::*;

impl Team {
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

    pub(super) fn licence_available(&self) -> bool {
        self.license_limit.is_none_or(|limit| self.licensed < limit)
    }

    /// Changes a member's status, keeping the licence and admin counters right.
    pub(super) fn set_status(&mut self, idx: usize, status: MemberStatus) {
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

    pub(super) fn insert_member(
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
}
