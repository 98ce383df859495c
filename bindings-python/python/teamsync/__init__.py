"""teamsync: mirror a corporate directory into a Dropbox team.

Plan from plain Python data or a live directory, review the plan, apply it::

    import teamsync

    desired = teamsync.DesiredState.from_dict({...})   # or teamsync.LdapDirectory(...).snapshot(),
                                                       # or teamsync.EntraDirectory(...).snapshot()
    team = teamsync.DropboxTeam(token="...")
    plan = teamsync.plan(desired, team.snapshot(), teamsync.Policy(on_leave="remove"))
    print(plan.render())
    outcome = teamsync.apply(plan, team)

Or run the `teamsync` command's own config (the same TOML file, or the same shape as a dict)
through the same library run as `teamsync plan` / `teamsync apply`::

    result = teamsync.sync("/etc/teamsync/teamsync.toml", dry_run=True)
    print(result.plan.to_json())
    teamsync.sync("/etc/teamsync/teamsync.toml", dry_run=False, only=["ann@example.org"])  # on demand

The heavy lifting is Rust (``teamsync._native``, private); blocking calls release the GIL.
"""

from teamsync._native import (
    ActualState,
    Config,
    ConfigError,
    DesiredState,
    DirectoryError,
    DropboxTeam,
    EmulatorError,
    EntraDirectory,
    GuardRefusedError,
    InvalidDataError,
    LdapDirectory,
    MemoryTeam,
    Operation,
    Outcome,
    Plan,
    PlanError,
    Policy,
    RateLimitedError,
    SyncResult,
    TeamAuthError,
    TeamError,
    TeamsyncError,
    __version__,
    apply,
    history,
    plan,
    sync,
)

__all__ = [
    "ActualState",
    "Config",
    "ConfigError",
    "DesiredState",
    "DirectoryError",
    "DropboxTeam",
    "EmulatorError",
    "EntraDirectory",
    "GuardRefusedError",
    "InvalidDataError",
    "LdapDirectory",
    "MemoryTeam",
    "Operation",
    "Outcome",
    "Plan",
    "PlanError",
    "Policy",
    "RateLimitedError",
    "SyncResult",
    "TeamAuthError",
    "TeamError",
    "TeamsyncError",
    "__version__",
    "apply",
    "history",
    "plan",
    "sync",
]
