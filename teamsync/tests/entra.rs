//! `[directory] kind = "entra"` through the library's config and runner: a TOML config pointed
//! at the in-process Graph emulator and Dropbox emulator plans the Entra users and groups.
//! `cargo test -p teamsync --features entra --test entra`
#![cfg(all(feature = "entra", feature = "dropbox"))]
#![allow(clippy::unwrap_used)]

use serde_json::json;
use teamsync_graph_emulator::{Emulator, EmulatorConfig, SeedApp, SeedGroup, TenantSeed};

const TENANT: &str = "7e1ea5e0-0000-4000-8000-00000000c0de";
const APP: &str = "a99c11e0-0000-4000-8000-000000000001";

fn oid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn user(
    n: u32,
    name: &str,
    extra: serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    let mut u = json!({"id": oid(n), "givenName": name, "surname": "Example", "mail": format!("{name}@contoso.com"),
        "userPrincipalName": format!("{name}@contoso.com"), "accountEnabled": true, "userType": "Member"});
    let map = u.as_object_mut().unwrap();
    map.extend(extra.as_object().unwrap().clone());
    map.clone()
}

#[tokio::test]
async fn an_entra_config_plans_through_the_runner() {
    let graph = Emulator::start(EmulatorConfig::default()).await.unwrap();
    graph
        .try_seed(&TenantSeed {
            tenant_id: TENANT.into(),
            apps: vec![SeedApp {
                client_id: APP.into(),
                client_secret: Some("the-secret".into()),
                roles: vec!["User.Read.All".into(), "GroupMember.Read.All".into()],
                ..SeedApp::default()
            }],
            users: vec![
                user(1, "ann", json!({})),
                user(2, "bob", json!({"mail": null})),
                user(3, "cat", json!({"accountEnabled": false})),
                user(4, "dan", json!({"userType": "Guest"})),
            ],
            groups: vec![
                SeedGroup {
                    id: oid(100),
                    display_name: "Dropbox Users".into(),
                    members: vec![oid(1), oid(101), oid(3), oid(4)],
                    ..SeedGroup::default()
                },
                SeedGroup {
                    id: oid(101),
                    display_name: "Engineering".into(),
                    members: vec![oid(2)],
                    ..SeedGroup::default()
                },
            ],
            ..TenantSeed::default()
        })
        .unwrap();
    let dbx = teamsync_dropbox_emulator::Emulator::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("entra-secret"), "the-secret\n").unwrap();
    std::fs::write(dir.path().join("dropbox-token"), dbx.access_token()).unwrap();
    let toml = format!(
        r#"
[directory]
kind = "entra"
tenant_id = "{TENANT}"
client_id = "{APP}"
client_secret = {{ file = "entra-secret" }}
root_groups = ["Dropbox Users"]
authority_url = "{graph}"
graph_url = "{graph}"

[team]
base_url = "{dbx}"
token = {{ file = "dropbox-token" }}
"#,
        graph = graph.base_url(),
        dbx = dbx.base_url()
    );
    let path = dir.path().join("teamsync.toml");
    std::fs::write(&path, &toml).unwrap();
    let runner = teamsync::Runner::new(teamsync::Config::load(&path).unwrap()).unwrap();
    let planned = runner.plan().await.unwrap();
    let rendered = planned.plan.render();
    assert!(
        rendered.contains("ann@contoso.com") && rendered.contains("bob@contoso.com"),
        "{rendered}"
    );
    // The disabled user is only listed as idle (nothing to do); the guest is not read at all.
    let operations = serde_json::to_string(&planned.plan.operations).unwrap();
    assert!(
        !operations.contains("cat@contoso.com") && !rendered.contains("dan@contoso.com"),
        "disabled and guest: {rendered}"
    );
    assert!(
        rendered.contains("cat@contoso.com (cat@contoso.com): never invited"),
        "{rendered}"
    );
    assert!(rendered.contains("Engineering"), "{rendered}");

    // Both credentials: refused, naming the key.
    let both = toml.replace(
        "root_groups",
        "certificate = { file = \"app.pem\" }\nroot_groups",
    );
    let err = teamsync::Config::from_toml_str(&both, &path).unwrap_err();
    assert!(err.to_string().contains("directory.client_secret"), "{err}");
}
