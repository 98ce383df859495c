//! Config fuzzing (issue 7, item 5) through the real binary: `teamsync plan --config F` on
//! random TOML — documents built from the config's own sections and keys with values of every
//! type, and byte-level mutations of a valid config. Whatever the input, teamsync must exit
//! with a documented code (a clear config error, exit 3, in nearly every case), never panic,
//! never report an internal error.
//!
//! Nothing leaves the machine: every URL-like value is on loopback (port 1, closed), the
//! `[team]` section always starts with a loopback `base_url` (a closed port, or for the
//! mutations a loopback stub that refuses every token), proxies point at a closed loopback
//! port, and paths stay inside the test's temp dir.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Codes a plan run may end with on any config: success, a config error, or a later stage
/// failing because the (valid) config points at nothing. Never 1 (internal) or a panic (101).
const ACCEPTED: &[i32] = &[0, 3, 4, 5, 6, 7, 8, 13];

const SECTIONS: &[&str] = &[
    "",
    "directory",
    "directory.attributes",
    "team",
    "policy",
    "notify",
    "policy.transfer",
    "policy.max_deprovision",
    "x_unknown",
];

const KEYS: &[&str] = &[
    "log_file",
    "lock_file",
    "allow_inline_secrets",
    "kind",
    "path",
    "format",
    "url",
    "starttls",
    "ca_file",
    "no_tls_verify",
    "allow_plaintext_bind",
    "bind_dn",
    "bind_password",
    "bind",
    "kerberos_fqdn",
    "client_cert_file",
    "client_key_file",
    "profile",
    "base_dn",
    "user_base_dn",
    "group_base_dn",
    "user_roots",
    "group_roots",
    "user_filter",
    "page_size",
    "connect_timeout_secs",
    "operation_timeout_secs",
    "id",
    "email",
    "given_name",
    "surname",
    "group_name",
    "user_object_filter",
    "group_object_filter",
    "upn_as_email",
    "token",
    "refresh_token",
    "app_key",
    "app_secret",
    "request_timeout_secs",
    "external_id_prefix",
    "manage_existing_users",
    "adopt_foreign",
    "adopt_existing_groups",
    "group_sync",
    "strict_group_scope",
    "on_leave",
    "on_delete",
    "on_invited_deprovision",
    "wipe_data",
    "transfer",
    "mode",
    "dest",
    "admin",
    "deprovision_admins",
    "on_group_leave",
    "max_deprovision",
    "max_group_member_removals",
    "floor",
    "percent",
    "send_welcome_email",
    "smtp_host",
    "smtp_port",
    "security",
    "username",
    "password",
    "from",
    "to",
    "when",
    "x_unknown_key",
];

/// Keys whose values could name a host or a path outside the temp dir: only safe values.
fn safe_value_for(key: &str) -> Option<BoxedStrategy<String>> {
    let choices: &[&str] = match key {
        "url" => &[
            "\"ldap://127.0.0.1:1\"",
            "\"ldaps://127.0.0.1:1\"",
            "\"not a url\"",
            "\"\"",
            "\"ldap://[::1]:1\"",
            "1",
        ],
        "smtp_host" => &["\"127.0.0.1\"", "\"\"", "\"::1\"", "[]"],
        "log_file" | "lock_file" | "path" | "ca_file" => &[
            "\"teamsync.log\"",
            "\"people.json\"",
            "\"missing.json\"",
            "\"\"",
            "\".\"",
            "\"sub/x\"",
            "true",
        ],
        _ => return None,
    };
    Some(
        prop::sample::select(choices)
            .prop_map(str::to_owned)
            .boxed(),
    )
}

fn toml_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "file",
                "ldap",
                "auto",
                "ldif",
                "simple_json",
                "state_json",
                "openldap",
                "active_directory",
                "freeipa",
                "389ds",
                "generic",
                "suspend",
                "remove",
                "empty",
                "delete",
                "keep",
                "none",
                "keep_account",
                "user_roots",
                "group_roots",
                "off",
                "starttls",
                "tls",
                "plain",
                "failure",
                "always",
                "",
                "Staff",
            ][..]
        )
        .prop_map(str::to_owned),
        "[ -~]{0,20}".prop_map(|s| s.replace(['\\', '"'], "")),
        "\\PC{0,10}".prop_map(|s| s.replace(['\\', '"'], "")),
    ]
    .prop_map(|s| format!("\"{s}\""))
}

fn scalar() -> BoxedStrategy<String> {
    prop_oneof![
        toml_string(),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..70_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            format!("{f:?}")
        } else {
            "nan".into()
        }),
        Just("-inf".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("{ env = \"TEAMSYNC_FUZZ_SECRET\" }".to_owned()),
        Just("{ env = \"TEAMSYNC_FUZZ_UNSET\" }".to_owned()),
        Just("{ file = \"secret.txt\" }".to_owned()),
        Just("{ file = \"missing\" }".to_owned()),
        Just("{ env = \"A\", file = \"b\" }".to_owned()),
        Just("{ mode = \"transfer\", dest = \"x@y.z\" }".to_owned()),
        Just("{ floor = 25, percent = 10.0 }".to_owned()),
        Just("{ floor = -1, percent = 1e308 }".to_owned()),
    ]
    .boxed()
}

fn value_for(key: &'static str) -> BoxedStrategy<String> {
    if let Some(safe) = safe_value_for(key) {
        return safe;
    }
    prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => Just("{}".to_owned()),
    ]
    .boxed()
}

fn section() -> impl Strategy<Value = String> {
    (
        prop::sample::select(SECTIONS),
        prop::collection::vec(
            prop::sample::select(KEYS)
                .prop_flat_map(|k| value_for(k).prop_map(move |v| format!("{k} = {v}"))),
            0..7,
        ),
    )
        .prop_map(|(name, lines)| {
            let mut text = String::new();
            if !name.is_empty() {
                text.push_str(&format!("[{name}]\n"));
            }
            if name == "team" {
                // Never the real Dropbox: the team is always on a closed loopback port.
                text.push_str("base_url = \"http://127.0.0.1:1\"\n");
            }
            for line in lines {
                // A key whose value might reach outside the temp dir or loopback is only ever
                // generated with a safe value (above); other keys are free.
                text.push_str(&line);
                text.push('\n');
            }
            text
        })
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(section(), 0..6).prop_map(|sections| sections.concat())
}

/// A valid config (file source, loopback team) that the mutations start from.
const VALID_TEMPLATE: &str = "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"file\"\npath = \"people.json\"\n\n\
[policy]\non_leave = \"suspend\"\nmax_deprovision = { floor = 25, percent = 10.0 }\ntransfer = { mode = \"none\" }\n\n\
[team]\nbase_url = \"TEAM_URL\"\ntoken = { env = \"TEAMSYNC_FUZZ_SECRET\" }\n";

/// The valid config, its team pointing at [`refusing_team`].
fn valid() -> String {
    VALID_TEMPLATE.replace("TEAM_URL", refusing_team())
}

/// A loopback "team" that answers every request at once with Dropbox's 401
/// `invalid_access_token`, which is never retried. A closed port would do as well, but a refused
/// connection is retried for about 10 s, and most mutations get as far as the team.
fn refusing_team() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = r#"{"error_summary": "invalid_access_token/..", "error": {".tag": "invalid_access_token"}}"#;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        url
    })
}

/// Byte mutations of [`valid`], never touching the `base_url` line.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..8).prop_map(
        |edits| {
            let mut bytes = valid().into_bytes();
            for (at, kind, byte) in edits {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let protected = text.find("base_url").map(|s| s..s + 40);
                let i = at.index(bytes.len().max(1));
                if protected.as_ref().is_some_and(|p| p.contains(&i)) {
                    continue;
                }
                match kind {
                    0 => bytes[i] = byte,
                    1 => {
                        bytes.remove(i);
                    }
                    2 => bytes.insert(i, byte),
                    _ => {
                        let special = b"[]{}=\"'\n#.,\\"[byte as usize % 12];
                        bytes.insert(i, special);
                    }
                }
                if bytes.is_empty() {
                    bytes.push(b'\n');
                }
            }
            bytes
        },
    )
}

struct Workspace {
    dir: tempfile::TempDir,
}

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("people.json"),
            r#"{"user_roots":["Staff"],"groups":[{"name":"Staff"}],"people":[{"id":"1","email":"a@corp.test","given_name":"A","surname":"B","groups":["Staff"]}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("secret.txt"), "fuzz-secret-from-file\n").unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        Workspace { dir }
    })
}

/// Runs `teamsync plan` on the config bytes; an error names what went wrong.
fn run_plan(config: &[u8]) -> Result<i32, String> {
    let ws = workspace();
    let path = ws.dir.path().join("fuzz.toml");
    support::write_private(&path, "");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(["--config", path.to_str().unwrap(), "plan"])
        .current_dir(ws.dir.path())
        .env("TEAMSYNC_FUZZ_SECRET", "fuzz-secret")
        .env_remove("TEAMSYNC_FUZZ_UNSET")
        .env_remove("TEAMSYNC_CONFIG")
        .env("HTTPS_PROXY", "http://127.0.0.1:1")
        .env("HTTP_PROXY", "http://127.0.0.1:1")
        .env("ALL_PROXY", "http://127.0.0.1:1")
        .env("NO_PROXY", "127.0.0.1,::1,localhost")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            return Err("hung for 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    let Some(code) = output.status.code() else {
        return Err(format!("killed by a signal: {}", output.status));
    };
    // Exit 1 for a log or lock path that cannot be opened is documented ("an I/O error
    // writing an output file") and the message is clear; an empty path is a config error: see
    // `empty_log_or_lock_path_is_a_config_error` below.
    let unusable_output_path =
        err.contains("cannot open log file") || err.contains("cannot use lock file");
    if err.contains("panicked")
        || !(ACCEPTED.contains(&code) || (code == 1 && unusable_output_path))
    {
        return Err(format!("exit {code}: {err}"));
    }
    if code == 3 && !err.contains("teamsync: error: ") {
        return Err(format!("exit 3 without an error message: {err}"));
    }
    Ok(code)
}

fn fuzz(
    strategy: impl Strategy<Value = Vec<u8>>,
    cases: u32,
) -> std::collections::BTreeMap<i32, u32> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let codes = std::cell::RefCell::new(std::collections::BTreeMap::new());
    runner
        .run(&strategy, |config| {
            let code = run_plan(&config).map_err(|e| {
                TestCaseError::fail(format!(
                    "{e}\n--- config\n{}",
                    String::from_utf8_lossy(&config)
                ))
            })?;
            *codes.borrow_mut().entry(code).or_insert(0) += 1;
            Ok(())
        })
        .unwrap();
    let codes = codes.into_inner();
    eprintln!("exit codes over {cases} configs: {codes:?}");
    codes
}

#[test]
fn random_toml_documents_never_crash_teamsync() {
    let codes = fuzz(document().prop_map(String::into_bytes), 300);
    assert!(
        codes.get(&3).copied().unwrap_or(0) > 250,
        "mostly config errors: {codes:?}"
    );
}

#[test]
fn mutations_of_a_valid_config_never_crash_teamsync() {
    // The valid config itself gets past the config stage (the team refuses the token: exit 7).
    assert_eq!(run_plan(valid().as_bytes()), Ok(7));
    let codes = fuzz(mutated(), 300);
    assert!(
        codes.len() >= 2,
        "mutations reached more than one stage: {codes:?}"
    );
}

#[test]
fn empty_log_or_lock_path_is_a_config_error() {
    for (key, file) in [("log_file", "teamsync.log"), ("lock_file", "teamsync.lock")] {
        let config = valid().replace(&format!("{key} = \"{file}\""), &format!("{key} = \"\""));
        assert_ne!(config, valid());
        let ws = workspace();
        let path = ws.dir.path().join("empty-path.toml");
        support::write_private(&path, &config);
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", path.to_str().unwrap(), "plan"])
            .env("TEAMSYNC_FUZZ_SECRET", "fuzz-secret")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
    }
}
