//! teamsync: mirror a corporate directory into a Dropbox team.
//!
//! This crate owns the whole run, so that the `teamsync` command (crate `teamsync-cli`) and
//! the Python package are thin shells over one library:
//!
//! * [`Config`]: the TOML config the command reads ([`Config::load`],
//!   [`Config::from_toml_str`]), with errors naming the key and its line;
//! * [`source`]: the file sources (simple JSON, state JSON, LDIF, CSV);
//! * [`Runner`]: read the team, then the directory (with the team's managed ids), plan, guard,
//!   apply;
//! * [`history`]: the run history (a JSON record of every run, kept in a folder and queried by
//!   person) and the Prometheus metrics file;
//! * [`files`]: writes that never follow a planted symlink.
//!
//! ```no_run
//! # async fn run() -> Result<(), teamsync::RunError> {
//! let runner = teamsync::Runner::new(teamsync::Config::load("teamsync.toml")?)?;
//! let planned = runner.plan().await?;
//! print!("{}", planned.plan.render());
//! # Ok(()) }
//! ```
//!
//! The core and the adapters are re-exported: [`core`], and by feature [`ldap`] and
//! [`dropbox`].
#![warn(missing_docs)]

pub mod config;
pub mod files;
pub mod history;
pub mod platform;
#[cfg(feature = "dropbox")]
mod run;
pub mod source;

pub use config::{Config, ConfigError};
#[cfg(feature = "dropbox")]
pub use run::{
    DirectoryCheck, Planned, RunError, RunErrorKind, RunEvent, Runner, SavedPlanOptions, Sides,
    TeamInfo, known_ids, plan_sides, read_plan_file,
};
pub use teamsync_core as core;
pub use teamsync_core::{
    ApplyOptions, Outcome, Permission, Plan, Policy, ReadProgress, ReadStage, Secret,
};
#[cfg(feature = "dropbox")]
pub use teamsync_dropbox as dropbox;
#[cfg(feature = "entra")]
pub use teamsync_entra as entra;
#[cfg(feature = "ldap")]
pub use teamsync_ldap as ldap;
pub mod report;
