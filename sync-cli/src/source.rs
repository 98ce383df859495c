//! The file directory source: a JSON or LDIF file read at every snapshot, so that an HR export
//! dropped in place is picked up by the next run.

use std::path::PathBuf;
use std::time::SystemTime;

use async_trait::async_trait;
use teamsync_core::{DesiredState, Directory, DirectoryError, DirectoryErrorKind};

use crate::config::{AttributeOverrides, FileFormat, ProfileName, profile_with_overrides};
use crate::map::{self, SimpleDirectory, SourceError};

/// A [`Directory`] over a file.
#[derive(Debug, Clone)]
pub struct FileDirectory {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// User root groups (names, DNs or ids by format); empty keeps the file's own.
    pub user_roots: Vec<String>,
    /// Group root groups.
    pub group_roots: Vec<String>,
    /// For LDIF: the entry shapes (guessed from the entries when `None`).
    pub profile: Option<ProfileName>,
    /// For LDIF: attribute overrides.
    pub attributes: AttributeOverrides,
}

impl FileDirectory {
    /// Maps text already read (the demo's embedded directory, tests).
    pub fn state_from_text(
        &self,
        text: &str,
        now: SystemTime,
    ) -> Result<DesiredState, DirectoryError> {
        let format = match self.format {
            FileFormat::Auto => {
                let is_ldif = self
                    .path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("ldif"));
                if is_ldif {
                    FileFormat::Ldif
                } else {
                    let value: serde_json::Value = serde_json::from_str(text)
                        .map_err(|e| self.error(SourceError::Json(e.to_string())))?;
                    if map::is_simple_json(&value) {
                        FileFormat::SimpleJson
                    } else {
                        FileFormat::StateJson
                    }
                }
            }
            other => other,
        };
        let result = match format {
            FileFormat::Ldif => map::parse_ldif(text).and_then(|entries| {
                let profile = match self.profile {
                    Some(name) => profile_with_overrides(name, &self.attributes),
                    None => map::guess_profile(&entries),
                };
                map::desired_from_ldif(entries, &profile, &self.user_roots, &self.group_roots, now)
            }),
            FileFormat::SimpleJson => serde_json::from_str::<SimpleDirectory>(text)
                .map_err(|e| SourceError::Json(e.to_string()))
                .and_then(|simple| {
                    map::desired_from_simple(simple, &self.user_roots, &self.group_roots)
                }),
            FileFormat::StateJson | FileFormat::Auto => {
                map::desired_from_state_json(text, &self.user_roots, &self.group_roots)
            }
        };
        result.map_err(|e| self.error(e))
    }

    fn error(&self, error: SourceError) -> DirectoryError {
        let kind = match error {
            SourceError::RootNotFound(_) => DirectoryErrorKind::RootNotFound,
            _ => DirectoryErrorKind::Other,
        };
        DirectoryError::new(kind, format!("{}: {error}", self.path.display()))
    }
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
