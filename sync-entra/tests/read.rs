//! Snapshots read from the in-process Graph emulator: every field rule, scope, paging, auth.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::json;
use teamsync_core::{DesiredState, Directory, DirectoryErrorKind, DirectoryUser, SourceId};
use teamsync_entra::{Credential, IdSource};
use teamsync_graph_emulator::SeedApp;

fn sid(name: &str) -> SourceId {
    SourceId::new(oid(name)).unwrap()
}

fn users_by_name(state: &DesiredState) -> BTreeMap<String, DirectoryUser> {
    state
        .users
        .iter()
        .map(|u| {
            (
                u.attributes["displayName"]
                    .trim_end_matches(" display")
                    .to_owned(),
                u.clone(),
            )
        })
        .collect()
}

fn members(state: &DesiredState, group: &str) -> Vec<SourceId> {
    let mut m = state
        .groups
        .iter()
        .find(|g| g.id == sid(group))
        .unwrap_or_else(|| panic!("{group} not read"))
        .members
        .clone();
    m.sort();
    m
}

#[tokio::test]
async fn reads_every_field_rule_through_small_pages() {
    let emu = emulator(&world(), 2).await;
    let dir = directory(config(&emu));
    let state = dir.snapshot().await.unwrap();

    let users = users_by_name(&state);
    assert_eq!(
        users.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ann", "bob", "cat", "eve", "fay", "gus"],
        "the guest is excluded"
    );
    assert_eq!(users["ann"].email, "ann@contoso.com");
    assert_eq!(
        (
            users["ann"].given_name.as_str(),
            users["ann"].surname.as_str()
        ),
        ("ann-given", "ann-sur")
    );
    assert_eq!(users["bob"].email, "bob@contoso.com", "no mail: the UPN");
    assert_eq!(users["eve"].email, "", "an onmicrosoft.com UPN is not used");
    assert!(!users["cat"].enabled && users["ann"].enabled);
    assert_eq!(users["ann"].id, sid("ann"), "the object id is the SourceId");
    assert_eq!(
        state.deleted,
        vec![sid("hal")],
        "the soft-deleted user is a tombstone"
    );
    assert_eq!(state.user_roots, vec![sid("g-root")]);

    // Direct members, nesting (and its cycle) kept for the core.
    assert_eq!(members(&state, "g-root"), {
        let mut v = vec![sid("ann"), sid("bob"), sid("cat"), sid("dan"), sid("g-eng")];
        v.sort();
        v
    });
    assert_eq!(members(&state, "g-ops"), {
        let mut v = vec![sid("eve"), sid("g-eng")];
        v.sort();
        v
    });
    assert_eq!(
        state.groups.len(),
        3,
        "only groups reachable from the root are read: {:?}",
        state.groups
    );
    assert_eq!(
        state
            .groups
            .iter()
            .find(|g| g.id == sid("g-eng"))
            .unwrap()
            .name,
        "Engineering"
    );

    // Paging: 7 users in pages of 2; every page re-sent the headers and the $select.
    let calls = emu.call_counts();
    assert_eq!(calls["users"], 4, "{calls:?}");
    assert_eq!(calls["groups"], 3, "{calls:?}");
    assert_eq!(calls["groups/{id}/members"], 3 + 1 + 1, "{calls:?}");
    assert_eq!(calls["token"], 1, "the token is cached");
    let requests = emu.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.throttle_priority.as_deref() == Some("low")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .filter(|r| r.route == "users")
            .all(|r| r.uri.contains("accountEnabled") && r.uri.contains("top=999")),
        "{requests:?}"
    );

    // And the core accepts it.
    let plan = teamsync_core::plan(&state, &Default::default(), &Default::default()).unwrap();
    assert!(plan.operations.len() > 3);
}

#[tokio::test]
async fn guests_are_read_when_included_and_upn_rules_are_configurable() {
    let emu = emulator(&world(), 999).await;
    let mut c = config(&emu);
    c.include_guests = true;
    c.email.allow_onmicrosoft_upn = true;
    let state = directory(c).snapshot().await.unwrap();
    let users = users_by_name(&state);
    assert_eq!(users["dan"].email, "dan@partner.example");
    assert_eq!(users["eve"].email, "eve@contoso.onmicrosoft.com");

    let mut seed = world();
    seed.users[3].insert("mail".into(), json!(null));
    let emu = emulator(&seed, 999).await;
    let mut c = config(&emu);
    c.include_guests = true;
    let users = users_by_name(&directory(c).snapshot().await.unwrap());
    assert_eq!(users["dan"].email, "", "a #EXT# UPN is never an address");
}

#[tokio::test]
async fn roots_by_name_ambiguous_names_and_missing_roots() {
    let emu = emulator(&world(), 999).await;
    let mut c = config(&emu);
    c.root_groups = vec!["dropbox users".into()];
    let state = directory(c).snapshot().await.unwrap();
    assert_eq!(
        state.user_roots,
        vec![sid("g-root")],
        "display names match case-insensitively"
    );

    let mut c = config(&emu);
    c.root_groups = vec!["Sales".into()];
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Config, "{err}");
    assert!(
        err.message.contains(&oid("sales1"))
            && err.message.contains(&oid("sales2"))
            && err.message.contains("object id"),
        "{err}"
    );

    let mut c = config(&emu);
    c.root_groups = vec!["Nobody".into()];
    assert_eq!(
        directory(c).snapshot().await.unwrap_err().kind,
        DirectoryErrorKind::RootNotFound
    );
}

#[tokio::test]
async fn enterprise_app_assignments_are_a_root() {
    let emu = emulator(&world(), 999).await;
    let mut c = config(&emu);
    c.root_groups.clear();
    c.app_id = Some(oid("sp"));
    let state = directory(c).snapshot().await.unwrap();
    assert_eq!(state.user_roots, vec![sid("sp")]);
    let app = state.groups.iter().find(|g| g.id == sid("sp")).unwrap();
    assert_eq!(app.name, "Dropbox");
    assert_eq!(members(&state, "sp"), {
        let mut v = vec![sid("ann"), sid("g-ops")];
        v.sort();
        v
    });
    assert!(
        state.groups.iter().any(|g| g.id == sid("g-eng")),
        "nested under an assigned group"
    );
    assert!(!state.groups.iter().any(|g| g.id == sid("g-root")));

    let mut c = config(&emu);
    c.app_id = Some(oid("nope"));
    assert_eq!(
        directory(c).snapshot().await.unwrap_err().kind,
        DirectoryErrorKind::RootNotFound
    );
}

#[tokio::test]
async fn certificate_auth_and_refused_credentials() {
    let emu = emulator(&world(), 999).await;
    let state = directory(config_with(
        &emu,
        CERT_APP,
        Credential::certificate_pem(APP_PEM),
    ))
    .snapshot()
    .await
    .unwrap();
    assert_eq!(state.users.len(), 6);

    let err = directory(config_with(
        &emu,
        CERT_APP,
        Credential::certificate_pem(OTHER_PEM),
    ))
    .snapshot()
    .await
    .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Bind, "{err}");
    assert!(
        err.message.contains("invalid_client") && err.message.contains("AADSTS700027"),
        "{err}"
    );

    let err = directory(config_with(&emu, APP, Credential::client_secret("wrong")))
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Bind);
    assert!(
        err.message.contains("invalid_client") && err.message.contains("AADSTS7000215"),
        "{err}"
    );
    assert!(
        !err.message.contains("wrong"),
        "the secret is not echoed: {err}"
    );

    let err = directory(config_with(
        &emu,
        "a99c11e0-0000-4000-8000-00000000ffff",
        Credential::client_secret(SECRET),
    ))
    .snapshot()
    .await
    .unwrap_err();
    assert!(err.message.contains("unauthorized_client"), "{err}");

    // A certificate app sending a secret, and a secret app sending a certificate: refused.
    let err = directory(config_with(&emu, APP, Credential::certificate_pem(APP_PEM)))
        .snapshot()
        .await
        .unwrap_err();
    assert!(err.message.contains("invalid_client"), "{err}");

    let err = teamsync_entra::EntraDirectory::new(config_with(
        &emu,
        CERT_APP,
        Credential::certificate_pem(CERT_PEM),
    ))
    .unwrap_err();
    assert_eq!(
        err.kind,
        DirectoryErrorKind::Config,
        "a PEM without its key is refused up front: {err}"
    );
}

#[tokio::test]
async fn expiring_tokens_are_renewed() {
    let emu = emulator_with(
        &world(),
        teamsync_graph_emulator::EmulatorConfig {
            access_token_ttl: std::time::Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await;
    let dir = directory(config(&emu));
    dir.snapshot().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    dir.snapshot().await.unwrap();
    assert!(emu.call_counts()["token"] >= 2);
}

#[tokio::test]
async fn immutable_ids_become_the_ad_object_guids() {
    // ann's AD objectGUID bytes, as LDAP returns them and Entra Connect base64-encodes them.
    let bytes: [u8; 16] = [
        0x91, 0x98, 0xfb, 0x9e, 0x21, 0xae, 0x6b, 0x41, 0xb3, 0xf7, 0x69, 0x88, 0x0c, 0x29, 0x7e,
        0x4f,
    ];
    let immutable = "kZj7niGua0Gz92mIDCl+Tw==";
    // teamsync-ldap's id for these bytes (its unit tests pin the same form).
    let ldap_form = "9efb9891-ae21-416b-b3f7-69880c297e4f";
    assert_eq!(teamsync_entra::format_guid(&bytes).unwrap(), ldap_form);
    assert_eq!(
        teamsync_entra::immutable_id_to_guid(immutable).unwrap(),
        ldap_form
    );

    let mut seed = world();
    seed.users[0].insert("onPremisesImmutableId".into(), json!(immutable));
    seed.users[5].insert("onPremisesImmutableId".into(), json!("bm90IGEgZ3VpZA==")); // fay: not 16 bytes
    seed.deleted_users[0].insert(
        "onPremisesImmutableId".into(),
        json!("AAECAwQFBgcICQoLDA0ODw=="),
    );
    let emu = emulator(&seed, 999).await;
    let mut c = config(&emu);
    c.id = IdSource::OnPremisesImmutableId;
    let state = directory(c).snapshot().await.unwrap();
    let users = users_by_name(&state);
    assert_eq!(users["ann"].id.as_str(), ldap_form);
    assert_eq!(
        users["bob"].id,
        sid("bob"),
        "cloud-only users keep their object id"
    );
    assert!(!users.contains_key("fay"));
    assert!(
        state
            .issues
            .iter()
            .any(|i| i.problem.contains("onPremisesImmutableId")),
        "{:?}",
        state.issues
    );
    assert!(
        members(&state, "g-root").contains(&SourceId::new(ldap_form).unwrap()),
        "members are translated too"
    );
    assert_eq!(
        state.deleted,
        vec![SourceId::new("03020100-0504-0706-0809-0a0b0c0d0e0f").unwrap()]
    );
}

#[tokio::test]
async fn known_ids_missing_from_a_complete_read_are_tombstones() {
    let emu = emulator(&world(), 999).await;
    let mut c = config(&emu);
    c.known_ids = vec![sid("ann"), sid("zed"), sid("dan")];
    let state = directory(c).snapshot().await.unwrap();
    let mut deleted = state.deleted.clone();
    deleted.sort();
    let mut want = vec![sid("hal"), sid("zed")];
    want.sort();
    assert_eq!(
        deleted, want,
        "zed is gone for good; dan (an excluded guest) is not deleted"
    );
}

#[tokio::test]
async fn check_names_missing_permissions() {
    let mut seed = world();
    seed.apps.push(SeedApp {
        client_id: "a99c11e0-0000-4000-8000-000000000003".into(),
        client_secret: Some(SECRET.into()),
        roles: vec!["User.Read.All".into()],
        ..SeedApp::default()
    });
    let emu = emulator(&seed, 999).await;
    let dir = directory(config_with(
        &emu,
        "a99c11e0-0000-4000-8000-000000000003",
        Credential::client_secret(SECRET),
    ));
    let report = dir.check().await.unwrap();
    assert_eq!(report.missing, vec!["GroupMember.Read.All"]);
    assert_eq!(report.roles, Some(vec!["User.Read.All".to_owned()]));
    let err = dir.snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Bind);
    assert!(err.message.contains("GroupMember.Read.All"), "{err}");

    let full = directory(config(&emu)).check().await.unwrap();
    assert!(full.missing.is_empty());
}

#[tokio::test]
async fn secrets_never_print() {
    let emu = emulator(&world(), 999).await;
    let dir = directory(config(&emu));
    dir.snapshot().await.unwrap();
    let shown = format!(
        "{dir:?} {:?}",
        config_with(&emu, CERT_APP, Credential::certificate_pem(APP_PEM))
    );
    assert!(
        !shown.contains(SECRET) && !shown.contains("PRIVATE KEY"),
        "{shown}"
    );
}
