//! The team: rendering.

#[allow(unused_imports)]
use super::*;

impl Team {
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
