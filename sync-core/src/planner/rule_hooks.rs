//! Where the planner consults the policy's rules ([`crate::rules`]): each hook is a no-op
//! without rules, so plans without rules are exactly as before.

use super::Planner;
use crate::plan::WarningKind;
use crate::store::ProfileChange;
use crate::text::quoted;

impl<'a> Planner<'a> {
    /// Directory user `ui`'s email, as mapped.
    pub(super) fn user_email(&self, ui: usize) -> &'a str {
        self.user_field(ui, 0)
    }

    /// Directory user `ui`'s email, given name or surname (by `field_slot`), as mapped.
    pub(super) fn user_field(&self, ui: usize, slot: usize) -> &'a str {
        if let Some(mapped) = self
            .rules
            .and_then(|e| e.fields.get(ui))
            .and_then(|f| f[slot].as_deref())
        {
            return mapped;
        }
        let u = &self.d.users[ui];
        match slot {
            0 => &u.email,
            1 => &u.given_name,
            _ => &u.surname,
        }
    }

    /// Directory group `g`'s name, as the group_name rule gives it.
    pub(super) fn dir_group_name(&self, g: u32) -> &'a str {
        self.rules
            .and_then(|e| e.group_names.get(g as usize))
            .and_then(Option::as_deref)
            .unwrap_or(&self.d.groups[g as usize].name)
    }

    /// Groups a rule failed for are held like groups with a duplicated id.
    pub(super) fn hold_rule_groups(&mut self) {
        let Some(effects) = self.rules else { return };
        for id in &effects.held_groups {
            self.dir.hold_group(id.as_str());
        }
    }

    /// The scope rule that took the user of managed member `mi` out of scope, with why.
    pub(super) fn scope_rule_exclusion(&self, mi: u32) -> Option<&'a str> {
        let effects = self.rules?;
        if effects.excluded_users.is_empty() {
            return None;
        }
        let source = self
            .member(mi)
            .external_id
            .as_deref()?
            .strip_prefix(self.p.external_id_prefix.as_str())?;
        effects.excluded_users.get(source).map(String::as_str)
    }

    /// Whether profile field `slot` (email, given name, surname) is mapped `on_create`, so an
    /// existing member's is never changed.
    pub(super) fn created_only(&self, slot: usize) -> bool {
        self.rules.is_some_and(|e| e.on_create[slot])
    }

    /// Names the mappings behind a profile change, for its reason.
    pub(super) fn mapping_note(&self, change: &ProfileChange) -> String {
        let Some(effects) = self.rules else {
            return String::new();
        };
        effects.mapping_note([
            change.email.is_some(),
            change.given_name.is_some(),
            change.surname.is_some(),
        ])
    }

    /// Names the group_name rule in a group's reason.
    pub(super) fn group_name_note(&self) -> &'static str {
        if self.rules.is_some_and(|e| e.group_named) {
            " (named by the group_name rule)"
        } else {
            ""
        }
    }

    /// Drops the synced groups the group rules exclude.
    pub(super) fn drop_rule_excluded_groups(&self, synced: &mut Vec<u32>) {
        let Some(effects) = self.rules else { return };
        if effects.excluded_groups.is_empty() {
            return;
        }
        synced.retain(|&g| {
            !effects
                .excluded_groups
                .contains_key(self.d.groups[g as usize].id.as_str())
        });
    }

    /// Why a managed group is no longer synced, when a group rule excluded it.
    pub(super) fn group_exclusion(&self, source: &str) -> Option<&'a str> {
        self.rules
            .and_then(|e| e.excluded_groups.get(source))
            .map(String::as_str)
    }

    pub(super) fn has_match_rules(&self) -> bool {
        self.rules.is_some_and(|e| !e.matchers.is_empty())
    }

    /// The match rules, in precedence order, for user `ui` who has no member of teamsync's.
    /// Returns true when the user is dealt with (adopted, or reported and not invited).
    pub(super) fn match_by_rules(
        &mut self,
        ui: usize,
        external_id: &str,
        email: u32,
        given_name: &str,
        surname: &str,
    ) -> bool {
        let Some(effects) = self.rules else {
            return false;
        };
        let holder = self.emails.entry(email).holder();
        for (name, values) in &effects.matchers {
            let found = match values {
                None => holder,
                Some(values) => values
                    .get(ui)
                    .and_then(Option::as_deref)
                    .and_then(|id| effects.members_by_external.get(id).copied()),
            };
            let Some(oi) = found else { continue };
            if self.team.flags[oi as usize].adopted {
                let m = self.member(oi);
                self.warn(
                    WarningKind::EmailTaken,
                    self.emails.text(email).to_owned(),
                    format!(
                        "match rule {} found team member {} ({}), which this plan already takes over for another user; not invited",
                        quoted(name),
                        m.team_member_id,
                        m.email
                    ),
                );
                return true;
            }
            match values {
                None => self.adopt_or_report(
                    ui,
                    oi,
                    external_id.to_owned(),
                    email,
                    given_name,
                    surname,
                    Some(name),
                ),
                Some(_) => {
                    let found_id = self.member(oi).external_id.as_deref().unwrap_or_default();
                    let how = format!(
                        "by match rule {} (external id {}); teamsync takes it over",
                        quoted(name),
                        quoted(found_id)
                    );
                    self.adopt(
                        ui,
                        oi,
                        external_id.to_owned(),
                        email,
                        given_name,
                        surname,
                        &how,
                    );
                }
            }
            return true;
        }
        if let Some(oi) = holder {
            let m = self.member(oi);
            self.warn(
                WarningKind::EmailTaken,
                self.emails.text(email).to_owned(),
                format!(
                    "the email belongs to team member {}, which no match rule matched; not invited",
                    m.team_member_id
                ),
            );
            return true;
        }
        false
    }
}
