//! # sync-core
//!
//! The pure heart of teamsync: the model of both sides, the [`Directory`] and [`TeamStore`]
//! traits adapters implement, the deterministic planner and the executor.
//!
//! ## What this crate does not do
//!
//! * **No I/O.** It never opens a socket or a file; adapters (`sync-ldap`, `sync-dropbox`) do.
//! * **No clock and no randomness in planning.** [`plan()`] is a function of its arguments: the
//!   same inputs, in any order, give the same plan, byte for byte.
//! * **No runtime.** Only `apply` is async, and it runs on whatever executor drives it.
//!
//! ## Cargo features
//!
//! * `timer` (default): [`TimerSleeper`], the `futures-timer` sleeper behind
//!   `ApplyOptions::default()`. It works under any executor and starts one helper thread the
//!   first time a retry waits. Without it the core depends on no timer at all: build options
//!   with [`ApplyOptions::new`] and a [`Sleeper`] of your runtime.
//! * `memory` (off by default): `memory::MemoryTeam` and `memory::MemoryDirectory`, an
//!   in-memory team and directory that follow Dropbox's rules, for tests and examples.
//!
//! ## Example
//!
//! ```
//! use teamsync_core::memory::MemoryTeam;
//! use teamsync_core::{apply, plan, ActualState, ApplyOptions, DesiredState, Policy};
//!
//! let desired: DesiredState = serde_json::from_str(r#"{
//!     "user_roots": ["root"],
//!     "users": [{"id": "u1", "email": "ann@example.com", "given_name": "Ann", "surname": "Lee"}],
//!     "groups": [{"id": "root", "name": "Dropbox Users", "members": ["u1"]}]
//! }"#)?;
//! let team = MemoryTeam::with_state(ActualState::default());
//!
//! let dry_run = plan(&desired, &team.state(), &Policy::default())?;
//! assert_eq!(dry_run.operations.len(), 1); // invite ann@example.com
//! println!("{}", dry_run.render());
//!
//! let outcome = futures::executor::block_on(apply(&dry_run, &team, &ApplyOptions::default()))?;
//! assert!(outcome.is_success());
//! assert!(plan(&desired, &team.state(), &Policy::default())?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Directory`]: store::Directory
//! [`TeamStore`]: store::TeamStore
#![warn(missing_docs)]

// The derive in `docs` names this crate by its path, also from inside it.
extern crate self as teamsync_core;

pub mod docs;
pub mod model;
pub mod policy;
mod reading;
pub mod rules;
pub mod saved;
mod secret;
pub mod store;
pub mod text;

pub use model::{
    ActualState, DesiredState, DirectoryGroup, DirectoryUser, Email, EmailError, GroupRef,
    ManagementType, MemberRef, MemberStatus, SourceId, SourceIdError, SourceIssue, TeamGroup,
    TeamMember,
};
pub use policy::{
    GroupLeave, GroupSync, InvitedDeprovision, LeaveAction, Limit, Policy, PolicyError,
    RemovalTransfer,
};
pub use reading::{ReadCallback, ReadOptions, ReadProgress, ReadReporter, ReadSide, ReadStage};
pub use secret::Secret;
pub use store::{
    Directory, DirectoryError, DirectoryErrorKind, ErrorKind, GroupChange, NewMember,
    ProfileChange, RemoveMode, RemoveOptions, StoreError, StoreLimits, TeamStore, WantedState,
};
mod only;
pub mod plan;
mod planner;

pub use only::OnlyError;
pub use plan::{
    Action, Guard, IdleUser, Observed, Operation, PLAN_FORMAT_VERSION, Phase, Plan,
    PlanFormatError, StaleOperation, Stats, Warning, WarningKind,
};
pub use planner::{NAME_PART_MAX, PlanError, clean_name_part, plan};
mod apply;
#[cfg(feature = "memory")]
pub mod memory;
pub mod retry;

#[cfg(feature = "timer")]
pub use apply::TimerSleeper;
pub use apply::{
    ApplyError, ApplyOptions, OpResult, OpStatus, Outcome, Permission, Progress, ResultCallback,
    Sleeper, apply,
};
pub use retry::{Backoff, GiveUp, RetryDecision, RetryPolicy};
