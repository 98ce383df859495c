//! The emulator's own rules, checked over HTTP against the in-process server.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use teamsync_dropbox_emulator::{
    Emulator, EmulatorConfig, Faults, ManagementType, MemberStatus, RateLimit, SeedGroup,
    SeedMember, TeamSeed,
};

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

struct Answer {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Api {
    fn new(emu: &Emulator) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: emu.base_url(),
            token: emu.access_token(),
        }
    }

    fn with_token(emu: &Emulator, token: String) -> Api {
        Api {
            token,
            ..Api::new(emu)
        }
    }

    async fn raw(&self, route: &str, content_type: Option<&str>, body: &str) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/2/{route}", self.base))
            .bearer_auth(&self.token)
            .body(body.to_owned());
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let resp = req.send().await.expect("request");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let status = resp.status().as_u16();
        Answer {
            status,
            content_type,
            retry_after,
            body: resp.text().await.expect("body"),
        }
    }

    async fn call(&self, route: &str, arg: Value) -> Answer {
        self.raw(route, Some("application/json"), &arg.to_string())
            .await
    }

    /// A successful call: 200, `application/json` exactly, JSON body.
    async fn ok(&self, route: &str, arg: Value) -> Value {
        let a = self.call(route, arg).await;
        assert_eq!(a.status, 200, "{route}: {}", a.body);
        assert_eq!(a.content_type, "application/json");
        a.json()
    }

    /// A route error: 409 with `{error_summary, error}`; returns `error`.
    async fn route_error(&self, route: &str, arg: Value) -> Value {
        let a = self.call(route, arg).await;
        assert_eq!(a.status, 409, "{route}: {}", a.body);
        assert_eq!(a.content_type, "application/json");
        let body = a.json();
        let tag = body["error"][".tag"].as_str().expect("tag").to_owned();
        let summary = body["error_summary"].as_str().expect("summary");
        assert!(summary.starts_with(&format!("{tag}/")), "{summary}");
        assert!(
            summary.len() - tag.len() - 1 <= 3,
            "at most three dots: {summary}"
        );
        body["error"].clone()
    }
}

fn email(e: &str) -> Value {
    json!({".tag": "email", "email": e})
}

fn member(email: &str, given: &str, surname: &str) -> SeedMember {
    SeedMember {
        email: email.into(),
        given_name: given.into(),
        surname: surname.into(),
        ..SeedMember::default()
    }
}

fn small_team() -> TeamSeed {
    let mut admin = member("admin@acme.test", "Ada", "Admin");
    admin.is_admin = true;
    let mut invited = member("invited@acme.test", "Ivy", "Invited");
    invited.status = MemberStatus::Invited;
    let mut bob = member("bob@acme.test", "Bob", "Builder");
    bob.external_id = Some("ext-bob".into());
    TeamSeed {
        team_name: Some("Acme".into()),
        license_limit: None,
        members: vec![admin, invited, bob, member("carol@acme.test", "Carol", "C")],
        groups: vec![SeedGroup {
            name: "Sales".into(),
            members: vec!["bob@acme.test".into()],
            ..SeedGroup::default()
        }],
    }
}

async fn start(config: EmulatorConfig) -> (Emulator, Api) {
    let emu = Emulator::start(config).await.expect("start");
    emu.try_seed(&small_team()).expect("seed");
    let api = Api::new(&emu);
    (emu, api)
}

fn quiet_jobs() -> EmulatorConfig {
    EmulatorConfig {
        job_polls_in_progress: 0,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn void_arguments_accept_null_and_empty_body_and_void_results_are_null() {
    let (_emu, api) = start(EmulatorConfig::default()).await;
    let info = api.ok("team/get_info", Value::Null).await;
    assert_eq!(info["name"], "Acme");
    assert_eq!(info["num_provisioned_users"], 4);
    for field in [
        "shared_folder_member_policy",
        "shared_link_default_permissions_policy",
        "group_creation_policy",
    ] {
        assert!(
            info["policies"]["sharing"][field][".tag"].is_string(),
            "{field}"
        );
    }
    let empty = api.raw("team/get_info", None, "").await;
    assert_eq!(empty.status, 200);
    let suspended = api
        .call(
            "team/members/suspend",
            json!({"user": email("bob@acme.test")}),
        )
        .await;
    assert_eq!((suspended.status, suspended.body.as_str()), (200, "null"));
    assert_eq!(suspended.content_type, "application/json");
}

#[tokio::test]
async fn malformed_requests_are_400_text() {
    let (_emu, api) = start(EmulatorConfig::default()).await;
    let wrong_type = api
        .raw("team/get_info", Some("application/xml"), "null")
        .await;
    assert_eq!(wrong_type.status, 400);
    assert!(wrong_type.content_type.starts_with("text/plain"));
    let bad_json = api
        .raw("team/members/list_v2", Some("application/json"), "{nope")
        .await;
    assert_eq!(bad_json.status, 400);
    let out_of_range = api
        .call("team/members/list_v2", json!({"limit": 1001}))
        .await;
    assert_eq!(out_of_range.status, 400);
    assert!(out_of_range.body.contains("limit"));
    let bad_selector = api
        .call(
            "team/members/suspend",
            json!({"user": {".tag": "nickname"}}),
        )
        .await;
    assert_eq!(bad_selector.status, 400);
    let unknown = api.call("team/members/teleport", json!({})).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn auth_errors_are_401_json_with_dropbox_tags() {
    let (emu, api) = start(EmulatorConfig::default()).await;
    let anonymous = api
        .http
        .post(format!("{}/2/team/get_info", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 400);

    let invalid = Api::with_token(&emu, "sl.bogus".into())
        .call("team/get_info", Value::Null)
        .await;
    assert_eq!(invalid.status, 401);
    assert_eq!(invalid.content_type, "application/json");
    assert_eq!(invalid.json()["error"][".tag"], "invalid_access_token");

    let reader = Api::with_token(&emu, emu.token_with_scopes(&["members.read"]));
    reader.ok("team/members/list_v2", json!({"limit": 1})).await;
    let refused = reader
        .call("team/members/add_v2", json!({"new_members": []}))
        .await;
    assert_eq!(refused.status, 401);
    let body = refused.json();
    assert_eq!(body["error"][".tag"], "missing_scope");
    assert_eq!(body["error"]["required_scope"], "members.write");
    assert!(
        body["error_summary"]
            .as_str()
            .unwrap()
            .starts_with("missing_scope/")
    );
}

async fn token_call(
    emu: &Emulator,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/oauth2/token", emu.base_url()))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(
            form.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        );
    if let Some((user, pass)) = basic {
        req = req.basic_auth(user, Some(pass));
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn oauth_code_exchange_refresh_and_real_expiry() {
    let config = EmulatorConfig {
        access_token_ttl: Duration::from_millis(300),
        ..EmulatorConfig::default()
    };
    let (emu, _) = start(config).await;
    let (key, secret, code) = (emu.app_key(), emu.app_secret(), emu.authorization_code());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", &key),
        ("client_secret", &secret),
    ];
    let (status, body) = token_call(&emu, &form, None).await;
    assert_eq!(status, 200, "{body}");
    for field in [
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "team_id",
    ] {
        assert!(!body[field].is_null(), "{field} missing: {body}");
    }
    assert_eq!(body["team_id"], emu.state().team_id.as_str());
    assert!(body["scope"].as_str().unwrap().contains("groups.write"));
    let (status, again) = token_call(&emu, &form, None).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes are one-shot"
    );

    // Refresh with HTTP Basic credentials.
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, fresh) = token_call(
        &emu,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&key, &secret)),
    )
    .await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["expires_in"], 1);
    let api = Api::with_token(&emu, fresh["access_token"].as_str().unwrap().to_owned());
    api.ok("team/get_info", Value::Null).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = api.call("team/get_info", Value::Null).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json()["error"][".tag"], "expired_access_token");

    // Narrower scope on refresh; a bad refresh token is invalid_grant.
    let (_, narrow) = token_call(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &emu.refresh_token()),
            ("client_id", &key),
            ("client_secret", &secret),
            ("scope", "members.read"),
        ],
        None,
    )
    .await;
    assert_eq!(narrow["scope"], "members.read");
    let (status, bad) = token_call(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", &key),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(emu.call_counts()["oauth2/token"], 5);
}

fn new_member(email: &str) -> Value {
    json!({"member_email": email, "member_given_name": "New", "member_surname": "Person"})
}

#[tokio::test]
async fn add_v2_limits_results_and_async_jobs() {
    let (emu, api) = start(EmulatorConfig {
        job_polls_in_progress: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let too_many: Vec<Value> = (0..21)
        .map(|i| new_member(&format!("n{i}@acme.test")))
        .collect();
    let refused = api
        .call("team/members/add_v2", json!({"new_members": too_many}))
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.content_type.starts_with("text/plain"));
    assert_eq!(
        emu.state().members.len(),
        4,
        "nothing added by a refused call"
    );

    let small = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [new_member("dan@acme.test")]}),
        )
        .await;
    assert_eq!(small[".tag"], "complete");
    let profile = &small["complete"][0]["profile"];
    assert_eq!(small["complete"][0][".tag"], "success");
    assert_eq!(profile["status"][".tag"], "invited");
    assert_eq!(profile["name"]["display_name"], "New Person");
    assert!(profile["groups"].as_array().unwrap().is_empty());

    // 20 at once (above the async threshold): async job, one in_progress poll, then complete.
    let twenty: Vec<Value> = (0..20)
        .map(|i| new_member(&format!("bulk{i}@acme.test")))
        .collect();
    let launched = api
        .ok("team/members/add_v2", json!({"new_members": twenty}))
        .await;
    assert_eq!(launched[".tag"], "async_job_id");
    let job = json!({"async_job_id": launched["async_job_id"]});
    assert_eq!(
        api.ok("team/members/add/job_status/get_v2", job.clone())
            .await[".tag"],
        "in_progress"
    );
    let done = api
        .ok("team/members/add/job_status/get_v2", job.clone())
        .await;
    assert_eq!(done[".tag"], "complete");
    assert_eq!(done["complete"].as_array().unwrap().len(), 20);
    let wrong_kind = api
        .route_error("team/members/remove/job_status/get", job)
        .await;
    assert_eq!(wrong_kind[".tag"], "invalid_async_job_id");

    let forced = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [new_member("eve@acme.test")], "force_async": true}),
        )
        .await;
    assert_eq!(forced[".tag"], "async_job_id");

    // Per-member failures: email taken (case-insensitively), external id taken.
    let mut dup_ext = new_member("frank@acme.test");
    dup_ext["member_external_id"] = json!("ext-bob");
    let result = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [new_member("BOB@acme.test"), dup_ext]}),
        )
        .await;
    assert_eq!(
        result["complete"][0],
        json!({".tag": "user_already_on_team", "user_already_on_team": "BOB@acme.test"})
    );
    assert_eq!(
        result["complete"][1][".tag"],
        "duplicate_external_member_id"
    );
    let bad_email = api
        .call(
            "team/members/add_v2",
            json!({"new_members": [new_member("not-an-email")]}),
        )
        .await;
    assert_eq!(bad_email.status, 400);
    assert_eq!(emu.call_counts()["team/members/add_v2"], 6);
}

#[tokio::test]
async fn license_limit_applies_to_add_and_recover() {
    let (emu, api) = start(quiet_jobs()).await;
    let mut seed = small_team();
    seed.license_limit = Some(5);
    emu.try_seed(&seed).unwrap();
    let result = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [new_member("five@acme.test"), new_member("six@acme.test")]}),
        )
        .await;
    assert_eq!(result["complete"][0][".tag"], "success");
    assert_eq!(
        result["complete"][1],
        json!({".tag": "team_license_limit", "team_license_limit": "six@acme.test"})
    );
    let info = api.ok("team/get_info", Value::Null).await;
    assert_eq!(
        (
            info["num_licensed_users"].as_u64(),
            info["num_provisioned_users"].as_u64()
        ),
        (Some(5), Some(5))
    );

    api.ok(
        "team/members/remove",
        json!({"user": email("carol@acme.test")}),
    )
    .await;
    api.ok(
        "team/members/add_v2",
        json!({"new_members": [new_member("six@acme.test")]}),
    )
    .await;
    let err = api
        .route_error(
            "team/members/recover",
            json!({"user": email("carol@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "team_license_limit");
}

#[tokio::test]
async fn member_lifecycle_rules() {
    let (emu, api) = start(quiet_jobs()).await;
    let err = api
        .route_error(
            "team/members/suspend",
            json!({"user": email("invited@acme.test"), "wipe_data": false}),
        )
        .await;
    assert_eq!(err[".tag"], "suspend_inactive_user");
    let err = api
        .route_error(
            "team/members/suspend",
            json!({"user": email("admin@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "suspend_last_admin");
    let err = api
        .route_error(
            "team/members/suspend",
            json!({"user": email("nobody@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "user_not_found");
    let err = api
        .route_error(
            "team/members/unsuspend",
            json!({"user": email("bob@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "unsuspend_non_suspended_member");

    // Remove: async job, member leaves groups, becomes removed-but-recoverable.
    let launched = api
        .ok(
            "team/members/remove",
            json!({"user": {".tag": "external_id", "external_id": "ext-bob"}}),
        )
        .await;
    assert_eq!(launched[".tag"], "async_job_id");
    let done = api
        .ok(
            "team/members/remove/job_status/get",
            json!({"async_job_id": launched["async_job_id"]}),
        )
        .await;
    assert_eq!(done, json!({".tag": "complete"}));
    let state = emu.state();
    let bob = state.member_by_email("bob@acme.test").unwrap();
    assert_eq!((bob.status, bob.recoverable), (MemberStatus::Removed, true));
    assert!(state.group_by_name("sales").unwrap().members.is_empty());
    let err = api
        .route_error(
            "team/members/suspend",
            json!({"user": email("bob@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "user_not_in_team");
    let err = api
        .route_error(
            "team/members/set_profile_v2",
            json!({"user": email("bob@acme.test"), "new_surname": "X"}),
        )
        .await;
    assert_eq!(err[".tag"], "set_profile_disallowed");

    let listed = api
        .ok("team/members/list_v2", json!({"include_removed": true}))
        .await;
    let removed = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["profile"]["email"] == "bob@acme.test")
        .unwrap();
    assert_eq!(
        removed["profile"]["status"],
        json!({".tag": "removed", "is_recoverable": true, "is_disconnected": false})
    );
    let listed = api.ok("team/members/list_v2", json!({})).await;
    assert_eq!(listed["members"].as_array().unwrap().len(), 3);

    assert_eq!(
        api.call(
            "team/members/recover",
            json!({"user": email("bob@acme.test")})
        )
        .await
        .body,
        "null"
    );
    assert_eq!(
        emu.state().member_by_email("bob@acme.test").unwrap().status,
        MemberStatus::Active
    );
    let err = api
        .route_error(
            "team/members/recover",
            json!({"user": email("bob@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "user_unrecoverable");

    // Option conflicts and the last admin.
    let conflict = json!({"user": email("carol@acme.test"), "keep_account": true});
    assert_eq!(
        api.route_error("team/members/remove", conflict).await[".tag"],
        "cannot_keep_account_and_delete_data"
    );
    let transfer =
        json!({"user": email("carol@acme.test"), "transfer_dest_id": email("bob@acme.test")});
    assert_eq!(
        api.route_error("team/members/remove", transfer).await[".tag"],
        "unspecified_transfer_admin_id"
    );
    assert_eq!(
        api.route_error(
            "team/members/remove",
            json!({"user": email("admin@acme.test")})
        )
        .await[".tag"],
        "remove_last_admin"
    );

    // Removed for good (files deleted): not recoverable, and the email may join again.
    api.ok(
        "team/members/remove",
        json!({"user": email("carol@acme.test"), "permanently_delete_files": true}),
    )
    .await;
    let err = api
        .route_error(
            "team/members/recover",
            json!({"user": email("carol@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "user_unrecoverable");
    let again = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [{"member_email": "carol@acme.test"}]}),
        )
        .await;
    assert_eq!(again["complete"][0][".tag"], "success");
    let state = emu.state();
    let carols: Vec<_> = state
        .members
        .iter()
        .filter(|m| m.email == "carol@acme.test")
        .collect();
    assert_eq!(carols.len(), 2);
    assert_ne!(carols[0].team_member_id, carols[1].team_member_id);
    // Removing an invited member withdraws the invitation; the email can be invited again.
    api.ok(
        "team/members/remove",
        json!({"user": email("invited@acme.test")}),
    )
    .await;
    let err = api
        .route_error(
            "team/members/recover",
            json!({"user": email("invited@acme.test")}),
        )
        .await;
    assert_eq!(err[".tag"], "user_unrecoverable");
    let reinvited = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [{"member_email": "invited@acme.test"}]}),
        )
        .await;
    assert_eq!(
        reinvited["complete"][0]["profile"]["status"][".tag"],
        "invited"
    );
    // A recoverable removed member still holds the email.
    api.ok(
        "team/members/remove",
        json!({"user": email("bob@acme.test")}),
    )
    .await;
    let held = api
        .ok(
            "team/members/add_v2",
            json!({"new_members": [{"member_email": "bob@acme.test"}]}),
        )
        .await;
    assert_eq!(held["complete"][0][".tag"], "user_already_on_team");
}

#[tokio::test]
async fn token_endpoint_faults_only_when_asked() {
    let (emu, _) = start(quiet_jobs()).await;
    let form = |emu: &Emulator| {
        [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", emu.refresh_token()),
            ("client_id", emu.app_key()),
            ("client_secret", emu.app_secret()),
        ]
    };
    let http = reqwest::Client::new();
    let url = format!("{}/oauth2/token", emu.base_url());
    emu.set_faults(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    });
    let spared = http.post(&url).form(&form(&emu)).send().await.unwrap();
    assert_eq!(spared.status().as_u16(), 200);
    emu.set_faults(Faults {
        server_error_rate: 1.0,
        include_token_endpoint: true,
        ..Faults::default()
    });
    let faulted = http.post(&url).form(&form(&emu)).send().await.unwrap();
    assert_eq!(faulted.status().as_u16(), 500);
    assert_eq!(emu.call_counts()["oauth2/token"], 2);
}

#[tokio::test]
async fn invited_members_can_accept_and_then_be_suspended() {
    let (emu, api) = start(quiet_jobs()).await;
    api.ok(
        "team/members/add_v2",
        json!({"new_members": [new_member("x@acme.test"), new_member("y@acme.test")]}),
    )
    .await;
    assert_eq!(emu.accept_invitations(&["X@acme.test"]), 1);
    let info = api
        .ok(
            "team/members/get_info_v2",
            json!({"members": [email("x@acme.test")]}),
        )
        .await;
    let profile = &info["members_info"][0]["profile"];
    assert_eq!(profile["status"][".tag"], "active");
    assert!(
        profile["joined_on"].is_string() && profile["account_id"].as_str().unwrap().len() == 40
    );
    assert_eq!(
        api.call(
            "team/members/suspend",
            json!({"user": email("x@acme.test")})
        )
        .await
        .status,
        200
    );
    let http = reqwest::Client::new();
    let all: Value = http
        .post(format!("{}/__emulator/accept_invitations", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["accepted"], 2, "y and the seeded invitee");
    assert!(
        emu.state()
            .members
            .iter()
            .all(|m| m.status != MemberStatus::Invited)
    );
}

#[tokio::test]
async fn latency_and_jitter_delay_but_do_not_break_calls() {
    let faults = Faults {
        latency_ms: 5,
        latency_jitter_ms: 5,
        ..Faults::default()
    };
    let (emu, api) = start(EmulatorConfig {
        faults: faults.clone(),
        ..quiet_jobs()
    })
    .await;
    assert_eq!(emu.faults(), faults);
    for _ in 0..3 {
        api.ok("team/get_info", Value::Null).await;
    }
    assert_eq!(emu.call_counts()["team/get_info"], 3);
}

#[tokio::test]
async fn set_profile_rules() {
    let (emu, api) = start(quiet_jobs()).await;
    let updated = api
        .ok("team/members/set_profile_v2", json!({"user": email("carol@acme.test"), "new_email": "caroline@acme.test", "new_external_id": "ext-carol"}))
        .await;
    assert_eq!(
        updated["member_info"]["profile"]["email"],
        "caroline@acme.test"
    );
    api.ok(
        "team/members/get_info_v2",
        json!({"members": [email("caroline@acme.test")]}),
    )
    .await;
    let info = api.ok("team/members/get_info_v2", json!({"members": [email("carol@acme.test"), {".tag": "external_id", "external_id": "ext-carol"}]})).await;
    assert_eq!(
        info["members_info"][0],
        json!({".tag": "id_not_found", "id_not_found": "carol@acme.test"})
    );
    assert_eq!(info["members_info"][1][".tag"], "member_info");
    assert_eq!(
        info["members_info"][1]["profile"]["email"],
        "caroline@acme.test"
    );

    let taken = json!({"user": email("caroline@acme.test"), "new_email": "Bob@acme.test"});
    assert_eq!(
        api.route_error("team/members/set_profile_v2", taken).await[".tag"],
        "email_reserved_for_other_user"
    );
    let taken = json!({"user": email("caroline@acme.test"), "new_external_id": "ext-bob"});
    assert_eq!(
        api.route_error("team/members/set_profile_v2", taken).await[".tag"],
        "external_id_used_by_other_user"
    );
    let unsafe_change = json!({"user": {".tag": "external_id", "external_id": "ext-carol"}, "new_external_id": "x"});
    assert_eq!(
        api.route_error("team/members/set_profile_v2", unsafe_change)
            .await[".tag"],
        "external_id_and_new_external_id_unsafe"
    );
    let nothing = json!({"user": email("caroline@acme.test")});
    assert_eq!(
        api.route_error("team/members/set_profile_v2", nothing)
            .await[".tag"],
        "no_new_data_specified"
    );
    let empty = json!({"user": email("caroline@acme.test"), "new_email": ""});
    assert_eq!(
        api.route_error("team/members/set_profile_v2", empty).await[".tag"],
        "param_cannot_be_empty"
    );
    // An empty new_external_id clears it.
    api.ok(
        "team/members/set_profile_v2",
        json!({"user": email("caroline@acme.test"), "new_external_id": ""}),
    )
    .await;
    assert_eq!(
        emu.state()
            .member_by_email("caroline@acme.test")
            .unwrap()
            .external_id,
        None
    );
}

#[tokio::test]
async fn members_list_paginates_with_cursors() {
    let (emu, api) = start(quiet_jobs()).await;
    let mut seed = TeamSeed::default();
    for i in 0..2_500 {
        let mut m = member(&format!("user{i:05}@big.test"), "U", &format!("{i}"));
        if i % 10 == 0 {
            m.status = MemberStatus::Removed;
        }
        seed.members.push(m);
    }
    emu.try_seed(&seed).unwrap();
    let mut page = api.ok("team/members/list_v2", json!({"limit": 1000})).await;
    let mut emails = Vec::new();
    loop {
        for m in page["members"].as_array().unwrap() {
            emails.push(m["profile"]["email"].as_str().unwrap().to_owned());
        }
        assert!(page["cursor"].is_string(), "cursor is always present");
        if page["has_more"] == false {
            break;
        }
        page = api
            .ok(
                "team/members/list/continue_v2",
                json!({"cursor": page["cursor"]}),
            )
            .await;
    }
    assert_eq!(emails.len(), 2_250);
    assert_eq!(emu.call_counts()["team/members/list/continue_v2"], 2);
    let mut sorted = emails.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), emails.len(), "no duplicates across pages");

    let err = api
        .route_error(
            "team/members/list/continue_v2",
            json!({"cursor": "garbage"}),
        )
        .await;
    assert_eq!(err[".tag"], "invalid_cursor");
    // Re-seeding invalidates older cursors.
    let first = api.ok("team/members/list_v2", json!({"limit": 1})).await;
    emu.seed(&small_team());
    let err = api
        .route_error(
            "team/members/list/continue_v2",
            json!({"cursor": first["cursor"]}),
        )
        .await;
    assert_eq!(err[".tag"], "invalid_cursor");
}

#[tokio::test]
async fn groups_rules_and_shapes() {
    let (emu, api) = start(quiet_jobs()).await;
    let created = api
        .ok(
            "team/groups/create",
            json!({"group_name": "Engineering", "group_external_id": "eng"}),
        )
        .await;
    assert_eq!(
        created["group_management_type"],
        json!({".tag": "company_managed"})
    );
    assert_eq!(created["member_count"], 0);
    assert!(created["created"].as_u64().unwrap() > 0);
    let group = json!({".tag": "group_id", "group_id": created["group_id"]});

    let dup = api
        .route_error("team/groups/create", json!({"group_name": "ENGINEERING"}))
        .await;
    assert_eq!(dup[".tag"], "group_name_already_used");
    let dup = api
        .route_error(
            "team/groups/create",
            json!({"group_name": "Other", "group_external_id": "eng"}),
        )
        .await;
    assert_eq!(dup[".tag"], "external_id_already_in_use");
    assert_eq!(
        api.route_error("team/groups/create", json!({"group_name": "  "}))
            .await[".tag"],
        "group_name_invalid"
    );
    let system = json!({"group_name": "Sys", "group_management_type": "system_managed"});
    assert_eq!(
        api.route_error("team/groups/create", system).await[".tag"],
        "system_managed_group_disallowed"
    );

    // Void shorthand strings for access_type.
    let add = json!({"group": group, "members": [
        {"user": email("bob@acme.test"), "access_type": "member"},
        {"user": email("invited@acme.test"), "access_type": {".tag": "member"}},
    ]});
    let changed = api.ok("team/groups/members/add", add).await;
    assert_eq!(changed["async_job_id"], " ");
    assert_eq!(changed["group_info"]["member_count"], 2);
    assert_eq!(
        changed["group_info"]["members"][0]["access_type"],
        json!({".tag": "member"})
    );
    assert!(
        changed["group_info"]["members"][0]["profile"]
            .get("groups")
            .is_none(),
        "MemberProfile, not TeamMemberProfile"
    );

    let again = json!({"group": group, "members": [{"user": email("bob@acme.test"), "access_type": "member"}]});
    assert_eq!(
        api.route_error("team/groups/members/add", again).await[".tag"],
        "duplicate_user"
    );
    let owner = json!({"group": group, "members": [{"user": email("carol@acme.test"), "access_type": "owner"}]});
    let err = api.route_error("team/groups/members/add", owner).await;
    assert_eq!(
        err,
        json!({".tag": "user_cannot_be_manager_of_company_managed_group", "user_cannot_be_manager_of_company_managed_group": ["carol@acme.test"]})
    );
    let ghosts = json!({"group": group, "members": [{"user": email("ghost@acme.test"), "access_type": "member"}]});
    assert_eq!(
        api.route_error("team/groups/members/add", ghosts).await["users_not_found"],
        json!(["ghost@acme.test"])
    );

    // A user-managed group accepts active owners but not invited ones.
    let updated = api.ok("team/groups/update", json!({"group": group, "new_group_management_type": "user_managed", "return_members": false})).await;
    assert!(updated.get("members").is_none());
    let owner = json!({"group": group, "members": [{"user": email("carol@acme.test"), "access_type": "owner"}]});
    api.ok("team/groups/members/add", owner).await;
    let members = api
        .ok(
            "team/groups/members/list",
            json!({"group": group, "limit": 2}),
        )
        .await;
    assert_eq!(members["has_more"], true);
    let rest = api
        .ok(
            "team/groups/members/list/continue",
            json!({"cursor": members["cursor"]}),
        )
        .await;
    assert_eq!(rest["members"].as_array().unwrap().len(), 1);
    assert_eq!(rest["has_more"], false);

    let removed = api
        .ok(
            "team/groups/members/remove",
            json!({"group": group, "users": [email("bob@acme.test")]}),
        )
        .await;
    assert_eq!(removed["group_info"]["member_count"], 2);
    let not_in = json!({"group": group, "users": [email("bob@acme.test")]});
    assert_eq!(
        api.route_error("team/groups/members/remove", not_in).await[".tag"],
        "member_not_in_group"
    );

    // Member profiles list their groups.
    let info = api
        .ok(
            "team/members/get_info_v2",
            json!({"members": [email("carol@acme.test")]}),
        )
        .await;
    assert_eq!(
        info["members_info"][0]["profile"]["groups"],
        json!([created["group_id"]])
    );

    let by_external = json!({".tag": "group_external_id", "group_external_id": "eng"});
    let renamed = api
        .ok(
            "team/groups/update",
            json!({"group": by_external, "new_group_name": "Eng Team"}),
        )
        .await;
    assert_eq!(
        renamed.get("members").map(|m| m.as_array().unwrap().len()),
        Some(2)
    );
    // A group may change the case of its own name; another group may not take it in any case.
    api.ok(
        "team/groups/update",
        json!({"group": group, "new_group_name": "ENG TEAM"}),
    )
    .await;
    let clash = json!({"group": group, "new_group_name": "sales"});
    assert_eq!(
        api.route_error("team/groups/update", clash).await[".tag"],
        "group_name_already_used"
    );
    let sales = emu.state().group_by_name("sales").unwrap().group_id.clone();
    let clash =
        json!({"group": {".tag": "group_id", "group_id": sales}, "new_group_name": "eng team"});
    assert_eq!(
        api.route_error("team/groups/update", clash).await[".tag"],
        "group_name_already_used"
    );

    let launched = api.ok("team/groups/delete", group.clone()).await;
    let done = api
        .ok(
            "team/groups/job_status/get",
            json!({"async_job_id": launched["async_job_id"]}),
        )
        .await;
    assert_eq!(done[".tag"], "complete");
    assert_eq!(
        api.route_error("team/groups/delete", group.clone()).await[".tag"],
        "group_already_deleted"
    );
    assert_eq!(
        api.route_error("team/groups/members/list", json!({"group": group}))
            .await[".tag"],
        "group_not_found"
    );
    assert!(
        emu.state()
            .member_by_email("carol@acme.test")
            .unwrap()
            .groups
            .is_empty()
    );
    // The deleted group's name is free again.
    api.ok("team/groups/create", json!({"group_name": "Engineering"}))
        .await;
}

#[tokio::test]
async fn groups_list_paginates_and_system_groups_are_read_only() {
    let (emu, api) = start(quiet_jobs()).await;
    let mut seed = small_team();
    seed.groups.push(SeedGroup {
        name: "Everyone".into(),
        management_type: Some(ManagementType::SystemManaged),
        ..SeedGroup::default()
    });
    for i in 0..5 {
        seed.groups.push(SeedGroup {
            name: format!("G{i}"),
            ..SeedGroup::default()
        });
    }
    emu.try_seed(&seed).unwrap();
    let mut page = api.ok("team/groups/list", json!({"limit": 3})).await;
    let mut names = Vec::new();
    loop {
        names.extend(
            page["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["group_name"].as_str().unwrap().to_owned()),
        );
        if page["has_more"] == false {
            break;
        }
        page = api
            .ok(
                "team/groups/list/continue",
                json!({"cursor": page["cursor"]}),
            )
            .await;
    }
    assert_eq!(names, ["Sales", "Everyone", "G0", "G1", "G2", "G3", "G4"]);
    let everyone = emu
        .state()
        .group_by_name("everyone")
        .unwrap()
        .group_id
        .clone();
    let sel = json!({".tag": "group_id", "group_id": everyone});
    assert_eq!(
        api.route_error("team/groups/delete", sel.clone()).await[".tag"],
        "system_managed_group_disallowed"
    );
    let rename = json!({"group": sel, "new_group_name": "All"});
    assert_eq!(
        api.route_error("team/groups/update", rename).await[".tag"],
        "system_managed_group_disallowed"
    );
    let err = api
        .route_error("team/groups/list/continue", json!({"cursor": "bad"}))
        .await;
    assert_eq!(err[".tag"], "invalid_cursor");
}

#[tokio::test]
async fn seeds_are_checked_and_state_round_trips() {
    let (emu, api) = start(quiet_jobs()).await;
    let mut dup = small_team();
    dup.members.push(member("ADMIN@acme.test", "Again", "Dup"));
    assert!(emu.try_seed(&dup).is_err());
    let mut unknown = small_team();
    unknown.groups[0].members.push("ghost@acme.test".into());
    assert!(emu.try_seed(&unknown).is_err());
    // Lenient seeding skips the duplicate.
    emu.seed(&dup);
    assert_eq!(emu.state().members.len(), 4);

    let state = emu.state();
    let reseeded = state.to_seed();
    emu.try_seed(&reseeded).unwrap();
    let again = emu.state();
    assert_eq!(again.members.len(), state.members.len());
    assert_eq!(again.groups[0].members[0].email, "bob@acme.test");

    let http = reqwest::Client::new();
    let admin_state: Value = http
        .get(format!("{}/__emulator/state", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin_state["team_name"], "Acme");
    assert_eq!(admin_state["members"].as_array().unwrap().len(), 4);
    let bad = http
        .post(format!("{}/__emulator/seed", api.base))
        .body(serde_json::to_string(&dup).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let mut seed = small_team();
    seed.team_name = Some("Renamed".into());
    let ok = http
        .post(format!("{}/__emulator/seed", api.base))
        .body(serde_json::to_string(&seed).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(emu.state().team_name, "Renamed");
}

#[tokio::test]
async fn call_counts_cover_every_request() {
    let (emu, api) = start(quiet_jobs()).await;
    api.ok("team/get_info", Value::Null).await;
    api.ok("team/get_info", Value::Null).await;
    api.route_error(
        "team/members/suspend",
        json!({"user": email("nobody@acme.test")}),
    )
    .await;
    let counts = emu.call_counts();
    assert_eq!(counts["team/get_info"], 2);
    assert_eq!(counts["team/members/suspend"], 1);
    let http = reqwest::Client::new();
    let admin: Value = http
        .get(format!("{}/__emulator/calls", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["team/get_info"], 2);
    emu.reset_call_counts();
    assert!(emu.call_counts().is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_then_recovers() {
    let faults = Faults {
        rate_limit: Some(RateLimit {
            max_calls: 2,
            window_ms: 300,
        }),
        ..Faults::default()
    };
    let (emu, api) = start(EmulatorConfig {
        faults,
        ..quiet_jobs()
    })
    .await;
    assert_eq!(api.call("team/get_info", Value::Null).await.status, 200);
    assert_eq!(api.call("team/get_info", Value::Null).await.status, 200);
    let limited = api.call("team/get_info", Value::Null).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.content_type, "application/json");
    assert_eq!(limited.retry_after.as_deref(), Some("1"));
    let body = limited.json();
    assert_eq!(body["error"]["reason"][".tag"], "too_many_requests");
    assert_eq!(body["error"]["retry_after"], 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(api.call("team/get_info", Value::Null).await.status, 200);
    emu.set_faults(Faults::default());
    for _ in 0..5 {
        assert_eq!(api.call("team/get_info", Value::Null).await.status, 200);
    }
}

async fn status_sequence(seed: u64) -> Vec<u16> {
    let faults = Faults {
        server_error_rate: 0.3,
        ..Faults::default()
    };
    let (_emu, api) = start(EmulatorConfig {
        faults,
        seed,
        ..quiet_jobs()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(api.call("team/get_info", Value::Null).await.status);
    }
    statuses
}

#[tokio::test]
async fn injected_server_errors_are_deterministic_per_seed() {
    let a = status_sequence(7).await;
    assert_eq!(a, status_sequence(7).await);
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
    assert_ne!(a, status_sequence(8).await);
}

#[tokio::test]
async fn dropped_connections_cut_the_response_after_the_change_happened() {
    let faults = Faults {
        drop_connection_rate: 1.0,
        ..Faults::default()
    };
    let (emu, api) = start(EmulatorConfig {
        faults,
        ..quiet_jobs()
    })
    .await;
    let req = api
        .http
        .post(format!("{}/2/team/members/suspend", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"user": email("carol@acme.test")}));
    let outcome = match req.send().await {
        Ok(resp) => resp.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the client must see a broken response");
    assert_eq!(
        emu.state()
            .member_by_email("carol@acme.test")
            .unwrap()
            .status,
        MemberStatus::Suspended
    );
    emu.set_faults(Faults::default());
    api.ok("team/get_info", Value::Null).await;
}

#[tokio::test]
async fn tls_serves_http1_and_http2_with_the_generated_ca() {
    let (emu, _) = start(EmulatorConfig {
        tls: true,
        ..quiet_jobs()
    })
    .await;
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let ca = reqwest::Certificate::from_pem(emu.ca_pem().expect("ca").as_bytes()).unwrap();
    for http2 in [false, true] {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(ca.clone())
            .https_only(true);
        builder = if http2 {
            builder.http2_prior_knowledge()
        } else {
            builder.http1_only()
        };
        let client = builder.build().unwrap();
        for host in [
            emu.base_url(),
            emu.base_url().replace("127.0.0.1", "localhost"),
        ] {
            let resp = client
                .post(format!("{host}/2/team/get_info"))
                .bearer_auth(emu.access_token())
                .header(CONTENT_TYPE, "application/json")
                .body("null")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            assert_eq!(
                resp.version(),
                if http2 {
                    reqwest::Version::HTTP_2
                } else {
                    reqwest::Version::HTTP_11
                }
            );
        }
    }
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (emu, api) = start(quiet_jobs()).await;
    api.ok("team/get_info", Value::Null).await;
    let base = emu.base_url();
    emu.shutdown().await;
    let after = reqwest::Client::new()
        .post(format!("{base}/2/team/get_info"))
        .send()
        .await;
    assert!(after.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_the_indexes_consistent() {
    let (emu, _) = start(quiet_jobs()).await;
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let api = Api::new(&emu);
        tasks.push(tokio::spawn(async move {
            let mut successes = 0;
            for batch in 0..5 {
                // Writers overlap: writer w and w+1 share half their emails.
                let members: Vec<Value> = (0..20)
                    .map(|i| new_member(&format!("c{}@acme.test", writer * 50 + batch * 20 + i)))
                    .collect();
                let result = api
                    .ok("team/members/add_v2", json!({"new_members": members}))
                    .await;
                let done = if result[".tag"] == "async_job_id" {
                    api.ok(
                        "team/members/add/job_status/get_v2",
                        json!({"async_job_id": result["async_job_id"]}),
                    )
                    .await
                } else {
                    result
                };
                successes += done["complete"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r[".tag"] == "success")
                    .count();
            }
            successes
        }));
    }
    let mut successes = 0;
    for t in tasks {
        successes += t.await.unwrap();
    }
    let state = emu.state();
    let created: Vec<_> = state
        .members
        .iter()
        .filter(|m| m.email.starts_with('c') && m.email != "carol@acme.test")
        .collect();
    assert_eq!(
        created.len(),
        successes,
        "every success is one member, no duplicates"
    );
    let mut emails: Vec<_> = created.iter().map(|m| m.email.clone()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), created.len());
    // Emails 0..350 (6 writers x 50 stride + 100 span) were each added exactly once.
    assert_eq!(successes, 350);
    let api = Api::new(&emu);
    let listed = api.ok("team/members/list_v2", json!({})).await;
    assert_eq!(listed["members"].as_array().unwrap().len(), 4 + 350);
}

#[tokio::test]
async fn malformed_arguments_never_crash_a_route() {
    let (emu, api) = start(quiet_jobs()).await;
    let routes = [
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
    ];
    let bodies = [
        json!([]),
        json!(1),
        json!("group_id"),
        json!({"user": 1, "group": {}, "members": [1], "users": "x"}),
        json!({"new_members": [{}], "cursor": 5, "limit": -1}),
        json!({"new_members": [{"member_email": 7}], "async_job_id": []}),
        json!({"user": {".tag": "email"}, "group": {".tag": "group_id", "group_id": 3}}),
        json!({"group_ids": "x", ".tag": "group_ids"}),
        json!({"group": {".tag": "group_id", "group_id": "g:nope"}, "members": [{"user": {".tag": "email", "email": "bob@acme.test"}, "access_type": "boss"}]}),
        json!({"cursor": "bWVtYmVyc3w5OTl8MHwwfDA", "limit": 0}),
    ];
    for route in routes {
        for body in &bodies {
            let a = api.call(route, body.clone()).await;
            assert!(
                matches!(a.status, 200 | 400 | 409),
                "{route} {body}: {} {}",
                a.status,
                a.body
            );
        }
    }
    // The team is unchanged and still serves.
    assert_eq!(emu.state().members.len(), 4);
    api.ok("team/get_info", Value::Null).await;
}
