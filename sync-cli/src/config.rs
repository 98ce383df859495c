//! The TOML config: its shape (every key documented, unknown keys refused with their line),
//! secrets (from an environment variable or a file; inline only when allowed), and the checks
//! that span more than one key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use teamsync_core::Policy;
use teamsync_ldap::{Bind, BindPassword, ClientCertificate, LdapConfig, Profile};

/// Why the config cannot be used. Every message names the key (and, for parse errors, the line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// Not valid TOML, an unknown key or a bad value; the message carries line and column.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The toml crate's message, with the line and a caret under the key.
        message: String,
    },
    /// A value that is wrong only together with others, or a secret that cannot be read.
    #[error("{path}: {}{key}: {message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
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
}

/// Where a secret comes from: `{ env = "NAME" }`, `{ file = "/path" }`, or an inline string
/// (refused unless `allow_inline_secrets = true`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
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

/// `{ env = "NAME" }` or `{ file = "/path" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// File holding the secret (surrounding whitespace trimmed).
    #[serde(default)]
    pub file: Option<PathBuf>,
}

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Allow secrets written in the file itself.
    #[serde(default)]
    pub allow_inline_secrets: bool,
    /// Log file (default: per platform, see README).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub log_file: Option<PathBuf>,
    /// Lock file (default: beside the log file).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub lock_file: Option<PathBuf>,
    /// Where people come from.
    pub directory: DirectorySection,
    /// The Dropbox team.
    #[serde(default)]
    pub team: TeamSection,
    /// The sync rules: every knob of `teamsync_core::Policy`, defaults as documented there.
    #[serde(default)]
    pub policy: Policy,
    /// Email notifications.
    #[serde(default)]
    pub notify: Option<NotifySection>,
}

/// Kind of directory source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// An LDAP server or Active Directory.
    Ldap,
    /// A JSON or LDIF file.
    File,
}

/// `directory.bind`: how to authenticate to an LDAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindName {
    /// `bind_dn` and `bind_password` (the default when `bind_dn` is set).
    Simple,
    /// Kerberos (SASL GSSAPI): the keytab or credential cache, no password here.
    Gssapi,
    /// SASL EXTERNAL: the TLS client certificate (`client_cert_file`, `client_key_file`).
    External,
    /// No credentials (the default without `bind_dn`).
    Anonymous,
}

/// Preset entry shapes of an LDAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileName {
    /// Active Directory or Samba AD.
    ActiveDirectory,
    /// OpenLDAP.
    Openldap,
    /// FreeIPA.
    Freeipa,
    /// 389 Directory Server.
    #[serde(rename = "389ds")]
    Ds389,
    /// inetOrgPerson / groupOfNames / entryUUID.
    Generic,
}

/// Format of a file source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// By extension (`.ldif` is LDIF) and, for JSON, by shape (`people` or `users`).
    #[default]
    Auto,
    /// The simple people/groups JSON.
    SimpleJson,
    /// `teamsync_core::DesiredState` as JSON.
    StateJson,
    /// LDIF content records.
    Ldif,
}

/// `[directory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySection {
    /// `ldap` or `file`.
    pub kind: DirectoryKind,
    /// File source: the file.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// File source: its format.
    #[serde(default)]
    pub format: FileFormat,
    /// LDAP: `ldaps://host:636` or `ldap://host:389`.
    #[serde(default)]
    pub url: Option<String>,
    /// LDAP: StartTLS on an `ldap://` URL.
    #[serde(default)]
    pub starttls: bool,
    /// LDAP: PEM CA file for the server certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// LDAP: accept any certificate (labs only).
    #[serde(default)]
    pub no_tls_verify: bool,
    /// LDAP: allow a password over plain `ldap://`.
    #[serde(default)]
    pub allow_plaintext_bind: bool,
    /// LDAP: DN to bind as.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// LDAP: the bind password (a secret).
    #[serde(default)]
    pub bind_password: Option<SecretSpec>,
    /// LDAP: `simple`, `gssapi` (Kerberos), `external` (client certificate) or `anonymous`;
    /// without it, `simple` when `bind_dn` is set, else `anonymous`.
    #[serde(default)]
    pub bind: Option<BindName>,
    /// LDAP, `bind = "gssapi"`: the server's host name as the KDC knows it (the ticket is for
    /// `ldap/<name>`); without it, the URL's host.
    #[serde(default)]
    pub kerberos_fqdn: Option<String>,
    /// LDAP: PEM client certificate presented over TLS (for `bind = "external"`).
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// LDAP: PEM private key of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// LDAP: preset entry shapes; for LDIF files, guessed when absent.
    #[serde(default)]
    pub profile: Option<ProfileName>,
    /// LDAP: base DN.
    #[serde(default)]
    pub base_dn: Option<String>,
    /// LDAP: where users are searched, when not under `base_dn`.
    #[serde(default)]
    pub user_base_dn: Option<String>,
    /// LDAP: where groups are searched, when not under `base_dn`.
    #[serde(default)]
    pub group_base_dn: Option<String>,
    /// Root group(s) of user scope: DNs (LDAP, LDIF), names (simple JSON, LDIF) or ids
    /// (state JSON). For files, empty keeps the file's own roots.
    #[serde(default)]
    pub user_roots: Vec<String>,
    /// Root group(s) of group sync when `policy.group_sync = "group_roots"`.
    #[serde(default)]
    pub group_roots: Vec<String>,
    /// LDAP: an extra filter users must match, e.g. `(department=Sales)`.
    #[serde(default)]
    pub user_filter: Option<String>,
    /// LDAP: page size (at most 1000).
    #[serde(default)]
    pub page_size: Option<u16>,
    /// LDAP: connect timeout in seconds.
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// LDAP: per-operation timeout in seconds.
    #[serde(default)]
    pub operation_timeout_secs: Option<u64>,
    /// Overrides of the profile's attribute names.
    #[serde(default)]
    pub attributes: AttributeOverrides,
}

/// `[directory.attributes]`: every field replaces the profile's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeOverrides {
    /// Attribute holding the immutable id (text ids only; AD's binary objectGUID is the AD
    /// profile's default).
    #[serde(default)]
    pub id: Option<String>,
    /// Email attributes, tried in order.
    #[serde(default)]
    pub email: Option<Vec<String>>,
    /// First-name attributes, tried in order.
    #[serde(default)]
    pub given_name: Option<Vec<String>>,
    /// Last-name attributes, tried in order.
    #[serde(default)]
    pub surname: Option<Vec<String>>,
    /// Group-name attributes, tried in order.
    #[serde(default)]
    pub group_name: Option<Vec<String>>,
    /// Filter selecting user entries.
    #[serde(default)]
    pub user_object_filter: Option<String>,
    /// Filter selecting group entries.
    #[serde(default)]
    pub group_object_filter: Option<String>,
    /// Use `userPrincipalName` as the last email fallback.
    #[serde(default)]
    pub upn_as_email: Option<bool>,
}

/// `[team]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSection {
    /// API base URL; Dropbox's by default. The emulator or a proxy for tests.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// A team access token (a secret).
    #[serde(default)]
    pub token: Option<SecretSpec>,
    /// An offline refresh token from `teamsync auth` (a secret).
    #[serde(default)]
    pub refresh_token: Option<SecretSpec>,
    /// The team app's key (needed with `refresh_token` and by `teamsync auth`).
    #[serde(default)]
    pub app_key: Option<String>,
    /// The team app's secret (a secret; absent for PKCE apps).
    #[serde(default)]
    pub app_secret: Option<SecretSpec>,
    /// Extra CA certificate (PEM) to trust for `base_url`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[serde(default)]
    pub request_timeout_secs: Option<u64>,
}

/// A path that must name something: an empty string is a config error (with the key and line,
/// like every other bad value), not a file teamsync later fails to open.
fn non_empty_path<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    let path = PathBuf::deserialize(deserializer)?;
    if path.as_os_str().is_empty() {
        return Err(serde::de::Error::custom(
            "a path may not be empty; remove the key to use the default",
        ));
    }
    Ok(Some(path))
}

fn default_base_url() -> String {
    teamsync_dropbox::DEFAULT_BASE_URL.to_owned()
}

impl Default for TeamSection {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            token: None,
            refresh_token: None,
            app_key: None,
            app_secret: None,
            ca_file: None,
            request_timeout_secs: None,
        }
    }
}

/// When notification mails are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyWhen {
    /// Only when a run fails (exit code not 0).
    #[default]
    Failure,
    /// After every run.
    Always,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// STARTTLS upgrade (port 587), required.
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// No TLS (port 25, a local relay).
    Plain,
}

/// `[notify]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// SMTP server host.
    pub smtp_host: String,
    /// Port; by security: 587 STARTTLS, 465 TLS, 25 plain.
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// Connection security; by port when absent (465 → tls, 25 → plain, else starttls).
    #[serde(default)]
    pub security: Option<SmtpSecurity>,
    /// SMTP user name.
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP password (a secret).
    #[serde(default)]
    pub password: Option<SecretSpec>,
    /// PEM CA file to trust for the SMTP server.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// `failure` (default) or `always`.
    #[serde(default)]
    pub when: NotifyWhen,
}

/// A loaded config and where it came from (relative paths in it are relative to its folder).
#[derive(Debug, Clone)]
pub struct Config {
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub file: ConfigFile,
    /// Its text, to point errors at lines.
    text: String,
    /// Warnings for people (world-readable file).
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads, parses and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut config = Config::parse(path, &text)?;
        if let Some(warning) = permission_warning(path) {
            config.warnings.push(warning);
        }
        Ok(config)
    }

    /// The `log_file` of a config that failed to load, when the file is at least TOML, so that
    /// even a config error is logged where the admin looks.
    pub fn log_file_hint(path: &Path) -> Option<PathBuf> {
        let text = std::fs::read_to_string(path).ok()?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        // An empty value is itself the config error being reported: log to the default then.
        let log_file = PathBuf::from(table.get("log_file")?.as_str().filter(|s| !s.is_empty())?);
        Some(if log_file.is_absolute() {
            log_file
        } else {
            path.parent().unwrap_or(Path::new(".")).join(log_file)
        })
    }

    /// Parses and checks config text (`path` names it in messages and anchors relative paths).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let config = Config {
            path: path.to_owned(),
            file,
            text: text.to_owned(),
            warnings: Vec::new(),
        };
        config.check()?;
        Ok(config)
    }

    /// An error about `key`, with the line where the file sets it.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            line: line_of(&self.text, key),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// Checks the LDAP bind keys against `directory.bind`.
    fn check_bind(&self) -> Result<(), ConfigError> {
        let d = &self.file.directory;
        let has_password = d.bind_dn.is_some() || d.bind_password.is_some();
        let bind = self.bind_name();
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
            BindName::Gssapi | BindName::External | BindName::Anonymous if has_password => {
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
                    _ => "not with bind = \"anonymous\"; remove bind_dn and bind_password",
                };
                return Err(self.invalid(key, why));
            }
            _ => {}
        }
        if d.kerberos_fqdn.is_some() && bind != BindName::Gssapi {
            return Err(self.invalid("directory.kerberos_fqdn", "only for bind = \"gssapi\""));
        }
        if bind == BindName::Gssapi {
            let url = d.url.as_deref().unwrap_or("").trim().to_ascii_lowercase();
            if url.starts_with("ldap://") && !d.starttls {
                return Err(self.invalid(
                    "directory.url",
                    "bind = \"gssapi\" needs TLS: use an ldaps:// URL or set starttls = true",
                ));
            }
        }
        match (&d.client_cert_file, &d.client_key_file) {
            (Some(_), None) => {
                return Err(self.invalid(
                    "directory.client_key_file",
                    "client_cert_file needs its key: set client_key_file",
                ));
            }
            (None, Some(_)) => {
                return Err(self.invalid(
                    "directory.client_cert_file",
                    "client_key_file needs its certificate: set client_cert_file",
                ));
            }
            (None, None) if bind == BindName::External => {
                let url = d.url.as_deref().unwrap_or("").trim().to_ascii_lowercase();
                if !url.starts_with("ldapi://") {
                    return Err(self.invalid(
                        "directory.client_cert_file",
                        "bind = \"external\" needs a client certificate: set client_cert_file and client_key_file (or use an ldapi:// URL)",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `directory.bind`, or its default.
    fn bind_name(&self) -> BindName {
        let d = &self.file.directory;
        d.bind.unwrap_or(if d.bind_dn.is_some() {
            BindName::Simple
        } else {
            BindName::Anonymous
        })
    }

    /// Checks what spans several keys.
    fn check(&self) -> Result<(), ConfigError> {
        let f = &self.file;
        if !f.allow_inline_secrets {
            let secrets = [
                ("directory.bind_password", &f.directory.bind_password),
                ("team.token", &f.team.token),
                ("team.refresh_token", &f.team.refresh_token),
                ("team.app_secret", &f.team.app_secret),
                (
                    "notify.password",
                    &f.notify.as_ref().and_then(|n| n.password.clone()),
                ),
            ];
            for (key, spec) in secrets {
                if matches!(spec, Some(SecretSpec::Inline(_))) {
                    return Err(self.invalid(
                        key,
                        "secrets written in the config file are refused; use { env = \"VAR\" } or { file = \"/path\" }, or set allow_inline_secrets = true",
                    ));
                }
            }
        }
        for (key, spec) in [
            ("directory.bind_password", &f.directory.bind_password),
            ("team.token", &f.team.token),
            ("team.refresh_token", &f.team.refresh_token),
            ("team.app_secret", &f.team.app_secret),
        ] {
            if let Some(SecretSpec::From(source)) = spec
                && source.env.is_some() == source.file.is_some()
            {
                return Err(self.invalid(key, "give exactly one of env or file"));
            }
        }
        let d = &f.directory;
        match d.kind {
            DirectoryKind::File => {
                if d.path.is_none() {
                    return Err(
                        self.invalid("directory.path", "required when directory.kind = \"file\"")
                    );
                }
                for (key, set) in [
                    ("directory.url", d.url.is_some()),
                    ("directory.bind_dn", d.bind_dn.is_some()),
                    ("directory.bind_password", d.bind_password.is_some()),
                    ("directory.bind", d.bind.is_some()),
                    ("directory.kerberos_fqdn", d.kerberos_fqdn.is_some()),
                    ("directory.client_cert_file", d.client_cert_file.is_some()),
                    ("directory.client_key_file", d.client_key_file.is_some()),
                    ("directory.base_dn", d.base_dn.is_some()),
                ] {
                    if set {
                        return Err(self.invalid(key, "only for directory.kind = \"ldap\""));
                    }
                }
            }
            DirectoryKind::Ldap => {
                if d.url.is_none() {
                    return Err(
                        self.invalid("directory.url", "required when directory.kind = \"ldap\"")
                    );
                }
                if d.base_dn.is_none() {
                    return Err(self.invalid(
                        "directory.base_dn",
                        "required when directory.kind = \"ldap\"",
                    ));
                }
                if d.profile.is_none() {
                    return Err(self.invalid(
                        "directory.profile",
                        "required when directory.kind = \"ldap\" (active_directory, openldap, freeipa, 389ds, generic)",
                    ));
                }
                if d.user_roots.is_empty() {
                    return Err(
                        self.invalid("directory.user_roots", "name at least one root group DN")
                    );
                }
                if d.path.is_some() {
                    return Err(
                        self.invalid("directory.path", "only for directory.kind = \"file\"")
                    );
                }
                self.check_bind()?;
                if let Some(size) = d.page_size
                    && !(1..=1000).contains(&size)
                {
                    return Err(self.invalid("directory.page_size", "must be between 1 and 1000"));
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

    /// A path from the config, relative to the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(path)
        }
    }

    /// Reads a secret named by `key`.
    pub fn secret(&self, key: &str, spec: &SecretSpec) -> Result<String, ConfigError> {
        match spec {
            SecretSpec::Inline(value) => Ok(value.clone()),
            SecretSpec::From(SecretSource { env: Some(var), .. }) => match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
                Ok(_) => Err(self.invalid(key, format!("environment variable {var} is empty"))),
                Err(_) => Err(self.invalid(key, format!("environment variable {var} is not set"))),
            },
            SecretSpec::From(SecretSource {
                file: Some(file), ..
            }) => {
                let path = self.resolve(file);
                let value = std::fs::read_to_string(&path).map_err(|e| {
                    self.invalid(
                        key,
                        format!("cannot read secret file {}: {e}", path.display()),
                    )
                })?;
                if value.trim().is_empty() {
                    return Err(
                        self.invalid(key, format!("secret file {} is empty", path.display()))
                    );
                }
                Ok(value.trim().to_owned())
            }
            SecretSpec::From(_) => Err(self.invalid(key, "give exactly one of env or file")),
        }
    }

    /// The sync-ldap settings of an LDAP directory section, with the bind password read.
    pub fn ldap_config(&self) -> Result<LdapConfig, ConfigError> {
        let d = &self.file.directory;
        let profile =
            profile_with_overrides(d.profile.unwrap_or(ProfileName::Generic), &d.attributes);
        let url = d
            .url
            .clone()
            .ok_or_else(|| self.invalid("directory.url", "required"))?;
        let base = d
            .base_dn
            .clone()
            .ok_or_else(|| self.invalid("directory.base_dn", "required"))?;
        let mut config = LdapConfig::new(url, base, profile);
        config.bind = match self.bind_name() {
            BindName::Simple => match (&d.bind_dn, &d.bind_password) {
                (Some(dn), Some(spec)) => {
                    let password = self.secret("directory.bind_password", spec)?;
                    Bind::simple(dn.clone(), BindPassword::new(password))
                }
                _ => {
                    return Err(self.invalid(
                        "directory.bind_password",
                        "bind_dn and bind_password go together",
                    ));
                }
            },
            BindName::Gssapi => Bind::gssapi(d.kerberos_fqdn.clone()),
            BindName::External => Bind::External,
            BindName::Anonymous => Bind::Anonymous,
        };
        if let (Some(cert), Some(key)) = (&d.client_cert_file, &d.client_key_file) {
            config.client_certificate = Some(ClientCertificate::new(
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

/// The line (1-based) where a dotted key is set in config text, else where its table starts.
/// Reads the common layout (`[table]` headers, `key = value` lines); enough to point an admin
/// at the place to fix.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    let mut table_line = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            current = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            if current == key {
                return Some(index + 1);
            }
            if current == table {
                table_line = Some(index + 1);
            }
            continue;
        }
        if current == table
            && let Some((name, _)) = trimmed.split_once('=')
            && name.trim() == leaf
        {
            return Some(index + 1);
        }
    }
    table_line
}

/// A preset with the config's attribute overrides applied.
pub fn profile_with_overrides(name: ProfileName, overrides: &AttributeOverrides) -> Profile {
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
    profile
}

/// A warning when others can read the config file (it names where secrets are, and may hold
/// them inline).
#[cfg(unix)]
pub fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o004 != 0).then(|| {
        format!(
            "warning: config file {} is readable by every user (mode {:o}); chmod o-r it",
            path.display(),
            mode & 0o777
        )
    })
}

/// Windows ACLs are not checked.
#[cfg(not(unix))]
pub fn permission_warning(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/teamsync/teamsync.toml"), text)
    }

    const FILE_MIN: &str = "[directory]\nkind = \"file\"\npath = \"people.json\"\n";

    #[test]
    fn minimal_file_config_takes_defaults() {
        let config = parse(FILE_MIN).unwrap();
        assert_eq!(config.file.team.base_url, "https://api.dropboxapi.com");
        assert_eq!(config.file.policy, Policy::default());
        assert_eq!(
            config.resolve(Path::new("people.json")),
            PathBuf::from("/etc/teamsync/people.json")
        );
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse(&format!(
            "{FILE_MIN}\n[policy]\non_leave = \"remove\"\nwipe_dat = false\n"
        ))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 7"), "{text}");
        assert!(text.contains("wipe_dat"), "{text}");
    }

    #[test]
    fn bad_value_names_line() {
        let err = parse(&format!("{FILE_MIN}[policy]\non_leave = \"vanish\"\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 5") && text.contains("vanish"), "{text}");
    }

    #[test]
    fn every_policy_knob_is_settable() {
        let config = parse(&format!(
            "{FILE_MIN}[policy]\nexternal_id_prefix = \"ts:\"\nmanage_existing_users = false\nadopt_foreign = true\n\
             adopt_existing_groups = true\ngroup_sync = \"group_roots\"\nstrict_group_scope = true\non_leave = \"remove\"\n\
             on_delete = \"remove\"\non_invited_deprovision = \"leave\"\nwipe_data = false\ntransfer = {{ mode = \"keep_account\" }}\n\
             deprovision_admins = true\non_group_leave = \"delete\"\nmax_deprovision = {{ floor = 5, percent = 2 }}\n\
             max_group_member_removals = {{ floor = 7, percent = 1.5 }}\nsend_welcome_email = false\n"
        ))
        .unwrap();
        let p = &config.file.policy;
        assert_eq!(p.external_id_prefix, "ts:");
        assert_eq!(p.max_deprovision.floor, 5);
        assert_eq!(p.max_group_member_removals.percent, 1.5);
        assert!(!p.send_welcome_email && p.deprovision_admins);
    }

    #[test]
    fn inline_secrets_refused_unless_allowed() {
        let text = format!("{FILE_MIN}[team]\ntoken = \"sl.abc\"\n");
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key == "team.token"),
            "{err}"
        );
        let allowed = parse(&format!("allow_inline_secrets = true\n{text}")).unwrap();
        assert_eq!(
            allowed
                .secret("team.token", allowed.file.team.token.as_ref().unwrap())
                .unwrap(),
            "sl.abc"
        );
        assert!(!format!("{:?}", allowed.file.team.token).contains("sl.abc"));
    }

    #[test]
    fn secrets_from_env_and_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "  from-file\n").unwrap();
        let config = Config::parse(
            &dir.path().join("c.toml"),
            &format!("{FILE_MIN}[team]\ntoken = {{ file = \"tok\" }}\napp_secret = {{ env = \"TEAMSYNC_TEST_UNSET_VAR\" }}\n"),
        )
        .unwrap();
        assert_eq!(
            config
                .secret("team.token", config.file.team.token.as_ref().unwrap())
                .unwrap(),
            "from-file"
        );
        let err = config
            .secret(
                "team.app_secret",
                config.file.team.app_secret.as_ref().unwrap(),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("TEAMSYNC_TEST_UNSET_VAR is not set"),
            "{err}"
        );
        let both = parse(&format!(
            "{FILE_MIN}[team]\ntoken = {{ file = \"a\", env = \"B\" }}\n"
        ))
        .unwrap_err();
        assert!(both.to_string().contains("exactly one"), "{both}");
    }

    #[test]
    fn cross_key_errors_name_the_line() {
        let err = parse(&format!("{FILE_MIN}\n[team]\nbase_url = \"ftp://x\"\n")).unwrap_err();
        assert!(err.to_string().contains("line 6: team.base_url:"), "{err}");
        let err = parse(&format!("{FILE_MIN}[policy]\nexternal_id_prefix = \"\"\n")).unwrap_err();
        assert!(err.to_string().contains("line 4: policy:"), "{err}");
        assert_eq!(
            line_of("a = 1\n[directory]\nkind = 1\n", "directory.path"),
            Some(2)
        );
        assert_eq!(line_of("allow = 1\n", "allow"), Some(1));
    }

    #[test]
    fn cross_key_checks() {
        let err = parse("[directory]\nkind = \"ldap\"\nurl = \"ldap://x\"\n").unwrap_err();
        assert!(err.to_string().contains("directory.base_dn"), "{err}");
        let err = parse("[directory]\nkind = \"file\"\n").unwrap_err();
        assert!(err.to_string().contains("directory.path"), "{err}");
        let err = parse(&format!("{FILE_MIN}[team]\nbase_url = \"ftp://x\"\n")).unwrap_err();
        assert!(err.to_string().contains("team.base_url"), "{err}");
        let err = parse(&format!("{FILE_MIN}[policy]\nexternal_id_prefix = \"\"\n")).unwrap_err();
        assert!(err.to_string().contains("policy"), "{err}");
        let err = parse(&format!(
            "{FILE_MIN}[team]\nrefresh_token = {{ env = \"X\" }}\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("team.app_key"), "{err}");
    }

    #[test]
    fn ldap_section_builds_ldap_config_with_overrides() {
        // SAFETY of the test: a variable name no other test uses.
        let config = parse(
            "allow_inline_secrets = true\n[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc:636\"\nbase_dn = \"DC=ex\"\n\
             profile = \"active_directory\"\nbind_dn = \"CN=svc,DC=ex\"\nbind_password = \"pw\"\nuser_roots = [\"CN=Dropbox,DC=ex\"]\n\
             ca_file = \"ca.pem\"\npage_size = 500\n[directory.attributes]\nemail = [\"mail\", \"otherMail\"]\nupn_as_email = true\n",
        )
        .unwrap();
        let ldap = config.ldap_config().unwrap();
        assert!(
            matches!(&ldap.bind, teamsync_ldap::Bind::Simple { dn, password } if dn == "CN=svc,DC=ex" && password.expose() == "pw")
        );
        assert_eq!(ldap.ca_file, Some(PathBuf::from("/etc/teamsync/ca.pem")));
        assert_eq!(ldap.page_size, 500);
        assert_eq!(
            ldap.profile.email_attributes,
            vec!["mail".to_owned(), "otherMail".to_owned()]
        );
        assert!(ldap.profile.upn_as_email);
        assert_eq!(ldap.profile.id_attribute, "objectGUID");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_file_warns() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, FILE_MIN).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Config::load(&path).unwrap().warnings[0].contains("readable by every user"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&path).unwrap().warnings.is_empty());
    }
}
