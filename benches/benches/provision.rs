//! End-to-end provisioning through `sync-dropbox` into the in-process emulator: a generated
//! directory of 10,000 users in 200 groups, planned by the core and applied through
//! `DropboxTeam`. Prints, per route, the calls made against the fewest possible, and the wall
//! time; then the same for a second, no-op run; then again with 50 ms of latency per call.
//!
//! A plain `main` (not criterion): each scenario is one long run whose figures are counts.
//! `cargo bench -p teamsync-benches --bench provision` (add `-- --quick` for 2,000 users and
//! no latency run; `-- --noop-100k` for a no-op run on a 100,000-member team that an earlier
//! sync left in step, seeded directly into the emulator; `-- --only-100k` for `apply --only` of
//! one new hire on that team, through the library's `Runner`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use teamsync_core::{
    ApplyOptions, DesiredState, DirectoryGroup, DirectoryUser, Policy, SourceId, TeamStore,
};
use teamsync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxTeam, JobPolling, TeamOptions,
};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, Faults};

/// `users` users over `groups` groups under one root: user `i` is in group `i % groups`, and
/// every seventh user also in the next group (so memberships ≈ 1.14 × users).
fn directory(users: usize, groups: usize) -> DesiredState {
    let id = |s: String| SourceId::new(s).expect("generated ids are valid");
    let root = id("root".into());
    let mut members: Vec<Vec<SourceId>> = vec![Vec::new(); groups];
    let people: Vec<DirectoryUser> = (0..users)
        .map(|i| {
            let user = DirectoryUser::new(
                id(format!("u{i:06}")),
                format!("user{i:06}@example.com"),
                format!("Given{i}"),
                format!("Sur{i}"),
            );
            members[i % groups].push(user.id.clone());
            if i % 7 == 0 {
                members[(i + 1) % groups].push(user.id.clone());
            }
            user
        })
        .collect();
    let mut all: Vec<DirectoryGroup> = members
        .into_iter()
        .enumerate()
        .map(|(g, members)| DirectoryGroup {
            id: id(format!("g{g:04}")),
            name: format!("Team {g:04}"),
            members,
            locator: None,
        })
        .collect();
    all.push(DirectoryGroup {
        id: root.clone(),
        name: "Dropbox users".into(),
        members: all.iter().map(|g| g.id.clone()).collect(),
        locator: None,
    });
    DesiredState {
        user_roots: vec![root],
        users: people,
        groups: all,
        ..DesiredState::default()
    }
}

/// The fewest calls per route a run can make, given the batch limits and page size.
fn minimum_calls(
    desired: &DesiredState,
    first_run: bool,
    page_size: usize,
    group_batch: usize,
) -> BTreeMap<&'static str, u64> {
    let users = desired.users.len();
    let synced: Vec<&DirectoryGroup> = desired
        .groups
        .iter()
        .filter(|g| g.id.as_str() != "root")
        .collect();
    let mut min = BTreeMap::new();
    let team_members = if first_run { 0 } else { users };
    let team_groups = if first_run { 0 } else { synced.len() };
    min.insert("team/members/list_v2", 1);
    min.insert(
        "team/members/list/continue_v2",
        (team_members.div_ceil(page_size).max(1) - 1) as u64,
    );
    min.insert("team/groups/list", 1);
    min.insert(
        "team/groups/list/continue",
        (team_groups.div_ceil(page_size).max(1) - 1) as u64,
    );
    min.insert("team/groups/members/list", team_groups as u64);
    let member_pages: usize = if first_run {
        0
    } else {
        synced
            .iter()
            .map(|g| g.members.len().div_ceil(page_size).max(1) - 1)
            .sum()
    };
    min.insert("team/groups/members/list/continue", member_pages as u64);
    if first_run {
        min.insert("team/members/add_v2", users.div_ceil(20) as u64);
        min.insert("team/groups/create", synced.len() as u64);
        min.insert(
            "team/groups/members/add",
            synced
                .iter()
                .map(|g| g.members.len().div_ceil(group_batch) as u64)
                .sum(),
        );
    }
    min
}

struct Run {
    wall: Duration,
    planned: usize,
    failed: usize,
    calls: BTreeMap<String, u64>,
}

async fn run_once(emu: &Emulator, store: &DropboxTeam, desired: &DesiredState) -> Run {
    emu.reset_call_counts();
    let started = Instant::now();
    let actual = store.snapshot().await.expect("snapshot");
    let plan = teamsync_core::plan(desired, &actual, &Policy::default()).expect("plan");
    let outcome = teamsync_core::apply(&plan, store, &ApplyOptions::default())
        .await
        .expect("apply");
    Run {
        wall: started.elapsed(),
        planned: plan.operations.len(),
        failed: outcome.failed + outcome.skipped,
        calls: emu.call_counts(),
    }
}

fn print_run(title: &str, run: &Run, minimum: &BTreeMap<&'static str, u64>) {
    println!(
        "\n{title}: {:.2?} wall, {} operations planned, {} failed or skipped",
        run.wall, run.planned, run.failed
    );
    println!("  {:<40} {:>8} {:>8}", "route", "calls", "minimum");
    let mut routes: Vec<&str> = run.calls.keys().map(String::as_str).collect();
    routes.extend(minimum.keys().copied());
    routes.sort_unstable();
    routes.dedup();
    let (mut total, mut total_min) = (0, 0);
    for route in routes {
        let calls = run.calls.get(route).copied().unwrap_or(0);
        let min = minimum
            .get(route)
            .map(u64::to_string)
            .unwrap_or_else(|| "-".into());
        total += calls;
        total_min += minimum.get(route).copied().unwrap_or(0);
        println!("  {route:<40} {calls:>8} {min:>8}");
    }
    println!("  {:<40} {total:>8} {total_min:>8}", "total");
}

async fn scenario(users: usize, groups: usize, latency_ms: u64) {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    emu.set_faults(Faults {
        latency_ms,
        ..Faults::default()
    });
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(emu.access_token()),
    )
    .expect("client");
    let options = TeamOptions::default().with_job_polling(JobPolling::new(
        Duration::from_millis(20),
        Duration::from_millis(500),
        Duration::from_secs(300),
    ));
    let store = DropboxTeam::with_options(client, options);
    let limits = store.limits();
    let desired = directory(users, groups);
    let memberships: usize = desired
        .groups
        .iter()
        .filter(|g| g.id.as_str() != "root")
        .map(|g| g.members.len())
        .sum();
    println!(
        "\n=== {users} users, {groups} groups ({memberships} memberships), {latency_ms} ms latency per call, concurrency {}, {} invites/call, {} group members/call ===",
        limits.max_concurrency, limits.invites_per_call, limits.group_members_per_call
    );
    let page = options.page_size as usize;
    let first = run_once(&emu, &store, &desired).await;
    print_run(
        "initial provisioning",
        &first,
        &minimum_calls(&desired, true, page, limits.group_members_per_call),
    );
    let second = run_once(&emu, &store, &desired).await;
    print_run(
        "second run (no-op)",
        &second,
        &minimum_calls(&desired, false, page, limits.group_members_per_call),
    );
    let writes: u64 = second
        .calls
        .iter()
        .filter(|(r, _)| {
            !(r.contains("list") || r.contains("get_info") || r.contains("job_status"))
        })
        .map(|(_, n)| n)
        .sum();
    println!("  write calls in the second run: {writes}");
    emu.shutdown().await;
}

/// What a previous sync of `desired` left on the team: every user an active managed member,
/// every synced group a managed group with its people.
fn seed_in_step(desired: &DesiredState) -> teamsync_dropbox_emulator::TeamSeed {
    let email_of: BTreeMap<&str, &str> = desired
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    teamsync_dropbox_emulator::TeamSeed {
        team_name: Some("Bench".into()),
        license_limit: None,
        members: desired
            .users
            .iter()
            .map(|u| teamsync_dropbox_emulator::SeedMember {
                email: u.email.clone(),
                given_name: u.given_name.clone(),
                surname: u.surname.clone(),
                external_id: Some(format!("teamsync:{}", u.id)),
                ..Default::default()
            })
            .collect(),
        groups: desired
            .groups
            .iter()
            .filter(|g| g.id.as_str() != "root")
            .map(|g| {
                let mut members: Vec<String> = g
                    .members
                    .iter()
                    .filter_map(|m| email_of.get(m.as_str()).map(|e| e.to_string()))
                    .collect();
                members.sort();
                members.dedup();
                teamsync_dropbox_emulator::SeedGroup {
                    name: g.name.clone(),
                    external_id: Some(format!("teamsync:{}", g.id)),
                    management_type: None,
                    members,
                }
            })
            .collect(),
    }
}

/// A no-op run on a team already in step with the directory: the emulator is seeded with what
/// a previous sync left, then one full run (snapshot, plan, apply) is measured.
async fn noop_scenario(users: usize, groups: usize) {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let desired = directory(users, groups);
    let seed = seed_in_step(&desired);
    let seeded = Instant::now();
    emu.try_seed(&seed).expect("seed");
    println!(
        "\n=== no-op run on {users} members, {groups} groups (seeded in {:.2?}) ===",
        seeded.elapsed()
    );
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(emu.access_token()),
    )
    .expect("client");
    let store = DropboxTeam::with_options(client, TeamOptions::default());
    let page = TeamOptions::default().page_size as usize;
    let run = run_once(&emu, &store, &desired).await;
    print_run(
        "no-op run",
        &run,
        &minimum_calls(&desired, false, page, store.limits().group_members_per_call),
    );
    println!(
        "  peak RSS of the bench process (emulator included): {:.0} MiB",
        teamsync_benches::peak_rss_mib()
    );
    emu.shutdown().await;
}

/// `apply --only` for one new hire on a 100,000-member team, through the library's `Runner`
/// (what `teamsync apply --only` runs): the emulator holds what a previous sync left, the
/// directory file (state JSON) holds the same people (one in a hundred renamed since) plus one
/// new hire in one group, and the plan is restricted to the new hire before it is applied. Measures the whole run: reading
/// both sides, planning, the restriction and the apply.
async fn only_scenario(users: usize, groups: usize) {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let mut desired = directory(users, groups);
    emu.try_seed(&seed_in_step(&desired)).expect("seed");
    // Other pending changes that `--only` must leave for the next full run: one person in a
    // hundred renamed.
    for u in desired.users.iter_mut().step_by(100) {
        u.surname.push_str("-Renamed");
    }
    // The new hire: in the first group (so the run creates one membership too).
    let hire = SourceId::new("u-newhire").expect("id");
    desired.users.push(DirectoryUser::new(
        hire.clone(),
        "newhire@example.com",
        "New",
        "Hire",
    ));
    desired.groups[0].members.push(hire);
    let folder = tempfile::tempdir().expect("temp dir");
    let people = folder.path().join("people.json");
    std::fs::write(&people, serde_json::to_vec(&desired).expect("json")).expect("write");
    let token = folder.path().join("token");
    std::fs::write(&token, emu.access_token()).expect("write");
    let config_path = folder.path().join("teamsync.toml");
    let config_text = format!(
        "[directory]\nkind = \"file\"\npath = \"people.json\"\nformat = \"state_json\"\n\n[team]\nbase_url = \"{}\"\ntoken = {{ file = \"token\" }}\n",
        emu.base_url()
    );
    std::fs::write(&config_path, config_text).expect("write");
    // Secrets in files must be private to their owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [&token, &config_path] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }
    let config = teamsync::Config::load(&config_path).expect("config");
    let runner = teamsync::Runner::new(config).expect("runner");
    println!(
        "\n=== apply --only newhire@example.com: {users} members in step, {groups} groups, one new hire in the directory file ==="
    );
    emu.reset_call_counts();
    let started = Instant::now();
    let planned = runner.plan().await.expect("plan");
    let read_and_planned = started.elapsed();
    let full = planned.plan.operations.len();
    let only = planned
        .plan
        .only(
            &["newhire@example.com"],
            &planned.sides.desired,
            &planned.sides.actual,
        )
        .expect("only");
    let restricted = started.elapsed();
    let outcome = runner
        .apply(&only, ApplyOptions::default())
        .await
        .expect("apply");
    let wall = started.elapsed();
    let calls = emu.call_counts();
    println!(
        "  wall {wall:.2?}: read both sides + plan {read_and_planned:.2?}, restrict {:.2?}, apply {:.2?}",
        restricted - read_and_planned,
        wall - restricted
    );
    println!(
        "  operations: {full} in the full plan, {} after --only ({:?}); {} done, {} failed or skipped",
        only.operations.len(),
        only.counts(),
        outcome.done,
        outcome.failed + outcome.skipped
    );
    let mut total = 0;
    println!("  {:<40} {:>8}", "route", "calls");
    for (route, n) in &calls {
        total += n;
        println!("  {route:<40} {n:>8}");
    }
    println!("  {:<40} {total:>8}", "total");
    let writes: u64 = calls
        .iter()
        .filter(|(r, _)| {
            !(r.contains("list") || r.contains("get_info") || r.contains("job_status"))
        })
        .map(|(_, n)| n)
        .sum();
    println!("  write calls: {writes}");
    println!(
        "  peak RSS of the bench process (emulator included): {:.0} MiB",
        teamsync_benches::peak_rss_mib()
    );
    emu.shutdown().await;
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let noop_100k = std::env::args().any(|a| a == "--noop-100k");
    let only_100k = std::env::args().any(|a| a == "--only-100k");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        if only_100k {
            only_scenario(100_000, 1_000).await;
        } else if noop_100k {
            noop_scenario(100_000, 1_000).await;
        } else if quick {
            scenario(2_000, 50, 0).await;
        } else {
            scenario(10_000, 200, 0).await;
            scenario(10_000, 200, 50).await;
        }
    });
}
