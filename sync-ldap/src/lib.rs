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
//! All AD-specific formats live in [`ad`]; all mapping from entries to the core's model in
//! [`map`] (pure, unit-tested). LDIF exports ([`ldif`]) map through the same rules.
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

pub mod ad;
mod config;
mod conn;
mod directory;
mod hints;
#[cfg(feature = "gssapi")]
mod kerberos;
pub mod ldif;
pub mod map;

pub use config::{
    Bind, ClientCertificate, DeletedDetection, DisabledRule, IdFormat, LdapConfig, MemberAttribute,
    MemberKind, Profile, ProfileKind,
};
pub use directory::{BoundIdentity, LdapDirectory};
/// The bind password's type: the one redacting secret of every teamsync crate.
pub use teamsync_core::Secret;
