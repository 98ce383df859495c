//! The exception hierarchy and the one place Rust errors become Python exceptions.
//!
//! Every fallible call in this crate returns [`BindingError`]; its `From` impl below is the only
//! code that picks an exception class, so the mapping is reviewed in one place.

use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use teamsync_core::{
    ApplyError, DirectoryErrorKind, ErrorKind, PlanError as CorePlanError, StoreError,
};

create_exception!(
    teamsync,
    TeamsyncError,
    PyException,
    "Base class of every error teamsync raises."
);
create_exception!(
    teamsync,
    ConfigError,
    TeamsyncError,
    "Settings are unusable: an unknown or invalid Policy knob, a bad URL, CA file or credentials combination."
);
create_exception!(
    teamsync,
    InvalidDataError,
    TeamsyncError,
    "A dict or JSON document does not have the shape of a teamsync value (state, plan, seed)."
);
create_exception!(
    teamsync,
    DirectoryError,
    TeamsyncError,
    "Reading the directory failed (connection, bind, incomplete read, missing root); `.kind` names the stage."
);
create_exception!(
    teamsync,
    TeamError,
    TeamsyncError,
    "The team (Dropbox or MemoryTeam) refused or failed a call; `.kind` and `.code` classify it."
);
create_exception!(
    teamsync,
    TeamAuthError,
    TeamError,
    "The team's credentials are missing, invalid, expired beyond refresh, or lack a scope."
);
create_exception!(
    teamsync,
    RateLimitedError,
    TeamError,
    "The team asked to slow down; `.retry_after_ms` is the delay it gave, or None."
);
create_exception!(
    teamsync,
    PlanError,
    TeamsyncError,
    "The planner refused to plan (invalid policy, no users in scope, an `only` name nobody has)."
);
create_exception!(
    teamsync,
    GuardRefusedError,
    TeamsyncError,
    "apply() refused a plan over the deprovision limits without permission."
);
create_exception!(
    teamsync,
    EmulatorError,
    TeamsyncError,
    "An emulator (Dropbox or Graph) could not start, refused a seed, or is closed."
);

/// Everything that can go wrong in a call from Python.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    /// Unusable settings (policy knob, adapter configuration).
    #[error("{0}")]
    Config(String),
    /// A value from Python does not deserialize into the core type.
    #[error("{0}")]
    InvalidData(String),
    /// A directory read failed.
    #[error("{0}")]
    Directory(#[from] teamsync_core::DirectoryError),
    /// A team call failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The planner refused.
    #[error("{0}")]
    Plan(#[from] CorePlanError),
    /// apply refused the plan.
    #[error("{0}")]
    Apply(#[from] ApplyError),
    /// The emulator failed.
    #[error("{0}")]
    Emulator(#[from] teamsync_dropbox_emulator::EmulatorError),
    /// The Graph emulator failed.
    #[error("{0}")]
    GraphEmulator(#[from] teamsync_graph_emulator::EmulatorError),
    /// `only=` named someone neither the directory nor the team knows.
    #[error("{0}")]
    Only(#[from] teamsync_core::OnlyError),
    /// The emulator was used after `close()`.
    #[error("the emulator is closed")]
    EmulatorClosed,
    /// A bug: a background task panicked.
    #[error("internal error: {0}")]
    Internal(String),
    /// A Python exception already raised (KeyboardInterrupt from a signal check, a conversion
    /// error inside pyo3): passed through unchanged.
    #[error("{0}")]
    Python(#[from] PyErr),
}

/// Results of calls from Python.
pub type BindingResult<T> = Result<T, BindingError>;

impl From<pythonize::PythonizeError> for BindingError {
    fn from(error: pythonize::PythonizeError) -> Self {
        Self::InvalidData(error.to_string())
    }
}

/// The runner's errors, by stage, onto the same exceptions as the lower-level calls.
impl From<teamsync::RunError> for BindingError {
    fn from(error: teamsync::RunError) -> Self {
        use teamsync::RunError as R;
        match error {
            R::Config(e) => Self::Config(e.to_string()),
            R::Directory(e) => Self::Directory(e),
            R::NoUsers(e) => Self::Plan(e),
            R::TeamAuth(message) => Self::Store(StoreError::new(ErrorKind::Auth, message)),
            R::TeamRead(message) => Self::Store(StoreError::new(ErrorKind::Transient, message)),
            R::Guard(e) => Self::Apply(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<teamsync_dropbox::DropboxError> for BindingError {
    fn from(error: teamsync_dropbox::DropboxError) -> Self {
        match error {
            teamsync_dropbox::DropboxError::Config(message) => Self::Config(message),
            other => Self::Store(other.into()),
        }
    }
}

fn error_kind_word(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Transient => "transient",
        ErrorKind::RateLimited { .. } => "rate_limited",
        ErrorKind::Auth => "auth",
        ErrorKind::Conflict => "conflict",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Permanent => "permanent",
        // A kind added to the core later: treated like one that fails again the same way.
        _ => "permanent",
    }
}

fn directory_kind_word(kind: DirectoryErrorKind) -> &'static str {
    match kind {
        DirectoryErrorKind::Config => "config",
        DirectoryErrorKind::Connect => "connect",
        DirectoryErrorKind::Bind => "bind",
        DirectoryErrorKind::Incomplete => "incomplete",
        DirectoryErrorKind::RootNotFound => "root_not_found",
        DirectoryErrorKind::Other => "other",
        _ => "other",
    }
}

/// Sets attributes on a fresh exception; an attribute that cannot be set is left out rather
/// than replacing the error being raised.
fn with_attributes(error: PyErr, attributes: &[(&str, Option<String>)]) -> PyErr {
    Python::attach(|py| {
        let value = error.value(py);
        for (name, attribute) in attributes {
            let _ = value.setattr(*name, attribute.clone());
        }
    });
    error
}

impl From<BindingError> for PyErr {
    fn from(error: BindingError) -> Self {
        let message = error.to_string();
        match error {
            BindingError::Config(_) => ConfigError::new_err(message),
            BindingError::InvalidData(_) => InvalidDataError::new_err(message),
            BindingError::Directory(e) if e.kind == DirectoryErrorKind::Config => with_attributes(
                ConfigError::new_err(message),
                &[("kind", Some("config".to_owned()))],
            ),
            BindingError::Directory(e) => with_attributes(
                DirectoryError::new_err(message),
                &[("kind", Some(directory_kind_word(e.kind).to_owned()))],
            ),
            BindingError::Store(e) => {
                let exception = match e.kind {
                    ErrorKind::Auth => TeamAuthError::new_err(message),
                    ErrorKind::RateLimited { .. } => RateLimitedError::new_err(message),
                    _ => TeamError::new_err(message),
                };
                let retry_after_ms = match e.kind {
                    ErrorKind::RateLimited { retry_after_ms } => retry_after_ms,
                    _ => None,
                };
                Python::attach(|py| {
                    let value = exception.value(py);
                    // Setting an attribute on a fresh exception instance does not fail; if it
                    // did, the exception is still raised, without the attribute.
                    let _ = value.setattr("kind", error_kind_word(e.kind));
                    let _ = value.setattr("code", e.code.clone());
                    let _ = value.setattr("retry_after_ms", retry_after_ms);
                });
                exception
            }
            BindingError::Plan(_) | BindingError::Only(_) => PlanError::new_err(message),
            BindingError::Apply(_) => GuardRefusedError::new_err(message),
            BindingError::Emulator(_)
            | BindingError::GraphEmulator(_)
            | BindingError::EmulatorClosed => EmulatorError::new_err(message),
            BindingError::Internal(_) => TeamsyncError::new_err(message),
            BindingError::Python(e) => e,
        }
    }
}

/// Adds the exception classes to the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("TeamsyncError", py.get_type::<TeamsyncError>())?;
    module.add("ConfigError", py.get_type::<ConfigError>())?;
    module.add("InvalidDataError", py.get_type::<InvalidDataError>())?;
    module.add("DirectoryError", py.get_type::<DirectoryError>())?;
    module.add("TeamError", py.get_type::<TeamError>())?;
    module.add("TeamAuthError", py.get_type::<TeamAuthError>())?;
    module.add("RateLimitedError", py.get_type::<RateLimitedError>())?;
    module.add("PlanError", py.get_type::<PlanError>())?;
    module.add("GuardRefusedError", py.get_type::<GuardRefusedError>())?;
    module.add("EmulatorError", py.get_type::<EmulatorError>())?;
    Ok(())
}
