//! The tenant's objects and the listings over them: `$select`, `$top`, server-chosen page sizes
//! and opaque `$skiptoken`s. Pure: no I/O, no clock.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::seed::{
    DEFAULT_USER_PROPERTIES, GROUP_PROPERTIES, SeedServicePrincipal, TenantSeed, USER_PROPERTIES,
};

/// A Graph error: HTTP status, `error.code`, `error.message`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl GraphError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(crate) fn not_found(id: &str) -> Self {
        Self::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
}

/// Which collection a request lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Listing {
    Users,
    Groups,
    Members,
    DeletedUsers,
    AppRoleAssignedTo,
}

impl Listing {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Listing::Users => "users",
            Listing::Groups => "groups",
            Listing::Members => "members",
            Listing::DeletedUsers => "deleted_users",
            Listing::AppRoleAssignedTo => "app_role_assigned_to",
        }
    }

    /// `@odata.context` after `$metadata#`.
    fn context(self, key: &str) -> String {
        match self {
            Listing::Users => "users".to_owned(),
            Listing::Groups => "groups".to_owned(),
            Listing::Members => "directoryObjects".to_owned(),
            Listing::DeletedUsers => "users".to_owned(),
            Listing::AppRoleAssignedTo => format!("servicePrincipals('{key}')/appRoleAssignedTo"),
        }
    }
}

/// The state a `$skiptoken` carries (base64url JSON: opaque to clients, stateless here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Which listing and whose (group or service principal id).
    pub(crate) l: Listing,
    pub(crate) k: String,
    /// Offset of the next item.
    pub(crate) o: usize,
    /// Page number of the page this token fetches (the first request is page 1).
    pub(crate) n: u32,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "RFNwdAoA{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    pub(crate) fn decode(token: &str) -> Option<Cursor> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.strip_prefix("RFNwdAoA")?)
            .ok()?;
        serde_json::from_slice(&raw).ok()
    }
}

/// One page of a listing.
pub(crate) struct Page {
    pub(crate) context: String,
    pub(crate) items: Vec<Value>,
    /// The cursor of the next page, when there is one.
    pub(crate) next: Option<Cursor>,
    /// The page number of this page.
    pub(crate) number: u32,
}

struct Group {
    object: Map<String, Value>,
    members: Vec<String>,
}

/// The tenant as the emulator holds it.
pub(crate) struct Tenant {
    pub(crate) tenant_id: String,
    users: Vec<Map<String, Value>>,
    user_index: HashMap<String, usize>,
    groups: Vec<Group>,
    group_index: HashMap<String, usize>,
    service_principals: Vec<SeedServicePrincipal>,
    deleted_users: Vec<Map<String, Value>>,
}

fn object_id(object: &Map<String, Value>) -> Option<&str> {
    object.get("id").and_then(Value::as_str)
}

impl Tenant {
    /// Builds a tenant from a seed; refuses objects without ids, duplicate ids and members or
    /// assignments naming nothing.
    pub(crate) fn from_seed(seed: &TenantSeed) -> Result<Tenant, String> {
        let mut ids = HashSet::new();
        let mut user_index = HashMap::new();
        for (i, user) in seed.users.iter().enumerate() {
            let id = object_id(user).ok_or_else(|| format!("user #{i} has no string \"id\""))?;
            if !ids.insert(id.to_owned()) {
                return Err(format!("duplicate object id {id}"));
            }
            user_index.insert(id.to_owned(), i);
        }
        let mut groups = Vec::with_capacity(seed.groups.len());
        let mut group_index = HashMap::new();
        for (i, g) in seed.groups.iter().enumerate() {
            if g.id.is_empty() {
                return Err(format!("group #{i} has no id"));
            }
            if !ids.insert(g.id.clone()) {
                return Err(format!("duplicate object id {}", g.id));
            }
            let mut object = g.properties.clone();
            object.insert("id".into(), json!(g.id));
            object.insert("displayName".into(), json!(g.display_name));
            group_index.insert(g.id.clone(), i);
            groups.push(Group {
                object,
                members: g.members.clone(),
            });
        }
        for g in &seed.groups {
            if let Some(m) = g.members.iter().find(|m| !ids.contains(*m)) {
                return Err(format!("group {} lists unknown member {m}", g.id));
            }
        }
        for sp in &seed.service_principals {
            if let Some(m) = sp.assigned.iter().find(|m| !ids.contains(*m)) {
                return Err(format!("service principal {} assigns unknown {m}", sp.id));
            }
        }
        for (i, user) in seed.deleted_users.iter().enumerate() {
            let id =
                object_id(user).ok_or_else(|| format!("deleted user #{i} has no string \"id\""))?;
            if !ids.insert(id.to_owned()) {
                return Err(format!("duplicate object id {id}"));
            }
        }
        Ok(Tenant {
            tenant_id: seed.tenant_id.clone(),
            users: seed.users.clone(),
            user_index,
            groups,
            group_index,
            service_principals: seed.service_principals.clone(),
            deleted_users: seed.deleted_users.clone(),
        })
    }

    pub(crate) fn counts(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "users": self.users.len(),
            "groups": self.groups.len(),
            "service_principals": self.service_principals.len(),
            "deleted_users": self.deleted_users.len(),
        })
    }

    pub(crate) fn user(&self, id: &str, select: Option<&[String]>) -> Result<Value, GraphError> {
        let i = self
            .user_index
            .get(id)
            .ok_or_else(|| GraphError::not_found(id))?;
        Ok(render(
            &self.users[*i],
            select,
            DEFAULT_USER_PROPERTIES,
            USER_PROPERTIES,
            None,
        ))
    }

    pub(crate) fn group(&self, id: &str, select: Option<&[String]>) -> Result<Value, GraphError> {
        let i = self
            .group_index
            .get(id)
            .ok_or_else(|| GraphError::not_found(id))?;
        Ok(render(
            &self.groups[*i].object,
            select,
            GROUP_PROPERTIES,
            GROUP_PROPERTIES,
            None,
        ))
    }

    pub(crate) fn service_principal(&self, id: &str) -> Result<Value, GraphError> {
        let sp = self
            .service_principals
            .iter()
            .find(|sp| sp.id == id)
            .ok_or_else(|| GraphError::not_found(id))?;
        Ok(json!({"id": sp.id, "displayName": sp.display_name, "deletedDateTime": null}))
    }

    /// Checks a `$select` against the properties of the listing's types.
    pub(crate) fn check_select(listing: Listing, select: &[String]) -> Result<(), GraphError> {
        let (allowed, type_name): (&[&[&str]], &str) = match listing {
            Listing::Users | Listing::DeletedUsers => (&[USER_PROPERTIES], "microsoft.graph.user"),
            Listing::Groups => (&[GROUP_PROPERTIES], "microsoft.graph.group"),
            Listing::Members => (
                &[USER_PROPERTIES, GROUP_PROPERTIES],
                "microsoft.graph.directoryObject",
            ),
            Listing::AppRoleAssignedTo => (
                &[ASSIGNMENT_PROPERTIES],
                "microsoft.graph.appRoleAssignment",
            ),
        };
        for name in select {
            if !allowed.iter().any(|set| set.contains(&name.as_str())) {
                return Err(GraphError::bad_request(format!(
                    "Could not find a property named '{name}' on type '{type_name}'."
                )));
            }
        }
        Ok(())
    }

    /// The page of `listing` (of `key`) starting at `cursor`.
    pub(crate) fn page(
        &self,
        listing: Listing,
        key: &str,
        select: Option<&[String]>,
        size: usize,
        offset: usize,
        number: u32,
    ) -> Result<Page, GraphError> {
        let size = size.max(1);
        let (items, total): (Vec<Value>, usize) = match listing {
            Listing::Users => (
                self.users
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|u| render(u, select, DEFAULT_USER_PROPERTIES, USER_PROPERTIES, None))
                    .collect(),
                self.users.len(),
            ),
            Listing::DeletedUsers => (
                self.deleted_users
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|u| render(u, select, DELETED_USER_DEFAULTS, USER_PROPERTIES, None))
                    .collect(),
                self.deleted_users.len(),
            ),
            Listing::Groups => (
                self.groups
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|g| render(&g.object, select, GROUP_PROPERTIES, GROUP_PROPERTIES, None))
                    .collect(),
                self.groups.len(),
            ),
            Listing::Members => {
                let g = self
                    .group_index
                    .get(key)
                    .map(|i| &self.groups[*i])
                    .ok_or_else(|| GraphError::not_found(key))?;
                let items = g
                    .members
                    .iter()
                    .skip(offset)
                    .take(size)
                    .filter_map(|id| self.directory_object(id, select))
                    .collect();
                (items, g.members.len())
            }
            Listing::AppRoleAssignedTo => {
                let sp = self
                    .service_principals
                    .iter()
                    .find(|sp| sp.id == key)
                    .ok_or_else(|| GraphError::not_found(key))?;
                let items = sp
                    .assigned
                    .iter()
                    .skip(offset)
                    .take(size)
                    .enumerate()
                    .filter_map(|(i, id)| self.assignment(sp, id, offset + i, select))
                    .collect();
                (items, sp.assigned.len())
            }
        };
        let end = offset.saturating_add(size);
        let next = (end < total).then(|| Cursor {
            l: listing,
            k: key.to_owned(),
            o: end,
            n: number + 1,
        });
        Ok(Page {
            context: listing.context(key),
            items,
            next,
            number,
        })
    }

    /// A member as `/members` returns it: the object with its `@odata.type`.
    fn directory_object(&self, id: &str, select: Option<&[String]>) -> Option<Value> {
        if let Some(i) = self.user_index.get(id) {
            return Some(render(
                &self.users[*i],
                select,
                DEFAULT_USER_PROPERTIES,
                USER_PROPERTIES,
                Some("#microsoft.graph.user"),
            ));
        }
        let i = self.group_index.get(id)?;
        Some(render(
            &self.groups[*i].object,
            select,
            GROUP_PROPERTIES,
            GROUP_PROPERTIES,
            Some("#microsoft.graph.group"),
        ))
    }

    fn assignment(
        &self,
        sp: &SeedServicePrincipal,
        principal: &str,
        n: usize,
        select: Option<&[String]>,
    ) -> Option<Value> {
        let (kind, name) = if let Some(i) = self.user_index.get(principal) {
            ("User", self.users[*i].get("displayName").cloned())
        } else {
            let i = self.group_index.get(principal)?;
            ("Group", self.groups[*i].object.get("displayName").cloned())
        };
        let mut object = Map::new();
        object.insert("id".into(), json!(format!("asg{n:020}{}", &sp.id)));
        object.insert("deletedDateTime".into(), Value::Null);
        object.insert(
            "appRoleId".into(),
            json!("00000000-0000-0000-0000-000000000000"),
        );
        object.insert("createdDateTime".into(), json!("2026-01-01T00:00:00Z"));
        object.insert("principalDisplayName".into(), name.unwrap_or(Value::Null));
        object.insert("principalId".into(), json!(principal));
        object.insert("principalType".into(), json!(kind));
        object.insert("resourceDisplayName".into(), json!(sp.display_name));
        object.insert("resourceId".into(), json!(sp.id));
        Some(render(
            &object,
            select,
            ASSIGNMENT_PROPERTIES,
            ASSIGNMENT_PROPERTIES,
            None,
        ))
    }
}

/// Deleted items carry their deletion time besides the user defaults.
const DELETED_USER_DEFAULTS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
    "deletedDateTime",
];

const ASSIGNMENT_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "appRoleId",
    "createdDateTime",
    "principalDisplayName",
    "principalId",
    "principalType",
    "resourceDisplayName",
    "resourceId",
];

/// An object as Graph sends it: the selected properties (or the type's defaults), `null` for
/// those it does not have, nothing else; `id` always.
fn render(
    object: &Map<String, Value>,
    select: Option<&[String]>,
    defaults: &[&str],
    known: &[&str],
    odata_type: Option<&str>,
) -> Value {
    let mut out = Map::new();
    if let Some(t) = odata_type {
        out.insert("@odata.type".into(), json!(t));
    }
    out.insert(
        "id".into(),
        object.get("id").cloned().unwrap_or(Value::Null),
    );
    let mut put = |name: &str| {
        if name != "id" && known.contains(&name) {
            out.insert(
                name.to_owned(),
                object.get(name).cloned().unwrap_or(Value::Null),
            );
        }
    };
    match select {
        Some(names) => names.iter().for_each(|n| put(n)),
        None => defaults.iter().for_each(|n| put(n)),
    }
    Value::Object(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::seed::SeedGroup;

    fn tenant() -> Tenant {
        let seed = TenantSeed {
            tenant_id: "t".into(),
            users: (0..5)
                .map(|i| {
                    let mut m = Map::new();
                    m.insert("id".into(), json!(format!("u{i}")));
                    m.insert("displayName".into(), json!(format!("User {i}")));
                    m.insert("accountEnabled".into(), json!(true));
                    m
                })
                .collect(),
            groups: vec![SeedGroup {
                id: "g".into(),
                display_name: "G".into(),
                members: vec!["u1".into(), "u2".into()],
                ..SeedGroup::default()
            }],
            ..TenantSeed::default()
        };
        Tenant::from_seed(&seed).unwrap()
    }

    #[test]
    fn pages_follow_cursors_to_the_end() {
        let t = tenant();
        let p1 = t.page(Listing::Users, "", None, 2, 0, 1).unwrap();
        assert_eq!(p1.items.len(), 2);
        let c = p1.next.unwrap();
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let p3 = t.page(Listing::Users, "", None, 2, 4, 3).unwrap();
        assert_eq!(p3.items.len(), 1);
        assert!(p3.next.is_none());
    }

    #[test]
    fn select_keeps_only_what_was_asked() {
        let t = tenant();
        let select = vec!["accountEnabled".to_owned()];
        let p = t.page(Listing::Users, "", Some(&select), 10, 0, 1).unwrap();
        assert_eq!(p.items[0], json!({"id": "u0", "accountEnabled": true}));
        let p = t.page(Listing::Users, "", None, 10, 0, 1).unwrap();
        assert!(p.items[0].get("accountEnabled").is_none());
        assert_eq!(p.items[0]["mail"], Value::Null);
        assert!(Tenant::check_select(Listing::Users, &["nope".into()]).is_err());
    }

    #[test]
    fn seeds_breaking_rules_are_refused() {
        let mut seed = TenantSeed::default();
        seed.groups.push(SeedGroup {
            id: "g".into(),
            members: vec!["ghost".into()],
            ..SeedGroup::default()
        });
        assert!(Tenant::from_seed(&seed).err().unwrap().contains("ghost"));
    }
}
