//! The run history from Python (the library's [`teamsync::history`]): `teamsync.sync()`
//! leaves a record when the config names a history folder (`history_dir`), and
//! `teamsync.history(config, user=None)` reads the records (the command's too) as dicts.

use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyOSError, PyUserWarning};
use pyo3::prelude::*;
use teamsync::history::{History, RunRecord, Unreadable};
use teamsync::{ApplyOptions, Outcome, Permission, Plan, RunError, Runner, Sides};
use teamsync_core::OnlyError;

use crate::errors::{BindingError, BindingResult};
use crate::model::to_python;
use crate::runtime;
use crate::sync::PyConfig;

/// A `sync()` being recorded, or not (no `history_dir` in the config).
pub struct Recording {
    target: Option<(Arc<Mutex<RunRecord>>, History)>,
}

impl Recording {
    /// Starts recording a `sync()` of `config` (`plan` for a dry run, else `apply`).
    pub fn start(config: &teamsync::Config, dry_run: bool) -> Recording {
        let command = if dry_run { "plan" } else { "apply" };
        Recording {
            target: History::configured(config).map(|history| {
                let record = RunRecord::begin(command, config.path());
                (Arc::new(Mutex::new(record)), history)
            }),
        }
    }

    fn with(&self, change: impl FnOnce(&mut RunRecord)) {
        if let Some((record, _)) = &self.target
            && let Ok(mut record) = record.lock()
        {
            change(&mut record);
        }
    }

    /// The runner, feeding the record the team's name and both sides' counts as they are
    /// read; a runner that could not be made is recorded as the run's error.
    pub fn runner(&self, py: Python<'_>, made: Result<Runner, RunError>) -> BindingResult<Runner> {
        match made {
            Ok(runner) => {
                let Some((record, _)) = &self.target else {
                    return Ok(runner);
                };
                let record = Arc::clone(record);
                Ok(runner.with_observer(move |event| {
                    if let Ok(mut record) = record.lock() {
                        match event {
                            teamsync::RunEvent::TeamConnected { name, .. } => {
                                record.team_connected(name)
                            }
                            teamsync::RunEvent::TeamRead { members, groups } => {
                                record.team_read(*members, *groups)
                            }
                            teamsync::RunEvent::DirectoryRead { users, groups } => {
                                record.directory_read(*users, *groups)
                            }
                            _ => {}
                        }
                    }
                }))
            }
            Err(error) => {
                self.finish(py, Err(&error))?;
                Err(error.into())
            }
        }
    }

    /// Ends the record and writes it; a record that cannot be written is a Python warning.
    fn finish(&self, py: Python<'_>, result: Result<Option<&Outcome>, &RunError>) -> PyResult<()> {
        self.finish_by(py, |record| record.end_with(result))
    }

    /// Ends the record with `end` and writes it.
    fn finish_by(&self, py: Python<'_>, end: impl FnOnce(&mut RunRecord)) -> PyResult<()> {
        let Some((record, history)) = &self.target else {
            return Ok(());
        };
        let written = match record.lock() {
            Ok(mut record) => {
                end(&mut record);
                history.write(&record)
            }
            Err(_) => return Ok(()),
        };
        if let Err(e) = written {
            warn(
                py,
                &format!(
                    "teamsync: cannot write the run history in {}: {e}",
                    history.folder().display()
                ),
            )?;
        }
        Ok(())
    }
}

/// Why a recorded run stopped: the runner's error, or an `only` name nobody has.
enum Stop {
    Run(RunError),
    Only(OnlyError),
}

impl From<RunError> for Stop {
    fn from(error: RunError) -> Self {
        Stop::Run(error)
    }
}

impl From<OnlyError> for Stop {
    fn from(error: OnlyError) -> Self {
        Stop::Only(error)
    }
}

/// The exit code the command gives an `--only` name nobody has (usage).
const EXIT_USAGE: u8 = 2;

/// Plans, restricts the plan to `only` (the whole plan when empty, as the command's
/// `--only`), and applies unless `dry_run`, recording every step; the record is written
/// whatever the outcome. Returns the sides the plan was made from, too.
pub fn plan_and_apply(
    py: Python<'_>,
    runner: Runner,
    dry_run: bool,
    permission: Permission,
    only: Vec<String>,
    recording: Recording,
) -> BindingResult<(Arc<Plan>, Sides, Option<Outcome>)> {
    let recording = Arc::new(recording);
    let during = Arc::clone(&recording);
    let result = runtime::wait(py, async move {
        let planned = runner.plan().await?;
        let plan = if only.is_empty() {
            planned.plan
        } else {
            let people: Vec<&str> = only.iter().map(String::as_str).collect();
            planned
                .plan
                .only(&people, &planned.sides.desired, &planned.sides.actual)?
        };
        during.with(|r| r.planned(&plan));
        let plan = Arc::new(plan);
        if dry_run {
            return Ok::<_, Stop>((plan, planned.sides, None));
        }
        let options = ApplyOptions::default().with_permission(permission);
        let applied = teamsync::core::apply(&plan, runner.team(), &options).await;
        during.with(|r| r.applied(&plan, permission, &applied));
        let outcome = applied.map_err(RunError::Guard)?;
        Ok((plan, planned.sides, Some(outcome)))
    })?;
    match result {
        Ok((plan, sides, outcome)) => {
            recording.finish(py, Ok(outcome.as_ref()))?;
            Ok((plan, sides, outcome))
        }
        Err(Stop::Run(error)) => {
            recording.finish(py, Err(&error))?;
            Err(error.into())
        }
        Err(Stop::Only(error)) => {
            recording.finish_by(py, |r| r.end(EXIT_USAGE, Some(error.to_string())))?;
            Err(error.into())
        }
    }
}

fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let message = std::ffi::CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    PyErr::warn(py, &py.get_type::<PyUserWarning>(), &message, 1)
}

/// The runs in the config's history (`history_dir`, else `history` beside its `log_file`,
/// else beside the default log: where the `teamsync` command writes them), oldest first, as
/// dicts (each record with its `file`); or, with `user` (an email or a directory id), the runs
/// that concern that person, each with only their operations and warnings. Files that cannot
/// be read are skipped with a `UserWarning` naming them.
#[pyfunction]
#[pyo3(signature = (config, user = None))]
pub fn history<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    user: Option<&str>,
) -> BindingResult<Bound<'py, PyAny>> {
    let config = PyConfig::coerce(config)?;
    let history = History::for_config(&config, None);
    let folder_error = |e: std::io::Error| {
        BindingError::Python(PyOSError::new_err(format!(
            "cannot read the run history in {}: {e}",
            history.folder().display()
        )))
    };
    let (value, unreadable): (serde_json::Value, Vec<Unreadable>) = match user {
        None => {
            let (records, unreadable) = history.records().map_err(folder_error)?;
            let runs = records
                .into_iter()
                .map(|(file, record)| {
                    let mut value = serde_json::to_value(record).unwrap_or_default();
                    if let Some(object) = value.as_object_mut() {
                        object.insert("file".into(), file.into());
                    }
                    value
                })
                .collect();
            (serde_json::Value::Array(runs), unreadable)
        }
        Some(who) => {
            let person = history.person(who).map_err(folder_error)?;
            (
                serde_json::to_value(&person.runs).unwrap_or_default(),
                person.unreadable,
            )
        }
    };
    for file in &unreadable {
        warn(
            py,
            &format!(
                "teamsync: history file {} not read: {}",
                history.folder().join(&file.file).display(),
                file.problem
            ),
        )?;
    }
    to_python(py, &value)
}
