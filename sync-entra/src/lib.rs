//! # teamsync-entra
//!
//! teamsync's [`Directory`](teamsync_core::Directory) over Microsoft Entra ID (Azure AD), read
//! through Microsoft Graph v1.0 with plain reqwest (rustls) and serde — no Graph SDK.
//!
//! * **Auth**: app-only, the client-credentials grant at `{authority}/{tenant}/oauth2/v2.0/token`
//!   with scope `{graph}/.default`: a client secret, or a certificate (a `client_assertion`
//!   JWT signed RS256 with `ring`, `x5t` = the certificate's SHA-1 thumbprint). Global, US
//!   Government, China and custom (emulator) clouds ([`Cloud`]). The token is cached and
//!   renewed before it expires; secrets and tokens are [`Secret`]s (`Debug` prints `[redacted]`).
//! * **Reads**: `GET /users?$select=...,accountEnabled,userType,onPremisesImmutableId&$top=999`,
//!   `GET /groups`, `GET /groups/{id}/members` (direct members; the core flattens nesting) for
//!   every group reachable from the roots, `/servicePrincipals/{id}/appRoleAssignedTo` when
//!   [`EntraConfig::app_id`] is set, `/directory/deletedItems/microsoft.graph.user`. Every
//!   `@odata.nextLink` is followed whole, on the Graph host only.
//! * **Throttling and faults**: 429, 503, 502, 504 and 500 are retried after `Retry-After` or an
//!   exponential backoff; `x-ms-throttle-priority: low` by default; every wait is bounded
//!   ([`RetryPolicy`]); bodies are size-limited; pages are counted. Any failure fails the
//!   snapshot ([`DirectoryErrorKind::Incomplete`](teamsync_core::DirectoryErrorKind)): never a
//!   partial directory.
//! * **Identity** ([`IdSource`]): the object id, or the AD `objectGUID` that
//!   `onPremisesImmutableId` encodes, for teams moving their source from AD to Entra.
//!
//! ```no_run
//! use teamsync_core::Directory;
//! use teamsync_entra::{Credential, EntraConfig, EntraDirectory};
//!
//! # async fn run() -> Result<(), teamsync_core::DirectoryError> {
//! let secret = std::env::var("ENTRA_CLIENT_SECRET").unwrap_or_default();
//! let mut config = EntraConfig::new("contoso.onmicrosoft.com", "00000000-0000-0000-0000-000000000001", Credential::client_secret(secret));
//! config.root_groups = vec!["Dropbox Users".into()];
//! let state = EntraDirectory::new(config)?.snapshot().await?;
//! println!("{} users", state.users.len());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod auth;
mod config;
mod directory;
mod graph;
mod map;

pub use config::{Cloud, Credential, EmailRule, EntraConfig, IdSource, RetryPolicy, Secret};
pub use directory::{AccessReport, EntraDirectory};
pub use map::{format_guid, immutable_id_to_guid};
