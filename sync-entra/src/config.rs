//! Settings of an [`EntraDirectory`](crate::EntraDirectory): tenant, app credentials, cloud,
//! scope, identity and email rules, and the limits that keep a hostile server from stalling us.

use std::path::PathBuf;
use std::time::Duration;

use teamsync_core::SourceId;

pub use teamsync_core::Secret;

/// How the app proves who it is at the token endpoint.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credential {
    /// A client secret (the secret's *value*, not its id).
    ClientSecret(Secret),
    /// A certificate registered on the app: a PEM holding the certificate and its RSA private
    /// key (PKCS#8 or PKCS#1), the form `az ad sp create-for-rbac --create-cert` writes. The
    /// client signs a `client_assertion` JWT (RS256, `x5t` = the certificate's SHA-1 thumbprint).
    Certificate {
        /// The PEM text.
        pem: Secret,
    },
}

impl Credential {
    /// A client secret.
    pub fn client_secret(secret: impl Into<String>) -> Self {
        Self::ClientSecret(Secret::new(secret))
    }

    /// A certificate and key from PEM text.
    pub fn certificate_pem(pem: impl Into<String>) -> Self {
        Self::Certificate {
            pem: Secret::new(pem),
        }
    }

    /// A certificate and key read from a PEM file.
    pub fn certificate_file(path: impl Into<PathBuf>) -> std::io::Result<Self> {
        Ok(Self::certificate_pem(std::fs::read_to_string(path.into())?))
    }
}

/// Which Microsoft cloud: the authority (token) host and the Graph host differ per cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cloud {
    /// `login.microsoftonline.com`, `graph.microsoft.com`.
    Global,
    /// US Government L4: `login.microsoftonline.us`, `graph.microsoft.us`.
    UsGov,
    /// US Government L5 (DOD): `login.microsoftonline.us`, `dod-graph.microsoft.us`.
    UsGovDod,
    /// China (21Vianet): `login.chinacloudapi.cn`, `microsoftgraph.chinacloudapi.cn`.
    China,
    /// Any other pair of base URLs (an emulator, a proxy).
    Custom {
        /// The authority, e.g. `https://127.0.0.1:8443` (the token endpoint is
        /// `{authority}/{tenant}/oauth2/v2.0/token`).
        authority: String,
        /// The Graph base, e.g. `https://127.0.0.1:8443` (requests go to `{graph}/v1.0/...`;
        /// the token's scope is `{graph}/.default`).
        graph: String,
    },
}

impl Cloud {
    /// `(authority, graph)` base URLs, without trailing slashes.
    pub fn endpoints(&self) -> (String, String) {
        let pair = |a: &str, g: &str| (a.to_owned(), g.to_owned());
        match self {
            Cloud::Global => pair(
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
            ),
            Cloud::UsGov => pair(
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
            ),
            Cloud::UsGovDod => pair(
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
            ),
            Cloud::China => pair(
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
            ),
            Cloud::Custom { authority, graph } => (
                authority.trim_end_matches('/').to_owned(),
                graph.trim_end_matches('/').to_owned(),
            ),
        }
    }
}

/// Which value becomes a user's [`SourceId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IdSource {
    /// The Entra object id.
    #[default]
    ObjectId,
    /// For users synced from Active Directory: the AD `objectGUID` that `onPremisesImmutableId`
    /// encodes (base64 of the GUID's bytes), in the form teamsync-ldap gives AD users, so a
    /// team provisioned from AD keeps its ids when the source moves to Entra. Cloud-only users
    /// (no `onPremisesImmutableId`) keep their object id.
    OnPremisesImmutableId,
}

/// Where a user's email comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailRule {
    /// Use `userPrincipalName` when `mail` is empty.
    pub fallback_to_upn: bool,
    /// ... even a guest's `#EXT#` UPN (never a deliverable address).
    pub allow_external_upn: bool,
    /// ... even a `*.onmicrosoft.com` UPN (the tenant's initial domain, rarely a mailbox).
    pub allow_onmicrosoft_upn: bool,
}

impl Default for EmailRule {
    fn default() -> Self {
        Self {
            fallback_to_upn: true,
            allow_external_upn: false,
            allow_onmicrosoft_upn: false,
        }
    }
}

/// Retries of throttled (429), unavailable (503, 502, 504) and dropped requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per request, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// First backoff when the server gives no `Retry-After`; doubles per attempt, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff, and longest `Retry-After` honoured (a longer one is cut to this).
    pub backoff_max: Duration,
    /// Longest total time one snapshot may spend waiting between retries; past it the read
    /// fails as incomplete.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(600),
        }
    }
}

/// Settings of an [`EntraDirectory`](crate::EntraDirectory).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EntraConfig {
    /// Tenant id (GUID) or a verified domain.
    pub tenant_id: String,
    /// The app registration's application (client) id.
    pub client_id: String,
    /// Secret or certificate.
    pub credential: Credential,
    /// Authority and Graph hosts.
    pub cloud: Cloud,
    /// Root groups, by object id or display name (a name matching several groups is refused).
    /// Their transitive members are in scope; the groups under them are synced.
    pub root_groups: Vec<String>,
    /// Object id of an enterprise application's service principal: the users and groups
    /// assigned to it (`/servicePrincipals/{id}/appRoleAssignedTo`) are in scope too.
    pub app_id: Option<String>,
    /// Which value is the user's id.
    pub id: IdSource,
    /// Where emails come from.
    pub email: EmailRule,
    /// Include guests (`userType = Guest`); excluded by default.
    pub include_guests: bool,
    /// Ids teamsync manages (from the team): one that is neither a user nor a soft-deleted
    /// user of the complete read was hard-deleted, and becomes a tombstone too.
    pub known_ids: Vec<SourceId>,
    /// Extra CA certificates (PEM) to trust, e.g. an emulator's or a TLS-inspecting proxy's.
    pub ca_file: Option<PathBuf>,
    /// Send `x-ms-throttle-priority: low` (a background sync yields to interactive traffic).
    pub low_throttle_priority: bool,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Connect timeout per request.
    pub connect_timeout: Duration,
    /// Whole-request timeout (headers and body).
    pub request_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// Most pages followed in one listing (a server handing out nextLinks forever stops here).
    pub max_pages: usize,
}

impl EntraConfig {
    /// Settings for the global cloud with the defaults: object ids, `mail` then UPN, guests
    /// excluded, low throttle priority, 8 attempts per request.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        credential: Credential,
    ) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            credential,
            cloud: Cloud::Global,
            root_groups: Vec::new(),
            app_id: None,
            id: IdSource::ObjectId,
            email: EmailRule::default(),
            include_guests: false,
            known_ids: Vec::new(),
            ca_file: None,
            low_throttle_priority: true,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_response_bytes: 64 << 20,
            max_pages: 100_000,
        }
    }
}
