//! `teamsync`: mirrors a corporate directory (Active Directory, LDAP, or a JSON/LDIF file) into
//! a Dropbox team. See `teamsync --help` and sync-cli/README.md.

mod app;
mod auth;
#[cfg(feature = "demo")]
mod demo;
mod diagnostics;
mod exit;
mod explain;
mod files;
mod history;
mod init;
mod lock;
mod log;
mod notify;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use teamsync::RunError;
use teamsync_core::text::quoted;

use crate::app::CliError;
use crate::exit::Exit;
use crate::lock::RunLock;
use crate::log::{LogFormat, RunLog};
use teamsync::{Config, Plan};

/// Mirror a corporate directory (AD, LDAP, or a JSON/LDIF file) into a Dropbox team, one way:
/// invite who should be there, keep names and emails in step, suspend or remove leavers,
/// mirror groups.
///
/// Start with `teamsync demo` (no setup: a bundled directory and an emulated team). Then write
/// a config (sync-cli/README.md) and run `check`, `plan`, `apply`.
#[derive(Debug, Parser)]
#[command(name = "teamsync", version, after_long_help = after_help(), after_help = after_help())]
struct Cli {
    /// Config file (TOML). Default: teamsync.toml here; on Windows
    /// %ProgramData%\teamsync\teamsync.toml.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "TEAMSYNC_CONFIG",
        hide_env_values = true,
        default_value_os_t = teamsync::platform::default_config_path(),
        hide_default_value = true
    )]
    config: PathBuf,
    /// Log file (default: the config's log_file, else per platform:
    /// ~/.local/state/teamsync/teamsync.log, %ProgramData%\teamsync\teamsync.log).
    #[arg(long, global = true)]
    log_file: Option<PathBuf>,
    /// Format of log lines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Lock file held while a run lasts (default: the config's lock_file, else beside the
    /// default log).
    #[arg(long, global = true)]
    lock_file: Option<PathBuf>,
    /// check, plan, apply: also write the run's figures to FILE in the Prometheus text format,
    /// for node_exporter's textfile collector (name it *.prom; replaced whole at the end).
    #[arg(long, global = true, value_name = "FILE")]
    metrics_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect to the directory (count users in scope) and to Dropbox (team/get_info); report both.
    Check {
        /// First send a test mail with the [notify] settings.
        #[arg(long)]
        notify: bool,
    },
    /// Dry run: read both sides and print what apply would do.
    Plan {
        /// Print the plan as JSON instead of the table.
        #[arg(long)]
        json: bool,
        /// Also save the plan (JSON) for `apply --plan`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also write the plan as one self-contained HTML page for review (counts, operations
        /// with reasons and consequences, warnings, the guard's verdict, a filter box).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Plan only for these people (emails or directory ids, comma-separated): their own
        /// operations, their group memberships and the groups those need.
        #[arg(long, value_name = "WHO", value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Plan and apply; or apply a saved plan, refused if the team changed since.
    Apply {
        /// Apply this saved plan instead of planning now.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Permit a plan over the policy limits holding up to N suspensions/removals (and up to N
        /// group member removals).
        #[arg(long, value_name = "N")]
        allow_deprovision: Option<usize>,
        /// Apply whatever the guard says.
        #[arg(long)]
        force: bool,
        /// With --plan: do not plan again. The saved operations are still checked against the
        /// ownership rules and the guard is recomputed, but directory changes since planning
        /// are not noticed.
        #[arg(long, requires = "plan")]
        no_replan: bool,
        /// With --plan: refuse a plan older than this (e.g. 30m, 12h, 2d; plain numbers are
        /// seconds).
        #[arg(long, value_name = "AGE", requires = "plan", value_parser = parse_age)]
        max_plan_age: Option<std::time::Duration>,
        /// Plan and apply only for these people (emails or directory ids, comma-separated),
        /// under the same policy and guard.
        #[arg(
            long,
            value_name = "WHO",
            value_delimiter = ',',
            conflicts_with = "plan"
        )]
        only: Vec<String>,
    },
    /// One-time OAuth: print the team app's authorize URL, read the code from stdin, store the
    /// refresh token (mode 0600) in the file team.refresh_token names (or --secrets-file).
    Auth {
        /// Store the refresh token here instead.
        #[arg(long, value_name = "FILE")]
        secrets_file: Option<PathBuf>,
        /// Authorize page (Dropbox's by default).
        #[arg(long, value_name = "URL", default_value = auth::DEFAULT_AUTHORIZE_URL)]
        authorize_url: String,
    },
    /// The whole flow on a bundled directory and an in-process emulated team: plan, apply, plan again.
    Demo,
    /// The run history: every check, plan and apply (time, command, exit code, counts), or what
    /// happened to one person across the runs (--user).
    History {
        /// One person's history: their operations, results, errors and warnings in every run
        /// (an email or a directory id).
        #[arg(long, value_name = "WHO")]
        user: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Read this history folder instead of the config's.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Only the newest N runs.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
    /// Write a commented config (to --config, or --output) for a source: with --source and
    /// its flags at once; on a terminal without them, by asking and testing each connection.
    /// Secrets are written as { env = "…" } or { file = "…" } references, never inline.
    Init(Box<init::InitArgs>),
    /// Explain the config: `teamsync config explain [KEY]` prints every key with its meaning and
    /// default.
    #[command(subcommand)]
    Config(explain::ConfigCommand),
}

/// Seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `--max-plan-age`: `90`, `90s`, `30m`, `12h`, `2d`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number.parse().map_err(|_| {
        format!(
            "{} is not an age: use e.g. 90s, 30m, 12h or 2d",
            quoted(text)
        )
    })?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{}: unknown unit {}; use s, m, h or d",
                quoted(text),
                quoted(unit)
            ));
        }
    };
    n.checked_mul(scale)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{} is too long", quoted(text)))
}

fn after_help() -> String {
    format!(
        "{}\nExamples:\n  teamsync demo\n  teamsync init\n  teamsync config explain policy\n  teamsync -c /etc/teamsync/teamsync.toml check\n  teamsync plan --out plan.json\n  teamsync apply --plan plan.json\n",
        Exit::table()
    )
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Check { .. } => "check",
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Demo => "demo",
            Command::Auth { .. } => "auth",
            Command::History { .. } => "history",
            Command::Init(_) => "init",
            Command::Config(_) => "config",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_diagnostics();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("teamsync: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Internal.code());
        }
    };
    let exit = runtime.block_on(run(cli));
    ExitCode::from(exit.code())
}

/// Diagnostics for troubleshooting, off unless `RUST_LOG` is set (see [`diagnostics`]).
fn init_diagnostics() {
    diagnostics::init();
}

/// A log that cannot be opened: a wrong format for the file is the config's (exit 3), an I/O
/// error internal (exit 1).
fn log_open_failed(path: &Path, error: log::LogOpenError) -> CliError {
    match error {
        log::LogOpenError::Io(e) => {
            CliError::Internal(format!("cannot open log file {}: {e}", path.display()))
        }
        mixed => CliError::LogFile(mixed.to_string()),
    }
}

/// Runs a command: log, lock, work, and the final log line with the exit code.
async fn run(cli: Cli) -> Exit {
    let command = cli.command.name();
    let recorded = matches!(
        cli.command,
        Command::Check { .. } | Command::Plan { .. } | Command::Apply { .. }
    );
    if cli.metrics_file.is_some() && !recorded {
        eprintln!("teamsync: error: --metrics-file is for check, plan and apply");
        return Exit::Usage;
    }
    if let Command::History {
        user,
        json,
        dir,
        last,
    } = &cli.command
    {
        let query = history::Query {
            user: user.as_deref(),
            json: *json,
            dir: dir.as_deref(),
            last: *last,
        };
        return history::command(&cli.config, cli.log_file.as_deref(), &query);
    }
    // Neither reads a config (init writes one): no log, no lock.
    match &cli.command {
        Command::Config(config) => return explain::run(config),
        Command::Init(args) => {
            return match init::run((**args).clone(), &cli.config).await {
                Ok(()) => Exit::Success,
                Err(e) => {
                    eprintln!("teamsync: error: {e}");
                    init::exit(&e)
                }
            };
        }
        _ => {}
    }
    if let Command::Demo = cli.command {
        let mut log = match &cli.log_file {
            Some(path) => match RunLog::open(Some(path), cli.log_format, command) {
                Ok(log) => log,
                Err(e) => return fail(&log_open_failed(path, e), None),
            },
            None => RunLog::disabled(),
        };
        #[cfg(feature = "demo")]
        let result = demo::run(&mut log).await;
        #[cfg(not(feature = "demo"))]
        let result = Err(CliError::Internal(
            "this teamsync was built without the `demo` feature".into(),
        ));
        return finish(result, &mut log);
    }

    let loaded = Config::load(&cli.config);
    let config_log = match &loaded {
        Ok(c) => c.file().log_file.as_deref().map(|p| c.resolve(p)),
        Err(_) => Config::log_file_hint(&cli.config),
    };
    let log_path = cli
        .log_file
        .clone()
        .or(config_log)
        .unwrap_or_else(log::default_log_path);
    let mut log = match RunLog::open(Some(&log_path), cli.log_format, command) {
        Ok(log) => log,
        Err(e) => return fail(&log_open_failed(&log_path, e), None),
    };
    log.event(
        "start",
        &format!(
            "teamsync {} {command} (config {})",
            env!("CARGO_PKG_VERSION"),
            cli.config.display()
        ),
        json!({}),
    );
    if recorded {
        history::begin(
            &mut log,
            command,
            &cli.config,
            loaded.as_ref().ok(),
            &log_path,
            cli.metrics_file.clone(),
        );
    }
    let config = match loaded {
        Ok(config) => config,
        Err(e) => return finish(Err(e.into()), &mut log),
    };
    for warning in config.warnings() {
        eprintln!("teamsync: {warning}");
        log.event("warning", warning, json!({}));
    }
    if let Command::Auth {
        secrets_file,
        authorize_url,
    } = &cli.command
    {
        let mut input = std::io::stdin().lock();
        let result = auth::run(&config, authorize_url, secrets_file.as_deref(), &mut input).await;
        return finish(result, &mut log);
    }
    let config_lock = config
        .file()
        .lock_file
        .as_deref()
        .map(|p| config.resolve(p));
    let lock_path = cli
        .lock_file
        .clone()
        .or(config_lock)
        .unwrap_or_else(|| log::default_state_dir().join("teamsync.lock"));
    let _lock = match RunLock::acquire(&lock_path) {
        Ok(lock) => lock,
        Err(e) => return finish(Err(e.into()), &mut log),
    };
    let test_mail_sent = matches!(cli.command, Command::Check { notify: true });
    let result = match cli.command {
        Command::Check { notify } => check(&config, notify, &mut log).await,
        Command::Plan {
            json,
            out,
            report,
            only,
        } => {
            plan(
                &config,
                json,
                out.as_deref(),
                report.as_deref(),
                &only,
                &mut log,
            )
            .await
        }
        Command::Apply {
            plan,
            allow_deprovision,
            force,
            no_replan,
            max_plan_age,
            only,
        } => {
            let saved = teamsync::SavedPlanOptions::default()
                .with_replan(!no_replan)
                .with_max_age(max_plan_age);
            apply(
                &config,
                plan.as_deref().map(|path| (path, &saved)),
                &only,
                app::permission(allow_deprovision, force),
                &mut log,
            )
            .await
        }
        Command::Demo
        | Command::Auth { .. }
        | Command::History { .. }
        | Command::Init(_)
        | Command::Config(_) => Ok(()),
    };
    let result = if test_mail_sent {
        result
    } else {
        notify_after_run(&config, command, result, &mut log).await
    };
    finish(result, &mut log)
}

/// Mails the run's report when `[notify]` asks for it (on failure, or always). A mail that
/// cannot be sent turns a successful run into exit 13; a failed run keeps its own code.
/// A run stopped by the lock sends nothing (the run holding it reports).
async fn notify_after_run(
    config: &Config,
    command: &str,
    result: Result<(), CliError>,
    log: &mut RunLog,
) -> Result<(), CliError> {
    let Some(notify) = &config.file().notify else {
        return result;
    };
    let exit = result.as_ref().err().map_or(Exit::Success, CliError::exit);
    let wanted = match notify.when {
        teamsync::config::NotifyWhen::Always => true,
        teamsync::config::NotifyWhen::Failure => exit != Exit::Success,
    };
    if !wanted || exit == Exit::LockHeld {
        return result;
    }
    let status = match &result {
        Ok(()) => "succeeded".to_owned(),
        Err(_) => format!("FAILED (exit {}: {})", exit.code(), exit.meaning()),
    };
    let subject = format!("teamsync {command} {status}");
    let mut body = format!("teamsync {command} {status}.\n");
    if let Err(e) = &result {
        body.push_str(&format!("Error: {e}\n"));
    }
    body.push_str("\nRun log:\n");
    for line in log.lines() {
        body.push_str(line);
        body.push('\n');
    }
    match notify::send(config, notify, &subject, &body).await {
        Ok(()) => {
            log.event(
                "notified",
                &format!("mailed {}", notify.to.join(", ")),
                json!({}),
            );
            result
        }
        Err(e) => {
            eprintln!("teamsync: notification failed: {e}");
            log.event("warning", &format!("notification failed: {e}"), json!({}));
            result.and(Err(CliError::Notify(e)))
        }
    }
}

/// Prints the error (if any), logs the exit code as the last line, returns it.
fn finish(result: Result<(), CliError>, log: &mut RunLog) -> Exit {
    let exit = match &result {
        Ok(()) => Exit::Success,
        Err(e) => fail(e, Some(log)),
    };
    history::end(log, exit, result.as_ref().err().map(ToString::to_string));
    log.event(
        "end",
        &format!("exit code {} ({})", exit.code(), exit.meaning()),
        json!({"exit_code": exit.code()}),
    );
    exit
}

fn fail(error: &CliError, log: Option<&mut RunLog>) -> Exit {
    let exit = error.exit();
    eprintln!("teamsync: error: {error}");
    if let Some(log) = log {
        log.event(
            "error",
            &error.to_string(),
            json!({"exit_code": exit.code()}),
        );
    }
    exit
}

async fn check(config: &Config, test_mail: bool, log: &mut RunLog) -> Result<(), CliError> {
    if test_mail {
        let notify = config.file().notify.as_ref().ok_or_else(|| {
            CliError::from(config.invalid("notify", "`check --notify` needs a [notify] section"))
        })?;
        let body = "This is a test mail from `teamsync check --notify`: notifications reach you.\n";
        notify::send(config, notify, "teamsync test notification", body)
            .await
            .map_err(CliError::Notify)?;
        let line = format!(
            "Notification: OK, test mail sent to {}",
            notify.to.join(", ")
        );
        println!("{line}");
        log.event("check", &line, json!({}));
    }
    let (runner, events) = app::runner(config.clone())?;
    // Who the bind made us: with Kerberos or a certificate, not obvious from the config.
    if let Some(me) = runner.ldap_identity().await? {
        let line = format!("Directory: bound as {me}");
        println!("{line}");
        log.event(
            "check",
            &line,
            json!({"bind": me.mechanism, "client": me.client, "server": me.server}),
        );
    }
    // An Entra app's permissions, all of them: a read stops at the first one refused.
    if let Some(access) = runner.entra_access().await? {
        if let Some(roles) = &access.roles {
            let line = format!(
                "Directory: the Entra app's token carries {}",
                if roles.is_empty() {
                    "no application permissions".to_owned()
                } else {
                    roles
                        .iter()
                        .map(|r| teamsync_core::text::escape_for_display(r))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            println!("{line}");
            log.event("check", &line, json!({"roles": roles}));
        }
        if !access.missing.is_empty() {
            let list = access.missing.join(", ");
            let line = format!(
                "Directory: the Entra app lacks {} application permission{} a read needs: {list}; grant {} in Entra (App registrations → API permissions → Microsoft Graph → Application permissions), grant admin consent, and run check again",
                access.missing.len(),
                if access.missing.len() == 1 { "" } else { "s" },
                if access.missing.len() == 1 {
                    "it"
                } else {
                    "them"
                },
            );
            println!("{line}");
            log.event(
                "check",
                &line,
                json!({"missing_permissions": access.missing}),
            );
            return Err(RunError::Directory(teamsync_core::DirectoryError::new(
                teamsync_core::DirectoryErrorKind::Bind,
                format!("the Entra app lacks the application permissions {list}"),
            ))
            .into());
        }
    }
    let desired = runner.read_directory(Vec::new()).await;
    events.log(log);
    let desired = desired?;
    // Scope is the planner's rule; an empty team gives exactly the directory's side of it.
    let stats = teamsync_core::plan(&desired, &Default::default(), runner.policy());
    let (in_scope, skipped) = match stats {
        Ok(plan) => (
            plan.stats.users_in_scope,
            teamsync::report::skipped_users(&desired, &plan),
        ),
        Err(teamsync_core::PlanError::NoUsersInScope { .. }) => (0, Default::default()),
        Err(e) => return Err(CliError::Internal(e.to_string())),
    };
    let line = format!(
        "Directory: OK, {} users in scope ({} users and {} groups read); {}",
        in_scope,
        desired.users.len(),
        desired.groups.len(),
        skipped.sentence()
    );
    println!("{line}");
    log.event(
        "check",
        &line,
        json!({"users_in_scope": in_scope, "skipped_no_email": skipped.no_email,
               "skipped_invalid_email": skipped.invalid_email, "skipped_shared_email": skipped.shared_email}),
    );
    let info = runner.team_info().await;
    events.log(log);
    let info = info?;
    let line = format!(
        "Dropbox: OK, team \"{}\" ({} of {} licences used)",
        teamsync_core::text::escape_for_display(&info.name),
        info.provisioned,
        info.licensed
    );
    println!("{line}");
    log.event("check", &line, json!({"team": info.name}));
    // Dropbox has no call that lists a token's scopes.
    let line = "Dropbox write scopes: cannot be known before a write (Dropbox has no call that lists a token's scopes); \
                a write the token lacks a scope for fails naming it (e.g. members.write), and the other writes go on";
    println!("{line}");
    log.event("check", line, json!({}));
    if in_scope == 0 {
        return Err(RunError::NoUsers(teamsync_core::PlanError::NoUsersInScope {
            roots: desired.user_roots.len(),
        })
        .into());
    }
    Ok(())
}

async fn plan(
    config: &Config,
    as_json: bool,
    out: Option<&Path>,
    report: Option<&Path>,
    only: &[String],
    log: &mut RunLog,
) -> Result<(), CliError> {
    let (runner, events) = app::runner(config.clone())?;
    let planned = runner.plan().await;
    events.log(log);
    let planned = planned?;
    let mut plan = restrict(planned.plan, only, &planned.sides)?;
    app::log_plan(&plan, log);
    if as_json {
        println!("{}", plan.to_json());
    } else {
        print!("{}", plan.render());
    }
    if let Some(out) = out {
        // Bound to this team and this moment: `apply --plan` checks both.
        runner.stamp_only(&mut plan, &planned.team, unix_now(), only);
        app::write_output(out, &plan.to_json())?;
        eprintln!("teamsync: plan saved to {}", out.display());
        log.event(
            "saved",
            &format!("plan saved to {}", out.display()),
            json!({}),
        );
    }
    if let Some(report) = report {
        let context = teamsync::report::ReportContext::new()
            .with_detail("Config", config.path().display().to_string())
            .with_detail("Planned", log::rfc3339(std::time::SystemTime::now()))
            .with_detail("teamsync", env!("CARGO_PKG_VERSION"));
        app::write_output(report, &teamsync::report::plan_html(&plan, &context))?;
        eprintln!("teamsync: plan report written to {}", report.display());
        log.event(
            "saved",
            &format!("plan report written to {}", report.display()),
            json!({}),
        );
    }
    Ok(())
}

/// The plan restricted to the people `--only` names (the whole plan when it names nobody).
fn restrict(plan: Plan, only: &[String], sides: &teamsync::Sides) -> Result<Plan, CliError> {
    if only.is_empty() {
        return Ok(plan);
    }
    let people: Vec<&str> = only.iter().map(String::as_str).collect();
    Ok(plan.only(&people, &sides.desired, &sides.actual)?)
}

async fn apply(
    config: &Config,
    saved: Option<(&Path, &teamsync::SavedPlanOptions)>,
    only: &[String],
    permission: teamsync_core::Permission,
    log: &mut RunLog,
) -> Result<(), CliError> {
    let (runner, events) = app::runner(config.clone())?;
    let plan = match saved {
        Some((path, options)) => {
            let plan = runner.saved_plan(path, options, unix_now()).await;
            events.log(log);
            let plan = plan?;
            log.event(
                "plan",
                &format!(
                    "applying saved plan {} ({} operations)",
                    path.display(),
                    plan.operations.len()
                ),
                json!({}),
            );
            plan
        }
        None => {
            let planned = runner.plan().await;
            events.log(log);
            let planned = planned?;
            restrict(planned.plan, only, &planned.sides)?
        }
    };
    print!("{}", plan.render());
    app::log_plan(&plan, log);
    if plan.is_empty() {
        return Ok(());
    }
    let outcome = app::apply_plan(&plan, runner.team(), permission, log).await?;
    print!("{}", app::outcome_summary(&plan, &outcome));
    app::outcome_result(&outcome)
}
