//! The simple JSON shape an HR export maps to easily: people and groups, each listing the
//! groups it is a direct member of. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use teamsync_core::{DesiredState, DirectoryGroup, DirectoryUser, SourceId, SourceIssue};

use super::{SourceError, source_id};

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
pub(crate) fn desired_from_simple(
    simple: SimpleDirectory,
    user_roots: &[String],
    group_roots: &[String],
) -> Result<DesiredState, SourceError> {
    let mut issues = Vec::new();
    // Group name (case-insensitive) -> id.
    let mut group_ids: BTreeMap<String, SourceId> = BTreeMap::new();
    for group in &simple.groups {
        let id = source_id(group.id.as_deref().unwrap_or(&group.name), "group id")?;
        if group_ids.insert(group.name.to_lowercase(), id).is_some() {
            return Err(SourceError::Json(format!(
                "group name {:?} appears twice",
                group.name
            )));
        }
    }
    let lookup = |name: &str| group_ids.get(&name.to_lowercase()).cloned();
    let mut members: BTreeMap<SourceId, Vec<SourceId>> = BTreeMap::new();
    for group in &simple.groups {
        let id = lookup(&group.name)
            .ok_or_else(|| SourceError::Json(format!("group {:?} lost its id", group.name)))?;
        for parent in &group.groups {
            match lookup(parent) {
                Some(parent_id) => members.entry(parent_id).or_default().push(id.clone()),
                None => issues.push(SourceIssue {
                    entry: format!("group {:?}", group.name),
                    problem: format!("member of unknown group {parent:?}"),
                    id: Some(id.clone()),
                    email: None,
                }),
            }
        }
    }
    let mut users = Vec::with_capacity(simple.people.len());
    let mut seen: BTreeSet<SourceId> = BTreeSet::new();
    for person in simple.people {
        let id = source_id(&person.id, "person id")?;
        if !seen.insert(id.clone()) {
            issues.push(SourceIssue {
                entry: format!("person {:?}", person.id),
                problem: "duplicate id".into(),
                id: Some(id),
                email: None,
            });
            continue;
        }
        for group in &person.groups {
            match lookup(group) {
                Some(group_id) => members.entry(group_id).or_default().push(id.clone()),
                None => issues.push(SourceIssue {
                    entry: format!("person {:?}", person.id),
                    problem: format!("member of unknown group {group:?}"),
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
            .map(|n| lookup(n).ok_or_else(|| SourceError::RootNotFound(n.clone())))
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
    let deleted = simple
        .deleted
        .iter()
        .map(|d| source_id(d, "deleted id"))
        .collect::<Result<_, _>>()?;
    Ok(DesiredState {
        user_roots,
        group_roots,
        users,
        groups,
        deleted,
        issues,
    })
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
    fn simple_json_rejects_unknown_keys() {
        let err = serde_json::from_str::<SimpleDirectory>(
            r#"{"people":[{"id":"1","email":"a@x","mail":"x"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `mail`"), "{err}");
    }
}
