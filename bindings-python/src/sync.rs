//! `teamsync.sync(config)` and `teamsync.Config`: the command's own config (a TOML file, or the
//! same shape as a dict) run through the library's [`teamsync::Runner`], the same run as
//! `teamsync plan` / `teamsync apply`.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use teamsync::{Permission, Runner};

use crate::errors::{BindingError, BindingResult};
use crate::model::{PyActualState, PyDesiredState, PyOutcome, PyPlan, from_python};

/// A loaded and checked config: the TOML file the `teamsync` command reads.
#[pyclass(name = "Config", module = "teamsync", frozen, skip_from_py_object)]
pub struct PyConfig {
    pub inner: teamsync::Config,
}

impl PyConfig {
    fn from_value(data: &Bound<'_, PyAny>, base_dir: Option<PathBuf>) -> BindingResult<Self> {
        let value: serde_json::Value = from_python(data)?;
        let text = toml::to_string(&value).map_err(|e| {
            BindingError::Config(format!("the config dict is not TOML-shaped: {e}"))
        })?;
        let base = base_dir.unwrap_or_else(|| PathBuf::from("."));
        Ok(Self {
            inner: teamsync::Config::from_toml_str(&text, base.join("<dict>"))
                .map_err(teamsync::RunError::from)?,
        })
    }

    /// A config from what `sync` accepts: a `Config`, a path, or a dict.
    pub(crate) fn coerce(config: &Bound<'_, PyAny>) -> BindingResult<teamsync::Config> {
        if let Ok(loaded) = config.cast::<PyConfig>() {
            return Ok(loaded.get().inner.clone());
        }
        if config.is_instance_of::<pyo3::types::PyDict>() {
            return Ok(Self::from_value(config, None)?.inner);
        }
        let path: PathBuf = config.extract().map_err(|_| {
            BindingError::Python(pyo3::exceptions::PyTypeError::new_err(
                "config must be a teamsync.Config, a path (str or os.PathLike) or a dict",
            ))
        })?;
        Ok(teamsync::Config::load(&path).map_err(teamsync::RunError::from)?)
    }
}

#[pymethods]
impl PyConfig {
    /// Reads and checks a config file (TOML), exactly as the `teamsync` command does.
    #[staticmethod]
    fn load(path: PathBuf) -> BindingResult<Self> {
        Ok(Self {
            inner: teamsync::Config::load(&path).map_err(teamsync::RunError::from)?,
        })
    }

    /// The same shape as a dict (relative paths are relative to `base_dir`, default the
    /// current folder).
    #[staticmethod]
    #[pyo3(signature = (data, base_dir = None))]
    fn from_dict(data: &Bound<'_, PyAny>, base_dir: Option<PathBuf>) -> BindingResult<Self> {
        Self::from_value(data, base_dir)
    }

    /// Config text; `path` names it in errors and anchors relative paths.
    #[staticmethod]
    #[pyo3(signature = (text, path = None))]
    fn from_toml(text: &str, path: Option<PathBuf>) -> BindingResult<Self> {
        let path = path.unwrap_or_else(|| PathBuf::from("teamsync.toml"));
        Ok(Self {
            inner: teamsync::Config::from_toml_str(text, &path)
                .map_err(teamsync::RunError::from)?,
        })
    }

    /// The file it came from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_owned()
    }

    /// `ldap` or `file`.
    #[getter]
    fn directory_kind(&self) -> &'static str {
        self.inner.file().directory.kind()
    }

    /// Warnings for people (a world-readable file).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(path={:?}, directory={:?})",
            self.inner.path().display().to_string(),
            self.inner.file().directory.kind()
        )
    }
}

/// What `sync` did: the plan, and the outcome when it applied (`None` on a dry run).
#[pyclass(name = "SyncResult", module = "teamsync", frozen, skip_from_py_object)]
pub struct PySyncResult {
    plan: Py<PyPlan>,
    outcome: Option<Py<PyOutcome>>,
    desired: Py<PyDesiredState>,
    actual: Py<PyActualState>,
}

#[pymethods]
impl PySyncResult {
    /// The plan.
    #[getter]
    fn plan(&self, py: Python<'_>) -> Py<PyPlan> {
        self.plan.clone_ref(py)
    }

    /// The outcome, or `None` on a dry run.
    #[getter]
    fn outcome(&self, py: Python<'_>) -> Option<Py<PyOutcome>> {
        self.outcome.as_ref().map(|o| o.clone_ref(py))
    }

    /// The directory as this run read it (the plan was made from it).
    #[getter]
    fn desired(&self, py: Python<'_>) -> Py<PyDesiredState> {
        self.desired.clone_ref(py)
    }

    /// The team as this run read it, before applying.
    #[getter]
    fn actual(&self, py: Python<'_>) -> Py<PyActualState> {
        self.actual.clone_ref(py)
    }

    /// Whether the plan was applied.
    #[getter]
    fn applied(&self) -> bool {
        self.outcome.is_some()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let _ = py;
        format!(
            "SyncResult(operations={}, applied={})",
            self.plan.get().inner.operations.len(),
            self.outcome.is_some()
        )
    }
}

/// One run from the command's config: read the team, then the directory (with the team's
/// managed ids), plan, restrict the plan to `only` (emails or directory ids, as `teamsync plan
/// --only` / `apply --only` do) when given, and apply unless `dry_run`; recorded in the run
/// history when the config names a `history_dir`.
#[pyfunction]
#[pyo3(signature = (config, dry_run = true, allow_deprovision = None, force = false, only = None))]
pub fn sync(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    dry_run: bool,
    allow_deprovision: Option<usize>,
    force: bool,
    only: Option<Vec<String>>,
) -> BindingResult<PySyncResult> {
    let config = PyConfig::coerce(config)?;
    // Recorded in the run history when the config names one (history_dir).
    let recording = crate::history::Recording::start(&config, dry_run);
    let runner = recording.runner(py, Runner::new(config))?;
    let permission = match (force, allow_deprovision) {
        (true, _) => Permission::Force,
        (false, Some(count)) => Permission::UpTo(count),
        (false, None) => Permission::WithinLimits,
    };
    let only = only.unwrap_or_default();
    let (plan, sides, outcome) =
        crate::history::plan_and_apply(py, runner, dry_run, permission, only, recording)?;
    let outcome = match outcome {
        Some(inner) => Some(Py::new(
            py,
            PyOutcome {
                inner,
                plan: Arc::clone(&plan),
            },
        )?),
        None => None,
    };
    Ok(PySyncResult {
        plan: Py::new(py, PyPlan { inner: plan })?,
        outcome,
        desired: Py::new(
            py,
            PyDesiredState {
                inner: Arc::new(sides.desired),
            },
        )?,
        actual: Py::new(
            py,
            PyActualState {
                inner: Arc::new(sides.actual),
            },
        )?,
    })
}
