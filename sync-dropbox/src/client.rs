//! A typed client for the Dropbox team routes teamsync uses.
//!
//! One method per route, taking and returning the [`crate::wire`] shapes. Writes are never
//! retried here: errors come back classified ([`DropboxError::kind`]) and the core's executor
//! decides. Reads (`team/get_info`, lists, `get_info`, job polls) change nothing, so the client
//! repeats them under [`ClientConfig::read_retry`], the core's one retry mechanism
//! ([`teamsync_core::retry`]). On 401 `expired_access_token` it refreshes the token (when it
//! has a refresh token) and repeats the call once.
//!
//! Nothing a server sends is trusted to be small: bodies are read streamed up to
//! [`ClientConfig::max_response_bytes`], each read ends by [`ClientConfig::read_deadline`],
//! server-requested waits are honoured only up to the policy's `max_server_wait`; past any of
//! these the read fails as incomplete ([`DropboxError::Incomplete`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::{Credentials, TokenSource, header};
use crate::error::DropboxError;
use crate::map::classify_response;
use crate::wire::*;
use teamsync_core::{GiveUp, RetryDecision, RetryPolicy, Secret};

/// Dropbox's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.dropboxapi.com";

/// Which HTTP versions the client speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/2 when TLS negotiates it (ALPN), HTTP/1.1 otherwise (and always on plain http).
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1Only,
    /// HTTP/2 only, without negotiation ("prior knowledge"); works over plain http too.
    Http2Only,
}

/// Where extra trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// A PEM file (one or more certificates).
    File(PathBuf),
    /// PEM text already in memory.
    Pem(Vec<u8>),
}

/// Whether requests go through an HTTP proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// Use `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (and `NO_PROXY`) from the environment.
    #[default]
    FromEnvironment,
    /// Connect directly, whatever the environment says.
    Disabled,
    /// Send every request through this proxy (`http://host:port`; credentials in the URL are
    /// allowed and never printed by this crate).
    Url(String),
}

/// How to reach Dropbox. `#[non_exhaustive]`: start from `ClientConfig::default()` or
/// [`ClientConfig::with_base_url`] and assign the fields you need on a `mut` value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Scheme and host (and port) of the API, without a trailing `/2`: Dropbox, the emulator,
    /// or a proxy. Routes go to `{base_url}/2/{route}`, tokens to `{base_url}/oauth2/token`.
    pub base_url: String,
    /// HTTP versions to speak.
    pub http_version: HttpVersion,
    /// Extra CA certificates to trust, beside the built-in web roots.
    pub ca: Option<CaSource>,
    /// Forward proxy.
    pub proxy: ProxySetting,
    /// Longest wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request, body included.
    pub request_timeout: Duration,
    /// Longest margin before an access token's expiry at which it is refreshed.
    pub token_refresh_margin: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
    /// How reads are repeated on retryable errors, and the longest server-requested wait a
    /// read honours (`max_server_wait`, 2 minutes by default; past it the read fails as
    /// incomplete, naming the wait asked for).
    pub read_retry: RetryPolicy,
    /// The longest one read may take, its retries and waits included (10 minutes by default):
    /// a server sending one byte a second cannot hold a run for hours.
    pub read_deadline: Duration,
    /// The largest response body accepted (64 MiB by default; a page of 1,000 members is
    /// about 1 MB). A longer body is not read further and the call fails as incomplete.
    pub max_response_bytes: usize,
    /// Accept a plain `http://` base URL for a host that is not loopback. Off by default: the
    /// bearer token would travel in clear.
    pub allow_insecure_http: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            http_version: HttpVersion::Auto,
            ca: None,
            proxy: ProxySetting::FromEnvironment,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            token_refresh_margin: Duration::from_secs(300),
            user_agent: concat!("teamsync/", env!("CARGO_PKG_VERSION")).to_owned(),
            read_retry: RetryPolicy::reads(),
            read_deadline: Duration::from_secs(600),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
        }
    }
}

impl ClientConfig {
    /// The defaults with another base URL (the emulator, a proxy).
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }
}

/// The default of [`ClientConfig::max_response_bytes`]: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Whether `base_url` (already checked to start with `http://` or `https://`) names a loopback
/// host: `localhost`, 127.0.0.0/8 or `::1`.
fn is_loopback(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A client of the Dropbox team API. Cheap to clone; clones share the connection pool and the
/// token cache.
#[derive(Clone)]
pub struct DropboxClient {
    http: reqwest::Client,
    base_url: Arc<str>,
    token_url: Arc<str>,
    tokens: Arc<TokenSource>,
    read_retry: RetryPolicy,
    read_deadline: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for DropboxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropboxClient")
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// A transport failure as a [`DropboxError`]: the message never includes headers, so never
/// the token.
pub(crate) fn transport_error(route: &str, error: &reqwest::Error) -> DropboxError {
    let mut message = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    DropboxError::Transport {
        route: route.to_owned(),
        message,
    }
}

impl DropboxClient {
    /// Builds a client. Fails only on unusable settings (bad CA file, bad base URL, plain
    /// `http://` to a host that is not loopback without `allow_insecure_http`).
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self, DropboxError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(DropboxError::Config(format!(
                "base URL {} must start with http:// or https://",
                teamsync_core::text::quoted(&base_url)
            )));
        }
        if base_url.starts_with("http://") && !is_loopback(&base_url) && !config.allow_insecure_http
        {
            return Err(DropboxError::Config(format!(
                "base URL {} is plain http:// to a host that is not loopback: the access token would travel in clear; use https://, or allow it explicitly (allow_insecure_http)",
                teamsync_core::text::quoted(&base_url)
            )));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone());
        builder = match config.http_version {
            HttpVersion::Auto => builder,
            HttpVersion::Http1Only => builder.http1_only(),
            HttpVersion::Http2Only => builder.http2_prior_knowledge(),
        };
        builder = match &config.proxy {
            ProxySetting::FromEnvironment => builder,
            ProxySetting::Disabled => builder.no_proxy(),
            ProxySetting::Url(url) => builder.proxy(reqwest::Proxy::all(url).map_err(|_| {
                DropboxError::Config("the proxy URL is not a valid URL".to_owned())
            })?),
        };
        if let Some(ca) = &config.ca {
            let pem = match ca {
                CaSource::Pem(pem) => pem.clone(),
                CaSource::File(path) => std::fs::read(path).map_err(|e| {
                    DropboxError::Config(format!("reading CA file {}: {e}", path.display()))
                })?,
            };
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                DropboxError::Config(format!("CA certificates are not valid PEM: {e}"))
            })?;
            if certificates.is_empty() {
                return Err(DropboxError::Config(
                    "the CA PEM holds no certificate".to_owned(),
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| DropboxError::Config(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            token_url: format!("{base_url}/oauth2/token").into(),
            base_url: base_url.into(),
            tokens: Arc::new(TokenSource::new(
                credentials,
                config.token_refresh_margin,
                config.max_response_bytes,
            )),
            read_retry: config.read_retry,
            read_deadline: config.read_deadline,
            max_response_bytes: config.max_response_bytes.max(1),
        })
    }

    /// The base URL routes are sent to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Calls a read route (one that changes nothing) like [`DropboxClient::call`], repeating
    /// it on retryable errors under [`ClientConfig::read_retry`], all within
    /// [`ClientConfig::read_deadline`]. A server wait past the policy's cap, or the deadline,
    /// fails the read as [`DropboxError::Incomplete`].
    pub async fn read<A: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        route: &str,
        arg: &A,
    ) -> Result<R, DropboxError> {
        let attempts = async {
            let mut retries = 0u32;
            loop {
                let error = match self.call(route, arg).await {
                    Ok(answer) => return Ok(answer),
                    Err(error) => error,
                };
                // The jitter seed: the route, so concurrent reads of different routes spread.
                let seed = route
                    .bytes()
                    .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
                match self.read_retry.decide(error.kind(), retries, seed) {
                    RetryDecision::Retry { after } => {
                        tracing::debug!(%error, retries, ?after, "repeating a read");
                        tokio::time::sleep(after).await;
                        retries += 1;
                    }
                    RetryDecision::GiveUp(reason @ GiveUp::WaitTooLong { .. }) => {
                        return Err(DropboxError::Incomplete {
                            route: route.to_owned(),
                            reason: reason.to_string(),
                        });
                    }
                    RetryDecision::GiveUp(_) => return Err(error),
                }
            }
        };
        match tokio::time::timeout(self.read_deadline, attempts).await {
            Ok(result) => result,
            Err(_) => Err(DropboxError::Incomplete {
                route: route.to_owned(),
                reason: format!(
                    "no complete answer within the read deadline of {} (read_deadline)",
                    teamsync_core::text::human_duration(self.read_deadline)
                ),
            }),
        }
    }

    /// Calls an RPC route: `POST {base}/2/{route}` with a JSON argument, JSON result. Never
    /// repeated (but for one token refresh): the caller decides.
    pub async fn call<A: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        route: &str,
        arg: &A,
    ) -> Result<R, DropboxError> {
        let body = serde_json::to_vec(arg)
            .map_err(|e| DropboxError::Config(format!("{route}: encoding argument: {e}")))?;
        let token = self.tokens.bearer(&self.http, &self.token_url).await?;
        let answer = match self.send(route, &body, &token).await {
            Err(error) if error.is_expired_token() && self.tokens.can_refresh() => {
                let token = self
                    .tokens
                    .refresh_after_expiry(&token, &self.http, &self.token_url)
                    .await?;
                self.send(route, &body, &token).await
            }
            other => other,
        }?;
        serde_json::from_slice(&answer).map_err(|e| DropboxError::Decode {
            route: route.to_owned(),
            message: e.to_string(),
        })
    }

    async fn send(
        &self,
        route: &str,
        body: &[u8],
        token: &Secret,
    ) -> Result<Vec<u8>, DropboxError> {
        let started = Instant::now();
        let mut authorization =
            reqwest::header::HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(
                |_| {
                    DropboxError::Config(
                        "the access token holds characters not allowed in a header".to_owned(),
                    )
                },
            )?;
        authorization.set_sensitive(true);
        let response = self
            .http
            .post(format!("{}/2/{route}", self.base_url))
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| transport_error(route, &e))?;
        let status = response.status().as_u16();
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        let retry_after = header(&response, reqwest::header::RETRY_AFTER);
        let answer = read_limited(route, response, self.max_response_bytes).await?;
        tracing::debug!(
            route,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "dropbox call"
        );
        if status == 200 {
            Ok(answer)
        } else {
            Err(classify_response(
                route,
                status,
                content_type.as_deref(),
                retry_after.as_deref(),
                &answer,
            ))
        }
    }

    // ───────────────────────────── team ─────────────────────────────

    /// `team/get_info`: the connection test.
    pub async fn team_get_info(&self) -> Result<TeamGetInfoResult, DropboxError> {
        self.read("team/get_info", &()).await
    }

    // ───────────────────────────── members ─────────────────────────────

    /// `team/members/list_v2`.
    pub async fn members_list_v2(
        &self,
        arg: &MembersListArg,
    ) -> Result<MembersListV2Result, DropboxError> {
        self.read("team/members/list_v2", arg).await
    }

    /// `team/members/list/continue_v2`.
    pub async fn members_list_continue_v2(
        &self,
        cursor: &str,
    ) -> Result<MembersListV2Result, DropboxError> {
        self.read(
            "team/members/list/continue_v2",
            &CursorArg {
                cursor: cursor.to_owned(),
            },
        )
        .await
    }

    /// `team/members/get_info_v2`.
    pub async fn members_get_info_v2(
        &self,
        arg: &MembersGetInfoV2Arg,
    ) -> Result<MembersGetInfoV2Result, DropboxError> {
        self.read("team/members/get_info_v2", arg).await
    }

    /// `team/members/add_v2` (at most 20 members).
    pub async fn members_add_v2(
        &self,
        arg: &MembersAddV2Arg,
    ) -> Result<MembersAddStatus, DropboxError> {
        self.call("team/members/add_v2", arg).await
    }

    /// `team/members/add/job_status/get_v2`.
    pub async fn members_add_job_status_get_v2(
        &self,
        async_job_id: &str,
    ) -> Result<MembersAddStatus, DropboxError> {
        self.read(
            "team/members/add/job_status/get_v2",
            &PollArg {
                async_job_id: async_job_id.to_owned(),
            },
        )
        .await
    }

    /// `team/members/set_profile_v2`.
    pub async fn members_set_profile_v2(
        &self,
        arg: &MembersSetProfileArg,
    ) -> Result<TeamMemberInfoV2Result, DropboxError> {
        self.call("team/members/set_profile_v2", arg).await
    }

    /// `team/members/suspend`.
    pub async fn members_suspend(&self, arg: &MembersDeactivateArg) -> Result<(), DropboxError> {
        self.call("team/members/suspend", arg).await
    }

    /// `team/members/unsuspend`.
    pub async fn members_unsuspend(&self, user: &UserSelectorArg) -> Result<(), DropboxError> {
        self.call("team/members/unsuspend", &UserArg { user: user.clone() })
            .await
    }

    /// `team/members/remove`.
    pub async fn members_remove(
        &self,
        arg: &MembersRemoveArg,
    ) -> Result<EmptyJobStatus, DropboxError> {
        self.call("team/members/remove", arg).await
    }

    /// `team/members/remove/job_status/get`.
    pub async fn members_remove_job_status_get(
        &self,
        async_job_id: &str,
    ) -> Result<EmptyJobStatus, DropboxError> {
        self.read(
            "team/members/remove/job_status/get",
            &PollArg {
                async_job_id: async_job_id.to_owned(),
            },
        )
        .await
    }

    /// `team/members/recover`.
    pub async fn members_recover(&self, user: &UserSelectorArg) -> Result<(), DropboxError> {
        self.call("team/members/recover", &UserArg { user: user.clone() })
            .await
    }

    // ───────────────────────────── groups ─────────────────────────────

    /// `team/groups/list`.
    pub async fn groups_list(&self, arg: &GroupsListArg) -> Result<GroupsListResult, DropboxError> {
        self.read("team/groups/list", arg).await
    }

    /// `team/groups/list/continue`.
    pub async fn groups_list_continue(
        &self,
        cursor: &str,
    ) -> Result<GroupsListResult, DropboxError> {
        self.read(
            "team/groups/list/continue",
            &CursorArg {
                cursor: cursor.to_owned(),
            },
        )
        .await
    }

    /// `team/groups/create`.
    pub async fn groups_create(&self, arg: &GroupCreateArg) -> Result<GroupFullInfo, DropboxError> {
        self.call("team/groups/create", arg).await
    }

    /// `team/groups/update`.
    pub async fn groups_update(
        &self,
        arg: &GroupUpdateArgs,
    ) -> Result<GroupFullInfo, DropboxError> {
        self.call("team/groups/update", arg).await
    }

    /// `team/groups/delete` (the argument is a bare selector).
    pub async fn groups_delete(
        &self,
        group: &GroupSelector,
    ) -> Result<EmptyJobStatus, DropboxError> {
        self.call("team/groups/delete", group).await
    }

    /// `team/groups/job_status/get`.
    pub async fn groups_job_status_get(
        &self,
        async_job_id: &str,
    ) -> Result<EmptyJobStatus, DropboxError> {
        self.read(
            "team/groups/job_status/get",
            &PollArg {
                async_job_id: async_job_id.to_owned(),
            },
        )
        .await
    }

    /// `team/groups/members/add`.
    pub async fn groups_members_add(
        &self,
        arg: &GroupMembersAddArg,
    ) -> Result<GroupMembersChangeResult, DropboxError> {
        self.call("team/groups/members/add", arg).await
    }

    /// `team/groups/members/remove`.
    pub async fn groups_members_remove(
        &self,
        arg: &GroupMembersRemoveArg,
    ) -> Result<GroupMembersChangeResult, DropboxError> {
        self.call("team/groups/members/remove", arg).await
    }

    /// `team/groups/members/list`.
    pub async fn groups_members_list(
        &self,
        arg: &GroupsMembersListArg,
    ) -> Result<GroupsMembersListResult, DropboxError> {
        self.read("team/groups/members/list", arg).await
    }

    /// `team/groups/members/list/continue`.
    pub async fn groups_members_list_continue(
        &self,
        cursor: &str,
    ) -> Result<GroupsMembersListResult, DropboxError> {
        self.read(
            "team/groups/members/list/continue",
            &CursorArg {
                cursor: cursor.to_owned(),
            },
        )
        .await
    }
}

/// Reads a response body streamed, up to `limit` bytes. A longer body (announced or sent) is
/// not read further: the call fails as [`DropboxError::Incomplete`].
pub(crate) async fn read_limited(
    route: &str,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, DropboxError> {
    let too_large = || DropboxError::Incomplete {
        route: route.to_owned(),
        reason: format!(
            "the response body is larger than the {limit} bytes allowed (max_response_bytes)"
        ),
    };
    if response
        .content_length()
        .is_some_and(|announced| announced > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(route, &e))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:1/x",
            "http://[::1]:80",
            "http://user:pw@127.0.0.1:9",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://example.com",
            "http://10.0.0.1",
            "http://127.0.0.1.example.com",
            "http://[::2]",
            "http://localhost.evil.test",
            "http://127.0.0.1@evil.test",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
