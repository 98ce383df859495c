//! # sync-dropbox
//!
//! teamsync's [`TeamStore`](teamsync_core::TeamStore) over the Dropbox team API: [`DropboxTeam`].
//! Underneath, [`DropboxClient`] is a typed client of the team routes (reqwest with rustls,
//! HTTP/1.1 and HTTP/2, custom CA, timeouts, redirects off), authenticated by a fixed token or
//! a refresh token it renews before expiry.
//!
//! ## What this crate does not do
//!
//! * **No retries of writes.** Errors come back classified
//!   ([`teamsync_core::ErrorKind`]); the core's executor decides. The exceptions: one token refresh
//!   and repeat on 401 `expired_access_token`, and repeated *reads* (`team/get_info`, list pages,
//!   job polls), which change nothing, under the core's one retry mechanism
//!   ([`teamsync_core::RetryPolicy`], [`ClientConfig::read_retry`]).
//! * **No trust in the server's numbers and sizes.** Bodies are read streamed up to a limit,
//!   every read has a deadline, server-requested waits are capped, listings stop at a repeated
//!   cursor or past what a team can hold; each ends the read as [`DropboxError::Incomplete`],
//!   never a panic or an endless wait. See the crate's README for each hostile mode.
//! * **No secrets in output.** Tokens and app secrets live in [`Secret`], whose `Debug` and
//!   `Display` print `[redacted]`; no error carries a header.
//! * **No planning.** It reads the team and carries out operations; `sync-core` decides which.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use teamsync_core::TeamStore;
//! use teamsync_dropbox::{ClientConfig, Credentials, DropboxClient, DropboxTeam, Secret};
//!
//! let token = Secret::new(std::env::var("DROPBOX_TEAM_TOKEN")?);
//! let client = DropboxClient::new(ClientConfig::default(), Credentials::AccessToken(token))?;
//! println!("connected to {}", client.team_get_info().await?.name);
//! let team = DropboxTeam::new(client);
//! let actual = team.snapshot().await?;
//! println!("{} members, {} groups", actual.members.len(), actual.groups.len());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod auth;
mod client;
mod error;
pub(crate) mod map;
#[cfg(test)]
mod sdk_crosscheck;
mod store;
pub(crate) mod wire;

// The shared test helpers name this crate as users do.
#[cfg(test)]
extern crate self as teamsync_dropbox;

pub use auth::Credentials;
pub use client::{
    CaSource, ClientConfig, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, DropboxClient,
    HttpVersion, ProxySetting,
};
pub use error::DropboxError;
pub use store::{
    DEFAULT_GROUP_MEMBERS_PER_CALL, DEFAULT_MAX_TEAM_MEMBERS, DropboxTeam, INVITES_PER_CALL,
    JobPolling, TeamOptions,
};
pub use teamsync_core::Secret;
/// Dropbox's wire shapes that [`DropboxClient`]'s route methods take and return (the Stone
/// spec's names; only the fields teamsync uses).
pub use wire::{
    EmptyJobStatus, GroupAccessType, GroupCreateArg, GroupFullInfo, GroupManagementType,
    GroupMemberInfo, GroupMembersAddArg, GroupMembersChangeResult, GroupMembersRemoveArg,
    GroupSelector, GroupSummary, GroupUpdateArgs, GroupsListArg, GroupsListResult,
    GroupsMembersListArg, GroupsMembersListResult, MemberAccess, MemberAddV2Arg, MemberAddV2Result,
    MemberProfile, MembersAddStatus, MembersAddV2Arg, MembersDeactivateArg, MembersGetInfoItemV2,
    MembersGetInfoV2Arg, MembersGetInfoV2Result, MembersListArg, MembersListV2Result,
    MembersRemoveArg, MembersSetProfileArg, Name, TeamGetInfoResult, TeamMemberInfoV2,
    TeamMemberInfoV2Result, TeamMemberRole, TeamMemberStatus, UserSelectorArg,
};
