//! Property tests ("fuzzing") of the pure LDAP mapping in `crate::map` and `crate::ad`, kept
//! inside the crate because both modules are private:
//! random attribute maps — random names, random bytes (often not UTF-8), values built from the
//! characters that break parsers (`,`, `=`, `\`, `;range=`, NUL, RTL marks, combining marks,
//! emoji) — under every profile. No function may panic; the results must keep the documented
//! invariants (ids non-empty, names trimmed, DNs normalised idempotently, assembly keeps only
//! users it could id).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::map::{self, RawEntry, ReadEntries};
use crate::{Profile, ad};
use proptest::prelude::*;

fn profiles() -> Vec<Profile> {
    vec![
        Profile::active_directory(),
        Profile::open_ldap(),
        Profile::free_ipa(),
        Profile::ds389(),
        Profile::generic(),
    ]
}

/// Attribute names the profiles read, plus ranged and odd ones, so that random entries hit the
/// mapping's real branches rather than only unknown attributes.
const NAMES: &[&str] = &[
    "objectGUID",
    "objectSid",
    "entryUUID",
    "ipaUniqueID",
    "nsUniqueId",
    "mail",
    "proxyAddresses",
    "userPrincipalName",
    "givenName",
    "sn",
    "cn",
    "displayName",
    "uid",
    "member",
    "member;range=0-1499",
    "member;range=1500-*",
    "uniqueMember",
    "memberUid",
    "userAccountControl",
    "accountExpires",
    "primaryGroupID",
    "pwdAccountLockedTime",
    "nsAccountLock",
    "shadowExpire",
    "loginDisabled",
    "isDeleted",
    "x;range=",
    "",
];

/// Text fragments that have broken parsers before: DN specials, escapes, range options,
/// generalized times, SMTP prefixes, unicode edge cases.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just("+".to_owned()),
        Just("\\".to_owned()),
        Just("\\2C".to_owned()),
        Just("cn=".to_owned()),
        Just("dc=corp,dc=example".to_owned()),
        Just("<GUID=".to_owned()),
        Just(">;".to_owned()),
        Just("#".to_owned()),
        Just("SMTP:".to_owned()),
        Just("smtp:".to_owned()),
        Just("@".to_owned()),
        Just("20261122010203Z".to_owned()),
        Just("20261122010203.5+0130".to_owned()),
        Just("000001010000Z".to_owned()),
        Just("-1".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("TRUE".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("e\u{301}\u{301}".to_owned()),
        Just("\u{1F600}".to_owned()),
        Just("  ".to_owned()),
        any::<String>(),
    ]
}

fn text_value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..5).prop_map(|parts| parts.concat().into_bytes())
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => text_value(),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

fn attribute_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => "[a-zA-Z;=0-9*-]{0,20}",
    ]
}

fn raw_entry() -> impl Strategy<Value = RawEntry> {
    (
        prop::collection::vec(fragment(), 0..6).prop_map(|p| p.concat()),
        prop::collection::vec(
            (attribute_name(), prop::collection::vec(value(), 0..4)),
            0..10,
        ),
    )
        .prop_map(|(dn, attrs)| {
            let mut entry = RawEntry {
                dn,
                attrs: BTreeMap::new(),
            };
            for (name, values) in attrs {
                entry.push_all(&name, values);
            }
            entry
        })
}

fn now() -> impl Strategy<Value = SystemTime> {
    (0u64..4_000_000_000).prop_map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every per-entry mapping function, under every profile, on random entries: no panic, and
    /// what they return keeps its invariants.
    #[test]
    fn per_entry_mapping_never_panics(mut entry in raw_entry(), now in now()) {
        let _pending = entry.merge_ranged_parts();
        for profile in profiles() {
            if let Ok(id) = map::entry_id(&entry, &profile) {
                prop_assert!(!id.as_str().is_empty());
            }
            let _ = map::select_email(&entry, &profile);
            let (given, surname) = map::select_names(&entry, &profile);
            prop_assert_eq!(given.trim(), given.as_str(), "given name not trimmed");
            prop_assert_eq!(surname.trim(), surname.as_str(), "surname not trimmed");
            let _ = map::is_disabled(&entry, &profile.disabled_rules, now);
            let _ = map::group_member_refs(&entry, &profile);
            let _ = map::group_name(&entry, &profile);
            let _ = map::group_record(&entry, &profile);
            let record = map::user_record(&entry, &profile, now);
            prop_assert_eq!(&record.dn, &entry.dn);
            if let Ok(mapped) = map::map_user(&entry, &profile, now) {
                prop_assert_eq!(mapped.user.locator.as_deref(), Some(entry.dn.as_str()));
            }
        }
    }

    /// DN helpers: normalisation is idempotent and never panics on any text.
    #[test]
    fn dn_helpers_never_panic(dn in prop::collection::vec(fragment(), 0..8).prop_map(|p| p.concat())) {
        let once = map::normalize_dn(&dn);
        prop_assert_eq!(map::normalize_dn(&once), once.clone());
        let _ = map::first_rdn_value(&dn);
        let _ = map::strip_unique_member_uid(&dn);
    }

    /// Value parsers on random text and bytes.
    #[test]
    fn value_parsers_never_panic(text in prop::collection::vec(fragment(), 0..4).prop_map(|p| p.concat()), bytes in prop::collection::vec(any::<u8>(), 0..40), now in now(), rid in any::<u32>(), minutes in prop::option::of(0u64..100_000)) {
        let _ = map::parse_generalized_time(&text);
        let _ = map::ppolicy_locked(&text, minutes.map(|m| Duration::from_secs(m * 60)), now);
        let _ = map::shadow_expired(&text, now);
        let _ = ad::format_guid(&bytes);
        if let Some(sid) = ad::format_sid(&bytes) {
            let _ = ad::primary_group_sid(&sid, rid);
        }
        let _ = ad::primary_group_sid(&text, rid);
        let _ = ad::uac_disabled(&text);
        let _ = ad::account_expired(&text, now);
        let _ = ad::parse_range_key(&text);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Assembly of random groups and users with roots picked among (and outside) the groups'
    /// DNs: no panic; an error only names a root; every user kept has an id and is a member of
    /// a kept group.
    #[test]
    fn assembly_never_panics(
        groups in prop::collection::vec(raw_entry(), 0..8),
        users in prop::collection::vec(raw_entry(), 0..12),
        root_picks in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        now in now(),
    ) {
        for profile in profiles() {
            let mut roots: Vec<String> = root_picks
                .iter()
                .filter(|_| !groups.is_empty())
                .map(|i| groups[i.index(groups.len())].dn.clone())
                .collect();
            roots.push("cn=nowhere,dc=example".to_owned());
            let read = ReadEntries { groups: groups.clone(), users: users.clone(), deleted: Vec::new() };
            match map::assemble(&profile, &roots, &[], &read, now) {
                Ok(state) => {
                    for user in &state.users {
                        prop_assert!(!user.id.as_str().is_empty());
                    }
                }
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
            // Without the missing root, too.
            roots.pop();
            let _ = map::assemble(&profile, &roots, &roots, &read, now);
        }
    }
}
