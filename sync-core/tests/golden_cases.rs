//! Golden plans kept as data in `tests/cases/*.json`, read by these tests and by the Python
//! package's tests (`bindings-python/tests-py/test_teamsync_golden_cases.py`), so both sides
//! check one set of cases (one copy of each expected outcome). Each file holds `desired`,
//! `actual`, `policy` and the expected `ops` (one line per operation, as `case_ops` prints
//! them) and, optionally, the rendered table (`render`), the warnings' kinds in order
//! (`warnings`) and some of the plan's input figures (`stats`, compared by name).
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;

use serde_json::Value;
use teamsync_core::*;

/// "verb target [details]": the format both languages print for a case.
fn case_ops(plan: &Plan) -> Vec<String> {
    plan.operations
        .iter()
        .map(|op| {
            let detail = match &op.action {
                Action::Invite { member } => format!(
                    " ({} {} {})",
                    member.external_id, member.given_name, member.surname
                ),
                Action::UpdateProfile { change, .. } | Action::AdoptMember { change, .. } => {
                    let mut parts = Vec::new();
                    if let Some(e) = &change.email {
                        parts.push(format!("email={e}"));
                    }
                    if let Some(g) = &change.given_name {
                        parts.push(format!("given={g}"));
                    }
                    if let Some(s) = &change.surname {
                        parts.push(format!("surname={s}"));
                    }
                    if let Some(x) = &change.external_id {
                        parts.push(format!("external_id={x}"));
                    }
                    format!(" {}", parts.join(" "))
                }
                Action::Suspend { wipe_data, .. } => format!(" wipe={wipe_data}"),
                Action::Remove { options, .. } => {
                    let mode = match options.mode {
                        RemoveMode::Plain => "Plain",
                        RemoveMode::Transfer { .. } => "Transfer",
                        RemoveMode::KeepAccount => "KeepAccount",
                    };
                    format!(" wipe={} {mode}", options.wipe_data)
                }
                Action::RenameGroup { name, .. } => format!(" -> {name}"),
                _ => String::new(),
            };
            format!("{} {}{}", op.action.verb(), op.target, detail)
        })
        .collect()
}

#[test]
fn every_case_file_plans_as_written() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", dir.display());
    for path in paths {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let desired: DesiredState = serde_json::from_value(case["desired"].clone()).unwrap();
        let actual: ActualState = serde_json::from_value(case["actual"].clone()).unwrap();
        let policy: Policy = serde_json::from_value(case["policy"].clone()).unwrap();
        let plan = plan(&desired, &actual, &policy).unwrap();
        let expected: Vec<String> = serde_json::from_value(case["ops"].clone()).unwrap();
        assert_eq!(case_ops(&plan), expected, "{}", path.display());
        if let Some(render) = case["render"].as_str() {
            assert_eq!(plan.render(), render, "{}", path.display());
        }
        if let Some(expected) = case.get("warnings") {
            let kinds: Vec<Value> = serde_json::to_value(&plan.warnings)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["kind"].clone())
                .collect();
            assert_eq!(&Value::Array(kinds), expected, "{}", path.display());
        }
        if let Some(Value::Object(expected)) = case.get("stats") {
            let stats = serde_json::to_value(plan.stats).unwrap();
            for (name, value) in expected {
                assert_eq!(&stats[name], value, "stats.{name} in {}", path.display());
            }
        }
    }
}
