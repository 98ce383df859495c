//! What differs between Windows and Unix, in one place: where a machine-wide run keeps its
//! files by default, and who besides the owner can read a file that holds or names secrets.
//!
//! | | Windows | Linux and other Unixes | macOS |
//! |---|---|---|---|
//! | config | `%ProgramData%\teamsync\teamsync.toml` | `./teamsync.toml` | `./teamsync.toml` |
//! | log, lock (and the run history beside them) | `%ProgramData%\teamsync\` | `$XDG_STATE_HOME/teamsync/` (`~/.local/state/teamsync/`) | `~/Library/Logs/teamsync/` |
//! | "others can read this file" | its ACL grants read to someone other than the owner, SYSTEM and Administrators | mode `o+r` | mode `o+r` |
//!
//! On Windows the task runs as a service account, often a group Managed Service Account with
//! no profile worth the name, from `C:\Windows\System32`: a machine-wide folder is the only
//! default an admin can find (docs/windows.md).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[cfg(any(windows, test))]
mod sddl;
#[cfg(windows)]
mod windows;

/// The config file used without `--config` or `TEAMSYNC_CONFIG`.
pub fn default_config_path() -> PathBuf {
    if cfg!(windows) {
        default_state_dir().join("teamsync.toml")
    } else {
        PathBuf::from("teamsync.toml")
    }
}

/// The folder of the default log and lock files (and of the run history).
pub fn default_state_dir() -> PathBuf {
    let env = |name: &str| std::env::var_os(name);
    state_dir_from(env("ProgramData"), env("HOME"), env("XDG_STATE_HOME"))
}

/// [`default_state_dir`] from the environment variables it reads (empty ones count as unset).
fn state_dir_from(
    program_data: Option<OsString>,
    home: Option<OsString>,
    xdg_state_home: Option<OsString>,
) -> PathBuf {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        // %ProgramData% is C:\ProgramData on every Windows since Vista; the variable is read
        // so that a relocated one is followed.
        return set(program_data)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
            .join("teamsync");
    }
    let home = set(home);
    if cfg!(target_os = "macos") {
        return home
            .map(|h| h.join("Library/Logs/teamsync"))
            .unwrap_or_else(|| std::env::temp_dir().join("teamsync"));
    }
    set(xdg_state_home)
        .or_else(|| home.map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("teamsync")
}

/// A warning when others than the file's owner (and, on Windows, SYSTEM and Administrators)
/// can read `path`, which names where secrets are or holds them; `what` says what the file is
/// ("config file"). `None` when only they can, or when the file cannot be examined at all
/// (reading it will then fail with its own message).
pub fn readable_by_others_warning(path: &Path, what: &str) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o004 != 0).then(|| {
            format!(
                "warning: {what} {} is readable by every user (mode {:o}); chmod o-r it",
                path.display(),
                mode & 0o777
            )
        })
    }
    #[cfg(windows)]
    {
        windows::readable_by_others_warning(path, what)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (path, what);
        None
    }
}

/// Leaves `path` readable and writable by its owner only (and, on Windows, SYSTEM and
/// Administrators, with no inherited entries): mode 0600 on Unix, a protected ACL on Windows.
/// (On Unix `files` creates secret files 0600 from the start; Windows needs this afterwards.)
#[cfg(any(windows, test))]
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(windows)]
    {
        windows::make_private(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        Ok(())
    }
}

/// Reads a text file as Windows tools write them too: a UTF-8 byte-order mark (Notepad's) is
/// dropped; UTF-16 (Windows PowerShell 5's `>` and `Out-File`) is refused with what to do.
/// Line ends are left as they are: every reader of these files takes CRLF as LF.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    decode_text(std::fs::read(path)?)
}

/// [`read_text`] of bytes already read.
pub fn decode_text(mut bytes: Vec<u8>) -> std::io::Result<String> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(invalid(
            "the file is UTF-16 text (as Windows PowerShell 5 writes with `>` or Out-File); save it as UTF-8, e.g. `Get-Content IN | Set-Content -Encoding utf8 OUT`".into(),
        ));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    // std's own message, as before this function existed.
    String::from_utf8(bytes).map_err(|_| invalid("stream did not contain valid UTF-8".into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_bom_crlf_or_utf16() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFa = 1\r\n".to_vec()).unwrap(),
            "a = 1\r\n"
        );
        assert_eq!(decode_text(b"plain".to_vec()).unwrap(), "plain");
        let utf16 = decode_text(vec![0xFF, 0xFE, b'a', 0]).unwrap_err();
        assert!(utf16.to_string().contains("UTF-16"), "{utf16}");
        let latin1 = decode_text(vec![b'a', 0xE9]).unwrap_err();
        assert!(latin1.to_string().contains("valid UTF-8"), "{latin1}");
    }

    #[test]
    fn state_dir_follows_the_platform_convention() {
        let os = |s: &str| Some(OsString::from(s));
        if cfg!(windows) {
            assert_eq!(
                state_dir_from(os(r"D:\Data"), None, None),
                PathBuf::from(r"D:\Data\teamsync")
            );
            assert_eq!(
                state_dir_from(os(""), os(r"C:\Users\x"), None),
                PathBuf::from(r"C:\ProgramData\teamsync")
            );
            assert_eq!(default_config_path().file_name().unwrap(), "teamsync.toml");
            assert!(default_config_path().is_absolute());
        } else if cfg!(target_os = "macos") {
            assert_eq!(
                state_dir_from(None, os("/Users/x"), None),
                PathBuf::from("/Users/x/Library/Logs/teamsync")
            );
        } else {
            assert_eq!(
                state_dir_from(os("/ignored"), os("/home/x"), None),
                PathBuf::from("/home/x/.local/state/teamsync")
            );
            assert_eq!(
                state_dir_from(None, os("/home/x"), os("/var/lib/x")),
                PathBuf::from("/var/lib/x/teamsync")
            );
            assert_eq!(default_config_path(), PathBuf::from("teamsync.toml"));
        }
        // The real environment gives an absolute folder named teamsync.
        let dir = default_state_dir();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert_eq!(dir.file_name().unwrap(), "teamsync");
    }

    /// Under Wine (scripts/windows/test.sh sets WINEPREFIX, which Wine passes to Windows
    /// programs) a file's ACL is made up from its Unix mode, and SetNamedSecurityInfo succeeds
    /// without changing it: a private ACL can only be checked on a real Windows.
    fn under_wine() -> bool {
        cfg!(windows) && std::env::var_os("WINEPREFIX").is_some()
    }

    #[test]
    fn a_private_file_gives_no_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "x").unwrap();
        make_private(&path).unwrap();
        if under_wine() {
            println!("under Wine: the private ACL was set; only a real Windows shows it");
            return;
        }
        assert_eq!(readable_by_others_warning(&path, "config file"), None);
    }

    #[test]
    fn a_file_others_can_read_gives_the_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let warning = readable_by_others_warning(&path, "config file").unwrap();
            assert!(warning.contains("readable by every user"), "{warning}");
        }
        // Under Wine the new file's mode-made ACL already lets Everyone read it; on Windows the
        // entry is added.
        #[cfg(windows)]
        {
            windows::grant_everyone_read(&path).unwrap();
            let warning = readable_by_others_warning(&path, "config file").unwrap();
            assert!(warning.contains("readable by every user"), "{warning}");
            assert!(warning.contains("Everyone"), "{warning}");
            assert!(warning.contains("icacls"), "{warning}");
        }
    }
}
