//! [`LdapDirectory`]: one snapshot = one connection, a paged read of all groups (ranged
//! members completed), a paged read of all users, deleted-entry detection, then the pure
//! [`assemble`](crate::map::assemble).

use std::collections::HashSet;
use std::time::SystemTime;

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::{Ldap, ResultEntry, Scope, SearchEntry};
use teamsync_core::{
    DesiredState, Directory, DirectoryError, DirectoryErrorKind, ReadOptions, ReadReporter,
    ReadStage, SourceId,
};

use crate::ad;
use crate::config::{DeletedDetection, IdFormat, LdapConfig, MemberKind, Profile, ProfileKind};
use crate::conn;
use crate::map::{self, AssembleError, RawEntry, ReadEntries, ReadRecords};

/// Most rounds of ranged retrieval for one attribute of one entry (1500 values each on AD:
/// 15 million values), so a server answering the same range forever cannot loop us.
const MAX_RANGE_ROUNDS: usize = 10_000;

/// Ids looked up per query when checking known ids.
const KNOWN_ID_CHUNK: usize = 100;

/// AD's default MaxValRange: the most values of one attribute a Windows DC returns at once.
const AD_VALUE_RANGE: u32 = 1500;

/// Who a bind made this connection: what this side presented and what the server says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundIdentity {
    /// The bind mechanism: `anonymous`, `simple`, `gssapi` or `external`.
    pub mechanism: &'static str,
    /// What this side authenticated with: `dn:<bind DN>`, the Kerberos principal
    /// (`svc@REALM`), the client certificate's file, or `anonymous`.
    pub client: String,
    /// The server's "Who am I?" answer (`dn:…` or `u:…`; empty for anonymous), or `None` when
    /// the server does not implement the operation.
    pub server: Option<String>,
}

impl std::fmt::Display for BoundIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.server.as_deref() {
            Some("") => write!(f, "anonymous ({} bind)", self.mechanism),
            Some(server) if self.mechanism == "gssapi" => {
                write!(f, "{server} (gssapi bind as {})", self.client)
            }
            Some(server) => write!(f, "{server} ({} bind)", self.mechanism),
            None => write!(
                f,
                "{} ({} bind; the server does not answer \"Who am I?\")",
                self.client, self.mechanism
            ),
        }
    }
}

/// Longest authorization id shown; a server may send anything.
const MAX_AUTHZ_ID_CHARS: usize = 512;

/// A server's authorization id made safe to print: valid UTF-8, no control characters
/// (escaped), bounded length.
fn printable_authz_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out: String = text
        .chars()
        .take(MAX_AUTHZ_ID_CHARS)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > MAX_AUTHZ_ID_CHARS {
        out.push('…');
    }
    out
}

/// A [`Directory`] over LDAP or Active Directory.
#[derive(Debug, Clone)]
pub struct LdapDirectory {
    config: LdapConfig,
}

impl LdapDirectory {
    /// A directory with these settings. Fails on settings that can never work (bad URL,
    /// clear-text bind not allowed, page size out of range, no roots, a root that is not a DN); the server is not
    /// contacted until [`Directory::snapshot`].
    pub fn new(config: LdapConfig) -> Result<Self, DirectoryError> {
        conn::transport(&config)?;
        if !(1..=1000).contains(&config.page_size) {
            return Err(DirectoryError::new(
                DirectoryErrorKind::Config,
                format!("page size {} is outside 1..=1000", config.page_size),
            ));
        }
        if config.user_root_dns.is_empty() && config.group_root_dns.is_empty() {
            return Err(DirectoryError::new(
                DirectoryErrorKind::Config,
                "no user or group root DN configured",
            ));
        }
        crate::hints::check_root_dns(&config)?;
        Ok(Self { config })
    }

    /// The settings.
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// Connects and binds as a snapshot would, then asks the server who the connection is
    /// (the "Who am I?" extended operation, RFC 4532). For `teamsync check`: the answer shows
    /// which principal a Kerberos or certificate bind really became. A server without the
    /// operation (Samba) leaves [`BoundIdentity::server`] empty; a failed bind is the same
    /// error a snapshot would give.
    pub async fn whoami(&self) -> Result<BoundIdentity, DirectoryError> {
        let cfg = &self.config;
        let bound = conn::connect(cfg).await?;
        let mut ldap = bound.ldap;
        let answer = ldap
            .with_timeout(cfg.operation_timeout)
            .extended(ldap3::exop::WhoAmI)
            .await
            .map_err(|e| {
                DirectoryError::new(
                    DirectoryErrorKind::Connect,
                    format!("{}: Who am I?: {e}", cfg.url.trim()),
                )
            })?;
        let ldap3::result::ExopResult(exop, result) = answer;
        let server = if result.rc == 0 {
            Some(
                exop.val
                    .as_deref()
                    .map(printable_authz_id)
                    .unwrap_or_default(),
            )
        } else {
            // protocolError (2) or unwillingToPerform (53): the operation is not implemented.
            None
        };
        let _ = ldap.unbind().await;
        Ok(BoundIdentity {
            mechanism: cfg.bind.mechanism(),
            client: bound.client_identity,
            server,
        })
    }

    /// Reads a snapshot, judging expiry and lockout rules against `now`.
    pub async fn snapshot_at(&self, now: SystemTime) -> Result<DesiredState, DirectoryError> {
        self.snapshot_reporting(now, &ReadReporter::silent()).await
    }

    /// [`LdapDirectory::snapshot_at`], reporting progress per page of entries.
    async fn snapshot_reporting(
        &self,
        now: SystemTime,
        reporter: &ReadReporter,
    ) -> Result<DesiredState, DirectoryError> {
        let profile = &self.config.profile;
        // Users are reduced as they stream in, so 100k raw entries are never held at once.
        let mut users = Vec::new();
        let (groups, deleted) = self
            .read_with(reporter, |entry| {
                users.push(map::user_record(&entry, profile, now))
            })
            .await?;
        let groups = groups
            .iter()
            .map(|g| map::group_record(g, profile))
            .collect();
        let records = ReadRecords {
            groups,
            users,
            deleted,
        };
        let cfg = &self.config;
        map::assemble_records(&cfg.user_root_dns, &cfg.group_root_dns, records).map_err(|e| match e
        {
            AssembleError::RootNotFound(_) => {
                DirectoryError::new(DirectoryErrorKind::RootNotFound, e.to_string())
            }
            AssembleError::RootWithoutId { .. } => {
                DirectoryError::new(DirectoryErrorKind::Other, e.to_string())
            }
        })
    }

    /// Reads every entry a snapshot needs, raw (for diagnostics and tests).
    pub async fn read_entries(&self) -> Result<ReadEntries, DirectoryError> {
        let mut users = Vec::new();
        let (groups, deleted) = self
            .read_with(&ReadReporter::silent(), |entry| users.push(entry))
            .await?;
        Ok(ReadEntries {
            groups,
            users,
            deleted,
        })
    }

    /// Reads groups (ranged values completed), streams users to `on_user`, and detects
    /// deletions, over one connection.
    async fn read_with(
        &self,
        reporter: &ReadReporter,
        mut on_user: impl FnMut(RawEntry),
    ) -> Result<(Vec<RawEntry>, Vec<SourceId>), DirectoryError> {
        let page = usize::from(page_entries(&self.config));
        let cfg = &self.config;
        let profile = &cfg.profile;
        let mut ldap = conn::connect(cfg).await?.ldap;
        let group_base = cfg.group_base_dn.as_deref().unwrap_or(&cfg.base_dn);
        let user_base = cfg.user_base_dn.as_deref().unwrap_or(&cfg.base_dn);

        let group_attrs = with_member_ranges(profile, profile.group_attributes());
        let mut groups = Vec::new();
        paged_search(
            &mut ldap,
            cfg,
            group_base,
            Scope::Subtree,
            &profile.group_filter,
            &group_attrs,
            None,
            |e| {
                groups.push(e);
                if groups.len() % page == 0 {
                    reporter.counted(ReadStage::DirectoryGroups, groups.len(), None);
                }
            },
        )
        .await?;
        reporter.finished(ReadStage::DirectoryGroups, groups.len());

        // Roots outside the group filter or base are read by DN, so that a root can be any entry.
        let read_dns: HashSet<String> = groups.iter().map(|g| map::normalize_dn(&g.dn)).collect();
        for root in cfg.user_root_dns.iter().chain(&cfg.group_root_dns) {
            if !read_dns.contains(&map::normalize_dn(root)) {
                if let Some(entry) = read_base(&mut ldap, cfg, root, &group_attrs).await? {
                    groups.push(entry);
                }
            }
        }

        for group in &mut groups {
            complete_ranged_values(&mut ldap, cfg, group).await?;
        }

        let user_filter = match &cfg.extra_user_filter {
            Some(extra) if !extra.trim().is_empty() => {
                format!("(&{}{})", profile.user_filter, extra.trim())
            }
            _ => profile.user_filter.clone(),
        };
        let mut users = 0usize;
        paged_search(
            &mut ldap,
            cfg,
            user_base,
            Scope::Subtree,
            &user_filter,
            &profile.user_attributes(),
            None,
            |e| {
                on_user(e);
                users += 1;
                if users % page == 0 {
                    reporter.counted(ReadStage::DirectoryUsers, users, None);
                }
            },
        )
        .await?;
        reporter.finished(ReadStage::DirectoryUsers, users);

        let deleted = match profile.deleted_detection {
            DeletedDetection::None => Vec::new(),
            DeletedDetection::AdTombstones => read_tombstones(&mut ldap, cfg, reporter).await?,
            DeletedDetection::KnownIdLookup => missing_known_ids(&mut ldap, cfg, reporter).await?,
        };
        let _ = ldap.unbind().await;
        Ok((groups, deleted))
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError> {
        self.snapshot_at(SystemTime::now()).await
    }

    async fn snapshot_with(&self, options: &ReadOptions) -> Result<DesiredState, DirectoryError> {
        self.snapshot_reporting(SystemTime::now(), &options.reporter())
            .await
    }
}

/// Entries per page of a paged search (progress is reported once a page).
fn page_entries(cfg: &LdapConfig) -> u16 {
    cfg.page_size.max(1)
}

fn incomplete(message: String) -> DirectoryError {
    DirectoryError::new(DirectoryErrorKind::Incomplete, message)
}

/// Converts what ldap3 returns into a [`RawEntry`]: keys lower-cased, text and binary merged.
fn raw_entry(entry: SearchEntry) -> RawEntry {
    let mut raw = RawEntry {
        dn: entry.dn,
        ..RawEntry::default()
    };
    for (name, values) in entry.attrs {
        raw.push_all(&name, values.into_iter().map(String::into_bytes));
    }
    for (name, values) in entry.bin_attrs {
        raw.push_all(&name, values);
    }
    raw
}

/// Decodes an entry. ldap3's `SearchEntry::construct` panics on BER it cannot parse; a broken
/// or hostile server must not bring the process down, so a panic becomes `None`.
fn construct(entry: ResultEntry) -> Option<RawEntry> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SearchEntry::construct(entry)
    }))
    .ok()
    .map(raw_entry)
}

/// A streaming, paged, entries-only search that must finish with success: any other result
/// (size or time limit, dropped connection, error) fails the read. Referrals are skipped.
#[allow(clippy::too_many_arguments)]
async fn paged_search(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
    control: Option<RawControl>,
    mut on_entry: impl FnMut(RawEntry),
) -> Result<(), DirectoryError> {
    let what = format!("search under {base} for {filter}");
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(i32::from(cfg.page_size))),
    ];
    let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let mut handle = ldap.clone();
    handle.with_timeout(cfg.operation_timeout);
    if let Some(control) = control {
        handle.with_controls(vec![control]);
    }
    let mut stream = handle
        .streaming_search_with(adapters, base, scope, filter, attrs)
        .await
        .map_err(|e| incomplete(format!("{what}: {e}")))?;
    loop {
        match stream.next().await {
            Ok(Some(entry)) => {
                // EntriesOnly has dropped referrals and intermediates, so construct is safe.
                if entry.is_ref() || entry.is_intermediate() {
                    continue;
                }
                match construct(entry) {
                    Some(entry) => on_entry(entry),
                    None => {
                        let _ = stream.finish().await;
                        return Err(incomplete(format!(
                            "{what}: the server sent an entry that cannot be decoded"
                        )));
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = stream.finish().await;
                return Err(incomplete(format!("{what}: {e}")));
            }
        }
    }
    let result = stream.finish().await;
    if !result.refs.is_empty() {
        tracing::debug!(base, refs = ?result.refs, "referrals skipped");
    }
    match result.rc {
        0 => Ok(()),
        4 => Err(incomplete(format!(
            "{what}: the server's size limit cut the result (rc 4: {})",
            result.text
        ))),
        3 => Err(incomplete(format!(
            "{what}: the server's time limit cut the result (rc 3: {})",
            result.text
        ))),
        rc => Err(incomplete(format!(
            "{what}: the search did not complete (rc {rc}: {})",
            result.text
        ))),
    }
}

/// Reads one entry by DN; `None` when it does not exist.
async fn read_base(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    dn: &str,
    attrs: &[String],
) -> Result<Option<RawEntry>, DirectoryError> {
    let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let mut handle = ldap.clone();
    handle.with_timeout(cfg.operation_timeout);
    let mut stream = handle
        .streaming_search_with(
            EntriesOnly::new(),
            dn,
            Scope::Base,
            "(objectClass=*)",
            attrs,
        )
        .await
        .map_err(|e| incomplete(format!("read of {dn}: {e}")))?;
    let mut found = None;
    loop {
        match stream.next().await {
            Ok(Some(entry)) if !entry.is_ref() && !entry.is_intermediate() => {
                found = Some(construct(entry).ok_or_else(|| {
                    incomplete(format!(
                        "read of {dn}: the server sent an entry that cannot be decoded"
                    ))
                })?);
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return Err(incomplete(format!("read of {dn}: {e}"))),
        }
    }
    let result = stream.finish().await;
    match result.rc {
        0 => Ok(found),
        32 => Ok(None), // noSuchObject
        rc => Err(incomplete(format!(
            "read of {dn}: rc {rc}: {}",
            result.text
        ))),
    }
}

/// AD ranged retrieval: while an attribute arrived as `name;range=A-B`, asks for
/// `name;range=B+1-*` with a base read until the part ending in `*`.
async fn complete_ranged_values(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    entry: &mut RawEntry,
) -> Result<(), DirectoryError> {
    let mut pending = entry.merge_ranged_parts();
    let mut rounds = 0usize;
    while let Some((attribute, start)) = pending.pop() {
        rounds += 1;
        if rounds > MAX_RANGE_ROUNDS {
            return Err(incomplete(format!(
                "{}: ranged retrieval of {attribute} does not end",
                entry.dn
            )));
        }
        let request = format!("{attribute};range={start}-*");
        let Some(mut part) =
            read_base(ldap, cfg, &entry.dn, std::slice::from_ref(&request)).await?
        else {
            return Err(incomplete(format!(
                "{}: vanished during ranged retrieval of {attribute}",
                entry.dn
            )));
        };
        let ranged_key = part.attrs.keys().find(|k| k.contains(";range=")).cloned();
        let Some(key) = ranged_key else {
            // Some servers answer the last part without a range option: take it whole.
            let values = part
                .attrs
                .remove(&attribute.to_ascii_lowercase())
                .unwrap_or_default();
            entry.push_all(&attribute, values);
            continue;
        };
        match ad::parse_range_key(&key) {
            Some(range) if range.start == start => {
                let values = part.attrs.remove(&key).unwrap_or_default();
                entry.push_all(&attribute, values);
                if let Some(end) = range.end {
                    pending.push((attribute, end.saturating_add(1)));
                }
            }
            _ => {
                return Err(incomplete(format!(
                    "{}: asked for {request}, the server answered {key}",
                    entry.dn
                )));
            }
        }
    }
    Ok(())
}

/// On AD, asks for member values in explicit windows (`member;range=0-1499`) instead of relying
/// on the server to range them: Windows ranges on its own past MaxValRange, Samba never does, and
/// asking explicitly sends both through the same ranged loop ([`complete_ranged_values`]). A
/// group within the window answers `member;range=0-*`, which ends the loop at once.
fn with_member_ranges(profile: &Profile, attrs: Vec<String>) -> Vec<String> {
    if profile.kind != ProfileKind::ActiveDirectory {
        return attrs;
    }
    let ranged = |name: &str| {
        profile
            .member_attributes
            .iter()
            .any(|m| m.kind == MemberKind::Dn && m.name.eq_ignore_ascii_case(name))
    };
    attrs
        .into_iter()
        .map(|a| {
            if ranged(&a) {
                format!("{a};range=0-{}", AD_VALUE_RANGE - 1)
            } else {
                a
            }
        })
        .collect()
}

/// The naming context a DN lies in: its trailing `DC=` components (`DC=corp,DC=example` for
/// `OU=Staff,DC=corp,DC=example`), or the whole DN when it has none. AD moves deleted objects
/// to `CN=Deleted Objects` at the top of the context, outside any OU the base may name.
fn naming_context(dn: &str) -> &str {
    let dn = dn.trim();
    // Start offsets of the RDNs, splitting at commas that are not escaped.
    let mut starts = vec![0];
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ',' if !escaped => starts.push(i + 1),
            _ => escaped = false,
        }
    }
    let is_dc = |rdn: &str| {
        rdn.trim_start()
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("dc="))
    };
    let mut context_start = None;
    for (n, &start) in starts.iter().enumerate().rev() {
        let end = starts.get(n + 1).map_or(dn.len(), |next| next - 1);
        if !is_dc(&dn[start..end]) {
            break;
        }
        context_start = Some(start);
    }
    context_start.map_or(dn, |start| dn[start..].trim_start())
}

/// AD: ids of deleted users and groups (tombstones), via the show-deleted control. Searched
/// from the top of the base's naming context, where `CN=Deleted Objects` is.
async fn read_tombstones(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    reporter: &ReadReporter,
) -> Result<Vec<SourceId>, DirectoryError> {
    let page = usize::from(page_entries(cfg));
    let mut read = 0usize;
    let control = RawControl {
        ctype: ad::SHOW_DELETED_OID.into(),
        crit: true,
        val: None,
    };
    let mut deleted = Vec::new();
    let attrs = [cfg.profile.id_attribute.clone()];
    let base = naming_context(&cfg.base_dn);
    paged_search(
        ldap,
        cfg,
        base,
        Scope::Subtree,
        ad::DELETED_FILTER,
        &attrs,
        Some(control),
        |e| {
            if let Ok(id) = map::entry_id(&e, &cfg.profile) {
                deleted.push(id);
            }
            read += 1;
            if read % page == 0 {
                reporter.counted(ReadStage::DirectoryDeleted, read, None);
            }
        },
    )
    .await?;
    reporter.finished(ReadStage::DirectoryDeleted, read);
    Ok(deleted)
}

/// Servers without tombstones: the known ids no longer found under the base DN.
async fn missing_known_ids(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    reporter: &ReadReporter,
) -> Result<Vec<SourceId>, DirectoryError> {
    if cfg.known_ids.is_empty() {
        return Ok(Vec::new());
    }
    if cfg.profile.id_format != IdFormat::Text {
        return Err(DirectoryError::new(
            DirectoryErrorKind::Config,
            "known-id lookups need a text id attribute (use tombstones on AD)",
        ));
    }
    let attr = &cfg.profile.id_attribute;
    let mut found: HashSet<SourceId> = HashSet::new();
    let total = cfg.known_ids.len();
    let mut checked = 0;
    reporter.counted(ReadStage::DirectoryKnownIds, 0, Some(total));
    for chunk in cfg.known_ids.chunks(KNOWN_ID_CHUNK) {
        let mut filter = String::from("(|");
        for id in chunk {
            filter.push_str(&format!("({attr}={})", ldap3::ldap_escape(id.as_str())));
        }
        filter.push(')');
        paged_search(
            ldap,
            cfg,
            &cfg.base_dn,
            Scope::Subtree,
            &filter,
            std::slice::from_ref(attr),
            None,
            |e| {
                if let Ok(id) = map::entry_id(&e, &cfg.profile) {
                    found.insert(id);
                }
            },
        )
        .await?;
        checked += chunk.len();
        reporter.counted(ReadStage::DirectoryKnownIds, checked, Some(total));
    }
    reporter.finished(ReadStage::DirectoryKnownIds, checked);
    Ok(cfg
        .known_ids
        .iter()
        .filter(|id| !found.contains(*id))
        .cloned()
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_entry_is_none_not_a_panic() {
        use ldap3::asn1::{PL, StructureTag, TagClass};
        let not_an_entry = StructureTag {
            class: TagClass::Application,
            id: 5,
            payload: PL::C(vec![]),
        };
        assert_eq!(construct(ResultEntry::new(not_an_entry)), None);
        let entry_without_dn = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::C(vec![]),
        };
        assert_eq!(construct(ResultEntry::new(entry_without_dn)), None);
    }

    #[test]
    fn naming_context_is_the_trailing_dc_components() {
        assert_eq!(
            naming_context("OU=Staff,OU=Teamsync,DC=fx,DC=test"),
            "DC=fx,DC=test"
        );
        assert_eq!(naming_context("dc=fx, dc=test"), "dc=fx, dc=test");
        assert_eq!(
            naming_context("CN=Smith\\, DC=x,OU=People, DC=corp,DC=example"),
            "DC=corp,DC=example"
        );
        assert_eq!(naming_context("ou=people,o=example"), "ou=people,o=example");
        assert_eq!(naming_context(""), "");
    }

    #[test]
    fn ad_member_attributes_are_requested_in_windows() {
        let ad = Profile::active_directory();
        let attrs = with_member_ranges(&ad, ad.group_attributes());
        assert!(
            attrs.iter().any(|a| a == "member;range=0-1499"),
            "{attrs:?}"
        );
        assert!(!attrs.iter().any(|a| a == "member"), "{attrs:?}");
        assert!(attrs.iter().any(|a| a == "objectGUID"), "{attrs:?}");
        let ol = Profile::open_ldap();
        assert_eq!(
            with_member_ranges(&ol, ol.group_attributes()),
            ol.group_attributes()
        );
    }
}
