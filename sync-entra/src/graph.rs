//! The HTTP side: one reqwest client (rustls, no redirects, timeouts), the token cache, GETs
//! with retries (429/503/502/504/500 and dropped connections; `Retry-After` or exponential
//! backoff, every wait bounded), bounded bodies, and listings that follow `@odata.nextLink`
//! whole — on the Graph host only, for a bounded number of pages.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;
use teamsync_core::{DirectoryError, DirectoryErrorKind};

use crate::auth::{AppCredential, CachedToken};
use crate::config::{EntraConfig, RetryPolicy, Secret};
use crate::map::printable;

/// A refused Graph request: status and Graph's `error.code` / `error.message`.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

/// What a GET can end in besides a page.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Graph answered with an error that retrying will not change.
    Refused(Refusal),
    /// Already a directory error (transport, retries exhausted, token, limits).
    Directory(DirectoryError),
}

impl From<DirectoryError> for Failure {
    fn from(e: DirectoryError) -> Self {
        Failure::Directory(e)
    }
}

fn incomplete(message: impl Into<String>) -> DirectoryError {
    DirectoryError::new(DirectoryErrorKind::Incomplete, message)
}

/// Graph's error body, made printable.
fn refusal(status: u16, body: &[u8]) -> Refusal {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(|s| printable(s, 300))
    };
    Refusal {
        status,
        code: field("code").unwrap_or_default(),
        message: field("message").unwrap_or_else(|| {
            printable(&String::from_utf8_lossy(&body[..body.len().min(300)]), 300)
        }),
    }
}

pub(crate) struct Graph {
    http: reqwest::Client,
    pub(crate) graph_url: String,
    token_url: String,
    scope: String,
    client_id: String,
    credential: AppCredential,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    retry: RetryPolicy,
    low_priority: bool,
    max_body: usize,
    pub(crate) max_pages: usize,
    /// Time spent waiting between retries in the current read, in milliseconds.
    waited_ms: AtomicU64,
    /// Requests sent (for diagnostics), and a counter feeding the backoff jitter.
    pub(crate) requests: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("graph_url", &self.graph_url)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl Graph {
    pub(crate) fn new(config: &EntraConfig) -> Result<Self, DirectoryError> {
        let (authority, graph) = config.cloud.endpoints();
        for (what, url) in [("authority", &authority), ("Graph", &graph)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!(
                        "the {what} URL {} must start with https://",
                        teamsync_core::text::quoted(url)
                    ),
                ));
            }
        }
        let tenant = config.tenant_id.trim();
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(DirectoryError::new(
                DirectoryErrorKind::Config,
                format!(
                    "tenant_id {} must be a tenant GUID or a domain name",
                    teamsync_core::text::quoted(tenant)
                ),
            ));
        }
        if config.client_id.trim().is_empty() {
            return Err(DirectoryError::new(
                DirectoryErrorKind::Config,
                "client_id is empty",
            ));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("teamsync-entra/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!("reading CA file {}: {e}", path.display()),
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!("CA file {} is not PEM: {e}", path.display()),
                )
            })?;
            if certs.is_empty() {
                return Err(DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!("CA file {} holds no certificate", path.display()),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            DirectoryError::new(
                DirectoryErrorKind::Config,
                format!("building the HTTP client: {e}"),
            )
        })?;
        Ok(Self {
            http,
            token_url: format!("{authority}/{tenant}/oauth2/v2.0/token"),
            scope: format!("{graph}/.default"),
            graph_url: graph,
            client_id: config.client_id.trim().to_owned(),
            credential: AppCredential::new(&config.credential)?,
            token: tokio::sync::Mutex::new(None),
            retry: config.retry,
            low_priority: config.low_throttle_priority,
            max_body: config.max_response_bytes,
            max_pages: config.max_pages.max(1),
            waited_ms: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            last_error: Mutex::new(None),
        })
    }

    /// Starts a new read: the wait budget is per snapshot.
    pub(crate) fn begin_read(&self) {
        self.waited_ms.store(0, Ordering::Relaxed);
    }

    /// A valid access token, from the cache or the token endpoint.
    pub(crate) async fn access_token(&self, force: bool) -> Result<Secret, DirectoryError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached
            .as_ref()
            .filter(|t| !force && t.is_fresh(Instant::now()))
        {
            return Ok(t.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch_token(&self) -> Result<CachedToken, DirectoryError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let form = self
                .credential
                .token_form(&self.client_id, &self.scope, &self.token_url)?;
            let sent = self
                .http
                .post(&self.token_url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await;
            let (retry_after, message, connect) = match sent {
                Err(e) => (
                    None,
                    transport_message("the token endpoint", &e),
                    e.is_connect(),
                ),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(resp.headers());
                    match read_body(resp, self.max_body).await {
                        Err(message) => (None, message, false),
                        Ok(body) if status.is_success() => return parse_token(&body),
                        Ok(_) if retryable(status) => (
                            retry_after,
                            format!("the token endpoint answered {status}"),
                            false,
                        ),
                        Ok(body) => return Err(token_refused(status, &body)),
                    }
                }
            };
            self.wait_or_fail(attempt, retry_after, &message, connect)
                .await?;
        }
    }

    /// Waits before retry `attempt + 1`, or fails when attempts or the wait budget are used up.
    async fn wait_or_fail(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        message: &str,
        connect: bool,
    ) -> Result<(), DirectoryError> {
        let kind = if connect {
            DirectoryErrorKind::Connect
        } else {
            DirectoryErrorKind::Incomplete
        };
        if attempt >= self.retry.max_attempts {
            return Err(DirectoryError::new(
                kind,
                format!("{message} (gave up after {attempt} attempts)"),
            ));
        }
        let wait = match retry_after {
            Some(d) => d.min(self.retry.backoff_max),
            None => {
                let step = self
                    .retry
                    .backoff_base
                    .saturating_mul(1u32 << (attempt - 1).min(16))
                    .min(self.retry.backoff_max);
                let n = self.requests.fetch_add(1, Ordering::Relaxed);
                let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    ^ u64::from(attempt).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                x ^= x >> 31;
                step.mul_f64(0.5 + (x % 1000) as f64 / 2000.0)
            }
        };
        let waited = self
            .waited_ms
            .fetch_add(wait.as_millis() as u64, Ordering::Relaxed)
            + wait.as_millis() as u64;
        if Duration::from_millis(waited) > self.retry.max_total_wait {
            return Err(DirectoryError::new(
                kind,
                format!(
                    "{message} (retries would wait longer than {} in total)",
                    teamsync_core::text::human_duration(self.retry.max_total_wait)
                ),
            ));
        }
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(message.to_owned());
        }
        tracing::debug!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            "{message}; retrying"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// GET a Graph URL (absolute) and parse its JSON, retrying what may pass.
    pub(crate) async fn get(
        &self,
        url: &str,
        extra_headers: &[(&str, &str)],
    ) -> Result<Value, Failure> {
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.access_token(false).await?;
            let mut request = self
                .http
                .get(url)
                .header(AUTHORIZATION, format!("Bearer {}", token.expose()))
                .header(ACCEPT, "application/json");
            if self.low_priority {
                request = request.header("x-ms-throttle-priority", "low");
            }
            for (name, value) in extra_headers {
                request = request.header(*name, *value);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (retry_after, message, connect) = match request.send().await {
                Err(e) => (None, transport_message("Graph", &e), e.is_connect()),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(resp.headers());
                    match read_body(resp, self.max_body).await {
                        Err(message) => (None, message, false),
                        Ok(body) if status.is_success() => {
                            return serde_json::from_slice(&body).map_err(|e| {
                                Failure::Directory(incomplete(format!(
                                    "Graph sent a page that is not JSON ({e})"
                                )))
                            });
                        }
                        Ok(body) if status == StatusCode::UNAUTHORIZED && !refreshed => {
                            // The cached token may have been revoked or expired early: one fresh token.
                            refreshed = true;
                            let r = refusal(401, &body);
                            self.access_token(true).await?;
                            (
                                Some(Duration::ZERO),
                                format!("Graph refused the token ({}: {})", r.code, r.message),
                                false,
                            )
                        }
                        Ok(body) if retryable(status) => {
                            let r = refusal(status.as_u16(), &body);
                            (
                                retry_after,
                                format!("Graph answered {status} {}", r.code),
                                false,
                            )
                        }
                        Ok(body) => return Err(Failure::Refused(refusal(status.as_u16(), &body))),
                    }
                }
            };
            self.wait_or_fail(
                attempt,
                retry_after,
                &format!("{message} for {}", self.path_of(url)),
                connect,
            )
            .await?;
        }
    }

    fn path_of<'a>(&self, url: &'a str) -> &'a str {
        let path = url.strip_prefix(self.graph_url.as_str()).unwrap_or(url);
        path.split('?').next().unwrap_or(path)
    }

    /// Every item of a listing, following `@odata.nextLink` whole until there is none. Any
    /// failure fails the listing: a partial listing is never returned.
    pub(crate) async fn list(
        &self,
        first: &str,
        extra_headers: &[(&str, &str)],
        on_item: impl FnMut(Value),
    ) -> Result<(), Failure> {
        self.list_pages(first, extra_headers, on_item, |_| {}).await
    }

    /// [`Graph::list`], calling `on_page` with the number of items of each page once its
    /// items are through `on_item` (for progress).
    pub(crate) async fn list_pages(
        &self,
        first: &str,
        extra_headers: &[(&str, &str)],
        mut on_item: impl FnMut(Value),
        mut on_page: impl FnMut(usize),
    ) -> Result<(), Failure> {
        let mut url = first.to_owned();
        let origin = format!("{}/", self.graph_url);
        for _page in 0..self.max_pages {
            let page = self.get(&url, extra_headers).await?;
            let Value::Object(mut page) = page else {
                return Err(incomplete(format!(
                    "Graph sent a page of {} that is not an object",
                    self.path_of(first)
                ))
                .into());
            };
            let next = page.remove("@odata.nextLink");
            match page.remove("value") {
                Some(Value::Array(items)) => {
                    let count = items.len();
                    items.into_iter().for_each(&mut on_item);
                    on_page(count);
                }
                _ => {
                    return Err(incomplete(format!(
                        "a page of {} has no \"value\" array",
                        self.path_of(first)
                    ))
                    .into());
                }
            }
            match next {
                None | Some(Value::Null) => return Ok(()),
                Some(Value::String(next)) => {
                    if !next.starts_with(&origin) {
                        return Err(incomplete(format!(
                            "Graph's nextLink for {} points outside {} ({}); refusing to send the token there",
                            self.path_of(first),
                            self.graph_url,
                            printable(&next, 120)
                        ))
                        .into());
                    }
                    if next == url {
                        return Err(incomplete(format!(
                            "Graph's nextLink for {} repeats the page just read",
                            self.path_of(first)
                        ))
                        .into());
                    }
                    url = next;
                }
                Some(_) => {
                    return Err(incomplete(format!(
                        "Graph's nextLink for {} is not a string",
                        self.path_of(first)
                    ))
                    .into());
                }
            }
        }
        Err(incomplete(format!(
            "{} has more than {} pages; stopping (max_pages)",
            self.path_of(first),
            self.max_pages
        ))
        .into())
    }
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (Graph sends seconds); an HTTP date or garbage counts as absent.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

fn transport_message(what: &str, e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else if e.is_body() || e.is_decode() {
        "dropped the connection mid-response"
    } else {
        "failed"
    };
    // reqwest's Display never holds headers (no token), only the URL.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("{what} {kind} ({})", printable(&detail, 300))
}

/// The body, at most `max` bytes; a cut connection or an oversize body is an error message.
async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!(
            "Graph announced a {}-byte response; the limit is {max}",
            resp.content_length().unwrap_or(0)
        ));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(format!("a response exceeded the {max}-byte limit"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport_message("Graph", &e)),
        }
    }
}

fn parse_token(body: &[u8]) -> Result<CachedToken, DirectoryError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        DirectoryError::new(
            DirectoryErrorKind::Bind,
            "the token endpoint's answer is not JSON",
        )
    })?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            DirectoryError::new(
                DirectoryErrorKind::Bind,
                "the token endpoint's answer has no access_token",
            )
        })?;
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 3600,
    };
    Ok(CachedToken::new(
        Secret::new(token),
        expires_in,
        Instant::now(),
    ))
}

/// An OAuth error from the token endpoint, as a bind error naming Entra's code.
fn token_refused(status: StatusCode, body: &[u8]) -> DirectoryError {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        v.as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(|s| printable(s, 400))
    };
    let error = field("error").unwrap_or_else(|| status.to_string());
    let description = field("error_description").unwrap_or_default();
    let hint = match error.as_str() {
        "invalid_client" => {
            " (check client_secret / certificate: the secret's value, not its id; the certificate uploaded to this app registration)"
        }
        "unauthorized_client" => {
            " (check client_id and tenant_id: the app is not registered in this tenant)"
        }
        "invalid_scope" => " (the Graph URL of the cloud does not match the authority)",
        _ => "",
    };
    DirectoryError::new(
        DirectoryErrorKind::Bind,
        format!("the token endpoint refused the app: {error}: {description}{hint}"),
    )
}
