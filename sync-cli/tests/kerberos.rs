//! `teamsync check` with `bind = "gssapi"` end to end: the Samba AD DC fixture's KDC
//! (`scripts/fixtures/samba.sh`), the real binary with the Kerberos environment of a service
//! (`KRB5_CONFIG`, `KRB5_CLIENT_KTNAME`, `KRB5CCNAME`), and the Dropbox emulator.
//!
//! Without the fixture's variables every test prints one line and passes.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teamsync_dropbox_emulator::{Emulator, EmulatorConfig};

struct Fixture {
    url: String,
    ldaps_url: String,
    ca: PathBuf,
    base: String,
    krb5_config: PathBuf,
    fqdn: String,
    principal: String,
    keytab: PathBuf,
    wrong_keytab: PathBuf,
}

const VARS: [&str; 9] = [
    "TEAMSYNC_AD_URL",
    "TEAMSYNC_AD_LDAPS_URL",
    "TEAMSYNC_AD_CA",
    "TEAMSYNC_AD_BASE",
    "TEAMSYNC_AD_KRB5_CONFIG",
    "TEAMSYNC_AD_KRB5_FQDN",
    "TEAMSYNC_AD_KRB5_PRINCIPAL",
    "TEAMSYNC_AD_KRB5_KEYTAB",
    "TEAMSYNC_AD_KRB5_WRONG_KEYTAB",
];

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
        keytab: next().into(),
        wrong_keytab: next().into(),
    })
}

struct Env {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .unwrap();
        Env {
            runtime,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write_config(&self, directory: &str) {
        let text = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\n{directory}\n\
             [team]\nbase_url = \"{}\"\ntoken = {{ env = \"TEAMSYNC_TEST_TOKEN\" }}\n",
            self.emulator.as_ref().unwrap().base_url()
        );
        let path = self.dir.path().join("teamsync.toml");
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Runs the command with the fixture's krb5.conf, `keytab` as the client keytab and an
    /// empty credential cache of this test's own.
    fn check(&self, fx: &Fixture, keytab: &Path) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args([
                "--config",
                self.dir.path().join("teamsync.toml").to_str().unwrap(),
                "check",
            ])
            .env(
                "TEAMSYNC_TEST_TOKEN",
                self.emulator.as_ref().unwrap().access_token(),
            )
            .env("NO_PROXY", "127.0.0.1")
            .env("KRB5_CONFIG", &fx.krb5_config)
            .env("KRB5_CLIENT_KTNAME", format!("FILE:{}", keytab.display()))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", self.dir.path().join("krb5cc").display()),
            )
            .output()
            .unwrap();
        eprintln!(
            "teamsync check -> {:?}\n--- stdout\n{}\n--- stderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

fn directory(fx: &Fixture, url: &str, extra: &str) -> String {
    format!(
        "kind = \"ldap\"\nurl = \"{url}\"\nca_file = \"{}\"\nprofile = \"active_directory\"\nbase_dn = \"{}\"\n\
         bind = \"gssapi\"\nkerberos_fqdn = \"{}\"\nuser_roots = [\"CN=ts-root,OU=Groups,OU=Teamsync,{}\"]\n{extra}",
        fx.ca.display(),
        fx.base,
        fx.fqdn,
        fx.base
    )
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("killed by a signal")
}

#[test]
fn check_prints_the_kerberos_principal_it_bound_as() {
    let Some(fx) = fixture() else { return };
    let env = Env::new();
    env.write_config(&directory(&fx, &fx.ldaps_url, ""));
    let output = env.check(&fx, &fx.keytab);
    assert_eq!(code(&output), 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("Directory: bound as {}", fx.principal)),
        "{stdout}"
    );
    assert!(stdout.contains("users in scope"), "{stdout}");
}

#[test]
fn check_with_a_wrong_keytab_exits_4_and_says_so() {
    let Some(fx) = fixture() else { return };
    let env = Env::new();
    env.write_config(&directory(&fx, &fx.ldaps_url, ""));
    let output = env.check(&fx, &fx.wrong_keytab);
    assert_eq!(code(&output), 4);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong keytab"), "{stderr}");
}

#[test]
fn gssapi_config_errors_name_the_key_to_fix() {
    let Some(fx) = fixture() else { return };
    let env = Env::new();
    // A password has no place in a Kerberos config.
    env.write_config(&directory(
        &fx,
        &fx.ldaps_url,
        "bind_dn = \"CN=x\"\nbind_password = { env = \"X\" }\n",
    ));
    let output = env.check(&fx, &fx.keytab);
    assert_eq!(code(&output), 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("directory.bind_dn"), "{stderr}");
    // Kerberos over plain ldap:// is refused, naming the URL.
    env.write_config(&directory(&fx, &fx.url, ""));
    let output = env.check(&fx, &fx.keytab);
    assert_eq!(code(&output), 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("directory.url"), "{stderr}");
    assert!(stderr.contains("starttls"), "{stderr}");
}
