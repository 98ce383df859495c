"""The plan API from Python: operations' fields, errors, the guard's figures, determinism, JSON
round trips, stale saved plans, and the plan as a sequence.

The golden cases themselves (which operations a directory and a team give) are not here: they
are files in `sync-core/tests/cases/`, read by the Rust tests and by
`test_teamsync_golden_cases.py`, one copy of each expected outcome."""

from __future__ import annotations

from typing import Any

import pytest

import teamsync
from teamsync import Policy
from teamsync_test_support import (
    Active,
    Invited,
    Suspended,
    big_team,
    directory,
    disabled,
    group,
    managed,
    member,
    plan_ok,
    team,
    user,
    warning_kinds,
)


def dir_with_ann(ann: dict[str, Any] | None, ann_in_root: bool) -> dict[str, Any]:
    users = [user("zed", "zed@x.com", "Zed", "Last")]
    root = ["zed"]
    if ann is not None:
        users.append(ann)
        if ann_in_root:
            root.append("ann")
    return directory(users, [], root)

def ann() -> dict[str, Any]:
    return user("ann", "ann@x.com", "Ann", "Lee")

def team_with_ann(status: dict[str, Any] | None) -> dict[str, Any]:
    members = [managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active)]
    if status is not None:
        members.append(managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", status))
    return team(members, [])

def zed() -> dict[str, Any]:
    return user("zed", "zed@x.com", "Zed", "Last")

def zed_member() -> dict[str, Any]:
    return managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active)

def with_groups() -> dict[str, Any]:
    return directory(
        [zed(), user("ann", "ann@x.com", "Ann", "Lee"), user("bob", "bob@x.com", "Bob", "B")],
        [group("sales", "Sales", ["ann", "emea"]), group("emea", "Sales EMEA", ["bob"])],
        ["zed", "sales"],
    )


def test_operations_carry_before_after_and_a_reason() -> None:
    p = plan_ok(dir_with_ann(disabled(ann()), True), team_with_ann(Active))
    op = p[0]
    assert op.phase == "deprovision"
    assert op.before["state"] == "member" and op.before["status"] == {"state": "active"}
    assert op.after["status"] == {"state": "suspended"}
    assert "disabled in the directory" in op.reason
    assert op.details["member"] == {"by": "external_id", "value": "teamsync:ann"}
    assert op.is_deprovision and op.sign == "-"


def test_no_users_in_scope_stops_before_planning() -> None:
    d = directory([zed()], [], [])
    a = team([zed_member()], [])
    with pytest.raises(teamsync.PlanError, match="no users in scope"):
        plan_ok(d, a)
    with pytest.raises(teamsync.PlanError):
        teamsync.plan(teamsync.DesiredState(), teamsync.ActualState.from_dict(a), Policy())


def test_deprovision_limit_marks_the_plan_as_needing_permission() -> None:
    d, a = big_team(400)
    root = next(g for g in d["groups"] if g["id"] == "root")
    root["members"] = root["members"][:40]
    p = plan_ok(d, a)
    assert p.guard["deprovisions"] == 360
    assert p.guard["deprovision_limit"] == 40
    assert p.needs_permission
    assert "guard_limit" in warning_kinds(p)
    assert "GUARD" in p.render()

    d, a = big_team(100)
    root = next(g for g in d["groups"] if g["id"] == "root")
    root["members"] = root["members"][:80]
    p = plan_ok(d, a)
    assert p.guard["deprovisions"] == 20
    assert not p.needs_permission


def test_input_order_does_not_change_the_plan() -> None:
    d = with_groups()
    a = team([zed_member()], [])
    one = plan_ok(d, a).to_json()
    d2 = {**d, "users": list(reversed(d["users"])), "groups": [{**g, "members": list(reversed(g["members"]))} for g in reversed(d["groups"])]}
    assert plan_ok(d2, a).to_json() == one


def test_json_is_versioned_and_round_trips() -> None:
    p = plan_ok(with_groups(), team([zed_member()], []))
    text = p.to_json()
    assert '"format_version": 1' in text
    assert '"kind": "invite"' in text
    assert teamsync.Plan.from_json(text).to_json() == text
    with pytest.raises(teamsync.InvalidDataError, match="99"):
        teamsync.Plan.from_json(text.replace('"format_version": 1', '"format_version": 99'))


def test_a_saved_plan_is_stale_when_the_team_changed() -> None:
    d = directory([zed(), user("ann", "ann@x.com", "Ann", "Lee")], [], ["zed", "ann"])
    a = team([zed_member(), managed("dbmid:old", "old", "old@x.com", "Old", "Timer", Active)], [])
    p = plan_ok(d, a)
    assert p.stale_operations(teamsync.ActualState.from_dict(a)) == []
    a["members"].append(member("dbmid:ann", "ann@x.com", None, "Ann", "Lee", Invited))
    a["members"][1]["status"] = Suspended
    stale = p.stale_operations(teamsync.ActualState.from_dict(a))
    assert [s["target"] for s in stale] == ["ann@x.com", "old@x.com"]


def test_plan_is_a_sequence_of_frozen_operations() -> None:
    p = plan_ok(with_groups(), team([zed_member()], []))
    listed = list(p)
    assert len(listed) == len(p) == len(p.operations)
    assert [op.index for op in listed] == list(range(len(p)))
    assert p[-1].target == listed[-1].target
    with pytest.raises(IndexError):
        p[len(p)]
    op = listed[0]
    with pytest.raises(AttributeError):
        op.target = "x"  # type: ignore[misc]
    assert op.to_dict()["kind"] == op.kind
    assert op.to_dict() == p.to_dict()["operations"][0]
    assert sum(p.counts.values()) == len(p)

