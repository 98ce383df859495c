//! Crash and resume (issue 7, item 2), with the real `teamsync` binary.
//!
//! * `apply` is killed with SIGKILL at seeded random points (a number of write calls, or of
//!   suspensions, into the run) while it writes to an emulator
//!   that lives in this test process (so the team survives every kill), several times; the
//!   team is inspected while each run goes and after each kill: nobody who should stay is ever
//!   suspended or removed, nothing is duplicated. A last, unkilled run converges to exactly the
//!   directory, and a plan after it is empty.
//! * The LDAP connection dies mid-read (a byte-counting TCP proxy in front of the slapd fixture
//!   closes both sides after a share of the bytes a full read takes, as a server that stops
//!   would): the run fails before planning with exit 5 and makes zero write calls.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::*;
use teamsync_dropbox_emulator::{EmulatorConfig, Faults, MemberStatus};

const USERS: usize = 800;
const GROUPS: usize = 8;
const PREEXISTING: usize = 80;
const LEAVERS: usize = 12;

fn team_seed() -> teamsync_dropbox_emulator::TeamSeed {
    let mut members = vec![
        serde_json::json!({"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}),
        serde_json::json!({"email": "foreign@corp.test", "given_name": "For", "surname": "Eign", "external_id": "othertool:1"}),
    ];
    for i in 0..PREEXISTING {
        members.push(serde_json::json!({
            "email": format!("p{i:04}@corp.test"),
            "given_name": format!("Given{i}"),
            "surname": if i % 4 == 0 { "Drifted".to_owned() } else { format!("Sur{i}") },
            "external_id": format!("teamsync:p{i:04}"),
        }));
    }
    for i in 0..LEAVERS {
        members.push(serde_json::json!({
            "email": format!("leaver{i}@corp.test"), "given_name": "Left", "surname": format!("{i}"),
            "external_id": format!("teamsync:gone{i}"),
        }));
    }
    seed(serde_json::json!({"members": members}))
}

fn staying() -> Vec<String> {
    let mut emails: Vec<String> = (0..USERS).map(|i| format!("p{i:04}@corp.test")).collect();
    emails.push("admin@corp.test".into());
    emails.push("foreign@corp.test".into());
    emails
}

fn check_invariants(env: &Env, when: &str) {
    let state = env.state();
    assert_no_duplicates(&state, when);
    let staying = staying();
    assert_nobody_staying_deprovisioned(&state, staying.iter().map(String::as_str), when);
    for email in ["admin@corp.test", "foreign@corp.test"] {
        let member = state.member_by_email(email).unwrap();
        assert_eq!(
            (member.status, member.external_id.as_deref()),
            (
                MemberStatus::Active,
                if email == "foreign@corp.test" {
                    Some("othertool:1")
                } else {
                    None
                }
            ),
            "{when}: {email} was touched"
        );
    }
}

fn assert_converged(env: &Env) {
    let state = env.state();
    assert_eq!(
        state.members.len(),
        USERS + LEAVERS + 2,
        "no member more, none less"
    );
    for i in 0..USERS {
        let member = state
            .member_by_email(&format!("p{i:04}@corp.test"))
            .unwrap();
        let expected = if i < PREEXISTING {
            MemberStatus::Active
        } else {
            MemberStatus::Invited
        };
        assert_eq!(
            (
                member.status,
                member.external_id.clone(),
                member.given_name.clone(),
                member.surname.clone()
            ),
            (
                expected,
                Some(format!("teamsync:p{i:04}")),
                format!("Given{i}"),
                format!("Sur{i}")
            )
        );
        let group = format!("Team {:02}", i % GROUPS);
        assert_eq!(member.groups, vec![group], "p{i:04}'s groups");
    }
    for i in 0..LEAVERS {
        let member = state
            .member_by_email(&format!("leaver{i}@corp.test"))
            .unwrap();
        assert_eq!(member.status, MemberStatus::Suspended);
    }
    assert_eq!(state.groups.len(), GROUPS);
    for group in &state.groups {
        assert_eq!(group.members.len(), USERS / GROUPS, "{}", group.name);
    }
}

#[test]
fn apply_killed_at_random_points_never_deprovisions_and_converges() {
    let env = Env::with_config(
        &team_seed(),
        EmulatorConfig {
            // Latency stretches a full apply over a few seconds, so that kills land mid-apply.
            faults: Faults {
                latency_ms: 40,
                latency_jitter_ms: 20,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    );
    let directory = serde_json::to_string(&simple_directory(USERS, GROUPS)).unwrap();
    env.file_config("people.json", &directory, "", "");
    check_invariants(&env, "before the first run");

    // Kill points are chosen by progress (a seeded random number of write calls into the
    // run), not by time, so that they land mid-apply however loaded the machine is.
    let mut rng = Rng::new(0x00c0_ffee);
    let mut killed_mid_apply = 0;
    for round in 1..=6 {
        let writes_before = env.write_calls();
        let kill_at_writes = rng.range(1, 40);
        let mut child = env
            .command(&["apply"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        // Inspect the team while the run goes ("at no point").
        while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
            check_invariants(&env, &format!("round {round}, during the run"));
            if env.write_calls() - writes_before >= kill_at_writes {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let writes = env.write_calls() - writes_before;
        // The run may have ended on its own between the last look and the kill.
        let killed = {
            use std::os::unix::process::ExitStatusExt;
            status.signal() == Some(9)
        };
        eprintln!(
            "round {round}: kill after {kill_at_writes} write calls: {status}, {writes} write calls made"
        );
        if killed && writes > 0 {
            killed_mid_apply += 1;
        }
        check_invariants(&env, &format!("round {round}, after the kill"));
    }
    assert!(
        killed_mid_apply >= 3,
        "only {killed_mid_apply} kills landed mid-apply: the test did not test what it says"
    );

    // An unkilled run finishes the job; the lock of the killed runs is gone with them.
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    check_invariants(&env, "after the resuming run");
    assert_converged(&env);
    let writes = env.write_calls();
    let output = env.run(&["plan"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("No changes"),
        "{}",
        stdout(&output)
    );
    assert_eq!(env.write_calls(), writes);
}

/// A TCP proxy that forwards both ways and, once `cut_after` bytes have come back from the
/// server (over all connections), closes both sides, as a server that stops would.
struct CuttingProxy {
    port: u16,
    server_bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl CuttingProxy {
    fn start(upstream: std::net::SocketAddr, cut_after: u64) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server_bytes = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, stopped) = (server_bytes.clone(), stop.clone());
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                let server = TcpStream::connect(upstream).unwrap();
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(Shutdown::Both);
                });
                let counted = counted.clone();
                std::thread::spawn(move || {
                    let (mut s_read, mut c_write) = (server, client);
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match s_read.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let before = counted.fetch_add(n as u64, Ordering::SeqCst);
                        let allowed = cut_after.saturating_sub(before).min(n as u64) as usize;
                        if c_write.write_all(&buf[..allowed]).is_err() || allowed < n {
                            break;
                        }
                    }
                    let _ = c_write.shutdown(Shutdown::Both);
                    let _ = s_read.shutdown(Shutdown::Both);
                });
            }
        });
        CuttingProxy {
            port,
            server_bytes,
            stop,
        }
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn slapd_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the OpenLDAP fixture with `scripts/fixtures/slapd.sh start STATE_DIR` \
             and load STATE_DIR/slapd.env (scripts/test.sh does both)"
        )
    })
}

fn ldap_config(env: &Env, port: u16) {
    let base = slapd_var("TEAMSYNC_SLAPD_BASE");
    slapd_var("TEAMSYNC_SLAPD_BIND_PW");
    let text = format!(
        "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"ldap\"\n\
         url = \"ldap://127.0.0.1:{port}\"\nallow_plaintext_bind = true\nprofile = \"openldap\"\n\
         bind_dn = \"{}\"\nbind_password = {{ env = \"TEAMSYNC_SLAPD_BIND_PW\" }}\nbase_dn = \"{base}\"\n\
         user_roots = [\"cn=dropbox,ou=groups,{base}\"]\npage_size = 200\nconnect_timeout_secs = 5\noperation_timeout_secs = 20\n\n{}",
        slapd_var("TEAMSYNC_SLAPD_BIND_DN"),
        env.team_section()
    );
    env.write_config(&text);
}

fn slapd_addr() -> std::net::SocketAddr {
    let url = slapd_var("TEAMSYNC_SLAPD_URL");
    let hostport = url.trim_start_matches("ldap://").trim_end_matches('/');
    hostport.parse().unwrap()
}

#[test]
fn ldap_connection_lost_mid_read_fails_before_planning_and_writes_nothing() {
    if support::slapd_missing(
        "ldap_connection_lost_mid_read_fails_before_planning_and_writes_nothing",
    ) {
        return;
    }
    let env = Env::new(&seed(serde_json::json!({
        "members": [{"email": "admin@example.org", "given_name": "Ad", "surname": "Min", "is_admin": true}]
    })));
    // A full read through the proxy: populates the team and measures the read's size.
    let full = CuttingProxy::start(slapd_addr(), u64::MAX);
    ldap_config(&env, full.port);
    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let read_bytes = full.server_bytes.load(Ordering::SeqCst);
    drop(full);
    env.emulator().accept_invitations(&[]);
    let synced = env.state();
    let managed = synced
        .members
        .iter()
        .filter(|m| m.external_id.is_some())
        .count();
    assert!(
        managed >= 5,
        "the fixture's population was synced: {managed}"
    );
    eprintln!("a full read is {read_bytes} bytes from the server");

    // The same read, cut at 30%, 60% and 95% of its bytes: the members synced above would all
    // be deprovisioned by a plan made from the partial read; instead nothing is planned.
    for percent in [30, 60, 95] {
        let cut = CuttingProxy::start(slapd_addr(), read_bytes * percent / 100);
        ldap_config(&env, cut.port);
        env.emulator().reset_call_counts();
        let output = env.run(&["apply"]);
        let err = stderr(&output);
        assert_eq!(code(&output), 5, "cut at {percent}%: {err}");
        assert_eq!(
            env.write_calls(),
            0,
            "cut at {percent}%: {:?}",
            env.emulator().call_counts()
        );
        assert!(
            !stdout(&output).contains("suspend"),
            "cut at {percent}%: a plan was shown: {}",
            stdout(&output)
        );
        assert_eq!(env.state(), synced, "cut at {percent}%: the team changed");
        assert!(
            env.log().trim_end().ends_with("exit code 5 (directory read incomplete, root group missing, or source file unreadable)"),
            "{}",
            env.log()
        );
    }
}

/// The same, killed while it suspends: the team already mirrors the directory but for 20
/// drifted surnames and 24 managed members who left (under the guard's floor of 25), so the
/// runs are mostly profile updates and suspensions, the phase where a wrong target would hurt.
#[test]
fn apply_killed_while_suspending_suspends_only_leavers() {
    const LEFT: usize = 24;
    let mut members = vec![serde_json::json!({"email": "admin@corp.test", "is_admin": true})];
    for i in 0..USERS {
        members.push(serde_json::json!({
            "email": format!("p{i:04}@corp.test"),
            "given_name": format!("Given{i}"),
            "surname": if i % 40 == 0 { "Drifted".to_owned() } else { format!("Sur{i}") },
            "external_id": format!("teamsync:p{i:04}"),
        }));
    }
    for i in 0..LEFT {
        members.push(serde_json::json!({
            "email": format!("left{i}@corp.test"), "given_name": "Left", "surname": format!("{i}"),
            "external_id": format!("teamsync:left{i}"),
        }));
    }
    let groups: Vec<serde_json::Value> = (0..GROUPS)
        .map(|g| {
            serde_json::json!({
                "name": format!("Team {g:02}"),
                "external_id": format!("teamsync:g{g:02}"),
                "members": (0..USERS).filter(|i| i % GROUPS == g).map(|i| format!("p{i:04}@corp.test")).collect::<Vec<_>>(),
            })
        })
        .collect();
    let env = Env::with_config(
        &seed(serde_json::json!({"members": members, "groups": groups})),
        EmulatorConfig {
            faults: Faults {
                // Slow calls: the suspend phase spans several polls of the team.
                latency_ms: 100,
                latency_jitter_ms: 50,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    );
    let directory = serde_json::to_string(&simple_directory(USERS, GROUPS)).unwrap();
    env.file_config("people.json", &directory, "", "");
    let staying: Vec<String> = (0..USERS)
        .map(|i| format!("p{i:04}@corp.test"))
        .chain(["admin@corp.test".to_owned()])
        .collect();
    let check = |when: &str| {
        let state = env.state();
        assert_no_duplicates(&state, when);
        assert_nobody_staying_deprovisioned(&state, staying.iter().map(String::as_str), when);
    };

    // Kill points are chosen by progress, not time: each run is killed once the team shows a
    // seeded random number of further suspensions, so the kills land inside the suspend phase
    // with suspensions in flight.
    let suspended_now = || {
        env.state()
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Suspended)
            .count()
    };
    let mut rng = Rng::new(0x5eed_0002);
    let mut killed_mid_suspend = 0;
    for round in 1..=8 {
        let before = suspended_now();
        if before == LEFT {
            break;
        }
        let target = (before + rng.range(1, 6) as usize)
            .min(LEFT - 1)
            .max(before + 1);
        let mut child = env
            .command(&["apply"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut suspended = before;
        while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
            check(&format!("round {round}, during the run"));
            suspended = suspended_now();
            if suspended >= target {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let after = suspended_now();
        eprintln!(
            "round {round}: kill at {suspended} of {LEFT} suspended (target {target}): {status}; {after} suspended after the kill"
        );
        let killed = {
            use std::os::unix::process::ExitStatusExt;
            status.signal() == Some(9)
        };
        if killed && after < LEFT {
            killed_mid_suspend += 1;
        }
        check(&format!("round {round}, after the kill"));
    }
    assert!(
        killed_mid_suspend >= 3,
        "only {killed_mid_suspend} kills landed mid-suspend"
    );

    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    check("after the resuming run");
    let state = env.state();
    for i in 0..LEFT {
        let member = state
            .member_by_email(&format!("left{i}@corp.test"))
            .unwrap();
        assert_eq!(member.status, MemberStatus::Suspended);
    }
    for i in 0..USERS {
        let member = state
            .member_by_email(&format!("p{i:04}@corp.test"))
            .unwrap();
        assert_eq!(
            (member.status, member.surname.clone()),
            (MemberStatus::Active, format!("Sur{i}"))
        );
    }
    let output = env.run(&["plan"]);
    assert!(
        stdout(&output).contains("No changes"),
        "{}",
        stdout(&output)
    );
}
