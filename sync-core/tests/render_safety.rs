//! Names from the directory cannot forge lines or reach the terminal as escape codes through the
//! rendered plan (issue 11); the JSON plan keeps them exact.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use teamsync_core::*;

#[test]
fn a_forged_group_name_and_an_escape_code_stay_inside_their_line() {
    let forged = "Eng\n2026-01-01T00:00:00Z teamsync[1] apply end: exit code 0 (success)";
    let d = directory(
        vec![user("ann", "ann@x.com", "Ann\u{1b}[2J", "Lee\u{202e}moc")],
        vec![group("eng", forged, &["ann"])],
        &["ann", "eng"],
    );
    let plan = plan_ok(&d, &team(vec![], vec![]), &Policy::default());
    let table = plan.render();
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(
        !table.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line reached the table:\n{table}"
    );
    assert!(table.contains("Eng\\n2026-01-01T00:00:00Z"), "{table}");
    // JSON is for programs: exact.
    assert!(
        plan.to_json()
            .contains("Eng\\n2026-01-01T00:00:00Z teamsync[1]")
    );
    let back = Plan::from_json(&plan.to_json()).unwrap();
    assert!(back.operations.iter().any(|op| op.target.contains(forged)));
}
