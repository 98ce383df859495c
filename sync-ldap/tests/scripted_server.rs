//! A scripted LDAP server on loopback, for what neither slapd nor Samba will do on request:
//! Windows AD's own ranging (an empty `member` plus `member;range=0-1`), continuation
//! references from the domain root, tombstones with binary GUIDs, a time limit (rc 3) and an
//! entry that cannot be decoded. It speaks just enough LDAP (BER built with ldap3's own
//! `asn1` module): bind, search, abandon, unbind. No fixture needed.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use ldap3::asn1::{PL, StructureTag, TagClass, parse_tag, write};
use teamsync_core::{Directory, DirectoryErrorKind, SourceId};
use teamsync_ldap::{LdapConfig, LdapDirectory, Profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// --- BER helpers --------------------------------------------------------------------------

fn prim(class: TagClass, id: u64, bytes: Vec<u8>) -> StructureTag {
    StructureTag {
        class,
        id,
        payload: PL::P(bytes),
    }
}

fn cons(class: TagClass, id: u64, inner: Vec<StructureTag>) -> StructureTag {
    StructureTag {
        class,
        id,
        payload: PL::C(inner),
    }
}

fn octets(v: impl AsRef<[u8]>) -> StructureTag {
    prim(TagClass::Universal, 4, v.as_ref().to_vec())
}

fn int_bytes(mut v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        out.push((v & 0xff) as u8);
        let done = (-128..128).contains(&v) || out.len() == 8;
        v >>= 8;
        if done {
            break;
        }
    }
    out.reverse();
    out
}

fn integer(v: i64) -> StructureTag {
    prim(TagClass::Universal, 2, int_bytes(v))
}

fn enumerated(v: i64) -> StructureTag {
    prim(TagClass::Universal, 10, int_bytes(v))
}

fn sequence(inner: Vec<StructureTag>) -> StructureTag {
    cons(TagClass::Universal, 16, inner)
}

fn app(id: u64, inner: Vec<StructureTag>) -> StructureTag {
    cons(TagClass::Application, id, inner)
}

fn ldap_result(op: u64, rc: i64, text: &str) -> StructureTag {
    app(op, vec![enumerated(rc), octets(""), octets(text)])
}

/// A search result entry; values are raw bytes (binary GUIDs and SIDs included).
fn entry(dn: &str, attrs: &[(&str, Vec<Vec<u8>>)]) -> StructureTag {
    let attrs = attrs
        .iter()
        .map(|(name, values)| {
            sequence(vec![
                octets(name),
                cons(TagClass::Universal, 17, values.iter().map(octets).collect()),
            ])
        })
        .collect();
    app(4, vec![octets(dn), sequence(attrs)])
}

fn text(v: &str) -> Vec<Vec<u8>> {
    vec![v.as_bytes().to_vec()]
}

fn texts(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn guid(n: u8) -> Vec<Vec<u8>> {
    vec![vec![n; 16]]
}

fn guid_text(n: u8) -> SourceId {
    let h = format!("{n:02x}");
    SourceId::new(format!(
        "{0}{0}{0}{0}-{0}{0}-{0}{0}-{0}{0}-{0}{0}{0}{0}{0}{0}",
        h
    ))
    .unwrap()
}

fn sid(rid: u32) -> Vec<Vec<u8>> {
    let mut b = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
    for sub in [21u32, 11, 22, 33, rid] {
        b.extend_from_slice(&sub.to_le_bytes());
    }
    vec![b]
}

// --- the server ---------------------------------------------------------------------------

/// A search as the server saw it.
#[derive(Debug, Clone)]
struct Search {
    base: String,
    attrs: Vec<String>,
    controls: Vec<String>,
}

type Script = dyn Fn(&Search) -> Vec<StructureTag> + Send + Sync;

/// Serves connections on a free loopback port, answering each search with `script`.
async fn serve(script: Arc<Script>) -> (String, Arc<Mutex<Vec<Search>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldap://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf: Vec<u8> = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // Parse every complete message in the buffer.
                    while let Ok((rest, msg)) = parse_tag(&buf) {
                        let used = buf.len() - rest.len();
                        let Some(parts) = msg.expect_constructed() else {
                            return;
                        };
                        let mut parts = parts.into_iter();
                        let id_bytes = parts
                            .next()
                            .and_then(|t| t.expect_primitive())
                            .unwrap_or_default();
                        let msg_id = id_bytes.iter().fold(0i64, |a, b| (a << 8) | i64::from(*b));
                        let Some(op) = parts.next() else { return };
                        let controls: Vec<String> = parts
                            .next()
                            .and_then(|c| c.expect_constructed())
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|c| {
                                c.expect_constructed()?
                                    .into_iter()
                                    .next()?
                                    .expect_primitive()
                            })
                            .map(|oid| String::from_utf8_lossy(&oid).into_owned())
                            .collect();
                        let replies = match op.id {
                            0 => vec![ldap_result(1, 0, "")],
                            2 => return, // unbind
                            3 => {
                                let fields = op.expect_constructed().unwrap_or_default();
                                let base = String::from_utf8_lossy(
                                    &fields[0].clone().expect_primitive().unwrap_or_default(),
                                )
                                .into_owned();
                                let attrs = fields[7]
                                    .clone()
                                    .expect_constructed()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .filter_map(|a| a.expect_primitive())
                                    .map(|a| String::from_utf8_lossy(&a).into_owned())
                                    .collect();
                                let search = Search {
                                    base,
                                    attrs,
                                    controls,
                                };
                                log.lock().unwrap().push(search.clone());
                                script(&search)
                            }
                            _ => vec![], // abandon and anything else: no answer
                        };
                        let mut out = BytesMut::new();
                        for reply in replies {
                            write::encode_into(&mut out, sequence(vec![integer(msg_id), reply]))
                                .unwrap();
                        }
                        if socket.write_all(&out).await.is_err() {
                            return;
                        }
                        buf.drain(..used);
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    (url, seen)
}

const BASE: &str = "DC=fake,DC=test";

fn ad_config(url: &str) -> LdapConfig {
    let mut c = LdapConfig::new(url, BASE, Profile::active_directory()); // anonymous: no password in clear
    c.user_root_dns = vec![format!("CN=Big,OU=Groups,{BASE}")];
    c
}

fn has(search: &Search, attr: &str) -> bool {
    search.attrs.iter().any(|a| a.eq_ignore_ascii_case(attr))
}

fn user(n: u8, name: &str, mail: &str, uac: &str, primary: &str) -> StructureTag {
    entry(
        &format!("CN={name},OU=People,{BASE}"),
        &[
            ("objectGUID", guid(n)),
            ("mail", text(mail)),
            ("givenName", text(name)),
            ("sn", text("Test")),
            ("userAccountControl", text(uac)),
            ("accountExpires", text("9223372036854775807")),
            ("sAMAccountName", text(&name.to_lowercase())),
            ("objectSid", sid(1000 + u32::from(n))),
            ("primaryGroupID", text(primary)),
        ],
    )
}

/// Windows AD as the adapter meets it: ranging on its own, referrals from the domain root,
/// the primary group only through primaryGroupID, tombstones behind show-deleted.
fn windows_ad(search: &Search) -> Vec<StructureTag> {
    let reference = app(
        19,
        vec![octets(format!(
            "ldap://ForestDnsZones.fake.test/DC=ForestDnsZones,{BASE}"
        ))],
    );
    if has(search, "mail") {
        // The user read.
        return vec![
            user(1, "Ann", "ann@fake.test", "512", "513"),
            reference.clone(),
            user(2, "Bob", "bob@fake.test", "514", "513"),
            user(3, "Cy", "cy@fake.test", "512", "513"),
            user(4, "Dee", "dee@fake.test", "512", "513"),
            ldap_result(5, 0, ""),
        ];
    }
    if search
        .controls
        .iter()
        .any(|c| c == "1.2.840.113556.1.4.417")
    {
        // Tombstones.
        assert_eq!(
            search.base, BASE,
            "tombstones are read from the naming context"
        );
        return vec![
            entry(
                &format!("CN=Gone\\0ADEL:x,CN=Deleted Objects,{BASE}"),
                &[("objectGUID", guid(9))],
            ),
            ldap_result(5, 0, ""),
        ];
    }
    if let Some(range) = search
        .attrs
        .iter()
        .find(|a| a.to_ascii_lowercase().starts_with("member;range="))
    {
        if search.base.starts_with("CN=Big") && !range.ends_with("=0-1499") {
            // The continuation the adapter asks for: values 2 and 3, the last part.
            assert_eq!(
                range, "member;range=2-*",
                "the adapter continues after the last value it got"
            );
            return vec![
                entry(
                    &search.base,
                    &[(
                        "member;range=2-*",
                        texts(&[
                            &format!("CN=Cy,OU=People,{BASE}"),
                            "CN=Dee,OU=People,DC=FAKE,DC=TEST",
                        ]),
                    )],
                ),
                ldap_result(5, 0, ""),
            ];
        }
        // The group read: like a DC past MaxValRange, Big answers only its first two values.
        return vec![
            reference,
            entry(
                &format!("CN=Big,OU=Groups,{BASE}"),
                &[
                    ("objectGUID", guid(0x81)),
                    ("cn", text("Big")),
                    ("member", vec![]),
                    (
                        "member;range=0-1",
                        texts(&[
                            &format!("CN=Ann,OU=People,{BASE}"),
                            &format!("CN=Domain Users,CN=Users,{BASE}"),
                        ]),
                    ),
                    ("objectSid", sid(1200)),
                ],
            ),
            entry(
                &format!("CN=Domain Users,CN=Users,{BASE}"),
                &[
                    ("objectGUID", guid(0x82)),
                    ("cn", text("Domain Users")),
                    ("objectSid", sid(513)),
                ],
            ),
            ldap_result(5, 0, ""),
        ];
    }
    vec![ldap_result(5, 32, "no such object")]
}

#[tokio::test]
async fn windows_ranging_referrals_primary_group_and_tombstones() {
    let (url, seen) = serve(Arc::new(windows_ad)).await;
    let state = LdapDirectory::new(ad_config(&url))
        .unwrap()
        .snapshot()
        .await
        .expect("snapshot");
    assert_eq!(state.user_roots, vec![guid_text(0x81)]);
    let big = state
        .groups
        .iter()
        .find(|g| g.id == guid_text(0x81))
        .unwrap();
    // Ann (range 0-1), Cy and Dee (range 2-*, one spelled in upper case), Domain Users (nested).
    assert_eq!(
        big.members,
        vec![guid_text(1), guid_text(3), guid_text(4), guid_text(0x82)]
    );
    let domain_users = state
        .groups
        .iter()
        .find(|g| g.id == guid_text(0x82))
        .unwrap();
    assert_eq!(
        domain_users.members,
        vec![guid_text(1), guid_text(2), guid_text(3), guid_text(4)],
        "primaryGroupID 513"
    );
    let users: Vec<(SourceId, &str, bool)> = state
        .users
        .iter()
        .map(|u| (u.id.clone(), u.email.as_str(), u.enabled))
        .collect();
    assert_eq!(
        users,
        vec![
            (guid_text(1), "ann@fake.test", true),
            (guid_text(2), "bob@fake.test", false),
            (guid_text(3), "cy@fake.test", true),
            (guid_text(4), "dee@fake.test", true),
        ]
    );
    assert_eq!(state.deleted, vec![guid_text(9)]);
    assert!(state.issues.is_empty(), "{:?}", state.issues);
    let searches = seen.lock().unwrap().clone();
    assert!(
        searches
            .iter()
            .all(|s| s.controls.iter().any(|c| c == "1.2.840.113556.1.4.319")
                || s.base.starts_with("CN=Big")),
        "bulk reads are paged: {searches:?}"
    );
}

#[tokio::test]
async fn time_limit_fails_the_read() {
    let script = |s: &Search| {
        if has(s, "mail") {
            vec![
                user(1, "Ann", "ann@fake.test", "512", "513"),
                ldap_result(5, 3, "time limit exceeded"),
            ]
        } else {
            windows_ad(s)
        }
    };
    let (url, _) = serve(Arc::new(script)).await;
    let err = LdapDirectory::new(ad_config(&url))
        .unwrap()
        .snapshot()
        .await
        .expect_err("rc 3");
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(err.message.contains("time limit"), "{err}");
}

#[tokio::test]
async fn undecodable_entry_fails_the_read_without_a_panic() {
    let script = |s: &Search| {
        if has(s, "mail") {
            // A search result entry with no attribute list.
            vec![
                app(4, vec![octets(format!("CN=Broken,{BASE}"))]),
                ldap_result(5, 0, ""),
            ]
        } else {
            windows_ad(s)
        }
    };
    let (url, _) = serve(Arc::new(script)).await;
    let err = LdapDirectory::new(ad_config(&url))
        .unwrap()
        .snapshot()
        .await
        .expect_err("broken entry");
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(err.message.contains("cannot be decoded"), "{err}");
}

#[tokio::test]
async fn range_answer_that_does_not_follow_on_is_refused() {
    let script = |s: &Search| {
        if s.base.starts_with("CN=Big") && has(s, "member;range=2-*") {
            vec![
                entry(&s.base, &[("member;range=0-1", texts(&["CN=x"]))]),
                ldap_result(5, 0, ""),
            ]
        } else {
            windows_ad(s)
        }
    };
    let (url, _) = serve(Arc::new(script)).await;
    let err = LdapDirectory::new(ad_config(&url))
        .unwrap()
        .snapshot()
        .await
        .expect_err("bad range");
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(err.message.contains("member;range=2-*"), "{err}");
}
