//! The old planner (teamsync-core-old, extracted from git by run.sh) against the new one.
//!
//! * `compare [CASES]`: random small worlds under random policies (rules included), and the
//!   plan bench's generated worlds; every plan (or error) must be the same JSON, byte for byte.
//! * `profile [USERS]`: one old plan, one new plan and one baseline on the plan bench's world,
//!   each in its own function, for callgrind's inclusive counts (run.sh callgrind).
//! * `time [USERS] [ROUNDS]`: wall time of the three, interleaved, medians (run.sh time).
//! * `profile-rules [USERS]`: the rules bench's rules, old and new, beside the new plan
//!   without rules (run.sh callgrind-rules).
//!
//! Worlds and policies are built as JSON and read by both cores, so nothing here depends on
//! either core's Rust API beyond `plan`.

use serde_json::{Value, json};

/// splitmix64: deterministic, seeded per case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const GIVEN: [&str; 8] = [
    "Ann",
    "Zoë",
    "A/B",
    " Bob ",
    "",
    "Émile",
    "x\u{7}y",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ-long",
];
const SURNAMES: [&str; 6] = ["Lee", "Ñúñez", "C:D*", "Old", "", "Smith"];
const DEPARTMENTS: [&str; 4] = ["Sales", "Engineering", "Robots", "People"];

fn user_email(rng: &mut Rng, i: usize) -> String {
    match rng.below(12) {
        0 => format!("U{i}@X.com"),
        1 => format!(" u{i}@x.com "),
        2 => format!("u{i}.new@x.com"),
        3 => format!("u{i} at x"),
        4 => "u0@x.com".to_owned(),
        5 => String::new(),
        6 => format!("s{}@x.com", rng.below(3)),
        _ => format!("u{i}@x.com"),
    }
}

fn id_of(rng: &mut Rng, users: usize, groups: usize) -> String {
    match rng.below(10) {
        0 => format!("grp{}", rng.below(groups)),
        1 => "nobody".to_owned(),
        _ => format!("p{}", rng.below(users)),
    }
}

/// A random directory and team, small enough that every corner is hit often.
fn random_world(rng: &mut Rng, prefix: &str) -> (Value, Value) {
    let n = 1 + rng.below(14);
    let ng = 1 + rng.below(6);
    let mut users = Vec::new();
    for i in 0..n {
        // A few ids repeat (duplicate users), a few are bad (held as issues).
        let id = match rng.below(30) {
            0 => format!("p{}", rng.below(n)),
            1 => " ".to_owned(),
            2 => "x".repeat(70),
            3 => "y".repeat(60),
            _ => format!("p{i}"),
        };
        let mut attrs = serde_json::Map::new();
        if rng.chance(80) {
            attrs.insert("department".into(), json!(rng.pick(&DEPARTMENTS)));
        }
        if rng.chance(50) {
            attrs.insert(
                "title".into(),
                json!(if rng.chance(30) {
                    "Contractor X"
                } else {
                    "Engineer"
                }),
            );
        }
        if rng.chance(70) {
            attrs.insert("azure".into(), json!(format!("az{}", rng.below(n))));
        }
        let mut u = json!({
            "id": id,
            "email": user_email(rng, i),
            "given_name": rng.pick(&GIVEN),
            "surname": rng.pick(&SURNAMES),
            "enabled": rng.chance(80),
            "attributes": attrs,
        });
        if rng.chance(30) {
            u["locator"] = json!(format!("uid=p{i},ou=people"));
        }
        users.push(u);
    }
    let mut groups = Vec::new();
    for g in 0..ng {
        let members: Vec<String> = (0..rng.below(6)).map(|_| id_of(rng, n, ng)).collect();
        let id = if rng.chance(5) {
            format!("grp{}", rng.below(ng))
        } else {
            format!("grp{g}")
        };
        let name = match rng.below(12) {
            0 => format!("group {}", rng.below(ng)),
            1 => "  ".to_owned(),
            2 => format!(" Group {g} "),
            _ => format!("Group {g}"),
        };
        let mut grp = json!({ "id": id, "name": name, "members": members });
        if rng.chance(20) {
            grp["locator"] = json!(format!("cn=grp{g},ou=groups"));
        }
        groups.push(grp);
    }
    let mut root_members: Vec<String> = (0..rng.below(n + 3)).map(|_| id_of(rng, n, ng)).collect();
    if rng.chance(70) {
        root_members.push("grp0".into());
    }
    groups.push(json!({ "id": "root", "name": "Root", "members": root_members }));
    groups.push(json!({ "id": "groot", "name": "Group Root", "members": (0..ng).filter(|_| rng.chance(60)).map(|g| format!("grp{g}")).collect::<Vec<_>>() }));
    let mut user_roots = vec![json!("root")];
    if rng.chance(10) {
        user_roots.push(json!("missing-root"));
    }
    if rng.chance(10) {
        user_roots.push(json!(format!("grp{}", rng.below(ng))));
    }
    let deleted: Vec<String> = (0..rng.below(3))
        .map(|_| format!("p{}", rng.below(n + 3)))
        .collect();
    let mut issues = Vec::new();
    for k in 0..rng.below(3) {
        let mut issue = json!({ "entry": format!("line {k}"), "problem": "unreadable" });
        if rng.chance(60) {
            issue["id"] = json!(format!("p{}", rng.below(n + 2)));
        }
        if rng.chance(40) {
            issue["email"] = json!(format!("u{}@x.com", rng.below(n + 2)));
        }
        issues.push(issue);
    }
    let mut desired = json!({
        "user_roots": user_roots,
        "users": users,
        "groups": groups,
        "deleted": deleted,
        "issues": issues,
    });
    if rng.chance(40) {
        desired["group_roots"] = json!(["groot"]);
    }

    let statuses = [
        json!({"state": "active"}),
        json!({"state": "active"}),
        json!({"state": "invited"}),
        json!({"state": "suspended"}),
        json!({"state": "removed", "recoverable": true}),
        json!({"state": "removed", "recoverable": false}),
    ];
    let mut members = Vec::new();
    for k in 0..rng.below(n + 5) {
        let who = rng.below(n + 3);
        let email = match rng.below(8) {
            0 => format!("s{}@x.com", rng.below(3)),
            1 => format!("u{who}.new@x.com"),
            _ => format!("u{who}@x.com"),
        };
        let external = match rng.below(10) {
            0 => Value::Null,
            1 => json!(format!("okta:{who}")),
            2 => json!(format!("az{who}")),
            3 => json!(prefix),
            4 => json!(format!("{prefix} p{who}")),
            _ => json!(format!("{prefix}p{who}")),
        };
        let mut m = json!({
            "team_member_id": format!("dbmid:{k}"),
            "email": email,
            "given_name": if rng.chance(30) { "Old".to_owned() } else { rng.pick(&GIVEN).trim().to_owned() },
            "surname": if rng.chance(30) { "Name" } else { rng.pick(&SURNAMES) },
            "status": rng.pick(&statuses).clone(),
            "is_admin": rng.chance(10),
        });
        if !external.is_null() {
            m["external_id"] = external;
        }
        members.push(m);
    }
    let nm = members.len();
    let mut team_groups = Vec::new();
    for k in 0..rng.below(ng + 3) {
        let g = rng.below(ng + 2);
        let name = if g < ng {
            if rng.chance(20) {
                format!("group {g}")
            } else {
                format!("Group {g}")
            }
        } else {
            format!("Stale {k}")
        };
        let external = match rng.below(6) {
            0 => Value::Null,
            1 => json!(format!("other:{k}")),
            _ => json!(format!("{prefix}grp{g}")),
        };
        let management = *rng.pick(&[
            "company_managed",
            "company_managed",
            "user_managed",
            "system_managed",
        ]);
        let ms: Vec<String> = (0..rng.below(5))
            .map(|_| format!("dbmid:{}", rng.below(nm + 2)))
            .collect();
        let mut tg = json!({
            "group_id": format!("g:{k}"),
            "name": name,
            "management_type": management,
            "members": ms,
        });
        if !external.is_null() {
            tg["external_id"] = external;
        }
        team_groups.push(tg);
    }
    let actual = json!({ "members": members, "groups": team_groups });
    (desired, actual)
}

const RULE_SETS: [&str; 7] = [
    r#"
[[scope]]
name = "no-robots"
exclude = 'has(user.department) && user.department == "Robots"'
"#,
    r#"
[[scope]]
name = "departments"
include = 'user.department in ["Sales", "Engineering"]'

[[scope]]
name = "no-contractors"
exclude = 'has(user.title) && user.title.startsWith("Contractor")'

[[scope]]
name = "not-in-group-1"
exclude = '"Group 1" in user.groups'
"#,
    r#"
[mapping]
email = { expr = 'user.email != "" ? user.email.lowerAscii() : user.id + "@x.com"' }
given_name = { expr = 'user.given_name.upperAscii()', when = "on_create" }
surname = { expr = 'user.surname + "-m"' }
"#,
    r#"
[[groups]]
name = "not-group-2"
exclude = 'group.name == "Group 2"'

[[groups]]
name = "fails-for-some"
exclude = 'int(group.name.substring(6)) == 1'
"#,
    r#"
[[scope]]
name = "strict-title"
exclude = 'user.title == "Contractor X"'
"#,
    r#"
group_name = '"AD " + group.name'

[[match]]
name = "entra"
by = "external_id"
expr = 'user.azure'

[[match]]
name = "email"
by = "email"
"#,
    r#"
[[match]]
name = "entra"
by = "external_id"
expr = '"az" + user.id.substring(1)'

[mapping]
email = { expr = 'user.email', when = "on_create" }
"#,
];

fn random_policy(rng: &mut Rng, prefix: &str) -> Value {
    let mut p = json!({
        "external_id_prefix": prefix,
        "manage_existing_users": rng.chance(60),
        "adopt_foreign": rng.chance(40),
        "adopt_existing_groups": rng.chance(40),
        "group_sync": rng.pick(&["off", "user_roots", "user_roots", "group_roots"]),
        "strict_group_scope": rng.chance(30),
        "on_leave": rng.pick(&["suspend", "remove"]),
        "on_delete": rng.pick(&["suspend", "remove"]),
        "on_invited_deprovision": rng.pick(&["remove_invitation", "leave"]),
        "wipe_data": rng.chance(50),
        "deprovision_admins": rng.chance(30),
        "on_group_leave": rng.pick(&["empty", "delete", "keep"]),
        "send_welcome_email": rng.chance(50),
        "max_deprovision": { "floor": rng.below(4), "percent": 10.0 },
    });
    p["transfer"] = match rng.below(3) {
        0 => json!({"mode": "none"}),
        1 => json!({"mode": "keep_account"}),
        _ => {
            json!({"mode": "transfer", "dest": {"by": "email", "value": "boss@x.com"}, "admin": {"by": "email", "value": "boss@x.com"}})
        }
    };
    if rng.chance(45) {
        // One or two rule sets, merged as TOML tables.
        let first = rng.below(RULE_SETS.len());
        let mut text = RULE_SETS[first].to_string();
        let second = rng.below(RULE_SETS.len());
        if rng.chance(40) && second != first {
            let other = RULE_SETS[second];
            let clash = |k: &str| text.contains(k) && other.contains(k);
            if !clash("[mapping]")
                && !clash("group_name")
                && !clash("name = \"entra\"")
                && !clash("name = \"email\"")
                && !other.trim_start().starts_with("group_name")
            {
                text = format!("{text}\n{other}");
            }
        }
        let table: toml_value::Table = toml_value::parse(&text);
        p["rules"] = table;
    }
    p
}

/// TOML text to JSON, by way of the old core's own reader: rules are written as TOML in the
/// config, and the JSON shape is what serde sees either way.
mod toml_value {
    pub(super) type Table = serde_json::Value;
    pub(super) fn parse(text: &str) -> Table {
        let v: toml::Value = toml::from_str(text).expect("rules TOML");
        serde_json::to_value(v).expect("rules as JSON")
    }
}

fn old_plan(d: &old::DesiredState, a: &old::ActualState, p: &old::Policy) -> String {
    match old::plan(d, a, p) {
        Ok(plan) => serde_json::to_string_pretty(&plan).expect("json"),
        Err(e) => format!("error: {e}"),
    }
}

fn new_plan(d: &new::DesiredState, a: &new::ActualState, p: &new::Policy) -> String {
    match new::plan(d, a, p) {
        Ok(plan) => serde_json::to_string_pretty(&plan).expect("json"),
        Err(e) => format!("error: {e}"),
    }
}

fn read<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).expect("both cores read the world")
}

/// Compares one world under one policy; prints the world and the first difference on a mismatch.
fn same(label: &str, d: &Value, a: &Value, p: &Value) -> bool {
    let old_p: old::Policy = match serde_json::from_value(p.clone()) {
        Ok(p) => p,
        Err(e) => panic!("{label}: policy {p}: {e}"),
    };
    let new_p: new::Policy = read(p);
    let x = old_plan(&read(d), &read(a), &old_p);
    let y = new_plan(&read(d), &read(a), &new_p);
    if x == y {
        return true;
    }
    let line = x
        .lines()
        .zip(y.lines())
        .position(|(l, r)| l != r)
        .unwrap_or(0);
    eprintln!(
        "DIFFERENT PLANS: {label}\nfirst differing line {line}:\n  old: {}\n  new: {}",
        x.lines().nth(line).unwrap_or("<end>"),
        y.lines().nth(line).unwrap_or("<end>")
    );
    eprintln!("desired = {d}\nactual = {a}\npolicy = {p}");
    false
}

fn compare(cases: usize) -> bool {
    let mut ok = 0usize;
    let mut failed = 0usize;
    let mut errors = 0usize;
    for case in 0..cases {
        let mut rng = Rng(case as u64 * 7919 + 1);
        let prefix = if rng.chance(15) { "ts:" } else { "teamsync:" };
        let (d, a) = random_world(&mut rng, prefix);
        let p = random_policy(&mut rng, prefix);
        if same(&format!("random case {case}"), &d, &a, &p) {
            ok += 1;
            let old_p: old::Policy = read(&p);
            if old::plan(&read(&d), &read(&a), &old_p).is_err() {
                errors += 1;
            }
        } else {
            failed += 1;
            if failed >= 3 {
                break;
            }
        }
    }
    println!("random worlds: {ok} identical ({errors} of them the same error), {failed} different");
    // The plan bench's generated worlds, with and without the rules bench's rules.
    let rules = toml_value::parse(
        r#"
[[scope]]
name = "departments"
include = 'user.department in ["Sales", "Engineering", "Operations", "Finance", "People"]'

[[scope]]
name = "no-contractors"
exclude = 'has(user.title) && user.title.startsWith("Contractor")'

[[scope]]
name = "no-robots"
exclude = '"Robots" in user.groups'

[[scope]]
name = "no-group-7"
exclude = '"Group 7" in user.groups'

[mapping]
email = { expr = 'user.mail != "" ? user.mail.lowerAscii() : user.uid + "@corp.example.com"' }
given_name = { expr = 'user.given_name.trim()', when = "on_create" }
surname = { expr = 'user.surname + (user.department == "Sales" ? "" : "")' }
"#,
    );
    let mut generated_failed = 0;
    let mut generated = 0;
    for (users, groups, drift) in [(2_000, 50, 5.0), (5_000, 100, 20.0), (20_000, 300, 5.0)] {
        let mut w = teamsync_benches::world(users, groups, drift);
        for (i, u) in w.desired.users.iter_mut().enumerate() {
            let attrs = &mut u.attributes;
            attrs.insert(
                "department".into(),
                ["Sales", "Engineering", "Robots"][i % 3].into(),
            );
            attrs.insert("title".into(), format!("Engineer {}", i % 7));
            attrs.insert("mail".into(), u.email.clone());
            attrs.insert("uid".into(), format!("person.{i}"));
        }
        let d = serde_json::to_value(&w.desired).expect("json");
        let a = serde_json::to_value(&w.actual).expect("json");
        for with_rules in [false, true] {
            for sync in ["user_roots", "off"] {
                let mut p = json!({ "group_sync": sync, "on_leave": "remove" });
                if with_rules {
                    p["rules"] = rules.clone();
                }
                generated += 1;
                if !same(
                    &format!(
                        "generated {users}/{groups}/{drift}% rules={with_rules} group_sync={sync}"
                    ),
                    &d,
                    &a,
                    &p,
                ) {
                    generated_failed += 1;
                }
            }
        }
    }
    println!(
        "generated worlds: {} identical, {generated_failed} different",
        generated - generated_failed
    );
    failed == 0 && generated_failed == 0
}

#[inline(never)]
fn run_old(d: &old::DesiredState, a: &old::ActualState, p: &old::Policy) -> usize {
    std::hint::black_box(old::plan(d, a, p).expect("plan"))
        .operations
        .len()
}

#[inline(never)]
fn run_new(d: &new::DesiredState, a: &new::ActualState, p: &new::Policy) -> usize {
    std::hint::black_box(new::plan(d, a, p).expect("plan"))
        .operations
        .len()
}

#[inline(never)]
fn run_baseline(d: &new::DesiredState, a: &new::ActualState) -> usize {
    std::hint::black_box(teamsync_benches::baseline(d, a))
}

#[inline(never)]
fn run_old_rules(d: &old::DesiredState, a: &old::ActualState, p: &old::Policy) -> usize {
    std::hint::black_box(old::plan(d, a, p).expect("plan"))
        .operations
        .len()
}

#[inline(never)]
fn run_new_rules(d: &new::DesiredState, a: &new::ActualState, p: &new::Policy) -> usize {
    std::hint::black_box(new::plan(d, a, p).expect("plan"))
        .operations
        .len()
}

/// The rules bench's rules (benches/benches/rules.rs): 3 scope rules and 3 mappings that keep
/// everyone and map every field to its own value.
const BENCH_RULES: &str = r#"
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

/// One plan of each kind after a warm-up round of the same, so that no count carries the
/// allocator's first growth: the measured functions are the `run_*` ones.
fn profile(users: usize, rules: bool) {
    // The plan bench's sizes (500, 1,000, 2,000 groups); the rules bench's users / 100.
    let groups = match (rules, users) {
        (true, _) => (users / 100).max(10),
        (false, ..=10_000) => 500,
        (false, ..=100_000) => 1_000,
        _ => 2_000,
    };
    let mut w = teamsync_benches::world(users, groups, 5.0);
    if rules {
        const DEPARTMENTS: [&str; 5] = ["Sales", "Engineering", "Operations", "Finance", "People"];
        for (i, u) in w.desired.users.iter_mut().enumerate() {
            let attrs = &mut u.attributes;
            attrs.insert("department".into(), DEPARTMENTS[i % 5].into());
            attrs.insert("title".into(), format!("Engineer {}", i % 7));
            attrs.insert("mail".into(), u.email.clone());
            attrs.insert("uid".into(), format!("person.{i}"));
        }
    }
    let od: old::DesiredState = read(&serde_json::to_value(&w.desired).expect("json"));
    let oa: old::ActualState = read(&serde_json::to_value(&w.actual).expect("json"));
    let policy = if rules {
        json!({ "rules": toml_value::parse(BENCH_RULES) })
    } else {
        json!({})
    };
    let op: old::Policy = read(&policy);
    let np: new::Policy = read(&policy);
    let plain = new::Policy::default();
    // Warm-up: the same calls, not counted under the run_* names.
    std::hint::black_box(old::plan(&od, &oa, &op).expect("plan"));
    std::hint::black_box(new::plan(&w.desired, &w.actual, &np).expect("plan"));
    std::hint::black_box(teamsync_benches::baseline(&w.desired, &w.actual));
    if rules {
        let a = run_old_rules(&od, &oa, &op);
        let b = run_new_rules(&w.desired, &w.actual, &np);
        let c = run_new(&w.desired, &w.actual, &plain);
        println!(
            "{users} users / {groups} groups: old with rules {a} ops, new with rules {b} ops, new without rules {c} ops"
        );
    } else {
        let a = run_old(&od, &oa, &op);
        let b = run_new(&w.desired, &w.actual, &np);
        let c = run_baseline(&w.desired, &w.actual);
        println!("{users} users / {groups} groups: old {a} ops, new {b} ops, baseline {c}");
    }
}

/// Wall time, old against new against the baseline, interleaved round by round so that a
/// shared machine's load falls on all three alike; prints the medians.
fn time(users: usize, rounds: usize) {
    let groups = match users {
        ..=10_000 => 500,
        ..=100_000 => 1_000,
        _ => 2_000,
    };
    let w = teamsync_benches::world(users, groups, 5.0);
    let od: old::DesiredState = read(&serde_json::to_value(&w.desired).expect("json"));
    let oa: old::ActualState = read(&serde_json::to_value(&w.actual).expect("json"));
    let (op, np) = (old::Policy::default(), new::Policy::default());
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        run_old(&od, &oa, &op);
        times[0].push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        run_new(&w.desired, &w.actual, &np);
        times[1].push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        run_baseline(&w.desired, &w.actual);
        times[2].push(t.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1000.0
    };
    let [o, n, b] = &mut times;
    let (o, n, b) = (median(o), median(n), median(b));
    println!(
        "{users} users / {groups} groups, median of {rounds} interleaved rounds: old {o:.2} ms, new {n:.2} ms, baseline {b:.2} ms; old/baseline {:.2}, new/baseline {:.2}",
        o / b,
        n / b
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "compare".to_owned());
    let n: Option<usize> = args.next().and_then(|s| s.parse().ok());
    match mode.as_str() {
        "compare" => {
            if !compare(n.unwrap_or(20_000)) {
                std::process::exit(1);
            }
        }
        "profile" => profile(n.unwrap_or(100_000), false),
        "profile-rules" => profile(n.unwrap_or(100_000), true),
        "time" => {
            let rounds = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
            time(n.unwrap_or(100_000), rounds)
        }
        other => {
            eprintln!(
                "unknown mode {other}: compare [CASES] | profile [USERS] | profile-rules [USERS] | time [USERS] [ROUNDS]"
            );
            std::process::exit(2);
        }
    }
}
