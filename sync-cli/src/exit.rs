//! The run's exit codes: one per failure stage, stable, documented in `--help` and README.

/// How a run ended. The numbers are part of the interface: schedulers and monitoring match on
/// them, so they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done (a plan shown, a plan applied in full, a check passed).
    Success,
    /// A fault of teamsync itself (a bug, an I/O error writing the plan file).
    Internal,
    /// The command line could not be parsed (clap's own code).
    Usage,
    /// The config file is missing, unreadable or invalid, or a secret could not be read.
    ConfigInvalid,
    /// The directory could not be reached, TLS failed, or the bind was refused.
    DirectoryConnect,
    /// The directory read did not complete (limits, dropped connection, a root group that does
    /// not exist, an unreadable source file).
    DirectoryRead,
    /// No users are in scope: nothing was planned, so that a broken read never deprovisions
    /// everyone.
    NoUsersInScope,
    /// Dropbox refused the credentials (invalid, expired beyond refresh, missing scope).
    TeamAuth,
    /// The team could not be read (network, TLS, server errors).
    TeamRead,
    /// The plan suspends or removes more than the deprovision limits allow and no permission
    /// (`--allow-deprovision N`, `--force`) was given.
    GuardRefused,
    /// A saved plan (`apply --plan`) no longer matches the team: it changed since planning.
    PlanStale,
    /// The apply ran, but some operations failed or were skipped.
    ApplyFailures,
    /// Another teamsync run holds the lock.
    LockHeld,
    /// A notification mail could not be sent (`check --notify`, or a run's own report).
    NotifyFailed,
    /// A saved plan (`apply --plan`) was not applied: the file is unreadable or malformed, made
    /// for another team, too old, acts on members or groups teamsync does not own, or holds
    /// operations the planner would not produce now.
    PlanRefused,
}

impl Exit {
    /// Every code, in order, for the table in `--help` and the README.
    pub const ALL: [Exit; 15] = [
        Exit::Success,
        Exit::Internal,
        Exit::Usage,
        Exit::ConfigInvalid,
        Exit::DirectoryConnect,
        Exit::DirectoryRead,
        Exit::NoUsersInScope,
        Exit::TeamAuth,
        Exit::TeamRead,
        Exit::GuardRefused,
        Exit::PlanStale,
        Exit::ApplyFailures,
        Exit::LockHeld,
        Exit::NotifyFailed,
        Exit::PlanRefused,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Internal => 1,
            Exit::Usage => 2,
            Exit::ConfigInvalid => 3,
            Exit::DirectoryConnect => 4,
            Exit::DirectoryRead => 5,
            Exit::NoUsersInScope => 6,
            Exit::TeamAuth => 7,
            Exit::TeamRead => 8,
            Exit::GuardRefused => 9,
            Exit::PlanStale => 10,
            Exit::ApplyFailures => 11,
            Exit::LockHeld => 12,
            Exit::NotifyFailed => 13,
            Exit::PlanRefused => 14,
        }
    }

    /// One line for people.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Internal => "internal error (a bug, or an I/O error writing an output file)",
            Exit::Usage => "command line not understood",
            Exit::ConfigInvalid => "config file invalid or a secret unreadable",
            Exit::DirectoryConnect => "directory connection, TLS or bind failed",
            Exit::DirectoryRead => {
                "directory read incomplete, root group missing, or source file unreadable"
            }
            Exit::NoUsersInScope => "no users in scope: nothing planned",
            Exit::TeamAuth => "Dropbox refused the credentials",
            Exit::TeamRead => "the Dropbox team could not be read",
            Exit::GuardRefused => {
                "guard refused: too many suspensions/removals (see --allow-deprovision, --force)"
            }
            Exit::PlanStale => "saved plan is stale: the team changed since it was made",
            Exit::ApplyFailures => "apply finished with failed or skipped operations",
            Exit::LockHeld => "another teamsync run holds the lock",
            Exit::NotifyFailed => "a notification mail could not be sent",
            Exit::PlanRefused => {
                "saved plan refused: unreadable, another team's, too old, or not what the planner produces now"
            }
        }
    }

    /// The table as plain text, for `--help`.
    pub fn table() -> String {
        let mut out = String::from("Exit codes:\n");
        for exit in Exit::ALL {
            out.push_str(&format!("  {:>3}  {}\n", exit.code(), exit.meaning()));
        }
        out
    }

    /// The table as Markdown, for the README (a test keeps README in step).
    #[cfg(test)]
    pub fn markdown_table() -> String {
        let mut out = String::from("| code | meaning |\n|---:|---|\n");
        for exit in Exit::ALL {
            out.push_str(&format!("| {} | {} |\n", exit.code(), exit.meaning()));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        let expected: Vec<u8> = (0..Exit::ALL.len() as u8).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn readme_holds_the_table() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&Exit::markdown_table()),
            "sync-cli/README.md must contain:\n{}",
            Exit::markdown_table()
        );
    }
}
