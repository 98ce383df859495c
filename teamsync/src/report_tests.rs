#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;
use teamsync_core::{ActualState, DesiredState, Policy};

/// A directory of `people` in scope (one of them named with markup and quotes), and a team
/// holding `leavers` managed members who are no longer in the directory.
fn plan_with(people: usize, leavers: usize) -> Plan {
    let mut users = Vec::new();
    let mut members = vec!["g1".to_owned()];
    for i in 0..people {
        let given = if i == 0 {
            r#"<script>alert("x")</script>"#.to_owned()
        } else {
            format!("Person{i}")
        };
        users.push(serde_json::json!({
            "id": format!("u{i}"), "email": format!("p{i}@corp.test"),
            "given_name": given, "surname": "O'Brien & \"Co\"",
        }));
        members.push(format!("u{i}"));
    }
    let desired: DesiredState = serde_json::from_value(serde_json::json!({
        "user_roots": ["root"],
        "users": users,
        "groups": [
            {"id": "root", "name": "Dropbox Users", "members": members},
            {"id": "g1", "name": "<img src=x onerror=alert(1)> & 'Ops'", "members": ["u0"]},
        ],
    }))
    .unwrap();
    let team_members: Vec<serde_json::Value> = (0..leavers)
        .map(|i| {
            serde_json::json!({
                "team_member_id": format!("dbmid:l{i}"), "email": format!("left{i}@corp.test"),
                "external_id": format!("teamsync:l{i}"), "given_name": "Left", "surname": format!("{i}"),
                "status": {"state": "active"},
            })
        })
        .collect();
    let actual: ActualState =
        serde_json::from_value(serde_json::json!({ "members": team_members })).unwrap();
    teamsync_core::plan(&desired, &actual, &Policy::default()).unwrap()
}

#[test]
fn directory_strings_are_escaped_and_never_reach_the_script() {
    let plan = plan_with(3, 0);
    let page = plan_html(
        &plan,
        &ReportContext::new().with_detail("Config", "/etc/<evil>\"'.toml"),
    );
    assert!(!page.contains("<script>alert"), "raw markup leaked");
    assert!(!page.contains("<img"), "raw markup leaked");
    assert!(page.contains("&lt;script&gt;alert("));
    assert!(page.contains(
        "<td class=\"target\">&lt;img src=x onerror=alert(1)&gt; &amp; &#39;Ops&#39;</td>"
    ));
    assert!(page.contains("O&#39;Brien &amp; Co"));
    assert!(page.contains("/etc/&lt;evil&gt;&quot;&#39;.toml"));
    // One script element only: the page's own.
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    let page = plan_html(&plan_with(2, 0), &ReportContext::new());
    assert!(page.contains("default-src 'none'"));
    let tags = [
        "<img",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "<script src",
    ];
    for needle in tags
        .into_iter()
        .chain(["http://", "https://", "@import", "url("])
    {
        assert!(!page.contains(needle), "the page refers to {needle}");
    }
}

#[test]
fn counts_by_phase_operations_reasons_and_consequences_are_shown() {
    let plan = plan_with(2, 1);
    let page = plan_html(&plan, &ReportContext::new());
    assert!(page.contains("id=\"count-total\">5<"), "{page}");
    assert!(page.contains("id=\"count-groups\">1<"));
    assert!(page.contains("id=\"count-provision\">2<"));
    assert!(page.contains("id=\"count-deprovision\">1<"));
    assert!(page.contains("id=\"count-withdraw\">0<"));
    assert!(page.contains("<td class=\"target\">left0@corp.test</td>"));
    assert!(page.contains("<td class=\"consequence\">devices wiped</td>"));
    assert!(page.contains("data-verdict=\"within-limits\""));
}

#[test]
fn a_plan_over_the_guard_names_the_exact_permission() {
    let plan = plan_with(1, 30);
    assert_eq!(permission_needed(&plan), Some(30));
    assert_eq!(
        guard_finding(&plan).unwrap(),
        "suspends 30 of 30 managed members (limit 25)"
    );
    let page = plan_html(&plan, &ReportContext::new());
    assert!(page.contains("data-verdict=\"needs-permission\""));
    assert!(page.contains("<code>teamsync apply --allow-deprovision 30</code>"));
}

#[test]
fn an_empty_plan_says_so() {
    let mut plan = plan_with(1, 0);
    plan.operations.clear();
    let page = plan_html(&plan, &ReportContext::new().with_title("Nightly"));
    assert!(page.contains("<h1>Nightly</h1>"));
    assert!(page.contains("id=\"count-total\">0<"));
    assert!(page.contains("No changes: the team matches the directory."));
}

#[test]
fn escape_covers_markup_quotes_and_control_characters() {
    assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    assert_eq!(escape("x\u{0}y\u{1b}[31m"), "x\u{FFFD}y\u{FFFD}[31m");
    assert_eq!(escape("tab\tnew\nline"), "tab\tnew\nline");
}

#[test]
fn the_same_plan_gives_the_same_page() {
    let plan = plan_with(5, 2);
    assert_eq!(
        plan_html(&plan, &ReportContext::new()),
        plan_html(&plan, &ReportContext::new())
    );
}
