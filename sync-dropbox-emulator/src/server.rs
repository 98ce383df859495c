//! The HTTP side: the accept loop (plain or TLS, HTTP/1.1 and HTTP/2), fault injection, auth
//! checks, the token endpoint, admin routes, and Dropbox's status/content-type conventions.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use teamsync_emulator_support::Rng;
use teamsync_emulator_support::faults::{RateWindow, latency};
use teamsync_emulator_support::http::{Body, admin_json, full, response, text_response, truncate};

use crate::auth::{Auth, TokenRejection};
use crate::config::Faults;
use crate::routes::{self, Reply, RouteSettings};
use crate::seed::TeamSeed;
use crate::team::Team;
use crate::wire::RouteError;

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
    /// Current rate-limit window.
    window: RateWindow,
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
                window: RateWindow::default(),
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
        inner.window.reset();
    }
}

/// JSON with `Content-Type: application/json` exactly (the Python SDK compares the string).
fn json_response(status: u16, value: &Value) -> Response<Body> {
    response(status, "application/json", full(value.to_string()))
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
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
    let rate_limited = faults
        .rate_limit
        .as_ref()
        .and_then(|limit| inner.window.hit(limit, now));
    let rng = &mut inner.fault_rng;
    let delay = latency(rng, faults.latency_ms, faults.latency_jitter_ms);
    let server_error = rng.chance(faults.server_error_rate);
    let drop_connection = rng.chance(faults.drop_connection_rate);
    FaultPlan {
        delay,
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
        (&Method::POST, "/__emulator/seed") => match admin_json::<TeamSeed>(body, "seed", false) {
            Ok(seed) => match shared.lock().team.load_seed(&seed, true, SystemTime::now()) {
                Ok(()) => json_response(200, &Value::Null),
                Err(e) => text_response(400, format!("invalid seed: {e}")),
            },
            Err(refused) => text_response(400, refused),
        },
        (&Method::POST, "/__emulator/faults") => match admin_json::<Faults>(body, "faults", true) {
            Ok(faults) => {
                shared.set_faults(faults);
                json_response(200, &Value::Null)
            }
            Err(refused) => text_response(400, refused),
        },
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
