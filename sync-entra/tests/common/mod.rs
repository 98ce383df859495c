//! Helpers shared by the integration tests: a seeded in-process Graph emulator and an
//! `EntraConfig` pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Map, Value, json};
use teamsync_entra::{Cloud, Credential, EntraConfig, EntraDirectory, RetryPolicy};
use teamsync_graph_emulator::{
    Emulator, EmulatorConfig, SeedApp, SeedGroup, SeedServicePrincipal, TenantSeed,
};

pub const TENANT: &str = "7e1ea5e0-0000-4000-8000-00000000c0de";
pub const APP: &str = "a99c11e0-0000-4000-8000-000000000001";
pub const SECRET: &str = "s3cr3t~Value.of-the-test-app";
pub const CERT_APP: &str = "a99c11e0-0000-4000-8000-000000000002";
pub const APP_PEM: &str = include_str!("../fixtures/app.pem");
pub const OTHER_PEM: &str = include_str!("../fixtures/other.pem");
pub const CERT_PEM: &str = include_str!("../fixtures/cert.pem");
pub const ROLES: &[&str] = &[
    "User.Read.All",
    "GroupMember.Read.All",
    "Application.Read.All",
];

/// A GUID-shaped object id from a short name (`oid("ann")`).
pub fn oid(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("00000000-0000-4000-8000-{:0>12}", &hex[..hex.len().min(12)])
}

pub fn user(name: &str, fields: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(oid(name)));
    m.insert("displayName".into(), json!(format!("{name} display")));
    m.insert("givenName".into(), json!(format!("{name}-given")));
    m.insert("surname".into(), json!(format!("{name}-sur")));
    m.insert("mail".into(), json!(format!("{name}@contoso.com")));
    m.insert(
        "userPrincipalName".into(),
        json!(format!("{name}@contoso.com")),
    );
    m.insert("accountEnabled".into(), json!(true));
    m.insert("userType".into(), json!("Member"));
    if let Value::Object(extra) = fields {
        m.extend(extra);
    }
    m
}

pub fn group(name: &str, display: &str, members: &[&str]) -> SeedGroup {
    SeedGroup {
        id: oid(name),
        display_name: display.into(),
        members: members.iter().map(|m| oid(m)).collect(),
        ..SeedGroup::default()
    }
}

pub fn apps() -> Vec<SeedApp> {
    vec![
        SeedApp {
            client_id: APP.into(),
            client_secret: Some(SECRET.into()),
            roles: ROLES.iter().map(|r| (*r).to_owned()).collect(),
            ..SeedApp::default()
        },
        SeedApp {
            client_id: CERT_APP.into(),
            certificates: vec![CERT_PEM.into()],
            roles: ROLES.iter().map(|r| (*r).to_owned()).collect(),
            ..SeedApp::default()
        },
    ]
}

/// The standard tenant:
/// * root "Dropbox Users" (g-root): ann, bob (no mail), cat (disabled), dan (guest), g-eng
/// * g-eng "Engineering": fay, g-ops; g-ops "Ops": eve (onmicrosoft UPN only), g-eng (a cycle)
/// * gus belongs to no root group; hal is soft-deleted; two groups are named "Sales"
/// * service principal "Dropbox" (sp) has ann and g-ops assigned
pub fn world() -> TenantSeed {
    TenantSeed {
        tenant_id: TENANT.into(),
        apps: apps(),
        users: vec![
            user("ann", json!({})),
            user("bob", json!({"mail": null})),
            user("cat", json!({"accountEnabled": false})),
            user(
                "dan",
                json!({"userType": "Guest", "mail": "dan@partner.example", "userPrincipalName": "dan_partner.example#EXT#@contoso.onmicrosoft.com"}),
            ),
            user(
                "eve",
                json!({"mail": null, "userPrincipalName": "eve@contoso.onmicrosoft.com"}),
            ),
            user("fay", json!({})),
            user("gus", json!({})),
        ],
        groups: vec![
            group(
                "g-root",
                "Dropbox Users",
                &["ann", "bob", "cat", "dan", "g-eng"],
            ),
            group("g-eng", "Engineering", &["fay", "g-ops"]),
            group("g-ops", "Ops", &["eve", "g-eng"]),
            group("sales1", "Sales", &["gus"]),
            group("sales2", "Sales", &[]),
        ],
        service_principals: vec![SeedServicePrincipal {
            id: oid("sp"),
            display_name: "Dropbox".into(),
            assigned: vec![oid("ann"), oid("g-ops")],
        }],
        deleted_users: vec![user(
            "hal",
            json!({"deletedDateTime": "2026-11-30T10:00:00Z"}),
        )],
    }
}

pub async fn emulator(seed: &TenantSeed, max_page_size: usize) -> Emulator {
    emulator_with(
        seed,
        EmulatorConfig {
            max_page_size,
            ..EmulatorConfig::default()
        },
    )
    .await
}

pub async fn emulator_with(seed: &TenantSeed, config: EmulatorConfig) -> Emulator {
    let emu = Emulator::start(config).await.unwrap();
    emu.try_seed(seed).unwrap();
    emu
}

/// Fast retries so that tests do not wait on the production backoff.
pub fn fast_retry() -> RetryPolicy {
    let mut r = RetryPolicy::default();
    r.backoff_base = Duration::from_millis(5);
    r.backoff_max = Duration::from_millis(200);
    r.max_total_wait = Duration::from_secs(60);
    r.max_attempts = 10;
    r
}

pub fn config_with(emu: &Emulator, client_id: &str, credential: Credential) -> EntraConfig {
    let mut c = EntraConfig::new(TENANT, client_id, credential);
    c.cloud = Cloud::Custom {
        authority: emu.base_url(),
        graph: emu.base_url(),
    };
    c.root_groups = vec![oid("g-root")];
    c.retry = fast_retry();
    c.request_timeout = Duration::from_secs(10);
    c
}

pub fn config(emu: &Emulator) -> EntraConfig {
    config_with(emu, APP, Credential::client_secret(SECRET))
}

pub fn directory(config: EntraConfig) -> EntraDirectory {
    EntraDirectory::new(config).unwrap()
}
