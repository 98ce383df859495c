//! The client's error, classified for the core.
//!
//! Every variant knows its [`ErrorKind`], so `teamsync_core::apply` can decide retry or give up
//! without knowing HTTP. No variant ever carries a token: bodies are kept only for statuses
//! whose bodies are Dropbox's own messages, and are cut short.

use std::time::Duration;

use teamsync_core::{ErrorKind, StoreError};

use crate::map::route_error_kind;

/// What went wrong talking to Dropbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropboxError {
    /// The route refused the call (HTTP 409) with a tag of its error union, e.g.
    /// `user_not_found` or `group_name_already_used`.
    #[error("{route}: {tag}")]
    Route {
        /// The route called (`team/members/suspend`).
        route: String,
        /// The error union's tag.
        tag: String,
    },
    /// The token is invalid, expired beyond refresh, or lacks a scope (HTTP 401, or a token
    /// endpoint refusal such as `invalid_grant`).
    #[error("{route}: authentication failed ({tag}{})", required_scope.as_ref().map(|s| format!(": the token lacks the {s} scope")).unwrap_or_default())]
    Auth {
        /// The route called.
        route: String,
        /// The `AuthError` tag (`invalid_access_token`, `missing_scope`, …).
        tag: String,
        /// With `missing_scope`: the scope the token lacks (what the admin must grant).
        required_scope: Option<String>,
    },
    /// The app or token is not allowed to do this (HTTP 403 `AccessError`, or a 400 naming a
    /// missing scope).
    #[error("{route}: access denied: {message}")]
    AccessDenied {
        /// The route called.
        route: String,
        /// Dropbox's explanation.
        message: String,
    },
    /// Dropbox refused the request as malformed (HTTP 400, not about scopes).
    #[error("{route}: bad request: {message}")]
    BadRequest {
        /// The route called.
        route: String,
        /// Dropbox's plain-text explanation.
        message: String,
    },
    /// Too many requests (HTTP 429).
    #[error("{route}: Dropbox is rate limiting the team's API calls{}", asked_to_wait(*retry_after))]
    RateLimited {
        /// The route called.
        route: String,
        /// The delay from the JSON `retry_after` or the `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// Dropbox failed (HTTP 5xx).
    #[error("{route}: server error {status}: {message}")]
    Server {
        /// The route called.
        route: String,
        /// The status.
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// A status this client does not expect (404 for an unknown route, 3xx with redirects off).
    #[error("{route}: unexpected HTTP status {status}: {message}")]
    UnexpectedStatus {
        /// The route called.
        route: String,
        /// The status.
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// The request never got an answer: connection refused or reset, TLS failure, timeout.
    #[error("{route}: {message}")]
    Transport {
        /// The route called.
        route: String,
        /// What the HTTP stack said (never includes headers).
        message: String,
    },
    /// A 200 response whose body does not have the route's result shape.
    #[error("{route}: unexpected response: {message}")]
    Decode {
        /// The route called.
        route: String,
        /// What did not match.
        message: String,
    },
    /// An async job ended with `failed`.
    #[error("{route}: job failed: {message}")]
    JobFailed {
        /// The job-status route.
        route: String,
        /// Dropbox's message.
        message: String,
    },
    /// An async job was still running when the polling budget ran out.
    #[error("{route}: Dropbox's job was still running after {}", human_duration(*waited))]
    JobTimedOut {
        /// The job-status route.
        route: String,
        /// How long the client polled.
        waited: Duration,
    },
    /// A read that could not be completed within the client's bounds: a body larger than
    /// `max_response_bytes`, the `read_deadline` passed, a server-requested wait past the
    /// retry policy's cap, a list that repeats a cursor or goes on past what a team can hold.
    /// Nothing read is used: the team read fails (the command exits 8) and nothing is written.
    #[error("{route}: incomplete read: {reason}")]
    Incomplete {
        /// The route called.
        route: String,
        /// Which bound was passed, with the value the server asked for or sent.
        reason: String,
    },
    /// The client's settings are unusable (bad base URL, unreadable CA file).
    #[error("configuration: {0}")]
    Config(String),
}

impl DropboxError {
    /// How the core should treat this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Route { tag, .. } => route_error_kind(tag),
            Self::Auth { .. } | Self::AccessDenied { .. } => ErrorKind::Auth,
            Self::RateLimited { retry_after, .. } => ErrorKind::RateLimited {
                retry_after_ms: retry_after
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
            Self::Server { .. } | Self::Transport { .. } => ErrorKind::Transient,
            Self::BadRequest { .. }
            | Self::UnexpectedStatus { .. }
            | Self::Decode { .. }
            | Self::JobFailed { .. }
            | Self::JobTimedOut { .. }
            | Self::Incomplete { .. }
            | Self::Config(_) => ErrorKind::Permanent,
        }
    }

    /// Dropbox's tag for this error, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Route { tag, .. } | Self::Auth { tag, .. } => Some(tag),
            Self::RateLimited { .. } => Some("too_many_requests"),
            Self::JobTimedOut { .. } => Some("async_job_timed_out"),
            Self::Incomplete { .. } => Some("incomplete_read"),
            _ => None,
        }
    }

    /// Whether this is the 401 `expired_access_token` that a refresh can cure.
    pub fn is_expired_token(&self) -> bool {
        matches!(self, Self::Auth { tag, .. } if tag == "expired_access_token")
    }
}

/// "(it asked to wait 3 s)", or nothing when Dropbox gave no delay.
fn asked_to_wait(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (it asked to wait {})", human_duration(d)))
        .unwrap_or_default()
}

/// A delay for people (the core's one wording: "3 s", "2 min 5 s").
pub(crate) use teamsync_core::text::human_duration;

impl From<DropboxError> for StoreError {
    fn from(error: DropboxError) -> Self {
        let mut store = StoreError::new(error.kind(), error.to_string());
        store.code = error.code().map(str::to_owned);
        store
    }
}

#[cfg(test)]
mod message_tests {
    use super::*;

    #[test]
    fn rate_limits_and_job_timeouts_read_as_sentences() {
        let limited = DropboxError::RateLimited {
            route: "team/members/add_v2".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            limited.to_string(),
            "team/members/add_v2: Dropbox is rate limiting the team's API calls (it asked to wait 3 s)"
        );
        let store = StoreError::from(limited);
        assert!(!store.message.contains("Some("), "{}", store.message);
        let no_delay = DropboxError::RateLimited {
            route: "team/members/list_v2".into(),
            retry_after: None,
        };
        assert_eq!(
            no_delay.to_string(),
            "team/members/list_v2: Dropbox is rate limiting the team's API calls"
        );
        let timed_out = DropboxError::JobTimedOut {
            route: "team/members/add/job_status/get".into(),
            waited: Duration::from_millis(90_250),
        };
        assert_eq!(
            timed_out.to_string(),
            "team/members/add/job_status/get: Dropbox's job was still running after 1 min 30 s"
        );
    }

    #[test]
    fn durations_for_people() {
        let cases = [
            (Duration::from_millis(250), "250 ms"),
            (Duration::from_millis(1500), "1.5 s"),
            (Duration::from_secs(59), "59 s"),
            (Duration::from_secs(120), "2 min"),
            (Duration::from_secs(7_200), "2 h"),
            (Duration::from_secs(12_000), "3 h 20 min"),
        ];
        for (d, text) in cases {
            assert_eq!(human_duration(d), text);
        }
    }
}
