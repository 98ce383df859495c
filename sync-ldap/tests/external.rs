//! SASL EXTERNAL binds with a TLS client certificate, against the slapd of
//! `scripts/fixtures/slapd.sh` (`olcTLSVerifyClient try`; `olcAuthzRegexp` maps the
//! certificate subject `cn=teamsync-reader` to `cn=reader`, which reads without size limits).
//!
//! Without the fixture's variables every test prints one line and passes.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use teamsync_core::{DesiredState, Directory, DirectoryError, DirectoryErrorKind};
use teamsync_ldap::{Bind, ClientCertificate, LdapConfig, LdapDirectory, Profile, Secret};

struct Fixture {
    url: String,
    ldaps_url: String,
    ca: String,
    base: String,
    bind_dn: String,
    bind_pw: String,
    client_cert: String,
    client_key: String,
    client_dn: String,
    rogue_cert: String,
    rogue_key: String,
}

const VARS: [&str; 11] = [
    "TEAMSYNC_SLAPD_URL",
    "TEAMSYNC_SLAPD_LDAPS_URL",
    "TEAMSYNC_SLAPD_CA",
    "TEAMSYNC_SLAPD_BASE",
    "TEAMSYNC_SLAPD_BIND_DN",
    "TEAMSYNC_SLAPD_BIND_PW",
    "TEAMSYNC_SLAPD_CLIENT_CERT",
    "TEAMSYNC_SLAPD_CLIENT_KEY",
    "TEAMSYNC_SLAPD_CLIENT_DN",
    "TEAMSYNC_SLAPD_ROGUE_CERT",
    "TEAMSYNC_SLAPD_ROGUE_KEY",
];

fn fixture() -> Option<Fixture> {
    let values: Vec<String> = VARS
        .iter()
        .map(|v| std::env::var(v).unwrap_or_default())
        .collect();
    if let Some(missing) = VARS.iter().zip(&values).find(|(_, v)| v.trim().is_empty()) {
        println!(
            "skipping: {} is not set (start the OpenLDAP fixture: scripts/fixtures/slapd.sh start DIR, then load DIR/slapd.env)",
            missing.0
        );
        return None;
    }
    let mut v = values.into_iter();
    let mut next = || v.next().unwrap();
    Some(Fixture {
        url: next(),
        ldaps_url: next(),
        ca: next(),
        base: next(),
        bind_dn: next(),
        bind_pw: next(),
        client_cert: next(),
        client_key: next(),
        client_dn: next(),
        rogue_cert: next(),
        rogue_key: next(),
    })
}

impl Fixture {
    fn config(&self, url: &str, bind: Bind) -> LdapConfig {
        let mut c =
            LdapConfig::new(url, self.base.clone(), Profile::open_ldap()).with_bind_mode(bind);
        c.ca_file = Some(self.ca.clone().into());
        c.operation_timeout = Duration::from_secs(30);
        c.user_root_dns = vec![format!("cn=dropbox,ou=groups,{}", self.base)];
        c
    }

    fn external(&self, url: &str, cert: &str, key: &str) -> LdapConfig {
        let mut c = self.config(url, Bind::External);
        c.client_certificate = Some(ClientCertificate::new(cert, key));
        c
    }
}

async fn snapshot(config: LdapConfig) -> Result<DesiredState, DirectoryError> {
    LdapDirectory::new(config)?.snapshot().await
}

#[tokio::test]
async fn external_snapshot_equals_the_simple_bind_snapshot() {
    let Some(fx) = fixture() else { return };
    let simple = fx.config(
        &fx.ldaps_url,
        Bind::simple(fx.bind_dn.clone(), Secret::new(fx.bind_pw.clone())),
    );
    let by_password = snapshot(simple).await.unwrap();
    assert!(!by_password.users.is_empty());
    let ldaps = snapshot(fx.external(&fx.ldaps_url, &fx.client_cert, &fx.client_key))
        .await
        .unwrap();
    assert_eq!(ldaps, by_password, "EXTERNAL over ldaps://");
    let mut starttls = fx.external(&fx.url, &fx.client_cert, &fx.client_key);
    starttls.starttls = true;
    assert_eq!(
        snapshot(starttls).await.unwrap(),
        by_password,
        "EXTERNAL over StartTLS"
    );
}

#[tokio::test]
async fn whoami_names_the_entry_the_certificate_maps_to() {
    let Some(fx) = fixture() else { return };
    let dir =
        LdapDirectory::new(fx.external(&fx.ldaps_url, &fx.client_cert, &fx.client_key)).unwrap();
    let me = dir.whoami().await.unwrap();
    assert_eq!(
        me.server.as_deref(),
        Some(format!("dn:{}", fx.client_dn).as_str()),
        "{me:?}"
    );
    assert_eq!(
        me.to_string(),
        format!("dn:{} (external bind)", fx.client_dn)
    );
    // A simple bind's answer comes from the server too.
    let simple = fx.config(
        &fx.ldaps_url,
        Bind::simple(fx.bind_dn.clone(), Secret::new(fx.bind_pw.clone())),
    );
    let me = LdapDirectory::new(simple).unwrap().whoami().await.unwrap();
    assert_eq!(me.server, Some(format!("dn:{}", fx.bind_dn)));
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let Some(fx) = fixture() else { return };
    let err = snapshot(fx.external(&fx.ldaps_url, &fx.rogue_cert, &fx.rogue_key))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind,
            DirectoryErrorKind::Bind | DirectoryErrorKind::Connect
        ),
        "{err:?}"
    );
    assert!(
        err.message
            .contains("does not trust the client certificate"),
        "{err}"
    );
    assert!(err.message.contains(&fx.rogue_cert), "{err}");
    println!("as expected: {err}");
}

#[tokio::test]
async fn external_without_tls_or_certificate_is_refused_before_connecting() {
    let Some(fx) = fixture() else { return };
    let plain = fx.config(&fx.url, Bind::External);
    let err = LdapDirectory::new(plain).unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Config);
    assert!(err.message.contains("TLS client certificate"), "{err}");
    let no_cert = fx.config(&fx.ldaps_url, Bind::External);
    let err = LdapDirectory::new(no_cert).unwrap_err();
    assert!(err.message.contains("client_cert_file"), "{err}");
    let missing = fx.external(&fx.ldaps_url, "/nonexistent/cert.pem", &fx.client_key);
    let err = snapshot(missing).await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Config);
    assert!(err.message.contains("/nonexistent/cert.pem"), "{err}");
}
