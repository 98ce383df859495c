//! Credentials and the access-token cache, with refresh before expiry.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::DropboxError;
use crate::map::classify_response;
use teamsync_core::Secret;

/// How the client authenticates to Dropbox.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A fixed team access token (long-lived, or managed elsewhere). Never refreshed.
    AccessToken(Secret),
    /// An offline refresh token of a team app: the client obtains short-lived access tokens
    /// from `oauth2/token` and refreshes them before they expire, and once more if Dropbox
    /// answers 401 `expired_access_token`.
    RefreshToken {
        /// The refresh token from the admin's authorization.
        refresh_token: Secret,
        /// The app key (`client_id`).
        app_key: String,
        /// The app secret; `None` for PKCE apps.
        app_secret: Option<Secret>,
        /// A current access token to start with, if one is at hand. Its expiry is unknown, so
        /// it is used until Dropbox says it expired.
        access_token: Option<Secret>,
    },
}

impl Credentials {
    /// A fixed access token.
    pub fn access_token(token: impl Into<Secret>) -> Self {
        Self::AccessToken(token.into())
    }

    /// A refresh token with the app key and, for apps that have one, the app secret.
    pub fn refresh_token(
        refresh_token: impl Into<Secret>,
        app_key: impl Into<String>,
        app_secret: Option<Secret>,
    ) -> Self {
        Self::RefreshToken {
            refresh_token: refresh_token.into(),
            app_key: app_key.into(),
            app_secret,
            access_token: None,
        }
    }
}

/// The token endpoint's answer (Dropbox's `oauth2/token`).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Default)]
struct CachedToken {
    token: Option<Secret>,
    /// When the token should be replaced: its expiry minus a margin.
    refresh_at: Option<Instant>,
}

/// Hands out the current access token; refreshes under a lock so concurrent calls share one
/// refresh.
pub(crate) struct TokenSource {
    credentials: Credentials,
    cache: Mutex<CachedToken>,
    /// Longest margin before expiry at which a token is replaced (Python's SDK uses 300 s).
    refresh_margin: Duration,
    /// Largest token-endpoint answer read.
    max_response_bytes: usize,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(
        credentials: Credentials,
        refresh_margin: Duration,
        max_response_bytes: usize,
    ) -> Self {
        let token = match &credentials {
            Credentials::AccessToken(token) => Some(token.clone()),
            Credentials::RefreshToken { access_token, .. } => access_token.clone(),
        };
        Self {
            credentials,
            cache: Mutex::new(CachedToken {
                token,
                refresh_at: None,
            }),
            refresh_margin,
            max_response_bytes: max_response_bytes.max(1),
        }
    }

    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.credentials, Credentials::RefreshToken { .. })
    }

    /// The token to send now, refreshing first when it is missing or about to expire.
    pub(crate) async fn bearer(
        &self,
        http: &reqwest::Client,
        token_url: &str,
    ) -> Result<Secret, DropboxError> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.refresh_at.is_none_or(|at| Instant::now() < at);
        match &cache.token {
            Some(token) if fresh || !self.can_refresh() => Ok(token.clone()),
            _ => self.refresh_locked(&mut cache, http, token_url).await,
        }
    }

    /// After a 401 `expired_access_token` for `failed`: refresh, unless another call already
    /// replaced that token.
    pub(crate) async fn refresh_after_expiry(
        &self,
        failed: &Secret,
        http: &reqwest::Client,
        token_url: &str,
    ) -> Result<Secret, DropboxError> {
        let mut cache = self.cache.lock().await;
        match &cache.token {
            Some(current) if current != failed => Ok(current.clone()),
            _ => self.refresh_locked(&mut cache, http, token_url).await,
        }
    }

    async fn refresh_locked(
        &self,
        cache: &mut CachedToken,
        http: &reqwest::Client,
        token_url: &str,
    ) -> Result<Secret, DropboxError> {
        const ROUTE: &str = "oauth2/token";
        let Credentials::RefreshToken {
            refresh_token,
            app_key,
            app_secret,
            ..
        } = &self.credentials
        else {
            return Err(DropboxError::Auth {
                route: ROUTE.to_owned(),
                tag: "no_refresh_token".to_owned(),
                required_scope: None,
            });
        };
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", app_key.as_str()),
        ];
        if let Some(secret) = app_secret {
            form.push(("client_secret", secret.expose()));
        }
        let response = http
            .post(token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| crate::client::transport_error(ROUTE, &e))?;
        let status = response.status().as_u16();
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        let retry_after = header(&response, reqwest::header::RETRY_AFTER);
        let body = crate::client::read_limited(ROUTE, response, self.max_response_bytes).await?;
        if status != 200 {
            return Err(classify_response(
                ROUTE,
                status,
                content_type.as_deref(),
                retry_after.as_deref(),
                &body,
            ));
        }
        let answer: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| DropboxError::Decode {
                route: ROUTE.to_owned(),
                message: e.to_string(),
            })?;
        let token = Secret::new(answer.access_token);
        // Replace the token a margin before it expires: the configured margin, but never more
        // than half its life, so short-lived tokens are still used. A lifetime too long for
        // the clock (`expires_in: 18446744073709551615`) is no expiry at all: the token is used
        // until Dropbox answers `expired_access_token`, then refreshed.
        cache.refresh_at = answer.expires_in.and_then(|secs| {
            let lifetime = Duration::from_secs(secs);
            let early = lifetime.saturating_sub(self.refresh_margin.min(lifetime / 2));
            Instant::now().checked_add(early)
        });
        cache.token = Some(token.clone());
        tracing::debug!(
            expires_in = answer.expires_in,
            "refreshed the Dropbox access token"
        );
        Ok(token)
    }
}

pub(crate) fn header(
    response: &reqwest::Response,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
