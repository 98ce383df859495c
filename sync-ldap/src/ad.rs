//! Everything specific to Active Directory, in one place: `objectGUID` and `objectSid`
//! formats, `userAccountControl` and `accountExpires`, `proxyAddresses`, ranged attribute
//! keys, and the show-deleted control. Pure functions, no network.

use std::time::{SystemTime, UNIX_EPOCH};

/// OID of the show-deleted control (returns tombstones with `isDeleted=TRUE`).
pub const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";

/// Filter for tombstones of users and groups (computers excluded, as in the user filter).
pub const DELETED_FILTER: &str =
    "(&(isDeleted=TRUE)(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group)))";

/// `userAccountControl` bit ACCOUNTDISABLE.
pub const UAC_ACCOUNT_DISABLE: u32 = 0x2;

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: i64 = 11_644_473_600;

/// Formats a 16-byte `objectGUID` as AD prints it: the first three groups little-endian, the
/// rest in byte order, lower-case (`{b3}{b2}{b1}{b0}-{b5}{b4}-{b7}{b6}-{b8}{b9}-{b10..b15}`).
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

/// Formats a binary `objectSid` as `S-1-5-21-…`. `None` when the bytes are not a SID.
pub fn format_sid(bytes: &[u8]) -> Option<String> {
    let (&revision, rest) = bytes.split_first()?;
    let (&count, rest) = rest.split_first()?;
    if rest.len() != 6 + 4 * usize::from(count) {
        return None;
    }
    let authority = rest[..6]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut out = format!("S-{revision}-{authority}");
    for chunk in rest[6..].chunks_exact(4) {
        let sub = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        out.push('-');
        out.push_str(&sub.to_string());
    }
    Some(out)
}

/// The SID of the group a user's `primaryGroupID` names: the user's domain SID (its own SID
/// without the last part) followed by the RID.
pub fn primary_group_sid(user_sid: &str, primary_group_id: u32) -> Option<String> {
    let (domain, _rid) = user_sid.rsplit_once('-')?;
    if !domain.starts_with("S-") {
        return None;
    }
    Some(format!("{domain}-{primary_group_id}"))
}

/// Whether `userAccountControl` marks the account disabled. An unreadable value is treated as
/// enabled: the value comes from AD itself, and other rules still apply.
pub fn uac_disabled(user_account_control: &str) -> bool {
    user_account_control
        .trim()
        .parse::<i64>()
        .map(|v| (v as u32) & UAC_ACCOUNT_DISABLE != 0)
        .unwrap_or(false)
}

/// Whether `accountExpires` (100 ns ticks since 1601; 0 and `i64::MAX` mean never) is at or
/// before `now`.
pub fn account_expired(account_expires: &str, now: SystemTime) -> bool {
    let Ok(ticks) = account_expires.trim().parse::<i64>() else {
        return false;
    };
    if ticks <= 0 || ticks == i64::MAX {
        return false;
    }
    let expires_unix = ticks / 10_000_000 - FILETIME_UNIX_OFFSET_SECS;
    unix_seconds(now) >= expires_unix
}

/// Seconds since 1970 (negative before).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The primary address of `proxyAddresses`: the value prefixed `SMTP:` (upper case; aliases
/// are `smtp:`), without the prefix.
pub fn primary_smtp_address<'a>(
    proxy_addresses: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    proxy_addresses
        .into_iter()
        .find_map(|v| v.strip_prefix("SMTP:"))
        .map(str::trim)
}

/// A ranged attribute key, `member;range=0-1499` or `member;range=1500-*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeKey {
    /// The attribute name, without options (`member`).
    pub attribute: String,
    /// First value index in this part.
    pub start: u32,
    /// Last value index, or `None` for `*` (this part is the last).
    pub end: Option<u32>,
}

/// Parses a ranged attribute key (case-insensitive). `None` when the key has no `range=`
/// option or it is malformed.
pub fn parse_range_key(key: &str) -> Option<RangeKey> {
    let mut parts = key.split(';');
    let attribute = parts.next()?.to_owned();
    for option in parts {
        let Some((name, value)) = option.split_once('=') else {
            continue;
        };
        if !name.eq_ignore_ascii_case("range") {
            continue;
        }
        let (start, end) = value.split_once('-')?;
        let start = start.parse().ok()?;
        let end = if end == "*" {
            None
        } else {
            Some(end.parse().ok()?)
        };
        if end.is_some_and(|e| e < start) {
            return None;
        }
        return Some(RangeKey {
            attribute,
            start,
            end,
        });
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn guid_of_the_entra_hybrid_case() {
        // The bytes sync-entra's immutable-id test decodes: both crates must print this id.
        let bytes = [
            0x91, 0x98, 0xfb, 0x9e, 0x21, 0xae, 0x6b, 0x41, 0xb3, 0xf7, 0x69, 0x88, 0x0c, 0x29,
            0x7e, 0x4f,
        ];
        assert_eq!(
            format_guid(&bytes).unwrap(),
            "9efb9891-ae21-416b-b3f7-69880c297e4f"
        );
    }

    #[test]
    fn guid_is_mixed_endian_lower_case() {
        // Bytes as AD stores {0ba0f7c6-3a27-4e0f-9b2d-1a2b3c4d5e6f}.
        let bytes = [
            0xc6, 0xf7, 0xa0, 0x0b, 0x27, 0x3a, 0x0f, 0x4e, 0x9b, 0x2d, 0x1a, 0x2b, 0x3c, 0x4d,
            0x5e, 0x6f,
        ];
        assert_eq!(
            format_guid(&bytes).unwrap(),
            "0ba0f7c6-3a27-4e0f-9b2d-1a2b3c4d5e6f"
        );
        assert_eq!(format_guid(&bytes[..15]), None);
        assert_eq!(format_guid(&[0; 17]), None);
    }

    #[test]
    fn sid_and_primary_group() {
        // S-1-5-21-1004336348-1177238915-682003330-1103
        let mut bytes = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1_004_336_348, 1_177_238_915, 682_003_330, 1103] {
            bytes.extend_from_slice(&sub.to_le_bytes());
        }
        let sid = format_sid(&bytes).unwrap();
        assert_eq!(sid, "S-1-5-21-1004336348-1177238915-682003330-1103");
        assert_eq!(
            primary_group_sid(&sid, 513).unwrap(),
            "S-1-5-21-1004336348-1177238915-682003330-513"
        );
        assert_eq!(format_sid(&bytes[..10]), None);
        assert_eq!(format_sid(&[]), None);
        assert_eq!(primary_group_sid("garbage", 513), None);
    }

    #[test]
    fn user_account_control_bit_two() {
        assert!(uac_disabled("514"));
        assert!(uac_disabled("66050"));
        assert!(!uac_disabled("512"));
        assert!(!uac_disabled("66048"));
        assert!(!uac_disabled("not a number"));
    }

    #[test]
    fn account_expires_against_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ticks = |unix: i64| ((unix + FILETIME_UNIX_OFFSET_SECS) * 10_000_000).to_string();
        assert!(!account_expired("0", now));
        assert!(!account_expired("9223372036854775807", now));
        assert!(account_expired(&ticks(1_600_000_000), now));
        assert!(!account_expired(&ticks(1_800_000_000), now));
        assert!(account_expired(&ticks(1_700_000_000), now));
        assert!(!account_expired("", now));
    }

    #[test]
    fn primary_smtp_is_the_upper_case_one() {
        let values = [
            "smtp:alias@x.com",
            "SMTP:Main@X.com",
            "X400:c=US",
            "sip:a@x.com",
        ];
        assert_eq!(primary_smtp_address(values), Some("Main@X.com"));
        assert_eq!(primary_smtp_address(["smtp:alias@x.com"]), None);
    }

    #[test]
    fn range_keys() {
        assert_eq!(
            parse_range_key("member;range=0-1499"),
            Some(RangeKey {
                attribute: "member".into(),
                start: 0,
                end: Some(1499)
            })
        );
        assert_eq!(
            parse_range_key("member;Range=1500-*"),
            Some(RangeKey {
                attribute: "member".into(),
                start: 1500,
                end: None
            })
        );
        assert_eq!(parse_range_key("member"), None);
        assert_eq!(parse_range_key("member;range=x-1"), None);
        assert_eq!(parse_range_key("member;range=5-1"), None);
        assert_eq!(parse_range_key("member;binary"), None);
    }
}
