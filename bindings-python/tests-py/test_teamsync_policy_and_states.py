"""Policy knobs (every one, with the Rust defaults), states from and to dicts, and the
exceptions bad input raises."""

from __future__ import annotations

from typing import Any

import pytest

import teamsync
from teamsync import Policy
from teamsync_test_support import Active, directory, managed, ops, plan_ok, team, user

RUST_DEFAULTS: dict[str, Any] = {
    "external_id_prefix": "teamsync:",
    "manage_existing_users": True,
    "adopt_foreign": False,
    "adopt_existing_groups": False,
    "group_sync": "user_roots",
    "strict_group_scope": False,
    "on_leave": "suspend",
    "on_delete": "suspend",
    "on_invited_deprovision": "remove_invitation",
    "wipe_data": True,
    "transfer": {"mode": "none"},
    "deprovision_admins": False,
    "on_group_leave": "empty",
    "max_deprovision": {"floor": 25, "percent": 10.0},
    "max_group_member_removals": {"floor": 25, "percent": 10.0},
    "send_welcome_email": True,
}

# A value other than the default for every knob.
NON_DEFAULTS: dict[str, Any] = {
    "external_id_prefix": "corp/",
    "manage_existing_users": False,
    "adopt_foreign": True,
    "adopt_existing_groups": True,
    "group_sync": "group_roots",
    "strict_group_scope": True,
    "on_leave": "remove",
    "on_delete": "remove",
    "on_invited_deprovision": "leave",
    "wipe_data": False,
    "transfer": {"mode": "keep_account"},
    "deprovision_admins": True,
    "on_group_leave": "delete",
    "max_deprovision": {"floor": 3, "percent": 1.5},
    "max_group_member_removals": {"floor": 0, "percent": 100.0},
    "send_welcome_email": False,
}


def test_defaults_are_the_rust_defaults() -> None:
    assert Policy().to_dict() == RUST_DEFAULTS
    assert Policy.knobs() == list(RUST_DEFAULTS)
    assert Policy().on_leave == "suspend"


def test_every_knob_is_covered_here() -> None:
    assert set(NON_DEFAULTS) == set(Policy.knobs())


@pytest.mark.parametrize("knob", list(NON_DEFAULTS))
def test_each_knob_can_be_set_alone(knob: str) -> None:
    p = Policy(**{knob: NON_DEFAULTS[knob]})
    assert getattr(p, knob) == NON_DEFAULTS[knob]
    expected = {**RUST_DEFAULTS, knob: NON_DEFAULTS[knob]}
    assert p.to_dict() == expected
    assert Policy.from_dict(expected) == p
    assert p != Policy()


def test_knobs_are_real_attributes_and_signatures_are_visible() -> None:
    # Getters on the class (what help(), dir() and mypy.stubtest see), one per knob, rules too.
    assert set(Policy.knobs()) | {"rules"} <= set(dir(Policy))
    with pytest.raises(AttributeError):
        Policy().no_such_knob  # type: ignore[attr-defined]  # noqa: B018
    # DropboxTeam's default base URL is the Rust constant's value, spelled out in its signature.
    import inspect

    assert inspect.signature(teamsync.DropboxTeam).parameters["base_url"].default == "https://api.dropboxapi.com"
    assert "https://api.dropboxapi.com" in repr(teamsync.DropboxTeam(token="t"))


def test_all_knobs_at_once() -> None:
    assert Policy(**NON_DEFAULTS).to_dict() == NON_DEFAULTS


def test_knobs_change_plans() -> None:
    d = directory([user("zed", "zed@x.com", "Zed", "Last")], [], ["zed"])
    a = team([managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active), managed("dbmid:old", "old", "old@x.com", "O", "T", Active)], [])
    assert ops(plan_ok(d, a)) == ["suspend old@x.com wipe=true"]
    assert ops(plan_ok(d, a, Policy(on_leave="remove", wipe_data=False))) == ["remove old@x.com wipe=false Plain"]
    # Another prefix: neither member is ours any more, so nothing is deprovisioned.
    assert ops(plan_ok(d, a, Policy(external_id_prefix="corp/", manage_existing_users=False))) == []
    # A guard of 0 (floor 0, 0 %) makes one suspension need permission.
    assert plan_ok(d, a, Policy(max_deprovision={"floor": 0, "percent": 0.0})).needs_permission


def test_unknown_knob_is_a_config_error_naming_it() -> None:
    with pytest.raises(teamsync.ConfigError, match="on_leeve"):
        Policy(on_leeve="remove")
    with pytest.raises(teamsync.ConfigError, match="on_leeve"):
        Policy.from_dict({"on_leeve": "remove"})


@pytest.mark.parametrize(
    ("knobs", "fragment"),
    [
        ({"on_leave": "explode"}, "explode"),
        ({"wipe_data": "yes"}, "wipe_data|bool"),
        ({"external_id_prefix": ""}, "external_id_prefix"),
        ({"external_id_prefix": "x" * 64}, "external_id_prefix"),
        ({"max_deprovision": {"floor": 1, "percent": 150.0}}, "max_deprovision"),
        ({"max_deprovision": {"floor": 1}}, "percent"),
    ],
)
def test_invalid_knob_values_are_config_errors(knobs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(teamsync.ConfigError, match=fragment):
        Policy(**knobs)


def test_config_error_is_a_teamsync_error() -> None:
    assert issubclass(teamsync.ConfigError, teamsync.TeamsyncError)
    for name in ("TeamAuthError", "RateLimitedError"):
        assert issubclass(getattr(teamsync, name), teamsync.TeamError)
    for name in ("InvalidDataError", "DirectoryError", "TeamError", "PlanError", "GuardRefusedError", "EmulatorError"):
        assert issubclass(getattr(teamsync, name), teamsync.TeamsyncError)


def test_states_round_trip_through_dicts_and_json() -> None:
    d = directory([user("zed", " Zed@X.com ", "Zed", "Last")], [], ["zed"])
    desired = teamsync.DesiredState.from_dict(d)
    back = desired.to_dict()
    assert back["users"][0]["id"] == "zed"
    assert back["users"][0]["email"] == " Zed@X.com "  # kept as read; the planner validates
    assert teamsync.DesiredState.from_dict(back) == desired
    assert teamsync.DesiredState.from_json(desired.to_json()) == desired
    assert desired.user_count == 1 and desired.group_count == 1

    a = team([managed("dbmid:zed", "zed", "Zed@X.com", "Zed", "Last", {"state": "removed", "recoverable": True})], [])
    actual = teamsync.ActualState.from_dict(a)
    assert actual.to_dict()["members"][0]["email"] == "zed@x.com"  # normalised like Dropbox
    assert actual.to_dict()["members"][0]["status"] == {"state": "removed", "recoverable": True}
    assert teamsync.ActualState.from_json(actual.to_json()) == actual
    assert actual.member_count == 1


@pytest.mark.parametrize(
    ("cls", "data", "fragment"),
    [
        (teamsync.DesiredState, {"users": [{"id": "u", "emial": "x@y.com"}]}, "emial"),
        (teamsync.DesiredState, {"user_roots": "root"}, "invalid type"),
        (teamsync.ActualState, {"members": [{"team_member_id": "x", "email": "nope", "status": {"state": "active"}}]}, "nope"),
        (teamsync.ActualState, {"members": [{"team_member_id": "x", "email": "a@b.com", "status": {"state": "gone"}}]}, "gone"),
        (teamsync.ActualState, [1, 2], "invalid type"),
    ],
)
def test_bad_state_data_is_invalid_data_error(cls: Any, data: Any, fragment: str) -> None:
    with pytest.raises(teamsync.InvalidDataError, match=fragment):
        cls.from_dict(data)


def test_an_empty_user_id_is_held_as_an_issue_not_a_failed_read() -> None:
    # One bad entry must not stop every joiner and leaver (issue 11): the core holds it.
    state = teamsync.DesiredState.from_dict({"users": [{"id": "", "email": "x@y.com"}]})
    issues = state.to_dict()["issues"]
    assert len(issues) == 1 and "id" in issues[0]["problem"], issues


def test_bad_json_is_invalid_data_error() -> None:
    with pytest.raises(teamsync.InvalidDataError):
        teamsync.DesiredState.from_json("{not json")
    with pytest.raises(teamsync.InvalidDataError):
        teamsync.Plan.from_json("[]")


def test_plan_arguments_are_type_checked() -> None:
    with pytest.raises(TypeError):
        teamsync.plan({"users": []}, teamsync.ActualState(), Policy())  # type: ignore[arg-type]
