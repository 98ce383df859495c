//! The team: groups.

#[allow(unused_imports)]
use super::*;

impl Team {
    pub(super) fn insert_group(
        &mut self,
        name: &str,
        external_id: Option<&str>,
        management_type: ManagementType,
        now: SystemTime,
    ) -> usize {
        let gidx = self.groups.len();
        let group_id = format!("g:{}", self.ids.hex(32));
        self.group_by_id.insert(group_id.clone(), gidx);
        self.group_by_name.insert(name.to_lowercase(), gidx);
        if let Some(ext) = external_id {
            self.group_by_external_id.insert(ext.to_owned(), gidx);
        }
        self.groups.push(Group {
            group_id,
            name: name.to_owned(),
            external_id: external_id.map(str::to_owned),
            management_type,
            members: BTreeMap::new(),
            created: now,
            deleted: false,
        });
        gidx
    }

    pub(super) fn join_group(&mut self, gidx: usize, idx: usize, access: AccessType) {
        self.groups[gidx].members.insert(idx, access);
        self.members[idx].groups.insert(gidx);
    }

    /// Resolves a group selector to a live group (`group_not_found` otherwise).
    pub(crate) fn find_group(&self, selector: &GroupSelector) -> Result<usize, RouteError> {
        let gidx = match selector {
            GroupSelector::GroupId(id) => self.group_by_id.get(id).copied(),
            GroupSelector::ExternalId(ext) => self.group_by_external_id.get(ext).copied(),
        };
        match gidx {
            Some(g) if !self.groups[g].deleted => Ok(g),
            _ => Err(RouteError::tag("group_not_found")),
        }
    }

    pub(super) fn check_group_name(
        &self,
        name: &str,
        except: Option<usize>,
    ) -> Result<(), RouteError> {
        if name.trim().is_empty() || name.chars().count() > 255 {
            return Err(RouteError::tag("group_name_invalid"));
        }
        // Uniqueness ignores case (the spec is silent; Dropbox's admin console behaves so).
        if self
            .group_by_name
            .get(&name.to_lowercase())
            .is_some_and(|&g| Some(g) != except)
        {
            return Err(RouteError::tag("group_name_already_used"));
        }
        Ok(())
    }

    pub(crate) fn create_group(
        &mut self,
        name: &str,
        external_id: Option<&str>,
        management_type: Option<ManagementType>,
        now: SystemTime,
    ) -> Result<usize, RouteError> {
        self.check_group_name(name, None)?;
        if external_id.is_some_and(|e| self.group_by_external_id.contains_key(e)) {
            return Err(RouteError::tag("external_id_already_in_use"));
        }
        let management_type = management_type.unwrap_or_default();
        if management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        Ok(self.insert_group(name, external_id, management_type, now))
    }

    pub(crate) fn update_group(
        &mut self,
        selector: &GroupSelector,
        new_name: Option<&str>,
        new_external_id: Option<&str>,
        new_management_type: Option<ManagementType>,
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        if self.groups[gidx].management_type == ManagementType::SystemManaged
            || new_management_type == Some(ManagementType::SystemManaged)
        {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        if let Some(name) = new_name {
            self.check_group_name(name, Some(gidx))?;
        }
        if let Some(ext) = new_external_id.filter(|e| !e.is_empty()) {
            if self
                .group_by_external_id
                .get(ext)
                .is_some_and(|&g| g != gidx)
            {
                return Err(RouteError::tag("external_id_already_in_use"));
            }
        }
        if let Some(name) = new_name {
            let old = std::mem::replace(&mut self.groups[gidx].name, name.to_owned());
            self.group_by_name.remove(&old.to_lowercase());
            self.group_by_name.insert(name.to_lowercase(), gidx);
        }
        if let Some(ext) = new_external_id {
            // An empty new_group_external_id clears it (GroupUpdateArgs doc).
            if let Some(old) = self.groups[gidx].external_id.take() {
                self.group_by_external_id.remove(&old);
            }
            if !ext.is_empty() {
                self.groups[gidx].external_id = Some(ext.to_owned());
                self.group_by_external_id.insert(ext.to_owned(), gidx);
            }
        }
        if let Some(mt) = new_management_type {
            self.groups[gidx].management_type = mt;
        }
        Ok(gidx)
    }

    pub(crate) fn delete_group(&mut self, selector: &GroupSelector) -> Result<(), RouteError> {
        let gidx = match selector {
            GroupSelector::GroupId(id) => self.group_by_id.get(id).copied(),
            GroupSelector::ExternalId(ext) => self.group_by_external_id.get(ext).copied(),
        }
        .ok_or_else(|| RouteError::tag("group_not_found"))?;
        let group = &self.groups[gidx];
        if group.deleted {
            return Err(RouteError::tag("group_already_deleted"));
        }
        if group.management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let members = std::mem::take(&mut self.groups[gidx].members);
        for idx in members.keys() {
            self.members[*idx].groups.remove(&gidx);
        }
        let group = &mut self.groups[gidx];
        group.deleted = true;
        self.group_by_name.remove(&group.name.to_lowercase());
        if let Some(ext) = group.external_id.take() {
            self.group_by_external_id.remove(&ext);
        }
        Ok(())
    }

    /// Resolves the selectors of a group-membership change: `users_not_found` (unknown) and
    /// `members_not_in_team` (removed) list the identifiers as given.
    pub(super) fn resolve_for_group<'s>(
        &self,
        selectors: impl Iterator<Item = &'s UserSelector>,
    ) -> Result<Vec<usize>, RouteError> {
        let mut found = Vec::new();
        let mut not_found = Vec::new();
        let mut not_in_team = Vec::new();
        for sel in selectors {
            match self.find_member(sel) {
                None => not_found.push(Value::String(sel.raw().to_owned())),
                Some(idx) if self.members[idx].status == MemberStatus::Removed => {
                    not_in_team.push(Value::String(sel.raw().to_owned()))
                }
                Some(idx) => found.push(idx),
            }
        }
        if !not_found.is_empty() {
            return Err(RouteError::with_value(
                "users_not_found",
                Value::Array(not_found),
            ));
        }
        if !not_in_team.is_empty() {
            return Err(RouteError::with_value(
                "members_not_in_team",
                Value::Array(not_in_team),
            ));
        }
        Ok(found)
    }

    pub(crate) fn add_group_members(
        &mut self,
        selector: &GroupSelector,
        members: &[(UserSelector, AccessType)],
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        let group = &self.groups[gidx];
        if group.management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let resolved = self.resolve_for_group(members.iter().map(|(s, _)| s))?;
        let mut seen = BTreeSet::new();
        let mut managers_refused = Vec::new();
        for (&idx, (sel, access)) in resolved.iter().zip(members) {
            if group.members.contains_key(&idx) || !seen.insert(idx) {
                return Err(RouteError::tag("duplicate_user"));
            }
            if *access == AccessType::Owner {
                if group.management_type == ManagementType::CompanyManaged {
                    managers_refused.push(Value::String(sel.raw().to_owned()));
                } else if self.members[idx].status != MemberStatus::Active {
                    return Err(RouteError::tag("user_must_be_active_to_be_owner"));
                }
            }
        }
        if !managers_refused.is_empty() {
            return Err(RouteError::with_value(
                "user_cannot_be_manager_of_company_managed_group",
                Value::Array(managers_refused),
            ));
        }
        for (idx, (_, access)) in resolved.into_iter().zip(members) {
            self.join_group(gidx, idx, *access);
        }
        Ok(gidx)
    }

    pub(crate) fn remove_group_members(
        &mut self,
        selector: &GroupSelector,
        users: &[UserSelector],
    ) -> Result<usize, RouteError> {
        let gidx = self.find_group(selector)?;
        if self.groups[gidx].management_type == ManagementType::SystemManaged {
            return Err(RouteError::tag("system_managed_group_disallowed"));
        }
        let resolved = self.resolve_for_group(users.iter())?;
        if resolved
            .iter()
            .any(|idx| !self.groups[gidx].members.contains_key(idx))
        {
            return Err(RouteError::tag("member_not_in_group"));
        }
        for idx in resolved {
            self.groups[gidx].members.remove(&idx);
            self.members[idx].groups.remove(&gidx);
        }
        Ok(gidx)
    }

    /// A page of live groups, from position `start`.
    pub(crate) fn groups_page(&self, start: usize, limit: usize) -> Page {
        let mut items = Vec::new();
        let mut pos = start.min(self.groups.len());
        while pos < self.groups.len() && items.len() < limit {
            if !self.groups[pos].deleted {
                items.push(pos);
            }
            pos += 1;
        }
        let has_more = self.groups[pos..].iter().any(|g| !g.deleted);
        Page {
            items,
            next: pos,
            has_more,
        }
    }

    /// A page of a group's members, from member position `start`.
    pub(crate) fn group_members_page(&self, gidx: usize, start: usize, limit: usize) -> Page {
        let mut iter = self.groups[gidx]
            .members
            .range(start..)
            .map(|(&idx, _)| idx);
        let items: Vec<usize> = iter.by_ref().take(limit).collect();
        let after = iter.next();
        let next = items.last().map_or(start, |&last| last + 1);
        Page {
            items,
            next,
            has_more: after.is_some(),
        }
    }
}
