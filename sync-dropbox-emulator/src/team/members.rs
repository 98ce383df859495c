//! The team: members: operations.

#[allow(unused_imports)]
use super::*;

impl Team {
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
}
