//! Secrets in the config: `{ env = "NAME" }`, `{ file = "/path" }`, or inline (refused unless
//! `allow_inline_secrets = true`). Read into [`teamsync_core::Secret`], which never prints.

use std::path::PathBuf;

use serde::Deserialize;

/// Where a secret comes from: `{ env = "NAME" }`, `{ file = "/path" }`, or an inline string
/// (refused unless `allow_inline_secrets = true`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum SecretSpec {
    /// The secret itself, written in the config.
    Inline(String),
    /// Read from the environment or a file.
    From(SecretSource),
}

impl std::fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSpec::Inline(_) => f.write_str("Inline([redacted])"),
            SecretSpec::From(source) => source.fmt(f),
        }
    }
}

/// `{ env = "NAME" }` or `{ file = "/path" }` (exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SecretSource {
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// File holding the secret (surrounding whitespace trimmed), relative to the config's
    /// folder.
    #[serde(default)]
    pub file: Option<PathBuf>,
}

impl SecretSpec {
    /// `{ env = "NAME" }`.
    pub fn env(name: impl Into<String>) -> Self {
        SecretSpec::From(SecretSource {
            env: Some(name.into()),
            file: None,
        })
    }

    /// `{ file = "/path" }`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SecretSpec::From(SecretSource {
            env: None,
            file: Some(path.into()),
        })
    }

    /// The file it is read from, if any (where `teamsync auth` stores a refresh token).
    pub fn file_path(&self) -> Option<&std::path::Path> {
        match self {
            SecretSpec::From(SecretSource {
                file: Some(file), ..
            }) => Some(file),
            _ => None,
        }
    }
}
