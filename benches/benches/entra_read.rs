//! An Entra ID read through `teamsync-entra` from the in-process Graph emulator: 100,000 users
//! and 1,000 groups (nested under one root), with Graph's own page cap of 999. Prints the Graph
//! requests made per route against the fewest possible (⌈users/999⌉ user pages + group pages +
//! member pages + one page of deleted users), the wall time of `snapshot()` and the peak RSS.
//!
//! A plain `main` (not criterion): one long run whose figures are counts.
//! `cargo bench -p teamsync-benches --bench entra_read` (add `-- --quick` for 10,000 users and
//! 100 groups). The peak RSS includes the emulator, which holds the tenant in the same process.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use teamsync_core::Directory;
use teamsync_entra::{Cloud, Credential, EntraConfig, EntraDirectory};
use teamsync_graph_emulator::{Emulator, EmulatorConfig, SeedApp, SeedGroup, TenantSeed};

const TENANT: &str = "7e1ea5e0-0000-4000-8000-00000000c0de";
const APP: &str = "a99c11e0-0000-4000-8000-000000000001";
const SECRET: &str = "bench-secret";

fn guid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012}")
}

/// `users` users over `groups` groups under one root: user `i` is in group `i % groups`, and
/// every seventh user also in the next group.
fn tenant(users: usize, groups: usize) -> TenantSeed {
    let mut members: Vec<Vec<String>> = vec![Vec::new(); groups];
    let people: Vec<Map<String, Value>> = (0..users)
        .map(|i| {
            members[i % groups].push(guid(1, i));
            if i % 7 == 0 {
                members[(i + 1) % groups].push(guid(1, i));
            }
            let Value::Object(user) = json!({
                "id": guid(1, i), "displayName": format!("User {i}"), "givenName": format!("Given{i}"),
                "surname": format!("Sur{i}"), "mail": format!("user{i:06}@example.com"),
                "userPrincipalName": format!("user{i:06}@example.com"), "accountEnabled": i % 50 != 0,
                "userType": "Member",
            }) else {
                unreachable!()
            };
            user
        })
        .collect();
    let mut all: Vec<SeedGroup> = members
        .into_iter()
        .enumerate()
        .map(|(g, members)| SeedGroup {
            id: guid(2, g),
            display_name: format!("Team {g:04}"),
            members,
            ..SeedGroup::default()
        })
        .collect();
    all.push(SeedGroup {
        id: guid(3, 0),
        display_name: "Dropbox users".into(),
        members: all.iter().map(|g| g.id.clone()).collect(),
        ..SeedGroup::default()
    });
    TenantSeed {
        tenant_id: TENANT.into(),
        apps: vec![SeedApp {
            client_id: APP.into(),
            client_secret: Some(SECRET.into()),
            roles: vec!["User.Read.All".into(), "GroupMember.Read.All".into()],
            ..SeedApp::default()
        }],
        users: people,
        groups: all,
        ..TenantSeed::default()
    }
}

fn pages(items: usize) -> u64 {
    items.div_ceil(999).max(1) as u64
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (users, groups) = if quick {
        (10_000, 100)
    } else {
        (100_000, 1_000)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let seed = tenant(users, groups);
        let minimum: BTreeMap<&str, u64> = BTreeMap::from([
            ("users", pages(users)),
            ("groups", pages(seed.groups.len())),
            ("groups/{id}/members", seed.groups.iter().map(|g| pages(g.members.len())).sum()),
            ("directory/deletedItems/microsoft.graph.user", 1),
            ("token", 1),
        ]);
        let emu = Emulator::start(EmulatorConfig::default()).await.expect("the emulator starts");
        emu.try_seed(&seed).expect("a valid seed");
        drop(seed);
        let mut config = EntraConfig::new(TENANT, APP, Credential::client_secret(SECRET));
        config.cloud = Cloud::Custom { authority: emu.base_url(), graph: emu.base_url() };
        config.root_groups = vec![guid(3, 0)];
        config.request_timeout = Duration::from_secs(120);
        let directory = EntraDirectory::new(config).expect("valid settings");
        let rss_before = teamsync_benches::peak_rss_mib();

        let started = Instant::now();
        let state = directory.snapshot().await.expect("the read succeeds");
        let elapsed = started.elapsed();
        let calls = emu.call_counts();

        println!("entra read: {users} users, {groups} groups (+1 root) from the in-process Graph emulator");
        println!("  snapshot(): {:.2} s; {} users, {} groups read", elapsed.as_secs_f64(), state.users.len(), state.groups.len());
        let (mut made, mut least) = (0, 0);
        for (route, min) in &minimum {
            let n = calls.get(*route).copied().unwrap_or(0);
            made += n;
            least += min;
            println!("  {route:<46} {n:>6} requests (minimum {min})");
        }
        println!("  total                                          {made:>6} requests (minimum {least})");
        println!("  peak RSS {:.0} MiB (emulator with the tenant loaded: {:.0} MiB before the read)", teamsync_benches::peak_rss_mib(), rss_before);
    });
}
