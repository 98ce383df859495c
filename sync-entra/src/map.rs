//! From Graph JSON to the core's model: users (id, email, names, enabled, guests), the
//! `onPremisesImmutableId` → AD `objectGUID` decoding, and text from the server made safe to
//! print. Pure functions, no network.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;
use teamsync_core::{DirectoryUser, SourceId, SourceIssue};

use crate::config::{EmailRule, IdSource};

/// The user properties a snapshot asks for (`accountEnabled`, `userType` and
/// `onPremisesImmutableId` are not in Graph's default set).
pub(crate) const USER_SELECT: &str = "id,displayName,givenName,surname,mail,userPrincipalName,accountEnabled,userType,onPremisesImmutableId";

/// Formats 16 bytes of an AD `objectGUID` as teamsync-ldap does (and as AD and .NET's
/// `Guid(byte[])` print it): the first three groups little-endian, the rest in byte order,
/// lower case.
pub fn format_guid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// The AD `objectGUID` an `onPremisesImmutableId` encodes: Entra Connect's default source
/// anchor is the base64 of the GUID's 16 raw bytes (as LDAP returns `objectGUID`). `None` when
/// the value is not base64 of 16 bytes (another source anchor was configured).
pub fn immutable_id_to_guid(immutable_id: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(immutable_id.trim())
        .ok()?;
    format_guid(&bytes)
}

/// Text from the server, safe to print: control characters replaced, at most `max` characters.
pub(crate) fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

fn text<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    object
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Settings the user mapping follows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UserRules {
    pub(crate) id: IdSource,
    pub(crate) email: EmailRule,
    pub(crate) include_guests: bool,
}

/// What one Graph user becomes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MappedUser {
    /// A directory user; `object_id` is Entra's id (members name users by it).
    User {
        object_id: String,
        user: DirectoryUser,
    },
    /// Left out on purpose (a guest while guests are excluded).
    Excluded { object_id: String, id: SourceId },
    /// Unreadable; reported, and the id (when known) held.
    Issue {
        object_id: Option<String>,
        issue: SourceIssue,
    },
}

/// The [`SourceId`] of a Graph user object (a live or a soft-deleted one).
pub(crate) fn user_source_id(object: &Value, rule: IdSource) -> Result<SourceId, String> {
    let object_id = text(object, "id").ok_or("no id")?;
    let raw = match (rule, text(object, "onPremisesImmutableId")) {
        (IdSource::OnPremisesImmutableId, Some(immutable)) => immutable_id_to_guid(immutable)
            .ok_or_else(|| {
                format!(
                    "onPremisesImmutableId {} is not base64 of a 16-byte objectGUID",
                    teamsync_core::text::quoted(&printable(immutable, 80))
                )
            })?,
        _ => object_id.to_owned(),
    };
    SourceId::new(&raw).map_err(|e| e.to_string())
}

/// The email a user is provisioned with: `mail`, else the UPN when the rule allows it.
pub(crate) fn user_email(object: &Value, rule: EmailRule) -> String {
    if let Some(mail) = text(object, "mail") {
        return mail.to_owned();
    }
    match text(object, "userPrincipalName") {
        Some(upn) if rule.fallback_to_upn => {
            let lower = upn.to_ascii_lowercase();
            let external = lower.contains("#ext#");
            let onmicrosoft = lower.ends_with(".onmicrosoft.com");
            if (external && !rule.allow_external_upn)
                || (onmicrosoft && !rule.allow_onmicrosoft_upn)
            {
                String::new()
            } else {
                upn.to_owned()
            }
        }
        _ => String::new(),
    }
}

/// Maps one item of `/users`.
pub(crate) fn map_user(object: &Value, rules: UserRules) -> MappedUser {
    let object_id = text(object, "id").map(str::to_owned);
    let locator = text(object, "userPrincipalName")
        .or(object_id.as_deref())
        .map(|s| printable(s, 256));
    let entry = locator
        .clone()
        .unwrap_or_else(|| "a user without id".to_owned());
    let issue = |problem: String, id: Option<SourceId>| MappedUser::Issue {
        object_id: object_id.clone(),
        issue: SourceIssue {
            entry: entry.clone(),
            problem,
            id,
            email: None,
        },
    };
    let Some(oid) = object_id.clone() else {
        return issue("the user has no id".to_owned(), None);
    };
    let id = match user_source_id(object, rules.id) {
        Ok(id) => id,
        Err(problem) => {
            return issue(
                problem,
                SourceId::new(&oid)
                    .ok()
                    .filter(|_| rules.id == IdSource::ObjectId),
            );
        }
    };
    let enabled = match object.get("accountEnabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return issue(
                format!(
                    "accountEnabled is {}, not true or false",
                    printable(&other.to_string(), 40)
                ),
                Some(id),
            );
        }
    };
    let is_guest = text(object, "userType").is_some_and(|t| t.eq_ignore_ascii_case("guest"));
    if is_guest && !rules.include_guests {
        return MappedUser::Excluded { object_id: oid, id };
    }
    let (mut given, surname) = (
        text(object, "givenName").unwrap_or_default(),
        text(object, "surname").unwrap_or_default(),
    );
    if given.is_empty() && surname.is_empty() {
        given = text(object, "displayName").unwrap_or_default();
    }
    let mut attributes = BTreeMap::new();
    attributes.insert("objectId".to_owned(), oid.clone());
    for name in ["userPrincipalName", "userType", "displayName"] {
        if let Some(v) = text(object, name) {
            attributes.insert(name.to_owned(), v.to_owned());
        }
    }
    let mut user = DirectoryUser::new(id, user_email(object, rules.email), given, surname);
    user.enabled = enabled;
    user.locator = locator;
    user.attributes = attributes;
    MappedUser::User {
        object_id: oid,
        user,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> UserRules {
        UserRules {
            id: IdSource::ObjectId,
            email: EmailRule::default(),
            include_guests: false,
        }
    }

    #[test]
    fn immutable_id_decodes_to_the_ad_guid_string() {
        // objectGUID:: kZj7niGua0Gz92mIDCl+Tw== as an LDIFDE export shows it; .NET prints these
        // bytes as 9efb9891-ae21-416b-b3f7-69880c297e4f.
        assert_eq!(
            immutable_id_to_guid("kZj7niGua0Gz92mIDCl+Tw==").unwrap(),
            "9efb9891-ae21-416b-b3f7-69880c297e4f"
        );
        assert_eq!(immutable_id_to_guid("not base64!"), None);
        assert_eq!(immutable_id_to_guid("AAAA"), None, "3 bytes are no GUID");
    }

    #[test]
    fn email_rules() {
        let r = EmailRule::default();
        assert_eq!(
            user_email(
                &json!({"mail": "a@x.com", "userPrincipalName": "b@x.com"}),
                r
            ),
            "a@x.com"
        );
        assert_eq!(
            user_email(&json!({"mail": null, "userPrincipalName": "b@x.com"}), r),
            "b@x.com"
        );
        assert_eq!(
            user_email(
                &json!({"userPrincipalName": "g_x.com#EXT#@t.onmicrosoft.com"}),
                r
            ),
            ""
        );
        assert_eq!(
            user_email(
                &json!({"userPrincipalName": "c@contoso.onmicrosoft.com"}),
                r
            ),
            ""
        );
        let lax = EmailRule {
            allow_onmicrosoft_upn: true,
            ..r
        };
        assert_eq!(
            user_email(
                &json!({"userPrincipalName": "c@contoso.onmicrosoft.com"}),
                lax
            ),
            "c@contoso.onmicrosoft.com"
        );
        let no_upn = EmailRule {
            fallback_to_upn: false,
            ..r
        };
        assert_eq!(
            user_email(&json!({"userPrincipalName": "b@x.com"}), no_upn),
            ""
        );
    }

    #[test]
    fn users_map_disabled_guests_and_bad_entries() {
        let u = map_user(
            &json!({"id": "o1", "mail": "a@x.com", "givenName": "A", "surname": "B", "accountEnabled": false}),
            rules(),
        );
        let MappedUser::User { user, .. } = u else {
            panic!("{u:?}")
        };
        assert!(!user.enabled);
        assert_eq!(user.id.as_str(), "o1");
        let g = map_user(&json!({"id": "o2", "userType": "Guest"}), rules());
        assert!(matches!(g, MappedUser::Excluded { .. }), "{g:?}");
        let bad = map_user(&json!({"id": "o3", "accountEnabled": "yes"}), rules());
        let MappedUser::Issue { issue, .. } = bad else {
            panic!()
        };
        assert_eq!(
            issue.id.unwrap().as_str(),
            "o3",
            "a malformed user is held, not dropped"
        );
        assert!(matches!(
            map_user(&json!({"mail": "x@y.com"}), rules()),
            MappedUser::Issue { .. }
        ));
        let named = map_user(&json!({"id": "o4", "displayName": "Only Display"}), rules());
        let MappedUser::User { user, .. } = named else {
            panic!()
        };
        assert_eq!(user.given_name, "Only Display");
    }

    #[test]
    fn printable_strips_escapes() {
        assert_eq!(printable("a\u{1b}[31mb\nc", 100), "a?[31mb?c");
        assert_eq!(printable("abcdef", 3), "abc…");
    }
}
