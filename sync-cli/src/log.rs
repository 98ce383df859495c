//! The run log: one line per event (start, every planned or applied operation, warnings,
//! errors) ending with the exit code, as text or JSON lines, appended to a file.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-01-02T03:04:05Z teamsync[pid] command event: message`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The default log file: `$XDG_STATE_HOME/teamsync/teamsync.log` (or `~/.local/state/…`) on
/// Linux and other Unixes, `~/Library/Logs/teamsync/teamsync.log` on macOS,
/// `%ProgramData%\teamsync\teamsync.log` on Windows.
pub fn default_log_path() -> PathBuf {
    default_state_dir().join("teamsync.log")
}

/// The folder of the default log and lock files (per platform: `teamsync::platform`).
pub fn default_state_dir() -> PathBuf {
    teamsync::platform::default_state_dir()
}

/// RFC 3339 UTC time with seconds (the library's, shared with the run history).
pub fn rfc3339(time: SystemTime) -> String {
    teamsync::history::rfc3339(time)
}

/// Why the run log cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum LogOpenError {
    /// The file cannot be created or opened.
    #[error("{0}")]
    Io(std::io::Error),
    /// The file holds lines of the other format.
    #[error(
        "the log file {} holds {} lines and this run would append {} lines; one file holds one format: \
         give the {} log a file of its own (--log-file, or log_file in the config)",
        path.display(), found.word(), wanted.word(), wanted.word()
    )]
    MixedFormat {
        /// The log file.
        path: PathBuf,
        /// The format of the lines already in it.
        found: LogFormat,
        /// The format this run writes.
        wanted: LogFormat,
    },
}

impl LogFormat {
    fn word(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "JSON",
        }
    }
}

/// The format of the last line already in the log at `path`; `None` for an empty or unreadable
/// file. Text lines start with their time, JSON lines with `{`.
fn format_of_existing(path: &Path) -> Option<LogFormat> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let tail = len.min(4096);
    file.seek(SeekFrom::Start(len - tail)).ok()?;
    let mut bytes = Vec::new();
    file.take(tail).read_to_end(&mut bytes).ok()?;
    let last = bytes
        .split(|b| *b == b'\n')
        .map(|line| line.trim_ascii())
        .rfind(|line| !line.is_empty())?;
    Some(if last.starts_with(b"{") {
        LogFormat::Json
    } else {
        LogFormat::Text
    })
}

/// Lines of a run kept for the notification mail.
pub const MAIL_LINES: usize = 2000;

/// An open run log. Writing never fails the run: a log line that cannot be written is
/// reported once on stderr.
#[derive(Debug)]
pub struct RunLog {
    writer: Option<LineWriter>,
    /// This run's lines as text, for the notification mail.
    lines: Vec<String>,
    /// This run's history record, when it is recorded (`crate::history`).
    pub(crate) recording: Option<crate::history::Recording>,
}

/// Writes log lines to the file from any thread: the executor's callback writes each
/// operation's result the moment it is known, so the log stays an audit trail after a crash
/// or a `kill -9` (each line is one `write`, appended, unbuffered).
#[derive(Debug, Clone)]
pub struct LineWriter {
    file: std::sync::Arc<std::sync::Mutex<File>>,
    format: LogFormat,
    command: String,
    write_failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LineWriter {
    /// Writes one event (see [`RunLog::event`]).
    pub fn write(&self, event: &str, message: &str, fields: Value) {
        let line = format_line(self.format, &self.command, event, message, fields);
        let written = match self.file.lock() {
            Ok(mut file) => file.write_all(line.as_bytes()),
            Err(_) => Ok(()),
        };
        if let Err(e) = written
            && !self
                .write_failed
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!("teamsync: warning: cannot write the log file: {e}");
        }
    }
}

/// One log line as the file holds it. Text lines carry names from the directory: one event
/// must stay one line, with no escape codes. JSON lines keep the message exact.
fn format_line(
    format: LogFormat,
    command: &str,
    event: &str,
    message: &str,
    fields: Value,
) -> String {
    let now = rfc3339(SystemTime::now());
    match format {
        LogFormat::Text => format!(
            "{now} teamsync[{}] {command} {event}: {}\n",
            std::process::id(),
            teamsync_core::text::escape_for_display(message)
        ),
        LogFormat::Json => {
            let mut object = json!({
                "time": now, "pid": std::process::id(), "command": command, "event": event, "message": message,
            });
            if let (Some(target), Value::Object(extra)) = (object.as_object_mut(), fields) {
                target.extend(extra);
            }
            format!("{object}\n")
        }
    }
}

impl RunLog {
    /// Opens (appending, creating folders) the log at `path`; `None` logs nowhere.
    pub fn open(
        path: Option<&Path>,
        format: LogFormat,
        command: &str,
    ) -> Result<RunLog, LogOpenError> {
        let file = match path {
            // Never through a symlink planted at the log's path.
            Some(path) => {
                let file = crate::files::open_append(path).map_err(LogOpenError::Io)?;
                // One format per file: a JSON line among text lines breaks both readers.
                if let Some(found) = format_of_existing(path)
                    && found != format
                {
                    return Err(LogOpenError::MixedFormat {
                        path: path.to_owned(),
                        found,
                        wanted: format,
                    });
                }
                Some(file)
            }
            None => None,
        };
        Ok(RunLog {
            writer: file.map(|file| LineWriter {
                file: std::sync::Arc::new(std::sync::Mutex::new(file)),
                format,
                command: command.to_owned(),
                write_failed: Default::default(),
            }),
            lines: Vec::new(),
            recording: None,
        })
    }

    /// A log that writes nowhere.
    pub fn disabled() -> RunLog {
        RunLog {
            writer: None,
            lines: Vec::new(),
            recording: None,
        }
    }

    /// This run's lines (at most [`MAIL_LINES`]), as text.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Writes one event: `event` names it, `message` is for people, `fields` (a JSON object)
    /// go into JSON lines only.
    pub fn event(&mut self, event: &str, message: &str, fields: Value) {
        self.remember(event, message);
        if let Some(writer) = &self.writer {
            writer.write(event, message, fields);
        }
    }

    /// Keeps an event for the notification mail only (its line is already in the file).
    pub fn remember(&mut self, event: &str, message: &str) {
        // Bounded: a mail of a 100,000-operation run keeps its start and says how much is left out.
        if self.lines.len() < MAIL_LINES {
            let now = rfc3339(SystemTime::now());
            let shown = teamsync_core::text::escape_for_display(message);
            self.lines.push(format!("{now} {event}: {shown}"));
        }
    }

    /// A writer for lines written from elsewhere (the executor's result callback); `None`
    /// when this log writes nowhere.
    pub fn writer(&self) -> Option<LineWriter> {
        self.writer.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cannot_forge_a_text_line_but_json_keeps_it_exact() {
        let dir = tempfile::tempdir().unwrap();
        let forged =
            "Eng\n2026-01-01T00:00:00Z teamsync[1] apply end: exit code 0 (success)\u{1b}[2J";
        for format in [LogFormat::Text, LogFormat::Json] {
            let path = dir.path().join(format!("{format:?}.log"));
            let mut log = RunLog::open(Some(&path), format, "apply").unwrap();
            log.event("op", &format!("create group {forged}"), json!({}));
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().count(), 1, "{text}");
            assert!(!text.contains('\u{1b}'), "{text}");
            if format == LogFormat::Json {
                let line: Value = serde_json::from_str(text.trim()).unwrap();
                assert_eq!(line["message"], format!("create group {forged}"));
            }
            assert_eq!(log.lines()[0].lines().count(), 1);
        }
    }

    #[test]
    fn a_log_keeps_one_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("teamsync.log");
        let mut log = RunLog::open(Some(&path), LogFormat::Text, "plan").unwrap();
        log.event("start", "text first", json!({}));
        drop(log);
        let err = RunLog::open(Some(&path), LogFormat::Json, "plan").unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "the log file {} holds text lines and this run would append JSON lines",
                path.display()
            )),
            "{err}"
        );
        assert!(matches!(err, LogOpenError::MixedFormat { .. }));
        // The same format appends; an empty file takes either.
        RunLog::open(Some(&path), LogFormat::Text, "plan").unwrap();
        let json_path = dir.path().join("json.log");
        std::fs::write(&json_path, "").unwrap();
        let mut log = RunLog::open(Some(&json_path), LogFormat::Json, "plan").unwrap();
        log.event("start", "json", json!({}));
        let err = RunLog::open(Some(&json_path), LogFormat::Text, "plan").unwrap_err();
        assert!(err.to_string().contains("holds JSON lines"), "{err}");
    }

    #[test]
    fn json_lines_carry_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.log");
        let mut log = RunLog::open(Some(&path), LogFormat::Json, "apply").unwrap();
        log.event("end", "exit 0", json!({"exit_code": 0}));
        let line: Value =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        assert_eq!(line["exit_code"], 0);
        assert_eq!(line["command"], "apply");
    }
}
