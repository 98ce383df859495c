//! A stateful emulator of the Microsoft Graph v1.0 directory reads and the Microsoft identity
//! platform's token endpoint, for tests, demos and benchmarks.
//!
//! It serves what an app-only directory sync reads: `GET /v1.0/users`, `/groups`,
//! `/groups/{id}/members` (users and nested groups with `@odata.type`),
//! `/servicePrincipals/{id}/appRoleAssignedTo` and `/directory/deletedItems/microsoft.graph.user`,
//! with `$select` honoured (unselected properties absent), `$top` up to 999, server-chosen page
//! sizes and opaque `@odata.nextLink`s; Graph's error body `{"error":{"code","message"}}`; and
//! `POST /{tenant}/oauth2/v2.0/token` (client credentials with a client secret or a
//! certificate-signed `client_assertion`, verified RS256 against the registered certificate),
//! with expiring tokens carrying the app's `roles` and AADSTS-style errors. Faults (429 with
//! and without `Retry-After`, 503, latency, dropped connections, a dropped page of a listing)
//! come from a seeded generator.
//!
//! What it does not do: writes, `$filter`, `$search`, `$count`, `$expand`, delta queries,
//! batching, delegated (user) tokens; and it never talks to Microsoft.
//!
//! ```no_run
//! # async fn demo() -> Result<(), teamsync_graph_emulator::EmulatorError> {
//! use teamsync_graph_emulator::{Emulator, EmulatorConfig, TenantSeed};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! emulator.try_seed(&TenantSeed { tenant_id: "contoso".into(), ..TenantSeed::default() })?;
//! let users = format!("{}/v1.0/users?$select=id,mail&$top=999", emulator.base_url());
//! let token = emulator.token_with_roles(&["User.Read.All"]);
//! // ... GET `users` with `Authorization: Bearer {token}` ...
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Admin routes (no auth; loopback only): `GET /__emulator/state`, `GET /__emulator/calls`,
//! `GET /__emulator/requests`, `POST /__emulator/calls/reset`, `POST /__emulator/seed` (a
//! [`TenantSeed`] JSON), `POST /__emulator/faults` (a [`Faults`] JSON; empty body clears),
//! `POST /__emulator/token` (`{"roles":[...]}` → a non-expiring token), `GET /__emulator/health`.
#![warn(missing_docs)]

mod auth;
mod config;
mod directory;
mod seed;
mod server;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use teamsync_emulator_support::Server;
pub use teamsync_emulator_support::StartError;

pub use config::{DropOnPage, EmulatorConfig, Faults, RateLimit};
pub use seed::{SeedApp, SeedGroup, SeedServicePrincipal, TenantSeed};
pub use server::RequestRecord;

use server::Shared;

/// Why the emulator could not start or take a seed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound, or TLS could not be set up.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A seed broke a rule (object without id, duplicate id, unknown member, bad certificate).
    #[error("invalid tenant seed: {0}")]
    InvalidSeed(String),
}

/// A running emulator bound on loopback, serving on the caller's tokio runtime.
/// Dropping it stops the server; [`Emulator::shutdown`] does so and waits.
pub struct Emulator {
    shared: Arc<Shared>,
    server: Server,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds `config.bind` (default `127.0.0.1:0`) and starts serving an empty tenant.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let tenant = directory::Tenant::from_seed(&TenantSeed::default())
            .map_err(EmulatorError::InvalidSeed)?;
        let auth = auth::Auth::new(config.seed, config.access_token_ttl);
        let shared = Arc::new(Shared::new(
            tenant,
            auth,
            config.faults.clone(),
            config.seed,
            config.max_page_size,
            config.tls,
        ));
        let handler = {
            let shared = Arc::clone(&shared);
            move |req| server::handle(Arc::clone(&shared), req)
        };
        let tls_ca = config.tls.then_some("teamsync Graph emulator CA");
        let server = Server::start(config.bind, tls_ca, handler).await?;
        Ok(Emulator { shared, server })
    }

    /// `http://127.0.0.1:PORT` (or `https://`): Graph is at `{base}/v1.0/...`, the authority at
    /// `{base}` (token endpoint `{base}/{tenant}/oauth2/v2.0/token`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The PEM of the CA that signed the server certificate, when serving TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.server.ca_pem()
    }

    /// Replaces the tenant (apps, users, groups, service principals, deleted users); refuses,
    /// changing nothing, a seed that breaks a rule. Issued tokens are revoked.
    pub fn try_seed(&self, seed: &TenantSeed) -> Result<(), EmulatorError> {
        self.shared
            .load_seed(seed)
            .map_err(EmulatorError::InvalidSeed)
    }

    /// A new non-expiring access token holding these application permissions (`roles`).
    pub fn token_with_roles(&self, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let mut inner = self.shared.lock();
        let tenant = inner.tenant.tenant_id.clone();
        inner.auth.token_with_roles(&roles, &tenant)
    }

    /// Access tokens minted by the token endpoint and [`Emulator::token_with_roles`] so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.lock().auth.issued
    }

    /// Calls received per route since start or the last reset, keyed like `"users"`,
    /// `"groups/{id}/members"` and `"token"`. Every request counts, faulted ones included.
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().calls.clone()
    }

    /// The Graph requests received (route, URI, throttle-priority and consistency headers),
    /// up to the first 100,000 since start or the last reset.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Zeroes the call counts and clears the request log.
    pub fn reset_call_counts(&self) {
        let mut inner = self.shared.lock();
        inner.calls.clear();
        inner.requests.clear();
    }

    /// Replaces the faults (and restarts the rate-limit window and the page-drop count).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Stops accepting, aborts open connections and waits for the server task.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
