//! LDIF files (RFC 2849 content records) as a directory source: parsed into the same entries a
//! live read yields, then mapped by the same rules ([`Profile`], nesting, disabled accounts).
//! Pure: no I/O and no clock ("now" is an argument).

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use teamsync_core::DesiredState;

use crate::config::Profile;
use crate::map::{RawEntry, ReadEntries};

/// Why LDIF text could not become a [`DesiredState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LdifError {
    /// The text is not valid LDIF; names the line.
    #[error("LDIF line {line}: {problem}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A root group named in the config does not exist in the file.
    #[error("root group {} was not found in the source", teamsync_core::text::quoted(.0))]
    RootNotFound(String),
    /// The entries could not be assembled.
    #[error("{0}")]
    Mapping(String),
}

/// An LDIF export to a [`DesiredState`]: `profile` gives the entry shapes (guessed from the
/// entries when `None`: AD with `objectGUID`, FreeIPA with `ipaUniqueID`, else OpenLDAP);
/// roots are group DNs or names (`cn`).
pub fn desired_from_ldif(
    text: &str,
    profile: Option<&Profile>,
    user_roots: &[String],
    group_roots: &[String],
    now: SystemTime,
) -> Result<DesiredState, LdifError> {
    let entries = parse_ldif(text)?;
    let guessed;
    let profile = match profile {
        Some(profile) => profile,
        None => {
            guessed = guess_profile(&entries);
            &guessed
        }
    };
    missing_ids(&entries, profile)?;
    desired_from_entries(entries, profile, user_roots, group_roots, now)
}

/// An export in which no entry has the id attribute was made without the operational
/// attributes (`ldapsearch` returns them only when asked with `+`): say how to export.
fn missing_ids(entries: &[RawEntry], profile: &Profile) -> Result<(), LdifError> {
    let id = profile.id_attribute.as_str();
    if entries.is_empty() || entries.iter().any(|e| !e.values(id).is_empty()) {
        return Ok(());
    }
    let operational =
        ["entryuuid", "nsuniqueid", "ipauniqueid"].contains(&id.to_ascii_lowercase().as_str());
    Err(LdifError::Mapping(if operational {
        format!(
            "no {id} in the export (the id attribute is an operational attribute, left out unless asked for): export with `ldapsearch -LLL … '*' +`"
        )
    } else {
        format!("no {id} in the export (the id attribute): export the entries with {id}")
    }))
}

/// Parses LDIF content records (RFC 2849): folded lines, `::` base64 values, comments,
/// `version:` and `changetype: add`. Attribute names are lower-cased by [`RawEntry`]; options
/// (`;binary`) are dropped. `:<` URL values are refused: a sync source must be self-contained.
pub(crate) fn parse_ldif(text: &str) -> Result<Vec<RawEntry>, LdifError> {
    // Unfold first, remembering the line each logical line started on.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix(' ') {
            match logical.last_mut() {
                Some((_, previous)) if !previous.is_empty() => previous.push_str(rest),
                _ => {
                    return Err(LdifError::Syntax {
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
            return Err(LdifError::Syntax {
                line: line_no,
                problem: format!(
                    "expected `attribute: value`, found {}",
                    teamsync_core::text::quoted(&line)
                ),
            });
        };
        let value: Vec<u8> = if let Some(encoded) = rest.strip_prefix(':') {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| LdifError::Syntax {
                    line: line_no,
                    problem: format!("invalid base64 value of {name}: {e}"),
                })?
        } else if rest.starts_with('<') {
            return Err(LdifError::Syntax {
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
                let dn = String::from_utf8(value).map_err(|_| LdifError::Syntax {
                    line: line_no,
                    problem: "the DN is not UTF-8".into(),
                })?;
                current = Some(RawEntry {
                    dn,
                    attrs: BTreeMap::new(),
                });
            }
            None => {
                return Err(LdifError::Syntax {
                    line: line_no,
                    problem: format!("an entry must start with `dn:`, found `{name}:`"),
                });
            }
            Some(_) if name.eq_ignore_ascii_case("changetype") => {
                if !value.eq_ignore_ascii_case(b"add") {
                    return Err(LdifError::Syntax {
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
pub(crate) fn guess_profile(entries: &[RawEntry]) -> Profile {
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
) -> Result<Vec<String>, LdifError> {
    roots
        .iter()
        .map(|root| {
            let wanted = crate::map::normalize_dn(root);
            groups
                .iter()
                .find(|g| crate::map::normalize_dn(&g.dn) == wanted)
                .or_else(|| {
                    groups
                        .iter()
                        .find(|g| crate::map::group_name(g, profile).eq_ignore_ascii_case(root))
                })
                .map(|g| g.dn.clone())
                .ok_or_else(|| LdifError::RootNotFound(root.clone()))
        })
        .collect()
}

/// LDIF entries to a [`DesiredState`], with the same rules as a live LDAP read of `profile`
/// (ids, emails, names, disabled rules, nesting, cycles). Groups and users are told apart by
/// `objectClass`; computers are skipped.
pub(crate) fn desired_from_entries(
    entries: Vec<RawEntry>,
    profile: &Profile,
    user_roots: &[String],
    group_roots: &[String],
    now: SystemTime,
) -> Result<DesiredState, LdifError> {
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
    crate::map::assemble(profile, &user_root_dns, &group_root_dns, &read, now).map_err(
        |e| match e {
            crate::map::AssembleError::RootNotFound(dn) => LdifError::RootNotFound(dn),
            other => LdifError::Mapping(other.to_string()),
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod missing_id_tests {
    use super::*;

    #[test]
    fn an_export_without_operational_attributes_says_how_to_export() {
        let text = "dn: cn=dropbox,ou=groups,dc=x\nobjectClass: groupOfNames\ncn: dropbox\nmember: uid=ann,dc=x\n\n\
                    dn: uid=ann,dc=x\nobjectClass: inetOrgPerson\nuid: ann\nmail: ann@x.test\n";
        let err = desired_from_ldif(text, None, &["dropbox".into()], &[], SystemTime::UNIX_EPOCH)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no entryUUID in the export (the id attribute is an operational attribute, left out unless asked for): export with `ldapsearch -LLL … '*' +`"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use teamsync_core::{DirectoryUser, SourceId};

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
            LdifError::Syntax {
                line: 2,
                problem: "expected `attribute: value`, found \"objectClass group\"".into()
            }
        );
        let err = parse_ldif("cn: a\n").unwrap_err();
        assert!(matches!(err, LdifError::Syntax { line: 1, .. }));
        let err = parse_ldif("dn: cn=a\nphoto:< file:///etc/passwd\n").unwrap_err();
        assert!(matches!(err, LdifError::Syntax { line: 2, .. }));
    }

    #[test]
    fn ldif_becomes_state_with_nesting_cycle_and_disabled_user() {
        let entries = parse_ldif(LDIF).unwrap();
        let profile = guess_profile(&entries);
        assert_eq!(profile, Profile::open_ldap());
        let state = desired_from_entries(
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
        let by_dn = desired_from_entries(
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
            desired_from_entries(
                entries,
                &profile,
                &["nope".into()],
                &[],
                SystemTime::UNIX_EPOCH
            )
            .unwrap_err(),
            LdifError::RootNotFound("nope".into())
        );
    }

    /// Issue 11: an entry whose id is unusable (none, or over 64 characters) is an issue that
    /// carries its address, so the team member with it is held; the rest is read.
    #[test]
    fn an_entry_with_an_unusable_id_is_an_issue_holding_its_email() {
        let long = format!(
            "\n\ndn: uid=long,ou=people,dc=ex\nobjectClass: inetOrgPerson\nentryUUID: {}\nmail: Long@ex.test\n",
            "l".repeat(65)
        );
        let entries = parse_ldif(&format!("{LDIF}{long}")).unwrap();
        let profile = guess_profile(&entries);
        let state = desired_from_entries(
            entries,
            &profile,
            &["staff".into()],
            &[],
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let held: BTreeMap<&str, &str> = state
            .issues
            .iter()
            .filter_map(|i| Some((i.email.as_deref()?, i.problem.as_str())))
            .collect();
        assert!(held["nobody@ex.test"].contains("left as it is"), "{held:?}");
        assert!(
            held["long@ex.test"].contains("at most 64 characters"),
            "{held:?}"
        );
        assert_eq!(state.users.len(), 2, "ann and bob");
    }
}
