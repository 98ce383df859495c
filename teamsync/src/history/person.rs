//! What happened to one person across the runs (Entra's provisioning logs, per object).

use std::collections::BTreeSet;

use serde::Serialize;

use super::record::{OperationRecord, WarningRecord};
use super::store::{History, Unreadable};

/// One person's history: every run that planned or did something to them, or warned about
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PersonHistory {
    /// The email or directory id asked for.
    pub who: String,
    /// Their emails (lowercase) the runs name: an address that changed shows both.
    pub emails: Vec<String>,
    /// Their directory ids the runs name.
    pub directory_ids: Vec<String>,
    /// The runs, oldest first.
    pub runs: Vec<PersonRun>,
    /// History files that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// One run, as far as it concerns the person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PersonRun {
    /// The record's file.
    pub file: String,
    /// When the run started.
    pub started_at: String,
    /// `check`, `plan`, `apply`.
    pub command: String,
    /// The run's exit code.
    pub exit_code: Option<u8>,
    /// The operations that concern the person, with their results.
    pub operations: Vec<OperationRecord>,
    /// The warnings about the person.
    pub warnings: Vec<WarningRecord>,
}

/// Who the person is, as the runs name them.
#[derive(Default)]
struct Identity {
    emails: BTreeSet<String>,
    ids: BTreeSet<String>,
}

impl Identity {
    fn names(&self, op: &OperationRecord) -> bool {
        op.email.as_ref().is_some_and(|e| self.emails.contains(e))
            || op
                .directory_id
                .as_ref()
                .is_some_and(|i| self.ids.contains(i))
    }

    fn warned(&self, warning: &WarningRecord) -> bool {
        let subject = warning.subject.trim();
        let message = warning.message.to_ascii_lowercase();
        self.emails.contains(&subject.to_ascii_lowercase())
            || self.ids.contains(subject)
            || self
                .ids
                .iter()
                .any(|id| subject.strip_prefix("id ") == Some(id.as_str()))
            || self.emails.iter().any(|e| message.contains(e.as_str()))
    }
}

impl History {
    /// What happened to `who` (an email, any case, or a directory id) across the runs: the
    /// operations naming them, with results and errors, and the warnings about them. An email
    /// and an id the same operation names are the same person, so asking by either finds the
    /// runs that name only the other.
    pub fn person(&self, who: &str) -> std::io::Result<PersonHistory> {
        let who = who.trim();
        let mut identity = Identity::default();
        if who.contains('@') {
            identity.emails.insert(who.to_ascii_lowercase());
        }
        identity.ids.insert(who.to_owned());
        // First pass: every (email, id) pair an operation names; then the person's closure.
        let mut pairs = BTreeSet::new();
        self.visit(|_, record| {
            for op in record.operations {
                if let (Some(email), Some(id)) = (op.email, op.directory_id) {
                    pairs.insert((email, id));
                }
            }
        })?;
        loop {
            let mut grew = false;
            for (email, id) in &pairs {
                if identity.emails.contains(email) || identity.ids.contains(id) {
                    grew |= identity.emails.insert(email.clone());
                    grew |= identity.ids.insert(id.clone());
                }
            }
            if !grew {
                break;
            }
        }
        let mut runs = Vec::new();
        let unreadable = self.visit(|file, record| {
            let operations: Vec<OperationRecord> = record
                .operations
                .into_iter()
                .filter(|op| identity.names(op))
                .collect();
            let warnings: Vec<WarningRecord> = record
                .warnings
                .into_iter()
                .filter(|w| identity.warned(w))
                .collect();
            if !operations.is_empty() || !warnings.is_empty() {
                runs.push(PersonRun {
                    file: file.to_owned(),
                    started_at: record.started_at,
                    command: record.command,
                    exit_code: record.exit_code,
                    operations,
                    warnings,
                });
            }
        })?;
        // The id asked for is only "theirs" when a run names it.
        let named_ids: BTreeSet<&str> = runs
            .iter()
            .flat_map(|r| {
                r.operations
                    .iter()
                    .filter_map(|o| o.directory_id.as_deref())
            })
            .collect();
        Ok(PersonHistory {
            who: who.to_owned(),
            emails: identity.emails.into_iter().collect(),
            directory_ids: identity
                .ids
                .into_iter()
                .filter(|id| named_ids.contains(id.as_str()))
                .collect(),
            runs,
            unreadable,
        })
    }
}
