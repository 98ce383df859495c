//! The HTTP side: the accept loop (plain or TLS, HTTP/1.1 and HTTP/2), fault injection, the
//! token endpoint, bearer checks, the Graph routes, admin routes, and Graph's wire conventions.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HOST, HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response};
use serde::Serialize;
use serde_json::{Value, json};
use teamsync_emulator_support::Rng;
use teamsync_emulator_support::faults::{RateWindow, latency};
use teamsync_emulator_support::http::{Body, admin_json, full, response, text_response, truncate};

use crate::auth::{Auth, TokenRejection};
use crate::config::Faults;
use crate::directory::{Cursor, GraphError, Listing, Tenant};
use crate::seed::TenantSeed;

/// Largest request body accepted (token requests and seeds).
const MAX_BODY: usize = 256 << 20;
/// Requests kept in the log ([`crate::Emulator::requests`]).
const MAX_LOGGED_REQUESTS: usize = 100_000;
/// Graph's own JSON content type.
const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// One Graph request as the emulator saw it (for tests: headers a client must send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Route key, as in [`crate::Emulator::call_counts`].
    pub route: String,
    /// The full path and query.
    pub uri: String,
    /// The `x-ms-throttle-priority` header, when sent.
    pub throttle_priority: Option<String>,
    /// The `ConsistencyLevel` header, when sent.
    pub consistency_level: Option<String>,
}

pub(crate) struct Inner {
    pub(crate) tenant: Tenant,
    pub(crate) auth: Auth,
    pub(crate) faults: Faults,
    fault_rng: Rng,
    misc_rng: Rng,
    window: RateWindow,
    page_drops: u32,
    pub(crate) calls: BTreeMap<String, u64>,
    pub(crate) requests: Vec<RequestRecord>,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    pub(crate) max_page_size: usize,
    pub(crate) https: bool,
}

impl Shared {
    pub(crate) fn new(
        tenant: Tenant,
        auth: Auth,
        faults: Faults,
        seed: u64,
        max_page_size: usize,
        https: bool,
    ) -> Shared {
        Shared {
            inner: Mutex::new(Inner {
                tenant,
                auth,
                faults,
                fault_rng: Rng::new(seed ^ 0xfa17_fa17),
                misc_rng: Rng::new(seed ^ 0x3157_3157),
                window: RateWindow::default(),
                page_drops: 0,
                calls: BTreeMap::new(),
                requests: Vec::new(),
            }),
            max_page_size: max_page_size.clamp(1, 999),
            https,
        }
    }

    /// The state lock; every mutation checks before it changes anything, so a poisoned lock is
    /// still consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.faults = faults;
        inner.window.reset();
        inner.page_drops = 0;
    }

    pub(crate) fn load_seed(&self, seed: &TenantSeed) -> Result<(), String> {
        let tenant = Tenant::from_seed(seed)?;
        let mut inner = self.lock();
        inner.auth.set_apps(&seed.apps)?;
        inner.tenant = tenant;
        Ok(())
    }
}

fn json_response(status: u16, value: &Value) -> Response<Body> {
    response(
        status,
        "application/json; charset=utf-8",
        full(value.to_string()),
    )
}

fn graph_json(status: u16, value: &Value) -> Response<Body> {
    response(status, GRAPH_JSON, full(value.to_string()))
}

fn graph_error(e: &GraphError) -> Response<Body> {
    graph_json(
        e.status,
        &json!({"error": {"code": e.code, "message": e.message, "innerError": {"date": "2026-01-01T00:00:00", "request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let base = format!("{}://{host}", if shared.https { "https" } else { "http" });
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(text_response(400, "request body unreadable or too large")),
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resp = match (&method, segments.as_slice()) {
        (&Method::POST, [tenant, "oauth2", "v2.0", "token"]) => {
            let tenant = (*tenant).to_owned();
            let faulted = {
                let mut inner = shared.lock();
                *inner.calls.entry("token".to_owned()).or_insert(0) += 1;
                inner.faults.include_token_endpoint
            };
            let reply = || token_endpoint(&shared, &tenant, &body);
            if faulted {
                with_faults(&shared, None, reply).await
            } else {
                reply()
            }
        }
        (&Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            json_response(200, &openid_configuration(&base, tenant))
        }
        (&Method::GET, ["common", "discovery", "instance"]) => json_response(
            200,
            &json!({"tenant_discovery_endpoint": format!("{base}/common/v2.0/.well-known/openid-configuration"), "api-version": "1.1",
                    "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}),
        ),
        (&Method::GET, ["v1.0", rest @ ..]) => {
            graph_call(&shared, &base, rest, query.as_deref(), &headers).await
        }
        (_, ["__emulator", rest @ ..]) => admin(&shared, &method, &rest.join("/"), &body),
        _ => graph_error(&GraphError::new(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{path}'."),
        )),
    };
    Ok(resp)
}

fn openid_configuration(base: &str, tenant: &str) -> Value {
    json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    })
}

fn token_endpoint(shared: &Shared, tenant: &str, body: &Bytes) -> Response<Body> {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let mut inner = shared.lock();
    let inner = &mut *inner;
    let known = tenant == inner.tenant.tenant_id || tenant == "organizations";
    if !known {
        return json_response(
            400,
            &json!({"error": "invalid_request", "error_codes": [90002],
                    "error_description": format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")}),
        );
    }
    let tenant_id = inner.tenant.tenant_id.clone();
    match inner.auth.grant(&tenant_id, &form) {
        Ok(body) => json_response(200, &body),
        Err(e) => json_response(e.status, &e.body),
    }
}

/// What the fault generator decided for one call.
struct FaultPlan {
    delay: Duration,
    /// 429: `Some(Some(secs))` with Retry-After, `Some(None)` without.
    throttled: Option<Option<u64>>,
    unavailable: bool,
    drop_connection: bool,
}

fn plan_faults(inner: &mut Inner, now: Instant) -> FaultPlan {
    let faults = inner.faults.clone();
    let mut throttled = faults
        .rate_limit
        .as_ref()
        .and_then(|limit| inner.window.hit(limit, now))
        .map(Some);
    let rng = &mut inner.fault_rng;
    let delay = latency(rng, faults.latency_ms, faults.latency_jitter_ms);
    if throttled.is_none() && rng.chance(faults.throttle_rate) {
        throttled = Some(None);
    }
    let unavailable = rng.chance(faults.unavailable_rate);
    let drop_connection = rng.chance(faults.drop_connection_rate);
    FaultPlan {
        delay,
        throttled,
        unavailable,
        drop_connection,
    }
}

/// Answers with `reply()` under the configured faults: delay, then 429, 503, or the reply
/// (possibly cut halfway).
async fn with_faults(
    shared: &Shared,
    retry_after_503: Option<bool>,
    reply: impl FnOnce() -> Response<Body>,
) -> Response<Body> {
    let plan = plan_faults(&mut shared.lock(), Instant::now());
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let resp = if let Some(retry_after) = plan.throttled {
        let mut resp = graph_error(&GraphError::new(
            429,
            "TooManyRequests",
            "Too many requests. Please retry after the time given in Retry-After, or back off.",
        ));
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    } else if plan.unavailable {
        let mut resp = graph_error(&GraphError::new(
            503,
            "serviceNotAvailable",
            "The service is temporarily unavailable (injected by teamsync-graph-emulator).",
        ));
        if retry_after_503.unwrap_or(false) {
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(1u64));
        }
        resp
    } else {
        reply()
    };
    if plan.drop_connection {
        truncate(resp).await
    } else {
        resp
    }
}

/// The parsed OData query options a listing honours.
struct Query {
    select: Option<Vec<String>>,
    top: Option<usize>,
    skiptoken: Option<String>,
    /// The original query without `$skiptoken`, kept in nextLinks as Graph does.
    carried: String,
}

fn parse_query(query: Option<&str>) -> Result<Query, GraphError> {
    let mut q = Query {
        select: None,
        top: None,
        skiptoken: None,
        carried: String::new(),
    };
    let mut carried = Vec::new();
    let raw = query.unwrap_or_default();
    for (piece, (key, value)) in raw
        .split('&')
        .filter(|p| !p.is_empty())
        .zip(form_urlencoded::parse(raw.as_bytes()))
    {
        match key.as_ref() {
            "$skiptoken" => {
                q.skiptoken = Some(value.into_owned());
                continue;
            }
            "$select" => {
                q.select = Some(
                    value
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
            }
            "$top" => {
                let top: usize = value.trim().parse().map_err(|_| {
                    GraphError::bad_request(format!("Invalid page size specified: '{value}'."))
                })?;
                if !(1..=999).contains(&top) {
                    return Err(GraphError::new(
                        400,
                        "Request_UnsupportedQuery",
                        format!(
                            "Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
                        ),
                    ));
                }
                q.top = Some(top);
            }
            "$count" | "$search" | "$orderby" | "$filter" | "$expand" => {
                return Err(GraphError::new(
                    400,
                    "Request_UnsupportedQuery",
                    format!(
                        "The query option '{key}' is not supported by teamsync-graph-emulator."
                    ),
                ));
            }
            _ => {}
        }
        carried.push(piece);
    }
    q.carried = carried.join("&");
    Ok(q)
}

/// The permissions (any one of) that let an app-only token read a route.
fn required_roles(listing: Option<Listing>, route: &str) -> &'static [&'static str] {
    match (listing, route) {
        (Some(Listing::Users | Listing::DeletedUsers), _) | (None, "users/{id}") => &[
            "User.Read.All",
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (Some(Listing::Groups), _) | (None, "groups/{id}") => &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (Some(Listing::Members), _) => &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        _ => &[
            "Application.Read.All",
            "Application.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    }
}

async fn graph_call(
    shared: &Shared,
    base: &str,
    segments: &[&str],
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response<Body> {
    let (route, listing, key): (&str, Option<Listing>, String) = match segments {
        ["users"] => ("users", Some(Listing::Users), String::new()),
        ["users", id] => ("users/{id}", None, (*id).to_owned()),
        ["groups"] => ("groups", Some(Listing::Groups), String::new()),
        ["groups", id] => ("groups/{id}", None, (*id).to_owned()),
        ["groups", id, "members"] => (
            "groups/{id}/members",
            Some(Listing::Members),
            (*id).to_owned(),
        ),
        ["servicePrincipals", id] => ("servicePrincipals/{id}", None, (*id).to_owned()),
        ["servicePrincipals", id, "appRoleAssignedTo"] => (
            "servicePrincipals/{id}/appRoleAssignedTo",
            Some(Listing::AppRoleAssignedTo),
            (*id).to_owned(),
        ),
        // `graph.` is the namespace's alias; Microsoft's SDKs send the short form.
        [
            "directory",
            "deletedItems",
            "microsoft.graph.user" | "graph.user",
        ] => (
            "directory/deletedItems/microsoft.graph.user",
            Some(Listing::DeletedUsers),
            String::new(),
        ),
        _ => {
            return graph_error(&GraphError::new(
                400,
                "BadRequest",
                format!(
                    "Resource not found for the segment '{}'.",
                    segments.join("/")
                ),
            ));
        }
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after_503 = {
        let mut inner = shared.lock();
        *inner.calls.entry(route.to_owned()).or_insert(0) += 1;
        if inner.requests.len() < MAX_LOGGED_REQUESTS {
            let uri = format!(
                "/v1.0/{}{}",
                segments.join("/"),
                query.map(|q| format!("?{q}")).unwrap_or_default()
            );
            inner.requests.push(RequestRecord {
                route: route.to_owned(),
                uri,
                throttle_priority: header("x-ms-throttle-priority"),
                consistency_level: header("consistencylevel"),
            });
        }
        inner.faults.retry_after_on_503
    };
    let mut dropped_page = false;
    let resp = with_faults(shared, Some(retry_after_503), || {
        let (resp, drop) =
            graph_reply(shared, base, route, listing, &key, segments, query, headers);
        dropped_page = drop;
        resp
    })
    .await;
    let mut resp = resp;
    let id = shared.lock().misc_rng.hex(32);
    let id = format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("request-id", v.clone());
        resp.headers_mut().insert("client-request-id", v);
    }
    if dropped_page {
        truncate(resp).await
    } else {
        resp
    }
}

/// The reply to an authorised Graph call, and whether the page-drop fault hits it.
#[allow(clippy::too_many_arguments)]
fn graph_reply(
    shared: &Shared,
    base: &str,
    route: &str,
    listing: Option<Listing>,
    key: &str,
    segments: &[&str],
    query: Option<&str>,
    headers: &HeaderMap,
) -> (Response<Body>, bool) {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let mut inner = shared.lock();
    let inner = &mut *inner;
    let roles = match token.map(|t| inner.auth.check(t, Instant::now())) {
        None => {
            return (
                graph_error(&GraphError::new(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token is empty.",
                )),
                false,
            );
        }
        Some(Err(TokenRejection::Invalid)) => {
            return (
                graph_error(&GraphError::new(
                    401,
                    "InvalidAuthenticationToken",
                    "IDX14100: JWT is not well formed, there are no dots (.).",
                )),
                false,
            );
        }
        Some(Err(TokenRejection::Expired)) => {
            return (
                graph_error(&GraphError::new(
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                )),
                false,
            );
        }
        Some(Ok(roles)) => roles,
    };
    if !required_roles(listing, route)
        .iter()
        .any(|r| roles.iter().any(|have| have == r))
    {
        return (
            graph_error(&GraphError::new(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )),
            false,
        );
    }
    let q = match parse_query(query) {
        Ok(q) => q,
        Err(e) => return (graph_error(&e), false),
    };
    if let Some(select) = &q.select {
        let check_as = listing.unwrap_or(if route.starts_with("users") {
            Listing::Users
        } else {
            Listing::Groups
        });
        if let Err(e) = Tenant::check_select(check_as, select) {
            return (graph_error(&e), false);
        }
    }
    let select = q.select.as_deref();
    let Some(listing) = listing else {
        let single = match route {
            "users/{id}" => inner.tenant.user(key, select),
            "groups/{id}" => inner.tenant.group(key, select),
            _ => inner.tenant.service_principal(key),
        };
        return match single {
            Ok(mut v) => {
                if let Some(obj) = v.as_object_mut() {
                    obj.insert(
                        "@odata.context".into(),
                        json!(format!("{base}/v1.0/$metadata#{}/$entity", segments[0])),
                    );
                }
                (graph_json(200, &v), false)
            }
            Err(e) => (graph_error(&e), false),
        };
    };
    let (offset, number) = match q.skiptoken.as_deref().map(Cursor::decode) {
        None => (0, 1),
        Some(Some(c)) if c.l == listing && c.k == key => (c.o, c.n),
        Some(_) => {
            return (
                graph_error(&GraphError::new(
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                )),
                false,
            );
        }
    };
    let size = q.top.unwrap_or(100).min(shared.max_page_size);
    let page = match inner
        .tenant
        .page(listing, key, select, size, offset, number)
    {
        Ok(p) => p,
        Err(e) => return (graph_error(&e), false),
    };
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{base}/v1.0/$metadata#{}", page.context)),
    );
    if let Some(next) = &page.next {
        let sep = if q.carried.is_empty() { "" } else { "&" };
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{base}/v1.0/{}?{}{sep}$skiptoken={}",
                segments.join("/"),
                q.carried,
                next.encode()
            )),
        );
    }
    body.insert("value".into(), Value::Array(page.items));
    let drop = match &inner.faults.drop_on_page {
        Some(d)
            if d.listing == listing.name()
                && d.page == page.number
                && d.times.is_none_or(|t| inner.page_drops < t) =>
        {
            inner.page_drops += 1;
            true
        }
        _ => false,
    };
    (graph_json(200, &Value::Object(body)), drop)
}

/// Admin routes for tests and the binary: state, call counts, requests, seeding, faults, tokens.
fn admin(shared: &Shared, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    match (method, path) {
        (&Method::GET, "state") => json_response(200, &shared.lock().tenant.counts()),
        (&Method::GET, "calls") => json_response(200, &json!(shared.lock().calls)),
        (&Method::GET, "requests") => json_response(200, &json!(shared.lock().requests)),
        (&Method::POST, "calls/reset") => {
            let mut inner = shared.lock();
            inner.calls.clear();
            inner.requests.clear();
            json_response(200, &Value::Null)
        }
        (&Method::POST, "seed") => match admin_json::<TenantSeed>(body, "seed", false) {
            Ok(seed) => match shared.load_seed(&seed) {
                Ok(()) => json_response(200, &Value::Null),
                Err(e) => text_response(400, format!("invalid seed: {e}")),
            },
            Err(refused) => text_response(400, refused),
        },
        (&Method::POST, "faults") => match admin_json::<Faults>(body, "faults", true) {
            Ok(faults) => {
                shared.set_faults(faults);
                json_response(200, &Value::Null)
            }
            Err(refused) => text_response(400, refused),
        },
        (&Method::POST, "token") => {
            let roles: Vec<String> = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("roles").cloned())
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let mut inner = shared.lock();
            let tenant = inner.tenant.tenant_id.clone();
            let token = inner.auth.token_with_roles(&roles, &tenant);
            json_response(200, &json!({ "access_token": token }))
        }
        (&Method::GET, "health") => json_response(200, &json!({"ok": true})),
        _ => text_response(
            404,
            format!("Unknown admin endpoint {method} /__emulator/{path}"),
        ),
    }
}
