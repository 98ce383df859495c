"""``teamsync.sync``: one run (read both sides, plan, optionally apply) from a config.

The configuration is a dict, or the path of a JSON or TOML file holding the same shape::

    {
        "directory": {"ldap": {"url": "ldaps://...", "base_dn": "...", "user_root_dns": [...],
                               "bind_dn": "...", "bind_password_env": "LDAP_PASSWORD"}},
        #   or {"state": {...DesiredState dict...}}, or a DesiredState / LdapDirectory object
        "team": {"dropbox": {"token_env": "DROPBOX_TOKEN"}},
        #   or a DropboxTeam / MemoryTeam object
        "policy": {"on_leave": "remove"},
        "apply": {"allow_deprovision": 30, "force": false},
    }

Any key ending in ``_env`` names an environment variable holding the value of the key without
the suffix (``token_env`` -> ``token``), so that secrets stay out of config files.

This is deliberately a small format of its own: the command line's TOML configuration is
defined by ``sync-cli``.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Union

from teamsync._native import (
    ActualState,
    ConfigError,
    DesiredState,
    DropboxTeam,
    LdapDirectory,
    MemoryTeam,
    Outcome,
    Plan,
    Policy,
    apply,
    plan,
)

Config = Union[Mapping[str, Any], str, "os.PathLike[str]"]

_SECTIONS = {"directory", "team", "policy", "apply"}


@dataclass(frozen=True)
class SyncResult:
    """What ``sync`` did: the plan, and the outcome when it applied (``None`` on a dry run)."""

    plan: Plan
    outcome: Outcome | None

    @property
    def applied(self) -> bool:
        return self.outcome is not None


def _load(config: Config) -> Mapping[str, Any]:
    if isinstance(config, Mapping):
        return config
    path = Path(config)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"reading {path}: {e}") from e
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        loaded = json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the configuration must be an object")
    return loaded


def _resolve_env(section: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for key, value in settings.items():
        if key.endswith("_env"):
            name = key[: -len("_env")]
            if value not in os.environ:
                raise ConfigError(f"{section}.{key}: environment variable {value!r} is not set")
            resolved[name] = os.environ[value]
        else:
            resolved[key] = value
    return resolved


def _one_kind(section: str, value: Mapping[str, Any], kinds: tuple[str, ...]) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in kinds:
        raise ConfigError(f"{section} must be an object with exactly one of: {', '.join(kinds)}")
    kind, settings = next(iter(value.items()))
    if not isinstance(settings, Mapping):
        raise ConfigError(f"{section}.{kind} must be an object")
    return kind, settings


def _desired(value: Any) -> DesiredState:
    if isinstance(value, DesiredState):
        return value
    if isinstance(value, LdapDirectory):
        return value.snapshot()
    kind, settings = _one_kind("directory", value, ("ldap", "state"))
    if kind == "state":
        return DesiredState.from_dict(settings)
    try:
        return LdapDirectory(**_resolve_env("directory.ldap", settings)).snapshot()
    except TypeError as e:
        raise ConfigError(f"directory.ldap: {e}") from e


def _team(value: Any) -> DropboxTeam | MemoryTeam:
    if isinstance(value, (DropboxTeam, MemoryTeam)):
        return value
    kind, settings = _one_kind("team", value, ("dropbox",))
    try:
        return DropboxTeam(**_resolve_env("team.dropbox", settings))
    except TypeError as e:
        raise ConfigError(f"team.dropbox: {e}") from e


def sync(config: Config, dry_run: bool = True) -> SyncResult:
    """Reads the directory and the team, plans, and applies unless ``dry_run``.

    Raises ``ConfigError`` for an unusable configuration, ``DirectoryError`` / ``TeamError``
    when a side cannot be read, ``PlanError`` when the planner refuses, and
    ``GuardRefusedError`` when the plan exceeds the deprovision limits without permission in
    the ``apply`` section.
    """
    settings = _load(config)
    unknown = set(settings) - _SECTIONS
    if unknown:
        raise ConfigError(f"unknown configuration section(s): {', '.join(sorted(unknown))}")
    for required in ("directory", "team"):
        if required not in settings:
            raise ConfigError(f"the configuration has no {required!r} section")
    policy = Policy.from_dict(settings.get("policy", {}))
    apply_settings = dict(settings.get("apply", {}))
    allow_deprovision = apply_settings.pop("allow_deprovision", None)
    force = bool(apply_settings.pop("force", False))
    if apply_settings:
        raise ConfigError(f"unknown apply setting(s): {', '.join(sorted(apply_settings))}")

    team = _team(settings["team"])
    desired = _desired(settings["directory"])
    actual: ActualState = team.snapshot()
    the_plan = plan(desired, actual, policy)
    if dry_run:
        return SyncResult(plan=the_plan, outcome=None)
    outcome = apply(the_plan, team, allow_deprovision=allow_deprovision, force=force)
    return SyncResult(plan=the_plan, outcome=outcome)
