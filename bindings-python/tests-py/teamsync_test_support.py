"""Builders for the binding's tests: plain dicts shaped like the core's model.

A literal port of `sync-core/tests/common/mod.rs`; `ops()` prints a plan exactly as
`sync-core/tests/golden_cases.rs` does, for the shared case files. (Uniquely named, so that no
two `*/tests-py` folders' helpers collide.)
"""

from __future__ import annotations

from typing import Any

import teamsync

Active = {"state": "active"}
Invited = {"state": "invited"}
Suspended = {"state": "suspended"}
REMOVED_RECOVERABLE = {"state": "removed", "recoverable": True}
REMOVED_FOR_GOOD = {"state": "removed", "recoverable": False}


def user(id: str, email: str, given: str, surname: str) -> dict[str, Any]:
    return {"id": id, "email": email, "given_name": given, "surname": surname, "enabled": True}


def disabled(u: dict[str, Any]) -> dict[str, Any]:
    return {**u, "enabled": False}


def group(id: str, name: str, members: list[str]) -> dict[str, Any]:
    return {"id": id, "name": name, "members": list(members)}


def directory(users: list[dict[str, Any]], groups: list[dict[str, Any]], root_members: list[str]) -> dict[str, Any]:
    """A directory whose single user root is group "root"."""
    return {"user_roots": ["root"], "users": users, "groups": [*groups, group("root", "Dropbox Users", root_members)]}


def member(tmid: str, email: str, external_id: str | None, given: str, surname: str, status: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {
        "team_member_id": tmid,
        "email": email,
        "given_name": given,
        "surname": surname,
        "status": status,
        "is_admin": False,
    }
    if external_id is not None:
        m["external_id"] = external_id
    return m


def managed(tmid: str, id: str, email: str, given: str, surname: str, status: dict[str, Any]) -> dict[str, Any]:
    return member(tmid, email, f"teamsync:{id}", given, surname, status)


def team(members: list[dict[str, Any]], groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {"members": members, "groups": groups}


def team_group(gid: str, name: str, external_id: str | None, members: list[str]) -> dict[str, Any]:
    g: dict[str, Any] = {"group_id": gid, "name": name, "management_type": "company_managed", "members": list(members)}
    if external_id is not None:
        g["external_id"] = external_id
    return g


def plan_ok(d: dict[str, Any], a: dict[str, Any], p: teamsync.Policy | None = None) -> teamsync.Plan:
    return teamsync.plan(teamsync.DesiredState.from_dict(d), teamsync.ActualState.from_dict(a), p or teamsync.Policy())


def _change_text(c: dict[str, Any]) -> str:
    parts = []
    if "email" in c:
        parts.append(f"email={c['email']}")
    if "given_name" in c:
        parts.append(f"given={c['given_name']}")
    if "surname" in c:
        parts.append(f"surname={c['surname']}")
    if "external_id" in c:
        parts.append(f"external_id={c['external_id']}")
    return " ".join(parts)


_REMOVE_MODE = {"plain": "Plain", "transfer": "Transfer", "keep_account": "KeepAccount"}


def ops(plan: teamsync.Plan) -> list[str]:
    """One line per operation: "verb target [details]", exactly as the Rust golden tests print."""
    lines = []
    for op in plan:
        d = op.details
        if op.kind == "invite":
            m = d["member"]
            detail = f" ({m['external_id']} {m['given_name']} {m['surname']})"
        elif op.kind in ("update_profile", "adopt_member"):
            detail = f" {_change_text(d['change'])}"
        elif op.kind == "suspend":
            detail = f" wipe={'true' if d['wipe_data'] else 'false'}"
        elif op.kind == "remove":
            options = d["options"]
            detail = f" wipe={'true' if options['wipe_data'] else 'false'} {_REMOVE_MODE[options['mode']['mode']]}"
        elif op.kind == "rename_group":
            detail = f" -> {d['name']}"
        else:
            detail = ""
        lines.append(f"{op.verb} {op.target}{detail}")
    return lines


def warning_kinds(plan: teamsync.Plan) -> list[str]:
    return [w["kind"] for w in plan.warnings]


def big_team(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    users = [user(f"u{i}", f"u{i}@x.com", "U", f"{i}") for i in range(n)]
    members = [managed(f"dbmid:{i}", f"u{i}", f"u{i}@x.com", "U", f"{i}", Active) for i in range(n)]
    return directory(users, [], [u["id"] for u in users]), team(members, [])
