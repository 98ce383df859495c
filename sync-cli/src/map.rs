//! Pure mapping from the file sources' shapes to the core's model: LDIF text to LDAP entries
//! (then the same assembly as `sync-ldap`), and the simple JSON people/groups list to a
//! [`DesiredState`]. No I/O and no clock ("now" is an argument).

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use base64::Engine as _;
use serde::Deserialize;
use teamsync_core::{DesiredState, DirectoryGroup, DirectoryUser, SourceId, SourceIssue};
use teamsync_ldap::Profile;
use teamsync_ldap::map::{RawEntry, ReadEntries};

/// Why a file source could not become a [`DesiredState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The text is not valid LDIF; names the line.
    #[error("LDIF line {line}: {problem}")]
    Ldif {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The JSON does not have a supported shape.
    #[error("JSON: {0}")]
    Json(String),
    /// A root group named in the config or the file does not exist.
    #[error("root group {0:?} was not found in the source")]
    RootNotFound(String),
}

/// Parses LDIF content records (RFC 2849): folded lines, `::` base64 values, comments,
/// `version:` and `changetype: add`. Attribute names are lower-cased by [`RawEntry`]; options
/// (`;binary`) are dropped. `:<` URL values are refused: a sync source must be self-contained.
pub fn parse_ldif(text: &str) -> Result<Vec<RawEntry>, SourceError> {
    // Unfold first, remembering the line each logical line started on.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix(' ') {
            match logical.last_mut() {
                Some((_, previous)) if !previous.is_empty() => previous.push_str(rest),
                _ => {
                    return Err(SourceError::Ldif {
                        line: index + 1,
                        problem: "continuation line with nothing to continue".into(),
                    });
                }
            }
        } else {
            logical.push((index + 1, line.to_owned()));
        }
    }
    let mut entries = Vec::new();
    let mut current: Option<RawEntry> = None;
    for (line_no, line) in logical {
        if line.is_empty() {
            if let Some(entry) = current.take() {
                entries.push(entry);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((name, rest)) = line.split_once(':') else {
            return Err(SourceError::Ldif {
                line: line_no,
                problem: format!("expected `attribute: value`, found {line:?}"),
            });
        };
        let value: Vec<u8> = if let Some(encoded) = rest.strip_prefix(':') {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| SourceError::Ldif {
                    line: line_no,
                    problem: format!("invalid base64 value of {name}: {e}"),
                })?
        } else if rest.starts_with('<') {
            return Err(SourceError::Ldif {
                line: line_no,
                problem: format!("URL values (`{name}:<`) are not supported"),
            });
        } else {
            rest.trim_start().as_bytes().to_vec()
        };
        let name = name.split(';').next().unwrap_or(name).trim();
        match current.as_mut() {
            None if name.eq_ignore_ascii_case("version") => {}
            None if name.eq_ignore_ascii_case("dn") => {
                let dn = String::from_utf8(value).map_err(|_| SourceError::Ldif {
                    line: line_no,
                    problem: "the DN is not UTF-8".into(),
                })?;
                current = Some(RawEntry {
                    dn,
                    attrs: BTreeMap::new(),
                });
            }
            None => {
                return Err(SourceError::Ldif {
                    line: line_no,
                    problem: format!("an entry must start with `dn:`, found `{name}:`"),
                });
            }
            Some(_) if name.eq_ignore_ascii_case("changetype") => {
                if !value.eq_ignore_ascii_case(b"add") {
                    return Err(SourceError::Ldif {
                        line: line_no,
                        problem: "only content records (or `changetype: add`) describe a directory"
                            .into(),
                    });
                }
            }
            Some(entry) => entry.push_all(name, [value]),
        }
    }
    if let Some(entry) = current {
        entries.push(entry);
    }
    Ok(entries)
}

const GROUP_CLASSES: &[&str] = &["group", "groupofnames", "groupofuniquenames", "posixgroup"];
const USER_CLASSES: &[&str] = &[
    "person",
    "inetorgperson",
    "user",
    "posixaccount",
    "organizationalperson",
];

fn has_class(entry: &RawEntry, classes: &[&str]) -> bool {
    entry
        .texts("objectClass")
        .any(|c| classes.iter().any(|k| c.eq_ignore_ascii_case(k)))
}

/// The profile an LDIF export most likely came from: AD when entries carry `objectGUID`,
/// FreeIPA with `ipaUniqueID`, OpenLDAP otherwise.
pub fn guess_profile(entries: &[RawEntry]) -> Profile {
    if entries.iter().any(|e| !e.values("objectGUID").is_empty()) {
        Profile::active_directory()
    } else if entries.iter().any(|e| !e.values("ipaUniqueID").is_empty()) {
        Profile::free_ipa()
    } else {
        Profile::open_ldap()
    }
}

/// Resolves root names to DNs: a root may be given as a DN or as a group's name (its `cn`).
fn root_dns(
    roots: &[String],
    groups: &[RawEntry],
    profile: &Profile,
) -> Result<Vec<String>, SourceError> {
    roots
        .iter()
        .map(|root| {
            let wanted = teamsync_ldap::map::normalize_dn(root);
            groups
                .iter()
                .find(|g| teamsync_ldap::map::normalize_dn(&g.dn) == wanted)
                .or_else(|| {
                    groups.iter().find(|g| {
                        teamsync_ldap::map::group_name(g, profile).eq_ignore_ascii_case(root)
                    })
                })
                .map(|g| g.dn.clone())
                .ok_or_else(|| SourceError::RootNotFound(root.clone()))
        })
        .collect()
}

/// LDIF entries to a [`DesiredState`], with the same rules as a live LDAP read of `profile`
/// (ids, emails, names, disabled rules, nesting, cycles). Groups and users are told apart by
/// `objectClass`; computers are skipped.
pub fn desired_from_ldif(
    entries: Vec<RawEntry>,
    profile: &Profile,
    user_roots: &[String],
    group_roots: &[String],
    now: SystemTime,
) -> Result<DesiredState, SourceError> {
    let mut read = ReadEntries::default();
    for entry in entries {
        if has_class(&entry, GROUP_CLASSES) {
            read.groups.push(entry);
        } else if has_class(&entry, USER_CLASSES) && !has_class(&entry, &["computer"]) {
            read.users.push(entry);
        }
    }
    let user_root_dns = root_dns(user_roots, &read.groups, profile)?;
    let group_root_dns = root_dns(group_roots, &read.groups, profile)?;
    teamsync_ldap::map::assemble(profile, &user_root_dns, &group_root_dns, &read, now).map_err(
        |e| match e {
            teamsync_ldap::map::AssembleError::RootNotFound(dn) => SourceError::RootNotFound(dn),
            other => SourceError::Json(other.to_string()),
        },
    )
}

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
pub fn is_simple_json(value: &serde_json::Value) -> bool {
    value.get("people").is_some()
}

fn source_id(text: &str, what: &str) -> Result<SourceId, SourceError> {
    SourceId::new(text).map_err(|e| SourceError::Json(format!("{what} {text:?}: {e}")))
}

/// The simple shape to a [`DesiredState`]. `user_roots`/`group_roots` (group names), when not
/// empty, replace the file's own.
pub fn desired_from_simple(
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

/// A [`DesiredState`] document; `user_roots`/`group_roots` (ids), when not empty, replace the
/// file's own.
pub fn desired_from_state_json(
    text: &str,
    user_roots: &[String],
    group_roots: &[String],
) -> Result<DesiredState, SourceError> {
    let mut state: DesiredState =
        serde_json::from_str(text).map_err(|e| SourceError::Json(e.to_string()))?;
    let known: BTreeSet<&SourceId> = state.groups.iter().map(|g| &g.id).collect();
    let resolve = |names: &[String]| -> Result<Vec<SourceId>, SourceError> {
        names
            .iter()
            .map(|n| {
                let id = source_id(n, "root id")?;
                if known.contains(&id) {
                    Ok(id)
                } else {
                    Err(SourceError::RootNotFound(n.clone()))
                }
            })
            .collect()
    };
    let user = if user_roots.is_empty() {
        None
    } else {
        Some(resolve(user_roots)?)
    };
    let group = if group_roots.is_empty() {
        None
    } else {
        Some(resolve(group_roots)?)
    };
    if let Some(roots) = user {
        state.user_roots = roots;
    }
    if let Some(roots) = group {
        state.group_roots = roots;
    }
    Ok(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LDIF: &str = "version: 1\n\
# a comment\n\
dn: cn=staff,ou=groups,dc=ex\n\
objectClass: groupOfNames\n\
cn: staff\n\
entryUUID: 00000000-0000-0000-0000-0000000000g1\n\
member: cn=eng,ou=groups,dc=ex\n\
member: uid=ann,ou=people,dc=ex\n\
\n\
dn: cn=eng,ou=groups,dc=ex\n\
objectClass: groupOfNames\n\
cn: eng\n\
entryUUID: 00000000-0000-0000-0000-0000000000g2\n\
member: uid=bob,ou=people,dc=ex\n\
member: cn=staff,ou=groups,dc=ex\n\
\n\
dn: uid=ann,ou=people,dc=ex\n\
objectClass: inetOrgPerson\n\
uid: ann\n\
entryUUID: 00000000-0000-0000-0000-0000000000u1\n\
mail: ann@ex.test\n\
givenName: Ann\n\
sn:: TMOzcGV6\n\
\n\
dn: uid=bob,ou=people,dc=ex\n\
objectClass: inetOrgPerson\n\
uid: bob\n\
entryUUID: 00000000-0000-0000-0000-0000000000u2\n\
mail: bob@ex\n\
\x20.test\n\
givenName: Bob\n\
sn: Stone\n\
pwdAccountLockedTime: 000001010000Z\n\
\n\
dn: uid=nobody,ou=people,dc=ex\n\
objectClass: inetOrgPerson\n\
mail: nobody@ex.test\n";

    #[test]
    fn ldif_parses_folds_base64_and_comments() {
        let entries = parse_ldif(LDIF).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[2].first_text("sn"), Some("López"));
        assert_eq!(entries[3].first_text("mail"), Some("bob@ex.test"));
        assert_eq!(entries[0].texts("member").count(), 2);
    }

    #[test]
    fn ldif_errors_name_the_line() {
        let err = parse_ldif("dn: cn=a\nobjectClass group\n").unwrap_err();
        assert_eq!(
            err,
            SourceError::Ldif {
                line: 2,
                problem: "expected `attribute: value`, found \"objectClass group\"".into()
            }
        );
        let err = parse_ldif("cn: a\n").unwrap_err();
        assert!(matches!(err, SourceError::Ldif { line: 1, .. }));
        let err = parse_ldif("dn: cn=a\nphoto:< file:///etc/passwd\n").unwrap_err();
        assert!(matches!(err, SourceError::Ldif { line: 2, .. }));
    }

    #[test]
    fn ldif_becomes_state_with_nesting_cycle_and_disabled_user() {
        let entries = parse_ldif(LDIF).unwrap();
        let profile = guess_profile(&entries);
        assert_eq!(profile, Profile::open_ldap());
        let state = desired_from_ldif(
            entries,
            &profile,
            &["staff".into()],
            &[],
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            state.user_roots,
            vec![SourceId::new("00000000-0000-0000-0000-0000000000g1").unwrap()]
        );
        let by_mail: BTreeMap<&str, &DirectoryUser> =
            state.users.iter().map(|u| (u.email.as_str(), u)).collect();
        assert_eq!(by_mail["ann@ex.test"].surname, "López");
        assert!(!by_mail["bob@ex.test"].enabled, "ppolicy lock disables bob");
        assert_eq!(state.groups.len(), 2);
        // The entry without an id is reported, not guessed from its DN.
        assert!(!by_mail.contains_key("nobody@ex.test"));
        // A root given by DN works the same.
        let entries = parse_ldif(LDIF).unwrap();
        let by_dn = desired_from_ldif(
            entries,
            &profile,
            &["CN=Staff,OU=Groups,DC=ex".into()],
            &[],
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(by_dn.user_roots, state.user_roots);
        let entries = parse_ldif(LDIF).unwrap();
        assert_eq!(
            desired_from_ldif(
                entries,
                &profile,
                &["nope".into()],
                &[],
                SystemTime::UNIX_EPOCH
            )
            .unwrap_err(),
            SourceError::RootNotFound("nope".into())
        );
    }

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

    #[test]
    fn state_json_roots_override() {
        let text = r#"{"user_roots":["g1"],"groups":[{"id":"g1","name":"A"},{"id":"g2","name":"B"}],"users":[]}"#;
        assert_eq!(
            desired_from_state_json(text, &[], &[]).unwrap().user_roots,
            vec![SourceId::new("g1").unwrap()]
        );
        assert_eq!(
            desired_from_state_json(text, &["g2".into()], &[])
                .unwrap()
                .user_roots,
            vec![SourceId::new("g2").unwrap()]
        );
        assert!(matches!(
            desired_from_state_json(text, &["g3".into()], &[]),
            Err(SourceError::RootNotFound(_))
        ));
    }
}
