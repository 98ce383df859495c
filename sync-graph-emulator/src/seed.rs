//! What a tenant is seeded with: app registrations (secrets, certificates, permissions), users,
//! groups with direct members, service principals with assignments, and soft-deleted users.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A whole tenant. Users and deleted users are Graph `user` objects as JSON (any property
/// Graph knows: `displayName`, `mail`, `accountEnabled`, `onPremisesImmutableId`, ...);
/// each needs an `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSeed {
    /// The tenant id (a GUID) or a verified domain; the token endpoint answers under it.
    pub tenant_id: String,
    /// App registrations allowed to get app-only tokens.
    pub apps: Vec<SeedApp>,
    /// Users, in listing order.
    pub users: Vec<Map<String, Value>>,
    /// Groups with their direct members.
    pub groups: Vec<SeedGroup>,
    /// Enterprise applications and who is assigned to them.
    pub service_principals: Vec<SeedServicePrincipal>,
    /// Soft-deleted users (`/directory/deletedItems/microsoft.graph.user`).
    pub deleted_users: Vec<Map<String, Value>>,
}

/// An app registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedApp {
    /// The application (client) id.
    pub client_id: String,
    /// A client secret, when the app has one.
    pub client_secret: Option<String>,
    /// Certificates (PEM) whose keys may sign client assertions.
    pub certificates: Vec<String>,
    /// Application permissions granted with admin consent (`User.Read.All`,
    /// `GroupMember.Read.All`, `Application.Read.All`, `Directory.Read.All`, ...): the token's `roles`.
    pub roles: Vec<String>,
}

/// A group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedGroup {
    /// Object id.
    pub id: String,
    /// Display name (not unique in Entra).
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Other group properties (`mail`, `securityEnabled`, ...).
    pub properties: Map<String, Value>,
    /// Direct members: ids of users and groups.
    pub members: Vec<String>,
}

/// A service principal (enterprise application).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedServicePrincipal {
    /// Object id.
    pub id: String,
    /// Its display name.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Ids of the users and groups assigned to it.
    pub assigned: Vec<String>,
}

/// The user properties Graph v1.0 returns when no `$select` is given.
pub(crate) const DEFAULT_USER_PROPERTIES: &[&str] = &[
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
];

/// Every user property `$select` accepts here (a subset of Graph's).
pub(crate) const USER_PROPERTIES: &[&str] = &[
    "id",
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
    "accountEnabled",
    "userType",
    "onPremisesImmutableId",
    "onPremisesSyncEnabled",
    "mailNickname",
    "employeeId",
    "department",
    "companyName",
    "createdDateTime",
    "deletedDateTime",
    "otherMails",
    "proxyAddresses",
    "externalUserState",
];

/// The group properties returned without `$select`, and those `$select` accepts.
pub(crate) const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "onPremisesSyncEnabled",
    "securityEnabled",
    "visibility",
];
