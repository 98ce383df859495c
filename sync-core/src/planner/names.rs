//! Names and addresses as Dropbox accepts them, and the wording that describes members and
//! profile changes in reasons and warnings.

use std::borrow::Cow;

use crate::model::{DirectoryUser, Email, EmailError, TeamMember};
use crate::plan::Observed;
use crate::store::ProfileChange;
use crate::text::quoted;

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
    // Fast path, taken by nearly every name: printable ASCII with nothing forbidden, short once
    // trimmed. In printable ASCII the only whitespace is the space, so trimming spaces is
    // `trim()` here, without decoding characters.
    if name.bytes().all(|b| PLAIN_NAME_BYTE[b as usize]) {
        let trimmed = name.trim_ascii();
        if trimmed.len() <= NAME_PART_MAX {
            return Cow::Borrowed(trimmed);
        }
    }
    let trimmed = name.trim();
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

/// Byte classes of an address, in one table so that a check is one lookup per byte.
const LOCAL: u8 = 1;
const DOMAIN: u8 = 2;
const UPPER: u8 = 4;
const ALPHA: u8 = 8;
/// Bytes Dropbox's pattern accepts before the `@` (`['#&A-Za-z0-9._%+-]`: [`LOCAL`]) and after
/// it (`[A-Za-z0-9.-]`: [`DOMAIN`]); upper-case letters and letters marked.
const EMAIL_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            table[b] |= LOCAL | DOMAIN;
        }
        if c.is_ascii_alphabetic() {
            table[b] |= ALPHA;
        }
        if c.is_ascii_uppercase() {
            table[b] |= UPPER;
        }
        if matches!(c, b'\'' | b'#' | b'&' | b'.' | b'_' | b'%' | b'+' | b'-') {
            table[b] |= LOCAL;
        }
        if matches!(c, b'.' | b'-') {
            table[b] |= DOMAIN;
        }
        b += 1;
    }
    table
};

/// The classes every byte of `s` has, and the classes some byte has.
fn classes(s: &[u8]) -> (u8, u8) {
    s.iter().fold((u8::MAX, 0), |(all, any), &b| {
        let c = EMAIL_BYTE[b as usize];
        (all & c, any | c)
    })
}

/// Whether an already-trimmed address passes Dropbox's rules (exactly what
/// `model::validate_email` accepts), and whether it has upper-case letters: a few passes over
/// the bytes with one table, since it runs for every directory user.
fn quick_check(s: &[u8]) -> (bool, bool) {
    if s.is_empty() || s.len() > Email::MAX_LEN {
        return (false, false);
    }
    let Some(at) = s.iter().position(|&b| b == b'@') else {
        return (false, false);
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || domain.is_empty() || domain[0] == b'.' {
        return (false, false);
    }
    let (local_all, local_any) = classes(local);
    let (domain_all, domain_any) = classes(domain);
    let upper = (local_any | domain_any) & UPPER != 0;
    if local_all & LOCAL == 0 || domain_all & DOMAIN == 0 {
        return (false, upper);
    }
    // The part after the last dot is the TLD: 2 to 15 letters, with something before the dot.
    let ok = match domain.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => {
            let tld = &domain[dot + 1..];
            (2..=15).contains(&tld.len()) && classes(tld).0 & ALPHA != 0
        }
        _ => false,
    };
    (ok, upper)
}

/// A directory address, trimmed and lower-cased, checked against Dropbox's rules. Borrowed on
/// the common path (already clean), so most users cost no allocation.
pub(super) fn normalize_email(raw: &str) -> Result<Cow<'_, str>, EmailError> {
    // Nearly every address passes as read: a valid one has no whitespace and is ASCII, so it
    // is its own trimmed form.
    match quick_check(raw.as_bytes()) {
        (true, false) => return Ok(Cow::Borrowed(raw)),
        (true, true) => return Ok(Cow::Owned(raw.to_ascii_lowercase())),
        (false, _) => {}
    }
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
        parts.push(format!(
            "given name {} → {}",
            quoted(&m.given_name),
            quoted(g)
        ));
    }
    if let Some(s) = &change.surname {
        parts.push(format!("surname {} → {}", quoted(&m.surname), quoted(s)));
    }
    parts.join(", ")
}
