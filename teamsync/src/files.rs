//! Writing files that an attacker may have prepared: every file teamsync writes (the command's
//! plans, tokens, log and lock; the run history and metrics files) goes through here.
//!
//! * Whole files (a saved plan, a stored refresh token) are written to a fresh temp file with
//!   a random name created exclusively in the target's own folder, synced, then renamed over the
//!   target. A full disk leaves the previous file as it was, and a symlink planted at a guessable
//!   temp name cannot receive the contents. A symlink at the target itself is replaced, never
//!   written through (rename does not follow it).
//! * Files that are opened in place (the run log, appended; the lock file) are opened without
//!   following a symlink at their path, so a link planted there cannot make teamsync append to
//!   or truncate a file the attacker chose.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Who may read a file written whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Only its owner (mode 0600 on Unix): secrets.
    Owner,
    /// As the umask allows (mode 0666 narrowed by the umask): plans, reports.
    Default,
}

/// Replaces `path` with `contents` atomically (see the module doc). The folder must exist.
pub fn write_atomically(path: &Path, contents: &[u8], readers: Readers) -> std::io::Result<()> {
    write_whole(path, contents, readers, true)
}

/// Writes `contents` as a new file at `path`, whole or not at all; fails with
/// `AlreadyExists` when something (a file, a symlink) is there already, even if it appeared
/// a moment ago (`teamsync init` without `--force`). The folder must exist.
pub fn write_new(path: &Path, contents: &[u8], readers: Readers) -> std::io::Result<()> {
    write_whole(path, contents, readers, false)
}

fn write_whole(
    path: &Path,
    contents: &[u8],
    readers: Readers,
    replace: bool,
) -> std::io::Result<()> {
    let folder = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_owned(),
        None => std::env::current_dir()?,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // tempfile creates with O_EXCL and a random suffix, mode 0600 on Unix unless told otherwise.
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    if readers == Readers::Default {
        use std::os::unix::fs::PermissionsExt as _;
        // Given at creation, so the process umask narrows it as it would for a plain write.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    #[cfg(not(unix))]
    let _ = readers;
    let mut temp = builder.tempfile_in(&folder)?;
    // Windows: a protected ACL for the owner, SYSTEM and Administrators, before any content.
    #[cfg(windows)]
    if readers == Readers::Owner {
        crate::platform::make_private(temp.path())?;
    }
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    if replace {
        temp.persist(path).map_err(|e| e.error)?;
    } else {
        // A hard link, which fails on an existing name: no window where a file there is lost.
        temp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// Opens `path` for appending (creating it) without following a symlink at `path`.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    create_parent(path)?;
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    no_follow(&mut options);
    options.open(path).map_err(|e| refuse_symlink(path, e))
}

/// Opens `path` for reading and writing (creating it, not truncating) without following a
/// symlink at `path`: the lock file.
pub fn open_lock(path: &Path) -> std::io::Result<File> {
    create_parent(path)?;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    no_follow(&mut options);
    options.open(path).map_err(|e| refuse_symlink(path, e))
}

/// Opens `path` for reading without following a symlink at `path` and without waiting on a
/// FIFO planted there (non-blocking open on Unix): files an attacker may have prepared, such
/// as the run history's. The caller checks that what it got is a regular file.
pub fn open_read(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    no_follow(&mut options);
    let file = options.open(path).map_err(|e| refuse_symlink(path, e))?;
    if file.metadata()?.file_type().is_symlink() {
        return Err(refuse_symlink(
            path,
            std::io::Error::other("a symbolic link"),
        ));
    }
    Ok(file)
}

fn create_parent(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options.custom_flags(libc::O_NOFOLLOW);
}

#[cfg(windows)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::windows::fs::OpenOptionsExt as _;
    // FILE_FLAG_OPEN_REPARSE_POINT: open a symlink itself instead of its target; the check
    // below then refuses it.
    options.custom_flags(0x0020_0000);
}

#[cfg(not(any(unix, windows)))]
fn no_follow(_options: &mut OpenOptions) {}

/// Turns the OS's answer to a symlink (ELOOP on Unix) into a message that says what happened,
/// and refuses a symlink that the platform opened as itself (Windows).
fn refuse_symlink(path: &Path, error: std::io::Error) -> std::io::Error {
    let is_link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if is_link {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} is a symbolic link; teamsync does not write or read through links (remove it, or point the config at the real file)",
                path.display()
            ),
        )
    } else {
        error
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("teamsync.toml");
        write_new(&path, b"first", Readers::Owner).unwrap();
        let error = write_new(&path, b"second", Readers::Owner).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new", Readers::Default).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }

    #[cfg(unix)]
    #[test]
    fn owner_only_files_are_0600_and_a_symlinked_target_is_replaced_not_followed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let path = dir.path().join("token");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_atomically(&path, b"secret", Readers::Owner).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert!(
            !std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn append_and_lock_refuse_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        for open in [open_append, open_lock] {
            let path = dir.path().join("planted");
            std::os::unix::fs::symlink(&victim, &path).unwrap();
            let error = open(&path).unwrap_err();
            assert!(error.to_string().contains("symbolic link"), "{error}");
            std::fs::remove_file(&path).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    }
}
