//! Peak memory of planning: `cargo run --release -p teamsync-benches --bin plan_memory -- 1000000 2000`.
//! Prints the process's peak RSS after generating the inputs and after planning. A third
//! argument repeats the plan that many more times (for profilers).

use std::time::Instant;

use teamsync_benches::{peak_rss_mib, world};
use teamsync_core::{Policy, plan};

fn main() {
    let mut args = std::env::args().skip(1);
    let users: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let groups: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    // Extra repetitions, for profiling the planner rather than the generator.
    let repeat: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let w = world(users, groups, 5.0);
    let inputs = peak_rss_mib();
    let started = Instant::now();
    let p = plan(&w.desired, &w.actual, &Policy::default()).expect("plan");
    let took = started.elapsed();
    let after = peak_rss_mib();
    // TEAMSYNC_PROFILE_BASELINE=1 repeats the baseline instead, to compare instruction counts.
    let baseline_only = std::env::var_os("TEAMSYNC_PROFILE_BASELINE").is_some();
    for _ in 0..repeat {
        if baseline_only {
            std::hint::black_box(teamsync_benches::baseline(&w.desired, &w.actual));
        } else {
            std::hint::black_box(plan(&w.desired, &w.actual, &Policy::default()).expect("plan"));
        }
    }
    println!(
        "users={users} groups={groups} operations={} plan_time_ms={:.1} peak_rss_inputs_mib={inputs:.0} peak_rss_after_plan_mib={after:.0} planner_extra_mib={:.0}",
        p.operations.len(),
        took.as_secs_f64() * 1000.0,
        after - inputs
    );
}
