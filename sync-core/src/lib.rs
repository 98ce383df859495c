//! # sync-core
//!
//! The pure heart of teamsync: the model of both sides, the [`Directory`] and [`TeamStore`]
//! traits adapters implement, the deterministic planner and the executor.
//!
//! ## What this crate does not do
//!
//! * **No I/O.** It never opens a socket or a file; adapters (`sync-ldap`, `sync-dropbox`) do.
//! * **No clock and no randomness in planning.** [`plan`] is a function of its arguments: the
//!   same inputs, in any order, give the same plan, byte for byte.
//! * **No runtime.** Only `apply` is async, and it runs on whatever executor drives it.
//!
//! [`Directory`]: store::Directory
//! [`TeamStore`]: store::TeamStore
#![warn(missing_docs)]

pub mod model;
pub mod policy;
pub mod store;

pub use model::*;
pub use policy::*;
pub use store::*;
pub mod plan;
mod planner;

pub use plan::*;
pub use planner::{clean_name_part, plan, PlanError, NAME_PART_MAX};
mod apply;
#[cfg(feature = "memory")]
pub mod memory;

pub use apply::{apply, ApplyError, ApplyOptions, OpResult, OpStatus, Outcome, Permission, Progress, Sleeper, TimerSleeper};
