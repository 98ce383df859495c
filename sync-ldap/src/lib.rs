//! # sync-ldap
//!
//! teamsync's [`Directory`](teamsync_core::Directory) over LDAP and Active Directory, built on the
//! `ldap3` crate (async, rustls).
//!
//! * **Connection**: `ldaps://`, or `ldap://` with StartTLS, trusting a CA file (PEM) or the
//!   system store; `no_tls_verify` for labs only (logged as a warning). [`Bind`]: simple (a
//!   password is never sent in clear text unless `allow_plaintext_bind` is set), SASL GSSAPI
//!   (Kerberos, no password in the config; the `gssapi` feature, on by default), SASL
//!   EXTERNAL (a TLS [`ClientCertificate`], or `ldapi://`), or anonymous.
//!   [`LdapDirectory::whoami`] says who the bind made us.
//! * **Profiles** ([`Profile`]): Active Directory, OpenLDAP, FreeIPA / 389-DS, generic; each
//!   field can be overridden.
//! * **Reads**: every bulk read is streaming, paged (≤ 1000), entries only (referrals skipped)
//!   and must end with success; a size limit, time limit or dropped connection fails the
//!   snapshot with [`DirectoryErrorKind::Incomplete`](teamsync_core::DirectoryErrorKind). Membership
//!   comes from one read of all groups (AD ranged `member;range=` completed, primary group
//!   added), nesting resolved in memory, cycle-safe: never one in-chain query per object.
//! * **Deletions**: AD tombstones (show-deleted control). OpenLDAP keeps no tombstones: it can
//!   only tell that ids synced before ([`LdapConfig::known_ids`]) are no longer found.
//!
//! All AD-specific formats live in the private `ad` module; all mapping from entries to the
//! core's model in the private `map` (pure, unit- and property-tested inside the crate). LDIF
//! exports ([`ldif`]) map through the same rules.
//!
//! ```no_run
//! use teamsync_core::Directory;
//! use teamsync_ldap::{Secret, LdapConfig, LdapDirectory, Profile};
//!
//! # async fn run() -> Result<(), teamsync_core::DirectoryError> {
//! let mut config = LdapConfig::new("ldaps://ldap.example.org", "dc=example,dc=org", Profile::open_ldap())
//!     .with_bind("cn=teamsync,dc=example,dc=org", Secret::new("secret"));
//! config.ca_file = Some("/etc/teamsync/ca.pem".into());
//! config.user_root_dns = vec!["cn=dropbox,ou=groups,dc=example,dc=org".into()];
//! let state = LdapDirectory::new(config)?.snapshot().await?;
//! println!("{} users", state.users.len());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub(crate) mod ad;
mod config;
mod conn;
mod directory;
mod hints;
#[cfg(feature = "gssapi")]
mod kerberos;
pub mod ldif;
pub(crate) mod map;
#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod map_fuzz;

pub use config::{
    Bind, ClientCertificate, DeletedDetection, DisabledRule, IdFormat, LdapConfig, MemberAttribute,
    MemberKind, Profile, ProfileKind,
};
pub use directory::{BoundIdentity, LdapDirectory};
/// The raw entries of one read ([`LdapDirectory::read_entries`]), for diagnostics and tests.
pub use map::{RawEntry, ReadEntries};
/// The bind password's type: the one redacting secret of every teamsync crate.
pub use teamsync_core::Secret;

/// Not part of the API: the entry mapping and the assembly as separate steps, so the
/// `ldap_read` bench can time each (the mapping itself stays private to the crate).
#[doc(hidden)]
pub mod bench {
    use std::time::SystemTime;

    use teamsync_core::DesiredState;

    use crate::{LdapConfig, ReadEntries, map};

    /// Entries reduced to what assembly needs (opaque).
    pub struct Records(map::ReadRecords);

    /// Maps every entry of `read` as a snapshot would.
    pub fn map_entries(read: &ReadEntries, config: &LdapConfig, now: SystemTime) -> Records {
        Records(map::ReadRecords {
            groups: read
                .groups
                .iter()
                .map(|g| map::group_record(g, &config.profile))
                .collect(),
            users: read
                .users
                .iter()
                .map(|u| map::user_record(u, &config.profile, now))
                .collect(),
            deleted: read.deleted.clone(),
        })
    }

    /// Assembles mapped records into the desired state, as a snapshot would.
    pub fn assemble(records: Records, config: &LdapConfig) -> Result<DesiredState, String> {
        map::assemble_records(&config.user_root_dns, &config.group_root_dns, records.0)
            .map_err(|e| e.to_string())
    }
}
