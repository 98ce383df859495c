//! [`LdapDirectory`]: one snapshot = one connection, a paged read of all groups (ranged
//! members completed), a paged read of all users, deleted-entry detection, then the pure
//! [`assemble`](crate::map::assemble).

use std::collections::HashSet;
use std::time::SystemTime;

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::{Ldap, Scope, SearchEntry};
use sync_core::{DesiredState, Directory, DirectoryError, DirectoryErrorKind, SourceId};

use crate::ad;
use crate::config::{DeletedDetection, IdFormat, LdapConfig};
use crate::conn;
use crate::map::{self, AssembleError, RawEntry, ReadEntries};

/// Most rounds of ranged retrieval for one attribute of one entry (1500 values each on AD:
/// 15 million values), so a server answering the same range forever cannot loop us.
const MAX_RANGE_ROUNDS: usize = 10_000;

/// Ids looked up per query when checking known ids.
const KNOWN_ID_CHUNK: usize = 100;

/// A [`Directory`] over LDAP or Active Directory.
#[derive(Debug, Clone)]
pub struct LdapDirectory {
    config: LdapConfig,
}

impl LdapDirectory {
    /// A directory with these settings. Fails on settings that can never work (bad URL,
    /// clear-text bind not allowed, page size out of range, no roots); the server is not
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
            return Err(DirectoryError::new(DirectoryErrorKind::Config, "no user or group root DN configured"));
        }
        Ok(Self { config })
    }

    /// The settings.
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// Reads a snapshot, judging expiry and lockout rules against `now`.
    pub async fn snapshot_at(&self, now: SystemTime) -> Result<DesiredState, DirectoryError> {
        let read = self.read_entries().await?;
        let cfg = &self.config;
        map::assemble(&cfg.profile, &cfg.user_root_dns, &cfg.group_root_dns, &read, now).map_err(|e| match e {
            AssembleError::RootNotFound(_) => DirectoryError::new(DirectoryErrorKind::RootNotFound, e.to_string()),
            AssembleError::RootWithoutId { .. } => DirectoryError::new(DirectoryErrorKind::Other, e.to_string()),
        })
    }

    /// Reads every entry a snapshot needs, over one connection.
    pub async fn read_entries(&self) -> Result<ReadEntries, DirectoryError> {
        let cfg = &self.config;
        let profile = &cfg.profile;
        let mut ldap = conn::connect(cfg).await?;
        let group_base = cfg.group_base_dn.as_deref().unwrap_or(&cfg.base_dn);
        let user_base = cfg.user_base_dn.as_deref().unwrap_or(&cfg.base_dn);

        let group_attrs = profile.group_attributes();
        let mut groups = Vec::new();
        paged_search(&mut ldap, cfg, group_base, Scope::Subtree, &profile.group_filter, &group_attrs, None, |e| {
            groups.push(e)
        })
        .await?;

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
            Some(extra) if !extra.trim().is_empty() => format!("(&{}{})", profile.user_filter, extra.trim()),
            _ => profile.user_filter.clone(),
        };
        let mut users = Vec::new();
        paged_search(&mut ldap, cfg, user_base, Scope::Subtree, &user_filter, &profile.user_attributes(), None, |e| {
            users.push(e)
        })
        .await?;

        let deleted = match profile.deleted_detection {
            DeletedDetection::None => Vec::new(),
            DeletedDetection::AdTombstones => read_tombstones(&mut ldap, cfg).await?,
            DeletedDetection::KnownIdLookup => missing_known_ids(&mut ldap, cfg).await?,
        };
        let _ = ldap.unbind().await;
        Ok(ReadEntries { groups, users, deleted })
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError> {
        self.snapshot_at(SystemTime::now()).await
    }
}

fn incomplete(message: String) -> DirectoryError {
    DirectoryError::new(DirectoryErrorKind::Incomplete, message)
}

/// Converts what ldap3 returns into a [`RawEntry`]: keys lower-cased, text and binary merged.
fn raw_entry(entry: SearchEntry) -> RawEntry {
    let mut raw = RawEntry { dn: entry.dn, ..RawEntry::default() };
    for (name, values) in entry.attrs {
        raw.push_all(&name, values.into_iter().map(String::into_bytes));
    }
    for (name, values) in entry.bin_attrs {
        raw.push_all(&name, values);
    }
    raw
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
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(i32::from(cfg.page_size)))];
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
                on_entry(raw_entry(SearchEntry::construct(entry)));
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
        4 => Err(incomplete(format!("{what}: the server's size limit cut the result (rc 4: {})", result.text))),
        3 => Err(incomplete(format!("{what}: the server's time limit cut the result (rc 3: {})", result.text))),
        rc => Err(incomplete(format!("{what}: the search did not complete (rc {rc}: {})", result.text))),
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
        .streaming_search_with(EntriesOnly::new(), dn, Scope::Base, "(objectClass=*)", attrs)
        .await
        .map_err(|e| incomplete(format!("read of {dn}: {e}")))?;
    let mut found = None;
    loop {
        match stream.next().await {
            Ok(Some(entry)) if !entry.is_ref() && !entry.is_intermediate() => {
                found = Some(raw_entry(SearchEntry::construct(entry)));
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
        rc => Err(incomplete(format!("read of {dn}: rc {rc}: {}", result.text))),
    }
}

/// AD ranged retrieval: while an attribute arrived as `name;range=A-B`, asks for
/// `name;range=B+1-*` with a base read until the part ending in `*`.
async fn complete_ranged_values(ldap: &mut Ldap, cfg: &LdapConfig, entry: &mut RawEntry) -> Result<(), DirectoryError> {
    let mut pending = entry.merge_ranged_parts();
    let mut rounds = 0usize;
    while let Some((attribute, start)) = pending.pop() {
        rounds += 1;
        if rounds > MAX_RANGE_ROUNDS {
            return Err(incomplete(format!("{}: ranged retrieval of {attribute} does not end", entry.dn)));
        }
        let request = format!("{attribute};range={start}-*");
        let Some(mut part) = read_base(ldap, cfg, &entry.dn, std::slice::from_ref(&request)).await? else {
            return Err(incomplete(format!("{}: vanished during ranged retrieval of {attribute}", entry.dn)));
        };
        let ranged_key = part.attrs.keys().find(|k| k.contains(";range=")).cloned();
        let Some(key) = ranged_key else {
            // Some servers answer the last part without a range option: take it whole.
            let values = part.attrs.remove(&attribute.to_ascii_lowercase()).unwrap_or_default();
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

/// AD: ids of deleted users and groups (tombstones), via the show-deleted control.
async fn read_tombstones(ldap: &mut Ldap, cfg: &LdapConfig) -> Result<Vec<SourceId>, DirectoryError> {
    let control = RawControl { ctype: ad::SHOW_DELETED_OID.into(), crit: true, val: None };
    let mut deleted = Vec::new();
    let attrs = [cfg.profile.id_attribute.clone()];
    paged_search(ldap, cfg, &cfg.base_dn, Scope::Subtree, ad::DELETED_FILTER, &attrs, Some(control), |e| {
        if let Ok(id) = map::entry_id(&e, &cfg.profile) {
            deleted.push(id);
        }
    })
    .await?;
    Ok(deleted)
}

/// Servers without tombstones: the known ids no longer found under the base DN.
async fn missing_known_ids(ldap: &mut Ldap, cfg: &LdapConfig) -> Result<Vec<SourceId>, DirectoryError> {
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
    for chunk in cfg.known_ids.chunks(KNOWN_ID_CHUNK) {
        let mut filter = String::from("(|");
        for id in chunk {
            filter.push_str(&format!("({attr}={})", ldap3::ldap_escape(id.as_str())));
        }
        filter.push(')');
        paged_search(ldap, cfg, &cfg.base_dn, Scope::Subtree, &filter, std::slice::from_ref(attr), None, |e| {
            if let Ok(id) = map::entry_id(&e, &cfg.profile) {
                found.insert(id);
            }
        })
        .await?;
    }
    Ok(cfg.known_ids.iter().filter(|id| !found.contains(*id)).cloned().collect())
}
