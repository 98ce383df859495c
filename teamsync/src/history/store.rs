//! The history folder: writing a record, keeping the newest, reading them back.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;

use super::record::{RunRecord, SCHEMA_VERSION};
use crate::config::Config;
use crate::files::{Readers, open_read, write_atomically};

/// Records kept when the config does not say (`history_keep`): 30 days of hourly runs, the
/// retention of Entra's provisioning logs. A run that changes nothing leaves about 2 KB, so
/// the folder stays around 1.5 MB; only the rare big runs (a first import) are large, and they
/// age out like the others.
pub const DEFAULT_KEEP: usize = 720;

/// The largest history file read (256 MiB, a record of about a million operations): a bigger
/// one is reported, not read, so that a planted file cannot exhaust memory.
pub const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

/// Distinguishes records one process starts within the same millisecond.
static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A history folder and how many records it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    folder: PathBuf,
    keep: usize,
}

/// A file in the history folder that was not read, and why (for people: the name as it is,
/// escape it before printing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Unreadable {
    /// The file's name in the folder.
    pub file: String,
    /// Why it was not read.
    pub problem: String,
}

/// Every record (file name and contents, oldest first) and the files that could not be read.
pub type Records = (Vec<(String, RunRecord)>, Vec<Unreadable>);

/// What [`History::write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Written {
    /// The record's file.
    pub path: PathBuf,
    /// Older records removed to keep [`History::keep`].
    pub pruned: usize,
}

impl History {
    /// `folder`, keeping the newest `keep` records (at least 1).
    pub fn new(folder: impl Into<PathBuf>, keep: usize) -> History {
        History {
            folder: folder.into(),
            keep: keep.max(1),
        }
    }

    /// The config's history: `history_dir`, else `history` beside `log_file` (the log the run
    /// writes, when the caller knows it: the command's `--log-file`), else beside the config's
    /// `log_file`, else in the platform's state folder (beside the default log); keeping
    /// `history_keep` records (default [`DEFAULT_KEEP`]).
    pub fn for_config(config: &Config, log_file: Option<&Path>) -> History {
        let file = config.file();
        let folder = match (&file.history_dir, log_file, &file.log_file) {
            (Some(dir), _, _) => config.resolve(dir),
            (None, Some(log), _) => beside(log),
            (None, None, Some(log)) => beside(&config.resolve(log)),
            (None, None, None) => crate::platform::default_state_dir().join("history"),
        };
        History::new(folder, file.history_keep.unwrap_or(DEFAULT_KEEP))
    }

    /// The history beside a log file, for a run whose config could not be loaded.
    pub fn beside_log(log_file: &Path) -> History {
        History::new(beside(log_file), DEFAULT_KEEP)
    }

    /// The config's history when it names a folder (`history_dir`): library runs (Python's
    /// `sync()`) record only then.
    pub fn configured(config: &Config) -> Option<History> {
        config
            .file()
            .history_dir
            .is_some()
            .then(|| History::for_config(config, None))
    }

    /// The folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// How many records are kept.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Writes `record` as a new file (creating the folder, owner-only), then removes the
    /// oldest records beyond [`History::keep`]. The file is written whole or not at all, and
    /// never through a symlink planted at its name.
    pub fn write(&self, record: &RunRecord) -> std::io::Result<Written> {
        create_private_dir(&self.folder)?;
        let name = format!(
            "run-{}-{}-{}-{}.json",
            record.compact_start(),
            file_safe(&record.command),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let path = self.folder.join(name);
        let mut bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        write_atomically(&path, &bytes, Readers::Owner)?;
        let pruned = self.prune()?;
        Ok(Written { path, pruned })
    }

    /// Removes the oldest records (by name, which starts with the start time) beyond
    /// [`History::keep`]; returns how many. Only files named as records are counted and
    /// removed; a symlink is removed itself, never what it points at. Only listing the folder
    /// can fail.
    pub fn prune(&self) -> std::io::Result<usize> {
        let mut records: Vec<String> = self
            .names()?
            .into_iter()
            .filter_map(Result::ok)
            .filter(|name| is_record_name(name))
            .collect();
        records.sort();
        let excess = records.len().saturating_sub(self.keep);
        let mut removed = 0;
        for name in &records[..excess] {
            let path = self.folder.join(name);
            let removable = std::fs::symlink_metadata(&path)
                .is_ok_and(|m| m.is_file() || m.file_type().is_symlink());
            // What cannot be removed now (another run pruned it first, a folder planted under
            // a record's name, no permission) is left; the next run tries again.
            if removable && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Calls `visit` with each record (its file name and contents), oldest first, and returns
    /// the files that could not be read. A folder that does not exist has no records; one that
    /// cannot be listed is the error.
    pub fn visit(
        &self,
        mut visit: impl FnMut(&str, RunRecord),
    ) -> std::io::Result<Vec<Unreadable>> {
        let mut unreadable = Vec::new();
        let mut names = Vec::new();
        for name in self.names()? {
            match name {
                Ok(name) if name.starts_with('.') => {}
                Ok(name) => names.push(name),
                Err(lossy) => unreadable.push(Unreadable {
                    file: lossy,
                    problem: "its name is not UTF-8; run records are named run-<time>-<command>-<pid>-<n>.json".into(),
                }),
            }
        }
        names.sort();
        for name in names {
            if !name.ends_with(".json") {
                unreadable.push(Unreadable {
                    file: name,
                    problem: "not a run record (they are named run-<time>-<command>-<pid>-<n>.json); ignored".into(),
                });
                continue;
            }
            match read_record(&self.folder.join(&name)) {
                Ok(record) => visit(&name, record),
                Err(problem) => unreadable.push(Unreadable {
                    file: name,
                    problem,
                }),
            }
        }
        Ok(unreadable)
    }

    /// Every record, oldest first, and the files that could not be read.
    pub fn records(&self) -> std::io::Result<Records> {
        let mut records = Vec::new();
        let unreadable = self.visit(|name, record| records.push((name.to_owned(), record)))?;
        Ok((records, unreadable))
    }

    /// The folder's entry names (`Err` holds a name that is not UTF-8, lossily); none when
    /// the folder does not exist.
    fn names(&self) -> std::io::Result<Vec<Result<String, String>>> {
        let entries = match std::fs::read_dir(&self.folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            names.push(
                name.into_string()
                    .map_err(|n| n.to_string_lossy().into_owned()),
            );
        }
        Ok(names)
    }
}

/// `<folder of log>/history`.
fn beside(log_file: &Path) -> PathBuf {
    log_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("history")
}

/// A name as the history writes them: `run-….json`.
fn is_record_name(name: &str) -> bool {
    name.starts_with("run-") && name.ends_with(".json")
}

/// A command name fit for a file name.
fn file_safe(command: &str) -> String {
    command
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(32)
        .collect()
}

/// Creates `folder` (and its parents); a folder it creates is its owner's only on Unix.
fn create_private_dir(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(folder)
}

/// Reads one history file, refusing what a record never is.
fn read_record(path: &Path) -> Result<RunRecord, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot examine it: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link; history files are never followed".into());
    }
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let too_big = |len: u64| {
        format!(
            "it is {len} bytes, more than the {MAX_RECORD_BYTES} a run record may have; not read"
        )
    };
    if meta.len() > MAX_RECORD_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = open_read(path).map_err(|e| format!("cannot open it: {e}"))?;
    let opened = file
        .metadata()
        .map_err(|e| format!("cannot examine it: {e}"))?;
    if !opened.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    let record: RunRecord =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a run record: {e}"))?;
    match record.schema_version {
        0 => Err("not a run record: it has no schema_version".into()),
        v if v > SCHEMA_VERSION => Err(format!(
            "written by a newer teamsync (record schema {v}; this one reads {SCHEMA_VERSION})"
        )),
        _ => Ok(record),
    }
}
