//! The run: build the directory and the team from a [`Config`], read the team, then the
//! directory (with the team's managed ids as `known_ids`, so that a directory without
//! tombstones still reports deletions), plan, guard and apply.
//!
//! ```no_run
//! # async fn run() -> Result<(), teamsync::RunError> {
//! let runner = teamsync::Runner::new(teamsync::Config::load("teamsync.toml")?)?;
//! let planned = runner.plan().await?;
//! println!("{}", planned.plan.render());
//! let outcome = runner.apply(&planned.plan, teamsync::ApplyOptions::default()).await?;
//! println!("{} done, {} failed", outcome.done, outcome.failed);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use teamsync_core::text::quoted;

use teamsync_core::{
    ActualState, ApplyError, ApplyOptions, DesiredState, Directory, DirectoryError,
    DirectoryErrorKind, ErrorKind, Outcome, Plan, PlanError, Policy, ReadOptions, ReadProgress,
    Secret, SourceId, StoreError, TeamStore as _,
};
use teamsync_dropbox::{
    CaSource, ClientConfig, Credentials, DropboxClient, DropboxTeam, TeamOptions,
};

use crate::config::{Config, ConfigError, DirectoryConfig};
use crate::source::FileDirectory;

/// The stage a run failed at; the command maps each to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunErrorKind {
    /// The config is unusable, or a secret unreadable.
    Config,
    /// The directory could not be reached, TLS failed, or the bind was refused.
    DirectoryConnect,
    /// The directory read did not complete (or a root group is missing, a file unreadable).
    DirectoryRead,
    /// No users in scope: nothing planned.
    NoUsersInScope,
    /// Dropbox refused the credentials.
    TeamAuth,
    /// The team could not be read.
    TeamRead,
    /// The deprovision guard refused the plan.
    GuardRefused,
    /// A saved plan no longer matches the team.
    PlanStale,
    /// A saved plan is unreadable, or refused: made for another team, too old, acting on what
    /// teamsync does not own, or no longer what the planner produces.
    PlanRefused,
    /// Anything else (a bug).
    Internal,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The directory could not be read.
    #[error("{0}")]
    Directory(DirectoryError),
    /// Planning refused: no users in scope.
    #[error("{0}")]
    NoUsers(PlanError),
    /// The team refused the credentials.
    #[error("Dropbox authentication failed: {0}")]
    TeamAuth(String),
    /// The team could not be read.
    #[error("cannot read the Dropbox team: {0}")]
    TeamRead(String),
    /// The deprovision guard refused the plan.
    #[error("{0}")]
    Guard(ApplyError),
    /// A saved plan no longer matches the team.
    #[error(
        "the saved plan is stale: {count} operation(s) no longer match the team (first: {first}); plan again"
    )]
    Stale {
        /// Stale operations.
        count: usize,
        /// The first one, for people.
        first: String,
    },
    /// A saved plan cannot be used (see [`RunErrorKind::PlanRefused`]).
    #[error("saved plan {path}: {message}")]
    PlanRefused {
        /// The plan file.
        path: PathBuf,
        /// Why, for people.
        message: String,
    },
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

impl RunError {
    /// The stage it failed at.
    pub fn kind(&self) -> RunErrorKind {
        match self {
            RunError::Config(_) => RunErrorKind::Config,
            RunError::Directory(e) => match e.kind {
                DirectoryErrorKind::Config => RunErrorKind::Config,
                DirectoryErrorKind::Connect | DirectoryErrorKind::Bind => {
                    RunErrorKind::DirectoryConnect
                }
                _ => RunErrorKind::DirectoryRead,
            },
            RunError::NoUsers(_) => RunErrorKind::NoUsersInScope,
            RunError::TeamAuth(_) => RunErrorKind::TeamAuth,
            RunError::TeamRead(_) => RunErrorKind::TeamRead,
            RunError::Guard(_) => RunErrorKind::GuardRefused,
            RunError::Stale { .. } => RunErrorKind::PlanStale,
            RunError::PlanRefused { .. } => RunErrorKind::PlanRefused,
            RunError::Internal(_) => RunErrorKind::Internal,
        }
    }

    /// A team error from reading: auth failures get their own kind.
    pub fn from_team(error: StoreError) -> RunError {
        match error.kind {
            ErrorKind::Auth => RunError::TeamAuth(error.message),
            _ => RunError::TeamRead(error.message),
        }
    }
}

/// What a run reports as it goes (the command logs these).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEvent {
    /// `team/get_info` answered.
    TeamConnected {
        /// The team's name.
        name: String,
        /// Members provisioned.
        provisioned: u64,
    },
    /// The team was read.
    TeamRead {
        /// Members.
        members: usize,
        /// Groups.
        groups: usize,
    },
    /// The directory was read.
    DirectoryRead {
        /// Users.
        users: usize,
        /// Groups.
        groups: usize,
    },
    /// A read of the team or the directory is under way: what it has counted so far (many
    /// per read; see [`ReadProgress`] for what a display may rely on).
    Reading(ReadProgress),
}

/// The team's `team/get_info` answer, as much as a run reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TeamInfo {
    /// The team's id.
    pub team_id: String,
    /// The team's name.
    pub name: String,
    /// Members provisioned.
    pub provisioned: u64,
    /// Licences.
    pub licensed: u64,
}

/// Both sides, read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Sides {
    /// The directory's state.
    pub desired: DesiredState,
    /// The team's state.
    pub actual: ActualState,
}

impl Sides {
    /// Both sides.
    pub fn new(desired: DesiredState, actual: ActualState) -> Self {
        Self { desired, actual }
    }
}

/// A plan with the sides it came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// What was read.
    pub sides: Sides,
    /// The team, as `team/get_info` described it.
    pub team: TeamInfo,
}

type Observer = Arc<dyn Fn(&RunEvent) + Send + Sync>;

/// One config's run: the team client and the directory it names.
#[derive(Clone)]
pub struct Runner {
    config: Config,
    team: DropboxTeam,
    bind_password: Option<Secret>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("config", &self.config.path())
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// Reads every secret the run needs (all unreadable ones reported in one error) and
    /// builds the team client. Nothing is contacted yet.
    pub fn new(config: Config) -> Result<Runner, RunError> {
        let team = &config.file().team;
        let bind = directory_secret(&config);
        let mut wanted = Vec::new();
        if let Some((key, spec)) = bind {
            wanted.push((key, spec));
        }
        match (&team.token, &team.refresh_token) {
            (Some(token), _) => wanted.push(("team.token", token)),
            (None, Some(refresh)) => {
                wanted.push(("team.refresh_token", refresh));
                if let Some(app_secret) = &team.app_secret {
                    wanted.push(("team.app_secret", app_secret));
                }
            }
            (None, None) => {
                return Err(config
                    .invalid(
                        "team.token",
                        "give team.token or team.refresh_token (run `teamsync auth` to get a refresh token)",
                    )
                    .into());
            }
        }
        let mut secrets = config.secrets(wanted)?.into_iter();
        let bind_password = bind.and_then(|_| secrets.next());
        let mut secret = || {
            secrets
                .next()
                .ok_or_else(|| RunError::Internal("a secret went missing".into()))
        };
        let credentials = match &team.token {
            Some(_) => Credentials::access_token(secret()?),
            None => {
                let refresh = secret()?;
                let app_secret = team.app_secret.as_ref().map(|_| secret()).transpose()?;
                Credentials::refresh_token(
                    refresh,
                    team.app_key.clone().unwrap_or_default(),
                    app_secret,
                )
            }
        };
        let mut client_config = ClientConfig::with_base_url(team.base_url.clone());
        client_config.ca = team
            .ca_file
            .as_deref()
            .map(|p| CaSource::File(config.resolve(p)));
        if let Some(secs) = team.request_timeout_secs {
            client_config.request_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = team.read_deadline_secs {
            client_config.read_deadline = Duration::from_secs(secs);
        }
        if let Some(secs) = team.max_server_wait_secs {
            client_config.read_retry.max_server_wait = Duration::from_secs(secs);
        }
        if let Some(bytes) = team.max_response_bytes {
            client_config.max_response_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        client_config.allow_insecure_http = team.allow_insecure_http;
        let mut options = TeamOptions::default();
        if let Some(entries) = team.max_team_members {
            options.max_team_members = usize::try_from(entries).unwrap_or(usize::MAX);
        }
        let client = DropboxClient::new(client_config, credentials)
            .map_err(|e| RunError::Config(config.invalid("team", e.to_string())))?;
        Ok(Runner {
            team: DropboxTeam::with_options(client, options),
            config,
            bind_password,
            observer: None,
        })
    }

    /// Calls `observer` with each [`RunEvent`].
    pub fn with_observer(mut self, observer: impl Fn(&RunEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    fn emit(&self, event: RunEvent) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Reads that report their progress to the observer as [`RunEvent::Reading`].
    fn read_options(&self) -> ReadOptions {
        match &self.observer {
            Some(observer) => {
                let observer = observer.clone();
                ReadOptions::default().with_progress(move |p| observer(&RunEvent::Reading(p)))
            }
            None => ReadOptions::default(),
        }
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The policy the run plans with.
    pub fn policy(&self) -> &Policy {
        &self.config.file().policy
    }

    /// The team.
    pub fn team(&self) -> &DropboxTeam {
        &self.team
    }

    /// `team/get_info`: the connection test.
    pub async fn team_info(&self) -> Result<TeamInfo, RunError> {
        let info = self
            .team
            .client()
            .team_get_info()
            .await
            .map_err(|e| RunError::from_team(e.into()))?;
        let info = TeamInfo {
            team_id: info.team_id,
            name: info.name,
            provisioned: info.num_provisioned_users.into(),
            licensed: info.num_licensed_users.into(),
        };
        self.emit(RunEvent::TeamConnected {
            name: info.name.clone(),
            provisioned: info.provisioned,
        });
        Ok(info)
    }

    /// Reads the team.
    pub async fn read_team(&self) -> Result<ActualState, RunError> {
        let actual = self
            .team
            .snapshot_with(&self.read_options())
            .await
            .map_err(RunError::from_team)?;
        self.emit(RunEvent::TeamRead {
            members: actual.members.len(),
            groups: actual.groups.len(),
        });
        Ok(actual)
    }

    /// The directory the config names; `known_ids` feed deletion detection by lookup
    /// (OpenLDAP keeps no tombstones).
    pub fn directory(&self, known_ids: Vec<SourceId>) -> Result<Box<dyn Directory>, RunError> {
        directory_for(&self.config, self.bind_password.clone(), known_ids)
    }

    /// Who the directory's bind makes this run, as the server sees it (LDAP's "Who am I?"),
    /// for `teamsync check`: with Kerberos or a client certificate the config does not show
    /// it. `None` for a directory without an LDAP bind (files, Entra). A failed bind is the
    /// error a read would give.
    #[cfg(feature = "ldap")]
    pub async fn ldap_identity(&self) -> Result<Option<teamsync_ldap::BoundIdentity>, RunError> {
        ldap_identity_for(&self.config, self.bind_password.clone()).await
    }

    /// What the Entra app may read, for `teamsync check`: every application permission a
    /// snapshot needs that Graph refuses (not only the first, as a read would stop at), and
    /// the permissions the token carries. `None` for other directories. A refused token
    /// (`invalid_client`, an unknown app) is the error a read would give.
    #[cfg(feature = "entra")]
    pub async fn entra_access(&self) -> Result<Option<teamsync_entra::AccessReport>, RunError> {
        let DirectoryConfig::Entra(entra) = &self.config.file().directory else {
            return Ok(None);
        };
        let secret = self
            .bind_password
            .clone()
            .ok_or_else(|| RunError::Internal("the Entra credential went missing".into()))?;
        let directory =
            teamsync_entra::EntraDirectory::new(entra_config(&self.config, entra, secret))
                .map_err(RunError::Directory)?;
        let report = directory.check().await.map_err(RunError::Directory)?;
        Ok(Some(report))
    }

    /// Reads the directory.
    pub async fn read_directory(&self, known_ids: Vec<SourceId>) -> Result<DesiredState, RunError> {
        let desired = self
            .directory(known_ids)?
            .snapshot_with(&self.read_options())
            .await
            .map_err(RunError::Directory)?;
        self.emit(RunEvent::DirectoryRead {
            users: desired.users.len(),
            groups: desired.groups.len(),
        });
        Ok(desired)
    }

    /// Connects, reads the team, then the directory with the team's managed ids.
    pub async fn read(&self) -> Result<Sides, RunError> {
        Ok(self.read_with_team().await?.1)
    }

    async fn read_with_team(&self) -> Result<(TeamInfo, Sides), RunError> {
        let team = self.team_info().await?;
        let actual = self.read_team().await?;
        let desired = self
            .read_directory(known_ids(&actual, self.policy()))
            .await?;
        Ok((team, Sides { desired, actual }))
    }

    /// Reads both sides and plans.
    pub async fn plan(&self) -> Result<Planned, RunError> {
        let (team, sides) = self.read_with_team().await?;
        let plan = plan_sides(&sides, self.policy())?;
        Ok(Planned { plan, sides, team })
    }

    /// Applies a plan (the guard first; see [`ApplyOptions::permission`]). An outcome with
    /// failed operations is still `Ok`: see [`Outcome::is_success`].
    pub async fn apply(&self, plan: &Plan, options: ApplyOptions) -> Result<Outcome, RunError> {
        teamsync_core::apply(plan, &self.team, &options)
            .await
            .map_err(RunError::Guard)
    }

    /// Reads a saved plan and checks it before it is applied; see [`SavedPlanOptions`] and
    /// `teamsync_core::saved`. The plan returned carries the guard recomputed from its
    /// operations, so what the file says of itself counts for nothing. `now` is the current
    /// time in seconds since the Unix epoch.
    pub async fn saved_plan(
        &self,
        path: &Path,
        options: &SavedPlanOptions,
        now: u64,
    ) -> Result<Plan, RunError> {
        let refuse = |message: String| RunError::PlanRefused {
            path: path.to_owned(),
            message,
        };
        let mut plan = read_plan_file(path)?;
        let policy = self.policy();
        let Some(origin) = plan.origin.clone() else {
            return Err(refuse(
                "it does not say which team it was made for (only `teamsync plan --out` writes plans that can be applied); make a new plan".into(),
            ));
        };
        if plan.external_id_prefix != policy.external_id_prefix {
            return Err(refuse(format!(
                "it was made with external id prefix {}, the config says {}; make a new plan",
                quoted(&plan.external_id_prefix),
                quoted(&policy.external_id_prefix)
            )));
        }
        let info = self.team_info().await?;
        if origin.team_id != info.team_id {
            return Err(refuse(format!(
                "it was made for team {} ({}), but this config reaches team {} ({}); make a new plan for this team",
                quoted(&origin.team_name),
                origin.team_id,
                quoted(&info.name),
                info.team_id
            )));
        }
        let age = now.saturating_sub(origin.created_at);
        if origin.created_at > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(refuse(format!(
                "it says it was made {}s in the future; make a new plan",
                origin.created_at - now
            )));
        }
        if let Some(max_age) = options.max_age
            && age > max_age.as_secs()
        {
            return Err(refuse(format!(
                "it was made {age}s ago, more than the allowed {}s (--max-plan-age); make a new plan",
                max_age.as_secs()
            )));
        }
        let actual = self.read_team().await?;
        let stale = plan.stale_operations(&actual);
        if let Some(first) = stale.first() {
            return Err(RunError::Stale {
                count: stale.len(),
                first: format!("#{} {}", first.index, first.target),
            });
        }
        let refusals = teamsync_core::saved::ownership_refusals(&plan, &actual, policy);
        if !refusals.is_empty() {
            return Err(refuse(describe_refusals(&refusals)));
        }
        if options.replan {
            let desired = self.read_directory(known_ids(&actual, policy)).await?;
            let sides = Sides { desired, actual };
            let mut fresh = plan_sides(&sides, policy)?;
            // A plan made for some people is compared with a plan for the same people: what
            // the planner would add for anyone else was not reviewed.
            if !origin.only.is_empty() {
                let people: Vec<&str> = origin.only.iter().map(String::as_str).collect();
                fresh = fresh
                    .only(&people, &sides.desired, &sides.actual)
                    .map_err(|e| {
                        refuse(format!(
                            "it was made for {} alone, and {e}; make a new plan",
                            origin.only.join(", ")
                        ))
                    })?;
            }
            let refusals = teamsync_core::saved::replan_refusals(&plan, &fresh);
            if !refusals.is_empty() {
                return Err(refuse(describe_refusals(&refusals)));
            }
            plan.guard =
                teamsync_core::Guard::for_operations(&plan.operations, &sides.actual, policy);
        } else {
            plan.guard = teamsync_core::Guard::for_operations(&plan.operations, &actual, policy);
        }
        Ok(plan)
    }

    /// Marks a plan as made now for this run's team and directory, so that `apply --plan` can
    /// check it (see [`Runner::saved_plan`]).
    pub fn stamp(&self, plan: &mut Plan, team: &TeamInfo, now: u64) {
        self.stamp_only(plan, team, now, &[]);
    }

    /// [`Runner::stamp`] for a plan restricted to `people` ([`Plan::only`]): `apply --plan`
    /// re-plans for the same people.
    pub fn stamp_only(&self, plan: &mut Plan, team: &TeamInfo, now: u64, people: &[String]) {
        plan.origin = Some(
            teamsync_core::saved::PlanOrigin::new(
                team.team_id.clone(),
                team.name.clone(),
                self.config.directory_description(),
                now,
            )
            .with_only(people.to_vec()),
        );
    }
}

/// A saved plan made up to this far in the future is accepted (clocks differ a little).
const CLOCK_SKEW_SECS: u64 = 300;

/// How [`Runner::saved_plan`] checks a saved plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedPlanOptions {
    /// Plan again from the directory and team as they are now and refuse every saved operation
    /// the planner would not produce (default). Off, the plan is still checked against the
    /// ownership rules and its guard recomputed, but changes in the directory since planning
    /// are not noticed.
    pub replan: bool,
    /// Refuse plans older than this.
    pub max_age: Option<Duration>,
}

impl Default for SavedPlanOptions {
    fn default() -> Self {
        Self {
            replan: true,
            max_age: None,
        }
    }
}

impl SavedPlanOptions {
    /// Whether to plan again (see [`SavedPlanOptions::replan`]).
    pub fn with_replan(mut self, replan: bool) -> Self {
        self.replan = replan;
        self
    }

    /// The oldest plan accepted.
    pub fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }
}

/// The first refusals, one per line, and how many more.
fn describe_refusals(refusals: &[teamsync_core::saved::Refusal]) -> String {
    const SHOWN: usize = 5;
    let mut message = format!("{} operation(s) refused:", refusals.len());
    for refusal in refusals.iter().take(SHOWN) {
        message.push_str(&format!("\n  {refusal}"));
    }
    if refusals.len() > SHOWN {
        message.push_str(&format!("\n  … and {} more", refusals.len() - SHOWN));
    }
    message.push_str("\nnothing was applied; make a new plan and review it");
    message
}

/// Plans, mapping a refusal to its [`RunError`].
pub fn plan_sides(sides: &Sides, policy: &Policy) -> Result<Plan, RunError> {
    teamsync_core::plan(&sides.desired, &sides.actual, policy).map_err(|e| match e {
        PlanError::NoUsersInScope { .. } => RunError::NoUsers(e),
        other => RunError::Internal(format!("policy: {other}")),
    })
}

/// Ids of the team's managed members and groups, for directories that detect deletions by
/// looking known ids up.
pub fn known_ids(actual: &ActualState, policy: &Policy) -> Vec<SourceId> {
    let prefix = policy.external_id_prefix.as_str();
    let member_ids = actual
        .members
        .iter()
        .filter_map(|m| m.external_id.as_deref());
    let group_ids = actual
        .groups
        .iter()
        .filter_map(|g| g.external_id.as_deref());
    member_ids
        .chain(group_ids)
        .filter_map(|e| e.strip_prefix(prefix))
        .filter_map(|id| SourceId::new(id).ok())
        .collect()
}

/// The directory's one secret: LDAP's bind password, or Entra's client secret or certificate.
fn directory_secret(config: &Config) -> Option<(&'static str, &crate::config::SecretSpec)> {
    match &config.file().directory {
        DirectoryConfig::Ldap(ldap) => ldap
            .bind_password
            .as_ref()
            .map(|s| ("directory.bind_password", s)),
        DirectoryConfig::Entra(e) => match (&e.client_secret, &e.certificate) {
            (Some(s), _) => Some(("directory.client_secret", s)),
            (None, Some(c)) => Some(("directory.certificate", c)),
            (None, None) => None,
        },
        DirectoryConfig::File(_) => None,
    }
}

/// The directory the config names (see [`Runner::directory`]).
fn directory_for(
    config: &Config,
    bind_password: Option<Secret>,
    known_ids: Vec<SourceId>,
) -> Result<Box<dyn Directory>, RunError> {
    match &config.file().directory {
        DirectoryConfig::File(file) => Ok(Box::new(FileDirectory::new(
            config.resolve(&file.path),
            file.clone(),
        ))),
        #[cfg(feature = "ldap")]
        DirectoryConfig::Ldap(ldap) => {
            let mut settings = config.ldap_config(ldap, bind_password.clone())?;
            settings.known_ids = known_ids;
            Ok(Box::new(
                teamsync_ldap::LdapDirectory::new(settings).map_err(RunError::Directory)?,
            ))
        }
        #[cfg(feature = "entra")]
        DirectoryConfig::Entra(entra) => {
            let secret = bind_password
                .clone()
                .ok_or_else(|| RunError::Internal("the Entra credential went missing".into()))?;
            let mut settings = entra_config(config, entra, secret);
            settings.known_ids = known_ids;
            Ok(Box::new(
                teamsync_entra::EntraDirectory::new(settings).map_err(RunError::Directory)?,
            ))
        }
        #[cfg(not(feature = "entra"))]
        DirectoryConfig::Entra(_) => {
            let _ = known_ids;
            Err(config
                .invalid(
                    "directory.kind",
                    "this build of teamsync has no `entra` feature",
                )
                .into())
        }
        #[cfg(not(feature = "ldap"))]
        DirectoryConfig::Ldap(_) => {
            let _ = (known_ids, bind_password);
            Err(config
                .invalid(
                    "directory.kind",
                    "this build of teamsync has no `ldap` feature",
                )
                .into())
        }
    }
}

#[cfg(feature = "ldap")]
async fn ldap_identity_for(
    config: &Config,
    bind_password: Option<Secret>,
) -> Result<Option<teamsync_ldap::BoundIdentity>, RunError> {
    let DirectoryConfig::Ldap(ldap) = &config.file().directory else {
        return Ok(None);
    };
    let settings = config.ldap_config(ldap, bind_password)?;
    let directory = teamsync_ldap::LdapDirectory::new(settings).map_err(RunError::Directory)?;
    let identity = directory.whoami().await.map_err(RunError::Directory)?;
    Ok(Some(identity))
}

/// The directory side of a config alone, before a team is configured: `teamsync init` tests
/// each answer with it (the bind, then the root groups), the same way [`Runner`] reads.
#[derive(Clone)]
pub struct DirectoryCheck {
    config: Config,
    bind_password: Option<Secret>,
}

impl std::fmt::Debug for DirectoryCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryCheck")
            .field("config", &self.config.path())
            .finish_non_exhaustive()
    }
}

impl DirectoryCheck {
    /// Reads the directory's secret (the `[team]` section is not looked at).
    pub fn new(config: Config) -> Result<DirectoryCheck, RunError> {
        let bind_password = match directory_secret(&config) {
            Some((key, spec)) => Some(config.secret(key, spec)?),
            None => None,
        };
        Ok(DirectoryCheck {
            config,
            bind_password,
        })
    }

    /// Who the bind makes us (`None` without an LDAP bind): the first connection test.
    #[cfg(feature = "ldap")]
    pub async fn identity(&self) -> Result<Option<teamsync_ldap::BoundIdentity>, RunError> {
        ldap_identity_for(&self.config, self.bind_password.clone()).await
    }

    /// Reads the whole directory: the root groups must be there, and the users in scope are
    /// counted from it.
    pub async fn read(&self) -> Result<DesiredState, RunError> {
        directory_for(&self.config, self.bind_password.clone(), Vec::new())?
            .snapshot()
            .await
            .map_err(RunError::Directory)
    }
}

/// Reads a plan file; an unreadable or malformed file is refused (exit code of its own), not
/// an internal error.
pub fn read_plan_file(path: &Path) -> Result<Plan, RunError> {
    let refuse = |message: String| RunError::PlanRefused {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    Plan::from_json(&text).map_err(|e| refuse(format!("{e}")))
}

/// `[directory] kind = "entra"` as teamsync-entra's settings.
#[cfg(feature = "entra")]
fn entra_config(
    config: &Config,
    section: &crate::config::EntraSection,
    secret: teamsync_core::Secret,
) -> teamsync_entra::EntraConfig {
    use crate::config::{EntraCloud, EntraId};
    use teamsync_entra::{Cloud, Credential, IdSource};
    let credential = if section.client_secret.is_some() {
        Credential::client_secret(secret.expose())
    } else {
        Credential::certificate_pem(secret.expose())
    };
    let mut c = teamsync_entra::EntraConfig::new(
        section.tenant_id.clone(),
        section.client_id.clone(),
        credential,
    );
    c.cloud = match (&section.authority_url, &section.graph_url) {
        (Some(authority), Some(graph)) => Cloud::Custom {
            authority: authority.clone(),
            graph: graph.clone(),
        },
        _ => match section.cloud {
            EntraCloud::UsGov => Cloud::UsGov,
            EntraCloud::UsGovDod => Cloud::UsGovDod,
            EntraCloud::China => Cloud::China,
            _ => Cloud::Global,
        },
    };
    c.root_groups = section.root_groups.clone();
    c.app_id = section.app_id.clone();
    c.id = match section.id {
        EntraId::OnPremisesImmutableId => IdSource::OnPremisesImmutableId,
        _ => IdSource::ObjectId,
    };
    c.email.fallback_to_upn = section.email.fallback_to_upn;
    c.email.allow_external_upn = section.email.allow_external_upn;
    c.email.allow_onmicrosoft_upn = section.email.allow_onmicrosoft_upn;
    c.include_guests = section.include_guests;
    c.ca_file = section.ca_file.as_deref().map(|p| config.resolve(p));
    c
}
