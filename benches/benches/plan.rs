//! Planner speed on generated directories (5% drift), beside a baseline measured in the same
//! run: indexing both sides into hash maps.
//!
//! `cargo bench -p teamsync-benches --bench plan`; sizes: 10k users / 500 groups, 100k / 1,000,
//! 1M / 2,000. Set `TEAMSYNC_BENCH_MAX=100000` to skip the 1M case. `plan_deep_chain`: one chain
//! of 100,000 nested groups (issue 11 measured 178 s for it before the closure was memoised).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use teamsync_benches::{baseline, world};
use teamsync_core::{
    ActualState, DesiredState, DirectoryGroup, DirectoryUser, Policy, SourceId, plan,
};

fn sizes() -> Vec<(usize, usize)> {
    let max: usize = std::env::var("TEAMSYNC_BENCH_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    [(10_000, 500), (100_000, 1_000), (1_000_000, 2_000)]
        .into_iter()
        .filter(|(u, _)| *u <= max)
        .collect()
}

fn bench_plan(c: &mut Criterion) {
    let policy = Policy::default();
    for (users, groups) in sizes() {
        let w = world(users, groups, 5.0);
        let p = plan(&w.desired, &w.actual, &policy).expect("plan");
        eprintln!(
            "{users} users / {groups} groups: {} operations {:?}",
            p.operations.len(),
            p.counts()
        );
        let mut g = c.benchmark_group(format!("plan_{users}"));
        g.throughput(Throughput::Elements(users as u64));
        if users >= 1_000_000 {
            g.sample_size(10);
        } else if users >= 100_000 {
            g.sample_size(20);
        }
        g.bench_with_input(BenchmarkId::new("planner", users), &w, |b, w| {
            b.iter(|| black_box(plan(&w.desired, &w.actual, &policy).expect("plan")))
        });
        g.bench_with_input(
            BenchmarkId::new("baseline_hash_index", users),
            &w,
            |b, w| b.iter(|| black_box(baseline(&w.desired, &w.actual))),
        );
        g.finish();
    }
}

/// root ⊃ g0 ⊃ g1 ⊃ … ⊃ g(depth-1) ⊃ one user.
fn deep_chain(depth: usize) -> DesiredState {
    let id = |s: String| SourceId::new(s).expect("valid id");
    let mut groups: Vec<DirectoryGroup> = (0..depth)
        .map(|i| DirectoryGroup {
            id: id(format!("g{i}")),
            name: format!("Group {i}"),
            members: vec![id(if i + 1 < depth {
                format!("g{}", i + 1)
            } else {
                "ann".to_owned()
            })],
            locator: None,
        })
        .collect();
    groups.push(DirectoryGroup {
        id: id("root".into()),
        name: "Dropbox Users".into(),
        members: vec![id("g0".into())],
        locator: None,
    });
    DesiredState {
        user_roots: vec![id("root".into())],
        users: vec![DirectoryUser::new(
            id("ann".into()),
            "ann@x.com",
            "Ann",
            "Lee",
        )],
        groups,
        ..Default::default()
    }
}

fn bench_deep_chain(c: &mut Criterion) {
    let policy = Policy::default();
    let d = deep_chain(100_000);
    let a = ActualState::default();
    let mut g = c.benchmark_group("plan_deep_chain");
    g.sample_size(10);
    g.bench_function("planner/100000", |b| {
        b.iter(|| black_box(plan(&d, &a, &policy).expect("plan")))
    });
    g.finish();
}

criterion_group!(benches, bench_plan, bench_deep_chain);
criterion_main!(benches);
