//! Who besides a file's owner, SYSTEM and Administrators can read it, from its security
//! descriptor in SDDL: the text form Windows gives of any ACL (what `icacls` and `Get-Acl`
//! show, in the grammar of Microsoft's "Security Descriptor String Format"). Reading the text
//! keeps this pure and testable anywhere; the Windows half only fetches it.

/// Access rights that let a trustee read the file's data, or give themselves that right.
const READ_RIGHTS: u32 = FILE_READ_DATA | GENERIC_READ | GENERIC_ALL | WRITE_DAC | WRITE_OWNER;
const FILE_READ_DATA: u32 = 0x0000_0001;
const WRITE_DAC: u32 = 0x0004_0000;
const WRITE_OWNER: u32 = 0x0008_0000;
const GENERIC_ALL: u32 = 0x1000_0000;
const GENERIC_READ: u32 = 0x8000_0000;

/// SIDs that may always read: SYSTEM, BUILTIN\Administrators, OWNER RIGHTS (the owner
/// itself), CREATOR OWNER (only a template for children: it grants nobody anything here).
const TRUSTED: &[&str] = &["S-1-5-18", "S-1-5-32-544", "S-1-3-4", "S-1-3-0"];

/// Trustees standing for every user of the machine or the domain: a file readable by one of
/// them gets the same words as a world-readable file on Unix.
const EVERYBODY: &[&str] = &[
    "S-1-1-0",      // Everyone
    "S-1-5-7",      // ANONYMOUS LOGON
    "S-1-5-11",     // Authenticated Users
    "S-1-5-32-545", // BUILTIN\Users
    "S-1-5-32-546", // BUILTIN\Guests
    "S-1-5-4",      // INTERACTIVE
    "S-1-5-2",      // NETWORK
    "DU",           // Domain Users (domain-relative: no fixed SID)
    "DG",           // Domain Guests
];

/// The two-letter SID strings of SDDL that have one SID everywhere, with the names Windows
/// shows for them.
const ALIASES: &[(&str, &str, &str)] = &[
    ("WD", "S-1-1-0", "Everyone"),
    ("CO", "S-1-3-0", "CREATOR OWNER"),
    ("OW", "S-1-3-4", "OWNER RIGHTS"),
    ("NU", "S-1-5-2", "NETWORK"),
    ("IU", "S-1-5-4", "INTERACTIVE"),
    ("SU", "S-1-5-6", "SERVICE"),
    ("AN", "S-1-5-7", "ANONYMOUS LOGON"),
    ("AU", "S-1-5-11", "Authenticated Users"),
    ("SY", "S-1-5-18", "SYSTEM"),
    ("LS", "S-1-5-19", "LOCAL SERVICE"),
    ("NS", "S-1-5-20", "NETWORK SERVICE"),
    ("BA", "S-1-5-32-544", r"BUILTIN\Administrators"),
    ("BU", "S-1-5-32-545", r"BUILTIN\Users"),
    ("BG", "S-1-5-32-546", r"BUILTIN\Guests"),
    ("PU", "S-1-5-32-547", r"BUILTIN\Power Users"),
    ("BO", "S-1-5-32-551", r"BUILTIN\Backup Operators"),
    ("RD", "S-1-5-32-555", r"BUILTIN\Remote Desktop Users"),
    ("AC", "S-1-15-2-1", "ALL APPLICATION PACKAGES"),
];

/// Names of the domain-relative aliases (their SIDs depend on the domain).
const DOMAIN_ALIASES: &[(&str, &str)] = &[
    ("DU", "Domain Users"),
    ("DG", "Domain Guests"),
    ("DA", "Domain Admins"),
    ("DD", "Domain Controllers"),
    ("DC", "Domain Computers"),
    ("EA", "Enterprise Admins"),
    ("SA", "Schema Admins"),
    ("LA", "the local Administrator"),
    ("LG", "the local Guest"),
];

/// The access-right letters of SDDL with their bits (files use the generic, standard and
/// file ones; the directory-service ones share the low bits, e.g. `CC` is FILE_READ_DATA).
const RIGHTS: &[(&str, u32)] = &[
    ("GA", GENERIC_ALL),
    ("GR", GENERIC_READ),
    ("GW", 0x4000_0000),
    ("GX", 0x2000_0000),
    ("RC", 0x0002_0000),
    ("SD", 0x0001_0000),
    ("WD", WRITE_DAC),
    ("WO", WRITE_OWNER),
    ("FA", 0x001F_01FF),
    ("FR", 0x0012_0089),
    ("FW", 0x0012_0116),
    ("FX", 0x0012_00A0),
    ("KA", 0x000F_003F),
    ("KR", 0x0002_0019),
    ("KW", 0x0002_0006),
    ("KX", 0x0002_0019),
    ("CC", 0x0000_0001),
    ("DC", 0x0000_0002),
    ("LC", 0x0000_0004),
    ("SW", 0x0000_0008),
    ("RP", 0x0000_0010),
    ("WP", 0x0000_0020),
    ("DT", 0x0000_0040),
    ("LO", 0x0000_0080),
    ("CR", 0x0000_0100),
    ("NR", 0x0000_0001),
    ("NW", 0x0000_0002),
    ("NX", 0x0000_0004),
];

/// Trustees of a security descriptor who can read the file although they are not its owner,
/// SYSTEM, Administrators or one of `also_trusted` (SID strings), as SID strings (or domain-relative two-letter aliases), in ACL
/// order. A missing DACL or a null one (`NO_ACCESS_CONTROL`) lets everyone read: `["S-1-1-0"]`.
///
/// Deny entries are honoured for the trustee they name (Windows puts them first); membership
/// of groups is not known here, so a deny for a group does not hide an allow for another.
pub fn extra_readers(sddl: &str, also_trusted: &[String]) -> Result<Vec<String>, String> {
    let parts = components(sddl)?;
    let owner = parts.owner.map(normalise);
    let Some(dacl) = parts.dacl else {
        return Ok(vec![normalise("WD")]);
    };
    let (flags, aces) = split_acl(dacl)?;
    if flags.contains("NO_ACCESS_CONTROL") {
        return Ok(vec![normalise("WD")]);
    }
    let mut denied: Vec<(String, u32)> = Vec::new();
    let mut readers: Vec<String> = Vec::new();
    for ace in aces {
        let ace = parse_ace(ace)?;
        if ace.inherit_only {
            continue;
        }
        let trustee = normalise(ace.sid);
        let already_denied = denied
            .iter()
            .filter(|(sid, _)| *sid == trustee)
            .fold(0, |bits, (_, mask)| bits | mask);
        match ace.kind {
            AceKind::Deny => denied.push((trustee, ace.rights)),
            AceKind::Allow => {
                let grants_read = ace.rights & READ_RIGHTS & !already_denied != 0;
                let trusted = TRUSTED.contains(&trustee.as_str())
                    || owner.as_deref() == Some(trustee.as_str())
                    || also_trusted.iter().any(|t| normalise(t) == trustee);
                if grants_read && !trusted && !readers.contains(&trustee) {
                    readers.push(trustee);
                }
            }
            AceKind::Other => {}
        }
    }
    Ok(readers)
}

/// The owner of a security descriptor, as a SID string.
pub fn owner(sddl: &str) -> Option<String> {
    components(sddl).ok()?.owner.map(normalise)
}

/// Whether a trustee from [`extra_readers`] is a group of every user.
pub fn is_everybody(trustee: &str) -> bool {
    EVERYBODY.contains(&trustee)
}

/// The name Windows shows for a well-known trustee, if it is one.
pub fn well_known_name(trustee: &str) -> Option<&'static str> {
    ALIASES
        .iter()
        .find(|(_, sid, _)| *sid == trustee)
        .map(|(_, _, name)| *name)
        .or_else(|| {
            DOMAIN_ALIASES
                .iter()
                .find(|(alias, _)| *alias == trustee)
                .map(|(_, name)| *name)
        })
}

/// A SID string as `S-1-…` (upper case) when it has one SID everywhere; other aliases as given.
fn normalise(sid: &str) -> String {
    let sid = sid.trim();
    ALIASES
        .iter()
        .find(|(alias, _, _)| alias.eq_ignore_ascii_case(sid))
        .map(|(_, full, _)| (*full).to_owned())
        .unwrap_or_else(|| sid.to_ascii_uppercase())
}

#[derive(Debug, Default)]
struct Components<'a> {
    owner: Option<&'a str>,
    dacl: Option<&'a str>,
}

/// Splits `O:… G:… D:… S:…` at the top level (parentheses may hold anything).
fn components(sddl: &str) -> Result<Components<'_>, String> {
    let bytes = sddl.as_bytes();
    let mut starts: Vec<(u8, usize)> = Vec::new();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced `)` at {i}"))?;
            }
            b':' if depth == 0 && i > 0 && matches!(bytes[i - 1], b'O' | b'G' | b'D' | b'S') => {
                // Only a component letter at the very start or right after the previous
                // component's text (SIDs and flags hold no colon).
                starts.push((bytes[i - 1], i + 1));
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced `(`".into());
    }
    let mut parts = Components::default();
    for (n, &(letter, start)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(sddl.len(), |&(_, next)| next - 2);
        let text = sddl.get(start..end).ok_or("component boundaries")?;
        match letter {
            b'O' => parts.owner = Some(text),
            b'D' => parts.dacl = Some(text),
            _ => {}
        }
    }
    if starts.is_empty() && !sddl.trim().is_empty() {
        return Err(format!(
            "no O:, G:, D: or S: component in {}",
            teamsync_core::text::quoted(sddl)
        ));
    }
    Ok(parts)
}

/// An ACL's flags (`P`, `AI`, `NO_ACCESS_CONTROL`, …) and its entries, each without its
/// outer parentheses.
fn split_acl(acl: &str) -> Result<(&str, Vec<&str>), String> {
    let first = acl.find('(').unwrap_or(acl.len());
    let (flags, mut rest) = acl.split_at(first);
    let mut aces = Vec::new();
    while !rest.is_empty() {
        if !rest.starts_with('(') {
            return Err(format!(
                "expected `(` in the DACL at {}",
                teamsync_core::text::quoted(rest)
            ));
        }
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or("an entry of the DACL is not closed")?;
        aces.push(&rest[1..end]);
        rest = &rest[end + 1..];
    }
    Ok((flags, aces))
}

enum AceKind {
    Allow,
    Deny,
    Other,
}

struct Ace<'a> {
    kind: AceKind,
    inherit_only: bool,
    rights: u32,
    sid: &'a str,
}

/// `type;flags;rights;object_guid;inherit_object_guid;sid[;condition or attribute]`.
fn parse_ace(text: &str) -> Result<Ace<'_>, String> {
    let fields: Vec<&str> = text.splitn(7, ';').collect();
    let [kind, flags, rights, _, _, sid, ..] = fields[..] else {
        return Err(format!("an entry of the DACL has too few fields: ({text})"));
    };
    let kind = match kind.trim() {
        "A" | "OA" | "XA" | "ZA" => AceKind::Allow,
        "D" | "OD" | "XD" => AceKind::Deny,
        _ => AceKind::Other,
    };
    let inherit_only = two_letter_codes(flags).any(|f| f == "IO");
    Ok(Ace {
        kind,
        inherit_only,
        rights: parse_rights(rights)?,
        sid,
    })
}

fn two_letter_codes(text: &str) -> impl Iterator<Item = &str> {
    let text = text.trim();
    (0..text.len() / 2).filter_map(move |i| text.get(2 * i..2 * i + 2))
}

/// `0x1200a9`, a decimal number, or letters such as `FR` or `CCLCSWRP`.
fn parse_rights(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16)
            .map_err(|e| format!("access mask {}: {e}", teamsync_core::text::quoted(text)));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|e| format!("access mask {}: {e}", teamsync_core::text::quoted(text)));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!(
            "access rights {} are not two-letter codes",
            teamsync_core::text::quoted(text)
        ));
    }
    two_letter_codes(text).try_fold(0u32, |bits, code| {
        RIGHTS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(code))
            .map(|(_, value)| bits | value)
            .ok_or_else(|| format!("unknown access right {}", teamsync_core::text::quoted(code)))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ME: &str = "S-1-5-21-1004336348-1177238915-682003330-1001";

    #[test]
    fn owner_system_and_administrators_only_is_private() {
        let sddl = format!("O:{ME}G:{ME}D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;{ME})");
        assert_eq!(extra_readers(&sddl, &[]).unwrap(), Vec::<String>::new());
        // The same with full SIDs, OWNER RIGHTS and an inherit-only template for children.
        let sddl = format!(
            "O:{ME}D:PAI(A;;0x1f01ff;;;S-1-5-18)(A;;FA;;;S-1-5-32-544)(A;;FA;;;OW)(A;OICIIO;GA;;;CO)(A;OICIIO;GR;;;BU)"
        );
        assert_eq!(extra_readers(&sddl, &[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn what_a_file_inherits_under_programdata_is_readable_by_users() {
        // C:\ProgramData's inheritable entries, as a new file there gets them.
        let sddl = format!(
            "O:{ME}G:{ME}D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)(A;ID;FA;;;{ME})"
        );
        let readers = extra_readers(&sddl, &[]).unwrap();
        assert_eq!(readers, vec!["S-1-5-32-545".to_owned()]);
        assert!(is_everybody(&readers[0]));
        assert_eq!(well_known_name(&readers[0]), Some(r"BUILTIN\Users"));
    }

    #[test]
    fn another_account_and_everyone() {
        let bob = "S-1-5-21-1004336348-1177238915-682003330-1107";
        let sddl = format!("O:BAD:(A;;FR;;;{bob})(A;;GR;;;WD)(A;;FA;;;BA)");
        let readers = extra_readers(&sddl, &[]).unwrap();
        assert_eq!(readers, vec![bob.to_owned(), "S-1-1-0".to_owned()]);
        assert!(!is_everybody(bob));
        assert_eq!(well_known_name("S-1-1-0"), Some("Everyone"));
    }

    #[test]
    fn rights_that_do_not_read_are_fine_and_change_permissions_is_not() {
        // Execute-only and write-only (no FILE_READ_DATA) grant no read.
        let sddl = format!("O:{ME}D:(A;;FX;;;BU)(A;;0x100116;;;AU)(A;;FA;;;{ME})");
        assert_eq!(extra_readers(&sddl, &[]).unwrap(), Vec::<String>::new());
        // WRITE_DAC lets them give themselves read.
        let sddl = format!("O:{ME}D:(A;;WD;;;AU)");
        assert_eq!(
            extra_readers(&sddl, &[]).unwrap(),
            vec!["S-1-5-11".to_owned()]
        );
        // Directory-service letters as Windows sometimes prints them: CC is FILE_READ_DATA.
        let sddl = format!("O:{ME}D:(A;;CCLCSWRPRC;;;IU)");
        assert_eq!(
            extra_readers(&sddl, &[]).unwrap(),
            vec!["S-1-5-4".to_owned()]
        );
    }

    #[test]
    fn owner_as_a_sid() {
        assert_eq!(owner("O:BAD:P").as_deref(), Some("S-1-5-32-544"));
        assert_eq!(owner(&format!("O:{ME}G:SYD:")).as_deref(), Some(ME));
        assert_eq!(owner("D:P"), None);
    }

    #[test]
    fn the_account_teamsync_runs_as_may_read() {
        // The config belongs to Administrators; the service account that runs the task was
        // granted read.
        let gmsa = "S-1-5-21-1004336348-1177238915-682003330-2105";
        let sddl = format!("O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;{gmsa})");
        assert_eq!(
            extra_readers(&sddl, &[gmsa.to_lowercase()]).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(extra_readers(&sddl, &[]).unwrap(), vec![gmsa.to_owned()]);
    }

    #[test]
    fn a_deny_for_the_same_trustee_comes_first() {
        let sddl = format!("O:{ME}D:(D;;FR;;;BU)(A;;FR;;;BU)(A;;FA;;;{ME})");
        assert_eq!(extra_readers(&sddl, &[]).unwrap(), Vec::<String>::new());
        // A deny of writing only does not stop reading.
        let sddl = format!("O:{ME}D:(D;;FW;;;BU)(A;;FR;;;BU)");
        assert_eq!(
            extra_readers(&sddl, &[]).unwrap(),
            vec!["S-1-5-32-545".to_owned()]
        );
    }

    #[test]
    fn no_dacl_or_a_null_one_lets_everyone_read() {
        assert_eq!(
            extra_readers(&format!("O:{ME}"), &[]).unwrap(),
            vec!["S-1-1-0".to_owned()]
        );
        assert_eq!(
            extra_readers(&format!("O:{ME}D:NO_ACCESS_CONTROL"), &[]).unwrap(),
            vec!["S-1-1-0".to_owned()]
        );
        // An empty DACL lets nobody read.
        assert_eq!(
            extra_readers(&format!("O:{ME}D:P"), &[]).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn conditional_entries_and_a_sacl_are_read_past() {
        let sddl = format!(
            "O:{ME}D:(XA;;FR;;;AU;(@User.Title == \"PM\" && (@User.Division == \"Finance\")))(A;;FA;;;{ME})S:(ML;;NW;;;LW)"
        );
        assert_eq!(
            extra_readers(&sddl, &[]).unwrap(),
            vec!["S-1-5-11".to_owned()]
        );
    }

    #[test]
    fn domain_relative_aliases_keep_their_letters() {
        let sddl = format!("O:{ME}D:(A;;FR;;;DU)");
        let readers = extra_readers(&sddl, &[]).unwrap();
        assert_eq!(readers, vec!["DU".to_owned()]);
        assert!(is_everybody("DU"));
        assert_eq!(well_known_name("DU"), Some("Domain Users"));
    }

    #[test]
    fn malformed_text_is_an_error_not_a_pass() {
        for bad in [
            "O:BAD:(A;;FR;;;BU",
            "O:BAD:(A;;FR)",
            "O:BAD:(A;;QQ;;;BU)",
            "O:BAD:(A;;0xZZ;;;BU)",
            "garbage",
        ] {
            assert!(extra_readers(bad, &[]).is_err(), "{bad}");
        }
    }
}
