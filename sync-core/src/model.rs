//! The values both sides are read into: what the directory says ([`DesiredState`]) and what the
//! team is ([`ActualState`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The directory's immutable id of an object: AD `objectGUID` (canonical string form), OpenLDAP
/// `entryUUID`, 389-DS `nsUniqueId`, FreeIPA `ipaUniqueID`.
///
/// Never a DN and never an email: both change. Compared byte for byte after trimming; adapters
/// produce the canonical form (AD GUIDs lower-case, mixed-endian).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceId(String);

/// Why a string is not a [`SourceId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceIdError {
    /// The id is empty or only whitespace.
    #[error("a directory id may not be empty")]
    Empty,
    /// The id is longer than [`SourceId::MAX_LEN`].
    #[error("a directory id may be at most {max} characters, this one has {len}")]
    TooLong {
        /// The length seen.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

impl SourceId {
    /// Longest id accepted. Dropbox's external id holds 64 characters, prefix included.
    pub const MAX_LEN: usize = 64;

    /// Builds an id from a string, trimming surrounding whitespace.
    pub fn new(id: impl AsRef<str>) -> Result<Self, SourceIdError> {
        let trimmed = id.as_ref().trim();
        if trimmed.is_empty() {
            return Err(SourceIdError::Empty);
        }
        let len = trimmed.chars().count();
        if len > Self::MAX_LEN {
            return Err(SourceIdError::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceId {
    type Error = SourceIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().len() == value.len()
            && !value.is_empty()
            && value.chars().count() <= Self::MAX_LEN
        {
            return Ok(Self(value));
        }
        Self::new(value)
    }
}

impl From<SourceId> for String {
    fn from(value: SourceId) -> Self {
        value.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceId({:?})", self.0)
    }
}

/// An email address as Dropbox accepts it: trimmed, lower-cased (Dropbox compares addresses
/// case-insensitively), at most 255 characters, matching Dropbox's `EmailAddress` pattern
/// `^['#&A-Za-z0-9._%+-]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a string is not an [`Email`] Dropbox would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but whitespace.
    #[error("the email address is empty")]
    Empty,
    /// Over 255 characters.
    #[error("the email address has {len} characters; Dropbox accepts at most 255")]
    TooLong {
        /// The length seen.
        len: usize,
    },
    /// Does not match Dropbox's pattern.
    #[error("{} is not an address Dropbox accepts ({why})", crate::text::quoted(.address))]
    Invalid {
        /// The address as given.
        address: String,
        /// Which part is wrong.
        why: &'static str,
    },
}

impl Email {
    /// Longest address Dropbox accepts.
    pub const MAX_LEN: usize = 255;

    /// Parses and normalises an address: surrounding whitespace removed, ASCII lower-cased.
    pub fn parse(address: &str) -> Result<Self, EmailError> {
        let trimmed = address.trim();
        validate_email(trimmed)?;
        if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            Ok(Self(trimmed.to_ascii_lowercase()))
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bytes Dropbox's pattern accepts before the `@`: `['#&A-Za-z0-9._%+-]`.
const EMAIL_LOCAL: [bool; 256] = byte_table(b"'#&._%+-");
/// Bytes it accepts after the `@`: `[A-Za-z0-9.-]`.
const EMAIL_DOMAIN: [bool; 256] = byte_table(b".-");

/// A table of the ASCII letters and digits plus `extra`.
const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// Checks an already-trimmed address against Dropbox's `EmailAddress` rules without allocating,
/// in one pass over the bytes (it runs for every directory user on every plan).
pub(crate) fn validate_email(s: &str) -> Result<(), EmailError> {
    if s.is_empty() {
        return Err(EmailError::Empty);
    }
    if s.len() > Email::MAX_LEN {
        return Err(EmailError::TooLong {
            len: s.chars().count(),
        });
    }
    let invalid = |why| {
        Err(EmailError::Invalid {
            address: s.to_owned(),
            why,
        })
    };
    let bytes = s.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return invalid("no @");
    };
    if !bytes[..at].iter().all(|&b| EMAIL_LOCAL[b as usize]) {
        return invalid("a character Dropbox does not accept before the @");
    }
    if !bytes[at + 1..].iter().all(|&b| EMAIL_DOMAIN[b as usize]) {
        return invalid("a character Dropbox does not accept in the domain");
    }
    if at == 0 {
        return invalid("nothing before the @");
    }
    let domain = &bytes[at + 1..];
    let Some(&first) = domain.first() else {
        return invalid("nothing after the @");
    };
    if first == b'.' {
        return invalid("the domain starts with a character Dropbox does not accept");
    }
    // `[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$`: the part after the last dot is the TLD,
    // and at least one character must precede that dot.
    let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
        return invalid("the domain has no dot");
    };
    let tld = &domain[dot + 1..];
    if dot == 0 || !(2..=15).contains(&tld.len()) || !tld.iter().all(u8::is_ascii_alphabetic) {
        return invalid("the top-level domain must be 2 to 15 letters");
    }
    Ok(())
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().len() == value.len() && !value.bytes().any(|b| b.is_ascii_uppercase()) {
            validate_email(&value)?;
            return Ok(Self(value));
        }
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

/// A person in the directory.
///
/// The email is kept as the directory gave it: the planner validates it, so that one bad
/// address is reported for that user and never stops the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryUser {
    /// Immutable directory id.
    pub id: SourceId,
    /// Email address as read (validated by the planner).
    #[serde(default)]
    pub email: String,
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Last name.
    #[serde(default)]
    pub surname: String,
    /// False when the directory marks the account disabled, locked or expired.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the user came from, for reports (a DN, a file line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    /// Other attributes the source read, for reports and later mapping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl DirectoryUser {
    /// An enabled user with no extra attributes.
    pub fn new(
        id: SourceId,
        email: impl Into<String>,
        given_name: impl Into<String>,
        surname: impl Into<String>,
    ) -> Self {
        Self {
            id,
            email: email.into(),
            given_name: given_name.into(),
            surname: surname.into(),
            enabled: true,
            locator: None,
            attributes: BTreeMap::new(),
        }
    }
}

/// A group in the directory, nesting kept: `members` lists users and groups by id, and ids the
/// snapshot does not hold (out of scope, filtered out) are ignored by the planner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryGroup {
    /// Immutable directory id.
    pub id: SourceId,
    /// Display name, mirrored as the Dropbox group name.
    pub name: String,
    /// Direct members: user ids and group ids.
    #[serde(default)]
    pub members: Vec<SourceId>,
    /// Where the group came from, for reports (a DN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
}

/// An entry the source could not turn into a user or group (no id, duplicate id, unreadable
/// attribute). Reported in the plan; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceIssue {
    /// Which entry (a DN, a file and line).
    pub entry: String,
    /// What is wrong with it.
    pub problem: String,
    /// The id, when the entry had a readable one. A managed member whose id appears here is
    /// held (left as it is), never deprovisioned because its entry is malformed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SourceId>,
    /// The entry's email address, when it had one. A managed member with this address is held
    /// too: an entry whose id cannot be read may still be that member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// What a directory returned: the raw material the planner computes scope from.
///
/// Read leniently: a user or group whose id is not a valid [`SourceId`] (empty, over 64
/// characters) does not fail the whole document; it becomes a [`SourceIssue`] naming the entry
/// (with its address, so that its member is held), and the rest is read as usual.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, from = "RawDesiredState")]
pub struct DesiredState {
    /// The group(s) whose transitive user members are in user scope.
    #[serde(default)]
    pub user_roots: Vec<SourceId>,
    /// The group(s) whose descendant groups are synced, when group sync has its own root.
    #[serde(default)]
    pub group_roots: Vec<SourceId>,
    /// Users reachable from the roots (others may be present and are ignored).
    #[serde(default)]
    pub users: Vec<DirectoryUser>,
    /// Groups reachable from the roots, roots included.
    #[serde(default)]
    pub groups: Vec<DirectoryGroup>,
    /// Ids the directory says were deleted (tombstones), as opposed to merely out of scope.
    #[serde(default)]
    pub deleted: Vec<SourceId>,
    /// Entries the source could not read.
    #[serde(default)]
    pub issues: Vec<SourceIssue>,
}

/// A member's state on the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MemberStatus {
    /// Joined and active.
    Active,
    /// Invited, not yet joined.
    Invited,
    /// Suspended by an admin.
    Suspended,
    /// Removed; `recoverable` while Dropbox still allows `members/recover`.
    Removed {
        /// Whether the member can still be recovered.
        recoverable: bool,
    },
}

impl MemberStatus {
    /// Short word for tables and reasons.
    pub fn word(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Invited => "invited",
            Self::Suspended => "suspended",
            Self::Removed { recoverable: true } => "removed (recoverable)",
            Self::Removed { recoverable: false } => "removed",
        }
    }

    /// Removed members hold no seat and no email on the team.
    pub fn is_removed(self) -> bool {
        matches!(self, Self::Removed { .. })
    }
}

/// A member of the Dropbox team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMember {
    /// Dropbox's id (`dbmid:…`).
    pub team_member_id: String,
    /// Login email.
    pub email: Email,
    /// External id; teamsync's members carry `<prefix><SourceId>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Last name.
    #[serde(default)]
    pub surname: String,
    /// State on the team.
    pub status: MemberStatus,
    /// Team admins are never deprovisioned unless the policy says so.
    #[serde(default)]
    pub is_admin: bool,
}

/// Who manages a Dropbox group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagementType {
    /// Members can manage it.
    UserManaged,
    /// Only admins can; teamsync creates groups this way.
    CompanyManaged,
    /// Dropbox's own (e.g. "Everyone at …"); never touched.
    SystemManaged,
}

/// A group on the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamGroup {
    /// Dropbox's id (`g:…`).
    pub group_id: String,
    /// Group name (unique on the team, compared case-insensitively).
    pub name: String,
    /// External id; teamsync's groups carry `<prefix><SourceId>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Who manages it.
    pub management_type: ManagementType,
    /// Members by `team_member_id`.
    #[serde(default)]
    pub members: Vec<String>,
}

/// What the team is now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActualState {
    /// Members, removed ones included.
    #[serde(default)]
    pub members: Vec<TeamMember>,
    /// Groups with their members.
    #[serde(default)]
    pub groups: Vec<TeamGroup>,
}

/// How an operation names a member on the team. Dropbox's user selector accepts each form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum MemberRef {
    /// A member teamsync manages or is about to create: `<prefix><SourceId>`.
    ExternalId(String),
    /// An existing member, by Dropbox's id.
    TeamMemberId(String),
    /// By login email.
    Email(Email),
}

impl fmt::Display for MemberRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExternalId(s) => write!(f, "external_id:{s}"),
            Self::TeamMemberId(s) => write!(f, "{s}"),
            Self::Email(e) => write!(f, "{e}"),
        }
    }
}

/// How an operation names a group on the team.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum GroupRef {
    /// A group teamsync manages or is about to create: `<prefix><SourceId>`.
    ExternalId(String),
    /// An existing group, by Dropbox's id.
    GroupId(String),
}

impl fmt::Display for GroupRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExternalId(s) => write!(f, "external_id:{s}"),
            Self::GroupId(s) => write!(f, "{s}"),
        }
    }
}

/// [`DesiredState`] as written, ids still text: what its lenient reading starts from.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDesiredState {
    #[serde(default)]
    user_roots: Vec<String>,
    #[serde(default)]
    group_roots: Vec<String>,
    #[serde(default)]
    users: Vec<RawUser>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    deleted: Vec<String>,
    #[serde(default)]
    issues: Vec<SourceIssue>,
}

/// [`DirectoryUser`] with its id still text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    surname: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    locator: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// [`DirectoryGroup`] with its ids still text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: String,
    name: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    locator: Option<String>,
}

/// How an issue names an entry whose id is unusable: its locator, else what it holds, with
/// the id cut short (it may be very long).
fn unusable_entry(kind: &str, locator: Option<&str>, label: &str, id: &str) -> String {
    if let Some(l) = locator {
        return l.to_owned();
    }
    let shown: String = id.chars().take(SourceId::MAX_LEN).collect();
    let cut = if shown.len() < id.len() { "…" } else { "" };
    if label.is_empty() {
        format!("{kind} with id {}{cut}", crate::text::quoted(&shown))
    } else {
        format!("{kind} {label} (id {}{cut})", crate::text::quoted(&shown))
    }
}

/// An id from text, or the text back with why it is not one.
fn parse_id(text: String) -> Result<SourceId, (String, SourceIdError)> {
    if !text.is_empty()
        && text.trim().len() == text.len()
        && text.chars().count() <= SourceId::MAX_LEN
    {
        return Ok(SourceId(text));
    }
    match SourceId::new(&text) {
        Ok(id) => Ok(id),
        Err(e) => Err((text, e)),
    }
}

impl From<RawDesiredState> for DesiredState {
    fn from(raw: RawDesiredState) -> Self {
        let mut issues = raw.issues;
        // Ids in lists (roots, members, tombstones) that cannot be ids name nothing: dropped.
        let ids = |list: Vec<String>| {
            list.into_iter()
                .filter_map(|s| parse_id(s).ok())
                .collect::<Vec<_>>()
        };
        let mut users = Vec::with_capacity(raw.users.len());
        for u in raw.users {
            match parse_id(u.id) {
                Ok(id) => users.push(DirectoryUser {
                    id,
                    email: u.email,
                    given_name: u.given_name,
                    surname: u.surname,
                    enabled: u.enabled,
                    locator: u.locator,
                    attributes: u.attributes,
                }),
                Err((text, e)) => {
                    let email = u.email.trim();
                    let label = if email.is_empty() {
                        String::new()
                    } else {
                        email.to_owned()
                    };
                    issues.push(SourceIssue {
                        entry: unusable_entry("user", u.locator.as_deref(), &label, &text),
                        problem: format!("{e}; this entry is skipped, and a team member with its email is left as it is"),
                        id: None,
                        email: (!email.is_empty()).then(|| email.to_owned()),
                    });
                }
            }
        }
        let mut groups = Vec::with_capacity(raw.groups.len());
        for g in raw.groups {
            match parse_id(g.id) {
                Ok(id) => groups.push(DirectoryGroup {
                    id,
                    name: g.name,
                    members: ids(g.members),
                    locator: g.locator,
                }),
                Err((text, e)) => issues.push(SourceIssue {
                    entry: unusable_entry(
                        "group",
                        g.locator.as_deref(),
                        &crate::text::quoted(&g.name),
                        &text,
                    ),
                    problem: format!("{e}; this group is skipped"),
                    id: None,
                    email: None,
                }),
            }
        }
        DesiredState {
            user_roots: ids(raw.user_roots),
            group_roots: ids(raw.group_roots),
            users,
            groups,
            deleted: ids(raw.deleted),
            issues,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ann.lee@example.com");
        assert_eq!(e, Email::parse("ann.lee@example.com").unwrap());
    }

    #[test]
    fn email_follows_dropbox_pattern() {
        for ok in [
            "a@b.co",
            "o'neil@x.org",
            "a+b#c&d%e@x-y.example.museum",
            "x@-a.io",
            "x@a..b.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "",
            "   ",
            "no-at",
            "@x.com",
            "a@",
            "a@.com",
            "a b@x.com",
            "a@x",
            "a@x.c",
            "a@x.c0m",
            "a@x.abcdefghijklmnop",
            "ä@x.com",
            "a@x_y.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@x.com", "a".repeat(250));
        assert!(matches!(
            Email::parse(&long),
            Err(EmailError::TooLong { .. })
        ));
    }

    #[test]
    fn email_deserializes_normalised() {
        let e: Email = serde_json::from_str("\" Bob@X.com\"").unwrap();
        assert_eq!(e.as_str(), "bob@x.com");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }

    #[test]
    fn source_id_rules() {
        assert_eq!(SourceId::new(" abc ").unwrap().as_str(), "abc");
        assert_eq!(SourceId::new("  "), Err(SourceIdError::Empty));
        assert!(SourceId::new("x".repeat(65)).is_err());
        assert!(serde_json::from_str::<SourceId>("\"\"").is_err());
    }

    #[test]
    fn states_round_trip_through_json() {
        let desired = DesiredState {
            user_roots: vec![SourceId::new("root").unwrap()],
            users: vec![DirectoryUser::new(
                SourceId::new("u1").unwrap(),
                "a@x.com",
                "A",
                "B",
            )],
            groups: vec![DirectoryGroup {
                id: SourceId::new("root").unwrap(),
                name: "Dropbox".into(),
                members: vec![SourceId::new("u1").unwrap()],
                locator: None,
            }],
            ..Default::default()
        };
        let json = serde_json::to_string(&desired).unwrap();
        assert_eq!(
            serde_json::from_str::<DesiredState>(&json).unwrap(),
            desired
        );

        let actual = ActualState {
            members: vec![TeamMember {
                team_member_id: "dbmid:1".into(),
                email: Email::parse("a@x.com").unwrap(),
                external_id: Some("teamsync:u1".into()),
                given_name: "A".into(),
                surname: "B".into(),
                status: MemberStatus::Removed { recoverable: true },
                is_admin: false,
            }],
            groups: vec![],
        };
        let json = serde_json::to_string(&actual).unwrap();
        assert!(
            json.contains(r#""status":{"state":"removed","recoverable":true}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<ActualState>(&json).unwrap(), actual);
    }

    #[test]
    fn unknown_fields_are_errors() {
        let err =
            serde_json::from_str::<DirectoryUser>(r#"{"id":"u","emial":"x@y.com"}"#).unwrap_err();
        assert!(err.to_string().contains("emial"), "{err}");
    }
}
