//! The team side (`MemoryTeam`, `DropboxTeam`), the directory side (`LdapDirectory`), and
//! `apply`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use teamsync_core::memory::{Call, Fault, MemoryTeam};
use teamsync_core::{ApplyOptions, Directory, ErrorKind, Permission, StoreError, TeamStore};
use teamsync_dropbox::{
    CaSource, ClientConfig, Credentials, DropboxClient, DropboxTeam, ProxySetting, Secret,
};
use teamsync_ldap::{Bind, ClientCertificate, LdapConfig, LdapDirectory, Profile, ProfileKind};

use crate::errors::{BindingError, BindingResult};
use crate::model::{PyActualState, PyDesiredState, PyOutcome, PyPlan, from_python};
use crate::runtime;

/// An `ActualState`, or plain data of its shape.
fn actual_state_of(value: &Bound<'_, PyAny>) -> BindingResult<teamsync_core::ActualState> {
    match value.cast::<PyActualState>() {
        Ok(state) => Ok((*state.get().inner).clone()),
        Err(_) => from_python(value),
    }
}

/// The store call a fault applies to, by its snake_case name.
fn call_named(name: &str) -> BindingResult<Call> {
    Ok(match name {
        "snapshot" => Call::Snapshot,
        "invite" => Call::Invite,
        "set_profile" => Call::SetProfile,
        "suspend" => Call::Suspend,
        "unsuspend" => Call::Unsuspend,
        "remove" => Call::Remove,
        "recover" => Call::Recover,
        "create_group" => Call::CreateGroup,
        "update_group" => Call::UpdateGroup,
        "delete_group" => Call::DeleteGroup,
        "add_group_members" => Call::AddGroupMembers,
        "remove_group_members" => Call::RemoveGroupMembers,
        other => {
            return Err(BindingError::Config(format!(
                "unknown store call {}",
                teamsync_core::text::quoted(other)
            )));
        }
    })
}

fn call_name(call: Call) -> &'static str {
    match call {
        Call::Snapshot => "snapshot",
        Call::Invite => "invite",
        Call::SetProfile => "set_profile",
        Call::Suspend => "suspend",
        Call::Unsuspend => "unsuspend",
        Call::Remove => "remove",
        Call::Recover => "recover",
        Call::CreateGroup => "create_group",
        Call::UpdateGroup => "update_group",
        Call::DeleteGroup => "delete_group",
        Call::AddGroupMembers => "add_group_members",
        Call::RemoveGroupMembers => "remove_group_members",
    }
}

fn error_kind_named(name: &str) -> BindingResult<ErrorKind> {
    Ok(match name {
        "transient" => ErrorKind::Transient,
        "rate_limited" => ErrorKind::RateLimited {
            retry_after_ms: None,
        },
        "auth" => ErrorKind::Auth,
        "conflict" => ErrorKind::Conflict,
        "not_found" => ErrorKind::NotFound,
        "permanent" => ErrorKind::Permanent,
        other => {
            return Err(BindingError::Config(format!(
                "unknown error kind {}",
                teamsync_core::text::quoted(other)
            )));
        }
    })
}

/// A Dropbox team in memory that follows Dropbox's rules, for tests and demos.
#[pyclass(name = "MemoryTeam", module = "teamsync", frozen, skip_from_py_object)]
pub struct PyMemoryTeam {
    team: Arc<MemoryTeam>,
}

#[pymethods]
impl PyMemoryTeam {
    /// A team holding `state` (an `ActualState` or a dict of its shape), empty by default.
    #[new]
    #[pyo3(signature = (state = None))]
    fn new(state: Option<&Bound<'_, PyAny>>) -> BindingResult<Self> {
        let team = match state {
            Some(state) => MemoryTeam::with_state(actual_state_of(state)?),
            None => MemoryTeam::new(),
        };
        Ok(Self {
            team: Arc::new(team),
        })
    }

    /// Reads the team, as `DropboxTeam.snapshot()` does.
    fn snapshot(&self, py: Python<'_>) -> BindingResult<PyActualState> {
        let team = Arc::clone(&self.team);
        let state = runtime::wait(py, async move { team.snapshot().await })??;
        Ok(PyActualState {
            inner: Arc::new(state),
        })
    }

    /// Replaces the whole team.
    fn replace_state(&self, state: &Bound<'_, PyAny>) -> BindingResult<()> {
        self.team.replace_state(actual_state_of(state)?);
        Ok(())
    }

    /// Caps live members like a license count (`None`: unlimited).
    #[pyo3(signature = (limit))]
    fn set_license_limit(&self, limit: Option<usize>) {
        self.team.set_license_limit(limit);
    }

    /// Makes the next `times` calls of `call` (e.g. `"invite"`) whose subject contains
    /// `subject` fail with an error of `kind` (`"transient"`, `"conflict"`, `"auth"`, …).
    #[pyo3(signature = (call, subject = "", times = 1, kind = "permanent", code = None, message = "injected fault"))]
    fn inject_fault(
        &self,
        call: &str,
        subject: &str,
        times: usize,
        kind: &str,
        code: Option<&str>,
        message: &str,
    ) -> BindingResult<()> {
        let mut error = StoreError::new(error_kind_named(kind)?, message);
        error.code = code.map(str::to_owned);
        self.team.inject(Fault {
            call: call_named(call)?,
            subject: subject.to_owned(),
            times,
            error,
        });
        Ok(())
    }

    /// Calls received so far, by call name.
    fn calls(&self) -> std::collections::BTreeMap<&'static str, usize> {
        self.team
            .calls()
            .into_iter()
            .map(|(call, count)| (call_name(call), count))
            .collect()
    }

    fn __repr__(&self) -> String {
        let state = self.team.state();
        format!(
            "MemoryTeam(members={}, groups={})",
            state.members.len(),
            state.groups.len()
        )
    }
}

/// A Dropbox team reached over HTTP (Dropbox itself or the emulator).
#[pyclass(name = "DropboxTeam", module = "teamsync", frozen, skip_from_py_object)]
pub struct PyDropboxTeam {
    team: Arc<DropboxTeam>,
}

#[pymethods]
impl PyDropboxTeam {
    /// Either `token` (a team access token) or `refresh_token` with `app_key` (and
    /// `app_secret` for apps that have one). `ca_file` adds a trusted CA (PEM); `proxy` is
    /// `None` (use the environment), `""` (no proxy) or a proxy URL.
    #[new]
    #[pyo3(signature = (base_url = teamsync_dropbox::DEFAULT_BASE_URL.to_owned(), token = None, refresh_token = None, app_key = None, app_secret = None, ca_file = None, proxy = None, timeout = None))]
    // The default is a Rust constant, which pyo3 would show as `...`; spelled out for
    // `help()` and stubtest (a test checks it is the constant's value).
    #[pyo3(
        text_signature = "(base_url='https://api.dropboxapi.com', token=None, refresh_token=None, app_key=None, app_secret=None, ca_file=None, proxy=None, timeout=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        base_url: String,
        token: Option<String>,
        refresh_token: Option<String>,
        app_key: Option<String>,
        app_secret: Option<String>,
        ca_file: Option<PathBuf>,
        proxy: Option<String>,
        timeout: Option<f64>,
    ) -> BindingResult<Self> {
        let credentials = match (token, refresh_token, app_key) {
            (Some(token), None, None) if app_secret.is_none() => {
                Credentials::access_token(Secret::new(token))
            }
            (None, Some(refresh_token), Some(app_key)) => Credentials::refresh_token(
                Secret::new(refresh_token),
                app_key,
                app_secret.map(Secret::new),
            ),
            _ => {
                return Err(BindingError::Config(
                    "DropboxTeam needs either token=..., or refresh_token=... with app_key=... (and app_secret=... when the app has one)".to_owned(),
                ));
            }
        };
        let mut config = ClientConfig::with_base_url(base_url);
        config.ca = ca_file.map(CaSource::File);
        config.proxy = match proxy.as_deref() {
            None => ProxySetting::FromEnvironment,
            Some("") => ProxySetting::Disabled,
            Some(url) => ProxySetting::Url(url.to_owned()),
        };
        if let Some(seconds) = timeout {
            config.request_timeout = Duration::try_from_secs_f64(seconds).map_err(|_| {
                BindingError::Config(format!(
                    "timeout {seconds} is not a positive number of seconds"
                ))
            })?;
        }
        // The HTTP client is built inside the runtime it will run on.
        let _guard = runtime::runtime()?.enter();
        let client = DropboxClient::new(config, credentials)?;
        Ok(Self {
            team: Arc::new(DropboxTeam::new(client)),
        })
    }

    /// Reads every member and group (paged, repeated on transient errors).
    fn snapshot(&self, py: Python<'_>) -> BindingResult<PyActualState> {
        let team = Arc::clone(&self.team);
        let state = runtime::wait(py, async move { team.snapshot().await })??;
        Ok(PyActualState {
            inner: Arc::new(state),
        })
    }

    /// The team's name (`team/get_info`).
    fn team_name(&self, py: Python<'_>) -> BindingResult<String> {
        let team = Arc::clone(&self.team);
        let info = runtime::wait(py, async move { team.client().team_get_info().await })??;
        Ok(info.name)
    }

    fn __repr__(&self) -> String {
        format!("DropboxTeam(base_url={:?})", self.team.client().base_url())
    }
}

/// The store behind a `MemoryTeam` or `DropboxTeam`.
fn store_of(team: &Bound<'_, PyAny>) -> BindingResult<Arc<dyn TeamStore>> {
    if let Ok(memory) = team.cast::<PyMemoryTeam>() {
        return Ok(Arc::clone(&memory.get().team) as Arc<dyn TeamStore>);
    }
    if let Ok(dropbox) = team.cast::<PyDropboxTeam>() {
        return Ok(Arc::clone(&dropbox.get().team) as Arc<dyn TeamStore>);
    }
    Err(BindingError::Python(
        pyo3::exceptions::PyTypeError::new_err("team must be a MemoryTeam or a DropboxTeam"),
    ))
}

/// Applies `plan` to `team`. A plan over the deprovision limits needs `allow_deprovision=N`
/// (up to N suspensions/removals and group member removals) or `force=True`; without either it
/// raises `GuardRefusedError`. Failures of single operations do not raise: they are counted in
/// the `Outcome`.
#[pyfunction]
#[pyo3(signature = (plan, team, allow_deprovision = None, force = false, max_retries = None, concurrency = None))]
pub fn apply(
    py: Python<'_>,
    plan: &Bound<'_, PyPlan>,
    team: &Bound<'_, PyAny>,
    allow_deprovision: Option<usize>,
    force: bool,
    max_retries: Option<u32>,
    concurrency: Option<usize>,
) -> BindingResult<PyOutcome> {
    let store = store_of(team)?;
    let plan = Arc::clone(&plan.get().inner);
    let mut options = ApplyOptions::default().with_permission(match (force, allow_deprovision) {
        (true, _) => Permission::Force,
        (false, Some(count)) => Permission::UpTo(count),
        (false, None) => Permission::WithinLimits,
    });
    options.concurrency = concurrency;
    if let Some(retries) = max_retries {
        options.retry.max_retries = retries;
    }
    let applied = Arc::clone(&plan);
    let outcome = runtime::wait(py, async move {
        teamsync_core::apply(&applied, store.as_ref(), &options).await
    })??;
    Ok(PyOutcome {
        inner: outcome,
        plan,
    })
}

fn profile_named(name: &str) -> BindingResult<Profile> {
    let kind = match name
        .to_ascii_lowercase()
        .replace(['-', '_', ' '], "")
        .as_str()
    {
        "activedirectory" | "ad" => ProfileKind::ActiveDirectory,
        "openldap" => ProfileKind::OpenLdap,
        "freeipa" | "ipa" => ProfileKind::FreeIpa,
        "389ds" | "ds389" => return Ok(Profile::ds389()),
        "generic" => ProfileKind::Generic,
        _ => {
            return Err(BindingError::Config(format!(
                "unknown LDAP profile {} (expected active_directory, openldap, freeipa, 389ds or generic)",
                teamsync_core::text::quoted(name)
            )));
        }
    };
    Ok(Profile::for_kind(kind))
}

/// The bind the config's `directory.bind` names: `simple` (the default with a `bind_dn`),
/// `gssapi` (Kerberos, from the credential cache or keytab), `external` (the TLS client
/// certificate) or `anonymous` (the default without). A password or host name that the bind
/// would not use is refused rather than ignored.
fn bind_of(
    bind: Option<&str>,
    bind_dn: Option<String>,
    bind_password: Option<String>,
    kerberos_fqdn: Option<String>,
) -> BindingResult<Bind> {
    let name = bind.unwrap_or(if bind_dn.is_some() {
        "simple"
    } else {
        "anonymous"
    });
    if name != "simple" && bind_password.is_some() {
        return Err(BindingError::Config(format!(
            "bind_password is for bind=\"simple\" only, not bind={name:?}"
        )));
    }
    if name != "gssapi" && kerberos_fqdn.is_some() {
        return Err(BindingError::Config(format!(
            "kerberos_fqdn is for bind=\"gssapi\" only, not bind={name:?}"
        )));
    }
    Ok(match (name, bind_dn, bind_password) {
        ("simple", Some(dn), Some(password)) => Bind::simple(dn, Secret::new(password)),
        ("simple", _, _) => {
            return Err(BindingError::Config(
                "bind_dn and bind_password go together".into(),
            ));
        }
        ("gssapi", _, _) => Bind::gssapi(kerberos_fqdn),
        ("external", _, _) => Bind::External,
        ("anonymous", None, _) => Bind::Anonymous,
        ("anonymous", Some(_), _) => {
            return Err(BindingError::Config(
                "bind_dn is for bind=\"simple\"; an anonymous bind has none".into(),
            ));
        }
        (other, _, _) => {
            return Err(BindingError::Config(format!(
                "unknown bind {other:?} (expected simple, gssapi, external or anonymous)"
            )));
        }
    })
}

/// An LDAP or Active Directory server as the directory side.
#[pyclass(
    name = "LdapDirectory",
    module = "teamsync",
    frozen,
    skip_from_py_object
)]
pub struct PyLdapDirectory {
    directory: Arc<LdapDirectory>,
}

#[pymethods]
impl PyLdapDirectory {
    #[new]
    #[pyo3(signature = (
        url, base_dn, *, profile = "openldap", bind = None, bind_dn = None, bind_password = None,
        kerberos_fqdn = None, client_cert_file = None, client_key_file = None, ca_file = None,
        starttls = false, no_tls_verify = false, allow_plaintext_bind = false,
        user_root_dns = Vec::new(), group_root_dns = Vec::new(), user_base_dn = None, group_base_dn = None,
        extra_user_filter = None, known_ids = Vec::new(), page_size = None, connect_timeout = None, operation_timeout = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        url: String,
        base_dn: String,
        profile: &str,
        bind: Option<&str>,
        bind_dn: Option<String>,
        bind_password: Option<String>,
        kerberos_fqdn: Option<String>,
        client_cert_file: Option<PathBuf>,
        client_key_file: Option<PathBuf>,
        ca_file: Option<PathBuf>,
        starttls: bool,
        no_tls_verify: bool,
        allow_plaintext_bind: bool,
        user_root_dns: Vec<String>,
        group_root_dns: Vec<String>,
        user_base_dn: Option<String>,
        group_base_dn: Option<String>,
        extra_user_filter: Option<String>,
        known_ids: Vec<String>,
        page_size: Option<u16>,
        connect_timeout: Option<f64>,
        operation_timeout: Option<f64>,
    ) -> BindingResult<Self> {
        let mut config = LdapConfig::new(url, base_dn, profile_named(profile)?);
        config.bind = bind_of(bind, bind_dn, bind_password, kerberos_fqdn)?;
        config.client_certificate = match (client_cert_file, client_key_file) {
            (Some(cert), Some(key)) => Some(ClientCertificate::new(cert, key)),
            (None, None) => None,
            _ => {
                return Err(BindingError::Config(
                    "client_cert_file and client_key_file go together".into(),
                ));
            }
        };
        config.ca_file = ca_file;
        config.starttls = starttls;
        config.no_tls_verify = no_tls_verify;
        config.allow_plaintext_bind = allow_plaintext_bind;
        config.user_root_dns = user_root_dns;
        config.group_root_dns = group_root_dns;
        config.user_base_dn = user_base_dn;
        config.group_base_dn = group_base_dn;
        config.extra_user_filter = extra_user_filter;
        config.known_ids = known_ids
            .iter()
            .map(|id| {
                teamsync_core::SourceId::new(id).map_err(|e| {
                    BindingError::Config(format!(
                        "known id {}: {e}",
                        teamsync_core::text::quoted(id)
                    ))
                })
            })
            .collect::<BindingResult<_>>()?;
        if let Some(size) = page_size {
            config.page_size = size;
        }
        let seconds = |name: &str, value: f64| {
            Duration::try_from_secs_f64(value).map_err(|_| {
                BindingError::Config(format!(
                    "{name} {value} is not a positive number of seconds"
                ))
            })
        };
        if let Some(value) = connect_timeout {
            config.connect_timeout = seconds("connect_timeout", value)?;
        }
        if let Some(value) = operation_timeout {
            config.operation_timeout = seconds("operation_timeout", value)?;
        }
        Ok(Self {
            directory: Arc::new(LdapDirectory::new(config)?),
        })
    }

    /// Reads the roots and everything reachable from them; fails rather than return a partial
    /// read.
    fn snapshot(&self, py: Python<'_>) -> BindingResult<PyDesiredState> {
        let directory = Arc::clone(&self.directory);
        let state = runtime::wait(py, async move { directory.snapshot().await })??;
        Ok(PyDesiredState {
            inner: Arc::new(state),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "LdapDirectory(url={:?}, base_dn={:?})",
            self.directory.config().url,
            self.directory.config().base_dn
        )
    }
}
