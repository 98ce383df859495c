//! Provision on demand: the part of a plan that concerns named people, so a new hire can be on
//! the team seconds after HR adds them, without a full apply. Same rules, policy and guard: the
//! full plan is made, then restricted.

use std::collections::BTreeSet;

use crate::model::{ActualState, DesiredState, GroupRef, MemberRef};
use crate::plan::{Action, Plan, WarningKind};

/// People `--only` names that neither the directory nor the team knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no directory user or team member has the email or directory id {}; nothing was planned for anyone", .unknown.join(", "))]
#[non_exhaustive]
pub struct OnlyError {
    /// The names as given.
    pub unknown: Vec<String>,
}

/// Whom the restricted plan concerns, in every way an operation can name them.
#[derive(Default)]
struct People {
    external_ids: BTreeSet<String>,
    team_member_ids: BTreeSet<String>,
    emails: BTreeSet<String>,
    subjects: BTreeSet<String>,
}

impl People {
    fn names(&self, member: &MemberRef) -> bool {
        match member {
            MemberRef::ExternalId(x) => self.external_ids.contains(x),
            MemberRef::TeamMemberId(id) => self.team_member_ids.contains(id),
            MemberRef::Email(e) => self.emails.contains(e.as_str()),
        }
    }
}

impl Plan {
    /// This plan restricted to `people`, each an email or a directory id: their invite,
    /// recovery, unsuspension, profile update or adoption, suspension or removal, their group
    /// memberships, and the groups those memberships need created or adopted; nothing else.
    /// Operations keep their order; the guard counts what is left. Warnings and idle entries
    /// about these people are kept, the others dropped.
    ///
    /// `desired` and `actual` must be what the plan was made from. A name that matches nobody
    /// is an error, so a typo never passes for "nothing to do".
    pub fn only(
        &self,
        people: &[&str],
        desired: &DesiredState,
        actual: &ActualState,
    ) -> Result<Plan, OnlyError> {
        let prefix = self.external_id_prefix.as_str();
        let mut who = People::default();
        let mut unknown = Vec::new();
        for raw in people {
            let name = raw.trim();
            let email = name.to_ascii_lowercase();
            let mut found = false;
            for u in &desired.users {
                if u.id.as_str() == name || u.email.trim().eq_ignore_ascii_case(name) {
                    found = true;
                    who.external_ids.insert(format!("{prefix}{}", u.id));
                    who.subjects
                        .insert(u.locator.clone().unwrap_or_else(|| format!("id {}", u.id)));
                    who.subjects.insert(u.email.trim().to_ascii_lowercase());
                }
            }
            for m in &actual.members {
                let by_id = m
                    .external_id
                    .as_deref()
                    .and_then(|x| x.strip_prefix(prefix))
                    == Some(name);
                if by_id || m.email.as_str() == email {
                    found = true;
                    who.team_member_ids.insert(m.team_member_id.clone());
                    if let Some(x) = &m.external_id {
                        who.external_ids.insert(x.clone());
                    }
                }
            }
            // An address a mapping gave.
            for op in &self.operations {
                if let Action::Invite { member } = &op.action {
                    if member.email.as_str() == email {
                        found = true;
                        who.external_ids.insert(member.external_id.clone());
                    }
                }
            }
            if found {
                who.emails.insert(email);
            } else {
                unknown.push(name.to_owned());
            }
        }
        if !unknown.is_empty() {
            return Err(OnlyError { unknown });
        }
        // Members this plan takes over or recovers are named by their Dropbox id.
        for op in &self.operations {
            match &op.action {
                Action::AdoptMember {
                    member: MemberRef::TeamMemberId(id),
                    change,
                } if change
                    .external_id
                    .as_ref()
                    .is_some_and(|x| who.external_ids.contains(x)) =>
                {
                    who.team_member_ids.insert(id.clone());
                }
                Action::Recover {
                    member: MemberRef::TeamMemberId(id),
                    external_id,
                } if who.external_ids.contains(external_id) => {
                    who.team_member_ids.insert(id.clone());
                }
                _ => {}
            }
        }
        for id in &who.team_member_ids {
            if let Some(m) = actual.members.iter().find(|m| &m.team_member_id == id) {
                who.emails.insert(m.email.as_str().to_owned());
                who.subjects.insert(m.email.as_str().to_owned());
            }
        }

        let mut keep: Vec<bool> = self
            .operations
            .iter()
            .map(|op| match &op.action {
                Action::Invite { member } => who.external_ids.contains(&member.external_id),
                other => other.member().is_some_and(|m| who.names(m)),
            })
            .collect();
        // The groups the kept memberships need.
        let mut groups: BTreeSet<&GroupRef> = BTreeSet::new();
        for (op, &kept) in self.operations.iter().zip(&keep) {
            if let (true, Action::AddGroupMember { group, .. }) = (kept, &op.action) {
                groups.insert(group);
            }
        }
        for (op, kept) in self.operations.iter().zip(keep.iter_mut()) {
            match &op.action {
                Action::CreateGroup { external_id, .. } => {
                    *kept = groups.contains(&GroupRef::ExternalId(external_id.clone()))
                }
                Action::AdoptGroup { group, .. } => *kept = groups.contains(group),
                _ => {}
            }
        }

        let operations: Vec<_> = self
            .operations
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(op, _)| op.clone())
            .collect();
        let mut guard = self.guard;
        guard.deprovisions = operations
            .iter()
            .filter(|op| op.action.is_deprovision())
            .count();
        guard.group_member_removals = operations
            .iter()
            .filter(|op| matches!(op.action, Action::RemoveGroupMember { .. }))
            .count();
        let warnings = self
            .warnings
            .iter()
            .filter(|w| {
                if w.kind == WarningKind::GuardLimit {
                    guard.needs_permission()
                } else {
                    who.subjects.contains(&w.subject)
                }
            })
            .cloned()
            .collect();
        let idle = self
            .idle
            .iter()
            .filter(|i| who.subjects.contains(&i.subject))
            .cloned()
            .collect();
        Ok(Plan {
            format_version: self.format_version,
            external_id_prefix: self.external_id_prefix.clone(),
            operations,
            warnings,
            idle,
            guard,
            stats: self.stats,
            origin: self.origin.clone(),
        })
    }
}
