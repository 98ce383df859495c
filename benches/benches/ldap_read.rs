//! Reading 100,000 users and 1,000 groups from a real slapd: `LdapDirectory::snapshot()`
//! against `ldapsearch -E pr=1000/noprompt` for the same filters and attributes, in the same
//! run, on the same server. Target: snapshot within 1.5x of ldapsearch.
//!
//! Needs slapd, slapadd and ldapsearch (`scripts/deps/ldap.sh`). Run with
//! `cargo bench -p teamsync-benches --bench ldap_read` (`LDAP_BENCH_USERS` / `LDAP_BENCH_GROUPS`
//! change the sizes, `LDAP_BENCH_ROUNDS` the repetitions; the best round of each is reported).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use teamsync_core::Directory;
use teamsync_ldap::{LdapConfig, LdapDirectory, Profile, Secret};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Users `uid=uNNNNNN,ou=people` and groups `cn=gNNNN,ou=groups` (user i in group i % groups),
/// every group a member of `cn=all`, the user root.
fn write_ldif(path: &Path, users: usize, groups: usize) -> std::io::Result<()> {
    let base = "dc=example,dc=org";
    let mut w = BufWriter::new(File::create(path)?);
    writeln!(
        w,
        "dn: {base}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n"
    )?;
    writeln!(
        w,
        "dn: ou=people,{base}\nobjectClass: organizationalUnit\nou: people\n"
    )?;
    writeln!(
        w,
        "dn: ou=groups,{base}\nobjectClass: organizationalUnit\nou: groups\n"
    )?;
    for i in 0..users {
        writeln!(
            w,
            "dn: uid=u{i:06},ou=people,{base}\nobjectClass: inetOrgPerson\nuid: u{i:06}\ncn: User {i}\n\
             givenName: User\nsn: Number {i}\nmail: u{i:06}@example.org\n"
        )?;
    }
    for g in 0..groups {
        writeln!(
            w,
            "dn: cn=g{g:04},ou=groups,{base}\nobjectClass: groupOfNames\ncn: g{g:04}"
        )?;
        for i in (g..users).step_by(groups) {
            writeln!(w, "member: uid=u{i:06},ou=people,{base}")?;
        }
        writeln!(w)?;
    }
    writeln!(
        w,
        "dn: cn=all,ou=groups,{base}\nobjectClass: groupOfNames\ncn: all"
    )?;
    for g in 0..groups {
        writeln!(w, "member: cn=g{g:04},ou=groups,{base}")?;
    }
    writeln!(w)?;
    w.flush()
}

fn read_env(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .expect("slapd.env")
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn ldapsearch(
    url: &str,
    dn: &str,
    pw: &str,
    base: &str,
    filter: &str,
    attrs: &[String],
) -> (Duration, usize) {
    let start = Instant::now();
    let out = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            url,
            "-D",
            dn,
            "-w",
            pw,
            "-b",
            base,
            "-E",
            "pr=1000/noprompt",
            filter,
        ])
        .args(attrs)
        .stderr(Stdio::inherit())
        .output()
        .expect("run ldapsearch");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "ldapsearch failed");
    let entries = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"dn: "))
        .count();
    (elapsed, entries)
}

fn main() {
    // cargo bench passes --bench; nothing else to parse.
    let users = env_usize("LDAP_BENCH_USERS", 100_000);
    let groups = env_usize("LDAP_BENCH_GROUPS", 1_000);
    let rounds = env_usize("LDAP_BENCH_ROUNDS", 3).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/fixtures/slapd.sh");
    let state = std::env::temp_dir().join(format!("teamsync-ldap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&state).expect("state dir");
    let ldif = state.join("bench.ldif");

    let t = Instant::now();
    write_ldif(&ldif, users, groups).expect("write LDIF");
    println!(
        "generated {users} users + {groups} groups in {:.2?}",
        t.elapsed()
    );
    let t = Instant::now();
    let status = Command::new("bash")
        .arg(&script)
        .args([Path::new("start"), &state, &ldif, Path::new("0")])
        .status()
        .expect("run slapd.sh");
    assert!(
        status.success(),
        "slapd.sh start failed (is slapd installed? scripts/deps/ldap.sh)"
    );
    println!("slapadd + slapd start in {:.2?}", t.elapsed());
    let env = read_env(&state.join("slapd.env"));
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .expect(k)
    };
    let (url, base, dn, pw) = (
        get("TEAMSYNC_SLAPD_URL"),
        get("TEAMSYNC_SLAPD_BASE"),
        get("TEAMSYNC_SLAPD_BIND_DN"),
        get("TEAMSYNC_SLAPD_BIND_PW"),
    );

    let mut profile = Profile::open_ldap();
    if std::env::var_os("LDAP_BENCH_NO_EXTRA_ATTRIBUTES").is_some() {
        // Shows what the per-user `attributes` map costs in memory.
        profile.extra_user_attributes.clear();
    }
    let mut config = LdapConfig::new(&url, &base, profile.clone()).with_bind(&dn, Secret::new(&pw));
    // Both sides over the same plain loopback connection, so TLS cost does not skew the ratio.
    config.allow_plaintext_bind = true;
    config.user_root_dns = vec![format!("cn=all,ou=groups,{base}")];
    let directory = LdapDirectory::new(config).expect("config");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let rss_before = proc_status_kib("VmRSS:");
    let mut best_snapshot = Duration::MAX;
    let mut best_ldapsearch = Duration::MAX;
    for round in 1..=rounds {
        let t = Instant::now();
        let state = runtime.block_on(directory.snapshot()).expect("snapshot");
        let took = t.elapsed();
        assert_eq!(state.users.len(), users, "every user is in scope");
        assert_eq!(state.groups.len(), groups + 1);
        let rss_holding = proc_status_kib("VmRSS:");
        drop(state);
        if round == 1 {
            println!(
                "RSS while holding the DesiredState: {:.1} MiB",
                rss_holding as f64 / 1024.0
            );
        }
        best_snapshot = best_snapshot.min(took);

        let (g_time, g_entries) = ldapsearch(
            &url,
            &dn,
            &pw,
            &base,
            &profile.group_filter,
            &profile.group_attributes(),
        );
        let (u_time, u_entries) = ldapsearch(
            &url,
            &dn,
            &pw,
            &base,
            &profile.user_filter,
            &profile.user_attributes(),
        );
        assert_eq!(g_entries, groups + 1);
        assert_eq!(u_entries, users);
        let search = g_time + u_time;
        best_ldapsearch = best_ldapsearch.min(search);
        println!(
            "round {round}: snapshot {took:.3?}   ldapsearch {search:.3?} (groups {g_time:.3?} + users {u_time:.3?})"
        );
    }
    let hwm = proc_status_kib("VmHWM:");
    // Where the time goes: the reads alone, then the pure assembly.
    let t = Instant::now();
    let read = runtime.block_on(directory.read_entries()).expect("read");
    let read_time = t.elapsed();
    let cfg = directory.config();
    let now = std::time::SystemTime::now();
    let t = Instant::now();
    let records = teamsync_ldap::bench::map_entries(&read, cfg, now);
    let map_time = t.elapsed();
    let t = Instant::now();
    let assembled = teamsync_ldap::bench::assemble(records, cfg).expect("assemble");
    println!(
        "breakdown: reads {read_time:.3?}, entry mapping {map_time:.3?}, assembly {:.3?} ({} users)",
        t.elapsed(),
        assembled.users.len()
    );
    let ratio = best_snapshot.as_secs_f64() / best_ldapsearch.as_secs_f64();
    println!("--");
    println!("users {users}, groups {groups}, page size 1000, best of {rounds}");
    println!("snapshot()          {best_snapshot:.3?}");
    println!("ldapsearch (2 runs) {best_ldapsearch:.3?}");
    println!("ratio               {ratio:.2} (target <= 1.5)");
    println!(
        "peak RSS (VmHWM)    {:.1} MiB (RSS before the reads {:.1} MiB)",
        hwm as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );

    let _ = Command::new("bash")
        .arg(&script)
        .args([Path::new("stop"), &state])
        .status();
    let _ = std::fs::remove_dir_all(&state);
}
