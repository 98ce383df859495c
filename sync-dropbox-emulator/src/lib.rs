//! A stateful emulator of the Dropbox team API, for tests, demos and benchmarks.
//!
//! It serves the team routes teamsync uses (`team/get_info`, `team/members/*`,
//! `team/groups/*`) with Dropbox's JSON shapes, error unions and HTTP statuses, plus the OAuth
//! token endpoint with expiring, scoped tokens. It keeps one team in memory with hash indexes,
//! enforces Dropbox's rules (20 members per add, licence limit, unique emails, external ids and
//! group names, invited members cannot be suspended, removed members can be recovered) and can
//! inject faults (rate limits, 5xx, latency, dropped connections) deterministically from a seed.
//!
//! What it does not do: files, sharing, audit logs, SCIM, user (non-team) routes, the
//! `Dropbox-API-Select-*` headers; and it never talks to Dropbox.
//!
//! ```no_run
//! # async fn demo() -> Result<(), teamsync_dropbox_emulator::EmulatorError> {
//! use teamsync_dropbox_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let url = format!("{}/2/team/get_info", emulator.base_url());
//! let token = emulator.access_token();
//! // ... POST to `url` with `Authorization: Bearer {token}` ...
//! assert_eq!(emulator.call_counts().get("team/get_info"), None);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Admin routes (no auth; the emulator listens on loopback): `GET /__emulator/state`,
//! `GET /__emulator/calls`, `POST /__emulator/calls/reset`, `POST /__emulator/seed` (a
//! [`TeamSeed`] JSON), `POST /__emulator/faults` (a [`Faults`] JSON; empty body clears),
//! `POST /__emulator/accept_invitations` (`{"emails":[...]}`, empty or no body: everyone
//! invited), `POST /__emulator/authorization_code`, `POST /__emulator/token` (`{"scopes":[...]}` → a
//! non-expiring token with those scopes), `GET /__emulator/health`.
#![warn(missing_docs)]

mod auth;
mod config;
mod routes;
mod seed;
mod server;
mod team;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use teamsync_emulator_support::Server;
pub use teamsync_emulator_support::StartError;

pub use config::{ALL_TEAM_SCOPES, EmulatorConfig, Faults, RateLimit};
pub use routes::MAX_MEMBERS_PER_ADD;
pub use seed::{
    AccessType, GroupMemberState, GroupState, ManagementType, MemberState, MemberStatus, SeedGroup,
    SeedMember, TeamSeed, TeamState,
};

use server::Shared;

/// Why the emulator could not start or take a seed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound, or TLS could not be set up.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A seed broke a team rule (duplicate email, external id or group name, unknown member).
    #[error("invalid team seed: {0}")]
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
    /// Binds `config.bind` (default `127.0.0.1:0`) and starts serving in the background.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let team = team::Team::new(
            config.team_name.clone(),
            config.license_limit,
            config.seed,
            config.job_polls_in_progress,
        );
        let auth = auth::Auth::new(config.seed, config.access_token_ttl);
        let settings = routes::RouteSettings {
            async_add_threshold: config.async_add_threshold,
            added_members_active: config.added_members_active,
        };
        let shared = Arc::new(Shared::new(
            team,
            auth,
            config.faults.clone(),
            config.seed,
            settings,
        ));
        let handler = {
            let shared = Arc::clone(&shared);
            move |req| server::handle(Arc::clone(&shared), req)
        };
        let tls_ca = config.tls.then_some("teamsync Dropbox emulator CA");
        let server = Server::start(config.bind, tls_ca, handler).await?;
        Ok(Emulator { shared, server })
    }

    /// `http://127.0.0.1:PORT` (or `https://`): the API is at `{base}/2/...`, the token
    /// endpoint at `{base}/oauth2/token`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A non-expiring access token with every team scope.
    pub fn access_token(&self) -> String {
        self.shared.lock().auth.root_access_token.clone()
    }

    /// A new non-expiring access token holding exactly these scopes.
    pub fn token_with_scopes(&self, scopes: &[&str]) -> String {
        self.shared.lock().auth.token_with_scopes(scopes)
    }

    /// The emulated app's key (`client_id`).
    pub fn app_key(&self) -> String {
        self.shared.lock().auth.app_key.clone()
    }

    /// The emulated app's secret.
    pub fn app_secret(&self) -> String {
        self.shared.lock().auth.app_secret.clone()
    }

    /// A valid refresh token for [`Emulator::app_key`] with every team scope; refreshing gives
    /// access tokens that expire after `access_token_ttl`.
    pub fn refresh_token(&self) -> String {
        self.shared.lock().auth.root_refresh_token.clone()
    }

    /// A new one-shot authorization code for the `authorization_code` grant.
    pub fn authorization_code(&self) -> String {
        self.shared.lock().auth.authorization_code()
    }

    /// The PEM of the CA that signed the server certificate, when serving TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.server.ca_pem()
    }

    /// Calls received per route since start or the last reset, keyed like
    /// `"team/members/add_v2"` (and `"oauth2/token"`). Every request counts, faulted or
    /// refused ones included.
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().calls.clone()
    }

    /// Zeroes the call counts.
    pub fn reset_call_counts(&self) {
        self.shared.lock().calls.clear();
    }

    /// A snapshot of the team.
    pub fn state(&self) -> TeamState {
        self.shared.lock().team.state()
    }

    /// Replaces the team's members and groups (and name and licence limit) with the seed's.
    /// Lenient: a later duplicate email, external id or group name, and a group member email
    /// that is not in the seed, are skipped. Use [`Emulator::try_seed`] to have them refused.
    pub fn seed(&self, state: &TeamSeed) {
        // Lenient loading cannot fail.
        let _ = self
            .shared
            .lock()
            .team
            .load_seed(state, false, SystemTime::now());
    }

    /// Like [`Emulator::seed`], but refuses (and changes nothing) when the seed breaks a team rule.
    pub fn try_seed(&self, state: &TeamSeed) -> Result<(), EmulatorError> {
        self.shared
            .lock()
            .team
            .load_seed(state, true, SystemTime::now())
            .map_err(EmulatorError::InvalidSeed)
    }

    /// Invited members accept their invitation and become active (those with these emails,
    /// or every invited member when `emails` is empty). Returns how many changed.
    pub fn accept_invitations(&self, emails: &[&str]) -> usize {
        self.shared
            .lock()
            .team
            .accept_invitations(emails, SystemTime::now())
    }

    /// Replaces the faults (and restarts the rate-limit window).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }

    /// How many polls answer `in_progress` before a job reports completion (from now on).
    pub fn set_job_polls_in_progress(&self, polls: u32) {
        self.shared.lock().team.set_job_polls_in_progress(polls);
    }

    /// Stops accepting, aborts open connections and waits for the server task.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
