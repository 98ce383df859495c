//! SASL GSSAPI (Kerberos) binds against the Samba AD DC fixture's own KDC
//! (`scripts/fixtures/samba.sh`: a service account `teamsync-svc`, its keytab, a keytab with
//! wrong keys, and a krb5.conf naming only the fixture's KDC).
//!
//! MIT Kerberos takes its settings from the environment (`KRB5_CONFIG`, `KRB5CCNAME`,
//! `KRB5_CLIENT_KTNAME`), which a test cannot change for itself without racing the other test
//! threads (and `unsafe_code` is forbidden). So each test runs its scenario in a child process
//! of this test binary (the ignored test `scenario`) with exactly the Kerberos environment the
//! scenario needs, and a credential cache of its own in a fresh temporary directory.
//!
//! Without the fixture's variables every test prints one line and passes. By hand:
//!
//! ```text
//! scripts/fixtures/samba.sh start /tmp/ad && set -a && . /tmp/ad/samba.env && set +a
//! cargo nextest run -p teamsync-ldap --test kerberos
//! ```
#![cfg(feature = "gssapi")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use teamsync_core::{DesiredState, Directory, DirectoryError, DirectoryErrorKind};
use teamsync_ldap::{Bind, LdapConfig, LdapDirectory, Profile, Secret};

/// The fixture as samba.env describes it.
struct Fixture {
    url: String,
    ldaps_url: String,
    ca: PathBuf,
    base: String,
    krb5_config: PathBuf,
    fqdn: String,
    principal: String,
    svc_dn: String,
    svc_pw: String,
    keytab: PathBuf,
    wrong_keytab: PathBuf,
}

const VARS: [&str; 11] = [
    "TEAMSYNC_AD_URL",
    "TEAMSYNC_AD_LDAPS_URL",
    "TEAMSYNC_AD_CA",
    "TEAMSYNC_AD_BASE",
    "TEAMSYNC_AD_KRB5_CONFIG",
    "TEAMSYNC_AD_KRB5_FQDN",
    "TEAMSYNC_AD_KRB5_PRINCIPAL",
    "TEAMSYNC_AD_KRB5_SVC_DN",
    "TEAMSYNC_AD_KRB5_SVC_PW",
    "TEAMSYNC_AD_KRB5_KEYTAB",
    "TEAMSYNC_AD_KRB5_WRONG_KEYTAB",
];

/// The fixture, or `None` (after one printed line) when its environment is missing.
fn fixture() -> Option<Fixture> {
    let values: Vec<String> = VARS
        .iter()
        .map(|v| std::env::var(v).unwrap_or_default())
        .collect();
    if let Some(missing) = VARS.iter().zip(&values).find(|(_, v)| v.trim().is_empty()) {
        println!(
            "skipping: {} is not set (start the Samba AD fixture: scripts/fixtures/samba.sh start DIR, then load DIR/samba.env)",
            missing.0
        );
        return None;
    }
    let mut v = values.into_iter();
    let mut next = || v.next().unwrap();
    Some(Fixture {
        url: next(),
        ldaps_url: next(),
        ca: next().into(),
        base: next(),
        krb5_config: next().into(),
        fqdn: next(),
        principal: next(),
        svc_dn: next(),
        svc_pw: next(),
        keytab: next().into(),
        wrong_keytab: next().into(),
    })
}

impl Fixture {
    fn config(&self, url: &str, bind: Bind) -> LdapConfig {
        let mut config = LdapConfig::new(url, self.base.clone(), Profile::active_directory())
            .with_bind_mode(bind);
        config.allow_plaintext_bind = true; // loopback only
        config.ca_file = Some(self.ca.clone());
        config.user_root_dns = vec![format!("CN=ts-root,OU=Groups,OU=Teamsync,{}", self.base)];
        config
    }

    fn gssapi(&self, url: &str) -> LdapConfig {
        self.config(url, Bind::gssapi(Some(self.fqdn.clone())))
    }

    /// The same account, by password.
    fn simple(&self) -> LdapConfig {
        self.config(
            &self.url,
            Bind::simple(self.svc_dn.clone(), Secret::new(self.svc_pw.clone())),
        )
    }
}

/// What a scenario's child process gets for credentials.
enum Creds<'a> {
    /// A client keytab (`KRB5_CLIENT_KTNAME`) and an empty credential cache.
    Keytab(&'a Path),
    /// Only this credential cache (`KRB5CCNAME`), no keytab.
    Cache(&'a Path),
    /// An empty credential cache and no keytab.
    Nothing,
}

/// Runs the scenario `name` in a child process of this test binary with the fixture's
/// krb5.conf and `creds`, and fails when the child does.
fn in_child(fx: &Fixture, name: &str, creds: Creds<'_>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "scenario",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("TEAMSYNC_KRB_SCENARIO", name)
    .env("KRB5_CONFIG", &fx.krb5_config)
    .env_remove("KRB5_CLIENT_KTNAME")
    .env_remove("KRB5_KTNAME")
    .env(
        "KRB5CCNAME",
        format!("FILE:{}", dir.path().join("cc").display()),
    );
    match creds {
        Creds::Keytab(keytab) => {
            cmd.env("KRB5_CLIENT_KTNAME", format!("FILE:{}", keytab.display()));
        }
        Creds::Cache(cache) => {
            cmd.env("KRB5CCNAME", format!("FILE:{}", cache.display()));
        }
        Creds::Nothing => {}
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "scenario {name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    print!("{stdout}");
}

/// The scenarios, run only as a child of the tests below (see the module doc).
#[test]
#[ignore = "run by the other tests in a child process with its own Kerberos environment"]
fn scenario() {
    let Ok(name) = std::env::var("TEAMSYNC_KRB_SCENARIO") else {
        println!("skipping: scenario runs only as a child of the Kerberos tests");
        return;
    };
    let Some(fx) = fixture() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        match name.as_str() {
            "snapshot" => {
                let by_password = snapshot(fx.simple()).await.unwrap();
                let ldaps = snapshot(fx.gssapi(&fx.ldaps_url)).await.unwrap();
                assert_same(&ldaps, &by_password, "GSSAPI over ldaps://");
                let mut starttls = fx.gssapi(&fx.url);
                starttls.starttls = true;
                let starttls = snapshot(starttls).await.unwrap();
                assert_same(&starttls, &by_password, "GSSAPI over StartTLS");
                println!(
                    "GSSAPI snapshots (ldaps://, StartTLS) equal the simple-bind one: {} users, {} groups",
                    ldaps.users.len(),
                    ldaps.groups.len()
                );
            }
            "whoami" => {
                let me = LdapDirectory::new(fx.gssapi(&fx.ldaps_url)).unwrap().whoami().await.unwrap();
                assert_eq!(me.mechanism, "gssapi");
                assert_eq!(me.client, fx.principal, "{me:?}");
                // Samba 4.17 does not implement RFC 4532; a Windows DC answers `u:FX\teamsync-svc`.
                if let Some(server) = &me.server {
                    assert!(server.to_ascii_lowercase().contains("teamsync-svc"), "{me:?}");
                }
                assert!(me.to_string().contains(&fx.principal), "{me}");
                println!("bound as {me}");
            }
            "wrong_keytab" => {
                let err = snapshot(fx.gssapi(&fx.ldaps_url)).await.unwrap_err();
                assert_bind_error(&err, "wrong keytab");
            }
            "expired" => {
                let err = snapshot(fx.gssapi(&fx.ldaps_url)).await.unwrap_err();
                assert_bind_error(&err, "expired");
            }
            "wrong_service" => {
                let mut config = fx.gssapi(&fx.ldaps_url);
                config.bind = Bind::gssapi(Some("nosuchhost.fx.test".into()));
                let err = snapshot(config).await.unwrap_err();
                assert_bind_error(&err, "wrong service name");
                assert!(err.message.contains("ldap/nosuchhost.fx.test"), "{err}");
            }
            "no_credentials" => {
                let err = snapshot(fx.gssapi(&fx.ldaps_url)).await.unwrap_err();
                assert_bind_error(&err, "no Kerberos credentials");
            }
            other => panic!("unknown scenario {other}"),
        }
    });
}

async fn snapshot(config: LdapConfig) -> Result<DesiredState, DirectoryError> {
    LdapDirectory::new(config)?.snapshot().await
}

fn assert_same(got: &DesiredState, want: &DesiredState, what: &str) {
    assert!(!want.users.is_empty(), "the simple-bind snapshot is empty");
    assert_eq!(got.users, want.users, "{what}: users differ");
    assert_eq!(got.groups, want.groups, "{what}: groups differ");
    assert_eq!(got, want, "{what}: snapshots differ");
}

/// A connect or bind error (both exit 4 in the command) whose message names `cause`.
fn assert_bind_error(err: &DirectoryError, cause: &str) {
    assert!(
        matches!(
            err.kind,
            DirectoryErrorKind::Bind | DirectoryErrorKind::Connect
        ),
        "{err:?}"
    );
    assert!(err.message.contains(cause), "expected {cause:?} in: {err}");
    println!("as expected: {err}");
}

#[test]
fn gssapi_over_plain_ldap_is_refused_before_connecting() {
    let Some(fx) = fixture() else { return };
    let err = LdapDirectory::new(fx.gssapi(&fx.url)).unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Config, "{err}");
    assert!(err.message.contains("needs TLS"), "{err}");
}

#[test]
fn gssapi_snapshot_equals_the_simple_bind_snapshot() {
    let Some(fx) = fixture() else { return };
    in_child(&fx, "snapshot", Creds::Keytab(&fx.keytab));
}

#[test]
fn whoami_names_the_kerberos_principal() {
    let Some(fx) = fixture() else { return };
    in_child(&fx, "whoami", Creds::Keytab(&fx.keytab));
}

#[test]
fn wrong_keytab_is_a_bind_error_that_says_so() {
    let Some(fx) = fixture() else { return };
    in_child(&fx, "wrong_keytab", Creds::Keytab(&fx.wrong_keytab));
}

#[test]
fn wrong_service_name_is_a_bind_error_that_says_so() {
    let Some(fx) = fixture() else { return };
    in_child(&fx, "wrong_service", Creds::Keytab(&fx.keytab));
}

#[test]
fn no_credentials_is_a_bind_error_that_says_so() {
    let Some(fx) = fixture() else { return };
    in_child(&fx, "no_credentials", Creds::Nothing);
}

#[test]
fn expired_ticket_is_a_bind_error_that_says_so() {
    let Some(fx) = fixture() else { return };
    // A real ticket from the KDC with a two-second life, in a cache of its own.
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("short-lived");
    let kinit = Command::new("kinit")
        .args(["-l", "2s", "-k", "-t"])
        .arg(&fx.keytab)
        .arg("-c")
        .arg(format!("FILE:{}", cache.display()))
        .arg(&fx.principal)
        .env("KRB5_CONFIG", &fx.krb5_config)
        .output()
        .expect("kinit (scripts/deps/kerberos.sh installs it)");
    assert!(
        kinit.status.success(),
        "kinit: {}",
        String::from_utf8_lossy(&kinit.stderr)
    );
    // `klist -s` fails once no ticket in the cache is valid any more.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let valid = Command::new("klist")
            .arg("-s")
            .arg("-c")
            .arg(format!("FILE:{}", cache.display()))
            .env("KRB5_CONFIG", &fx.krb5_config)
            .status()
            .unwrap()
            .success();
        if !valid {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two-second ticket never expired"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    in_child(&fx, "expired", Creds::Cache(&cache));
}
