//! The command's file writes: the library's one mechanism ([`teamsync::files`]: atomic whole
//! files, appends and locks that never follow a planted symlink).

pub use teamsync::files::{Readers, open_append, open_lock, write_atomically, write_new};
