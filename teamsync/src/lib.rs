//! teamsync: mirror a corporate directory into a Dropbox team.
//!
//! This crate is the facade: it re-exports the core and, by feature, the adapters. The config
//! schema, the file sources and the run live here so that the `teamsync` command and the
//! Python package are shells over one library.

pub use teamsync_core as core;
#[cfg(feature = "dropbox")]
pub use teamsync_dropbox as dropbox;
#[cfg(feature = "ldap")]
pub use teamsync_ldap as ldap;
