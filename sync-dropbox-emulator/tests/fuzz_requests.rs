//! Property tests ("fuzzing") of the emulator's request parsing through the in-process server:
//! random JSON bodies (built from the keys and tags the routes read, with values of every
//! type), random raw bytes, random content types and random authorization headers, sent to
//! every route (API, token endpoint and admin routes) and to unknown ones. With faults off the
//! server must always answer — no dropped connection — and never with a 5xx.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, Faults, TeamSeed};

const API_ROUTES: &[&str] = &[
    "team/get_info",
    "team/members/list_v2",
    "team/members/list/continue_v2",
    "team/members/get_info_v2",
    "team/members/add_v2",
    "team/members/add/job_status/get_v2",
    "team/members/set_profile_v2",
    "team/members/suspend",
    "team/members/unsuspend",
    "team/members/remove",
    "team/members/remove/job_status/get",
    "team/members/recover",
    "team/groups/list",
    "team/groups/list/continue",
    "team/groups/get_info",
    "team/groups/create",
    "team/groups/update",
    "team/groups/delete",
    "team/groups/job_status/get",
    "team/groups/members/add",
    "team/groups/members/remove",
    "team/groups/members/list",
    "team/groups/members/list/continue",
    // Unknown and malformed routes.
    "team/nope",
    "",
    "team/members/../get_info",
    "team//members/list_v2",
];

/// Admin routes, method and path. `/__emulator/faults` is left out on purpose: a random valid
/// body would turn faults on, and this test checks the fault-free server.
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/__emulator/state"),
    ("GET", "/__emulator/calls"),
    ("POST", "/__emulator/calls/reset"),
    ("POST", "/__emulator/seed"),
    ("POST", "/__emulator/authorization_code"),
    ("POST", "/__emulator/token"),
    ("POST", "/__emulator/accept_invitations"),
    ("GET", "/__emulator/health"),
    ("GET", "/__emulator/unknown"),
    ("DELETE", "/__emulator/state"),
];

/// Keys the routes read, so that random objects reach past the first "missing field" check.
const KEYS: &[&str] = &[
    ".tag",
    "limit",
    "cursor",
    "include_removed",
    "members",
    "new_members",
    "member_email",
    "member_given_name",
    "member_surname",
    "member_external_id",
    "send_welcome_email",
    "role",
    "force_async",
    "async_job_id",
    "user",
    "email",
    "team_member_id",
    "external_id",
    "new_email",
    "new_external_id",
    "new_given_name",
    "new_surname",
    "wipe_data",
    "keep_account",
    "retain_team_shares",
    "transfer_dest_id",
    "transfer_admin_id",
    "group",
    "group_id",
    "group_ids",
    "group_external_id",
    "group_name",
    "new_group_name",
    "new_group_external_id",
    "group_management_type",
    "new_group_management_type",
    "add_creator_as_owner",
    "access_type",
    "return_members",
    "users",
    "emails",
    "scopes",
];

const TAGS: &[&str] = &[
    "email",
    "team_member_id",
    "external_id",
    "group_id",
    "group_external_id",
    "group_ids",
    "group_external_ids",
    "member_admin",
    "team_admin",
    "owner",
    "member",
    "company_managed",
    "user_managed",
    "system_managed",
    "team_member_ids",
    "emails",
    "members",
    "",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (0u64..3000).prop_map(Value::from),
        prop::sample::select(TAGS).prop_map(|t| Value::String(t.to_owned())),
        Just(Value::String("ada@acme.test".to_owned())),
        Just(Value::String("ADA@ACME.TEST ".to_owned())),
        Just(Value::String("e1".to_owned())),
        Just(Value::String("dbmid:nope".to_owned())),
        Just(Value::String("g:nope".to_owned())),
        ".{0,30}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => ".{0,8}"],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(Vec::new()),
        1 => Just(b"null".to_vec()),
        // Deeper than serde_json's recursion limit.
        1 => Just(format!("{}{}", "[".repeat(300), "]".repeat(300)).into_bytes()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        12 => Just(Some("application/json".to_owned())),
        1 => Just(None),
        1 => Just(Some("application/json; charset=utf-8".to_owned())),
        1 => Just(Some("text/plain".to_owned())),
        1 => Just(Some("application/x-www-form-urlencoded".to_owned())),
        1 => "[ -~]{0,20}".prop_map(Some),
    ]
}

#[derive(Debug, Clone)]
enum Auth {
    Valid,
    None,
    Bearer(String),
    Raw(String),
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        5 => Just(Auth::Valid),
        1 => Just(Auth::None),
        1 => "[ -~]{0,40}".prop_map(Auth::Bearer),
        1 => "[ -~]{0,40}".prop_map(Auth::Raw),
    ]
}

/// A string picked from values the seeded team knows, values it does not, and random text.
fn known_or_not(known: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => prop::sample::select(known).prop_map(|s| Value::String(s.to_owned())),
        1 => ".{0,12}".prop_map(Value::String),
        1 => leaf(),
    ]
    .boxed()
}

const EMAILS: &[&str] = &[
    "ada@acme.test",
    "bob@acme.test",
    "cy@acme.test",
    "BOB@ACME.TEST",
    "new@acme.test",
    "not-an-email",
    "",
];

fn user_selector() -> BoxedStrategy<Value> {
    prop_oneof![
        known_or_not(EMAILS).prop_map(|v| serde_json::json!({".tag": "email", "email": v})),
        known_or_not(&["e1", "e2", "nope", ""])
            .prop_map(|v| serde_json::json!({".tag": "external_id", "external_id": v})),
        known_or_not(&["dbmid:nope", ""])
            .prop_map(|v| serde_json::json!({".tag": "team_member_id", "team_member_id": v})),
        leaf(),
    ]
    .boxed()
}

fn group_selector() -> BoxedStrategy<Value> {
    prop_oneof![
        known_or_not(&["g1", "nope", ""])
            .prop_map(|v| serde_json::json!({".tag": "group_external_id", "group_external_id": v})),
        known_or_not(&["g:nope", ""])
            .prop_map(|v| serde_json::json!({".tag": "group_id", "group_id": v})),
        leaf(),
    ]
    .boxed()
}

/// Bodies shaped like each route's argument, with values that hit its rules (unknown members,
/// taken emails, duplicate names, owners in company-managed groups, ...) or break them.
fn shaped_request() -> impl Strategy<Value = (&'static str, Value)> {
    let name = || known_or_not(&["Sales", "sales", "New Group", "", "x"]);
    let flag = || any::<bool>().prop_map(Value::Bool);
    prop_oneof![
        prop::collection::vec(user_selector(), 0..3).prop_map(|m| (
            "team/members/get_info_v2",
            serde_json::json!({"members": m})
        )),
        (known_or_not(EMAILS), name(), known_or_not(&["e1", "e9", ""]), flag(), flag()).prop_map(
            |(email, given, external_id, welcome, force_async)| (
                "team/members/add_v2",
                serde_json::json!({"new_members": [{"member_email": email, "member_given_name": given,
                    "member_surname": "S", "member_external_id": external_id,
                    "send_welcome_email": welcome}], "force_async": force_async})
            )
        ),
        (user_selector(), name(), known_or_not(EMAILS), known_or_not(&["e1", "e2", "e9"])).prop_map(
            |(user, given, email, external_id)| (
                "team/members/set_profile_v2",
                serde_json::json!({"user": user, "new_given_name": given, "new_email": email,
                    "new_external_id": external_id})
            )
        ),
        (user_selector(), flag()).prop_map(|(user, wipe)| (
            "team/members/suspend",
            serde_json::json!({"user": user, "wipe_data": wipe})
        )),
        user_selector().prop_map(|user| (
            "team/members/unsuspend",
            serde_json::json!({"user": user})
        )),
        (user_selector(), flag(), flag()).prop_map(|(user, wipe, keep)| (
            "team/members/remove",
            serde_json::json!({"user": user, "wipe_data": wipe, "keep_account": keep})
        )),
        user_selector().prop_map(|user| (
            "team/members/recover",
            serde_json::json!({"user": user})
        )),
        (name(), known_or_not(&["g1", "g9"]), known_or_not(&["company_managed", "user_managed", "system_managed"]))
            .prop_map(|(name, external_id, management)| (
                "team/groups/create",
                serde_json::json!({"group_name": name, "group_external_id": external_id,
                    "group_management_type": management})
            )),
        (group_selector(), name()).prop_map(|(group, name)| (
            "team/groups/update",
            serde_json::json!({"group": group, "new_group_name": name})
        )),
        group_selector().prop_map(|group| ("team/groups/delete", group)),
        (group_selector(), user_selector(), known_or_not(&["member", "owner"])).prop_map(
            |(group, user, access)| (
                "team/groups/members/add",
                serde_json::json!({"group": group, "members": [{"user": user, "access_type": access}],
                    "return_members": false})
            )
        ),
        (group_selector(), user_selector()).prop_map(|(group, user)| (
            "team/groups/members/remove",
            serde_json::json!({"group": group, "users": [user], "return_members": false})
        )),
        (group_selector(), 0u32..2000).prop_map(|(group, limit)| (
            "team/groups/members/list",
            serde_json::json!({"group": group, "limit": limit})
        )),
        known_or_not(&["nope", ""]).prop_map(|job| (
            "team/members/add/job_status/get_v2",
            serde_json::json!({"async_job_id": job})
        )),
    ]
}

struct Server {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    http: reqwest::Client,
}

fn seed() -> TeamSeed {
    serde_json::from_str(
        r#"{"team_name": "Acme", "license_limit": 50,
            "members": [
              {"email": "ada@acme.test", "given_name": "Ada", "surname": "L", "external_id": "e1", "is_admin": true},
              {"email": "bob@acme.test", "given_name": "Bob", "surname": "M", "external_id": "e2"},
              {"email": "cy@acme.test", "given_name": "Cy", "surname": "N", "status": "suspended"}
            ],
            "groups": [{"name": "Sales", "external_id": "g1", "members": ["bob@acme.test"]}]}"#,
    )
    .unwrap()
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig {
                job_polls_in_progress: 0,
                ..EmulatorConfig::default()
            }))
            .unwrap();
        emulator.try_seed(&seed()).unwrap();
        Server {
            runtime,
            emulator,
            http: reqwest::Client::new(),
        }
    })
}

/// Sends one request; fails on a transport error (a dropped connection) or a 5xx.
fn send(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    auth: &Auth,
    body: Vec<u8>,
) -> Result<u16, String> {
    let server = server();
    assert_eq!(
        server.emulator.faults(),
        Faults::default(),
        "faults must be off"
    );
    let url = format!("{}{path}", server.emulator.base_url());
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server.http.request(method, &url).body(body);
    if let Some(ct) = content_type {
        if let Ok(value) = reqwest::header::HeaderValue::from_str(ct) {
            request = request.header(reqwest::header::CONTENT_TYPE, value);
        }
    }
    let header = match auth {
        Auth::Valid => Some(format!("Bearer {}", server.emulator.access_token())),
        Auth::None => None,
        Auth::Bearer(token) => Some(format!("Bearer {token}")),
        Auth::Raw(raw) => Some(raw.clone()),
    };
    if let Some(header) = header {
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&header) {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
    }
    server.runtime.block_on(async move {
        let response = request
            .send()
            .await
            .map_err(|e| format!("transport error (dropped connection?): {e}"))?;
        let status = response.status().as_u16();
        // Read the whole body: a connection dropped mid-body shows here.
        let text = response
            .text()
            .await
            .map_err(|e| format!("body cut short: {e}"))?;
        if status >= 500 {
            return Err(format!("{status}: {text}"));
        }
        Ok(status)
    })
}

/// Every API route, 2,000 random requests; the statuses seen show the requests got past
/// parsing into the routes' own answers (200, 400, 401, 404, 409), not only one rejection.
#[test]
fn api_routes_answer_every_body_without_a_5xx() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let request = prop_oneof![
        (prop::sample::select(API_ROUTES), body()),
        shaped_request().prop_map(|(route, body)| (route, serde_json::to_vec(&body).unwrap())),
    ];
    let strategy = (request, content_type(), auth());
    runner
        .run(&strategy, |((route, body), content_type, auth)| {
            let result = send(
                "POST",
                &format!("/2/{route}"),
                content_type.as_deref(),
                &auth,
                body.clone(),
            );
            match result {
                Ok(status) => *statuses.borrow_mut().entry(status).or_insert(0) += 1,
                Err(error) => {
                    return Err(TestCaseError::fail(format!(
                        "POST /2/{route} {content_type:?} {auth:?} body {:?}: {error}",
                        String::from_utf8_lossy(&body)
                    )));
                }
            }
            Ok(())
        })
        .unwrap();
    let statuses = statuses.into_inner();
    eprintln!("statuses over 2,000 requests: {statuses:?}");
    for status in [200, 400, 401, 409] {
        assert!(
            statuses.contains_key(&status),
            "never saw {status}: {statuses:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_and_admin_routes_answer_every_body_without_a_5xx(
        route in prop::sample::select(ADMIN_ROUTES),
        token_endpoint in any::<bool>(),
        body in body(),
        form in prop::collection::vec(("grant_type|code|refresh_token|client_id|client_secret|redirect_uri|[a-z]{1,6}", ".{0,20}"), 0..5),
        content_type in content_type(),
        auth in auth(),
    ) {
        let (method, path, body) = if token_endpoint {
            let encoded = form
                .iter()
                .fold(form_urlencoded::Serializer::new(String::new()), |mut s, (k, v)| { s.append_pair(k, v); s })
                .finish();
            ("POST", "/oauth2/token", if body.len() % 2 == 0 { encoded.into_bytes() } else { body })
        } else {
            (route.0, route.1, body)
        };
        let result = send(method, path, content_type.as_deref(), &auth, body.clone());
        prop_assert!(result.is_ok(), "{} {} body {:?}: {:?}", method, path, String::from_utf8_lossy(&body), result);
    }
}

/// The fault-free claim above is only meaningful if faults do show as 5xx and dropped
/// connections: the same client, with faults on, sees both.
#[test]
fn with_faults_on_the_same_client_sees_5xx_and_dropped_connections() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = Emulator::start(EmulatorConfig {
            faults: Faults {
                server_error_rate: 0.3,
                drop_connection_rate: 0.3,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let (mut server_errors, mut dropped) = (0, 0);
        for _ in 0..60 {
            let sent = http
                .post(format!("{}/2/team/get_info", emulator.base_url()))
                .bearer_auth(emulator.access_token())
                .header("Content-Type", "application/json")
                .body("null")
                .send()
                .await;
            match sent {
                Err(_) => dropped += 1,
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.text().await {
                        Err(_) => dropped += 1,
                        Ok(_) if status >= 500 => server_errors += 1,
                        Ok(_) => {}
                    }
                }
            }
        }
        assert!(
            server_errors > 0 && dropped > 0,
            "5xx {server_errors}, dropped {dropped}"
        );
        emulator.shutdown().await;
    });
}
