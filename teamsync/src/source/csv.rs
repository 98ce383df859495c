//! CSV exports (what HR systems produce most): one person a row, the columns named by the
//! header ([`CsvColumns`]). Groups come from the groups column (names, flat); roots from the
//! config.
//!
//! Bad rows never deprovision anyone: a row with an id but a bad value (an `enabled` that is
//! not a yes/no, a duplicate id) becomes an issue that holds that id; a row whose id is empty
//! or longer than 64 characters becomes an issue that holds the team member with its email
//! (issue 11); a group name too long to be an id skips that group. A row the parser cannot
//! read, or a root that cannot be used, fails the whole read (nothing is planned).

use std::collections::BTreeMap;

use teamsync_core::{DesiredState, DirectoryGroup, DirectoryUser, SourceId, SourceIssue};

use super::{SourceError, shown_id};
use crate::config::CsvColumns;

/// CSV text to a [`DesiredState`]; `user_roots`/`group_roots` are group names.
pub(crate) fn desired_from_csv(
    text: &str,
    columns: &CsvColumns,
    user_roots: &[String],
    group_roots: &[String],
) -> Result<DesiredState, SourceError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| SourceError::Csv {
            line: 1,
            problem: e.to_string(),
        })?
        .clone();
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let required = |name: &str, what: &str| {
        find(name).ok_or_else(|| SourceError::Csv {
            line: 1,
            problem: format!(
                "no {what} column: the header has no {} (name it in [directory.columns])",
                teamsync_core::text::quoted(name)
            ),
        })
    };
    let id_col = required(&columns.id, "id")?;
    let email_col = required(&columns.email, "email")?;
    let given_col = find(&columns.given_name);
    let surname_col = find(&columns.surname);
    let enabled_col = find(&columns.enabled);
    let groups_col = find(&columns.groups);

    let mut users = Vec::new();
    let mut issues = Vec::new();
    // Group name (case-insensitive) -> (name as first written, members).
    let mut groups: BTreeMap<String, (String, Vec<SourceId>)> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| SourceError::Csv {
            line: e.position().map_or(0, |p| p.line() as usize),
            problem: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
        let raw_id = cell(Some(id_col));
        let id = match SourceId::new(raw_id) {
            Ok(id) => id,
            Err(e) => {
                let email = cell(Some(email_col));
                issues.push(SourceIssue {
                    entry: format!("line {line} (id {})", teamsync_core::text::quoted(&shown_id(raw_id))),
                    problem: format!(
                        "the {} cell: {e}; this row is skipped, and a team member with its email is left as it is",
                        teamsync_core::text::quoted(&columns.id)
                    ),
                    id: None,
                    email: (!email.is_empty()).then(|| email.to_owned()),
                });
                continue;
            }
        };
        let entry = format!("line {line} (id {raw_id})");
        if let Some(first) = seen.insert(id.clone(), line) {
            issues.push(SourceIssue {
                entry,
                problem: format!("duplicate id (first on line {first})"),
                id: Some(id),
                email: None,
            });
            continue;
        }
        let enabled = match cell(enabled_col).to_ascii_lowercase().as_str() {
            "" | "true" | "yes" | "1" | "y" => true,
            "false" | "no" | "0" | "n" => false,
            other => {
                issues.push(SourceIssue {
                    entry,
                    problem: format!(
                        "{} is {}: not one of true/false, yes/no, 1/0",
                        teamsync_core::text::quoted(&columns.enabled),
                        teamsync_core::text::quoted(other)
                    ),
                    id: Some(id),
                    email: None,
                });
                continue;
            }
        };
        let separator = if columns.group_separator.is_empty() {
            ";"
        } else {
            columns.group_separator.as_str()
        };
        for name in cell(groups_col)
            .split(separator)
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            groups
                .entry(name.to_lowercase())
                .or_insert_with(|| (name.to_owned(), Vec::new()))
                .1
                .push(id.clone());
        }
        let mut user = DirectoryUser::new(
            id,
            cell(Some(email_col)),
            cell(given_col),
            cell(surname_col),
        );
        user.enabled = enabled;
        user.locator = Some(format!("line {line}"));
        users.push(user);
    }
    let mut directory_groups = Vec::with_capacity(groups.len());
    // Names that cannot be group ids (over 64 characters), and why.
    let mut unusable: BTreeMap<String, String> = BTreeMap::new();
    for (key, (name, members)) in groups {
        match SourceId::new(&name) {
            Ok(id) => directory_groups.push(DirectoryGroup {
                id,
                name,
                members,
                locator: None,
            }),
            Err(e) => {
                issues.push(SourceIssue {
                    entry: format!("group {}", teamsync_core::text::quoted(&shown_id(&name))),
                    problem: format!(
                        "the name is the group's id, and {e}; this group is skipped ({} people keep their other groups)",
                        members.len()
                    ),
                    id: None,
                    email: None,
                });
                unusable.insert(key, e.to_string());
            }
        }
    }
    let resolve = |names: &[String]| -> Result<Vec<SourceId>, SourceError> {
        names
            .iter()
            .map(|n| {
                if let Some(why) = unusable.get(&n.to_lowercase()) {
                    return Err(SourceError::Csv {
                        line: 1,
                        problem: format!(
                            "root group {} cannot be used (its name is its id, and {why}): the scope is unknown, so nothing is planned",
                            teamsync_core::text::quoted(n)
                        ),
                    });
                }
                directory_groups
                    .iter()
                    .find(|g| g.name.eq_ignore_ascii_case(n))
                    .map(|g| g.id.clone())
                    .ok_or_else(|| SourceError::RootNotFound(n.clone()))
            })
            .collect()
    };
    Ok(DesiredState {
        user_roots: resolve(user_roots)?,
        group_roots: resolve(group_roots)?,
        users,
        groups: directory_groups,
        deleted: Vec::new(),
        issues,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<DesiredState, SourceError> {
        desired_from_csv(text, &CsvColumns::default(), &["Staff".into()], &[])
    }

    #[test]
    fn rows_become_people_and_groups() {
        let state = read(
            "id,email,given_name,surname,enabled,groups\n\
             1,ann@ex.test,Ann,López,,Staff;Eng\n\
             2, bob@ex.test ,Bob,Stone,no,staff\n\
             3,\"cy@ex.test\",\"Cy, Jr\",Moss,yes,\n",
        )
        .unwrap();
        let id = |s: &str| SourceId::new(s).unwrap();
        assert_eq!(state.users.len(), 3);
        assert_eq!(state.users[1].email, "bob@ex.test");
        assert!(!state.users[1].enabled);
        assert_eq!(state.users[2].given_name, "Cy, Jr");
        let staff = state.groups.iter().find(|g| g.name == "Staff").unwrap();
        assert_eq!(staff.members, vec![id("1"), id("2")]);
        assert_eq!(state.user_roots, vec![id("Staff")]);
        assert!(state.issues.is_empty());
    }

    #[test]
    fn renamed_columns_and_missing_optional_ones() {
        let columns = CsvColumns {
            id: "Employee ID".into(),
            email: "Work Email".into(),
            groups: "Teams".into(),
            group_separator: "|".into(),
            ..CsvColumns::default()
        };
        let state = desired_from_csv(
            "Employee ID,Work Email,Teams\nE1,a@ex.test,All|Ops\n",
            &columns,
            &["all".into()],
            &["ops".into()],
        )
        .unwrap();
        assert_eq!(state.users[0].given_name, "");
        assert_eq!(state.groups.len(), 2);
        assert_eq!(state.group_roots, vec![SourceId::new("Ops").unwrap()]);
    }

    #[test]
    fn bad_rows_are_held_not_dropped() {
        let state = read(
            "id,email,enabled,groups\n1,a@ex.test,maybe,Staff\n2,b@ex.test,,Staff\n2,c@ex.test,,Staff\n",
        )
        .unwrap();
        let held: Vec<_> = state.issues.iter().map(|i| i.id.clone().unwrap()).collect();
        assert_eq!(
            held,
            vec![SourceId::new("1").unwrap(), SourceId::new("2").unwrap()]
        );
        assert!(
            state.issues[0].entry.contains("line 2"),
            "{:?}",
            state.issues
        );
        assert_eq!(state.users.len(), 1);
    }

    #[test]
    fn rows_with_an_unusable_id_hold_their_email_and_long_group_names_are_skipped() {
        let long = "x".repeat(65);
        let state = read(&format!(
            "id,email,groups\n1,a@ex.test,Staff\n,b@ex.test,Staff\n{long},c@ex.test,Staff\n4,d@ex.test,Staff;{long}\n"
        ))
        .unwrap();
        assert_eq!(state.users.len(), 2, "{:?}", state.issues);
        let held: Vec<_> = state
            .issues
            .iter()
            .filter_map(|i| i.email.as_deref())
            .collect();
        assert_eq!(held, ["b@ex.test", "c@ex.test"]);
        assert!(
            state.issues[0].entry.starts_with("line 3"),
            "{:?}",
            state.issues
        );
        assert!(state.issues[1].problem.contains("at most 64 characters"));
        assert!(
            state.issues[2].entry.starts_with("group \"xxx"),
            "{:?}",
            state.issues
        );
        assert_eq!(state.groups.len(), 1);
        let err = desired_from_csv(
            &format!("id,email,groups\n1,a@ex.test,{long}\n"),
            &CsvColumns::default(),
            std::slice::from_ref(&long),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot be used"), "{err}");
    }

    #[test]
    fn unreadable_rows_fail_the_read_naming_the_line() {
        let err = read("id,email,groups\n1,a@ex.test\n").unwrap_err();
        assert!(matches!(err, SourceError::Csv { line: 2, .. }), "{err}");
        let err = read("name,email\nx,a@ex.test\n").unwrap_err();
        assert!(err.to_string().contains("no id column"), "{err}");
        let err = read("id,email,groups\n1,a@ex.test,Eng\n").unwrap_err();
        assert_eq!(err, SourceError::RootNotFound("Staff".into()));
    }
}
