//! The HTTP side: the accept loop (plain or TLS, HTTP/1.1 and HTTP/2), fault injection, auth
//! checks, the token endpoint, admin routes, and Dropbox's status/content-type conventions.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::auth::{Auth, TokenRejection};
use crate::config::Faults;
use crate::rng::Rng;
use crate::routes::{self, Reply, RouteSettings};
use crate::seed::TeamSeed;
use crate::team::Team;
use crate::wire::RouteError;

pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// Largest request body accepted (a 20-member add is a few kB).
const MAX_BODY: usize = 16 << 20;

/// Everything mutable, behind one lock. No `.await` happens while it is held.
pub(crate) struct Inner {
    pub(crate) team: Team,
    pub(crate) auth: Auth,
    pub(crate) faults: Faults,
    fault_rng: Rng,
    /// Dots of `error_summary`, request ids: kept apart so they do not shift fault decisions.
    misc_rng: Rng,
    /// Current rate-limit window: when it opened and how many calls it has seen.
    window: Option<(Instant, u32)>,
    pub(crate) calls: BTreeMap<String, u64>,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    pub(crate) settings: RouteSettings,
}

impl Shared {
    pub(crate) fn new(
        team: Team,
        auth: Auth,
        faults: Faults,
        seed: u64,
        settings: RouteSettings,
    ) -> Shared {
        Shared {
            inner: Mutex::new(Inner {
                team,
                auth,
                faults,
                fault_rng: Rng::new(seed ^ 0xfa17_fa17),
                misc_rng: Rng::new(seed ^ 0x3157_3157),
                window: None,
                calls: BTreeMap::new(),
            }),
            settings,
        }
    }

    /// The state lock; a panic elsewhere cannot leave the team half-changed (every rule checks
    /// before it mutates), so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.faults = faults;
        inner.window = None;
    }
}

/// Runs the accept loop until `shutdown` turns true; then every connection is aborted.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Small JSON responses must not wait for Nagle + delayed ACK.
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let tls = tls.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    // Connection errors (client went away, injected drops) end only that connection.
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    connections.shutdown().await;
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn response(status: u16, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// JSON with `Content-Type: application/json` exactly (the Python SDK compares the string).
fn json_response(status: u16, value: &Value) -> Response<Body> {
    response(status, "application/json", full(value.to_string()))
}

fn text_response(status: u16, text: impl Into<String>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", full(text.into()))
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(text_response(400, "request body unreadable or too large")),
    };
    let mut resp = match (&method, path.as_str()) {
        (&Method::POST, "/oauth2/token") => {
            let reply = || token_endpoint(&shared, &headers, query.as_deref(), &body);
            let faulted = {
                let mut inner = shared.lock();
                *inner.calls.entry("oauth2/token".to_owned()).or_insert(0) += 1;
                inner.faults.include_token_endpoint
            };
            if faulted {
                return Ok(with_faults(&shared, reply).await);
            }
            reply()
        }
        (&Method::POST, p) if p.starts_with("/2/") => {
            return Ok(api_call(&shared, &p[3..], &headers, &body).await);
        }
        (_, p) if p.starts_with("/__emulator/") => admin(&shared, &method, p, &body),
        _ => text_response(404, format!("Unknown endpoint {method} {path}")),
    };
    add_request_id(&shared, &mut resp);
    Ok(resp)
}

fn add_request_id(shared: &Shared, resp: &mut Response<Body>) {
    let id = shared.lock().misc_rng.hex(32);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-dropbox-request-id", v);
    }
}

/// What the fault generator decided for one call.
struct FaultPlan {
    delay: Duration,
    rate_limited: Option<u64>,
    server_error: bool,
    drop_connection: bool,
}

fn plan_faults(inner: &mut Inner, now: Instant) -> FaultPlan {
    let faults = inner.faults.clone();
    let mut rate_limited = None;
    if let Some(limit) = &faults.rate_limit {
        let window = Duration::from_millis(limit.window_ms.max(1));
        let (start, count) = match inner.window {
            Some((start, count)) if now < start + window => (start, count),
            _ => (now, 0),
        };
        inner.window = Some((start, count.saturating_add(1)));
        if count >= limit.max_calls {
            let left = (start + window).saturating_duration_since(now);
            rate_limited = Some(left.as_secs_f64().ceil().max(1.0) as u64);
        }
    }
    let rng = &mut inner.fault_rng;
    let jitter = if faults.latency_jitter_ms > 0 {
        rng.up_to(faults.latency_jitter_ms)
    } else {
        0
    };
    let server_error = rng.chance(faults.server_error_rate);
    let drop_connection = rng.chance(faults.drop_connection_rate);
    FaultPlan {
        delay: Duration::from_millis(faults.latency_ms + jitter),
        rate_limited,
        server_error,
        drop_connection,
    }
}

const ACCEPTED_CONTENT_TYPES: [&str; 3] = [
    "application/json",
    "application/json; charset=utf-8",
    "text/plain; charset=dropbox-cors-hack",
];

async fn api_call(
    shared: &Shared,
    route: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<Body> {
    let route = route.trim_end_matches('/');
    *shared.lock().calls.entry(route.to_owned()).or_insert(0) += 1;
    with_faults(shared, || api_reply(shared, route, headers, body)).await
}

/// Answers with `reply()` under the configured faults: delay, then 429, 500, or the reply
/// (possibly cut halfway).
async fn with_faults(shared: &Shared, reply: impl FnOnce() -> Response<Body>) -> Response<Body> {
    let plan = plan_faults(&mut shared.lock(), Instant::now());
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let mut resp = if let Some(retry_after) = plan.rate_limited {
        let body = json!({
            "error_summary": "too_many_requests/..",
            "error": {"reason": {".tag": "too_many_requests"}, "retry_after": retry_after},
        });
        let mut resp = json_response(429, &body);
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        resp
    } else if plan.server_error {
        text_response(
            500,
            "Internal Server Error (injected by sync-dropbox-emulator)",
        )
    } else {
        reply()
    };
    add_request_id(shared, &mut resp);
    if plan.drop_connection {
        truncate(resp).await
    } else {
        resp
    }
}

/// Sends the headers and half the body, then fails the body so the connection is cut.
async fn truncate(resp: Response<Body>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(half)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped (injected fault)",
        )),
    ];
    let mut resp = Response::from_parts(
        parts,
        StreamBody::new(futures::stream::iter(frames)).boxed(),
    );
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    resp
}

fn api_reply(shared: &Shared, route: &str, headers: &HeaderMap, body: &Bytes) -> Response<Body> {
    let Some(scope) = routes::required_scope(route) else {
        return text_response(404, format!("Unknown API function: \"{route}\""));
    };
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase());
    match content_type {
        Some(ct) if ACCEPTED_CONTENT_TYPES.contains(&ct.as_str()) => {}
        None if body.is_empty() => {}
        other => {
            return text_response(
                400,
                format!(
                    "Error in call to API function \"{route}\": Bad HTTP \"Content-Type\" header: {:?}.  Expecting one of \"application/json\", \"application/json; charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\".",
                    other.unwrap_or_default()
                ),
            );
        }
    }
    let token = match headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        None => {
            return text_response(
                400,
                format!(
                    "Error in call to API function \"{route}\": Must provide HTTP header \"Authorization\" or URL parameter \"authorization\"."
                ),
            );
        }
        Some(value) => match value.strip_prefix("Bearer ") {
            Some(token) => token.trim().to_owned(),
            None => {
                return text_response(
                    400,
                    format!(
                        "Error in call to API function \"{route}\": Invalid authorization value in HTTP header \"Authorization\": expected \"Bearer <oauth2-access-token>\"."
                    ),
                );
            }
        },
    };
    // Void arguments: an empty body means null.
    let arg: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return text_response(
                    400,
                    format!(
                        "Error in call to API function \"{route}\": request body: could not decode input as JSON: {e}"
                    ),
                );
            }
        }
    };
    let mut inner = shared.lock();
    if let Err(rejection) = inner.auth.check(&token, scope, Instant::now()) {
        let dots = inner.misc_rng.up_to(3) as usize;
        let error = match rejection {
            TokenRejection::Invalid => RouteError::tag("invalid_access_token"),
            TokenRejection::Expired => RouteError::tag("expired_access_token"),
            TokenRejection::MissingScope(scope) => {
                let mut e = RouteError::tag("missing_scope");
                if let Some(obj) = e.error.as_object_mut() {
                    obj.insert("required_scope".into(), json!(scope));
                }
                e
            }
        };
        return json_response(401, &error.body(dots));
    }
    let inner = &mut *inner;
    match routes::dispatch(
        &mut inner.team,
        shared.settings,
        route,
        &arg,
        SystemTime::now(),
    ) {
        Reply::Ok(value) => json_response(200, &value),
        Reply::OkSerialized(body) => response(200, "application/json", full(body)),
        Reply::Route(error) => {
            let dots = inner.misc_rng.up_to(3) as usize;
            json_response(409, &error.body(dots))
        }
        Reply::BadInput(msg) => text_response(
            400,
            format!("Error in call to API function \"{route}\": request body: {msg}"),
        ),
    }
}

fn token_endpoint(
    shared: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Response<Body> {
    let mut form: HashMap<String, String> = HashMap::new();
    if let Some(q) = query {
        form.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    form.extend(form_urlencoded::parse(body).into_owned());
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(k, s)| (k.to_owned(), s.to_owned()))
        });
    let mut inner = shared.lock();
    let inner = &mut *inner;
    match inner
        .auth
        .grant(&form, basic, Instant::now(), &inner.team.team_id)
    {
        Ok(body) => json_response(200, &body),
        Err(e) => json_response(e.status, &e.body),
    }
}

/// Admin routes for tests and the binary: state, call counts, seeding, faults, codes.
fn admin(shared: &Shared, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    match (method, path) {
        (&Method::GET, "/__emulator/state") => {
            let state = shared.lock().team.state();
            match serde_json::to_value(&state) {
                Ok(v) => json_response(200, &v),
                Err(e) => text_response(500, e.to_string()),
            }
        }
        (&Method::GET, "/__emulator/calls") => {
            let calls = shared.lock().calls.clone();
            json_response(200, &json!(calls))
        }
        (&Method::POST, "/__emulator/calls/reset") => {
            shared.lock().calls.clear();
            json_response(200, &Value::Null)
        }
        (&Method::POST, "/__emulator/seed") => match serde_json::from_slice::<TeamSeed>(body) {
            Ok(seed) => match shared.lock().team.load_seed(&seed, true, SystemTime::now()) {
                Ok(()) => json_response(200, &Value::Null),
                Err(e) => text_response(400, format!("invalid seed: {e}")),
            },
            Err(e) => text_response(400, format!("invalid seed JSON: {e}")),
        },
        (&Method::POST, "/__emulator/faults") => {
            let parsed = if body.is_empty() {
                Ok(Faults::default())
            } else {
                serde_json::from_slice::<Faults>(body)
            };
            match parsed {
                Ok(faults) => {
                    shared.set_faults(faults);
                    json_response(200, &Value::Null)
                }
                Err(e) => text_response(400, format!("invalid faults JSON: {e}")),
            }
        }
        (&Method::POST, "/__emulator/authorization_code") => {
            let code = shared.lock().auth.authorization_code();
            json_response(200, &json!({ "code": code }))
        }
        (&Method::POST, "/__emulator/token") => {
            // {"scopes": [...]}: a non-expiring token with exactly these scopes.
            let scopes: Vec<String> = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("scopes").cloned())
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let token = shared.lock().auth.token_with_scopes(&scopes);
            json_response(200, &json!({ "access_token": token }))
        }
        (&Method::POST, "/__emulator/accept_invitations") => {
            let emails: Vec<String> = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("emails").cloned())
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
            let accepted = shared
                .lock()
                .team
                .accept_invitations(&emails, SystemTime::now());
            json_response(200, &json!({ "accepted": accepted }))
        }
        (&Method::GET, "/__emulator/health") => json_response(200, &json!({"ok": true})),
        _ => text_response(404, format!("Unknown admin endpoint {method} {path}")),
    }
}
