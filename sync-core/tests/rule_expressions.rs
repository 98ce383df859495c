//! Rules as expressions (`teamsync_core::rules`): scope, group selection and naming, mappings
//! (always / on_create), matching, failures that hold one user, and the errors a bad rule gives
//! when it is compiled.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::*;
use teamsync_core::rules::{RuleError, Rules, RulesConfig};
use teamsync_core::*;

use MemberStatus::{Active, Invited, Suspended};

/// A policy with the rules of a TOML `[rules]` table.
fn with_rules(toml_rules: &str) -> Policy {
    let config: RulesConfig = toml::from_str(toml_rules).unwrap();
    Policy::default().with_rules(Rules::compile(config).unwrap())
}

fn compile_err(toml_rules: &str) -> RuleError {
    let config: RulesConfig = toml::from_str(toml_rules).unwrap();
    Rules::compile(config).unwrap_err()
}

fn with_attrs(mut u: DirectoryUser, attrs: &[(&str, &str)]) -> DirectoryUser {
    for (k, v) in attrs {
        u.attributes.insert((*k).to_owned(), (*v).to_owned());
    }
    u
}

fn reasons(p: &Plan) -> Vec<String> {
    p.operations
        .iter()
        .map(|op| format!("{} {}: {}", op.action.verb(), op.target, op.reason))
        .collect()
}

/// Ann (Sales), Bob (Contractor, Sales), Cat (Engineering); Ann and Bob on the team.
fn sales_world() -> (DesiredState, ActualState) {
    let d = directory(
        vec![
            with_attrs(
                user("ann", "ann@x.com", "Ann", "Lee"),
                &[("department", "Sales"), ("title", "Manager")],
            ),
            with_attrs(
                user("bob", "bob@x.com", "Bob", "Ray"),
                &[("department", "Sales"), ("title", "Contractor (Acme)")],
            ),
            with_attrs(
                user("cat", "cat@x.com", "Cat", "Fox"),
                &[("department", "Engineering"), ("title", "Engineer")],
            ),
        ],
        vec![],
        &["ann", "bob", "cat"],
    );
    let a = team(
        vec![
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
            managed("dbmid:bob", "bob", "bob@x.com", "Bob", "Ray", Active),
        ],
        vec![],
    );
    (d, a)
}

// ---- scope ----

#[test]
fn without_rules_everyone_reachable_is_in_scope() {
    let (d, a) = sales_world();
    assert_eq!(
        ops(&plan_ok(&d, &a, &Policy::default())),
        ["invite cat@x.com (teamsync:cat Cat Fox)"]
    );
}

#[test]
fn an_include_rule_keeps_only_matching_users() {
    let (d, a) = sales_world();
    let p = plan_ok(
        &d,
        &a,
        &with_rules("[[scope]]\nname = \"sales\"\ninclude = 'user.department == \"Sales\"'\n"),
    );
    assert!(ops(&p).is_empty(), "{:?}", ops(&p));
    assert_eq!(p.stats.users_in_scope, 2);

    // Cat is on the team: she leaves scope, and the reason names the rule.
    let (d, mut a) = sales_world();
    a.members.push(managed(
        "dbmid:cat",
        "cat",
        "cat@x.com",
        "Cat",
        "Fox",
        Active,
    ));
    let p = plan_ok(
        &d,
        &a,
        &with_rules("[[scope]]\nname = \"sales\"\ninclude = 'user.department == \"Sales\"'\n"),
    );
    assert_eq!(
        reasons(&p),
        [
            r#"suspend cat@x.com: left the directory's user scope: not included by any scope rule ("sales")"#
        ]
    );
}

#[test]
fn an_exclude_rule_names_itself_in_the_deprovision() {
    let (d, a) = sales_world();
    let p = plan_ok(
        &d,
        &a,
        &with_rules(
            "[[scope]]\nname = \"no-contractors\"\nexclude = 'user.title.startsWith(\"Contractor\")'\n",
        ),
    );
    assert_eq!(
        reasons(&p),
        [
            "invite cat@x.com: in scope in the directory (id cat), not on the team",
            r#"suspend bob@x.com: left the directory's user scope: excluded by scope rule "no-contractors""#,
        ]
    );
}

#[test]
fn include_and_exclude_combine() {
    let (d, a) = sales_world();
    let rules = "[[scope]]\nname = \"sales\"\ninclude = 'user.department == \"Sales\"'\n\
                 [[scope]]\nname = \"no-contractors\"\nexclude = 'user.title.startsWith(\"Contractor\")'\n";
    let p = plan_ok(&d, &a, &with_rules(rules));
    assert_eq!(ops(&p), ["suspend bob@x.com wipe=true"]);
    assert_eq!(p.stats.users_in_scope, 1);
}

#[test]
fn scope_rules_see_groups_through_nesting() {
    // Cat is in "Contractors", nested in "External"; the rule names the outer group.
    let (mut d, mut a) = sales_world();
    d.groups.push(group("g-ext", "External", &["g-con"]));
    d.groups.push(group("g-con", "Contractors", &["cat"]));
    a.members.push(managed(
        "dbmid:cat",
        "cat",
        "cat@x.com",
        "Cat",
        "Fox",
        Active,
    ));
    let p = plan_ok(
        &d,
        &a,
        &(with_rules(
            "[[scope]]\nname = \"no-externals\"\nexclude = '\"External\" in user.groups'\n",
        ))
        .with_group_sync(GroupSync::Off),
    );
    assert_eq!(
        reasons(&p),
        [
            r#"suspend cat@x.com: left the directory's user scope: excluded by scope rule "no-externals""#
        ]
    );
}

#[test]
fn a_rule_change_that_deprovisions_many_is_caught_by_the_guard() {
    let users: Vec<DirectoryUser> = (0..40)
        .map(|i| {
            with_attrs(
                user(&format!("u{i}"), &format!("u{i}@x.com"), "U", "V"),
                &[("department", "Ops")],
            )
        })
        .collect();
    let ids: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let d = directory(users, vec![], &refs);
    let a = team(
        (0..40)
            .map(|i| {
                managed(
                    &format!("dbmid:{i}"),
                    &format!("u{i}"),
                    &format!("u{i}@x.com"),
                    "U",
                    "V",
                    Active,
                )
            })
            .collect(),
        vec![],
    );
    // A typo'd department: 39 of 40 would be suspended.
    let mut d2 = d.clone();
    d2.users[0]
        .attributes
        .insert("department".into(), "Sales".into());
    let p = plan_ok(
        &d2,
        &a,
        &with_rules("[[scope]]\nname = \"sales\"\ninclude = 'user.department == \"Sales\"'\n"),
    );
    assert_eq!(p.guard.deprovisions, 39);
    assert!(p.guard.needs_permission());
    assert!(warning_kinds(&p).contains(&WarningKind::GuardLimit));
}

// ---- failures hold one user ----

#[test]
fn a_failing_expression_holds_that_user_and_changes_nobody_else() {
    // Bob has no title: the exclude rule fails for him. Bob's surname changed, so did Ann's.
    let (mut d, a) = sales_world();
    d.users[1].attributes.remove("title");
    d.users[1].surname = "Changed".into();
    d.users[0].surname = "Changed".into();
    let p = plan_ok(
        &d,
        &a,
        &with_rules(
            "[[scope]]\nname = \"no-contractors\"\nexclude = 'user.title.startsWith(\"Contractor\")'\n",
        ),
    );
    assert_eq!(
        ops(&p),
        [
            "invite cat@x.com (teamsync:cat Cat Fox)",
            "update profile ann@x.com surname=Changed"
        ]
    );
    let issue = p
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::SourceIssue)
        .unwrap();
    assert_eq!(issue.subject, "id bob");
    assert!(
        issue
            .message
            .contains(r#"scope rule "no-contractors" failed"#)
            && issue.message.contains("title"),
        "{}",
        issue.message
    );
    let held = p
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::HeldMember)
        .unwrap();
    assert_eq!(held.subject, "bob@x.com");
}

#[test]
fn a_rule_giving_a_non_bool_or_a_mapping_giving_a_non_string_holds_the_user() {
    let (d, a) = sales_world();
    let p = plan_ok(
        &d,
        &a,
        &with_rules("[[scope]]\nname = \"odd\"\ninclude = 'user.department'\n"),
    );
    assert!(ops(&p).is_empty());
    assert_eq!(
        p.warnings
            .iter()
            .filter(|w| w.kind == WarningKind::SourceIssue)
            .count(),
        3
    );
    assert!(p.warnings.iter().any(|w| {
        w.message
            .contains(r#"scope rule "odd" gave a string, not true or false"#)
    }));

    let p = plan_ok(
        &d,
        &a,
        &with_rules("[mapping]\nsurname = { expr = 'size(user.surname)' }\n"),
    );
    assert!(ops(&p).is_empty(), "{:?}", ops(&p));
    assert!(p.warnings.iter().any(|w| {
        w.message
            .contains(r#"mapping "surname" gave a number, not a string"#)
    }));
}

#[test]
fn has_guards_a_missing_attribute() {
    let (mut d, a) = sales_world();
    d.users[1].attributes.remove("title");
    let p = plan_ok(
        &d,
        &a,
        &with_rules(
            "[[scope]]\nname = \"no-contractors\"\nexclude = 'has(user.title) && user.title.startsWith(\"Contractor\")'\n",
        ),
    );
    assert_eq!(ops(&p), ["invite cat@x.com (teamsync:cat Cat Fox)"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

// ---- mappings ----

#[test]
fn an_always_mapping_is_used_for_invites_and_updates_and_named() {
    let d = directory(
        vec![
            with_attrs(user("ann", "", "Ann", "Lee"), &[("uid", "alee")]),
            with_attrs(user("bob", "bob@x.com", "Bob", "Ray"), &[("uid", "bray")]),
        ],
        vec![],
        &["ann", "bob"],
    );
    let a = team(
        vec![managed(
            "dbmid:bob",
            "bob",
            "bob@x.com",
            "Bob",
            "Ray",
            Active,
        )],
        vec![],
    );
    let rules = "[mapping]\nemail = { expr = 'user.uid + \"@corp.example\"', when = \"always\" }\n";
    let p = plan_ok(&d, &a, &with_rules(rules));
    assert_eq!(
        ops(&p),
        [
            "invite alee@corp.example (teamsync:ann Ann Lee)",
            "update profile bob@x.com email=bray@corp.example"
        ]
    );
    assert!(
        p.operations[1].reason.ends_with(r#"(mapping "email")"#),
        "{}",
        p.operations[1].reason
    );
}

#[test]
fn the_issue_example_mapping_falls_back_when_mail_is_empty() {
    let d = directory(
        vec![
            with_attrs(
                user("ann", "", "Ann", "Lee"),
                &[("mail", ""), ("sAMAccountName", "alee")],
            ),
            with_attrs(
                user("bob", "", "Bob", "Ray"),
                &[("mail", "bob@x.com"), ("sAMAccountName", "bray")],
            ),
        ],
        vec![],
        &["ann", "bob"],
    );
    let rules = "[mapping]\nemail = { expr = 'user.mail != \"\" ? user.mail : user.sAMAccountName + \"@corp.example\"' }\n";
    let p = plan_ok(&d, &ActualState::default(), &with_rules(rules));
    assert_eq!(
        ops(&p),
        [
            "invite alee@corp.example (teamsync:ann Ann Lee)",
            "invite bob@x.com (teamsync:bob Bob Ray)"
        ]
    );
}

#[test]
fn an_on_create_mapping_sets_new_members_only() {
    // The given name comes from `nickname` on invite; Bob's member keeps his name on the team.
    let d = directory(
        vec![
            with_attrs(
                user("ann", "ann@x.com", "Annabel", "Lee"),
                &[("nickname", "Ann")],
            ),
            with_attrs(
                user("bob", "bob@x.com", "Robert", "Ray"),
                &[("nickname", "Bobby")],
            ),
        ],
        vec![],
        &["ann", "bob"],
    );
    let a = team(
        vec![managed(
            "dbmid:bob",
            "bob",
            "bob@x.com",
            "Bob",
            "Ray",
            Active,
        )],
        vec![],
    );
    let rules = "[mapping]\ngiven_name = { expr = 'user.nickname', when = \"on_create\" }\nsurname = { expr = 'user.surname.upperAscii()' }\n";
    let p = plan_ok(&d, &a, &with_rules(rules));
    assert_eq!(
        ops(&p),
        [
            "invite ann@x.com (teamsync:ann Ann LEE)",
            "update profile bob@x.com surname=RAY"
        ]
    );
    assert!(
        p.operations[1].reason.ends_with(r#"(mapping "surname")"#),
        "{}",
        p.operations[1].reason
    );
}

// ---- groups ----

fn grouped_world() -> (DesiredState, ActualState) {
    let d = directory(
        vec![
            user("ann", "ann@x.com", "Ann", "Lee"),
            user("bob", "bob@x.com", "Bob", "Ray"),
        ],
        vec![
            group("g1", "team-red", &["ann"]),
            group("g2", "all-staff", &["ann", "bob"]),
        ],
        &["ann", "bob", "g1", "g2"],
    );
    let a = team(
        vec![
            managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
            managed("dbmid:bob", "bob", "bob@x.com", "Bob", "Ray", Active),
        ],
        vec![],
    );
    (d, a)
}

#[test]
fn group_rules_choose_the_synced_groups() {
    let (d, a) = grouped_world();
    let p = plan_ok(
        &d,
        &a,
        &with_rules(
            "[[groups]]\nname = \"teams-only\"\ninclude = 'group.name.matches(\"^team-\")'\n",
        ),
    );
    assert_eq!(
        ops(&p),
        ["create group team-red", "add to group team-red: ann@x.com"]
    );

    // A managed group the rules exclude is emptied, naming the rule.
    let mut a2 = a.clone();
    a2.groups.push(team_group(
        "g:2",
        "all-staff",
        Some("teamsync:g2"),
        &["dbmid:ann", "dbmid:bob"],
    ));
    let p = plan_ok(
        &d,
        &a2,
        &with_rules(
            "[[groups]]\nname = \"no-all-staff\"\nexclude = 'group.name == \"all-staff\"'\n",
        ),
    );
    let r = reasons(&p);
    assert!(
        r.contains(&r#"remove from group all-staff: bob@x.com: excluded by group rule "no-all-staff"; on_group_leave = empty"#.to_owned()),
        "{r:?}"
    );
}

#[test]
fn the_group_name_is_an_expression() {
    let (d, mut a) = grouped_world();
    a.groups.push(team_group(
        "g:1",
        "team-red",
        Some("teamsync:g1"),
        &["dbmid:ann"],
    ));
    let p = plan_ok(&d, &a, &with_rules("group_name = '\"AD \" + group.name'\n"));
    assert_eq!(
        ops(&p),
        [
            "create group AD all-staff",
            "rename group AD team-red -> AD team-red",
            "add to group AD all-staff: ann@x.com",
            "add to group AD all-staff: bob@x.com"
        ]
    );
    assert!(
        p.operations[1].reason.contains("group_name rule"),
        "{}",
        p.operations[1].reason
    );
}

// ---- matching ----

/// A team provisioned by Entra's Dropbox app: external ids `azure:<object id>`, names as Entra
/// wrote them, some suspended; teamsync has written nothing yet.
fn entra_world() -> (DesiredState, ActualState) {
    let d = directory(
        vec![
            user(
                "0f8fad5b-d9cb-469f-a165-70867728950e",
                "ann.lee@x.com",
                "Ann",
                "Lee",
            ),
            user(
                "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                "bob.ray@x.com",
                "Robert",
                "Ray",
            ),
            user(
                "9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47",
                "cat@x.com",
                "Cat",
                "Fox",
            ),
        ],
        vec![],
        &[
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47",
        ],
    );
    let a = team(
        vec![
            // Differing address and names: found by external id, not by email.
            member(
                "dbmid:a",
                "alee@x.com",
                Some("azure:0f8fad5b-d9cb-469f-a165-70867728950e"),
                "ann",
                "LEE",
                Active,
            ),
            member(
                "dbmid:b",
                "bob.ray@x.com",
                Some("azure:7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                "Bob",
                "Ray",
                Active,
            ),
            member(
                "dbmid:c",
                "cat@x.com",
                Some("azure:9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47"),
                "Cat",
                "Fox",
                Invited,
            ),
        ],
        vec![],
    );
    (d, a)
}

#[test]
fn an_entra_provisioned_team_is_adopted_by_external_id_without_invites_or_suspensions() {
    let (d, a) = entra_world();
    // Without a match rule, Ann's address differs: she would be invited anew, and the foreign
    // members are left alone.
    let before = plan_ok(&d, &a, &Policy::default());
    assert!(
        ops(&before)
            .iter()
            .any(|o| o.starts_with("invite ann.lee@x.com")),
        "{:?}",
        ops(&before)
    );

    let rules = "[[match]]\nname = \"entra\"\nby = \"external_id\"\nexpr = '\"azure:\" + user.id'\n[[match]]\nname = \"email\"\nby = \"email\"\n";
    let p = plan_ok(&d, &a, &with_rules(rules));
    assert_eq!(
        ops(&p),
        [
            "adopt member alee@x.com email=ann.lee@x.com given=Ann surname=Lee external_id=teamsync:0f8fad5b-d9cb-469f-a165-70867728950e",
            "adopt member bob.ray@x.com given=Robert external_id=teamsync:7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "adopt member cat@x.com external_id=teamsync:9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47",
        ]
    );
    assert!(
        p.operations
            .iter()
            .all(|op| op.reason.contains(r#"by match rule "entra""#)),
        "{:?}",
        reasons(&p)
    );
    assert_eq!(p.guard.deprovisions, 0);
    // Saved and applied later, the plan passes the saved-plan ownership check.
    assert!(saved::ownership_refusals(&p, &a, &with_rules(rules)).is_empty());

    // Applied, the team is teamsync's: the next plan is empty.
    let memory = teamsync_core::memory::MemoryTeam::with_state(a);
    let outcome =
        futures::executor::block_on(apply(&p, &memory, &ApplyOptions::default())).unwrap();
    assert!(outcome.is_success());
    let next = plan_ok(&d, &memory.state(), &with_rules(rules));
    assert!(next.is_empty(), "{:?}", ops(&next));
}

#[test]
fn match_rules_go_in_precedence_order() {
    // Cat's address is held by an unmanaged member and her Entra member carries another address.
    let (d, mut a) = entra_world();
    a.members[2].email = Email::parse("cat.old@x.com").unwrap();
    a.members
        .push(member("dbmid:z", "cat@x.com", None, "Cat", "Fox", Active));
    let by_email_first = "[[match]]\nname = \"email\"\nby = \"email\"\n[[match]]\nname = \"entra\"\nby = \"external_id\"\nexpr = '\"azure:\" + user.id'\n";
    let p = plan_ok(&d, &a, &with_rules(by_email_first));
    let cat: Vec<String> = ops(&p)
        .into_iter()
        .filter(|o| o.contains("teamsync:9b2e"))
        .collect();
    assert_eq!(
        cat,
        ["adopt member cat@x.com external_id=teamsync:9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47"]
    );

    let by_id_first = "[[match]]\nname = \"entra\"\nby = \"external_id\"\nexpr = '\"azure:\" + user.id'\n[[match]]\nname = \"email\"\nby = \"email\"\n";
    let p = plan_ok(&d, &a, &with_rules(by_id_first));
    let cat: Vec<String> = ops(&p)
        .into_iter()
        .filter(|o| o.contains("teamsync:9b2e"))
        .collect();
    // The invited Entra member is taken over; its address waits (cat@x.com is another member's).
    assert_eq!(
        cat,
        ["adopt member cat.old@x.com external_id=teamsync:9b2e4f2c-1d7a-4b8e-9c3f-2a6b8d0e1f47"]
    );
}

#[test]
fn without_an_email_rule_a_taken_address_is_not_invited() {
    let (d, mut a) = entra_world();
    a.members[0].external_id = Some("azure:someone-else".into());
    a.members[0].email = Email::parse("ann.lee@x.com").unwrap();
    let p = plan_ok(
        &d,
        &a,
        &with_rules(
            "[[match]]\nname = \"entra\"\nby = \"external_id\"\nexpr = '\"azure:\" + user.id'\n",
        ),
    );
    assert!(
        !ops(&p).iter().any(|o| o.starts_with("invite")),
        "{:?}",
        ops(&p)
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.kind == WarningKind::EmailTaken
                && w.message.contains("no match rule matched"))
    );
}

// ---- compiling ----

#[test]
fn a_syntax_error_names_the_rule_and_the_position() {
    let e = compile_err("[[scope]]\nname = \"broken\"\ninclude = 'user.department == '\n");
    assert_eq!(e.rule, r#"scope rule "broken""#);
    assert_eq!(e.position.map(|(line, _)| line), Some(1));
    assert!(
        e.to_string()
            .starts_with(r#"scope rule "broken", line 1 column "#),
        "{e}"
    );
}

#[test]
fn an_unknown_name_is_an_error_with_its_position() {
    let e = compile_err("[[scope]]\nname = \"typo\"\ninclude = 'usr.department == \"Sales\"'\n");
    assert_eq!(
        (e.rule.as_str(), e.position),
        (r#"scope rule "typo""#, Some((1, 1)))
    );
    assert!(e.message.contains("unknown name `usr`"), "{e}");

    let e = compile_err("[[groups]]\nname = \"g\"\ninclude = 'user.department == \"x\"'\n");
    assert!(e.message.contains("sees `group`, not `user`"), "{e}");

    let e = compile_err("group_name = '\"AD \" + group.title'\n");
    assert_eq!(e.position, Some((1, 14))); // at `.title`
    assert!(e.message.contains("id and name"), "{e}");

    // Comprehension variables are known inside their macro.
    let config: RulesConfig = toml::from_str(
        "[[scope]]\nname = \"x\"\ninclude = 'user.groups.exists(g, g.startsWith(\"S\"))'\n",
    )
    .unwrap();
    Rules::compile(config).unwrap();
}

#[test]
fn malformed_rules_are_refused() {
    for (rules, needle) in [
        (
            "[[scope]]\nname = \"x\"\n",
            "exactly one of include and exclude",
        ),
        (
            "[[scope]]\nname = \"x\"\ninclude = 'true'\nexclude = 'false'\n",
            "exactly one of include and exclude",
        ),
        ("[[scope]]\nname = \"\"\ninclude = 'true'\n", "needs a name"),
        (
            "[[scope]]\nname = \"x\"\ninclude = 'true'\n[[scope]]\nname = \"x\"\nexclude = 'false'\n",
            "unique",
        ),
        (
            "[[match]]\nname = \"m\"\nby = \"external_id\"\n",
            "needs an expr",
        ),
        (
            "[[match]]\nname = \"m\"\nby = \"email\"\nexpr = 'user.id'\n",
            "takes no expr",
        ),
        ("[mapping]\nemail = { expr = '' }\n", "empty"),
        (
            "[[scope]]\nname = \"x\"\ninclude = 'user.exists(k, k == \"a\")'\n",
            "cannot be iterated",
        ),
    ] {
        let e = compile_err(rules);
        assert!(e.to_string().contains(needle), "{rules}: {e}");
    }
    assert!(toml::from_str::<RulesConfig>("[[scope]]\nname = \"x\"\nincldue = 'true'\n").is_err());
    assert!(
        toml::from_str::<RulesConfig>(
            "[mapping]\nemail = { expr = 'user.mail', when = \"sometimes\" }\n"
        )
        .is_err()
    );
}

#[test]
fn a_policy_with_rules_deserializes_compiled_and_refuses_a_bad_rule() {
    let p: Policy = toml::from_str(
        "on_leave = \"remove\"\n[[rules.scope]]\nname = \"s\"\ninclude = 'user.enabled'\n[rules.mapping]\nemail = { expr = 'user.mail' }\n",
    )
    .unwrap();
    assert!(!p.rules.is_empty());
    assert_eq!(
        p.rules.user_attributes().into_iter().collect::<Vec<_>>(),
        ["mail"]
    );
    let e = toml::from_str::<Policy>(
        "on_leave = \"remove\"\n\n[[rules.scope]]\nname = \"s\"\ninclude = 'user.enabled &&'\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains(r#"scope rule "s", line 1"#), "{e}");
    // The TOML parser places it too: the rules table starts on line 3 of the document.
    assert!(
        e.to_string().starts_with("TOML parse error at line 3"),
        "{e}"
    );
    // Round trip: serialized as written.
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p);
    assert!(
        !serde_json::to_string(&Policy::default())
            .unwrap()
            .contains("rules")
    );
}

#[test]
fn rules_do_not_change_a_plan_when_they_keep_everything() {
    let (d, a) = sales_world();
    let rules = "[[scope]]\nname = \"all\"\ninclude = 'user.enabled || !user.enabled'\n[mapping]\nemail = { expr = 'user.email' }\n";
    assert_eq!(
        plan_ok(&d, &a, &with_rules(rules)),
        plan_ok(&d, &a, &Policy::default())
    );
    let _ = (Suspended, Invited);
}
