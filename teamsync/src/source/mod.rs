//! The file directory sources: simple JSON, state JSON, LDIF and CSV, read at every snapshot
//! so that an HR export dropped in place is picked up by the next run.

mod csv;
mod simple;
mod state;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use teamsync_core::{DesiredState, Directory, DirectoryError, DirectoryErrorKind, SourceId};

use crate::config::{FileFormat, FileSection};

/// Why a file source could not become a [`DesiredState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The text is not valid LDIF; names the line.
    #[error("LDIF line {line}: {problem}")]
    Ldif {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The CSV cannot be read; names the line.
    #[error("CSV line {line}: {problem}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The JSON does not have a supported shape.
    #[error("JSON: {0}")]
    Json(String),
    /// A root group named in the config or the file does not exist.
    #[error("root group {} was not found in the source", teamsync_core::text::quoted(.0))]
    RootNotFound(String),
    /// The entries could not be mapped.
    #[error("{0}")]
    Mapping(String),
    /// The format needs a feature this build lacks.
    #[error("{0}")]
    Unsupported(String),
}

pub(crate) fn source_id(text: &str, what: &str) -> Result<SourceId, SourceError> {
    SourceId::new(text).map_err(|e| {
        SourceError::Json(format!("{what} {}: {e}", teamsync_core::text::quoted(text)))
    })
}

/// An id for a message, cut at [`SourceId::MAX_LEN`] characters (a bad one may be very long).
pub(crate) fn shown_id(id: &str) -> String {
    let mut cut: String = id.chars().take(SourceId::MAX_LEN).collect();
    if cut.len() < id.len() {
        cut.push('…');
    }
    cut
}

/// A [`Directory`] over a file ([`FileSection`]: path, format, roots, LDIF profile, CSV
/// columns).
#[derive(Debug, Clone)]
pub struct FileDirectory {
    path: PathBuf,
    section: FileSection,
}

impl FileDirectory {
    /// A source reading `path` (already resolved) as `section` says.
    pub fn new(path: impl Into<PathBuf>, section: FileSection) -> Self {
        Self {
            path: path.into(),
            section,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format a text has: the configured one, else by extension and JSON shape.
    fn format_of(&self, text: &str) -> Result<FileFormat, SourceError> {
        let extension = |ext: &str| {
            self.path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        };
        Ok(match self.section.format {
            FileFormat::Auto if extension("ldif") => FileFormat::Ldif,
            FileFormat::Auto if extension("csv") => FileFormat::Csv,
            FileFormat::Auto => {
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| SourceError::Json(e.to_string()))?;
                if simple::is_simple_json(&value) {
                    FileFormat::SimpleJson
                } else {
                    FileFormat::StateJson
                }
            }
            other => other,
        })
    }

    /// Maps text already read (an embedded directory, tests); `now` decides time-based
    /// disabled rules of LDIF entries.
    pub fn state_from_text(
        &self,
        text: &str,
        now: SystemTime,
    ) -> Result<DesiredState, DirectoryError> {
        self.map(text, now).map_err(|e| self.error(e))
    }

    fn map(&self, text: &str, now: SystemTime) -> Result<DesiredState, SourceError> {
        let s = &self.section;
        match self.format_of(text)? {
            FileFormat::Ldif => ldif(s, text, now),
            FileFormat::Csv => {
                csv::desired_from_csv(text, &s.columns, &s.user_roots, &s.group_roots)
            }
            FileFormat::SimpleJson => serde_json::from_str::<simple::SimpleDirectory>(text)
                .map_err(|e| SourceError::Json(e.to_string()))
                .and_then(|simple| {
                    simple::desired_from_simple(simple, &s.user_roots, &s.group_roots)
                }),
            _ => state::desired_from_state_json(text, &s.user_roots, &s.group_roots),
        }
    }

    fn error(&self, error: SourceError) -> DirectoryError {
        let kind = match error {
            SourceError::RootNotFound(_) => DirectoryErrorKind::RootNotFound,
            SourceError::Unsupported(_) => DirectoryErrorKind::Config,
            _ => DirectoryErrorKind::Other,
        };
        DirectoryError::new(kind, format!("{}: {error}", self.path.display()))
    }
}

#[cfg(feature = "ldap")]
fn ldif(s: &FileSection, text: &str, now: SystemTime) -> Result<DesiredState, SourceError> {
    use teamsync_ldap::ldif::LdifError;
    let profile = s
        .profile
        .map(|name| crate::config::profile_with_overrides(name, &s.attributes));
    teamsync_ldap::ldif::desired_from_ldif(
        text,
        profile.as_ref(),
        &s.user_roots,
        &s.group_roots,
        now,
    )
    .map_err(|e| match e {
        LdifError::Syntax { line, problem } => SourceError::Ldif { line, problem },
        LdifError::RootNotFound(root) => SourceError::RootNotFound(root),
        other => SourceError::Mapping(other.to_string()),
    })
}

#[cfg(not(feature = "ldap"))]
fn ldif(_: &FileSection, _: &str, _: SystemTime) -> Result<DesiredState, SourceError> {
    Err(SourceError::Unsupported(
        "LDIF files need teamsync's `ldap` feature".into(),
    ))
}

#[async_trait]
impl Directory for FileDirectory {
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError> {
        let bytes = tokio::fs::read(&self.path).await;
        let text = bytes.and_then(crate::platform::decode_text).map_err(|e| {
            DirectoryError::new(
                DirectoryErrorKind::Incomplete,
                format!("cannot read {}: {e}", self.path.display()),
            )
        })?;
        self.state_from_text(&text, SystemTime::now())
    }
}
