//! The TOML config: its shape ([`ConfigFile`]; every key documented, unknown keys refused),
//! errors that name the key and its line (from the parser's spans), secrets (from an
//! environment variable or a file; inline only when allowed), and the checks that span more
//! than one key.
//!
//! ```
//! let config = teamsync::Config::from_toml_str(
//!     "[directory]\nkind = \"file\"\npath = \"people.json\"\n",
//!     "/etc/teamsync/teamsync.toml",
//! )?;
//! assert_eq!(config.file().directory.kind(), "file");
//! # Ok::<(), teamsync::ConfigError>(())
//! ```

pub mod explain;
mod schema;
mod secret;
mod spans;

use std::path::{Path, PathBuf};

use teamsync_core::Secret;

use schema::DEFAULT_READ_DEADLINE_SECS;
pub use schema::{
    AttributeOverrides, BindName, ConfigFile, CsvColumns, DEFAULT_BASE_URL, DirectoryConfig,
    EntraCloud, EntraEmail, EntraId, EntraSection, FileFormat, FileSection, LdapSection,
    NotifySection, NotifyWhen, ProfileName, SmtpSecurity, TeamSection,
};
pub use secret::{SecretSource, SecretSpec};
use spans::Spans;

/// Why the config cannot be used. Every message names the file and the key (with its line
/// when the file shows it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// Not valid TOML; the message carries line and column.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The toml crate's message, with the line and a caret.
        message: String,
    },
    /// An unknown key, a bad value, a value that is wrong only together with others, or a
    /// secret that cannot be read.
    #[error("{path}: {}{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Line of the key (or of its table) when the file shows it.
        line: Option<usize>,
        /// Dotted key, e.g. `team.token`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Several secrets cannot be read: all of them, so that one run shows every fix.
    #[error("{path}: {} secrets cannot be read: {}", problems.len(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Secrets {
        /// The file.
        path: PathBuf,
        /// One [`SecretProblem`] per secret.
        problems: Vec<SecretProblem>,
    },
}

/// One unreadable secret of [`ConfigError::Secrets`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{key}: {message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
#[non_exhaustive]
pub struct SecretProblem {
    /// Line of the key.
    pub line: Option<usize>,
    /// Dotted key, e.g. `team.token`.
    pub key: String,
    /// What is wrong (`environment variable X is not set`, ...).
    pub message: String,
}

impl ConfigError {
    /// The dotted keys this error is about (empty for a file that cannot be read or parsed).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            ConfigError::Invalid { key, .. } => vec![key.as_str()],
            ConfigError::Secrets { problems, .. } => {
                problems.iter().map(|p| p.key.as_str()).collect()
            }
            ConfigError::Read { .. } | ConfigError::Parse { .. } => Vec::new(),
        }
    }
}

/// A loaded config and where it came from (relative paths in it are relative to its folder).
#[derive(Debug, Clone)]
pub struct Config {
    path: PathBuf,
    file: ConfigFile,
    /// Its text, to point errors at lines.
    text: String,
    warnings: Vec<String>,
}

impl Config {
    /// Reads, parses and checks a config file; warns when others can read it.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        // UTF-8 with or without a byte-order mark; UTF-16 (PowerShell 5) refused by name.
        let text = crate::platform::read_text(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut config = Config::from_toml_str(&text, path)?;
        if let Some(warning) = permission_warning(path) {
            config.warnings.push(warning);
        }
        Ok(config)
    }

    /// Parses and checks config text. `path` is where it is said to come from: errors name
    /// it, and relative paths in the config are relative to its folder.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file: ConfigFile = toml::from_str(text).map_err(|e| locate_error(path, text, &e))?;
        let config = Config {
            path: path.to_owned(),
            file,
            text: text.to_owned(),
            warnings: Vec::new(),
        };
        config.check()?;
        Ok(config)
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its contents.
    pub fn file(&self) -> &ConfigFile {
        &self.file
    }

    /// The directory this config reads, for people and for saved plans
    /// (`ldap ldaps://dc1:636 (dc=corp,dc=example)`, `file /etc/teamsync/people.csv`,
    /// `entra graph (tenant contoso.onmicrosoft.com)`).
    pub fn directory_description(&self) -> String {
        match &self.file.directory {
            DirectoryConfig::Ldap(ldap) => format!("ldap {} ({})", ldap.url, ldap.base_dn),
            DirectoryConfig::File(file) => format!("file {}", self.resolve(&file.path).display()),
            DirectoryConfig::Entra(entra) => format!(
                "entra {} (tenant {})",
                entra.graph_url.as_deref().unwrap_or("graph"),
                entra.tenant_id
            ),
        }
    }

    /// Warnings for people (e.g. a config others can read).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The `log_file` of a config that failed to load, when the file is at least TOML, so that
    /// even a config error is logged where the admin looks.
    pub fn log_file_hint(path: &Path) -> Option<PathBuf> {
        #[derive(serde::Deserialize)]
        struct Hint {
            log_file: Option<PathBuf>,
        }
        let text = crate::platform::read_text(path).ok()?;
        let hint: Hint = toml::from_str(&text).ok()?;
        let log = hint.log_file.filter(|p| !p.as_os_str().is_empty())?;
        Some(if log.is_absolute() {
            log
        } else {
            path.parent().unwrap_or(Path::new(".")).join(log)
        })
    }

    /// An error about `key`, with the line where the file sets it.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            line: Spans::new(&self.text).line_of(key),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// A path from the config, relative to the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(path)
        }
    }

    /// Reads the secret named by `key`.
    pub fn secret(&self, key: &str, spec: &SecretSpec) -> Result<Secret, ConfigError> {
        self.read_secret(key, spec)
            .map_err(|message| self.invalid(key, message))
    }

    /// Reads several secrets at once: every one that cannot be read is reported in the one
    /// error ([`ConfigError::Secrets`]), so that a run shows every fix.
    pub fn secrets<'s>(
        &self,
        wanted: impl IntoIterator<Item = (&'s str, &'s SecretSpec)>,
    ) -> Result<Vec<Secret>, ConfigError> {
        let mut values = Vec::new();
        let mut problems = Vec::new();
        let spans = Spans::new(&self.text);
        for (key, spec) in wanted {
            match self.read_secret(key, spec) {
                Ok(value) => values.push(value),
                Err(message) => problems.push(SecretProblem {
                    line: spans.line_of(key),
                    key: key.to_owned(),
                    message,
                }),
            }
        }
        match problems.len() {
            0 => Ok(values),
            1 => {
                let p = problems.remove(0);
                Err(ConfigError::Invalid {
                    path: self.path.clone(),
                    line: p.line,
                    key: p.key,
                    message: p.message,
                })
            }
            _ => Err(ConfigError::Secrets {
                path: self.path.clone(),
                problems,
            }),
        }
    }

    fn read_secret(&self, key: &str, spec: &SecretSpec) -> Result<Secret, String> {
        match spec {
            SecretSpec::Inline(value) => Ok(Secret::new(value.clone())),
            SecretSpec::From(SecretSource { env: Some(var), .. }) => match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim())),
                Ok(_) => Err(format!("environment variable {var} is empty")),
                Err(_) => Err(format!("environment variable {var} is not set")),
            },
            SecretSpec::From(SecretSource {
                file: Some(file), ..
            }) => {
                let path = self.resolve(file);
                let value = crate::platform::read_text(&path).map_err(|e| {
                    // The refresh token's file is written by `teamsync auth`.
                    let first_run = key == "team.refresh_token"
                        && e.kind() == std::io::ErrorKind::NotFound;
                    if first_run {
                        format!(
                            "the refresh token file {} does not exist yet: run `teamsync auth` first (it stores the token there)",
                            path.display()
                        )
                    } else {
                        format!("cannot read secret file {}: {e}", path.display())
                    }
                })?;
                if value.trim().is_empty() {
                    return Err(format!("secret file {} is empty", path.display()));
                }
                Ok(Secret::new(value.trim()))
            }
            SecretSpec::From(_) => Err("give exactly one of env or file".into()),
        }
    }

    /// Every secret key of the file with its spec, for the checks.
    fn secret_specs(&self) -> Vec<(&'static str, Option<&SecretSpec>)> {
        let f = &self.file;
        let bind = match &f.directory {
            DirectoryConfig::Ldap(ldap) => ldap.bind_password.as_ref(),
            DirectoryConfig::File(_) | DirectoryConfig::Entra(_) => None,
        };
        let (client_secret, certificate) = match &f.directory {
            DirectoryConfig::Entra(e) => (e.client_secret.as_ref(), e.certificate.as_ref()),
            _ => (None, None),
        };
        vec![
            ("directory.bind_password", bind),
            ("directory.client_secret", client_secret),
            ("directory.certificate", certificate),
            ("team.token", f.team.token.as_ref()),
            ("team.refresh_token", f.team.refresh_token.as_ref()),
            ("team.app_secret", f.team.app_secret.as_ref()),
            (
                "notify.password",
                f.notify.as_ref().and_then(|n| n.password.as_ref()),
            ),
        ]
    }

    /// Checks what spans several keys (serde checked each key's own shape).
    fn check(&self) -> Result<(), ConfigError> {
        let f = &self.file;
        if !f.allow_inline_secrets {
            for (key, spec) in self.secret_specs() {
                if matches!(spec, Some(SecretSpec::Inline(_))) {
                    return Err(self.invalid(
                        key,
                        "secrets written in the config file are refused; use { env = \"VAR\" } or { file = \"/path\" }, or set allow_inline_secrets = true",
                    ));
                }
            }
        }
        for (key, spec) in self.secret_specs() {
            if let Some(SecretSpec::From(source)) = spec
                && source.env.is_some() == source.file.is_some()
            {
                return Err(self.invalid(key, "give exactly one of env or file"));
            }
        }
        match &f.directory {
            DirectoryConfig::File(file) => {
                let is_csv = file.format == FileFormat::Csv
                    || (file.format == FileFormat::Auto
                        && file
                            .path
                            .extension()
                            .is_some_and(|e| e.eq_ignore_ascii_case("csv")));
                if is_csv && file.user_roots.is_empty() {
                    return Err(self.invalid(
                        "directory.user_roots",
                        "a CSV file names no root groups: list the group(s) whose members are in scope",
                    ));
                }
            }
            DirectoryConfig::Ldap(d) => {
                if d.user_roots.is_empty() {
                    return Err(
                        self.invalid("directory.user_roots", "name at least one root group DN")
                    );
                }
                self.check_bind(d)?;
                if let Some(size) = d.page_size
                    && !(1..=1000).contains(&size)
                {
                    return Err(self.invalid("directory.page_size", "must be between 1 and 1000"));
                }
            }
            DirectoryConfig::Entra(e) => {
                if e.client_secret.is_some() == e.certificate.is_some() {
                    return Err(self.invalid(
                        "directory.client_secret",
                        "give exactly one of client_secret = { env = \"VAR\" } and certificate = { file = \"app.pem\" }",
                    ));
                }
                if e.root_groups.is_empty() && e.app_id.is_none() {
                    return Err(self.invalid(
                        "directory.root_groups",
                        "name at least one root group (object id or display name), or app_id",
                    ));
                }
                if e.authority_url.is_some() != e.graph_url.is_some() {
                    return Err(self.invalid(
                        "directory.graph_url",
                        "authority_url and graph_url go together",
                    ));
                }
            }
        }
        if f.team.token.is_some() && f.team.refresh_token.is_some() {
            return Err(self.invalid(
                "team.refresh_token",
                "give either team.token or team.refresh_token, not both",
            ));
        }
        if f.team.refresh_token.is_some() && f.team.app_key.is_none() {
            return Err(self.invalid("team.app_key", "required with team.refresh_token"));
        }
        self.check_team_bounds()?;
        if !(f.team.base_url.starts_with("https://") || f.team.base_url.starts_with("http://")) {
            return Err(self.invalid(
                "team.base_url",
                "must start with https:// (or http:// for a local emulator)",
            ));
        }
        f.policy
            .validate()
            .map_err(|e| self.invalid("policy", e.to_string()))?;
        if let Some(notify) = &f.notify
            && notify.to.is_empty()
        {
            return Err(self.invalid("notify.to", "name at least one recipient"));
        }
        Ok(())
    }

    /// Checks the team client's bounds: zero would fail every read, and an absurd value would
    /// turn off the protection it exists for.
    fn check_team_bounds(&self) -> Result<(), ConfigError> {
        let t = &self.file.team;
        let in_range = |key: &str, value: Option<u64>, low: u64, high: u64, unit: &str| match value
        {
            Some(v) if !(low..=high).contains(&v) => Err(self.invalid(
                key,
                format!("{v} is out of range: give {low} to {high} {unit}"),
            )),
            _ => Ok(()),
        };
        in_range(
            "team.read_deadline_secs",
            t.read_deadline_secs,
            1,
            86_400,
            "seconds",
        )?;
        in_range(
            "team.max_server_wait_secs",
            t.max_server_wait_secs,
            1,
            3_600,
            "seconds",
        )?;
        in_range(
            "team.max_response_bytes",
            t.max_response_bytes,
            1 << 20,
            1 << 30,
            "bytes",
        )?;
        in_range(
            "team.max_team_members",
            t.max_team_members,
            1,
            10_000_000,
            "entries",
        )?;
        let deadline = t.read_deadline_secs.unwrap_or(DEFAULT_READ_DEADLINE_SECS);
        if let Some(wait) = t.max_server_wait_secs
            && wait > deadline
        {
            return Err(self.invalid(
                "team.max_server_wait_secs",
                format!(
                    "{wait} is longer than the read deadline ({deadline} s, team.read_deadline_secs): such a wait could never be honoured"
                ),
            ));
        }
        Ok(())
    }

    /// Checks the LDAP bind keys against `directory.bind`.
    fn check_bind(&self, d: &LdapSection) -> Result<(), ConfigError> {
        let bind = d.bind_name();
        match bind {
            BindName::Simple => {
                if d.bind_dn.is_none() {
                    return Err(self.invalid("directory.bind_dn", "required for bind = \"simple\""));
                }
                if d.bind_password.is_none() {
                    return Err(self.invalid(
                        "directory.bind_password",
                        "bind_dn and bind_password go together",
                    ));
                }
            }
            BindName::Gssapi | BindName::External | BindName::Anonymous
                if d.bind_dn.is_some() || d.bind_password.is_some() =>
            {
                let key = if d.bind_dn.is_some() {
                    "directory.bind_dn"
                } else {
                    "directory.bind_password"
                };
                let why = match bind {
                    BindName::Gssapi => {
                        "not with bind = \"gssapi\": Kerberos takes its credentials from the keytab or credential cache (KRB5_CLIENT_KTNAME, KRB5CCNAME), never a password; remove bind_dn and bind_password"
                    }
                    BindName::External => {
                        "not with bind = \"external\": the client certificate is the identity; remove bind_dn and bind_password"
                    }
                    _ if d.bind.is_none() => "bind_dn and bind_password go together",
                    _ => "not with bind = \"anonymous\"; remove bind_dn and bind_password",
                };
                return Err(self.invalid(key, why));
            }
            _ => {}
        }
        if d.kerberos_fqdn.is_some() && bind != BindName::Gssapi {
            return Err(self.invalid("directory.kerberos_fqdn", "only for bind = \"gssapi\""));
        }
        let url = d.url.trim().to_ascii_lowercase();
        if bind == BindName::Gssapi && url.starts_with("ldap://") && !d.starttls {
            return Err(self.invalid(
                "directory.url",
                "bind = \"gssapi\" needs TLS: use an ldaps:// URL or set starttls = true",
            ));
        }
        match (&d.client_cert_file, &d.client_key_file) {
            (Some(_), None) => Err(self.invalid(
                "directory.client_key_file",
                "client_cert_file needs its key: set client_key_file",
            )),
            (None, Some(_)) => Err(self.invalid(
                "directory.client_cert_file",
                "client_key_file needs its certificate: set client_cert_file",
            )),
            (None, None) if bind == BindName::External && !url.starts_with("ldapi://") => {
                Err(self.invalid(
                    "directory.client_cert_file",
                    "bind = \"external\" needs a client certificate: set client_cert_file and client_key_file (or use an ldapi:// URL)",
                ))
            }
            _ => Ok(()),
        }
    }

    /// The LDAP adapter's settings of an LDAP directory, with the bind password given (an
    /// error only when a simple bind has none).
    #[cfg(feature = "ldap")]
    pub(crate) fn ldap_config(
        &self,
        d: &LdapSection,
        bind_password: Option<Secret>,
    ) -> Result<teamsync_ldap::LdapConfig, ConfigError> {
        use std::time::Duration;
        let profile = profile_with_overrides(d.profile, &d.attributes);
        let mut config = teamsync_ldap::LdapConfig::new(d.url.clone(), d.base_dn.clone(), profile);
        config.bind = match (d.bind_name(), &d.bind_dn, bind_password) {
            (BindName::Simple, Some(dn), Some(password)) => {
                teamsync_ldap::Bind::simple(dn.clone(), password)
            }
            (BindName::Simple, _, _) => {
                return Err(self.invalid(
                    "directory.bind_password",
                    "bind_dn and bind_password go together",
                ));
            }
            (BindName::Gssapi, _, _) => teamsync_ldap::Bind::gssapi(d.kerberos_fqdn.clone()),
            (BindName::External, _, _) => teamsync_ldap::Bind::External,
            (BindName::Anonymous, _, _) => teamsync_ldap::Bind::Anonymous,
        };
        if let (Some(cert), Some(key)) = (&d.client_cert_file, &d.client_key_file) {
            config.client_certificate = Some(teamsync_ldap::ClientCertificate::new(
                self.resolve(cert),
                self.resolve(key),
            ));
        }
        config.starttls = d.starttls;
        config.ca_file = d.ca_file.as_deref().map(|p| self.resolve(p));
        config.no_tls_verify = d.no_tls_verify;
        config.allow_plaintext_bind = d.allow_plaintext_bind;
        config.user_base_dn = d.user_base_dn.clone();
        config.group_base_dn = d.group_base_dn.clone();
        config.user_root_dns = d.user_roots.clone();
        config.group_root_dns = d.group_roots.clone();
        config.extra_user_filter = d.user_filter.clone();
        if let Some(size) = d.page_size {
            config.page_size = size;
        }
        if let Some(secs) = d.connect_timeout_secs {
            config.connect_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = d.operation_timeout_secs {
            config.operation_timeout = Duration::from_secs(secs);
        }
        Ok(config)
    }
}

/// A preset with the config's attribute overrides applied.
#[cfg(feature = "ldap")]
pub(crate) fn profile_with_overrides(
    name: ProfileName,
    overrides: &AttributeOverrides,
) -> teamsync_ldap::Profile {
    use teamsync_ldap::Profile;
    let mut profile = match name {
        ProfileName::ActiveDirectory => Profile::active_directory(),
        ProfileName::Openldap => Profile::open_ldap(),
        ProfileName::Freeipa => Profile::free_ipa(),
        ProfileName::Ds389 => Profile::ds389(),
        ProfileName::Generic => Profile::generic(),
    };
    if let Some(id) = &overrides.id {
        profile.id_attribute = id.clone();
        profile.id_format = teamsync_ldap::IdFormat::Text;
    }
    if let Some(v) = &overrides.email {
        profile.email_attributes = v.clone();
    }
    if let Some(v) = &overrides.given_name {
        profile.given_name_attributes = v.clone();
    }
    if let Some(v) = &overrides.surname {
        profile.surname_attributes = v.clone();
    }
    if let Some(v) = &overrides.group_name {
        profile.group_name_attributes = v.clone();
    }
    if let Some(v) = &overrides.user_object_filter {
        profile.user_filter = v.clone();
    }
    if let Some(v) = &overrides.group_object_filter {
        profile.group_filter = v.clone();
    }
    if let Some(v) = overrides.upn_as_email {
        profile.upn_as_email = v;
    }
    if let Some(v) = &overrides.extra {
        profile.extra_user_attributes = v.clone();
    }
    profile
}

/// The text between `start` and the next `end` in `message`.
fn between<'m>(message: &'m str, start: &str, end: &str) -> Option<&'m str> {
    let rest = &message[message.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn parent(key: &str) -> &str {
    key.rsplit_once('.').map_or("", |(parent, _)| parent)
}

fn join(prefix: &str, leaf: &str) -> String {
    if prefix.is_empty() {
        leaf.to_owned()
    } else {
        format!("{prefix}.{leaf}")
    }
}

/// A serde error as a [`ConfigError`] naming the key and its line.
fn locate_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return ConfigError::Parse {
            path: path.to_owned(),
            message: error.to_string().trim_end().to_owned(),
        };
    };
    let spans = Spans::new(text);
    let mut message = error.message().trim_end().to_owned();
    let mut offset = error.span().map(|s| s.start);
    let mut at = offset.map(|o| spans.path_at(o)).unwrap_or_default();
    // The directory is tagged by `kind`: serde reads it whole, so a bad value inside it comes
    // back spanning the table. Reading the section again, by its kind, finds the key.
    let kind = directory_kind(&root);
    if at == ["directory"]
        && let Some(kind) = &kind
        && let Some(inner) = section_error(&root, kind)
    {
        message = inner.message().trim_end().to_owned();
        offset = inner.span().map(|s| s.start).or(offset);
        at = offset.map(|o| spans.path_at(o)).unwrap_or(at);
    }
    let invalid = |line, key: String, message: String| ConfigError::Invalid {
        path: path.to_owned(),
        line,
        key,
        message,
    };
    let prefix = at.join(".");
    if let Some(field) = between(&message, "unknown field `", "`") {
        let found = spans.find_key(field);
        let hit = found
            .iter()
            .find(|l| parent(&l.key) == prefix)
            .or_else(|| found.iter().find(|l| l.key.starts_with(&prefix)))
            .or(found.first());
        let key = hit.map_or_else(|| join(&prefix, field), |l| l.key.clone());
        let line = hit.map(|l| l.line).or_else(|| spans.line_of(&prefix));
        if parent(&key) == "directory"
            && let Some(kind) = &kind
            && let Some((owner, _)) = DirectoryConfig::kind_keys()
                .iter()
                .find(|(owner, keys)| owner != kind && keys.contains(&field))
        {
            return invalid(line, key, format!("only for directory.kind = \"{owner}\""));
        }
        return invalid(line, key, message);
    }
    if let Some(field) = between(&message, "missing field `", "`") {
        let table = if prefix.starts_with("directory") && kind.is_some() {
            "directory".to_owned()
        } else {
            prefix
        };
        let key = join(&table, field);
        let message = match (&kind, table.as_str()) {
            (Some(kind), "directory") => format!("required when directory.kind = \"{kind}\""),
            _ => "required".to_owned(),
        };
        return invalid(spans.line_of(&key), key, message);
    }
    let key = if prefix == "directory" && message.contains("variant") {
        "directory.kind".to_owned()
    } else {
        prefix
    };
    let line = offset
        .map(|o| spans.line(o))
        .or_else(|| spans.line_of(&key));
    invalid(line, key, message)
}

fn directory_kind(root: &toml::Spanned<toml::de::DeTable<'_>>) -> Option<String> {
    let (_, directory) = root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "directory")?;
    let toml::de::DeValue::Table(table) = directory.get_ref() else {
        return None;
    };
    let (_, kind) = table.iter().find(|(k, _)| k.get_ref().as_ref() == "kind")?;
    match kind.get_ref() {
        toml::de::DeValue::String(s) => Some(s.to_string()),
        _ => None,
    }
}

/// Deserializes `[directory]` (without `kind`) as the section of `kind`, keeping the
/// parser's spans, and returns its error.
fn section_error(
    root: &toml::Spanned<toml::de::DeTable<'_>>,
    kind: &str,
) -> Option<toml::de::Error> {
    let (_, directory) = root
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "directory")?;
    let toml::de::DeValue::Table(table) = directory.get_ref() else {
        return None;
    };
    let table: toml::de::DeTable<'_> = table
        .iter()
        .filter(|(k, _)| k.get_ref().as_ref() != "kind")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let deserializer = toml::de::Deserializer::from(toml::Spanned::new(directory.span(), table));
    let result = match kind {
        "ldap" => serde::Deserialize::deserialize(deserializer).map(|_: LdapSection| ()),
        "file" => serde::Deserialize::deserialize(deserializer).map(|_: FileSection| ()),
        _ => return None,
    };
    result.err()
}

/// A warning when others can read the config file (it names where secrets are, and may hold
/// them inline): its mode on Unix, its ACL on Windows.
fn permission_warning(path: &Path) -> Option<String> {
    crate::platform::readable_by_others_warning(path, "config file")
}

#[cfg(test)]
mod tests;
