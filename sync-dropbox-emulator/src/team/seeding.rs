//! The team: seeding and snapshots.

#[allow(unused_imports)]
use super::*;

impl Team {
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
}
