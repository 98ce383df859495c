//! The cost of rules: 100,000 users / 1,000 groups (5% drift) planned with 3 scope rules and 3
//! mappings, beside the same plan without rules, in the same run. The rules keep everyone and
//! map every field to its own value, so both plans hold the same operations and the difference
//! is the rules alone: 6 CEL evaluations per user, one of them over the user's groups through
//! nesting.
//!
//! `cargo bench -p teamsync-benches --bench rules`; `TEAMSYNC_BENCH_USERS=10000` for a smaller
//! world.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use teamsync_benches::world;
use teamsync_core::rules::{Rules, RulesConfig};
use teamsync_core::{Policy, plan};

const RULES: &str = r#"
[[scope]]
name = "departments"
include = 'user.department in ["Sales", "Engineering", "Operations", "Finance", "People"]'

[[scope]]
name = "no-contractors"
exclude = 'has(user.title) && user.title.startsWith("Contractor")'

[[scope]]
name = "no-robots"
exclude = '"Robots" in user.groups'

[mapping]
email = { expr = 'user.mail != "" ? user.mail.lowerAscii() : user.uid + "@corp.example.com"' }
given_name = { expr = 'user.given_name.trim()', when = "on_create" }
surname = { expr = 'user.surname' }
"#;

const DEPARTMENTS: [&str; 5] = ["Sales", "Engineering", "Operations", "Finance", "People"];

fn bench_rules(c: &mut Criterion) {
    let users: usize = std::env::var("TEAMSYNC_BENCH_USERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let groups = (users / 100).max(10);
    let mut w = world(users, groups, 5.0);
    for (i, u) in w.desired.users.iter_mut().enumerate() {
        let attrs = &mut u.attributes;
        attrs.insert("department".into(), DEPARTMENTS[i % 5].into());
        attrs.insert("title".into(), format!("Engineer {}", i % 7));
        attrs.insert("mail".into(), u.email.clone());
        attrs.insert("uid".into(), format!("person.{i}"));
    }
    let config: RulesConfig = toml::from_str(RULES).expect("rules");
    let with_rules = Policy::default().with_rules(Rules::compile(config).expect("rules compile"));
    let without = Policy::default();
    // One simple rule: the cost of a single evaluation per user.
    let one_rule: RulesConfig =
        toml::from_str("[[scope]]\nname = \"sales\"\nexclude = 'user.department == \"Robots\"'\n")
            .expect("rule");
    let with_one_rule =
        Policy::default().with_rules(Rules::compile(one_rule).expect("rule compiles"));

    let a = plan(&w.desired, &w.actual, &without).expect("plan");
    let b = plan(&w.desired, &w.actual, &with_rules).expect("plan");
    assert_eq!(
        a.operations.len(),
        b.operations.len(),
        "the rules keep everyone"
    );
    eprintln!(
        "{users} users / {groups} groups: {} operations either way",
        a.operations.len()
    );

    let mut g = c.benchmark_group(format!("rules_{users}"));
    g.throughput(Throughput::Elements(users as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.bench_with_input(BenchmarkId::new("plan_without_rules", users), &w, |b, w| {
        b.iter(|| black_box(plan(&w.desired, &w.actual, &without).expect("plan")))
    });
    g.bench_with_input(
        BenchmarkId::new("plan_with_1_scope_rule", users),
        &w,
        |b, w| b.iter(|| black_box(plan(&w.desired, &w.actual, &with_one_rule).expect("plan"))),
    );
    g.bench_with_input(
        BenchmarkId::new("plan_with_3_scope_rules_3_mappings", users),
        &w,
        |b, w| b.iter(|| black_box(plan(&w.desired, &w.actual, &with_rules).expect("plan"))),
    );
    g.finish();
}

criterion_group!(benches, bench_rules);
criterion_main!(benches);
