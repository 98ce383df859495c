//! `teamsync init`: writes a commented config for a chosen source.
//!
//! With `--source` (and the flags that go with it) it writes at once, for scripts. On a
//! terminal without `--source` it asks the handful of questions the AD Connector's
//! configuration tool asks: the directory's URL, the bind DN and where its password comes
//! from, the root group, the team token. Each connection is tested as soon as its answers
//! are in (the bind, then the root group, then Dropbox's `team/get_info`), through the
//! library's own checks ([`teamsync::DirectoryCheck`], [`teamsync::Runner`]); a failure shows
//! the error, which names the fix, and the questions are asked again with the last answers as
//! defaults.
//!
//! The config never holds a secret: passwords and tokens are `{ env = "…" }` or
//! `{ file = "…" }` references. Every key written is commented with its doc comment (the text
//! `teamsync config explain` prints). An existing file is replaced only with `--force`, and
//! the file is written whole or not at all ([`crate::files`]).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use teamsync::config::explain::{self, KeyDoc};
use teamsync::{Config, DirectoryCheck, RunError, Runner};

use crate::files::{self, Readers};

/// Where people come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// An LDAP server: OpenLDAP, FreeIPA, 389-DS (`kind = "ldap"`).
    Ldap,
    /// Active Directory or Samba AD (`kind = "ldap"`, `profile = "active_directory"`).
    Ad,
    /// Microsoft Entra ID through Microsoft Graph (`kind = "entra"`).
    Entra,
    /// A CSV export, one person a row (`kind = "file"`).
    Csv,
    /// A JSON file: simple people/groups or teamsync's state (`kind = "file"`).
    Json,
    /// An LDIF export (`kind = "file"`).
    Ldif,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Ldap => "ldap",
            Source::Ad => "ad",
            Source::Entra => "entra",
            Source::Csv => "csv",
            Source::Json => "json",
            Source::Ldif => "ldif",
        }
    }

    fn parse(text: &str) -> Option<Source> {
        [
            Source::Ldap,
            Source::Ad,
            Source::Entra,
            Source::Csv,
            Source::Json,
            Source::Ldif,
        ]
        .into_iter()
        .find(|s| s.name() == text.trim().to_lowercase())
    }

    fn is_ldap(self) -> bool {
        matches!(self, Source::Ldap | Source::Ad)
    }

    fn is_file(self) -> bool {
        matches!(self, Source::Csv | Source::Json | Source::Ldif)
    }
}

/// A secret's place: `env:NAME` or `file:PATH` (a bare `NAME` is an environment variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `{ env = "NAME" }`.
    Env(String),
    /// `{ file = "PATH" }`.
    File(PathBuf),
}

impl SecretRef {
    /// `env:NAME`, `file:PATH`, or a bare variable name.
    pub fn parse(text: &str) -> Result<SecretRef, String> {
        let text = text.trim();
        let valid_name = |n: &str| {
            !n.is_empty()
                && !n.starts_with(|c: char| c.is_ascii_digit())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if let Some(name) = text.strip_prefix("env:") {
            if valid_name(name) {
                return Ok(SecretRef::Env(name.to_owned()));
            }
            return Err(format!(
                "{} is not an environment variable name (letters, digits and _)",
                teamsync_core::text::quoted(name)
            ));
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.trim().is_empty() {
                return Err("file: needs a path, e.g. file:/etc/teamsync/bind-password".into());
            }
            return Ok(SecretRef::File(absolute(Path::new(path.trim()))));
        }
        if valid_name(text) {
            return Ok(SecretRef::Env(text.to_owned()));
        }
        Err(format!(
            "{}: give env:NAME (an environment variable) or file:PATH (a file holding only the secret)",
            teamsync_core::text::quoted(text)
        ))
    }

    fn toml(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("{{ env = {} }}", quote(name)),
            SecretRef::File(path) => {
                format!("{{ file = {} }}", quote(&path.to_string_lossy()))
            }
        }
    }

    fn answer(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("env:{name}"),
            SecretRef::File(path) => format!("file:{}", path.display()),
        }
    }
}

/// `teamsync init`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InitArgs {
    /// Where people come from. Without it, on a terminal, teamsync asks (and tests each answer).
    #[arg(long, value_enum)]
    pub source: Option<Source>,
    /// Write the config here (default: the --config path, teamsync.toml).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// ldap, ad: the directory's URL, ldaps://host:636 or ldap://host:389.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// ldap, ad: StartTLS on an ldap:// URL.
    #[arg(long)]
    pub starttls: bool,
    /// ldap, ad: PEM file of the CA that signed the directory's certificate (default: the
    /// system's trust store).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// ldap, ad: the DN to bind as (none: an anonymous bind).
    #[arg(long, value_name = "DN")]
    pub bind_dn: Option<String>,
    /// ldap, ad: where the bind password comes from, env:NAME or file:PATH (default
    /// env:TEAMSYNC_BIND_PASSWORD); entra: the client secret (default env:TEAMSYNC_ENTRA_SECRET).
    #[arg(long, value_name = "env:NAME|file:PATH", value_parser = SecretRef::parse)]
    pub password_from: Option<SecretRef>,
    /// ldap, ad: the base DN (default: the dc= part of the first root group).
    #[arg(long, value_name = "DN")]
    pub base_dn: Option<String>,
    /// ldap: the server's entry shapes (openldap, freeipa, 389ds, generic; default openldap).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Root group(s) of user scope: DNs (ldap, ad), object ids or names (entra), group names
    /// (csv, json, ldif). Repeat it for several (a DN has commas of its own).
    #[arg(long = "root", value_name = "GROUP")]
    pub roots: Vec<String>,
    /// csv, json, ldif: the directory file.
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// entra: the tenant id (GUID) or a verified domain.
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,
    /// entra: the app registration's application (client) id.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The Dropbox team token: env:NAME (a team access token in that variable, default
    /// env:DROPBOX_TEAM_TOKEN) or file:PATH (the refresh-token file `teamsync auth` writes;
    /// needs --app-key).
    #[arg(long, value_name = "env:NAME|file:PATH", value_parser = SecretRef::parse)]
    pub team_token_from: Option<SecretRef>,
    /// With a refresh-token file: the team app's key.
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,
    /// Dropbox API base URL (an emulator or a proxy; default Dropbox's).
    #[arg(long, value_name = "URL")]
    pub team_base_url: Option<String>,
    /// PEM CA file to trust for --team-base-url.
    #[arg(long, value_name = "FILE")]
    pub team_ca_file: Option<PathBuf>,
}

/// Why `init` stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The flags do not make a config.
    #[error("{0}")]
    Usage(String),
    /// The file exists and `--force` was not given.
    #[error("{} exists; teamsync init does not replace it without --force", .0.display())]
    Exists(PathBuf),
    /// The written text is not a config `teamsync` accepts (a bug).
    #[error("the config written is not valid (a bug in teamsync init): {0}")]
    Invalid(String),
    /// Writing failed, or the terminal went away.
    #[error("{0}")]
    Io(String),
}

/// The exit code of a failed `init`.
pub fn exit(error: &InitError) -> crate::exit::Exit {
    use crate::exit::Exit;
    match error {
        InitError::Usage(_) | InitError::Exists(_) => Exit::Usage,
        InitError::Invalid(_) | InitError::Io(_) => Exit::Internal,
    }
}

/// Runs `teamsync init`; `default_output` is the `--config` path.
pub async fn run(args: InitArgs, default_output: &Path) -> Result<(), InitError> {
    use std::io::IsTerminal as _;
    let output = absolute(args.output.as_deref().unwrap_or(default_output));
    if !args.force && std::fs::symlink_metadata(&output).is_ok() {
        return Err(InitError::Exists(output));
    }
    let answers = match args.source {
        Some(source) => Answers::from_flags(source, &args)?,
        None if std::io::stdin().is_terminal() => {
            let stdin = std::io::stdin();
            let mut prompt = Prompt::new(stdin.lock(), std::io::stdout());
            ask(&mut prompt, &args, &output).await?
        }
        None => {
            return Err(InitError::Usage(
                "teamsync init needs --source (ldap, ad, entra, csv, json or ldif) when it is not run on a terminal"
                    .into(),
            ));
        }
    };
    let text = answers.render();
    // What is written must be what `teamsync check` loads.
    Config::from_toml_str(&text, &output).map_err(|e| InitError::Invalid(e.to_string()))?;
    write(&output, &text, args.force)?;
    println!("Wrote {}.", output.display());
    let config_flag = if output == absolute(&teamsync::platform::default_config_path()) {
        String::new()
    } else {
        format!(" -c {}", output.display())
    };
    if let Some(SecretRef::File(_)) = &answers.team_token
        && answers.app_key.is_some()
    {
        println!(
            "Next: teamsync{config_flag} auth (stores the refresh token), then teamsync{config_flag} check"
        );
    } else {
        println!("Next: teamsync{config_flag} check, then teamsync{config_flag} plan");
    }
    Ok(())
}

fn write(output: &Path, text: &str, force: bool) -> Result<(), InitError> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| InitError::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let result = if force {
        files::write_atomically(output, text.as_bytes(), Readers::Owner)
    } else {
        files::write_new(output, text.as_bytes(), Readers::Owner)
    };
    result.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => InitError::Exists(output.to_owned()),
        _ => InitError::Io(format!("cannot write {}: {e}", output.display())),
    })
}

/// Everything the config is made of.
#[derive(Debug, Clone, Default)]
struct Answers {
    source: Option<Source>,
    url: Option<String>,
    starttls: bool,
    ca_file: Option<PathBuf>,
    bind_dn: Option<String>,
    password: Option<SecretRef>,
    base_dn: Option<String>,
    profile: Option<String>,
    roots: Vec<String>,
    path: Option<PathBuf>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    team_token: Option<SecretRef>,
    app_key: Option<String>,
    team_base_url: Option<String>,
    team_ca_file: Option<PathBuf>,
}

const DEFAULT_BIND_PASSWORD_VAR: &str = "TEAMSYNC_BIND_PASSWORD";
const DEFAULT_ENTRA_SECRET_VAR: &str = "TEAMSYNC_ENTRA_SECRET";
const DEFAULT_TEAM_TOKEN_VAR: &str = "DROPBOX_TEAM_TOKEN";

impl Answers {
    fn seeded(args: &InitArgs) -> Answers {
        Answers {
            source: args.source,
            url: args.url.clone(),
            starttls: args.starttls,
            ca_file: args.ca_file.as_deref().map(absolute),
            bind_dn: args.bind_dn.clone(),
            password: args.password_from.clone(),
            base_dn: args.base_dn.clone(),
            profile: args.profile.clone(),
            roots: args.roots.clone(),
            path: args.path.as_deref().map(absolute),
            tenant_id: args.tenant_id.clone(),
            client_id: args.client_id.clone(),
            team_token: args.team_token_from.clone(),
            app_key: args.app_key.clone(),
            team_base_url: args.team_base_url.clone(),
            team_ca_file: args.team_ca_file.as_deref().map(absolute),
        }
    }

    /// The flags' config, with defaults for what they leave out; refuses what cannot work.
    fn from_flags(source: Source, args: &InitArgs) -> Result<Answers, InitError> {
        let mut a = Answers::seeded(args);
        a.source = Some(source);
        let missing = |flag: &str| {
            InitError::Usage(format!(
                "teamsync init --source {} needs {flag}",
                source.name()
            ))
        };
        if source.is_ldap() {
            if a.url.is_none() {
                return Err(missing("--url"));
            }
            if a.roots.is_empty() {
                return Err(missing("--root (the root group's DN)"));
            }
            if a.base_dn.is_none() {
                a.base_dn = dc_suffix(&a.roots[0]);
            }
            if a.base_dn.is_none() {
                return Err(missing(
                    "--base-dn (the first root group's DN has no dc= part)",
                ));
            }
            if a.bind_dn.is_some() && a.password.is_none() {
                a.password = Some(SecretRef::Env(DEFAULT_BIND_PASSWORD_VAR.into()));
            }
        }
        if source == Source::Entra {
            if a.tenant_id.is_none() {
                return Err(missing("--tenant-id"));
            }
            if a.client_id.is_none() {
                return Err(missing("--client-id"));
            }
            if a.password.is_none() {
                a.password = Some(SecretRef::Env(DEFAULT_ENTRA_SECRET_VAR.into()));
            }
        }
        if source.is_file() && a.path.is_none() {
            return Err(missing("--path (the directory file)"));
        }
        if source == Source::Csv && a.roots.is_empty() {
            return Err(missing(
                "--root (a CSV file names groups but no root: the group whose members are synced)",
            ));
        }
        if a.team_token.is_none() {
            a.team_token = Some(SecretRef::Env(DEFAULT_TEAM_TOKEN_VAR.into()));
        }
        if matches!(a.team_token, Some(SecretRef::File(_))) && a.app_key.is_none() {
            return Err(InitError::Usage(
                "--team-token-from file:PATH is the refresh-token file `teamsync auth` writes: give the team app's --app-key too (or env:NAME for an access token)"
                    .into(),
            ));
        }
        Ok(a)
    }

    /// The config text: each key with its doc comment.
    fn render(&self) -> String {
        let docs = Docs::new();
        let mut out = String::new();
        out.push_str(&format!(
            "# teamsync config, written by `teamsync init` (teamsync {}).\n\
             # Every key, its meaning and default: `teamsync config explain [KEY]`.\n\
             # Secrets are never written here: they are read from the environment or a file.\n\n",
            env!("CARGO_PKG_VERSION")
        ));
        out.push_str(&run_files_section(&docs));
        out.push_str(&self.directory_section(&docs));
        out.push('\n');
        out.push_str(&self.team_section(&docs));
        out.push('\n');
        out.push_str(&policy_section(&docs));
        out
    }

    fn directory_section(&self, docs: &Docs) -> String {
        let source = self.source.unwrap_or(Source::Ldap);
        let kind = match source {
            Source::Ldap | Source::Ad => "ldap",
            Source::Entra => "entra",
            _ => "file",
        };
        let mut s = Section::new(docs, "directory", Some(kind));
        s.header();
        s.key("kind", &quote(kind));
        match source {
            Source::Ldap | Source::Ad => {
                s.key("url", &quote(self.url.as_deref().unwrap_or_default()));
                if self.starttls {
                    s.key("starttls", "true");
                }
                if let Some(ca) = &self.ca_file {
                    s.key("ca_file", &quote_path(ca));
                }
                if let Some(dn) = &self.bind_dn {
                    s.key("bind_dn", &quote(dn));
                    if let Some(password) = &self.password {
                        s.key("bind_password", &password.toml());
                    }
                }
                let profile = match source {
                    Source::Ad => "active_directory".to_owned(),
                    _ => self.profile.clone().unwrap_or_else(|| "openldap".into()),
                };
                s.key("profile", &quote(&profile));
                s.key(
                    "base_dn",
                    &quote(self.base_dn.as_deref().unwrap_or_default()),
                );
                s.key("user_roots", &quote_list(&self.roots));
            }
            Source::Entra => {
                s.key(
                    "tenant_id",
                    &quote(self.tenant_id.as_deref().unwrap_or_default()),
                );
                s.key(
                    "client_id",
                    &quote(self.client_id.as_deref().unwrap_or_default()),
                );
                if let Some(secret) = &self.password {
                    s.key("client_secret", &secret.toml());
                }
                s.key("root_groups", &quote_list(&self.roots));
                if let Some(ca) = &self.ca_file {
                    s.key("ca_file", &quote_path(ca));
                }
            }
            Source::Csv | Source::Json | Source::Ldif => {
                let path = self.path.clone().unwrap_or_default();
                s.key("path", &quote_path(&path));
                let format = match source {
                    Source::Csv => "csv",
                    Source::Ldif => "ldif",
                    _ => "auto",
                };
                s.key("format", &quote(format));
                if !self.roots.is_empty() {
                    s.key("user_roots", &quote_list(&self.roots));
                }
            }
        }
        s.out
    }

    fn team_section(&self, docs: &Docs) -> String {
        let mut s = Section::new(docs, "team", None);
        s.header();
        if let Some(url) = &self.team_base_url {
            s.key("base_url", &quote(url));
        }
        if let Some(ca) = &self.team_ca_file {
            s.key("ca_file", &quote_path(ca));
        }
        match (&self.team_token, &self.app_key) {
            (Some(file @ SecretRef::File(_)), Some(app_key)) => {
                s.key("refresh_token", &file.toml());
                s.key("app_key", &quote(app_key));
            }
            (Some(token), _) => s.key("token", &token.toml()),
            (None, _) => s.key(
                "token",
                &SecretRef::Env(DEFAULT_TEAM_TOKEN_VAR.into()).toml(),
            ),
        }
        s.out
    }

    /// A config of the answers so far for a connection test, read from where the real one
    /// will be (relative paths resolve the same way).
    fn draft(&self, output: &Path, with_team: bool) -> Result<Config, InitError> {
        let docs = Docs::new();
        let mut text = self.directory_section(&docs);
        if with_team {
            text.push_str(&self.team_section(&docs));
        }
        Config::from_toml_str(&text, output).map_err(|e| InitError::Invalid(e.to_string()))
    }
}

/// The top-level keys of the command's own files (log, lock, run history), commented out at
/// where they go without them on this machine, to change in place.
fn run_files_section(docs: &Docs) -> String {
    let state = teamsync::platform::default_state_dir();
    let path = |name: &str| quote(&state.join(name).to_string_lossy());
    let keys = [
        ("log_file", path("teamsync.log")),
        ("lock_file", path("teamsync.lock")),
        ("history_dir", path("history")),
        ("history_keep", teamsync::history::DEFAULT_KEEP.to_string()),
    ];
    let mut s = Section::new(docs, "", None);
    s.out
        .push_str("# The command's own files, where they go when these keys are absent.\n\n");
    for (name, value) in keys {
        if let Some(key) = docs.find(name, None) {
            let key = key.clone();
            s.comment(&key);
        }
        s.out.push_str(&format!("# {name} = {value}\n\n"));
    }
    s.out
}

/// The `[policy]` section: every knob commented out at its default, to change in place.
fn policy_section(docs: &Docs) -> String {
    let mut s = Section::new(docs, "policy", None);
    s.header();
    s.out.push_str(
        "# The defaults, as teamsync applies them without this section; uncomment to change.\n\n",
    );
    for key in docs.keys.iter() {
        let Some(name) = key.path.strip_prefix("policy.") else {
            continue;
        };
        if name.contains('.') {
            continue;
        }
        // An empty table (no rules) is no example.
        let Some(value) = key.default_toml().filter(|v| v != "{}") else {
            continue;
        };
        s.comment(key);
        s.out.push_str(&format!("# {name} = {value}\n\n"));
    }
    s.out
}

/// Every key's doc, for the comments.
struct Docs {
    keys: Vec<KeyDoc>,
}

impl Docs {
    fn new() -> Docs {
        Docs {
            keys: explain::keys(),
        }
    }

    fn find(&self, path: &str, kind: Option<&str>) -> Option<&KeyDoc> {
        self.keys.iter().find(|k| {
            k.path == path
                && match kind {
                    Some(kind) => {
                        k.only_with.is_empty() || k.only_with.iter().any(|(_, v)| v == kind)
                    }
                    None => true,
                }
        })
    }
}

/// One section of the written config.
struct Section<'d> {
    docs: &'d Docs,
    name: &'static str,
    kind: Option<&'static str>,
    out: String,
}

impl<'d> Section<'d> {
    fn new(docs: &'d Docs, name: &'static str, kind: Option<&'static str>) -> Section<'d> {
        Section {
            docs,
            name,
            kind,
            out: String::new(),
        }
    }

    fn header(&mut self) {
        if let Some(key) = self.docs.find(self.name, None) {
            let doc = key.doc;
            self.out.push_str(&explain::wrap(doc, "# ", explain::WIDTH));
        }
        self.out.push_str(&format!("[{}]\n", self.name));
    }

    fn comment(&mut self, key: &KeyDoc) {
        self.out
            .push_str(&explain::wrap(key.doc, "# ", explain::WIDTH));
        if !key.values.is_empty() {
            let values: Vec<String> = key.values.iter().map(|(v, _)| format!("\"{v}\"")).collect();
            let line = format!("One of {}.", values.join(", "));
            self.out
                .push_str(&explain::wrap(&line, "# ", explain::WIDTH));
        }
    }

    fn key(&mut self, name: &str, value: &str) {
        let path = format!("{}.{name}", self.name);
        if let Some(key) = self.docs.find(&path, self.kind) {
            let key = key.clone();
            self.comment(&key);
        }
        self.out.push_str(&format!("{name} = {value}\n"));
    }
}

fn quote(text: &str) -> String {
    explain::toml_inline(&serde_json::Value::String(text.to_owned()))
}

fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

fn quote_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", items.join(", "))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_owned())
}

/// `dc=example,dc=org` out of `cn=dropbox,ou=groups,dc=example,dc=org`.
fn dc_suffix(dn: &str) -> Option<String> {
    let parts: Vec<&str> = dn.split(',').map(str::trim).collect();
    let first_dc = parts
        .iter()
        .position(|p| p.to_ascii_lowercase().starts_with("dc="))?;
    Some(parts[first_dc..].join(","))
}

/// Questions on a terminal: a prompt, a line, a default in brackets.
pub struct Prompt<R, W> {
    input: R,
    output: W,
}

impl<R: BufRead, W: Write> Prompt<R, W> {
    /// Asks on `output`, reads answers from `input`.
    pub fn new(input: R, output: W) -> Self {
        Prompt { input, output }
    }

    fn say(&mut self, text: &str) -> Result<(), InitError> {
        writeln!(self.output, "{text}")
            .and_then(|()| self.output.flush())
            .map_err(|e| InitError::Io(format!("cannot write to the terminal: {e}")))
    }

    /// The answer, or `default` for an empty line. End of input stops `init`.
    fn ask(&mut self, question: &str, default: Option<&str>) -> Result<String, InitError> {
        let shown = match default {
            Some(d) if !d.is_empty() => format!("{question} [{d}]: "),
            _ => format!("{question}: "),
        };
        write!(self.output, "{shown}")
            .and_then(|()| self.output.flush())
            .map_err(|e| InitError::Io(format!("cannot write to the terminal: {e}")))?;
        let mut line = String::new();
        let read = self
            .input
            .read_line(&mut line)
            .map_err(|e| InitError::Io(format!("cannot read the answer: {e}")))?;
        if read == 0 {
            return Err(InitError::Io(
                "the terminal closed before all questions were answered; nothing was written"
                    .into(),
            ));
        }
        let answer = line.trim();
        Ok(if answer.is_empty() {
            default.unwrap_or_default().to_owned()
        } else {
            answer.to_owned()
        })
    }

    /// Asks until `parse` accepts the answer (its error is shown).
    fn ask_with<T>(
        &mut self,
        question: &str,
        default: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, InitError> {
        loop {
            let answer = self.ask(question, default)?;
            match parse(&answer) {
                Ok(value) => return Ok(value),
                Err(problem) => self.say(&format!("  {problem}"))?,
            }
        }
    }

    fn ask_yes(&mut self, question: &str, default: bool) -> Result<bool, InitError> {
        let shown = if default { "Y/n" } else { "y/N" };
        self.ask_with(&format!("{question} ({shown})"), None, |a| {
            match a.to_lowercase().as_str() {
                "" => Ok(default),
                "y" | "yes" => Ok(true),
                "n" | "no" => Ok(false),
                _ => Err("answer y or n".into()),
            }
        })
    }
}

fn required(what: &'static str) -> impl Fn(&str) -> Result<String, String> {
    move |a: &str| {
        if a.trim().is_empty() {
            Err(format!("{what} is needed"))
        } else {
            Ok(a.trim().to_owned())
        }
    }
}

fn optional(a: &str) -> Result<Option<String>, String> {
    Ok(Some(a.trim().to_owned()).filter(|a| !a.is_empty() && a != "-"))
}

/// The questions, each connection tested as soon as its answers are in.
async fn ask<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    args: &InitArgs,
    output: &Path,
) -> Result<Answers, InitError> {
    let mut a = Answers::seeded(args);
    prompt.say(&format!(
        "teamsync init: a config for {} (Enter keeps the answer in brackets; - clears it).",
        output.display()
    ))?;
    let source = prompt.ask_with(
        "Where do people come from? ldap, ad, entra, csv, json or ldif",
        Some(a.source.unwrap_or(Source::Ldap).name()),
        |s| {
            Source::parse(s).ok_or_else(|| {
                format!(
                    "{} is none of ldap, ad, entra, csv, json, ldif",
                    teamsync_core::text::quoted(s)
                )
            })
        },
    )?;
    a.source = Some(source);
    if source.is_ldap() {
        ask_ldap(prompt, &mut a, output).await?;
    } else if source == Source::Entra {
        ask_entra(prompt, &mut a, output).await?;
    } else {
        ask_file(prompt, &mut a, output).await?;
    }
    ask_team(prompt, &mut a, output).await?;
    Ok(a)
}

/// Root groups answered on one line, separated by `;` (DNs hold commas); `-` alone means none.
fn split_roots(answer: &str) -> Vec<String> {
    answer
        .split(';')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s != "-")
        .collect()
}

/// [`split_roots`], with at least one root.
fn roots_required(problem: &'static str) -> impl Fn(&str) -> Result<Vec<String>, String> {
    move |answer: &str| {
        let roots = split_roots(answer);
        if roots.is_empty() {
            Err(problem.into())
        } else {
            Ok(roots)
        }
    }
}

/// Shows a connection test's result; `false` (after the problem) means ask again.
fn tested<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    result: Result<String, String>,
) -> Result<bool, InitError> {
    match result {
        Ok(line) => {
            prompt.say(&format!("  OK: {line}"))?;
            Ok(true)
        }
        Err(problem) => {
            prompt.say(&format!("  {problem}"))?;
            prompt.say("Let's try again.")?;
            Ok(false)
        }
    }
}

async fn ask_ldap<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    a: &mut Answers,
    output: &Path,
) -> Result<(), InitError> {
    let source = a.source.unwrap_or(Source::Ldap);
    // The connection and the bind, tested together.
    let mut starttls_answer = a.starttls.then_some(true);
    loop {
        let url = prompt.ask_with(
            "Directory URL (ldaps://host:636, or ldap://host:389 with StartTLS)",
            a.url.as_deref(),
            |u| {
                let u = u.trim();
                if u.starts_with("ldaps://")
                    || u.starts_with("ldap://")
                    || u.starts_with("ldapi://")
                {
                    Ok(u.to_owned())
                } else {
                    Err("the URL starts with ldaps:// or ldap://".into())
                }
            },
        )?;
        // StartTLS unless answered otherwise: a bind password must not cross in clear text.
        let starttls_default = starttls_answer.unwrap_or(true);
        a.starttls = url.starts_with("ldap://")
            && prompt.ask_yes(
                "Use StartTLS (encrypt the ldap:// connection)?",
                starttls_default,
            )?;
        if url.starts_with("ldap://") {
            starttls_answer = Some(a.starttls);
        }
        a.url = Some(url);
        let ca = prompt.ask_with(
            "CA certificate file (PEM) that signed the directory's certificate (empty: the system's trust store)",
            a.ca_file.as_ref().and_then(|p| p.to_str()),
            optional,
        )?;
        a.ca_file = ca.map(|p| absolute(Path::new(&p)));
        a.bind_dn = prompt.ask_with(
            "Bind DN, the account teamsync reads the directory as (empty: anonymous)",
            a.bind_dn.as_deref(),
            optional,
        )?;
        if a.bind_dn.is_some() {
            let default = a
                .password
                .clone()
                .unwrap_or_else(|| SecretRef::Env(DEFAULT_BIND_PASSWORD_VAR.into()))
                .answer();
            a.password = Some(prompt.ask_with(
                "Where does the bind password come from? env:NAME (an environment variable) or file:PATH",
                Some(&default),
                SecretRef::parse,
            )?);
        } else {
            a.password = None;
        }
        if source == Source::Ldap {
            a.profile = Some(prompt.ask_with(
                "Server type: openldap, freeipa, 389ds or generic",
                Some(a.profile.as_deref().unwrap_or("openldap")),
                |p| match p.trim() {
                    p @ ("openldap" | "freeipa" | "389ds" | "generic") => Ok(p.to_owned()),
                    other => Err(format!(
                        "{} is none of openldap, freeipa, 389ds, generic",
                        teamsync_core::text::quoted(other)
                    )),
                },
            )?);
        }
        // A config needs a base DN and a root group, which are asked next: the bind test
        // reads nothing under them, so stand-ins do.
        let base = a
            .base_dn
            .clone()
            .or_else(|| a.bind_dn.as_deref().and_then(dc_suffix))
            .unwrap_or_else(|| "dc=invalid".into());
        let mut draft = a.clone();
        if draft.roots.is_empty() {
            draft.roots = vec![format!("cn=not-yet-asked,{base}")];
        }
        draft.base_dn = Some(base);
        prompt.say("Testing the connection and the bind ...")?;
        let bound = bind_test(&draft, output)
            .await
            .map(|identity| format!("bound as {identity}"));
        if tested(prompt, bound)? {
            break;
        }
    }
    // The scope: base DN and root group, tested by reading the directory.
    loop {
        let base_default = a
            .base_dn
            .clone()
            .or_else(|| a.roots.first().and_then(|r| dc_suffix(r)))
            .or_else(|| a.bind_dn.as_deref().and_then(dc_suffix));
        a.base_dn = Some(prompt.ask_with(
            "Base DN, under which users and groups are searched",
            base_default.as_deref(),
            required("a base DN"),
        )?);
        let roots_default = a.roots.join("; ");
        let roots = prompt.ask_with(
            "Root group DN: its members, directly or through nested groups, are synced (several: separate with ;)",
            Some(&roots_default),
            roots_required("a root group is needed, e.g. cn=dropbox,ou=groups,dc=example,dc=org"),
        )?;
        a.roots = roots;
        prompt.say("Reading the directory ...")?;
        if tested(prompt, read_test(a, output).await)? {
            return Ok(());
        }
    }
}

async fn ask_entra<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    a: &mut Answers,
    output: &Path,
) -> Result<(), InitError> {
    loop {
        a.tenant_id = Some(prompt.ask_with(
            "Tenant id (GUID) or verified domain",
            a.tenant_id.as_deref(),
            required("the tenant id"),
        )?);
        a.client_id = Some(prompt.ask_with(
            "The app registration's application (client) id",
            a.client_id.as_deref(),
            required("the client id"),
        )?);
        let default = a
            .password
            .clone()
            .unwrap_or_else(|| SecretRef::Env(DEFAULT_ENTRA_SECRET_VAR.into()))
            .answer();
        a.password = Some(prompt.ask_with(
            "Where does the client secret come from? env:NAME or file:PATH",
            Some(&default),
            SecretRef::parse,
        )?);
        let roots_default = a.roots.join("; ");
        a.roots = prompt.ask_with(
            "Root group (object id or display name; several: separate with ;)",
            Some(&roots_default),
            roots_required("a root group is needed"),
        )?;
        prompt.say("Reading the directory ...")?;
        if tested(prompt, read_test(a, output).await)? {
            return Ok(());
        }
    }
}

async fn ask_file<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    a: &mut Answers,
    output: &Path,
) -> Result<(), InitError> {
    loop {
        let path = prompt.ask_with(
            "The directory file",
            a.path.as_ref().and_then(|p| p.to_str()),
            required("the file"),
        )?;
        a.path = Some(absolute(Path::new(&path)));
        let roots_default = a.roots.join("; ");
        let question = if a.source == Some(Source::Csv) {
            "Root group: the group whose members are synced (several: separate with ;)"
        } else {
            "Root group (empty: the file's own roots; several: separate with ;)"
        };
        a.roots = prompt.ask_with(question, Some(&roots_default), |r| {
            Ok::<_, String>(split_roots(r))
        })?;
        prompt.say("Reading the file ...")?;
        if tested(prompt, read_test(a, output).await)? {
            return Ok(());
        }
    }
}

async fn ask_team<R: BufRead, W: Write>(
    prompt: &mut Prompt<R, W>,
    a: &mut Answers,
    output: &Path,
) -> Result<(), InitError> {
    loop {
        let default = a
            .team_token
            .clone()
            .unwrap_or_else(|| SecretRef::Env(DEFAULT_TEAM_TOKEN_VAR.into()))
            .answer();
        let token = prompt.ask_with(
            "The Dropbox team token: env:NAME (an access token in that variable) or file:PATH (the refresh-token file `teamsync auth` writes)",
            Some(&default),
            SecretRef::parse,
        )?;
        a.team_token = Some(token.clone());
        if let SecretRef::File(path) = &token {
            a.app_key = Some(prompt.ask_with(
                "The team app's key (from the Dropbox App Console)",
                a.app_key.as_deref(),
                required("the app key"),
            )?);
            if !path.exists() {
                prompt.say(&format!(
                    "  {} does not exist yet: `teamsync auth` writes it after this config; the team is tested then.",
                    path.display()
                ))?;
                return Ok(());
            }
        } else {
            a.app_key = None;
        }
        prompt.say("Testing the team token (team/get_info) ...")?;
        if tested(prompt, team_test(a, output).await)? {
            return Ok(());
        }
    }
}

/// The bind alone: who the server says we are.
async fn bind_test(a: &Answers, output: &Path) -> Result<String, String> {
    let config = a.draft(output, false).map_err(|e| e.to_string())?;
    let check = DirectoryCheck::new(config).map_err(|e| e.to_string())?;
    match check.identity().await {
        Ok(Some(identity)) => Ok(identity.to_string()),
        Ok(None) => Ok("no bind needed".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The whole read: the roots are there, and how many users they put in scope.
async fn read_test(a: &Answers, output: &Path) -> Result<String, String> {
    let config = a.draft(output, false).map_err(|e| e.to_string())?;
    let check = DirectoryCheck::new(config).map_err(|e| e.to_string())?;
    let desired = check.read().await.map_err(|e: RunError| e.to_string())?;
    match teamsync_core::plan(&desired, &Default::default(), &Default::default()) {
        Ok(plan) => Ok(format!(
            "{} users in scope ({} users and {} groups read)",
            plan.stats.users_in_scope,
            desired.users.len(),
            desired.groups.len()
        )),
        Err(teamsync_core::PlanError::NoUsersInScope { .. }) => Err(format!(
            "no users in scope: the root group has no enabled members with an email ({} users and {} groups read); check the root group's DN",
            desired.users.len(),
            desired.groups.len()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// `team/get_info` with the token answered.
async fn team_test(a: &Answers, output: &Path) -> Result<String, String> {
    let config = a.draft(output, true).map_err(|e| e.to_string())?;
    let runner = Runner::new(config).map_err(|e| e.to_string())?;
    let info = runner.team_info().await.map_err(|e| e.to_string())?;
    Ok(format!(
        "team \"{}\" ({} of {} licences used)",
        teamsync_core::text::escape_for_display(&info.name),
        info.provisioned,
        info.licensed
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_parse_env_and_file_and_refuse_the_rest() {
        assert_eq!(
            SecretRef::parse("env:BIND_PW").unwrap(),
            SecretRef::Env("BIND_PW".into())
        );
        assert_eq!(
            SecretRef::parse("BIND_PW").unwrap(),
            SecretRef::Env("BIND_PW".into())
        );
        // An absolute path on this platform (`/etc/pw` is not one on Windows) is kept as is.
        let absolute_path = std::env::temp_dir().join("pw");
        assert_eq!(
            SecretRef::parse(&format!("file:{}", absolute_path.display())).unwrap(),
            SecretRef::File(absolute_path)
        );
        assert!(SecretRef::parse("hunter2!").is_err());
        assert!(SecretRef::parse("env:1X").is_err());
    }

    #[test]
    fn dc_suffix_of_a_group_dn() {
        assert_eq!(
            dc_suffix("cn=dropbox,ou=groups,dc=example,dc=org").as_deref(),
            Some("dc=example,dc=org")
        );
        assert_eq!(dc_suffix("cn=x,o=corp"), None);
    }

    #[test]
    fn end_of_input_stops_without_an_answer() {
        let mut prompt = Prompt::new(&b""[..], Vec::new());
        assert!(prompt.ask("URL", Some("x")).is_err());
        let mut prompt = Prompt::new(&b"\n"[..], Vec::new());
        assert_eq!(prompt.ask("URL", Some("x")).unwrap(), "x");
    }
}
