//! The lifecycle table (DESIGN §3) for every member teamsync manages: where its source id stands
//! in the directory decides whether it is updated, unsuspended, recovered, suspended, removed,
//! its invitation withdrawn, or left as it is.

use crate::model::{Email, MemberRef, MemberStatus, TeamMember};
use crate::plan::{Action, IdleUser, Observed, Phase, WarningKind};
use crate::policy::{InvitedDeprovision, LeaveAction, RemovalTransfer};
use crate::store::{ProfileChange, RemoveMode, RemoveOptions};

use super::index::NONE;
use super::names::{apply_change, describe_change, locator};
use super::{Planner, Seat, UserPlan};

/// Where a managed member's source id stands in the directory.
#[derive(Debug, Clone, Copy)]
enum Standing {
    Held,
    Enabled(usize),
    Disabled(usize),
    /// Out of user scope; the directory user, when it still exists.
    OutOfScope(Option<usize>),
    Deleted,
}

impl<'a> Planner<'a> {
    fn standing_of_user(&self, ui: usize) -> Standing {
        if self.in_scope[ui] {
            return match self.user_plans[ui] {
                UserPlan::Held | UserPlan::OutOfScope => Standing::Held,
                UserPlan::Disabled => Standing::Disabled(ui),
                UserPlan::Enabled { .. } => Standing::Enabled(ui),
            };
        }
        self.standing_of_id(self.d.users[ui].id.as_str(), Some(ui))
    }

    fn standing_of_id(&self, id: &str, user: Option<usize>) -> Standing {
        let Some(entry) = self.dir.find(id) else {
            return Standing::OutOfScope(user);
        };
        if entry.held {
            Standing::Held
        } else if entry.deleted {
            Standing::Deleted
        } else {
            Standing::OutOfScope(user)
        }
    }

    /// Every managed member through the lifecycle table.
    pub(super) fn plan_managed_members(&mut self) {
        let mut managed: Vec<(u32, Standing)> = Vec::with_capacity(self.stats.managed_members);
        for ui in 0..self.team.member_of_user.len() {
            let mi = self.team.member_of_user[ui];
            if mi != NONE {
                managed.push((mi, self.standing_of_user(ui)));
            }
        }
        for i in 0..self.team.orphans.len() {
            let source = self.team.orphans[i];
            let Some(entry) = self.dir.find(source) else {
                continue;
            };
            managed.push((entry.orphan, self.standing_of_id(source, None)));
        }
        // A member whose address belongs to a directory entry the source could not read is held
        // too: that entry may be this member's.
        if self.emails.any_held {
            for (mi, standing) in &mut managed {
                if self.emails.entry(self.team.member_email[*mi as usize]).held {
                    *standing = Standing::Held;
                }
            }
        }
        self.seats = vec![Seat::None; self.d.users.len()];
        // Invitations withdrawn by this plan free their addresses before anything else runs.
        for (mi, standing) in &managed {
            let m = self.member(*mi);
            let leaving = matches!(
                standing,
                Standing::Disabled(_) | Standing::OutOfScope(_) | Standing::Deleted
            );
            if leaving && self.will_withdraw(m) {
                let e = self.team.member_email[*mi as usize];
                self.emails.entry_mut(e).released = true;
                self.team.flags[*mi as usize].leaving_groups = true;
            }
        }
        // The managed groups of the members leaving scope, for their reasons.
        let mut leaving = vec![false; self.a.members.len()];
        for (mi, standing) in &managed {
            leaving[*mi as usize] = matches!(standing, Standing::OutOfScope(_));
        }
        let groups_of_leavers = self.team_groups.groups_of(&leaving);
        drop(leaving);
        for (mi, standing) in managed {
            let m = self.member(mi);
            match standing {
                Standing::Held => {
                    let flags = &mut self.team.flags[mi as usize];
                    flags.frozen = true;
                    flags.seated = true;
                    if !m.status.is_removed() {
                        let source = m.external_id.as_deref().unwrap_or_default();
                        self.warn(
                            WarningKind::HeldMember,
                            m.email.as_str(),
                            format!(
                                "the directory entry for {source} has a problem (see the warnings above); this member is left as it is"
                            ),
                        );
                    }
                }
                Standing::Enabled(ui) => self.plan_enabled_member(ui, mi),
                Standing::Disabled(ui) => self.plan_disabled_member(ui, mi),
                Standing::OutOfScope(user) => {
                    let why = self.left_scope_reason(
                        mi,
                        groups_of_leavers.get(&mi).map_or(&[], Vec::as_slice),
                        user,
                    );
                    self.plan_leaver(mi, self.p.on_leave, &why);
                }
                Standing::Deleted => {
                    self.plan_leaver(mi, self.p.on_delete, "deleted in the directory")
                }
            }
        }
    }

    /// teamsync's own name for a managed member: its external id.
    pub(super) fn own_ref(m: &TeamMember) -> MemberRef {
        MemberRef::ExternalId(m.external_id.clone().unwrap_or_default())
    }

    fn plan_enabled_member(&mut self, ui: usize, mi: u32) {
        let UserPlan::Enabled {
            email,
            given_name,
            surname,
        } = self.user_plans[ui].clone()
        else {
            return;
        };
        let m = self.member(mi);
        let u = &self.d.users[ui];
        match m.status {
            MemberStatus::Active => {
                self.update_profile_if_needed(
                    m,
                    email,
                    &given_name,
                    &surname,
                    "the directory changed",
                );
            }
            MemberStatus::Invited => {
                let change = self.profile_change(m, email, &given_name, &surname, false);
                if !change.is_empty() {
                    self.warn(
                        WarningKind::DeferredUpdate,
                        m.email.as_str(),
                        "the directory profile changed, but the member has not accepted the invitation yet; updated once they do",
                    );
                }
            }
            MemberStatus::Suspended => {
                let before = Observed::of_member(m);
                let after = before.with_status(MemberStatus::Active);
                self.push(
                    Phase::Provision,
                    Action::Unsuspend {
                        member: Self::own_ref(m),
                        external_id: m.external_id.clone(),
                    },
                    m.email.to_string(),
                    before,
                    after,
                    format!("enabled and in scope in the directory ({})", locator(u)),
                );
                self.update_profile_if_needed(
                    m,
                    email,
                    &given_name,
                    &surname,
                    "the directory changed while suspended",
                );
            }
            MemberStatus::Removed { recoverable: true } => {
                let holder = self
                    .emails
                    .entry(self.team.member_email[mi as usize])
                    .holder();
                if let Some(holder) = holder {
                    let holder = self.member(holder);
                    self.warn(
                        WarningKind::EmailTaken,
                        m.email.as_str(),
                        format!(
                            "cannot recover: the email is now used by team member {}",
                            holder.team_member_id
                        ),
                    );
                    return;
                }
                let before = Observed::of_member(m);
                let after = before.with_status(MemberStatus::Active);
                self.push(
                    Phase::Provision,
                    Action::Recover {
                        member: MemberRef::TeamMemberId(m.team_member_id.clone()),
                        external_id: m.external_id.clone().unwrap_or_default(),
                    },
                    m.email.to_string(),
                    before,
                    after,
                    format!("back in scope in the directory ({}); the removed member is still recoverable", locator(u)),
                );
                self.update_profile_if_needed(
                    m,
                    email,
                    &given_name,
                    &surname,
                    "the directory changed while removed",
                );
            }
            MemberStatus::Removed { recoverable: false } => {
                // No longer recoverable: treated like a user with no member.
                return;
            }
        }
        self.seats[ui] = Seat::Member(mi);
        self.team.flags[mi as usize].seated = true;
    }

    fn plan_disabled_member(&mut self, ui: usize, mi: u32) {
        let m = self.member(mi);
        let u = &self.d.users[ui];
        match m.status {
            MemberStatus::Active => {
                let reason = format!("disabled in the directory ({})", locator(u));
                if !self.deprovision(mi, LeaveAction::Suspend, reason) {
                    return;
                }
            }
            MemberStatus::Invited => {
                if self
                    .withdraw_invitation(mi, &format!("disabled in the directory ({})", locator(u)))
                {
                    return;
                }
            }
            MemberStatus::Suspended => self.idle.push(IdleUser::new(
                m.email.as_str(),
                locator(u),
                "already suspended",
            )),
            MemberStatus::Removed { .. } => return,
        }
        // A disabled account is suspended, which is reversible: its group memberships are kept
        // as they are, neither added to (no seat) nor taken away (frozen).
        let flags = &mut self.team.flags[mi as usize];
        flags.seated = true;
        flags.frozen = true;
    }

    fn plan_leaver(&mut self, mi: u32, action: LeaveAction, why: &str) {
        let m = self.member(mi);
        match m.status {
            MemberStatus::Active => {
                self.deprovision(mi, action, why.to_owned());
            }
            MemberStatus::Invited => {
                self.withdraw_invitation(mi, why);
            }
            MemberStatus::Suspended if action == LeaveAction::Remove => {
                self.deprovision(mi, action, format!("{why}; already suspended"));
            }
            MemberStatus::Suspended | MemberStatus::Removed { .. } => {}
        }
    }

    /// Plans a suspension or removal, unless the member is a protected admin. Returns true when
    /// the member stays on the team (suspended or protected).
    fn deprovision(&mut self, mi: u32, action: LeaveAction, reason: String) -> bool {
        let m = self.member(mi);
        let target = m.email.to_string();
        if m.is_admin && !self.p.deprovision_admins {
            self.warn(
                WarningKind::AdminProtected,
                target,
                format!(
                    "would be {} ({reason}), but team admins are only deprovisioned with deprovision_admins = true; left as it is, group memberships included",
                    match action {
                        LeaveAction::Suspend => "suspended",
                        LeaveAction::Remove => "removed",
                    }
                ),
            );
            // Protected means untouched: no group membership is taken away either.
            let flags = &mut self.team.flags[mi as usize];
            flags.frozen = true;
            flags.seated = true;
            return true;
        }
        let member = Self::own_ref(m);
        let before = Observed::of_member(m);
        match action {
            LeaveAction::Suspend => {
                let after = before.with_status(MemberStatus::Suspended);
                self.push(
                    Phase::Deprovision,
                    Action::Suspend {
                        member,
                        wipe_data: self.p.wipe_data,
                    },
                    target,
                    before,
                    after,
                    reason,
                );
                true
            }
            LeaveAction::Remove => {
                let mode = match &self.p.transfer {
                    RemovalTransfer::None => RemoveMode::Plain,
                    RemovalTransfer::Transfer { dest, admin } => RemoveMode::Transfer {
                        dest: dest.clone(),
                        admin: admin.clone(),
                    },
                    RemovalTransfer::KeepAccount => RemoveMode::KeepAccount,
                };
                let after = before.with_status(MemberStatus::Removed { recoverable: true });
                let options = RemoveOptions {
                    wipe_data: self.p.remove_wipes(),
                    mode,
                };
                self.team.flags[mi as usize].leaving_groups = true;
                self.push(
                    Phase::Deprovision,
                    Action::Remove { member, options },
                    target,
                    before,
                    after,
                    reason,
                );
                false
            }
        }
    }

    /// Whether an invitation of someone who should not join is withdrawn.
    fn will_withdraw(&self, m: &TeamMember) -> bool {
        m.status == MemberStatus::Invited
            && self.p.on_invited_deprovision == InvitedDeprovision::RemoveInvitation
            && (!m.is_admin || self.p.deprovision_admins)
    }

    /// Withdraws an invitation per `on_invited_deprovision`. Returns true when it is withdrawn.
    fn withdraw_invitation(&mut self, mi: u32, why: &str) -> bool {
        let m = self.member(mi);
        if self.p.on_invited_deprovision == InvitedDeprovision::Leave {
            return false;
        }
        if !self.will_withdraw(m) {
            self.warn(
                WarningKind::AdminProtected,
                m.email.as_str(),
                format!("invitation kept ({why}): team admins are protected"),
            );
            return false;
        }
        let before = Observed::of_member(m);
        let after = before.with_status(MemberStatus::Removed { recoverable: false });
        self.push(
            Phase::Withdraw,
            Action::Remove {
                member: Self::own_ref(m),
                options: RemoveOptions {
                    wipe_data: false,
                    mode: RemoveMode::Plain,
                },
            },
            m.email.to_string(),
            before,
            after,
            format!("{why}; the invitation is withdrawn"),
        );
        true
    }

    /// The profile fields that differ; an address another member holds is reported, not changed.
    pub(super) fn profile_change(
        &mut self,
        m: &TeamMember,
        email: u32,
        given_name: &str,
        surname: &str,
        report_taken: bool,
    ) -> ProfileChange {
        let mut change = ProfileChange::default();
        let entry = *self.emails.entry(email);
        let address = self.emails.text(email);
        // An address several directory users claim is taken by none of them (reported once).
        if m.email.as_str() != address && !entry.colliding && !self.created_only(0) {
            let taken_by = entry
                .holder()
                .or((entry.reserved != NONE).then_some(entry.reserved))
                .map(|i| self.member(i));
            match taken_by {
                Some(other) if other.team_member_id != m.team_member_id => {
                    if report_taken {
                        let message = format!(
                            "the directory's new email {address} belongs to team member {}; the email is not changed",
                            other.team_member_id
                        );
                        self.warn(WarningKind::EmailTaken, m.email.as_str(), message);
                    }
                }
                _ => change.email = Email::parse(address).ok(),
            }
        }
        if !given_name.is_empty() && m.given_name != given_name && !self.created_only(1) {
            change.given_name = Some(given_name.to_owned());
        }
        if !surname.is_empty() && m.surname != surname && !self.created_only(2) {
            change.surname = Some(surname.to_owned());
        }
        change
    }

    fn update_profile_if_needed(
        &mut self,
        m: &TeamMember,
        email: u32,
        given_name: &str,
        surname: &str,
        why: &str,
    ) {
        // Nearly every member is in step: nothing differs, so nothing can change or be reported.
        if m.email.as_str() == self.emails.text(email)
            && (given_name.is_empty() || m.given_name == given_name)
            && (surname.is_empty() || m.surname == surname)
        {
            return;
        }
        let change = self.profile_change(m, email, given_name, surname, true);
        if change.is_empty() {
            return;
        }
        let before = Observed::of_member(m);
        let after = apply_change(&before, &change);
        let reason = format!(
            "{why}: {}{}",
            describe_change(m, &change),
            self.mapping_note(&change)
        );
        self.push(
            Phase::Profiles,
            Action::UpdateProfile {
                member: Self::own_ref(m),
                change,
            },
            m.email.to_string(),
            before,
            after,
            reason,
        );
    }

    /// How group operations name a member teamsync owns or is adopting; `None` for the others.
    pub(super) fn owned_ref(&self, mi: u32) -> Option<MemberRef> {
        let m = self.member(mi);
        let flags = self.team.flags[mi as usize];
        if flags.adopted {
            // Named by Dropbox id: it has no external id of ours until its adoption has run.
            return Some(MemberRef::TeamMemberId(m.team_member_id.clone()));
        }
        flags.owned.then(|| Self::own_ref(m))
    }

    /// "left the directory's user scope", with the scope rule that took the user out, or else the
    /// path the member was in scope by when the team's managed groups still show it: "was in
    /// Dropbox Users via Backend → Platform; Platform is no longer in Backend".
    fn left_scope_reason(&self, mi: u32, team_groups: &[u32], user: Option<usize>) -> String {
        const PLAIN: &str = "left the directory's user scope";
        // A scope rule that took the user out says more than the groups it was in.
        if let Some(rule) = self.scope_rule_exclusion(mi) {
            return format!("{PLAIN}: {rule}");
        }
        let Some(lost) = self.lost_path(team_groups, user) else {
            return PLAIN.to_owned();
        };
        format!("{PLAIN}: {lost}")
    }
}
