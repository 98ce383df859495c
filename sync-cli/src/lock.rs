//! The run lock: one teamsync run at a time per lock file (the seed's "do not start a new
//! instance"). An OS file lock, so a crashed run never leaves a stale lock behind.

use std::fs::{File, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another teamsync run holds the lock {0}")]
    Held(PathBuf),
    /// The lock file could not be created or locked.
    #[error("cannot use lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Held for the whole run; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock without waiting and writes this process's id into the file.
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        // Never through a symlink planted at the lock's path (it would be truncated below).
        let mut file = crate::files::open_lock(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(LockError::Held(path.to_owned())),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // For people looking at the file; the OS lock is what counts.
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/teamsync.lock");
        let first = RunLock::acquire(&path).unwrap();
        assert!(matches!(RunLock::acquire(&path), Err(LockError::Held(_))));
        drop(first);
        RunLock::acquire(&path).unwrap();
    }
}
