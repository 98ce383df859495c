//! The directory's users: the problems its snapshot reports (duplicates, cycles, unreadable
//! entries), who is in user scope, and which in-scope users can be planned — with a usable
//! address, cleaned names, and no address shared with another user.

use std::borrow::Cow;

use rustc_hash::FxHashSet;

use crate::plan::WarningKind;
use crate::text::quoted;

use super::index::NONE;
use super::names::{clean_name_part, locator, normalize_email};
use super::scope::{Components, Reach};
use super::{Planner, UserPlan};

impl<'a> Planner<'a> {
    /// Warnings for what the snapshot itself says is wrong.
    pub(super) fn report_directory(&mut self) {
        let d = self.d;
        let mut reported: FxHashSet<&str> = FxHashSet::default();
        for (first, dup) in std::mem::take(&mut self.dir.duplicate_users) {
            let u = &d.users[dup as usize];
            if !reported.insert(u.id.as_str()) {
                continue;
            }
            let (a, b) = (locator(&d.users[first as usize]), locator(u));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            self.warn(
                WarningKind::DuplicateUserId,
                u.id.as_str(),
                format!("two directory users have id {} ({a}; {b}); neither is changed until one is fixed", u.id),
            );
        }
        let mut reported: FxHashSet<&str> = FxHashSet::default();
        for dup in std::mem::take(&mut self.dir.duplicate_groups) {
            let g = &d.groups[dup as usize];
            if !reported.insert(g.id.as_str()) {
                continue;
            }
            self.warn(
                WarningKind::DuplicateGroupId,
                g.id.as_str(),
                format!(
                    "two directory groups have id {}; the group is not synced until one is fixed",
                    g.id
                ),
            );
        }
        let components = Components::of(&self.dir);
        let mut cycles: Vec<Vec<String>> = components
            .cycles(&self.dir)
            .map(|c| c.iter().map(|&g| self.group_label(g)).collect())
            .collect();
        for names in &mut cycles {
            names.sort_unstable();
            let message = if names.len() == 1 {
                "the group contains itself; tolerated (its people count once)".to_owned()
            } else {
                format!(
                    "these {} groups contain each other in a cycle: {}; tolerated (their people count once)",
                    names.len(),
                    names.join(", ")
                )
            };
            self.warn(WarningKind::GroupCycle, names[0].clone(), message);
        }
        self.components = Some(components);
        for issue in self.issues() {
            self.warn(
                WarningKind::SourceIssue,
                issue.entry.clone(),
                issue.problem.clone(),
            );
        }
    }

    /// Marks the users reachable from the user roots.
    pub(super) fn compute_user_scope(&mut self) {
        let d = self.d;
        for root in &d.user_roots {
            if self.dir.group_of(root.as_str()).is_none() {
                self.warn(
                    WarningKind::UnknownRoot,
                    root.as_str(),
                    "this user root group is not in the directory snapshot",
                );
            }
        }
        self.user_reach = Reach::from(d, &self.dir, &d.user_roots);
        self.in_scope = vec![false; d.users.len()];
        let mut count = 0;
        for &g in &self.user_reach.order {
            for node in self.dir.members(g) {
                if let Some(u) = node.as_user() {
                    let seen = &mut self.in_scope[u as usize];
                    count += usize::from(!*seen);
                    *seen = true;
                }
            }
        }
        self.stats.users_in_scope = count;
    }

    /// Decides for every in-scope user whether and how it can be planned; addresses several
    /// users claim are reported, and nobody takes them (a member that already has one keeps it).
    pub(super) fn classify_users(&mut self) {
        let d = self.d;
        let prefix_len = self.p.external_id_prefix.chars().count();
        let mut plans: Vec<UserPlan<'_>> = Vec::with_capacity(d.users.len());
        // Users claiming an address an earlier user claimed, by address entry.
        let mut shared: Vec<(u32, u32)> = Vec::new();
        for (i, u) in d.users.iter().enumerate() {
            if !self.in_scope[i] {
                plans.push(UserPlan::OutOfScope);
                continue;
            }
            if u.enabled {
                self.stats.users_enabled += 1;
            }
            if self.dir.user_held(i) {
                plans.push(UserPlan::Held);
                continue;
            }
            let id = u.id.as_str();
            // Bytes bound characters from above: count characters only for long ids.
            if prefix_len + id.len() > 64 && prefix_len + id.chars().count() > 64 {
                self.warn(
                    WarningKind::ExternalIdTooLong,
                    locator(u),
                    format!(
                        "the external id {}{} is longer than Dropbox's 64 characters; this user is skipped",
                        self.p.external_id_prefix, u.id
                    ),
                );
                plans.push(UserPlan::Held);
                continue;
            }
            if !u.enabled {
                plans.push(UserPlan::Disabled);
                continue;
            }
            let raw_email = self.user_email(i);
            // An address that is already its member's login email is valid and normalised
            // (an `Email`), and interned: nothing to check, nothing to hash.
            let mi = self.team.member_of_user[i];
            let known = (mi != NONE && self.member(mi).email.as_str() == raw_email)
                .then(|| self.team.member_email[mi as usize]);
            let email = match known.map_or_else(
                || normalize_email(raw_email),
                |_| Ok(Cow::Borrowed(raw_email)),
            ) {
                Ok(e) => e,
                Err(err) => {
                    self.warn(
                        WarningKind::InvalidEmail,
                        locator(u),
                        format!("{err}; this user is skipped"),
                    );
                    plans.push(UserPlan::Held);
                    continue;
                }
            };
            let (raw_given, raw_surname) = (self.user_field(i, 1), self.user_field(i, 2));
            let given_name = clean_name_part(raw_given);
            let surname = clean_name_part(raw_surname);
            for (raw, cleaned, which) in [
                (raw_given, &given_name, "given name"),
                (raw_surname, &surname, "surname"),
            ] {
                if matches!(cleaned, Cow::Owned(_)) {
                    self.warn(
                        WarningKind::NameCleaned,
                        email.to_string(),
                        format!("{which} {} is sent as {} (Dropbox allows 50 characters and none of / : ? * < > \" |)", quoted(raw), quoted(cleaned)),
                    );
                }
            }
            let e = match known {
                Some(e) => e,
                None => self.emails.intern(email),
            };
            let entry = self.emails.entry_mut(e);
            if entry.first_user == NONE {
                entry.first_user = i as u32;
            } else {
                entry.colliding = true;
                shared.push((e, i as u32));
            }
            plans.push(UserPlan::Enabled {
                email: e,
                given_name,
                surname,
            });
        }
        self.user_plans = plans;
        self.report_collisions(shared);
        // Entries the source could not read hold the member with their address.
        for issue in self.issues() {
            if let Some(Ok(address)) = issue.email.as_deref().map(normalize_email) {
                let e = self.emails.intern(address);
                self.emails.entry_mut(e).held = true;
                self.emails.any_held = true;
            }
        }
    }

    fn report_collisions(&mut self, mut shared: Vec<(u32, u32)>) {
        if shared.is_empty() {
            return;
        }
        let d = self.d;
        shared.sort_unstable();
        let mut start = 0;
        while start < shared.len() {
            let e = shared[start].0;
            let end = start + shared[start..].iter().take_while(|(x, _)| *x == e).count();
            let first = self.emails.entry(e).first_user;
            let users: Vec<u32> = std::iter::once(first)
                .chain(shared[start..end].iter().map(|&(_, u)| u))
                .collect();
            let mut names: Vec<String> = users
                .iter()
                .map(|&ui| locator(&d.users[ui as usize]))
                .collect();
            names.sort_unstable();
            let email = self.emails.text(e).to_owned();
            self.warn(
                WarningKind::EmailCollision,
                email,
                format!(
                    "{} directory users share this email ({}); none of them is invited, a user already on the team keeps its account",
                    users.len(),
                    names.join("; ")
                ),
            );
            start = end;
        }
    }

    /// Whether directory user `ui` is enabled, planned, and claims an address nobody else does.
    pub(super) fn user_collides(&self, ui: usize) -> bool {
        match &self.user_plans[ui] {
            UserPlan::Enabled { email, .. } => self.emails.entry(*email).colliding,
            _ => false,
        }
    }

    /// The group's label for reasons: its name.
    pub(super) fn group_name(&self, g: u32) -> &'a str {
        self.dir_group_name(g).trim()
    }

    /// How reports name a directory group: its locator, else its name.
    fn group_label(&self, g: u32) -> String {
        let group = &self.d.groups[g as usize];
        group
            .locator
            .clone()
            .unwrap_or_else(|| self.dir_group_name(g).to_owned())
    }
}
