//! Pure mapping from LDAP entries to the core's model: ids, emails, names, the disabled rules,
//! group members, and the assembly of a [`DesiredState`] from the entries of one read
//! (membership closure from the roots, cycle-safe). No network, no clock: "now" is an input.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::time::{Duration, SystemTime};

use teamsync_core::{DesiredState, DirectoryGroup, DirectoryUser, Email, SourceId, SourceIssue};

use crate::ad;
use crate::config::{DisabledRule, IdFormat, MemberKind, Profile};

/// An entry as read, with attribute names lower-cased and every value kept as bytes (ldap3
/// splits text and binary values; both are merged here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    /// The entry's DN as the server spelled it.
    pub dn: String,
    /// Values by lower-cased attribute name (options such as `;range=0-1499` kept).
    pub attrs: BTreeMap<String, Vec<Vec<u8>>>,
}

impl RawEntry {
    /// An entry with text attributes, for tests and fixtures.
    pub fn from_text<'a>(
        dn: &str,
        attrs: impl IntoIterator<Item = (&'a str, &'a [&'a str])>,
    ) -> Self {
        let mut entry = Self {
            dn: dn.to_owned(),
            attrs: BTreeMap::new(),
        };
        for (name, values) in attrs {
            entry.push_all(name, values.iter().map(|v| v.as_bytes().to_vec()));
        }
        entry
    }

    /// Adds values under `name` (case-insensitive).
    pub fn push_all(&mut self, name: &str, values: impl IntoIterator<Item = Vec<u8>>) {
        self.attrs
            .entry(name.to_ascii_lowercase())
            .or_default()
            .extend(values);
    }

    /// All values of an attribute (case-insensitive name).
    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        // Called a dozen times per entry: lower-case on the stack rather than allocate.
        let mut buf = [0u8; 64];
        let key = if name.len() <= buf.len() {
            let lowered = &mut buf[..name.len()];
            lowered.copy_from_slice(name.as_bytes());
            lowered.make_ascii_lowercase();
            std::str::from_utf8(lowered).ok()
        } else {
            None
        };
        let found = match key {
            Some(key) => self.attrs.get(key),
            None => self.attrs.get(&name.to_ascii_lowercase()),
        };
        found.map(Vec::as_slice).unwrap_or(&[])
    }

    /// The text values of an attribute; values that are not UTF-8 are skipped.
    pub fn texts(&self, name: &str) -> impl Iterator<Item = &str> {
        self.values(name)
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// The first non-blank text value, trimmed.
    pub fn first_text(&self, name: &str) -> Option<&str> {
        self.texts(name).map(str::trim).find(|s| !s.is_empty())
    }

    /// Moves ranged parts (`member;range=0-1499`) into the plain attribute and returns, for
    /// each attribute whose last part was not reached, the index to ask for next.
    pub fn merge_ranged_parts(&mut self) -> Vec<(String, u32)> {
        let ranged: Vec<String> = self
            .attrs
            .keys()
            .filter(|k| k.contains(";range="))
            .cloned()
            .collect();
        let mut pending = Vec::new();
        for key in ranged {
            let values = self.attrs.remove(&key).unwrap_or_default();
            if let Some(range) = ad::parse_range_key(&key) {
                if let Some(end) = range.end {
                    pending.push((range.attribute.clone(), end.saturating_add(1)));
                }
                self.attrs
                    .entry(range.attribute)
                    .or_default()
                    .extend(values);
            }
        }
        pending
    }
}

/// A DN in a form that compares equal however the server spelled it: RDNs trimmed around `,`,
/// `+` and `=`, ASCII lower-cased. Escapes are kept as they are.
pub fn normalize_dn(dn: &str) -> String {
    dn_key(dn).into_owned()
}

/// [`normalize_dn`], borrowing when the DN is already normal (the common case on OpenLDAP).
fn dn_key(dn: &str) -> Cow<'_, str> {
    if dn.bytes().any(|b| b.is_ascii_uppercase() || b == b' ') {
        Cow::Owned(normalize_dn_slow(dn))
    } else {
        Cow::Borrowed(dn)
    }
}

fn normalize_dn_slow(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut chars = dn.trim().chars().peekable();
    let mut pending_space = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push_str(&pending_space);
                pending_space.clear();
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n.to_ascii_lowercase());
                }
            }
            ',' | '+' | '=' => {
                pending_space.clear();
                out.push(c);
                while chars.peek().is_some_and(|n| *n == ' ') {
                    chars.next();
                }
            }
            ' ' => pending_space.push(' '),
            _ => {
                out.push_str(&pending_space);
                pending_space.clear();
                out.push(c.to_ascii_lowercase());
            }
        }
    }
    out
}

/// The value of a DN's first RDN (`Sales` for `cn=Sales,ou=groups,…`), unescaped naively.
pub fn first_rdn_value(dn: &str) -> &str {
    let rdn = dn.split(',').next().unwrap_or(dn);
    rdn.split_once('=').map(|(_, v)| v.trim()).unwrap_or(rdn)
}

/// Strips the optional `#'0101'B` uid suffix of a `uniqueMember` value.
pub fn strip_unique_member_uid(value: &str) -> &str {
    let trimmed = value.trim();
    if trimmed.ends_with("'B") {
        if let Some(hash) = trimmed.rfind("#'") {
            if hash > 0 && !trimmed[..hash].ends_with('\\') {
                return &trimmed[..hash];
            }
        }
    }
    trimmed
}

/// Reads an entry's id as the profile says.
pub fn entry_id(entry: &RawEntry, profile: &Profile) -> Result<SourceId, String> {
    let Some(raw) = entry.values(&profile.id_attribute).first() else {
        return Err(format!("no {} (the id attribute)", profile.id_attribute));
    };
    let text = match profile.id_format {
        IdFormat::AdObjectGuid => ad::format_guid(raw).ok_or_else(|| {
            format!(
                "{} has {} bytes, a GUID has 16",
                profile.id_attribute,
                raw.len()
            )
        })?,
        IdFormat::Text => std::str::from_utf8(raw)
            .map_err(|_| format!("{} is not text", profile.id_attribute))?
            .to_owned(),
    };
    SourceId::new(text).map_err(|e| format!("{}: {e}", profile.id_attribute))
}

/// The email address by the profile's precedence: the email attributes in order, then the
/// primary `SMTP:` proxy address, then `userPrincipalName` if configured. The first candidate
/// Dropbox accepts wins; when none does, the first present candidate is returned with the
/// reason it is unusable.
pub fn select_email(entry: &RawEntry, profile: &Profile) -> (String, Option<String>) {
    let mut candidates: Vec<(&str, &str)> = Vec::new();
    for attr in &profile.email_attributes {
        if let Some(v) = entry.first_text(attr) {
            candidates.push((attr.as_str(), v));
        }
    }
    if let Some(attr) = &profile.proxy_addresses_attribute {
        if let Some(v) = ad::primary_smtp_address(entry.texts(attr)) {
            candidates.push((attr.as_str(), v));
        }
    }
    if profile.upn_as_email {
        if let Some(v) = entry.first_text("userPrincipalName") {
            candidates.push(("userPrincipalName", v));
        }
    }
    for (_, value) in &candidates {
        if let Ok(email) = Email::parse(value) {
            return (email.as_str().to_owned(), None);
        }
    }
    match candidates.first() {
        None => (String::new(), Some("no email address".to_owned())),
        Some((attr, value)) => {
            let why = Email::parse(value)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            (
                (*value).to_owned(),
                Some(format!("unusable email in {attr}: {why}")),
            )
        }
    }
}

/// First and last name: the profile's attributes in order; when both are missing, a full name
/// attribute split at its first space.
pub fn select_names(entry: &RawEntry, profile: &Profile) -> (String, String) {
    let first = |attrs: &[String]| {
        attrs
            .iter()
            .find_map(|a| entry.first_text(a))
            .unwrap_or("")
            .to_owned()
    };
    let given = first(&profile.given_name_attributes);
    let surname = first(&profile.surname_attributes);
    if !given.is_empty() || !surname.is_empty() {
        return (given, surname);
    }
    let full = first(&profile.full_name_attributes);
    match full.split_once(' ') {
        Some((g, s)) => (g.trim().to_owned(), s.trim().to_owned()),
        None => (full, String::new()),
    }
}

/// Whether any of the profile's rules marks the user disabled at `now`.
pub fn is_disabled(entry: &RawEntry, rules: &[DisabledRule], now: SystemTime) -> bool {
    rules.iter().any(|rule| match rule {
        DisabledRule::AdAccountDisabled => entry
            .first_text("userAccountControl")
            .is_some_and(ad::uac_disabled),
        DisabledRule::AdAccountExpired => entry
            .first_text("accountExpires")
            .is_some_and(|v| ad::account_expired(v, now)),
        DisabledRule::PasswordPolicyLocked { lockout_duration } => entry
            .first_text("pwdAccountLockedTime")
            .is_some_and(|v| ppolicy_locked(v, *lockout_duration, now)),
        DisabledRule::NsAccountLock => entry
            .first_text("nsAccountLock")
            .is_some_and(|v| !v.eq_ignore_ascii_case("false")),
        DisabledRule::ShadowExpired => entry
            .first_text("shadowExpire")
            .is_some_and(|v| shadow_expired(v, now)),
    })
}

/// ppolicy: `000001010000Z` locks for good; another time locks until `lockout_duration` has
/// passed (for good without a duration). An unreadable value counts as locked: the attribute's
/// presence is what ppolicy acts on.
pub fn ppolicy_locked(value: &str, lockout_duration: Option<Duration>, now: SystemTime) -> bool {
    let value = value.trim();
    if value.starts_with("00000101000000") || value == "000001010000Z" {
        return true;
    }
    let (Some(duration), Some(locked_at)) = (lockout_duration, parse_generalized_time(value))
    else {
        return true;
    };
    let until = locked_at.saturating_add(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX));
    ad::unix_seconds(now) < until
}

/// `shadowExpire` counts days since 1970; -1 (or nothing readable) means never.
pub fn shadow_expired(value: &str, now: SystemTime) -> bool {
    match value.trim().parse::<i64>() {
        Ok(days) if days >= 0 => ad::unix_seconds(now) >= days.saturating_mul(86_400),
        _ => false,
    }
}

/// Parses a GeneralizedTime in UTC (`YYYYMMDDHHMMSS[.fff]Z`) into seconds since 1970.
pub fn parse_generalized_time(value: &str) -> Option<i64> {
    let digits = value.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !value.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits[r].parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(8..10)?, num(10..12)?, num(12..14)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A user entry mapped, with the problem that makes its email unusable, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedUser {
    /// The user as the core sees it.
    pub user: DirectoryUser,
    /// Why the email cannot be used, for an issue.
    pub email_problem: Option<String>,
}

/// Maps a user entry. Fails (with the problem) only when the entry has no usable id.
pub fn map_user(
    entry: &RawEntry,
    profile: &Profile,
    now: SystemTime,
) -> Result<MappedUser, String> {
    let id = entry_id(entry, profile)?;
    let (email, email_problem) = select_email(entry, profile);
    let (given_name, surname) = select_names(entry, profile);
    let mut attributes = BTreeMap::new();
    for attr in &profile.extra_user_attributes {
        if let Some(v) = entry.first_text(attr) {
            attributes.insert(attr.clone(), v.to_owned());
        }
    }
    Ok(MappedUser {
        user: DirectoryUser {
            id,
            email,
            given_name,
            surname,
            enabled: !is_disabled(entry, &profile.disabled_rules, now),
            locator: Some(entry.dn.clone()),
            attributes,
        },
        email_problem,
    })
}

/// Who a group entry names as members, before they are resolved to ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRefs {
    /// Normalised member DNs.
    pub dns: Vec<String>,
    /// Lower-cased uids (`memberUid`).
    pub uids: Vec<String>,
}

/// The member references of a group entry.
pub fn group_member_refs(entry: &RawEntry, profile: &Profile) -> MemberRefs {
    let mut refs = MemberRefs::default();
    for attr in &profile.member_attributes {
        for value in entry.texts(&attr.name) {
            match attr.kind {
                MemberKind::Dn => {
                    let dn = strip_unique_member_uid(value);
                    if !dn.is_empty() {
                        refs.dns.push(normalize_dn(dn));
                    }
                }
                MemberKind::Uid => {
                    let uid = value.trim();
                    if !uid.is_empty() {
                        refs.uids.push(uid.to_lowercase());
                    }
                }
            }
        }
    }
    refs
}

/// The group's display name: the profile's name attributes, else the DN's first value.
pub fn group_name(entry: &RawEntry, profile: &Profile) -> String {
    profile
        .group_name_attributes
        .iter()
        .find_map(|a| entry.first_text(a))
        .unwrap_or_else(|| first_rdn_value(&entry.dn))
        .to_owned()
}

/// Why [`assemble`] could not build a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// A configured root DN is not among the groups read.
    #[error("root group {0} was not found among the groups read")]
    RootNotFound(String),
    /// A configured root exists but has no usable id.
    #[error("root group {dn} has no usable id: {problem}")]
    RootWithoutId {
        /// The root's DN.
        dn: String,
        /// Why its id is unusable.
        problem: String,
    },
}

/// Everything one read produced, as raw entries (tests, diagnostics).
#[derive(Debug, Clone, Default)]
pub struct ReadEntries {
    /// Group entries (ranged values already merged).
    pub groups: Vec<RawEntry>,
    /// User entries.
    pub users: Vec<RawEntry>,
    /// Ids the server reported deleted.
    pub deleted: Vec<SourceId>,
}

/// A group entry reduced to what assembly needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// DN as the server spelled it.
    pub dn: String,
    /// The id, or why the entry has none usable.
    pub id: Result<SourceId, String>,
    /// Display name.
    pub name: String,
    /// Members named by the entry.
    pub refs: MemberRefs,
    /// AD: the group's SID, to match users' `primaryGroupID`.
    pub sid: Option<String>,
}

/// Reduces a group entry.
pub fn group_record(entry: &RawEntry, profile: &Profile) -> GroupRecord {
    GroupRecord {
        dn: entry.dn.clone(),
        id: entry_id(entry, profile),
        name: group_name(entry, profile),
        refs: group_member_refs(entry, profile),
        sid: if profile.primary_group_membership {
            entry
                .values("objectSid")
                .first()
                .and_then(|s| ad::format_sid(s))
        } else {
            None
        },
    }
}

/// A user entry reduced to what assembly needs; made while the read streams, so the raw
/// entries are never all held at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// DN as the server spelled it.
    pub dn: String,
    /// The mapped user, or why the entry has no usable id.
    pub mapped: Result<MappedUser, String>,
    /// With no usable id: the entry's address, when it has one, so that a team member with
    /// it is held rather than taken for a leaver.
    pub unusable_email: Option<String>,
    /// Lower-cased value of the profile's uid attribute (for `memberUid`).
    pub uid: Option<String>,
    /// AD: SID of the group named by `primaryGroupID`.
    pub primary_group_sid: Option<String>,
}

/// Reduces a user entry, judging the disabled rules at `now`.
pub fn user_record(entry: &RawEntry, profile: &Profile, now: SystemTime) -> UserRecord {
    let primary_group_sid = if profile.primary_group_membership {
        let user_sid = entry
            .values("objectSid")
            .first()
            .and_then(|s| ad::format_sid(s));
        let rid = entry
            .first_text("primaryGroupID")
            .and_then(|r| r.parse::<u32>().ok());
        user_sid
            .zip(rid)
            .and_then(|(sid, rid)| ad::primary_group_sid(&sid, rid))
    } else {
        None
    };
    let mapped = map_user(entry, profile, now);
    let unusable_email = match &mapped {
        Ok(_) => None,
        Err(_) => Some(select_email(entry, profile).0).filter(|e| !e.trim().is_empty()),
    };
    UserRecord {
        dn: entry.dn.clone(),
        mapped,
        unusable_email,
        uid: entry
            .first_text(&profile.uid_attribute)
            .map(str::to_lowercase),
        primary_group_sid,
    }
}

/// Everything one read produced, reduced.
#[derive(Debug, Clone, Default)]
pub struct ReadRecords {
    /// Groups.
    pub groups: Vec<GroupRecord>,
    /// Users.
    pub users: Vec<UserRecord>,
    /// Ids the server reported deleted.
    pub deleted: Vec<SourceId>,
}

/// [`assemble_records`] over raw entries.
pub fn assemble(
    profile: &Profile,
    user_root_dns: &[String],
    group_root_dns: &[String],
    read: &ReadEntries,
    now: SystemTime,
) -> Result<DesiredState, AssembleError> {
    let records = ReadRecords {
        groups: read
            .groups
            .iter()
            .map(|g| group_record(g, profile))
            .collect(),
        users: read
            .users
            .iter()
            .map(|u| user_record(u, profile, now))
            .collect(),
        deleted: read.deleted.clone(),
    };
    assemble_records(user_root_dns, group_root_dns, records)
}

/// Builds the [`DesiredState`]: resolves members to ids, keeps the groups reachable from the
/// roots (cycle-safe) and the users that are their direct members, with nesting kept.
/// Per-entry problems become issues; only an unusable root is an error.
///
/// Indexes borrow from the records (no per-entry copies of ids or DNs); the users kept are
/// moved out at the end.
pub fn assemble_records(
    user_root_dns: &[String],
    group_root_dns: &[String],
    read: ReadRecords,
) -> Result<DesiredState, AssembleError> {
    use std::collections::hash_map::Entry;

    let ReadRecords {
        groups: group_records,
        users: user_records,
        deleted,
    } = read;
    let mut issues: Vec<SourceIssue> = Vec::new();

    /// Which record first used an id.
    #[derive(Clone, Copy)]
    enum Owner {
        Group(usize),
        User(usize),
    }
    let first_dn = |owner: Owner| match owner {
        Owner::Group(i) => group_records[i].dn.as_str(),
        Owner::User(i) => user_records[i].dn.as_str(),
    };
    let duplicate = |dn: &str, id: &SourceId, first: &str| SourceIssue {
        entry: dn.to_owned(),
        problem: format!("duplicate id {id}, already used by {first}; this entry is ignored"),
        id: Some(id.clone()),
        email: None,
    };
    let mut owner_of: FxHashMap<&str, Owner> = FxHashMap::default();
    owner_of.reserve(group_records.len() + user_records.len());

    // Groups with usable, unique ids: `kept_groups[position] = (record index, id)`.
    let mut kept_groups: Vec<(usize, &SourceId)> = Vec::with_capacity(group_records.len());
    let mut group_by_dn: FxHashMap<Cow<'_, str>, usize> = FxHashMap::default();
    let mut group_problem_by_dn: FxHashMap<Cow<'_, str>, &str> = FxHashMap::default();
    for (ri, record) in group_records.iter().enumerate() {
        match &record.id {
            Err(problem) => {
                group_problem_by_dn.insert(dn_key(&record.dn), problem);
                issues.push(SourceIssue {
                    entry: record.dn.clone(),
                    problem: problem.clone(),
                    id: None,
                    email: None,
                });
            }
            Ok(id) => match owner_of.entry(id.as_str()) {
                Entry::Occupied(first) => {
                    issues.push(duplicate(&record.dn, id, first_dn(*first.get())))
                }
                Entry::Vacant(slot) => {
                    slot.insert(Owner::Group(ri));
                    group_by_dn.insert(dn_key(&record.dn), kept_groups.len());
                    kept_groups.push((ri, id));
                }
            },
        }
    }

    // Users with usable, unique ids: `kept_users[position] = (record index, id)`.
    let mut kept_users: Vec<(usize, &SourceId)> = Vec::with_capacity(user_records.len());
    let mut user_by_dn: FxHashMap<Cow<'_, str>, usize> = FxHashMap::default();
    user_by_dn.reserve(user_records.len());
    let mut user_by_uid: FxHashMap<&str, usize> = FxHashMap::default();
    for (ri, record) in user_records.iter().enumerate() {
        match &record.mapped {
            Err(problem) => {
                issues.push(SourceIssue {
                    entry: record.dn.clone(),
                    problem: format!(
                        "{problem}; this entry is skipped, and a team member with its email is left as it is"
                    ),
                    id: None,
                    email: record.unusable_email.clone(),
                });
            }
            Ok(mapped) => match owner_of.entry(mapped.user.id.as_str()) {
                Entry::Occupied(first) => issues.push(duplicate(
                    &record.dn,
                    &mapped.user.id,
                    first_dn(*first.get()),
                )),
                Entry::Vacant(slot) => {
                    slot.insert(Owner::User(ri));
                    let position = kept_users.len();
                    user_by_dn.insert(dn_key(&record.dn), position);
                    if let Some(uid) = record.uid.as_deref() {
                        user_by_uid.entry(uid).or_insert(position);
                    }
                    kept_users.push((ri, &mapped.user.id));
                }
            },
        }
    }
    let group_id = |position: usize| kept_groups[position].1;
    let user_id = |position: usize| kept_users[position].1;

    // Members of each kept group: child groups and users, by position.
    let mut child_groups: Vec<Vec<usize>> = vec![Vec::new(); kept_groups.len()];
    let mut member_users: Vec<Vec<usize>> = vec![Vec::new(); kept_groups.len()];
    for (gp, &(ri, _)) in kept_groups.iter().enumerate() {
        let refs = &group_records[ri].refs;
        for dn in &refs.dns {
            if let Some(&child) = group_by_dn.get(dn.as_str()) {
                child_groups[gp].push(child);
            } else if let Some(&user) = user_by_dn.get(dn.as_str()) {
                member_users[gp].push(user);
            }
        }
        for uid in &refs.uids {
            if let Some(&user) = user_by_uid.get(uid.as_str()) {
                member_users[gp].push(user);
            }
        }
    }
    if kept_users
        .iter()
        .any(|&(ri, _)| user_records[ri].primary_group_sid.is_some())
    {
        let group_by_sid: FxHashMap<&str, usize> = kept_groups
            .iter()
            .enumerate()
            .filter_map(|(gp, &(ri, _))| group_records[ri].sid.as_deref().map(|s| (s, gp)))
            .collect();
        for (up, &(ri, _)) in kept_users.iter().enumerate() {
            let sid = user_records[ri].primary_group_sid.as_deref();
            if let Some(&gp) = sid.and_then(|s| group_by_sid.get(s)) {
                member_users[gp].push(up);
            }
        }
    }

    // Roots.
    let resolve_roots = |dns: &[String]| -> Result<Vec<usize>, AssembleError> {
        let mut positions = Vec::new();
        for dn in dns {
            let key = dn_key(dn);
            if let Some(&gp) = group_by_dn.get(key.as_ref()) {
                if !positions.contains(&gp) {
                    positions.push(gp);
                }
            } else if let Some(problem) = group_problem_by_dn.get(key.as_ref()) {
                return Err(AssembleError::RootWithoutId {
                    dn: dn.clone(),
                    problem: (*problem).to_owned(),
                });
            } else {
                return Err(AssembleError::RootNotFound(dn.clone()));
            }
        }
        Ok(positions)
    };
    let user_roots = resolve_roots(user_root_dns)?;
    let group_roots = resolve_roots(group_root_dns)?;

    // Groups reachable from any root (iterative, each group visited once: cycles end there).
    let mut reachable = vec![false; kept_groups.len()];
    let mut stack: Vec<usize> = user_roots.iter().chain(&group_roots).copied().collect();
    while let Some(g) = stack.pop() {
        if std::mem::replace(&mut reachable[g], true) {
            continue;
        }
        stack.extend(child_groups[g].iter().copied().filter(|c| !reachable[*c]));
    }
    // Users kept in the output, by record index.
    let mut user_wanted = vec![false; user_records.len()];
    for (gp, members) in member_users.iter().enumerate() {
        if reachable[gp] {
            for &up in members {
                user_wanted[kept_users[up].0] = true;
            }
        }
    }

    let mut out_groups: Vec<DirectoryGroup> = (0..kept_groups.len())
        .filter(|gp| reachable[*gp])
        .map(|gp| {
            let mut members: Vec<SourceId> = child_groups[gp]
                .iter()
                .map(|c| group_id(*c).clone())
                .chain(member_users[gp].iter().map(|u| user_id(*u).clone()))
                .collect();
            members.sort_unstable();
            members.dedup();
            let record = &group_records[kept_groups[gp].0];
            DirectoryGroup {
                id: group_id(gp).clone(),
                name: record.name.clone(),
                members,
                locator: Some(record.dn.clone()),
            }
        })
        .collect();
    out_groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let user_root_ids: Vec<SourceId> = user_roots.iter().map(|gp| group_id(*gp).clone()).collect();
    let group_root_ids: Vec<SourceId> =
        group_roots.iter().map(|gp| group_id(*gp).clone()).collect();
    // The indexes borrowing the records end here; the wanted users are moved out.
    drop((
        owner_of,
        group_by_dn,
        group_problem_by_dn,
        user_by_dn,
        user_by_uid,
        kept_groups,
    ));

    let mut out_users = Vec::with_capacity(kept_users.len());
    drop(kept_users);
    for (ri, record) in user_records.into_iter().enumerate() {
        // Only kept users (usable, first of their id) can be wanted.
        let (true, Ok(mapped)) = (user_wanted[ri], record.mapped) else {
            continue;
        };
        if let Some(problem) = mapped.email_problem {
            issues.push(SourceIssue {
                entry: record.dn,
                problem,
                id: Some(mapped.user.id.clone()),
                email: None,
            });
        }
        out_users.push(mapped.user);
    }
    out_users.sort_unstable_by(|a, b| a.id.cmp(&b.id));

    let mut deleted = deleted;
    deleted.sort_unstable();
    deleted.dedup();
    issues.sort();
    Ok(DesiredState {
        user_roots: user_root_ids,
        group_roots: group_root_ids,
        users: out_users,
        groups: out_groups,
        deleted,
        issues,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000) // 2023-11-14
    }

    fn sid(id: &str) -> SourceId {
        SourceId::new(id).unwrap()
    }

    fn person(dn: &str, uuid: &str, extra: &[(&'static str, &'static [&'static str])]) -> RawEntry {
        let mut e = RawEntry::from_text(dn, extra.iter().copied());
        e.push_all("entryUUID", [uuid.as_bytes().to_vec()]);
        e
    }

    #[test]
    fn dns_normalise() {
        assert_eq!(
            normalize_dn(" CN=Ann Lee , OU=People,DC=Example,DC=org "),
            "cn=ann lee,ou=people,dc=example,dc=org"
        );
        assert_eq!(normalize_dn("cn = A\\, B,dc=x"), "cn=a\\, b,dc=x");
        assert_eq!(normalize_dn("uid=a+cn=B,dc=x"), "uid=a+cn=b,dc=x");
        assert_eq!(first_rdn_value("cn=Sales,ou=g,dc=x"), "Sales");
        assert_eq!(strip_unique_member_uid("uid=a,dc=x#'0101'B"), "uid=a,dc=x");
        assert_eq!(strip_unique_member_uid("uid=a,dc=x"), "uid=a,dc=x");
    }

    #[test]
    fn ids_text_and_guid() {
        let ol = Profile::open_ldap();
        let e = person("uid=a,dc=x", "3f1e0c8a-1111-4c4c-8888-000000000001", &[]);
        assert_eq!(
            entry_id(&e, &ol).unwrap().as_str(),
            "3f1e0c8a-1111-4c4c-8888-000000000001"
        );
        assert!(
            entry_id(&RawEntry::from_text("uid=b,dc=x", []), &ol)
                .unwrap_err()
                .contains("entryUUID")
        );

        let ad = Profile::active_directory();
        let mut g = RawEntry::from_text("CN=A,DC=x", []);
        g.push_all(
            "objectGUID",
            [vec![
                0xc6, 0xf7, 0xa0, 0x0b, 0x27, 0x3a, 0x0f, 0x4e, 0x9b, 0x2d, 0x1a, 0x2b, 0x3c, 0x4d,
                0x5e, 0x6f,
            ]],
        );
        assert_eq!(
            entry_id(&g, &ad).unwrap().as_str(),
            "0ba0f7c6-3a27-4e0f-9b2d-1a2b3c4d5e6f"
        );
        let mut short = RawEntry::from_text("CN=B,DC=x", []);
        short.push_all("objectguid", [vec![1, 2, 3]]);
        assert!(entry_id(&short, &ad).unwrap_err().contains("3 bytes"));
    }

    #[test]
    fn email_precedence() {
        let mut ad = Profile::active_directory();
        let e = RawEntry::from_text(
            "CN=A,DC=x",
            [
                ("mail", &["Ann@X.com"][..]),
                (
                    "proxyAddresses",
                    &["smtp:alias@x.com", "SMTP:primary@x.com"][..],
                ),
                ("userPrincipalName", &["ann@corp.local"][..]),
            ],
        );
        assert_eq!(select_email(&e, &ad), ("ann@x.com".into(), None));
        let no_mail = RawEntry::from_text(
            "CN=A,DC=x",
            [
                (
                    "proxyAddresses",
                    &["smtp:alias@x.com", "SMTP:Primary@x.com"][..],
                ),
                ("userPrincipalName", &["ann@corp.example"][..]),
            ],
        );
        assert_eq!(select_email(&no_mail, &ad), ("primary@x.com".into(), None));
        let upn_only = RawEntry::from_text(
            "CN=A,DC=x",
            [("userPrincipalName", &["ann@corp.example"][..])],
        );
        let (email, problem) = select_email(&upn_only, &ad);
        assert_eq!(email, "");
        assert_eq!(problem.as_deref(), Some("no email address"));
        ad.upn_as_email = true;
        assert_eq!(
            select_email(&upn_only, &ad),
            ("ann@corp.example".into(), None)
        );

        let bad = RawEntry::from_text("uid=a,dc=x", [("mail", &["not-an-address"][..])]);
        let (email, problem) = select_email(&bad, &Profile::open_ldap());
        assert_eq!(email, "not-an-address");
        assert!(problem.unwrap().starts_with("unusable email in mail"));
    }

    #[test]
    fn names_fall_back_to_full_name() {
        let p = Profile::open_ldap();
        let e = RawEntry::from_text(
            "uid=a,dc=x",
            [("givenName", &["Zoë"][..]), ("sn", &["Ångström"][..])],
        );
        assert_eq!(select_names(&e, &p), ("Zoë".into(), "Ångström".into()));
        let e = RawEntry::from_text("uid=a,dc=x", [("cn", &["José María López"][..])]);
        assert_eq!(select_names(&e, &p), ("José".into(), "María López".into()));
        let e = RawEntry::from_text("uid=a,dc=x", [("cn", &["Prince"][..])]);
        assert_eq!(select_names(&e, &p), ("Prince".into(), String::new()));
    }

    #[test]
    fn disabled_rules() {
        let locked = RawEntry::from_text(
            "uid=a,dc=x",
            [("pwdAccountLockedTime", &["000001010000Z"][..])],
        );
        let rules = Profile::open_ldap().disabled_rules;
        assert!(is_disabled(&locked, &rules, now()));
        assert!(!is_disabled(
            &RawEntry::from_text("uid=a,dc=x", []),
            &rules,
            now()
        ));

        // Locked at 2023-11-14T22:00:00Z, 30 minutes lockout.
        assert_eq!(
            parse_generalized_time("20231114220000Z"),
            Some(1_699_999_200)
        );
        let at = parse_generalized_time("20231114221320Z").unwrap();
        assert_eq!(at, 1_700_000_000);
        let thirty = Some(Duration::from_secs(1800));
        assert!(ppolicy_locked("20231114221320Z", thirty, now()));
        assert!(!ppolicy_locked("20231114201320Z", thirty, now()));
        assert!(ppolicy_locked("20231114201320Z", None, now()));

        assert!(shadow_expired("19000", now()));
        assert!(!shadow_expired("-1", now()));
        assert!(!shadow_expired("20000", now()));

        let ns = [DisabledRule::NsAccountLock];
        assert!(is_disabled(
            &RawEntry::from_text("uid=a", [("nsAccountLock", &["TRUE"][..])]),
            &ns,
            now()
        ));
        assert!(!is_disabled(
            &RawEntry::from_text("uid=a", [("nsAccountLock", &["False"][..])]),
            &ns,
            now()
        ));

        let ad = Profile::active_directory().disabled_rules;
        let uac = RawEntry::from_text(
            "CN=a",
            [
                ("userAccountControl", &["514"][..]),
                ("accountExpires", &["0"][..]),
            ],
        );
        assert!(is_disabled(&uac, &ad, now()));
        // 2020-01-01 in FILETIME ticks: expired by "now".
        let expired = RawEntry::from_text(
            "CN=a",
            [
                ("userAccountControl", &["512"][..]),
                ("accountExpires", &["132223104000000000"][..]),
            ],
        );
        assert!(is_disabled(&expired, &ad, now()));
        assert!(!is_disabled(
            &expired,
            &ad,
            UNIX_EPOCH + Duration::from_secs(1_500_000_000)
        ));
    }

    #[test]
    fn ranged_parts_merge() {
        let mut e = RawEntry::from_text(
            "CN=big",
            [
                ("member;range=0-1499", &["CN=a", "CN=b"][..]),
                ("member", &[][..]),
            ],
        );
        assert_eq!(e.merge_ranged_parts(), vec![("member".to_owned(), 1500)]);
        assert_eq!(e.values("member").len(), 2);
        let mut last = RawEntry::from_text("CN=big", [("member;range=1500-*", &["CN=c"][..])]);
        assert_eq!(last.merge_ranged_parts(), vec![]);
        assert_eq!(last.values("member").len(), 1);
    }

    fn group(dn: &str, uuid: &str, members: &'static [&'static str]) -> RawEntry {
        person(dn, uuid, &[("member", members)])
    }

    #[test]
    fn assemble_closure_cycles_uids_and_issues() {
        let p = Profile::open_ldap();
        let read = ReadEntries {
            groups: vec![
                group("cn=root,dc=x", "g-root", &["cn=mid,dc=x", "uid=ann,dc=x"]),
                group("cn=mid,dc=x", "g-mid", &["cn=leaf,dc=x", "CN=Root,DC=x"]),
                group(
                    "cn=leaf,dc=x",
                    "g-leaf",
                    &["uid=bob,dc=x", "uid=ghost,dc=x"],
                ),
                group("cn=other,dc=x", "g-other", &["uid=carl,dc=x"]),
                person("cn=posix,dc=x", "g-posix", &[("memberUid", &["Dora"])]),
                group("cn=noid,dc=x", "", &[]),
            ],
            users: vec![
                person(
                    "uid=ann,dc=x",
                    "u-ann",
                    &[("mail", &["ann@x.com"]), ("sn", &["Lee"])],
                ),
                person("uid=bob,dc=x", "u-bob", &[("sn", &["Bob"])]),
                person("uid=carl,dc=x", "u-carl", &[("mail", &["carl@x.com"])]),
                person(
                    "uid=dora,dc=x",
                    "u-dora",
                    &[("mail", &["dora@x.com"]), ("uid", &["dora"])],
                ),
                person("uid=dup,dc=x", "u-ann", &[("mail", &["dup@x.com"])]),
            ],
            deleted: vec![sid("u-gone")],
        };
        let mut read = read;
        read.groups[5].attrs.remove("entryuuid");
        let state = assemble(
            &p,
            &["cn=root,dc=x".into()],
            &["cn=posix,dc=x".into()],
            &read,
            now(),
        )
        .unwrap();
        assert_eq!(state.user_roots, vec![sid("g-root")]);
        assert_eq!(state.group_roots, vec![sid("g-posix")]);
        let group_ids: Vec<&str> = state.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(group_ids, ["g-leaf", "g-mid", "g-posix", "g-root"]);
        let mid = state
            .groups
            .iter()
            .find(|g| g.id.as_str() == "g-mid")
            .unwrap();
        assert_eq!(mid.members, vec![sid("g-leaf"), sid("g-root")]);
        let posix = state
            .groups
            .iter()
            .find(|g| g.id.as_str() == "g-posix")
            .unwrap();
        assert_eq!(posix.members, vec![sid("u-dora")]);
        let user_ids: Vec<&str> = state.users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(user_ids, ["u-ann", "u-bob", "u-dora"]);
        assert_eq!(state.deleted, vec![sid("u-gone")]);
        let problems: Vec<(&str, &str)> = state
            .issues
            .iter()
            .map(|i| (i.entry.as_str(), i.problem.as_str()))
            .collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.contains(&("cn=noid,dc=x", "no entryUUID (the id attribute)")));
        assert!(problems.contains(&("uid=bob,dc=x", "no email address")));
        assert!(
            problems
                .iter()
                .any(|(dn, p)| *dn == "uid=dup,dc=x" && p.starts_with("duplicate id u-ann"))
        );

        let missing = assemble(&p, &["cn=nope,dc=x".into()], &[], &read, now()).unwrap_err();
        assert_eq!(missing, AssembleError::RootNotFound("cn=nope,dc=x".into()));
        let no_id = assemble(&p, &["cn=noid,dc=x".into()], &[], &read, now()).unwrap_err();
        assert!(matches!(no_id, AssembleError::RootWithoutId { .. }));
    }

    #[test]
    fn assemble_primary_group_from_sid() {
        let p = Profile::active_directory();
        let sid_bytes = |rid: u32| {
            let mut b = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
            for sub in [21u32, 1, 2, 3, rid] {
                b.extend_from_slice(&sub.to_le_bytes());
            }
            b
        };
        let guid = |n: u8| vec![n; 16];
        let mut domain_users = RawEntry::from_text(
            "CN=Domain Users,CN=Users,DC=x",
            [("cn", &["Domain Users"][..])],
        );
        domain_users.push_all("objectGUID", [guid(0x81)]);
        domain_users.push_all("objectSid", [sid_bytes(513)]);
        let mut ann = RawEntry::from_text(
            "CN=Ann,CN=Users,DC=x",
            [
                ("mail", &["ann@x.com"][..]),
                ("primaryGroupID", &["513"][..]),
                ("userAccountControl", &["512"][..]),
            ],
        );
        ann.push_all("objectGUID", [guid(0x82)]);
        ann.push_all("objectSid", [sid_bytes(1105)]);
        let read = ReadEntries {
            groups: vec![domain_users],
            users: vec![ann],
            deleted: vec![],
        };
        let state = assemble(
            &p,
            &["cn=domain users,cn=users,dc=x".into()],
            &[],
            &read,
            now(),
        )
        .unwrap();
        assert_eq!(state.users.len(), 1);
        assert_eq!(state.groups[0].members, vec![state.users[0].id.clone()]);
        assert!(state.users[0].enabled);
        assert_eq!(
            state.users[0].id.as_str(),
            "82828282-8282-8282-8282-828282828282"
        );
    }
}
