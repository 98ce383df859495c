//! `EntraDirectory` (Microsoft Entra ID through Graph, the config's `[directory] kind =
//! "entra"`) and `teamsync.testing.GraphEmulator` (the in-process Graph emulator).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use serde::Deserialize;
use teamsync_core::Directory;
use teamsync_entra::{Cloud, Credential, EntraConfig, EntraDirectory, IdSource};
use teamsync_graph_emulator::{Emulator, EmulatorConfig, Faults, TenantSeed};

use crate::errors::{BindingError, BindingResult};
use crate::model::{PyDesiredState, from_python, to_python};
use crate::runtime;

/// `email = {...}`: the config's `directory.email` table, same keys and defaults.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EmailKeys {
    fallback_to_upn: bool,
    allow_external_upn: bool,
    allow_onmicrosoft_upn: bool,
}

impl Default for EmailKeys {
    fn default() -> Self {
        let rule = teamsync_entra::EmailRule::default();
        Self {
            fallback_to_upn: rule.fallback_to_upn,
            allow_external_upn: rule.allow_external_upn,
            allow_onmicrosoft_upn: rule.allow_onmicrosoft_upn,
        }
    }
}

fn cloud_named(
    cloud: &str,
    authority_url: Option<String>,
    graph_url: Option<String>,
) -> BindingResult<Cloud> {
    match (authority_url, graph_url) {
        (Some(authority), Some(graph)) => return Ok(Cloud::Custom { authority, graph }),
        (None, None) => {}
        _ => {
            return Err(BindingError::Config(
                "authority_url and graph_url go together (both, for an emulator or a proxy)".into(),
            ));
        }
    }
    Ok(match cloud {
        "global" => Cloud::Global,
        "us_gov" => Cloud::UsGov,
        "us_gov_dod" => Cloud::UsGovDod,
        "china" => Cloud::China,
        other => {
            return Err(BindingError::Config(format!(
                "unknown cloud {other:?} (expected global, us_gov, us_gov_dod or china)"
            )));
        }
    })
}

/// Microsoft Entra ID (Azure AD) read through Microsoft Graph with an app registration.
#[pyclass(
    name = "EntraDirectory",
    module = "teamsync",
    frozen,
    skip_from_py_object
)]
pub struct PyEntraDirectory {
    directory: Arc<EntraDirectory>,
}

#[pymethods]
impl PyEntraDirectory {
    /// The keys of the config's `[directory] kind = "entra"`: exactly one of `client_secret`
    /// (the secret's value), `certificate` (PEM text: certificate and RSA key) or
    /// `certificate_file` (a path to that PEM). `max_attempts` per request (default 8; 1: no
    /// retries of throttled, unavailable or dropped requests).
    #[new]
    #[pyo3(signature = (
        tenant_id, client_id, *, client_secret = None, certificate = None, certificate_file = None,
        root_groups = Vec::new(), app_id = None, id = "object_id", email = None, include_guests = false,
        cloud = "global", authority_url = None, graph_url = None, ca_file = None, known_ids = Vec::new(),
        low_throttle_priority = true, request_timeout = None, max_attempts = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        tenant_id: String,
        client_id: String,
        client_secret: Option<String>,
        certificate: Option<String>,
        certificate_file: Option<PathBuf>,
        root_groups: Vec<String>,
        app_id: Option<String>,
        id: &str,
        email: Option<&Bound<'_, PyAny>>,
        include_guests: bool,
        cloud: &str,
        authority_url: Option<String>,
        graph_url: Option<String>,
        ca_file: Option<PathBuf>,
        known_ids: Vec<String>,
        low_throttle_priority: bool,
        request_timeout: Option<f64>,
        max_attempts: Option<u32>,
    ) -> BindingResult<Self> {
        let credential = match (client_secret, certificate, certificate_file) {
            (Some(secret), None, None) => Credential::client_secret(secret),
            (None, Some(pem), None) => Credential::certificate_pem(pem),
            (None, None, Some(path)) => Credential::certificate_file(&path).map_err(|e| {
                BindingError::Config(format!(
                    "certificate_file {}: cannot read it: {e}",
                    path.display()
                ))
            })?,
            _ => {
                return Err(BindingError::Config(
                    "EntraDirectory needs exactly one of client_secret=..., certificate=... (PEM text) or certificate_file=...".into(),
                ));
            }
        };
        let mut config = EntraConfig::new(tenant_id, client_id, credential);
        config.cloud = cloud_named(cloud, authority_url, graph_url)?;
        config.root_groups = root_groups;
        config.app_id = app_id;
        config.id = match id {
            "object_id" => IdSource::ObjectId,
            "on_premises_immutable_id" => IdSource::OnPremisesImmutableId,
            other => {
                return Err(BindingError::Config(format!(
                    "unknown id {other:?} (expected object_id or on_premises_immutable_id)"
                )));
            }
        };
        let email: EmailKeys = match email {
            Some(email) => from_python(email)
                .map_err(|e| BindingError::Config(format!("invalid email: {e}")))?,
            None => EmailKeys::default(),
        };
        config.email.fallback_to_upn = email.fallback_to_upn;
        config.email.allow_external_upn = email.allow_external_upn;
        config.email.allow_onmicrosoft_upn = email.allow_onmicrosoft_upn;
        config.include_guests = include_guests;
        config.ca_file = ca_file;
        config.low_throttle_priority = low_throttle_priority;
        config.known_ids = known_ids
            .iter()
            .map(|id| {
                teamsync_core::SourceId::new(id)
                    .map_err(|e| BindingError::Config(format!("known id {id:?}: {e}")))
            })
            .collect::<BindingResult<_>>()?;
        if let Some(seconds) = request_timeout {
            config.request_timeout = Duration::try_from_secs_f64(seconds).map_err(|_| {
                BindingError::Config(format!(
                    "request_timeout {seconds} is not a positive number of seconds"
                ))
            })?;
        }
        if let Some(attempts) = max_attempts {
            if attempts == 0 {
                return Err(BindingError::Config(
                    "max_attempts counts the first attempt: 1 or more (1: no retries)".into(),
                ));
            }
            config.retry.max_attempts = attempts;
        }
        // The HTTP client is built inside the runtime it will run on.
        let _guard = runtime::runtime()?.enter();
        Ok(Self {
            directory: Arc::new(EntraDirectory::new(config)?),
        })
    }

    /// Reads the users and groups in scope (paged; retried on throttling); fails rather than
    /// return a partial read.
    fn snapshot(&self, py: Python<'_>) -> BindingResult<PyDesiredState> {
        let directory = Arc::clone(&self.directory);
        let state = runtime::wait(py, async move { directory.snapshot().await })??;
        Ok(PyDesiredState {
            inner: Arc::new(state),
        })
    }

    /// What the app may read, as `teamsync check` reports it: `{"roles": [...] or None,
    /// "missing": ["GroupMember.Read.All", ...]}` (the permissions a snapshot needs that Graph
    /// refused, by name). A refused credential raises `DirectoryError`.
    fn check<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        let directory = Arc::clone(&self.directory);
        let report = runtime::wait(py, async move { directory.check().await })??;
        let dict = pyo3::types::PyDict::new(py);
        dict.set_item("roles", report.roles)?;
        dict.set_item("missing", report.missing)?;
        Ok(dict.into_any())
    }

    /// Graph requests sent so far (token requests not counted).
    fn requests_sent(&self) -> u64 {
        self.directory.requests_sent()
    }

    fn __repr__(&self) -> String {
        let config = self.directory.config();
        format!(
            "EntraDirectory(tenant_id={:?}, client_id={:?})",
            config.tenant_id, config.client_id
        )
    }
}

/// The Microsoft Graph and Entra token endpoint emulator on a free loopback port. Started by
/// the constructor; stopped by `close()` or at the end of a `with` block.
#[pyclass(
    name = "GraphEmulator",
    module = "teamsync.testing",
    frozen,
    subclass,
    skip_from_py_object
)]
pub struct PyGraphEmulator {
    emulator: crate::emulator::Running<Emulator>,
}

impl PyGraphEmulator {
    fn with<T>(&self, f: impl FnOnce(&Emulator) -> T) -> BindingResult<T> {
        self.emulator.with(f)
    }
}

#[pymethods]
impl PyGraphEmulator {
    #[new]
    #[pyo3(signature = (*, tls = false, seed = None, access_token_ttl = None, max_page_size = None, faults = None))]
    fn new(
        py: Python<'_>,
        tls: bool,
        seed: Option<u64>,
        access_token_ttl: Option<f64>,
        max_page_size: Option<usize>,
        faults: Option<&Bound<'_, PyAny>>,
    ) -> BindingResult<Self> {
        let mut config = EmulatorConfig {
            tls,
            ..EmulatorConfig::default()
        };
        if let Some(seed) = seed {
            config.seed = seed;
        }
        if let Some(seconds) = access_token_ttl {
            config.access_token_ttl = crate::emulator::token_ttl(seconds)?;
        }
        if let Some(size) = max_page_size {
            config.max_page_size = size;
        }
        if let Some(faults) = faults {
            config.faults = from_python::<Faults>(faults)?;
        }
        let emulator = runtime::wait(py, Emulator::start(config))??;
        Ok(Self {
            emulator: crate::emulator::Running::new(emulator),
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://` with `tls=True`): both the authority and the
    /// Graph base URL.
    #[getter]
    fn base_url(&self) -> BindingResult<String> {
        self.with(Emulator::base_url)
    }

    /// The PEM of the CA that signed the server's certificate (`tls=True`), else None.
    #[getter]
    fn ca_pem(&self) -> BindingResult<Option<String>> {
        self.with(Emulator::ca_pem)
    }

    /// Replaces the tenant (`{"tenant_id": ..., "apps": [...], "users": [...], "groups": [...],
    /// "service_principals": [...], "deleted_users": [...]}`); a seed breaking a rule raises
    /// `EmulatorError` and changes nothing.
    fn seed(&self, seed: &Bound<'_, PyAny>) -> BindingResult<()> {
        let seed: TenantSeed = from_python(seed)?;
        self.with(|e| e.try_seed(&seed))??;
        Ok(())
    }

    /// Calls received per route (`{"users": 1, "groups/{id}/members": 3, "token": 1}`).
    fn call_counts(&self) -> BindingResult<std::collections::BTreeMap<String, u64>> {
        self.with(Emulator::call_counts)
    }

    fn reset_call_counts(&self) -> BindingResult<()> {
        self.with(Emulator::reset_call_counts)
    }

    /// Access tokens issued so far.
    fn tokens_issued(&self) -> BindingResult<u64> {
        self.with(Emulator::tokens_issued)
    }

    /// Replaces the injected faults (`{"throttle_rate": 0.5}`; `{}` clears them).
    fn set_faults(&self, faults: &Bound<'_, PyAny>) -> BindingResult<()> {
        let faults: Faults = from_python(faults)?;
        self.with(|e| e.set_faults(faults))
    }

    /// The Graph requests received (route, URI, headers), as dicts.
    fn requests<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        let requests = self.with(Emulator::requests)?;
        to_python(py, &requests)
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
        self.emulator.repr("GraphEmulator", Emulator::base_url)
    }
}
