//! How an emulator is configured: team defaults, token lifetime, async-job behaviour and faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Every scope a team app can hold on the routes the emulator serves.
pub const ALL_TEAM_SCOPES: &[&str] = &[
    "team_info.read",
    "members.read",
    "members.write",
    "members.delete",
    "groups.read",
    "groups.write",
];

/// Settings for [`crate::Emulator::start`]. `Default` gives a plain-HTTP, fault-free emulator
/// with an empty, unlimited team and 4-hour access tokens (Dropbox's short-lived token TTL).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The team's name as `team/get_info` reports it (a seed may replace it).
    pub team_name: String,
    /// Licences the team has; `None` means unlimited. Adds, unsuspends and recovers beyond it
    /// fail with `team_license_limit` (a seed may replace it).
    pub license_limit: Option<u32>,
    /// Lifetime of access tokens minted by `/oauth2/token` (code exchange and refresh).
    /// Short values make clients exercise their refresh path for real.
    pub access_token_ttl: Duration,
    /// Faults injected into `/2/...` API calls (not into the token endpoint or admin routes).
    pub faults: Faults,
    /// Seed of every pseudo-random choice: ids, tokens, error-summary dots and faults.
    /// Same seed and same call sequence give the same responses.
    pub seed: u64,
    /// Serve HTTPS with a certificate signed by a CA generated at start ([`crate::Emulator::ca_pem`]).
    pub tls: bool,
    /// Address to bind; `127.0.0.1:0` (any free port on loopback) by default.
    pub bind: std::net::SocketAddr,
    /// `members/add_v2` answers with an `async_job_id` (instead of `complete`) when a call adds
    /// more than this many members, or when the caller sets `force_async`.
    pub async_add_threshold: usize,
    /// How many times a job-status poll answers `in_progress` before `complete`, so that client
    /// polling loops are exercised. 0 makes every job complete on its first poll.
    pub job_polls_in_progress: u32,
    /// Members added by `members/add_v2` start `invited` (Dropbox's behaviour: they must accept
    /// the invitation). Set this to make them `active` at once.
    pub added_members_active: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            team_name: "Emulated Team".to_owned(),
            license_limit: None,
            access_token_ttl: Duration::from_secs(4 * 3600),
            faults: Faults::default(),
            seed: 0x5eed_d80c,
            tls: false,
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            async_add_threshold: 10,
            job_polls_in_progress: 1,
            added_members_active: false,
        }
    }
}

/// Faults injected into API calls. All decisions come from the emulator's seeded generator,
/// so a given seed and call sequence always fault the same calls. `Default` injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Allow this many calls per window, then answer 429 with `Retry-After` until it ends.
    pub rate_limit: Option<RateLimit>,
    /// Fraction (0.0–1.0) of calls answered `500 Internal Server Error` without doing anything.
    pub server_error_rate: f64,
    /// Fraction (0.0–1.0) of calls whose effect happens but whose connection is dropped halfway
    /// through the response body (the client cannot know whether the call took effect).
    pub drop_connection_rate: f64,
    /// Fixed delay added before answering each call, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=latency_jitter_ms` milliseconds.
    pub latency_jitter_ms: u64,
    /// Also inject these faults into `POST /oauth2/token` (off by default, so that tests of
    /// API faults do not also break token refreshes).
    pub include_token_endpoint: bool,
}

pub use teamsync_emulator_support::RateLimit;
