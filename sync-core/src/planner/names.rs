//! Names and addresses as Dropbox accepts them, and the wording that describes members and
//! profile changes in reasons and warnings.

use std::borrow::Cow;

use crate::model::{DirectoryGroup, DirectoryUser, Email, EmailError, TeamMember};
use crate::plan::Observed;
use crate::store::ProfileChange;

/// Longest name part Dropbox accepts.
pub const NAME_PART_MAX: usize = 50;
const FORBIDDEN_NAME_CHARS: &[char] = &['/', ':', '?', '*', '<', '>', '"', '|'];
/// Printable ASCII that Dropbox accepts in a name part as it is.
const PLAIN_NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        table[b] = !matches!(
            b as u8,
            b'/' | b':' | b'?' | b'*' | b'<' | b'>' | b'"' | b'|'
        );
        b += 1;
    }
    table
};

/// Cleans a name part to Dropbox's rules: trimmed, forbidden characters `/:?*<>"|` and control
/// characters dropped, cut to 50 characters on a character boundary. Borrowed when already clean.
pub fn clean_name_part(name: &str) -> Cow<'_, str> {
    let trimmed = name.trim();
    // Fast path, taken by nearly every name: short, printable ASCII, nothing forbidden.
    if trimmed.len() <= NAME_PART_MAX && trimmed.bytes().all(|b| PLAIN_NAME_BYTE[b as usize]) {
        return Cow::Borrowed(trimmed);
    }
    let clean = |c: char| !FORBIDDEN_NAME_CHARS.contains(&c) && !c.is_control();
    if trimmed.chars().count() <= NAME_PART_MAX && trimmed.chars().all(clean) {
        return Cow::Borrowed(trimmed);
    }
    let kept: String = trimmed
        .chars()
        .filter(|&c| clean(c))
        .take(NAME_PART_MAX)
        .collect();
    let kept_trimmed = kept.trim();
    if kept_trimmed.len() == kept.len() {
        Cow::Owned(kept)
    } else {
        Cow::Owned(kept_trimmed.to_owned())
    }
}

/// Bytes Dropbox's pattern accepts before the `@`: `['#&A-Za-z0-9._%+-]`.
const LOCAL_BYTE: [bool; 256] = byte_table(b"'#&._%+-");
/// Bytes it accepts after the `@`: `[A-Za-z0-9.-]`.
const DOMAIN_BYTE: [bool; 256] = byte_table(b".-");

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

/// Whether an already-trimmed address passes Dropbox's rules (exactly what
/// `model::validate_email` accepts), and whether it has upper-case letters: one pass over the
/// bytes, since it runs for every directory user.
fn quick_check(s: &[u8]) -> (bool, bool) {
    if s.is_empty() || s.len() > Email::MAX_LEN {
        return (false, false);
    }
    let mut upper = false;
    let mut at = usize::MAX;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        upper |= b.is_ascii_uppercase();
        if b == b'@' {
            at = i;
            break;
        }
        if !LOCAL_BYTE[b as usize] {
            return (false, upper);
        }
        i += 1;
    }
    if at == usize::MAX || at == 0 || at + 1 >= s.len() || s[at + 1] == b'.' {
        return (false, upper);
    }
    let (mut last_dot, mut tld_len, mut tld_alpha) = (usize::MAX, 0usize, true);
    for (j, &b) in s[at + 1..].iter().enumerate() {
        if !DOMAIN_BYTE[b as usize] {
            return (false, upper);
        }
        upper |= b.is_ascii_uppercase();
        if b == b'.' {
            last_dot = j;
            tld_len = 0;
            tld_alpha = true;
        } else {
            tld_len += 1;
            tld_alpha &= b.is_ascii_alphabetic();
        }
    }
    let ok = last_dot != usize::MAX && last_dot > 0 && (2..=15).contains(&tld_len) && tld_alpha;
    (ok, upper)
}

/// A directory address, trimmed and lower-cased, checked against Dropbox's rules. Borrowed on
/// the common path (already clean), so most users cost no allocation.
pub(super) fn normalize_email(raw: &str) -> Result<Cow<'_, str>, EmailError> {
    let padded = raw.as_bytes().first().is_some_and(u8::is_ascii_whitespace)
        || raw.as_bytes().last().is_some_and(u8::is_ascii_whitespace);
    let trimmed = if padded || !raw.is_ascii() {
        raw.trim()
    } else {
        raw
    };
    match quick_check(trimmed.as_bytes()) {
        (true, false) => Ok(Cow::Borrowed(trimmed)),
        (true, true) => Ok(Cow::Owned(trimmed.to_ascii_lowercase())),
        // The model's check says why, in its own words.
        (false, _) => Email::parse(trimmed).map(|e| Cow::Owned(String::from(e))),
    }
}

/// How reports name a directory user: its locator (a DN, a file line), else its id.
pub(super) fn locator(u: &DirectoryUser) -> String {
    u.locator.clone().unwrap_or_else(|| format!("id {}", u.id))
}

/// How reports name a directory group: its locator, else its name.
pub(super) fn group_label(g: &DirectoryGroup) -> String {
    g.locator.clone().unwrap_or_else(|| g.name.clone())
}

/// A member as it will be once `change` is made.
pub(super) fn apply_change(before: &Observed, change: &ProfileChange) -> Observed {
    match before.clone() {
        Observed::Member {
            email,
            given_name,
            surname,
            external_id,
            status,
        } => Observed::Member {
            email: change.email.clone().unwrap_or(email),
            given_name: change.given_name.clone().unwrap_or(given_name),
            surname: change.surname.clone().unwrap_or(surname),
            external_id: change.external_id.clone().or(external_id),
            status,
        },
        other => other,
    }
}

/// "email a → b, given name "x" → "y"": what a profile change does, for its reason.
pub(super) fn describe_change(m: &TeamMember, change: &ProfileChange) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &change.email {
        parts.push(format!("email {} → {e}", m.email));
    }
    if let Some(g) = &change.given_name {
        parts.push(format!("given name {:?} → {g:?}", m.given_name));
    }
    if let Some(s) = &change.surname {
        parts.push(format!("surname {:?} → {s:?}", m.surname));
    }
    parts.join(", ")
}
