//! Enabled in-scope users with no managed member: adopt the team member that has their address
//! (when the policy allows), or invite them. Disabled users who cause nothing are listed.

use crate::model::{Email, MemberRef, MemberStatus};
use crate::plan::{Action, IdleUser, Observed, Phase, WarningKind};
use crate::store::{NewMember, ProfileChange};
use crate::text::quoted;

use super::index::NONE;
use super::names::{apply_change, describe_change, locator};
use super::{Planner, Seat, UserPlan};

impl Planner<'_> {
    /// Invites or adopts every enabled in-scope user that has no member yet.
    pub(super) fn plan_new_users(&mut self) {
        let d = self.d;
        for ui in 0..d.users.len() {
            let mi = self.team.member_of_user[ui];
            let (email, given_name, surname) = match &self.user_plans[ui] {
                UserPlan::Enabled {
                    email,
                    given_name,
                    surname,
                } => (*email, given_name.clone(), surname.clone()),
                UserPlan::Disabled => {
                    if mi == NONE {
                        let u = &d.users[ui];
                        let email = self.user_email(ui).trim();
                        let subject = if email.is_empty() {
                            locator(u)
                        } else {
                            email.to_lowercase()
                        };
                        self.idle
                            .push(IdleUser::new(subject, locator(u), "never invited"));
                    }
                    continue;
                }
                _ => continue,
            };
            let has_member = mi != NONE
                && self.member(mi).status != (MemberStatus::Removed { recoverable: false });
            if has_member || self.user_collides(ui) {
                continue;
            }
            let u = &d.users[ui];
            let external_id = self.external_id(u.id.as_str());
            let entry = *self.emails.entry(email);
            if self.has_match_rules() {
                if self.match_by_rules(ui, &external_id, email, &given_name, &surname) {
                    continue;
                }
            } else if let Some(oi) = entry.holder() {
                self.adopt_or_report(ui, oi, external_id, email, &given_name, &surname, None);
                continue;
            }
            let address = self.emails.text(email).to_owned();
            if entry.reserved != NONE {
                let other = self.member(entry.reserved);
                self.warn(
                    WarningKind::EmailTaken,
                    address,
                    format!("the email belongs to removed member {} that can still be recovered; not invited (recover it or wait until it expires)", other.team_member_id),
                );
                continue;
            }
            let Ok(parsed) = Email::parse(&address) else {
                continue;
            };
            let new_member = NewMember {
                email: parsed.clone(),
                given_name: given_name.to_string(),
                surname: surname.to_string(),
                external_id: external_id.clone(),
                send_welcome_email: self.p.send_welcome_email,
            };
            let after = Observed::Member {
                email: parsed,
                given_name: given_name.to_string(),
                surname: surname.to_string(),
                external_id: Some(external_id),
                status: MemberStatus::Invited,
            };
            // An address freed by a withdrawn invitation is still held when the plan is made.
            let before = if entry.live == NONE {
                Observed::Absent
            } else {
                Observed::of_member(self.member(entry.live))
            };
            self.push(
                Phase::Provision,
                Action::Invite { member: new_member },
                address,
                before,
                after,
                format!(
                    "in scope in the directory ({}), not on the team",
                    locator(u)
                ),
            );
            self.seats[ui] = Seat::New;
        }
    }

    /// Adopts the member holding the user's email when the policy allows it; `rule` is the match
    /// rule that found it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn adopt_or_report(
        &mut self,
        ui: usize,
        oi: u32,
        external_id: String,
        email: u32,
        given_name: &str,
        surname: &str,
        rule: Option<&str>,
    ) {
        let o = self.member(oi);
        let prefix = self.p.external_id_prefix.as_str();
        let address = self.emails.text(email).to_owned();
        let allowed = match o.external_id.as_deref() {
            None if self.p.manage_existing_users => true,
            None => {
                self.warn(
                    WarningKind::UnmanagedMember,
                    address,
                    "a team member with this email has no external id and manage_existing_users is off; left alone",
                );
                false
            }
            Some(x) if x.starts_with(prefix) => {
                self.warn(
                    WarningKind::EmailTaken,
                    address,
                    format!("the email belongs to team member {} managed for another directory id ({x}); not invited", o.team_member_id),
                );
                false
            }
            Some(_) if self.p.adopt_foreign => true,
            Some(x) => {
                self.warn(
                    WarningKind::ForeignMember,
                    address,
                    format!(
                        "a team member with this email is managed by another tool (external id {}) and adopt_foreign is off; left alone",
                        quoted(x)
                    ),
                );
                false
            }
        };
        if !allowed {
            return;
        }
        let how = format!(
            "by email{}; teamsync takes it over ({})",
            rule.map(|r| format!(" (match rule {})", quoted(r)))
                .unwrap_or_default(),
            if o.external_id.is_some() {
                "adopt_foreign"
            } else {
                "manage_existing_users"
            }
        );
        self.adopt(ui, oi, external_id, email, given_name, surname, &how);
    }

    /// Takes over member `oi` for user `ui`: unsuspends it, sets its external id and profile;
    /// `how` says what found it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn adopt(
        &mut self,
        ui: usize,
        oi: u32,
        external_id: String,
        email: u32,
        given_name: &str,
        surname: &str,
        how: &str,
    ) {
        let o = self.member(oi);
        let u = &self.d.users[ui];
        let by_id = MemberRef::TeamMemberId(o.team_member_id.clone());
        let target = o.email.to_string();
        if o.status == MemberStatus::Suspended {
            let before = Observed::of_member(o);
            let after = before.with_status(MemberStatus::Active);
            self.push(
                Phase::Provision,
                Action::Unsuspend {
                    member: by_id.clone(),
                    external_id: None,
                },
                target.clone(),
                before,
                after,
                format!(
                    "adopted: enabled and in scope in the directory ({})",
                    locator(u)
                ),
            );
        }
        let mut change = if o.status == MemberStatus::Invited {
            ProfileChange::default()
        } else {
            self.profile_change(o, email, given_name, surname, true)
        };
        change.external_id = Some(external_id);
        let before = Observed::of_member(o);
        let after = apply_change(&before, &change);
        let profile = describe_change(o, &change);
        let reason = format!(
            "matches directory user {} {how}{}{}{}",
            locator(u),
            if profile.is_empty() { "" } else { ": " },
            profile,
            self.mapping_note(&change)
        );
        self.push(
            Phase::Profiles,
            Action::AdoptMember {
                member: by_id,
                change,
            },
            target,
            before,
            after,
            reason,
        );
        self.seats[ui] = Seat::Member(oi);
        let flags = &mut self.team.flags[oi as usize];
        flags.seated = true;
        flags.adopted = true;
    }
}
