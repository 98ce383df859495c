//! The shape of the config file: every section and key, documented, unknown keys refused.
//!
//! The directory is an enum tagged by `kind`: adding a directory kind is a variant here (with
//! its section struct) and an arm in [`crate::run`]'s directory builder.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use teamsync_core::Policy;
use teamsync_core::docs::Documented;

use super::secret::SecretSpec;

/// The whole config file.
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigFile {
    /// Allow secrets written in the file itself.
    #[serde(default)]
    pub allow_inline_secrets: bool,
    /// The command's log file (default: per platform, see the command's README).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub log_file: Option<PathBuf>,
    /// The command's lock file (default: beside the log file).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub lock_file: Option<PathBuf>,
    /// The run history's folder: a JSON record of every run (default: `history` beside the
    /// log file). See `teamsync::history`.
    #[serde(default, deserialize_with = "non_empty_path")]
    pub history_dir: Option<PathBuf>,
    /// How many run records the history keeps (default 720: 30 days of hourly runs).
    #[serde(default, deserialize_with = "at_least_one")]
    #[explain(default = "history_keep_default")]
    pub history_keep: Option<usize>,
    /// Where people come from.
    pub directory: DirectoryConfig,
    /// The Dropbox team.
    #[serde(default)]
    pub team: TeamSection,
    /// The sync rules (`teamsync_core::Policy`): who is in scope, what happens to leavers and
    /// groups, and the limits of the deprovision guard.
    #[serde(default)]
    pub policy: Policy,
    /// The command's email notifications.
    #[serde(default)]
    pub notify: Option<NotifySection>,
}

/// `[directory]`: where people come from, by `kind`.
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DirectoryConfig {
    /// `kind = "ldap"`: an LDAP server or Active Directory.
    Ldap(LdapSection),
    /// `kind = "file"`: a JSON, LDIF or CSV file, read at every run.
    File(FileSection),
    /// `kind = "entra"`: Microsoft Entra ID (Azure AD) through Microsoft Graph.
    Entra(EntraSection),
}

impl DirectoryConfig {
    /// The `kind` value, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            DirectoryConfig::Ldap(_) => "ldap",
            DirectoryConfig::File(_) => "file",
            DirectoryConfig::Entra(_) => "entra",
        }
    }

    /// Keys of every kind, to tell "wrong kind" from "unknown key" in errors.
    pub(crate) fn kind_keys() -> &'static [(&'static str, &'static [&'static str])] {
        &[
            ("ldap", LdapSection::KEYS),
            ("file", FileSection::KEYS),
            ("entra", EntraSection::KEYS),
        ]
    }
}

/// Preset entry shapes of an LDAP server (and of an LDIF export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Documented)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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

/// `[directory]` with `kind = "ldap"`.
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LdapSection {
    /// `ldaps://host:636` or `ldap://host:389`.
    pub url: String,
    /// StartTLS on an `ldap://` URL.
    #[serde(default)]
    pub starttls: bool,
    /// PEM CA file for the server certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (labs only).
    #[serde(default)]
    pub no_tls_verify: bool,
    /// Allow a password over plain `ldap://`.
    #[serde(default)]
    pub allow_plaintext_bind: bool,
    /// DN to bind as.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// The bind password (a secret).
    #[serde(default)]
    pub bind_password: Option<SecretSpec>,
    /// `simple`, `gssapi` (Kerberos), `external` (client certificate) or `anonymous`; without
    /// it, `simple` when `bind_dn` is set, else `anonymous` (see [`LdapSection::bind_name`]).
    #[serde(default)]
    pub bind: Option<BindName>,
    /// With `bind = "gssapi"`: the server's host name as the KDC knows it (the ticket is for
    /// `ldap/<name>`); without it, the URL's host.
    #[serde(default)]
    pub kerberos_fqdn: Option<String>,
    /// PEM client certificate (then any intermediates) presented over TLS, for
    /// `bind = "external"`.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file` (a secret file: readable by teamsync's account only).
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Preset entry shapes.
    pub profile: ProfileName,
    /// The directory's base DN, e.g. `dc=example,dc=org` (AD: the domain root). Users and
    /// groups are searched in its whole subtree unless `user_base_dn` or `group_base_dn` say
    /// otherwise; deleted users are looked for under it.
    pub base_dn: String,
    /// Where users are searched (the whole subtree), instead of `base_dn`, e.g.
    /// `ou=people,dc=example,dc=org`. A user outside it is not read, so is not in scope even
    /// when a root group lists it; it must lie under `base_dn` for deletions to be noticed.
    #[serde(default)]
    pub user_base_dn: Option<String>,
    /// Where groups are searched (the whole subtree), instead of `base_dn`, e.g.
    /// `ou=groups,dc=example,dc=org`. Nested groups outside it are not followed; the root
    /// groups (`user_roots`, `group_roots`) are read by DN wherever they are.
    #[serde(default)]
    pub group_base_dn: Option<String>,
    /// Root group DN(s) of user scope.
    #[serde(default)]
    pub user_roots: Vec<String>,
    /// Root group DN(s) of group sync when `policy.group_sync = "group_roots"`.
    #[serde(default)]
    pub group_roots: Vec<String>,
    /// An extra filter users must match, e.g. `(department=Sales)`.
    #[serde(default)]
    pub user_filter: Option<String>,
    /// Entries per page of every search (at most 1000, AD's MaxPageSize).
    #[serde(default)]
    #[explain(default = "ldap_defaults::page_size")]
    pub page_size: Option<u16>,
    /// Limit in seconds for the TCP connect, the TLS handshake and StartTLS.
    #[serde(default)]
    #[explain(default = "ldap_defaults::connect_timeout_secs")]
    pub connect_timeout_secs: Option<u64>,
    /// Limit in seconds for each operation; for searches, the longest wait for the next entry.
    #[serde(default)]
    #[explain(default = "ldap_defaults::operation_timeout_secs")]
    pub operation_timeout_secs: Option<u64>,
    /// Overrides of the profile's attribute names.
    #[serde(default)]
    pub attributes: AttributeOverrides,
}

impl LdapSection {
    const KEYS: &'static [&'static str] = &[
        "url",
        "starttls",
        "ca_file",
        "no_tls_verify",
        "allow_plaintext_bind",
        "bind_dn",
        "bind_password",
        "bind",
        "kerberos_fqdn",
        "client_cert_file",
        "client_key_file",
        "profile",
        "base_dn",
        "user_base_dn",
        "group_base_dn",
        "user_roots",
        "group_roots",
        "user_filter",
        "page_size",
        "connect_timeout_secs",
        "operation_timeout_secs",
        "attributes",
    ];

    /// A section with the required keys and every other key at its default.
    pub fn new(
        url: impl Into<String>,
        base_dn: impl Into<String>,
        profile: ProfileName,
        user_roots: Vec<String>,
    ) -> Self {
        Self {
            url: url.into(),
            starttls: false,
            ca_file: None,
            no_tls_verify: false,
            allow_plaintext_bind: false,
            bind_dn: None,
            bind_password: None,
            bind: None,
            kerberos_fqdn: None,
            client_cert_file: None,
            client_key_file: None,
            profile,
            base_dn: base_dn.into(),
            user_base_dn: None,
            group_base_dn: None,
            user_roots,
            group_roots: Vec::new(),
            user_filter: None,
            page_size: None,
            connect_timeout_secs: None,
            operation_timeout_secs: None,
            attributes: AttributeOverrides::default(),
        }
    }

    /// `bind`, or its default: `simple` when `bind_dn` is set, else `anonymous`.
    pub fn bind_name(&self) -> BindName {
        self.bind.unwrap_or(if self.bind_dn.is_some() {
            BindName::Simple
        } else {
            BindName::Anonymous
        })
    }
}

/// The LDAP adapter's own defaults for the keys left unset, for `teamsync config explain`.
/// What `config explain` shows for `history_keep`: the history's own default.
fn history_keep_default() -> Option<usize> {
    Some(crate::history::DEFAULT_KEEP)
}

mod ldap_defaults {
    #[cfg(feature = "ldap")]
    fn config() -> teamsync_ldap::LdapConfig {
        teamsync_ldap::LdapConfig::new("", "", teamsync_ldap::Profile::generic())
    }

    #[cfg(feature = "ldap")]
    pub(super) fn page_size() -> Option<u16> {
        Some(config().page_size)
    }

    #[cfg(feature = "ldap")]
    pub(super) fn connect_timeout_secs() -> Option<u64> {
        Some(config().connect_timeout.as_secs())
    }

    #[cfg(feature = "ldap")]
    pub(super) fn operation_timeout_secs() -> Option<u64> {
        Some(config().operation_timeout.as_secs())
    }

    #[cfg(not(feature = "ldap"))]
    pub(super) fn page_size() -> Option<u16> {
        None
    }

    #[cfg(not(feature = "ldap"))]
    pub(super) fn connect_timeout_secs() -> Option<u64> {
        None
    }

    #[cfg(not(feature = "ldap"))]
    pub(super) fn operation_timeout_secs() -> Option<u64> {
        None
    }
}

/// `directory.bind`: how to authenticate to an LDAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Documented)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BindName {
    /// `bind_dn` and `bind_password` (the default when `bind_dn` is set).
    Simple,
    /// Kerberos (SASL GSSAPI): the keytab or credential cache, no password in the config.
    Gssapi,
    /// SASL EXTERNAL: the TLS client certificate (`client_cert_file`, `client_key_file`), or
    /// the process's user on an `ldapi://` socket.
    External,
    /// No credentials (the default without `bind_dn`).
    Anonymous,
}

impl BindName {
    /// The value as the config spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BindName::Simple => "simple",
            BindName::Gssapi => "gssapi",
            BindName::External => "external",
            BindName::Anonymous => "anonymous",
        }
    }
}

/// Format of a file source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, Documented)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FileFormat {
    /// By extension (`.ldif` is LDIF, `.csv` is CSV) and, for JSON, by shape (`people` or
    /// `users`).
    #[default]
    Auto,
    /// The simple people/groups JSON.
    SimpleJson,
    /// `teamsync_core::DesiredState` as JSON.
    StateJson,
    /// LDIF content records.
    Ldif,
    /// A CSV export, one person a row, columns named by the header ([`CsvColumns`]).
    Csv,
}

/// `[directory]` with `kind = "file"`.
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileSection {
    /// The file (relative to the config file's folder).
    #[serde(deserialize_with = "required_path")]
    pub path: PathBuf,
    /// Its format.
    #[serde(default)]
    pub format: FileFormat,
    /// Root group(s) of user scope: names (simple JSON, LDIF, CSV), DNs (LDIF) or ids (state
    /// JSON). Empty keeps the file's own roots (CSV files have none: required there).
    #[serde(default)]
    pub user_roots: Vec<String>,
    /// Root group(s) of group sync when `policy.group_sync = "group_roots"`.
    #[serde(default)]
    pub group_roots: Vec<String>,
    /// LDIF: preset entry shapes; guessed from the entries when absent.
    #[serde(default)]
    pub profile: Option<ProfileName>,
    /// LDIF: overrides of the profile's attribute names.
    #[serde(default)]
    pub attributes: AttributeOverrides,
    /// CSV: which header names which field.
    #[serde(default)]
    pub columns: CsvColumns,
}

impl FileSection {
    const KEYS: &'static [&'static str] = &[
        "path",
        "format",
        "user_roots",
        "group_roots",
        "profile",
        "attributes",
        "columns",
    ];

    /// A file source of `format`, with the file's own roots.
    pub fn new(path: impl Into<PathBuf>, format: FileFormat) -> Self {
        Self {
            path: path.into(),
            format,
            user_roots: Vec::new(),
            group_roots: Vec::new(),
            profile: None,
            attributes: AttributeOverrides::default(),
            columns: CsvColumns::default(),
        }
    }
}

/// `[directory.columns]`: the CSV header name of each field. Only `id` and `email` must be
/// present in the file; a missing optional column reads as empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Documented)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct CsvColumns {
    /// Immutable id (an employee number), never an email. Default `id`.
    pub id: String,
    /// Email address. Default `email`.
    pub email: String,
    /// First name. Default `given_name`.
    pub given_name: String,
    /// Last name. Default `surname`.
    pub surname: String,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`; empty is enabled). Default `enabled`.
    pub enabled: String,
    /// Names of the groups the person is a direct member of. Default `groups`.
    pub groups: String,
    /// Separator between group names in the groups column. Default `;`.
    pub group_separator: String,
}

impl Default for CsvColumns {
    fn default() -> Self {
        Self {
            id: "id".into(),
            email: "email".into(),
            given_name: "given_name".into(),
            surname: "surname".into(),
            enabled: "enabled".into(),
            groups: "groups".into(),
            group_separator: ";".into(),
        }
    }
}

/// `[directory.attributes]`: every field replaces the profile's.
#[derive(Debug, Clone, Default, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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
    /// The further user attributes read (first value each) and handed to the rules as
    /// `user.<name>`, and no others; replaces the profile's (AD: `sAMAccountName`, OpenLDAP:
    /// `uid`).
    #[serde(default)]
    pub extra: Option<Vec<String>>,
}

/// Dropbox's API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.dropboxapi.com";

/// The default of [`TeamSection::read_deadline_secs`] (teamsync-dropbox's own default).
pub const DEFAULT_READ_DEADLINE_SECS: u64 = 600;

/// `[team]`.
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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
    /// The longest one team read may take, in seconds, its retries and waits included; past
    /// it the read fails as incomplete (exit 8) and nothing is written. Default 600 (10
    /// minutes); 1 to 86400. It stops a server that sends a byte a second from holding the
    /// run (and its lock) for hours.
    #[serde(default)]
    pub read_deadline_secs: Option<u64>,
    /// The longest wait a team read honours when Dropbox asks for one (`Retry-After`, or
    /// `retry_after` in a rate-limit error), in seconds. A longer wait fails the read as
    /// incomplete (exit 8), naming the wait asked for. Default 120 (2 minutes); 1 to 3600, and
    /// not more than `read_deadline_secs`.
    #[serde(default)]
    pub max_server_wait_secs: Option<u64>,
    /// The largest response body accepted from Dropbox, in bytes; a longer body is not read
    /// further and the read fails as incomplete (exit 8). Default 67108864 (64 MiB; a page of
    /// 1,000 members is about 1 MB); 1048576 (1 MiB) to 1073741824 (1 GiB).
    #[serde(default)]
    pub max_response_bytes: Option<u64>,
    /// The most entries one team listing may return: members (removed ones included),
    /// groups, or the members of one group. Past it, or past the pages it takes, the read
    /// fails as incomplete (exit 8): a server paging forever cannot fill memory. Default
    /// 500000 (Dropbox publishes no maximum; its largest plans hold tens of thousands of
    /// seats); 1 to 10000000.
    #[serde(default)]
    pub max_team_members: Option<u64>,
    /// Accept a plain `http://` `base_url` for a host that is not loopback. Default false:
    /// the access token would travel in clear. `http://` to 127.0.0.0/8 or ::1 (a local
    /// emulator) is always accepted.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
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
            read_deadline_secs: None,
            max_server_wait_secs: None,
            max_response_bytes: None,
            max_team_members: None,
            allow_insecure_http: false,
        }
    }
}

/// When notification mails are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, Documented)]
#[serde(rename_all = "snake_case")]
pub enum NotifyWhen {
    /// Only when a run fails (exit code not 0).
    #[default]
    Failure,
    /// After every run.
    Always,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Documented)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// STARTTLS upgrade (port 587), required.
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// No TLS (port 25, a local relay).
    Plain,
}

/// `[notify]`: the command's report mails (the library only reads them).
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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

/// A count that must be at least 1.
fn at_least_one<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<usize>, D::Error> {
    let n = usize::deserialize(deserializer)?;
    if n == 0 {
        return Err(serde::de::Error::custom(
            "must be at least 1 (the history keeps this many runs); remove the key for the default, 720",
        ));
    }
    Ok(Some(n))
}

fn required_path<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    let path = PathBuf::deserialize(deserializer)?;
    if path.as_os_str().is_empty() {
        return Err(serde::de::Error::custom("a path may not be empty"));
    }
    Ok(path)
}

/// `[directory]` with `kind = "entra"`: an app registration reading Entra ID through Graph
/// (application permissions `User.Read.All`, `GroupMember.Read.All`; `Application.Read.All`
/// with `app_id`).
#[derive(Debug, Clone, Deserialize, Documented)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EntraSection {
    /// Tenant id (GUID) or a verified domain.
    pub tenant_id: String,
    /// The app registration's application (client) id.
    pub client_id: String,
    /// The client secret's value (a secret: `{ env }` or `{ file }`).
    #[serde(default)]
    pub client_secret: Option<SecretSpec>,
    /// A PEM file with the app's certificate and RSA private key (`{ file }` or `{ env }`).
    #[serde(default)]
    pub certificate: Option<SecretSpec>,
    /// Root groups by object id or display name (an ambiguous name is refused).
    #[serde(default)]
    pub root_groups: Vec<String>,
    /// Object id of an enterprise application's service principal: its assigned users and
    /// groups are in scope too.
    #[serde(default)]
    pub app_id: Option<String>,
    /// `"object_id"` (default) or `"on_premises_immutable_id"` (keep the AD objectGUID ids).
    #[serde(default)]
    pub id: EntraId,
    /// Where emails come from.
    #[serde(default)]
    pub email: EntraEmail,
    /// Include guests (`userType = Guest`).
    #[serde(default)]
    pub include_guests: bool,
    /// `"global"` (default), `"us_gov"`, `"us_gov_dod"` or `"china"`.
    #[serde(default)]
    pub cloud: EntraCloud,
    /// Another authority base URL (with `graph_url`: a proxy, an emulator).
    #[serde(default)]
    pub authority_url: Option<String>,
    /// Another Graph base URL (with `authority_url`).
    #[serde(default)]
    pub graph_url: Option<String>,
    /// Extra CA certificates (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl EntraSection {
    const KEYS: &'static [&'static str] = &[
        "tenant_id",
        "client_id",
        "client_secret",
        "certificate",
        "root_groups",
        "app_id",
        "id",
        "email",
        "include_guests",
        "cloud",
        "authority_url",
        "graph_url",
        "ca_file",
    ];
}

/// Which value is an Entra user's id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, Documented)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntraId {
    /// The object id.
    #[default]
    ObjectId,
    /// The AD objectGUID `onPremisesImmutableId` encodes (cloud-only users: the object id).
    OnPremisesImmutableId,
}

/// `email = { fallback_to_upn, allow_external_upn, allow_onmicrosoft_upn }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Documented)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EntraEmail {
    /// Use `userPrincipalName` when `mail` is empty (default true).
    pub fallback_to_upn: bool,
    /// ... even a guest's `#EXT#` UPN (default false).
    pub allow_external_upn: bool,
    /// ... even a `*.onmicrosoft.com` UPN (default false).
    pub allow_onmicrosoft_upn: bool,
}

impl Default for EntraEmail {
    fn default() -> Self {
        Self {
            fallback_to_upn: true,
            allow_external_upn: false,
            allow_onmicrosoft_upn: false,
        }
    }
}

/// The Microsoft cloud.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, Documented)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntraCloud {
    /// login.microsoftonline.com, graph.microsoft.com.
    #[default]
    Global,
    /// US Government L4.
    UsGov,
    /// US Government L5 (DOD).
    UsGovDod,
    /// China (21Vianet).
    China,
}
