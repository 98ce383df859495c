//! The simple JSON shape an HR export maps to easily: people and groups, each listing the
//! groups it is a direct member of. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};
use teamsync_core::text::quoted;

use serde::Deserialize;
use teamsync_core::{DesiredState, DirectoryGroup, DirectoryUser, SourceId, SourceIssue};

use super::{SourceError, shown_id as shown};

/// The simple JSON shape an HR export maps to easily: people and groups, each listing the
/// groups it is a direct member of (so nesting is a group listing its parent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleDirectory {
    /// Names of the groups whose transitive members are in user scope (the config's
    /// `user_roots` replace them when given).
    #[serde(default)]
    pub user_roots: Vec<String>,
    /// Names of the groups whose descendant groups are synced (policy `group_sync = "group_roots"`).
    #[serde(default)]
    pub group_roots: Vec<String>,
    /// The groups.
    #[serde(default)]
    pub groups: Vec<SimpleGroup>,
    /// The people.
    pub people: Vec<SimplePerson>,
    /// Ids of people deleted from the source (a leaver's record removed from HR).
    #[serde(default)]
    pub deleted: Vec<String>,
}

/// A group of [`SimpleDirectory`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleGroup {
    /// Name, mirrored as the Dropbox group name; unique.
    pub name: String,
    /// Immutable id; the name when omitted (then a rename is a new group).
    #[serde(default)]
    pub id: Option<String>,
    /// Names of the groups this group is a direct member of.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A person of [`SimpleDirectory`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimplePerson {
    /// Immutable id (an employee number), never an email.
    pub id: String,
    /// Email address.
    pub email: String,
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Last name.
    #[serde(default)]
    pub surname: String,
    /// False for a disabled account.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Names of the groups this person is a direct member of.
    #[serde(default)]
    pub groups: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// Which JSON shape a document has: the simple list has `people`, the core's
/// [`DesiredState`] has `users`.
pub(crate) fn is_simple_json(value: &serde_json::Value) -> bool {
    value.get("people").is_some()
}

/// The simple shape to a [`DesiredState`]. `user_roots`/`group_roots` (group names), when not
/// empty, replace the file's own.
///
/// Bad entries are held, not fatal (issue 11): a person whose id is empty or longer than
/// [`SourceId::MAX_LEN`] is skipped, and a team member with its email is left as it is; a
/// group whose name several groups share, or whose id is unusable, is skipped with every
/// group and person beneath it (the file names groups by name, so their place in the tree is
/// unknown), and they are left as they are on the team until the file is fixed. Only a root
/// that is such a group fails the read: the scope itself would be unknown.
pub(crate) fn desired_from_simple(
    simple: SimpleDirectory,
    user_roots: &[String],
    group_roots: &[String],
) -> Result<DesiredState, SourceError> {
    let mut issues = Vec::new();
    // Group name (case-insensitive) -> the groups carrying it.
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, group) in simple.groups.iter().enumerate() {
        by_name
            .entry(group.name.to_lowercase())
            .or_default()
            .push(i);
    }
    // Usable names -> id; unusable names -> why, for what lies beneath them.
    let mut group_ids: BTreeMap<String, SourceId> = BTreeMap::new();
    let mut unusable: BTreeMap<String, String> = BTreeMap::new();
    for (key, carriers) in &by_name {
        let first = &simple.groups[carriers[0]];
        if carriers.len() > 1 {
            let ids: Vec<String> = carriers
                .iter()
                .map(|&i| quoted(&shown(group_id_text(&simple.groups[i]))))
                .collect();
            for &i in carriers {
                let group = &simple.groups[i];
                issues.push(SourceIssue {
                    entry: format!("group {}", quoted(&group.name)),
                    problem: format!(
                        "{} groups are named {} (ids {}); groups are named by name in this file, \
                         so none of them is synced and what is in them is left as it is until the name is made unique",
                        carriers.len(),
                        quoted(&first.name),
                        ids.join(", ")
                    ),
                    id: SourceId::new(group_id_text(group)).ok(),
                    email: None,
                });
            }
            unusable.insert(
                key.clone(),
                format!(
                    "{} groups share the name {}",
                    carriers.len(),
                    quoted(&first.name)
                ),
            );
            continue;
        }
        match SourceId::new(group_id_text(first)) {
            Ok(id) => {
                group_ids.insert(key.clone(), id);
            }
            Err(e) => {
                issues.push(SourceIssue {
                    entry: format!(
                        "group {} (id {})",
                        quoted(&first.name),
                        quoted(&shown(group_id_text(first)))
                    ),
                    problem: format!(
                        "{e}; this group is skipped, and what is in it is left as it is"
                    ),
                    id: None,
                    email: None,
                });
                unusable.insert(
                    key.clone(),
                    format!("group {} has an unusable id", quoted(&first.name)),
                );
            }
        }
    }
    // Groups beneath an unusable name (through their parents), with the name they are beneath.
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for group in &simple.groups {
        for parent in &group.groups {
            children
                .entry(parent.to_lowercase())
                .or_default()
                .push(group.name.to_lowercase());
        }
    }
    let mut beneath: BTreeMap<String, String> = BTreeMap::new();
    let mut queue: Vec<(String, String)> =
        unusable.keys().map(|k| (k.clone(), k.clone())).collect();
    while let Some((key, origin)) = queue.pop() {
        for child in children.get(&key).into_iter().flatten() {
            if !unusable.contains_key(child) && !beneath.contains_key(child) {
                beneath.insert(child.clone(), origin.clone());
                queue.push((child.clone(), origin.clone()));
            }
        }
    }
    // Why a group (by key) cannot be used, if it cannot.
    let held_because = |key: &str| -> Option<String> {
        unusable.get(key).cloned().or_else(|| {
            beneath
                .get(key)
                .map(|origin| format!("beneath a skipped group: {}", unusable[origin]))
        })
    };
    for (key, origin) in &beneath {
        let Some(id) = group_ids.remove(key) else {
            continue;
        };
        let name = &simple.groups[by_name[key][0]].name;
        issues.push(SourceIssue {
            entry: format!("group {}", quoted(name)),
            problem: format!(
                "it is beneath a group that is skipped ({}); this group is skipped too, and what is in it is left as it is",
                unusable[origin]
            ),
            id: Some(id),
            email: None,
        });
    }
    let lookup = |name: &str| group_ids.get(&name.to_lowercase()).cloned();
    let mut members: BTreeMap<SourceId, Vec<SourceId>> = BTreeMap::new();
    for group in &simple.groups {
        let Some(id) = lookup(&group.name) else {
            continue; // skipped above, with an issue
        };
        for parent in &group.groups {
            match lookup(parent) {
                Some(parent_id) => members.entry(parent_id).or_default().push(id.clone()),
                None => issues.push(SourceIssue {
                    entry: format!("group {}", quoted(&group.name)),
                    problem: format!("member of unknown group {}", quoted(parent)),
                    id: Some(id.clone()),
                    email: None,
                }),
            }
        }
    }
    let mut users = Vec::with_capacity(simple.people.len());
    let mut seen: BTreeSet<SourceId> = BTreeSet::new();
    'people: for person in simple.people {
        let email = person.email.trim();
        let id = match SourceId::new(&person.id) {
            Ok(id) => id,
            Err(e) => {
                let entry = if email.is_empty() {
                    format!("person with id {}", quoted(&shown(&person.id)))
                } else {
                    format!("person {email} (id {})", quoted(&shown(&person.id)))
                };
                issues.push(SourceIssue {
                    entry,
                    problem: format!(
                        "{e}; this entry is skipped, and a team member with its email is left as it is"
                    ),
                    id: None,
                    email: (!email.is_empty()).then(|| email.to_owned()),
                });
                continue;
            }
        };
        if !seen.insert(id.clone()) {
            issues.push(SourceIssue {
                entry: format!("person {}", quoted(&person.id)),
                problem: "duplicate id".into(),
                id: Some(id),
                email: None,
            });
            continue;
        }
        for group in &person.groups {
            if let Some(why) = held_because(&group.to_lowercase()) {
                issues.push(SourceIssue {
                    entry: format!("person {}", person.id),
                    problem: format!(
                        "in group {}, which is skipped ({why}); this person is left as it is",
                        quoted(group)
                    ),
                    id: Some(id),
                    email: (!email.is_empty()).then(|| email.to_owned()),
                });
                continue 'people;
            }
        }
        for group in &person.groups {
            match lookup(group) {
                Some(group_id) => members.entry(group_id).or_default().push(id.clone()),
                None => issues.push(SourceIssue {
                    entry: format!("person {}", quoted(&person.id)),
                    problem: format!("member of unknown group {}", quoted(group)),
                    id: Some(id.clone()),
                    email: None,
                }),
            }
        }
        let mut user = DirectoryUser::new(id, person.email, person.given_name, person.surname);
        user.enabled = person.enabled;
        user.locator = Some(format!("person {}", person.id));
        users.push(user);
    }
    let groups = simple
        .groups
        .iter()
        .filter_map(|g| lookup(&g.name).map(|id| (g, id)))
        .map(|(g, id)| DirectoryGroup {
            members: members.remove(&id).unwrap_or_default(),
            id,
            name: g.name.clone(),
            locator: Some(format!("group {}", g.name)),
        })
        .collect();
    let resolve_roots = |names: &[String]| -> Result<Vec<SourceId>, SourceError> {
        names
            .iter()
            .map(|n| {
                if let Some(why) = held_because(&n.to_lowercase()) {
                    return Err(SourceError::Json(format!(
                        "root group {} cannot be used ({why}): the scope is unknown, so nothing is planned",
                        quoted(n)
                    )));
                }
                lookup(n).ok_or_else(|| SourceError::RootNotFound(n.clone()))
            })
            .collect()
    };
    let user_roots = resolve_roots(if user_roots.is_empty() {
        &simple.user_roots
    } else {
        user_roots
    })?;
    let group_roots = resolve_roots(if group_roots.is_empty() {
        &simple.group_roots
    } else {
        group_roots
    })?;
    let mut deleted = Vec::with_capacity(simple.deleted.len());
    for text in &simple.deleted {
        match SourceId::new(text) {
            Ok(id) => deleted.push(id),
            Err(e) => issues.push(SourceIssue {
                entry: format!("deleted id {}", quoted(&shown(text))),
                problem: format!("{e}; it names nobody, so it is ignored"),
                id: None,
                email: None,
            }),
        }
    }
    Ok(DesiredState {
        user_roots,
        group_roots,
        users,
        groups,
        deleted,
        issues,
    })
}

/// A group's id as written: its own, else its name.
fn group_id_text(group: &SimpleGroup) -> &str {
    group.id.as_deref().unwrap_or(&group.name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn simple_json_nests_groups_and_reports_unknown_ones() {
        let simple: SimpleDirectory = serde_json::from_str(
            r#"{"user_roots":["All"],
                "groups":[{"name":"All"},{"name":"Eng","groups":["All"]},{"name":"Ops","id":"g-ops","groups":["Eng","Ghost"]}],
                "people":[{"id":"1","email":"a@x.test","given_name":"A","surname":"One","groups":["Ops"]},
                          {"id":"2","email":"b@x.test","enabled":false,"groups":["All"]}],
                "deleted":["9"]}"#,
        )
        .unwrap();
        let state = desired_from_simple(simple, &[], &[]).unwrap();
        let id = |s: &str| SourceId::new(s).unwrap();
        assert_eq!(state.user_roots, vec![id("All")]);
        let all = state.groups.iter().find(|g| g.name == "All").unwrap();
        assert_eq!(all.members, vec![id("Eng"), id("2")]);
        let eng = state.groups.iter().find(|g| g.name == "Eng").unwrap();
        assert_eq!(eng.members, vec![id("g-ops")]);
        assert!(!state.users[1].enabled);
        assert_eq!(state.deleted, vec![id("9")]);
        assert_eq!(state.issues.len(), 1);
        assert!(state.issues[0].problem.contains("Ghost"));
    }

    #[test]
    fn simple_json_config_roots_replace_and_must_exist() {
        let simple: SimpleDirectory = serde_json::from_str(
            r#"{"user_roots":["All"],"groups":[{"name":"All"},{"name":"Eng"}],"people":[]}"#,
        )
        .unwrap();
        assert_eq!(
            desired_from_simple(simple.clone(), &["eng".into()], &[])
                .unwrap()
                .user_roots,
            vec![SourceId::new("Eng").unwrap()]
        );
        assert_eq!(
            desired_from_simple(simple, &["Sales".into()], &[]).unwrap_err(),
            SourceError::RootNotFound("Sales".into())
        );
    }

    #[test]
    fn an_unusable_person_id_is_held_by_its_email() {
        let long = "9".repeat(65);
        let simple: SimpleDirectory = serde_json::from_str(&format!(
            r#"{{"user_roots":["All"],"groups":[{{"name":"All"}}],
                "people":[{{"id":"1","email":"a@x.test","groups":["All"]}},
                          {{"id":"{long}","email":"Bob@x.test","groups":["All"]}},
                          {{"id":"","email":"c@x.test","groups":["All"]}}],
                "deleted":["{long}"]}}"#
        ))
        .unwrap();
        let state = desired_from_simple(simple, &[], &[]).unwrap();
        assert_eq!(state.users.len(), 1);
        assert_eq!(state.deleted, Vec::<SourceId>::new());
        assert_eq!(state.issues.len(), 3, "{:?}", state.issues);
        assert_eq!(state.issues[0].email.as_deref(), Some("Bob@x.test"));
        assert!(
            state.issues[0]
                .entry
                .starts_with("person Bob@x.test (id \"999")
        );
        assert!(
            state.issues[0].entry.ends_with("…\")"),
            "{}",
            state.issues[0].entry
        );
        assert!(state.issues[0].problem.contains("at most 64 characters"));
        assert_eq!(state.issues[1].email.as_deref(), Some("c@x.test"));
        assert!(state.issues[2].entry.starts_with("deleted id"));
    }

    #[test]
    fn a_shared_group_name_skips_those_groups_and_holds_what_is_beneath() {
        let simple: SimpleDirectory = serde_json::from_str(
            r#"{"user_roots":["All"],
                "groups":[{"name":"All"},{"name":"Eng","id":"g1","groups":["All"]},
                          {"name":"eng","id":"g2","groups":["All"]},
                          {"name":"Platform","groups":["Eng"]},{"name":"Sales","groups":["All"]}],
                "people":[{"id":"1","email":"a@x.test","groups":["Sales"]},
                          {"id":"2","email":"b@x.test","groups":["Eng"]},
                          {"id":"3","email":"c@x.test","groups":["Platform","Sales"]}]}"#,
        )
        .unwrap();
        let state = desired_from_simple(simple.clone(), &[], &[]).unwrap();
        let id = |s: &str| SourceId::new(s).unwrap();
        let names: Vec<_> = state.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["All", "Sales"]);
        assert_eq!(state.users.len(), 1);
        let held: Vec<_> = state.issues.iter().map(|i| i.id.clone().unwrap()).collect();
        assert_eq!(held, [id("g1"), id("g2"), id("Platform"), id("2"), id("3")]);
        assert!(
            state.issues[0]
                .problem
                .contains("2 groups are named \"Eng\" (ids \"g1\", \"g2\")"),
            "{}",
            state.issues[0].problem
        );
        assert!(
            state.issues[2]
                .problem
                .contains("beneath a group that is skipped")
        );
        assert_eq!(state.issues[3].email.as_deref(), Some("b@x.test"));
        // A root with a shared name leaves the scope unknown: the read fails, naming it.
        let err = desired_from_simple(simple, &["eng".into()], &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("root group \"eng\" cannot be used"),
            "{err}"
        );
    }

    #[test]
    fn simple_json_rejects_unknown_keys() {
        let err = serde_json::from_str::<SimpleDirectory>(
            r#"{"people":[{"id":"1","email":"a@x","mail":"x"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `mail`"), "{err}");
    }
}
