//! How an emulator is configured: token lifetime, page sizes and faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings for [`crate::Emulator::start`]. `Default` gives a plain-HTTP, fault-free emulator
/// with an empty tenant, one-hour tokens and Graph's page sizes (100 by default, `$top` up to 999).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Lifetime of access tokens minted by the token endpoint (`expires_in`).
    pub access_token_ttl: Duration,
    /// The most items one page holds whatever `$top` asks (Graph's own cap is 999); lower it to
    /// make the server choose smaller pages than the client asked for.
    pub max_page_size: usize,
    /// Faults injected into Graph calls (`/v1.0/...`), and into the token endpoint when
    /// [`Faults::include_token_endpoint`] is set.
    pub faults: Faults,
    /// Seed of every pseudo-random choice: tokens, request ids and fault decisions.
    pub seed: u64,
    /// Serve HTTPS with a certificate signed by a CA generated at start ([`crate::Emulator::ca_pem`]).
    pub tls: bool,
    /// Address to bind; `127.0.0.1:0` (any free port on loopback) by default.
    pub bind: std::net::SocketAddr,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            access_token_ttl: Duration::from_secs(3599),
            max_page_size: 999,
            faults: Faults::default(),
            seed: 0x0006_72a9_4e11,
            tls: false,
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// Faults injected into calls. Every decision comes from the emulator's seeded generator, so a
/// given seed and call sequence fault the same calls. `Default` injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Allow this many calls per window, then answer 429 `TooManyRequests` with `Retry-After`
    /// until the window ends.
    pub rate_limit: Option<RateLimit>,
    /// Fraction (0.0–1.0) of calls answered 429 `TooManyRequests` *without* a `Retry-After`
    /// header (the client must back off on its own).
    pub throttle_rate: f64,
    /// Fraction (0.0–1.0) of calls answered 503 `serviceNotAvailable` (with `Retry-After: 1`
    /// when [`Faults::retry_after_on_503`] is set).
    pub unavailable_rate: f64,
    /// Send `Retry-After: 1` with injected 503s.
    pub retry_after_on_503: bool,
    /// Fraction (0.0–1.0) of calls whose connection is dropped halfway through the body.
    pub drop_connection_rate: f64,
    /// Drop the connection while sending one given page of a listing.
    pub drop_on_page: Option<DropOnPage>,
    /// Fixed delay added before answering each call, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=latency_jitter_ms` milliseconds.
    pub latency_jitter_ms: u64,
    /// Also inject these faults into the token endpoint.
    pub include_token_endpoint: bool,
}

pub use teamsync_emulator_support::RateLimit;

/// Cut the connection while sending page `page` (1 = the first request, 2 = the first
/// `@odata.nextLink`, ...) of every listing named `listing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropOnPage {
    /// `users`, `groups`, `members`, `deleted_users` or `app_role_assigned_to`.
    pub listing: String,
    /// Which page, from 1.
    pub page: u32,
    /// How many times to drop it (`None`: every time), so that a retrying client converges.
    #[serde(default)]
    pub times: Option<u32>,
}
