//! The 389-DS profile against a real 389 Directory Server (`scripts/fixtures/389ds.sh`,
//! population in `scripts/fixtures/389ds/population.ldif`): ids are the server's `nsUniqueId`,
//! nested `groupOfNames` are followed, `nsAccountLock` disables, a deleted user is found through
//! the ids synced before. Without `TEAMSYNC_389_*` (from `STATE_DIR/389ds.env`) each test prints
//! one line and passes; `scripts/test.sh` starts the fixture, so CI runs them.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::Duration;

use ldap3::{LdapConnAsync, Scope, SearchEntry};
use teamsync_core::Secret;
use teamsync_core::{Directory, SourceId};
use teamsync_ldap::{LdapConfig, LdapDirectory, Profile};

struct Fixture {
    url: String,
    ldaps_url: String,
    ca: String,
    base: String,
    bind_dn: String,
    bind_pw: String,
}

fn fixture() -> Option<Fixture> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Some(Fixture {
        url: var("TEAMSYNC_389_URL")?,
        ldaps_url: var("TEAMSYNC_389_LDAPS_URL")?,
        ca: var("TEAMSYNC_389_CA")?,
        base: var("TEAMSYNC_389_BASE")?,
        bind_dn: var("TEAMSYNC_389_BIND_DN")?,
        bind_pw: var("TEAMSYNC_389_BIND_PW")?,
    })
}

macro_rules! fixture_or_skip {
    ($test:literal) => {
        match fixture() {
            Some(f) => f,
            None => {
                eprintln!(
                    "SKIPPED {}: TEAMSYNC_389_* not set; start scripts/fixtures/389ds.sh start DIR and load DIR/389ds.env",
                    $test
                );
                return;
            }
        }
    };
}

impl Fixture {
    fn group(&self, cn: &str) -> String {
        format!("cn={cn},ou=groups,{}", self.base)
    }

    fn person(&self, uid: &str) -> String {
        format!("uid={uid},ou=people,{}", self.base)
    }

    /// ldaps:// with the instance's CA, bound as cn=Directory Manager, root cn=dropbox.
    fn config(&self) -> LdapConfig {
        let mut config =
            LdapConfig::new(self.ldaps_url.clone(), self.base.clone(), Profile::ds389())
                .with_bind(self.bind_dn.clone(), Secret::new(self.bind_pw.clone()));
        config.ca_file = Some(self.ca.clone().into());
        config.connect_timeout = Duration::from_secs(10);
        config.operation_timeout = Duration::from_secs(30);
        config.user_root_dns = vec![self.group("dropbox")];
        config
    }

    async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url).await.unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(&self.bind_dn, &self.bind_pw)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }

    /// `nsUniqueId` of every entry under `ou=people`, by uid.
    async fn unique_ids(&self) -> BTreeMap<String, String> {
        let mut ldap = self.admin().await;
        let (entries, _) = ldap
            .search(
                &format!("ou=people,{}", self.base),
                Scope::OneLevel,
                "(uid=*)",
                vec!["uid", "nsUniqueId"],
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|e| (e.attrs["uid"][0].clone(), e.attrs["nsUniqueId"][0].clone()))
            .collect()
    }
}

#[tokio::test]
async fn the_389_profile_reads_nested_groups_locks_and_unique_ids() {
    let fixture = fixture_or_skip!("the_389_profile_reads_nested_groups_locks_and_unique_ids");
    let ids = fixture.unique_ids().await;
    let state = LdapDirectory::new(fixture.config())
        .unwrap()
        .snapshot()
        .await
        .unwrap();
    assert!(state.issues.is_empty(), "{:?}", state.issues);

    // Everyone reachable from cn=dropbox (ann and cat directly, bob through engineering, dov
    // through platform inside engineering), by the server's own nsUniqueId; eve is outside.
    let mut read: Vec<(String, String, bool)> = state
        .users
        .iter()
        .map(|u| (u.id.as_str().to_owned(), u.email.to_lowercase(), u.enabled))
        .collect();
    read.sort();
    let mut want: Vec<(String, String, bool)> =
        [("ann", true), ("bob", true), ("cat", false), ("dov", true)]
            .iter()
            .map(|(uid, enabled)| {
                let email = if *uid == "bob" {
                    "bob.ng@example.com".to_owned()
                } else {
                    format!("{uid}@example.com")
                };
                (ids[*uid].clone(), email, *enabled)
            })
            .collect();
    want.sort();
    assert_eq!(read, want);

    // Nesting is kept for the core to flatten: dropbox → engineering → platform.
    let by_name: BTreeMap<&str, &teamsync_core::DirectoryGroup> =
        state.groups.iter().map(|g| (g.name.as_str(), g)).collect();
    let engineering = by_name["engineering"];
    assert!(by_name["dropbox"].members.contains(&engineering.id));
    assert!(engineering.members.contains(&by_name["platform"].id));
    assert_eq!(state.user_roots, vec![by_name["dropbox"].id.clone()]);
    assert!(state.deleted.is_empty());
}

/// 389-DS without replication keeps no tombstones: a deleted user is found by looking up the ids
/// synced before, and an id that never existed counts as deleted too.
#[tokio::test]
async fn a_deleted_389_user_is_found_through_known_ids() {
    let fixture = fixture_or_skip!("a_deleted_389_user_is_found_through_known_ids");
    let mut ldap = fixture.admin().await;
    let uid = format!("temp-{}", std::process::id());
    let dn = fixture.person(&uid);
    let _ = ldap.delete(&dn).await; // leftover of an interrupted run
    ldap.add(
        &dn,
        vec![
            (
                "objectClass",
                ["top", "person", "organizationalPerson", "inetOrgPerson"].into(),
            ),
            ("uid", [uid.as_str()].into()),
            ("cn", ["Temp User"].into()),
            ("sn", ["User"].into()),
            ("mail", ["temp@example.com"].into()),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    let temp_id = fixture.unique_ids().await[&uid].clone();
    ldap.delete(&dn).await.unwrap().success().unwrap();
    let ann_id = fixture.unique_ids().await["ann"].clone();

    let never = "00000000-00000000-00000000-00000000".to_owned();
    let mut config = fixture.config();
    config.known_ids = [&ann_id, &temp_id, &never]
        .iter()
        .map(|id| SourceId::new(id.as_str()).unwrap())
        .collect();
    let state = LdapDirectory::new(config)
        .unwrap()
        .snapshot()
        .await
        .unwrap();
    let mut deleted: Vec<String> = state
        .deleted
        .iter()
        .map(|id| id.as_str().to_owned())
        .collect();
    deleted.sort();
    let mut want = vec![temp_id, never];
    want.sort();
    assert_eq!(
        deleted, want,
        "ann is alive; the removed user and the unknown id are gone"
    );
}
