//! `teamsync.testing.Emulator`: the in-process Dropbox emulator, served on the extension's
//! runtime.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, Faults, TeamSeed};

use crate::errors::{BindingError, BindingResult};
use crate::model::{from_python, to_python};
use crate::runtime;

/// A Dropbox team API emulator on a free loopback port. Started by the constructor; stopped by
/// `close()` or at the end of a `with` block.
#[pyclass(
    name = "Emulator",
    module = "teamsync.testing",
    frozen,
    subclass,
    skip_from_py_object
)]
pub struct PyEmulator {
    emulator: Running<Emulator>,
}

impl PyEmulator {
    fn with<T>(&self, f: impl FnOnce(&Emulator) -> T) -> BindingResult<T> {
        self.emulator.with(f)
    }
}

#[pymethods]
impl PyEmulator {
    #[new]
    #[pyo3(signature = (*, team_name = None, license_limit = None, tls = false, seed = None, access_token_ttl = None, added_members_active = false, job_polls_in_progress = None, async_add_threshold = None, faults = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        team_name: Option<String>,
        license_limit: Option<u32>,
        tls: bool,
        seed: Option<u64>,
        access_token_ttl: Option<f64>,
        added_members_active: bool,
        job_polls_in_progress: Option<u32>,
        async_add_threshold: Option<usize>,
        faults: Option<&Bound<'_, PyAny>>,
    ) -> BindingResult<Self> {
        let mut config = EmulatorConfig {
            license_limit,
            tls,
            added_members_active,
            ..EmulatorConfig::default()
        };
        if let Some(name) = team_name {
            config.team_name = name;
        }
        if let Some(seed) = seed {
            config.seed = seed;
        }
        if let Some(seconds) = access_token_ttl {
            config.access_token_ttl = token_ttl(seconds)?;
        }
        if let Some(polls) = job_polls_in_progress {
            config.job_polls_in_progress = polls;
        }
        if let Some(threshold) = async_add_threshold {
            config.async_add_threshold = threshold;
        }
        if let Some(faults) = faults {
            config.faults = from_python::<Faults>(faults)?;
        }
        let emulator = runtime::wait(py, Emulator::start(config))??;
        Ok(Self {
            emulator: Running::new(emulator),
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://` with `tls=True`).
    #[getter]
    fn base_url(&self) -> BindingResult<String> {
        self.with(Emulator::base_url)
    }

    /// A non-expiring access token with every team scope.
    #[getter]
    fn access_token(&self) -> BindingResult<String> {
        self.with(Emulator::access_token)
    }

    /// A refresh token for `app_key` / `app_secret`.
    #[getter]
    fn refresh_token(&self) -> BindingResult<String> {
        self.with(Emulator::refresh_token)
    }

    #[getter]
    fn app_key(&self) -> BindingResult<String> {
        self.with(Emulator::app_key)
    }

    #[getter]
    fn app_secret(&self) -> BindingResult<String> {
        self.with(Emulator::app_secret)
    }

    /// The PEM of the CA that signed the server's certificate (`tls=True`), else None.
    #[getter]
    fn ca_pem(&self) -> BindingResult<Option<String>> {
        self.with(Emulator::ca_pem)
    }

    /// A new non-expiring access token holding exactly these scopes.
    fn token_with_scopes(&self, scopes: Vec<String>) -> BindingResult<String> {
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.with(|e| e.token_with_scopes(&scopes))
    }

    /// Calls received per route (`{"team/members/add_v2": 2, ...}`).
    fn call_counts(&self) -> BindingResult<std::collections::BTreeMap<String, u64>> {
        self.with(Emulator::call_counts)
    }

    fn reset_call_counts(&self) -> BindingResult<()> {
        self.with(Emulator::reset_call_counts)
    }

    /// The team as the emulator holds it (members, groups, with their states).
    fn state<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        let state = self.with(Emulator::state)?;
        to_python(py, &state)
    }

    /// Replaces the team with a seed (`{"members": [...], "groups": [...]}`). Strict by default:
    /// a seed breaking a team rule raises `EmulatorError` and changes nothing.
    #[pyo3(signature = (seed, strict = true))]
    fn seed(&self, seed: &Bound<'_, PyAny>, strict: bool) -> BindingResult<()> {
        let seed: TeamSeed = from_python(seed)?;
        if strict {
            self.with(|e| e.try_seed(&seed))??;
        } else {
            self.with(|e| e.seed(&seed))?;
        }
        Ok(())
    }

    /// Replaces the injected faults (`{"server_error_rate": 0.1, "rate_limit": {...}}`; `{}`
    /// clears them).
    fn set_faults(&self, faults: &Bound<'_, PyAny>) -> BindingResult<()> {
        let faults: Faults = from_python(faults)?;
        self.with(|e| e.set_faults(faults))
    }

    /// Stops the server and waits for it. Idempotent.
    fn close(&self, py: Python<'_>) -> BindingResult<()> {
        let emulator = self.emulator.take();
        if let Some(emulator) = emulator {
            runtime::wait(py, emulator.shutdown())?;
        }
        Ok(())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(
        slf: &Bound<'_, Self>,
        _exc: &Bound<'_, pyo3::types::PyTuple>,
    ) -> BindingResult<bool> {
        // Through Python, so that a subclass's `close` (teamsync.testing's) runs too.
        slf.call_method0("close")?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        self.emulator.repr("Emulator", Emulator::base_url)
    }
}

/// The `access_token_ttl` argument both emulators take, in seconds.
pub(crate) fn token_ttl(seconds: f64) -> BindingResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        BindingError::Config(format!(
            "access_token_ttl {seconds} is not a positive number of seconds"
        ))
    })
}

/// An emulator a Python object holds: running until `close` takes it out.
pub(crate) struct Running<E>(Mutex<Option<E>>);

impl<E> Running<E> {
    pub(crate) fn new(emulator: E) -> Self {
        Running(Mutex::new(Some(emulator)))
    }

    fn lock(&self) -> MutexGuard<'_, Option<E>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `f` on the running emulator; `EmulatorClosed` once it is closed.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&E) -> T) -> BindingResult<T> {
        match self.lock().as_ref() {
            Some(emulator) => Ok(f(emulator)),
            None => Err(BindingError::EmulatorClosed),
        }
    }

    /// The emulator, to shut down; `None` when already closed.
    pub(crate) fn take(&self) -> Option<E> {
        self.lock().take()
    }

    /// `Class(base_url='…')`, or `Class(closed)`.
    pub(crate) fn repr(&self, class: &str, base_url: impl FnOnce(&E) -> String) -> String {
        match self.lock().as_ref() {
            Some(e) => format!("{class}(base_url={:?})", base_url(e)),
            None => format!("{class}(closed)"),
        }
    }
}
