//! The rules' pass before planning: a pure function from the directory snapshot (and the team,
//! to know which users already have a member) to what the rules change in it, by index, plus
//! what the planner needs to name the rules in its operations. The snapshot itself is not
//! copied: the planner reads it through these overrides.
//!
//! * Users the scope rules take out are dropped: the planner sees them exactly as if the
//!   directory had not returned them; their members leave scope with the rule named.
//! * Mappings replace email and names.
//! * A user an expression fails for stays untouched, with a [`SourceIssue`] carrying its id:
//!   the planner holds it as it holds a malformed entry.

use crate::text::quoted;
use std::collections::hash_map::Entry;

use cel::Value;
use rustc_hash::{FxHashMap, FxHashSet};

use super::MappingWhen;
use super::compile::{Compiled, Field, Predicate, eval};
use super::values::{GroupVal, UserResolver, UserVal};
use crate::model::{ActualState, DesiredState, DirectoryUser, SourceId, SourceIssue};
use crate::policy::{GroupSync, Policy};

/// What the rules change in the snapshot, by index, and what the planner needs to name them.
#[derive(Debug, Default)]
pub(crate) struct RuleEffects {
    /// Users the scope rules took out, by index in `DesiredState::users` (empty when none is):
    /// the planner sees them as if the directory had not returned them.
    pub(crate) dropped: Vec<bool>,
    /// Mapped fields by user index, by [`field_slot`] (`None`: the directory's value); empty
    /// without mappings.
    pub(crate) fields: Vec<[Option<String>; 3]>,
    /// Entries an expression failed for, held like the source's own issues (which come first).
    pub(crate) issues: Vec<SourceIssue>,
    /// The group_name rule's names, by index in `DesiredState::groups` (`None`: the
    /// directory's); empty without that rule.
    pub(crate) group_names: Vec<Option<String>>,
    /// Users the scope rules took out, by id: why, naming the rule.
    pub(crate) excluded_users: FxHashMap<String, String>,
    /// Groups the group rules took out of sync, by id: why, naming the rule.
    pub(crate) excluded_groups: FxHashMap<String, String>,
    /// Groups an expression failed for: neither synced nor cleaned up.
    pub(crate) held_groups: Vec<String>,
    /// Fields mapped `on_create`: never changed on an existing member.
    pub(crate) on_create: [bool; 3],
    /// Fields a mapping writes, by [`field_slot`].
    pub(crate) mapped: [bool; 3],
    /// Match rules in precedence order: the name, and for an external-id rule each user's value
    /// (by index in `DesiredState::users`; `None` when not evaluated).
    pub(crate) matchers: Vec<(String, Option<Vec<Option<String>>>)>,
    /// The group name is an expression.
    pub(crate) group_named: bool,
    /// Live team members whose external id is not teamsync's, by external id (by index in
    /// `ActualState::members`): what external-id match rules look in.
    pub(crate) members_by_external: FxHashMap<String, u32>,
}

pub(crate) fn field_slot(field: Field) -> usize {
    match field {
        Field::Email => 0,
        Field::GivenName => 1,
        Field::Surname => 2,
    }
}

impl RuleEffects {
    /// ` (mapping "email", mapping "surname")` for the mapped fields among `changed`, or "".
    pub(crate) fn mapping_note(&self, changed: [bool; 3]) -> String {
        let names: Vec<String> = [Field::Email, Field::GivenName, Field::Surname]
            .into_iter()
            .filter(|&f| changed[field_slot(f)] && self.mapped[field_slot(f)])
            .map(|f| format!("mapping {}", quoted(f.key())))
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    }
}

/// Outcome of the include/exclude rules for one record.
enum Verdict {
    In,
    Out(String),
    Failed(String),
}

fn verdict(
    rules: &[Predicate],
    kind: &str,
    mut eval: impl FnMut(&Predicate) -> Result<Value, String>,
) -> Verdict {
    let includes: Vec<&Predicate> = rules.iter().filter(|p| !p.exclude).collect();
    if !includes.is_empty() {
        let mut included = false;
        for p in &includes {
            match eval(p) {
                Ok(Value::Bool(true)) => {
                    included = true;
                    break;
                }
                Ok(Value::Bool(false)) => {}
                Ok(other) => {
                    return Verdict::Failed(format!(
                        "{kind} {} gave {}, not true or false",
                        quoted(&p.name),
                        kind_of(&other)
                    ));
                }
                Err(e) => {
                    return Verdict::Failed(format!("{kind} {} failed: {e}", quoted(&p.name)));
                }
            }
        }
        if !included {
            let names: Vec<String> = includes.iter().map(|p| quoted(&p.name)).collect();
            return Verdict::Out(format!("not included by any {kind} ({})", names.join(", ")));
        }
    }
    for p in rules.iter().filter(|p| p.exclude) {
        match eval(p) {
            Ok(Value::Bool(true)) => {
                return Verdict::Out(format!("excluded by {kind} {}", quoted(&p.name)));
            }
            Ok(Value::Bool(false)) => {}
            Ok(other) => {
                return Verdict::Failed(format!(
                    "{kind} {} gave {}, not true or false",
                    quoted(&p.name),
                    kind_of(&other)
                ));
            }
            Err(e) => return Verdict::Failed(format!("{kind} {} failed: {e}", quoted(&p.name))),
        }
    }
    Verdict::In
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Bool(_) => "a bool",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        Value::Null => "null",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        _ => "a value of another type",
    }
}

fn string_result(
    r: Result<Value, String>,
    label: impl FnOnce() -> String,
) -> Result<String, String> {
    match r {
        Ok(Value::String(s)) => Ok(s.to_string()),
        Ok(other) => Err(format!(
            "{} gave {}, not a string",
            label(),
            kind_of(&other)
        )),
        Err(e) => Err(format!("{} failed: {e}", label())),
    }
}

fn locator(u: &DirectoryUser) -> String {
    u.locator.clone().unwrap_or_else(|| format!("id {}", u.id))
}

/// The directory's nesting, read upwards and downwards.
struct Graph<'a> {
    group_index: FxHashMap<&'a str, usize>,
    user_index: FxHashMap<&'a str, usize>,
    /// User ids held by more than one record.
    duplicate_users: Vec<&'a str>,
}

impl<'a> Graph<'a> {
    fn new(d: &'a DesiredState) -> Self {
        let mut group_index = FxHashMap::default();
        for (i, g) in d.groups.iter().enumerate() {
            group_index.entry(g.id.as_str()).or_insert(i);
        }
        let mut user_index = FxHashMap::default();
        user_index.reserve(d.users.len());
        let mut duplicate_users = Vec::new();
        // The first record of an id is the one its memberships resolve to.
        for (i, u) in d.users.iter().enumerate() {
            match user_index.entry(u.id.as_str()) {
                Entry::Occupied(_) => duplicate_users.push(u.id.as_str()),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        Graph {
            group_index,
            user_index,
            duplicate_users,
        }
    }

    /// Groups reachable from `roots`, roots included, as a mark per group.
    fn reachable(&self, d: &DesiredState, roots: &[SourceId]) -> Vec<bool> {
        let mut seen = vec![false; d.groups.len()];
        let mut stack: Vec<usize> = roots
            .iter()
            .filter_map(|r| self.group_index.get(r.as_str()).copied())
            .collect();
        for &g in &stack {
            seen[g] = true;
        }
        while let Some(g) = stack.pop() {
            for m in &d.groups[g].members {
                if let Some(&sub) = self.group_index.get(m.as_str()) {
                    if !seen[sub] {
                        seen[sub] = true;
                        stack.push(sub);
                    }
                }
            }
        }
        seen
    }
}

/// For every user, the sorted names of the groups it is in, directly or through nesting.
fn user_groups<'a>(d: &'a DesiredState, graph: &Graph<'a>, wanted: &[bool]) -> Vec<Vec<&'a str>> {
    let mut user_parents: Vec<Vec<u32>> = vec![Vec::new(); d.users.len()];
    let mut group_parents: Vec<Vec<u32>> = vec![Vec::new(); d.groups.len()];
    for (gi, g) in d.groups.iter().enumerate() {
        if graph.group_index.get(g.id.as_str()) != Some(&gi) {
            continue; // a duplicate id: the planner skips it
        }
        for m in &g.members {
            if let Some(&ui) = graph.user_index.get(m.as_str()) {
                user_parents[ui].push(gi as u32);
            } else if let Some(&sub) = graph.group_index.get(m.as_str()) {
                group_parents[sub].push(gi as u32);
            }
        }
    }
    let mut mark = vec![0u32; d.groups.len()];
    let mut stamp = 0u32;
    let mut stack: Vec<u32> = Vec::new();
    let mut out = vec![Vec::new(); d.users.len()];
    for ui in 0..d.users.len() {
        if !wanted[ui] {
            continue;
        }
        // Later duplicates of an id share the first record's memberships.
        let first = graph
            .user_index
            .get(d.users[ui].id.as_str())
            .copied()
            .unwrap_or(ui);
        stamp += 1;
        let mut names: Vec<&'a str> = Vec::new();
        stack.clear();
        for &g in &user_parents[first] {
            if mark[g as usize] != stamp {
                mark[g as usize] = stamp;
                stack.push(g);
            }
        }
        while let Some(g) = stack.pop() {
            names.push(d.groups[g as usize].name.as_str());
            for &p in &group_parents[g as usize] {
                if mark[p as usize] != stamp {
                    mark[p as usize] = stamp;
                    stack.push(p);
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        out[ui] = names;
    }
    out
}

/// Applies `rules` to the snapshot. Pure: the same inputs give the same output.
pub(crate) fn prepare(
    d: &DesiredState,
    actual: &ActualState,
    policy: &Policy,
    rules: &Compiled,
) -> RuleEffects {
    let graph = Graph::new(d);
    let mut effects = RuleEffects::default();
    for m in &rules.mappings {
        effects.mapped[field_slot(m.field)] = true;
        effects.on_create[field_slot(m.field)] = m.when == MappingWhen::OnCreate;
    }
    effects.group_named = rules.group_name.is_some();

    // Users the roots reach: the only ones the rules are evaluated for.
    let user_groups_reach = graph.reachable(d, &d.user_roots);
    let mut reachable_user = vec![false; d.users.len()];
    for (gi, g) in d.groups.iter().enumerate() {
        if !user_groups_reach[gi] {
            continue;
        }
        for m in &g.members {
            if let Some(&ui) = graph.user_index.get(m.as_str()) {
                reachable_user[ui] = true;
            }
        }
    }
    let groups_of = if rules.needs_user_groups {
        user_groups(d, &graph, &reachable_user)
    } else {
        vec![Vec::new(); d.users.len()]
    };
    // Entries the planner holds anyway (a source issue, a duplicated id) pass through as read:
    // dropping one record of a duplicated id would end the hold on the other.
    let mut already_held: FxHashSet<&str> = d
        .issues
        .iter()
        .filter_map(|i| i.id.as_ref().map(SourceId::as_str))
        .collect();
    already_held.extend(graph.duplicate_users.iter().copied());
    let prefix = policy.external_id_prefix.as_str();
    let owned: FxHashSet<&str> = if rules.matching.iter().any(|m| m.external_id.is_some()) {
        actual
            .members
            .iter()
            .filter_map(|m| m.external_id.as_deref()?.strip_prefix(prefix))
            .collect()
    } else {
        FxHashSet::default()
    };

    if rules.matching.iter().any(|m| m.external_id.is_some()) {
        for (mi, m) in actual.members.iter().enumerate() {
            let Some(x) = m.external_id.as_deref() else {
                continue;
            };
            if m.status.is_removed() || x.starts_with(prefix) {
                continue;
            }
            // Two members with one external id: the smaller Dropbox id, so the plan is stable.
            let entry = effects
                .members_by_external
                .entry(x.to_owned())
                .or_insert(mi as u32);
            if actual.members[*entry as usize].team_member_id > m.team_member_id {
                *entry = mi as u32;
            }
        }
    }
    if !rules.mappings.is_empty() {
        effects.fields = vec![Default::default(); d.users.len()];
    }
    let mut match_values: Vec<Vec<Option<String>>> = rules
        .matching
        .iter()
        .map(|_| vec![None; d.users.len()])
        .collect();
    for (ui, u) in d.users.iter().enumerate() {
        if !reachable_user[ui] || (!already_held.is_empty() && already_held.contains(u.id.as_str()))
        {
            continue;
        }
        let subject = UserVal {
            user: u,
            groups: &groups_of[ui],
        };
        let outcome = evaluate_user(rules, subject, owned.contains(u.id.as_str()));
        match outcome {
            UserOutcome::Out(reason) => {
                if effects.dropped.is_empty() {
                    effects.dropped = vec![false; d.users.len()];
                }
                effects.dropped[ui] = true;
                effects
                    .excluded_users
                    .insert(u.id.as_str().to_owned(), reason);
            }
            UserOutcome::Failed(problem) => {
                effects.issues.push(SourceIssue {
                    entry: locator(u),
                    problem: format!(
                        "{problem}; this user is left as it is until the rule or the entry is fixed"
                    ),
                    id: Some(u.id.clone()),
                    email: None,
                });
            }
            UserOutcome::In { mapped, match_ids } => {
                for (field, value) in mapped {
                    effects.fields[ui][field_slot(field)] = Some(value);
                }
                for (values, id) in match_values.iter_mut().zip(match_ids) {
                    values[ui] = id;
                }
            }
        }
    }
    effects.matchers = rules
        .matching
        .iter()
        .zip(match_values)
        .map(|(m, values)| (m.name.clone(), m.external_id.as_ref().map(|_| values)))
        .collect();

    // Groups: the rules see the groups group sync would reach, roots excluded.
    let sync_roots: &[SourceId] = match policy.group_sync {
        GroupSync::Off => &[],
        GroupSync::UserRoots => &d.user_roots,
        GroupSync::GroupRoots => &d.group_roots,
    };
    let synced = if rules.groups.is_empty() && rules.group_name.is_none() {
        vec![false; d.groups.len()]
    } else {
        graph.reachable(d, sync_roots)
    };
    let roots: FxHashSet<&str> = sync_roots.iter().map(SourceId::as_str).collect();
    if rules.group_name.is_some() {
        effects.group_names = vec![None; d.groups.len()];
    }
    for (gi, g) in d.groups.iter().enumerate() {
        if synced[gi] && !roots.contains(g.id.as_str()) {
            let ctx = rules.group_context(GroupVal { group: g });
            let label = g
                .locator
                .clone()
                .unwrap_or_else(|| format!("group {}", quoted(&g.name)));
            match verdict(&rules.groups, "group rule", |p| eval(&ctx, &p.program)) {
                Verdict::In => {
                    if let Some(program) = &rules.group_name {
                        match string_result(eval(&ctx, program), || {
                            "the group_name rule".to_owned()
                        }) {
                            Ok(name) => effects.group_names[gi] = Some(name),
                            Err(problem) => {
                                effects.issues.push(SourceIssue {
                                    entry: label,
                                    problem: format!("{problem}; this group is left as it is"),
                                    id: None,
                                    email: None,
                                });
                                effects.held_groups.push(g.id.as_str().to_owned());
                            }
                        }
                    }
                }
                Verdict::Out(reason) => {
                    effects
                        .excluded_groups
                        .insert(g.id.as_str().to_owned(), reason);
                }
                Verdict::Failed(problem) => {
                    effects.issues.push(SourceIssue {
                        entry: label,
                        problem: format!("{problem}; this group is left as it is"),
                        id: None,
                        email: None,
                    });
                    effects.held_groups.push(g.id.as_str().to_owned());
                }
            }
        }
    }
    effects
}

enum UserOutcome {
    In {
        mapped: Vec<(Field, String)>,
        match_ids: Vec<Option<String>>,
    },
    Out(String),
    Failed(String),
}

fn evaluate_user(rules: &Compiled, subject: UserVal<'_>, owned: bool) -> UserOutcome {
    // One context for all of this user's expressions.
    let resolver = UserResolver { user: subject };
    let ctx = rules.user_context(&resolver);
    match verdict(&rules.scope, "scope rule", |p| eval(&ctx, &p.program)) {
        Verdict::In => {}
        Verdict::Out(reason) => return UserOutcome::Out(reason),
        Verdict::Failed(problem) => return UserOutcome::Failed(problem),
    }
    let mut mapped = Vec::with_capacity(rules.mappings.len());
    for m in &rules.mappings {
        match string_result(eval(&ctx, &m.program), || {
            format!("mapping {}", quoted(m.field.key()))
        }) {
            Ok(value) => mapped.push((m.field, value)),
            Err(problem) => return UserOutcome::Failed(problem),
        }
    }
    let mut match_ids = Vec::with_capacity(rules.matching.len());
    for m in &rules.matching {
        match (&m.external_id, owned) {
            (Some(program), false) => {
                match string_result(eval(&ctx, program), || {
                    format!("match rule {}", quoted(&m.name))
                }) {
                    Ok(id) => match_ids.push(Some(id)),
                    Err(problem) => return UserOutcome::Failed(problem),
                }
            }
            _ => match_ids.push(None),
        }
    }
    UserOutcome::In { mapped, match_ids }
}
