//! The hybrid move: a team provisioned from Active Directory (the Samba AD DC of
//! `scripts/fixtures/samba.sh`), then the source switched to Entra ID, seeded with the same
//! people carrying `onPremisesImmutableId` = base64 of the `objectGUID` bytes Samba itself
//! returns (what Entra Connect writes). With `id = on_premises_immutable_id` the Entra plan has
//! no invites, suspensions, removals or adoptions: nobody is re-provisioned.
//!
//! Needs the fixture's environment (`TEAMSYNC_AD_URL`, `TEAMSYNC_AD_BIND_DN`,
//! `TEAMSYNC_AD_BIND_PW`, `TEAMSYNC_AD_BASE`); without it the test prints one line and passes.
//!
//! Groups are not synced in either run (`group_sync = off`): Graph exposes no on-premises GUID
//! for groups, so a group read from Entra has another id than the same group read from AD.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use serde_json::{Map, Value, json};
use teamsync_core::{
    Action, ActualState, ApplyOptions, DesiredState, Directory, GroupSync, Policy, TeamStore,
};
use teamsync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxTeam, JobPolling, TeamOptions,
};
use teamsync_entra::IdSource;
use teamsync_graph_emulator::{SeedGroup, TenantSeed};
use teamsync_ldap::{LdapConfig, LdapDirectory, Profile, Secret};

fn fixture_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn policy() -> Policy {
    Policy::default().with_group_sync(GroupSync::Off)
}

/// The AD users and groups as Entra would hold them after Entra Connect synced them: new object
/// ids, `onPremisesImmutableId` from the raw `objectGUID` bytes, the same names and emails.
fn entra_tenant(ad: &DesiredState, guid_bytes: &HashMap<String, Vec<u8>>) -> (TenantSeed, String) {
    let mut object_ids: HashMap<String, String> = HashMap::new();
    let mut users: Vec<Map<String, Value>> = Vec::new();
    for (n, u) in ad.users.iter().enumerate() {
        let oid = format!("e0000000-0000-4000-8000-{n:012}");
        object_ids.insert(u.id.as_str().to_owned(), oid.clone());
        let dn = u.locator.clone().unwrap_or_default().to_ascii_lowercase();
        let bytes = guid_bytes
            .get(&dn)
            .unwrap_or_else(|| panic!("no objectGUID for {dn}"));
        let upn = if u.email.is_empty() {
            format!("user{n}@fx.onmicrosoft.com")
        } else {
            u.email.clone()
        };
        let Value::Object(user) = json!({
            "id": oid, "displayName": format!("{} {}", u.given_name, u.surname), "givenName": u.given_name,
            "surname": u.surname, "mail": if u.email.is_empty() { Value::Null } else { json!(u.email) },
            "userPrincipalName": upn, "accountEnabled": u.enabled, "userType": "Member",
            "onPremisesImmutableId": base64::engine::general_purpose::STANDARD.encode(bytes),
        }) else {
            unreachable!()
        };
        users.push(user);
    }
    for (n, g) in ad.groups.iter().enumerate() {
        object_ids.insert(
            g.id.as_str().to_owned(),
            format!("e1000000-0000-4000-8000-{n:012}"),
        );
    }
    let groups = ad
        .groups
        .iter()
        .map(|g| SeedGroup {
            id: object_ids[g.id.as_str()].clone(),
            display_name: g.name.clone(),
            members: g
                .members
                .iter()
                .filter_map(|m| object_ids.get(m.as_str()).cloned())
                .collect(),
            ..SeedGroup::default()
        })
        .collect();
    let root = object_ids[ad.user_roots[0].as_str()].clone();
    (
        TenantSeed {
            tenant_id: TENANT.into(),
            apps: apps(),
            users,
            groups,
            ..TenantSeed::default()
        },
        root,
    )
}

#[tokio::test]
async fn moving_the_source_from_ad_to_entra_reprovisions_nobody() {
    let (Some(url), Some(bind_dn), Some(bind_pw), Some(base)) = (
        fixture_var("TEAMSYNC_AD_URL"),
        fixture_var("TEAMSYNC_AD_BIND_DN"),
        fixture_var("TEAMSYNC_AD_BIND_PW"),
        fixture_var("TEAMSYNC_AD_BASE"),
    ) else {
        println!(
            "skipped: TEAMSYNC_AD_URL is not set (start scripts/fixtures/samba.sh and source its samba.env)"
        );
        return;
    };
    let mut ldap = LdapConfig::new(url, base.clone(), Profile::active_directory())
        .with_bind(bind_dn, Secret::new(bind_pw));
    ldap.allow_plaintext_bind = true;
    ldap.user_root_dns = vec![format!("CN=ts-root,OU=Groups,OU=Teamsync,{base}")];
    let ad_dir = LdapDirectory::new(ldap).unwrap();
    let ad = ad_dir.snapshot().await.unwrap();
    let raw = ad_dir.read_entries().await.unwrap();
    let guid_bytes: HashMap<String, Vec<u8>> = raw
        .users
        .iter()
        .filter_map(|e| {
            e.values("objectGUID")
                .first()
                .map(|b| (e.dn.to_ascii_lowercase(), b.clone()))
        })
        .collect();

    // Provision the team from AD.
    let dbx = teamsync_dropbox_emulator::Emulator::start(Default::default())
        .await
        .unwrap();
    let client = DropboxClient::new(
        ClientConfig::with_base_url(dbx.base_url()),
        Credentials::access_token(dbx.access_token()),
    )
    .unwrap();
    let options = TeamOptions::default().with_job_polling(JobPolling::new(
        Duration::from_millis(5),
        Duration::from_millis(50),
        Duration::from_secs(60),
    ));
    let team = DropboxTeam::with_options(client, options);
    let plan = teamsync_core::plan(&ad, &ActualState::default(), &policy()).unwrap();
    let invites = plan
        .operations
        .iter()
        .filter(|o| matches!(o.action, Action::Invite { .. }))
        .count();
    assert!(
        invites > 100,
        "the AD fixture provisions its users: {invites}"
    );
    let outcome = teamsync_core::apply(&plan, &team, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.failed, 0);
    dbx.accept_invitations(&[]);

    // Switch the source to Entra.
    let (seed, root) = entra_tenant(&ad, &guid_bytes);
    let graph = emulator(&seed, 999).await;
    let mut c = config(&graph);
    c.root_groups = vec![root];
    c.id = IdSource::OnPremisesImmutableId;
    let entra = directory(c).snapshot().await.unwrap();
    assert!(entra.issues.is_empty(), "{:?}", entra.issues);
    let plan = teamsync_core::plan(&entra, &team.snapshot().await.unwrap(), &policy()).unwrap();
    let member_changes: Vec<_> = plan
        .operations
        .iter()
        .filter(|o| {
            matches!(
                o.action,
                Action::Invite { .. }
                    | Action::Suspend { .. }
                    | Action::Remove { .. }
                    | Action::AdoptMember { .. }
                    | Action::UpdateProfile { .. }
            )
        })
        .collect();
    assert!(member_changes.is_empty(), "{member_changes:#?}");
    assert!(plan.operations.is_empty(), "{}", plan.render());

    // The same move with object ids would have re-provisioned everyone: the check has teeth.
    let mut c = config(&graph);
    c.root_groups = vec![entra_tenant(&ad, &guid_bytes).1];
    let by_object_id = directory(c).snapshot().await.unwrap();
    let plan =
        teamsync_core::plan(&by_object_id, &team.snapshot().await.unwrap(), &policy()).unwrap();
    assert!(!plan.operations.is_empty());
}
