"""Type stubs of the native module `teamsync._native` (Rust, PyO3). Import from `teamsync`."""

from collections.abc import Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypedDict, final

from typing_extensions import disjoint_base

__version__: str
__all__ = [
    "ActualState",
    "Config",
    "ConfigError",
    "DesiredState",
    "DirectoryError",
    "DropboxTeam",
    "Emulator",
    "EmulatorError",
    "EntraDirectory",
    "GraphEmulator",
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

# ---- exceptions ----

class TeamsyncError(Exception):
    """Base class of every error teamsync raises."""

class ConfigError(TeamsyncError):
    """Unusable settings: unknown or invalid Policy knob, bad URL, CA file, credentials."""

class InvalidDataError(TeamsyncError):
    """A dict or JSON document does not have the shape of a teamsync value."""

class DirectoryError(TeamsyncError):
    """Reading the directory failed."""

    kind: Literal["connect", "bind", "incomplete", "root_not_found", "other"]

class TeamError(TeamsyncError):
    """The team refused or failed a call."""

    kind: Literal["transient", "rate_limited", "auth", "conflict", "not_found", "permanent"]
    code: str | None

class TeamAuthError(TeamError):
    """Credentials missing, invalid, expired beyond refresh, or lacking a scope."""

class RateLimitedError(TeamError):
    """The team asked to slow down."""

    retry_after_ms: int | None

class PlanError(TeamsyncError):
    """The planner refused to plan (invalid policy, no users in scope, an `only` name nobody has)."""

class GuardRefusedError(TeamsyncError):
    """apply() refused a plan over the deprovision limits without permission."""

class EmulatorError(TeamsyncError):
    """An emulator (Dropbox or Graph) could not start, refused a seed, or is closed."""

# ---- states and policy ----

@final
class DesiredState:
    """What the directory says: users, groups, roots, deletions, unreadable entries."""

    def __init__(self) -> None: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> DesiredState: ...
    @staticmethod
    def from_json(json: str) -> DesiredState: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @property
    def user_count(self) -> int: ...
    @property
    def group_count(self) -> int: ...

@final
class ActualState:
    """What the team is: members (removed ones included) and groups."""

    def __init__(self) -> None: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ActualState: ...
    @staticmethod
    def from_json(json: str) -> ActualState: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @property
    def member_count(self) -> int: ...
    @property
    def group_count(self) -> int: ...

_LeaveAction = Literal["suspend", "remove"]
_GroupLeave = Literal["empty", "delete", "keep"]

@final
class Policy:
    """The sync rules; knobs not given keep the Rust defaults. Unknown knobs raise ConfigError."""

    def __new__(
        cls,
        *,
        external_id_prefix: str = ...,
        manage_existing_users: bool = ...,
        adopt_foreign: bool = ...,
        adopt_existing_groups: bool = ...,
        group_sync: Literal["off", "user_roots", "group_roots"] = ...,
        strict_group_scope: bool = ...,
        on_leave: _LeaveAction = ...,
        on_delete: _LeaveAction = ...,
        on_invited_deprovision: Literal["remove_invitation", "leave"] = ...,
        wipe_data: bool = ...,
        transfer: Mapping[str, Any] = ...,
        deprovision_admins: bool = ...,
        on_group_leave: _GroupLeave = ...,
        max_deprovision: Mapping[str, Any] = ...,
        max_group_member_removals: Mapping[str, Any] = ...,
        send_welcome_email: bool = ...,
        rules: Mapping[str, Any] = ...,
    ) -> Self: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Policy: ...
    @staticmethod
    def knobs() -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    # Knobs read as attributes (read-only). `rules` is the rules as written ({} for none).
    @property
    def external_id_prefix(self) -> str: ...
    @property
    def manage_existing_users(self) -> bool: ...
    @property
    def adopt_foreign(self) -> bool: ...
    @property
    def adopt_existing_groups(self) -> bool: ...
    @property
    def group_sync(self) -> str: ...
    @property
    def strict_group_scope(self) -> bool: ...
    @property
    def on_leave(self) -> str: ...
    @property
    def on_delete(self) -> str: ...
    @property
    def on_invited_deprovision(self) -> str: ...
    @property
    def wipe_data(self) -> bool: ...
    @property
    def transfer(self) -> dict[str, Any]: ...
    @property
    def deprovision_admins(self) -> bool: ...
    @property
    def on_group_leave(self) -> str: ...
    @property
    def max_deprovision(self) -> dict[str, Any]: ...
    @property
    def max_group_member_removals(self) -> dict[str, Any]: ...
    @property
    def send_welcome_email(self) -> bool: ...
    @property
    def rules(self) -> dict[str, Any]: ...

# ---- plans ----

@final
class Operation:
    """One step of a plan. Immutable."""

    @property
    def index(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def verb(self) -> str: ...
    @property
    def sign(self) -> str: ...
    @property
    def is_deprovision(self) -> bool: ...
    @property
    def target(self) -> str: ...
    @property
    def before(self) -> dict[str, Any]: ...
    @property
    def after(self) -> dict[str, Any]: ...
    @property
    def reason(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Plan:
    """What a run would do: operations in apply order, warnings, guard and stats."""

    @staticmethod
    def from_json(json: str) -> Plan: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def render(self) -> str: ...
    def to_html(self, title: str | None = None) -> str:
        """One self-contained HTML page for review (as `teamsync plan --report` writes)."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Operation]: ...
    def __getitem__(self, key: int, /) -> Operation: ...
    @property
    def operations(self) -> list[Operation]: ...
    @property
    def warnings(self) -> list[dict[str, str]]: ...
    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def guard(self) -> dict[str, int]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def needs_permission(self) -> bool: ...
    @property
    def is_empty(self) -> bool: ...
    def stale_operations(self, actual: ActualState) -> list[dict[str, Any]]: ...
    def only(self, people: Sequence[str], desired: DesiredState, actual: ActualState) -> Plan:
        """The plan restricted to `people` (emails or directory ids), as `teamsync plan --only`
        restricts it; `desired`/`actual` are what it was made from. Raises PlanError for a name
        nobody has."""

@final
class Outcome:
    """What a run did."""

    @property
    def done(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def is_success(self) -> bool: ...
    @property
    def failures(self) -> list[dict[str, Any]]: ...
    @property
    def results(self) -> list[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

def plan(desired: DesiredState, actual: ActualState, policy: Policy | None = None) -> Plan:
    """Plans `desired` against `actual` (GIL released). Raises PlanError."""

# ---- the two sides ----

_StoreCall = Literal[
    "snapshot", "invite", "set_profile", "suspend", "unsuspend", "remove", "recover",
    "create_group", "update_group", "delete_group", "add_group_members", "remove_group_members",
]

@final
class MemoryTeam:
    """A Dropbox team in memory that follows Dropbox's rules."""

    def __new__(cls, state: ActualState | Mapping[str, Any] | None = None) -> Self: ...
    def snapshot(self) -> ActualState: ...
    def replace_state(self, state: ActualState | Mapping[str, Any]) -> None: ...
    def set_license_limit(self, limit: int | None) -> None: ...
    def inject_fault(
        self,
        call: _StoreCall,
        subject: str = "",
        times: int = 1,
        kind: Literal["transient", "rate_limited", "auth", "conflict", "not_found", "permanent"] = "permanent",
        code: str | None = None,
        message: str = "injected fault",
    ) -> None: ...
    def calls(self) -> dict[str, int]: ...

@final
class DropboxTeam:
    """A Dropbox team over HTTP: `token=`, or `refresh_token=` + `app_key=` (+ `app_secret=`)."""

    def __new__(
        cls,
        base_url: str = "https://api.dropboxapi.com",
        token: str | None = None,
        refresh_token: str | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
        ca_file: str | PathLike[str] | None = None,
        proxy: str | None = None,
        timeout: float | None = None,
    ) -> Self: ...
    def snapshot(self) -> ActualState: ...
    def team_name(self) -> str: ...

@final
class LdapDirectory:
    """An LDAP or Active Directory server. Raises ConfigError for unusable settings."""

    def __new__(
        cls,
        url: str,
        base_dn: str,
        *,
        profile: Literal["active_directory", "ad", "openldap", "freeipa", "389ds", "generic"] | str = "openldap",
        bind: Literal["simple", "gssapi", "external", "anonymous"] | None = None,
        bind_dn: str | None = None,
        bind_password: str | None = None,
        kerberos_fqdn: str | None = None,
        client_cert_file: str | PathLike[str] | None = None,
        client_key_file: str | PathLike[str] | None = None,
        ca_file: str | PathLike[str] | None = None,
        starttls: bool = False,
        no_tls_verify: bool = False,
        allow_plaintext_bind: bool = False,
        user_root_dns: Sequence[str] = ...,
        group_root_dns: Sequence[str] = ...,
        user_base_dn: str | None = None,
        group_base_dn: str | None = None,
        extra_user_filter: str | None = None,
        known_ids: Sequence[str] = ...,
        page_size: int | None = None,
        connect_timeout: float | None = None,
        operation_timeout: float | None = None,
    ) -> Self: ...
    def snapshot(self) -> DesiredState: ...

class _EntraAccess(TypedDict):
    roles: list[str] | None
    missing: list[str]

class _EntraEmail(TypedDict, total=False):
    fallback_to_upn: bool
    allow_external_upn: bool
    allow_onmicrosoft_upn: bool

@final
class EntraDirectory:
    """Microsoft Entra ID through Graph: the config's `[directory] kind = "entra"`. Exactly one of
    `client_secret`, `certificate` (PEM text) or `certificate_file`. Raises ConfigError."""

    def __new__(
        cls,
        tenant_id: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        certificate: str | None = None,
        certificate_file: str | PathLike[str] | None = None,
        root_groups: Sequence[str] = ...,
        app_id: str | None = None,
        id: Literal["object_id", "on_premises_immutable_id"] = "object_id",
        email: _EntraEmail | None = None,
        include_guests: bool = False,
        cloud: Literal["global", "us_gov", "us_gov_dod", "china"] = "global",
        authority_url: str | None = None,
        graph_url: str | None = None,
        ca_file: str | PathLike[str] | None = None,
        known_ids: Sequence[str] = ...,
        low_throttle_priority: bool = True,
        request_timeout: float | None = None,
        max_attempts: int | None = None,
    ) -> Self: ...
    def snapshot(self) -> DesiredState:
        """Reads users and groups in scope (GIL released). Raises DirectoryError."""
    def check(self) -> _EntraAccess:
        """What the app may read (as `teamsync check` says): its roles and the missing permissions."""
    def requests_sent(self) -> int: ...

def apply(
    plan: Plan,
    team: MemoryTeam | DropboxTeam,
    allow_deprovision: int | None = None,
    force: bool = False,
    max_retries: int | None = None,
    concurrency: int | None = None,
) -> Outcome:
    """Applies `plan` (GIL released). Raises GuardRefusedError; single failures go in the Outcome."""

# ---- the command's config and run ----

@final
class Config:
    """A loaded and checked config: the TOML file the `teamsync` command reads."""

    @staticmethod
    def load(path: str | PathLike[str]) -> Config:
        """Reads and checks a config file exactly as the command does; raises ConfigError."""
    @staticmethod
    def from_dict(data: Mapping[str, Any], base_dir: str | PathLike[str] | None = None) -> Config:
        """The same shape as a dict; relative paths are relative to `base_dir` (default: cwd)."""
    @staticmethod
    def from_toml(text: str, path: str | PathLike[str] | None = None) -> Config:
        """Config text; `path` names it in errors and anchors relative paths."""
    @property
    def path(self) -> Path: ...
    @property
    def directory_kind(self) -> str: ...
    @property
    def warnings(self) -> list[str]: ...

@final
class SyncResult:
    """What `sync` did: the plan, and the outcome when it applied (None on a dry run)."""

    @property
    def plan(self) -> Plan: ...
    @property
    def desired(self) -> DesiredState: ...
    @property
    def actual(self) -> ActualState: ...
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def applied(self) -> bool: ...

def sync(
    config: Config | str | PathLike[str] | Mapping[str, Any],
    dry_run: bool = True,
    allow_deprovision: int | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
) -> SyncResult:
    """One run from the command's config (GIL released): read the team, then the directory with
    the team's managed ids, plan, restrict to `only` (emails or directory ids, as the command's
    `--only`), and apply unless `dry_run`. Raises ConfigError, DirectoryError,
    TeamError / TeamAuthError, PlanError, GuardRefusedError. Recorded in the run history when
    the config names a `history_dir`."""

def history(
    config: Config | str | PathLike[str] | Mapping[str, Any],
    user: str | None = None,
) -> list[dict[str, Any]]:
    """The run history (the config's `history_dir`, else beside its log: where the `teamsync`
    command writes it), oldest first: one dict per run record, with its `file`. With `user` (an
    email or a directory id): the runs that concern that person, each with only their
    operations and warnings. Unreadable files are skipped with a UserWarning naming them."""

# ---- testing ----

@disjoint_base
class Emulator:
    """The in-process Dropbox emulator (see `teamsync.testing.Emulator`)."""

    def __new__(
        cls,
        *,
        team_name: str | None = None,
        license_limit: int | None = None,
        tls: bool = False,
        seed: int | None = None,
        access_token_ttl: float | None = None,
        added_members_active: bool = False,
        job_polls_in_progress: int | None = None,
        async_add_threshold: int | None = None,
        faults: Mapping[str, Any] | None = None,
    ) -> Self: ...
    @property
    def base_url(self) -> str: ...
    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> str: ...
    @property
    def app_key(self) -> str: ...
    @property
    def app_secret(self) -> str: ...
    @property
    def ca_pem(self) -> str | None: ...
    def token_with_scopes(self, scopes: Sequence[str]) -> str: ...
    def call_counts(self) -> dict[str, int]: ...
    def reset_call_counts(self) -> None: ...
    def state(self) -> dict[str, Any]: ...
    def seed(self, seed: Mapping[str, Any], strict: bool = True) -> None: ...
    def set_faults(self, faults: Mapping[str, Any]) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...

@disjoint_base
class GraphEmulator:
    """The in-process Microsoft Graph / Entra token endpoint emulator (see
    `teamsync.testing.GraphEmulator`)."""

    def __new__(
        cls,
        *,
        tls: bool = False,
        seed: int | None = None,
        access_token_ttl: float | None = None,
        max_page_size: int | None = None,
        faults: Mapping[str, Any] | None = None,
    ) -> Self: ...
    @property
    def base_url(self) -> str: ...
    @property
    def ca_pem(self) -> str | None: ...
    def seed(self, seed: Mapping[str, Any]) -> None: ...
    def call_counts(self) -> dict[str, int]: ...
    def reset_call_counts(self) -> None: ...
    def tokens_issued(self) -> int: ...
    def set_faults(self, faults: Mapping[str, Any]) -> None: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...
