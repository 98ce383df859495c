//! The run history: every `check`, `plan` and `apply` (and Python's `teamsync.sync()`) leaves a
//! JSON [`RunRecord`] in a folder — when it started and ended, its exit code and error, both
//! sides' counts, the guard's verdict, every operation with its result and error, and the
//! warnings — so that an admin can see what the runs did ([`History::visit`]) and what
//! happened to one person across them ([`History::person`]), as Entra's provisioning logs do
//! per object. [`metrics`] gives a run's figures in the Prometheus text format.
//!
//! The folder is `history_dir` in the config, else `history` beside the log file
//! ([`History::for_config`]); it keeps the newest `history_keep` records ([`DEFAULT_KEEP`]).
//!
//! History files can be edited or forged. Reading never fails because of one: a file that is
//! a symlink, not a regular file, larger than [`MAX_RECORD_BYTES`], not UTF-8 or not a record
//! is reported by name ([`Unreadable`]) and the others are read. Nothing a sync decides is
//! read from the history. Records are written through [`crate::files`] (a temp file in the
//! folder, renamed: never through a planted symlink), readable by their owner only (they list
//! people and errors).
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! use teamsync::history::{History, RunRecord};
//! let history = History::new(dir.path().join("history"), 10);
//! let mut record = RunRecord::begin("plan", "teamsync.toml");
//! record.end(0, None);
//! history.write(&record)?;
//! let mut commands = Vec::new();
//! let unreadable = history.visit(|_file, run| commands.push(run.command))?;
//! assert_eq!(commands, ["plan"]);
//! assert!(unreadable.is_empty());
//! # Ok(()) }
//! ```

mod person;
mod record;
mod store;
mod time;

pub mod metrics;

pub use person::{PersonHistory, PersonRun};
pub use record::{
    Counts, GuardRecord, OperationRecord, RunRecord, SCHEMA_VERSION, TeamCounts, WarningRecord,
};
pub use store::{DEFAULT_KEEP, History, MAX_RECORD_BYTES, Records, Unreadable, Written};
pub use time::rfc3339;

#[cfg(feature = "dropbox")]
pub use record::exit_code;

#[cfg(test)]
mod tests;
