"""Golden plans, ported literally from `sync-core/tests/lifecycle.rs` and `rules.rs`: planning
from Python dicts must give exactly the operations the Rust tests assert."""

from __future__ import annotations

from typing import Any

import pytest

import teamsync
from teamsync import Policy
from teamsync_test_support import (
    REMOVED_FOR_GOOD,
    REMOVED_RECOVERABLE,
    Active,
    Invited,
    Suspended,
    big_team,
    directory,
    disabled,
    group,
    managed,
    member,
    ops,
    plan_ok,
    team,
    team_group,
    user,
    warning_kinds,
)

# ---- lifecycle.rs ----


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


def run(d: dict[str, Any], a: dict[str, Any], p: Policy | None = None) -> list[str]:
    return ops(plan_ok(d, a, p))


def test_enabled_absent_is_invited() -> None:
    assert run(dir_with_ann(ann(), True), team_with_ann(None)) == ["invite ann@x.com (teamsync:ann Ann Lee)"]


def test_enabled_active_same_profile_is_left_alone() -> None:
    assert run(dir_with_ann(ann(), True), team_with_ann(Active)) == []


def test_enabled_active_with_changed_profile_is_updated() -> None:
    a = {**ann(), "surname": "Lee-Smith", "email": "Ann.Lee@X.com"}
    assert run(dir_with_ann(a, True), team_with_ann(Active)) == ["update profile ann@x.com email=ann.lee@x.com surname=Lee-Smith"]


def test_enabled_invited_waits_and_warns_when_profile_differs() -> None:
    a = {**ann(), "given_name": "Annie"}
    p = plan_ok(dir_with_ann(a, True), team_with_ann(Invited))
    assert len(p) == 0
    assert warning_kinds(p) == ["deferred_update"]
    assert plan_ok(dir_with_ann(ann(), True), team_with_ann(Invited)).warnings == []


def test_enabled_suspended_is_unsuspended_then_updated() -> None:
    a = {**ann(), "given_name": "Annie"}
    assert run(dir_with_ann(a, True), team_with_ann(Suspended)) == ["unsuspend ann@x.com", "update profile ann@x.com given=Annie"]


def test_enabled_removed_recoverable_is_recovered() -> None:
    assert run(dir_with_ann(ann(), True), team_with_ann(REMOVED_RECOVERABLE)) == ["recover ann@x.com"]


def test_enabled_removed_for_good_is_invited_again() -> None:
    assert run(dir_with_ann(ann(), True), team_with_ann(REMOVED_FOR_GOOD)) == ["invite ann@x.com (teamsync:ann Ann Lee)"]


def test_disabled_active_is_suspended_with_wipe() -> None:
    assert run(dir_with_ann(disabled(ann()), True), team_with_ann(Active)) == ["suspend ann@x.com wipe=true"]
    no_wipe = Policy(wipe_data=False)
    assert run(dir_with_ann(disabled(ann()), True), team_with_ann(Active), no_wipe) == ["suspend ann@x.com wipe=false"]


def test_disabled_invited_invitation_is_withdrawn_or_left() -> None:
    assert run(dir_with_ann(disabled(ann()), True), team_with_ann(Invited)) == ["remove ann@x.com wipe=false Plain"]
    leave = Policy(on_invited_deprovision="leave")
    assert run(dir_with_ann(disabled(ann()), True), team_with_ann(Invited), leave) == []


@pytest.mark.parametrize("status", [Suspended, REMOVED_RECOVERABLE, REMOVED_FOR_GOOD])
def test_disabled_suspended_or_removed_is_left_alone(status: dict[str, Any]) -> None:
    assert run(dir_with_ann(disabled(ann()), True), team_with_ann(status)) == []


def test_out_of_scope_active_follows_on_leave() -> None:
    assert run(dir_with_ann(ann(), False), team_with_ann(Active)) == ["suspend ann@x.com wipe=true"]
    remove = Policy(on_leave="remove")
    assert run(dir_with_ann(None, False), team_with_ann(Active), remove) == ["remove ann@x.com wipe=true Plain"]


def deleted_ann() -> dict[str, Any]:
    d = dir_with_ann(None, False)
    d["deleted"] = ["ann"]
    return d


def test_deleted_active_follows_on_delete_not_on_leave() -> None:
    p = Policy(on_leave="remove", on_delete="suspend")
    assert run(deleted_ann(), team_with_ann(Active), p) == ["suspend ann@x.com wipe=true"]
    p = Policy(on_leave="suspend", on_delete="remove")
    assert run(deleted_ann(), team_with_ann(Active), p) == ["remove ann@x.com wipe=true Plain"]


def test_removal_can_transfer_or_keep_the_account() -> None:
    dest = {"by": "external_id", "value": "teamsync:zed"}
    p = Policy(on_leave="remove", transfer={"mode": "transfer", "dest": dest, "admin": dest})
    got = run(dir_with_ann(None, False), team_with_ann(Active), p)
    assert len(got) == 1
    assert got[0].startswith("remove ann@x.com wipe=true Transfer"), got
    keep = Policy(on_leave="remove", transfer={"mode": "keep_account"})
    # Keeping the account needs wipe_data = false, whatever wipe_data says.
    assert run(dir_with_ann(None, False), team_with_ann(Active), keep) == ["remove ann@x.com wipe=false KeepAccount"]


def test_operations_carry_before_after_and_a_reason() -> None:
    p = plan_ok(dir_with_ann(disabled(ann()), True), team_with_ann(Active))
    op = p[0]
    assert op.phase == "deprovision"
    assert op.before["state"] == "member" and op.before["status"] == {"state": "active"}
    assert op.after["status"] == {"state": "suspended"}
    assert "disabled in the directory" in op.reason
    assert op.details["member"] == {"by": "external_id", "value": "teamsync:ann"}
    assert op.is_deprovision and op.sign == "-"


# ---- rules.rs ----


def zed() -> dict[str, Any]:
    return user("zed", "zed@x.com", "Zed", "Last")


def zed_member() -> dict[str, Any]:
    return managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active)


def test_unmanaged_member_with_matching_email_is_adopted() -> None:
    d = directory([zed(), user("ann", "ann@x.com", "Ann", "Lee")], [], ["zed", "ann"])
    a = team([zed_member(), member("dbmid:ann", "ANN@x.com", None, "Ann", "Old", Active)], [])
    assert ops(plan_ok(d, a)) == ["adopt member ann@x.com surname=Lee external_id=teamsync:ann"]


def test_foreign_members_are_never_touched_unless_adopt_foreign() -> None:
    d = directory([zed(), user("ann", "ann@x.com", "Ann", "Lee")], [], ["zed", "ann"])
    a = team(
        [
            zed_member(),
            member("dbmid:ann", "ann@x.com", "okta:123", "Ann", "Lee", Active),
            member("dbmid:bob", "bob@x.com", "okta:456", "Bob", "B", Active),
        ],
        [],
    )
    p = plan_ok(d, a)
    assert ops(p) == []
    assert warning_kinds(p) == ["foreign_member"]
    assert ops(plan_ok(d, a, Policy(adopt_foreign=True))) == ["adopt member ann@x.com external_id=teamsync:ann"]


def test_nested_groups_three_deep_and_cycles_are_flattened() -> None:
    d = directory(
        [zed(), user("ann", "ann@x.com", "Ann", "Lee")],
        [group("g1", "One", ["g2"]), group("g2", "Two", ["g3"]), group("g3", "Three", ["ann", "g1"])],
        ["zed", "g1"],
    )
    p = plan_ok(d, team([zed_member()], []), Policy(group_sync="off"))
    assert ops(p) == ["invite ann@x.com (teamsync:ann Ann Lee)"]
    assert p.stats["users_in_scope"] == 2
    assert warning_kinds(p) == ["group_cycle"]


def test_no_users_in_scope_stops_before_planning() -> None:
    d = directory([zed()], [], [])
    a = team([zed_member()], [])
    with pytest.raises(teamsync.PlanError, match="no users in scope"):
        plan_ok(d, a)
    with pytest.raises(teamsync.PlanError):
        teamsync.plan(teamsync.DesiredState(), teamsync.ActualState.from_dict(a), Policy())


def test_admins_are_reported_not_deprovisioned_unless_allowed() -> None:
    d = directory([zed()], [], ["zed"])
    boss = {**managed("dbmid:boss", "boss", "boss@x.com", "B", "Oss", Active), "is_admin": True}
    a = team([zed_member(), boss], [])
    p = plan_ok(d, a)
    assert ops(p) == []
    assert warning_kinds(p) == ["admin_protected"]
    assert ops(plan_ok(d, a, Policy(deprovision_admins=True))) == ["suspend boss@x.com wipe=true"]


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


def with_groups() -> dict[str, Any]:
    return directory(
        [zed(), user("ann", "ann@x.com", "Ann", "Lee"), user("bob", "bob@x.com", "Bob", "B")],
        [group("sales", "Sales", ["ann", "emea"]), group("emea", "Sales EMEA", ["bob"])],
        ["zed", "sales"],
    )


def team_with_people() -> list[dict[str, Any]]:
    return [
        zed_member(),
        managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active),
        managed("dbmid:bob", "bob", "bob@x.com", "Bob", "B", Active),
    ]


def test_synced_groups_are_created_flat_with_transitive_members() -> None:
    p = plan_ok(with_groups(), team(team_with_people(), []))
    assert ops(p) == [
        "create group Sales",
        "create group Sales EMEA",
        "add to group Sales EMEA: bob@x.com",
        "add to group Sales: ann@x.com",
        "add to group Sales: bob@x.com",
    ]


def test_managed_groups_are_renamed_and_their_membership_diffed() -> None:
    a = team(
        team_with_people(),
        [
            team_group("g:1", "Sales (old)", "teamsync:sales", ["dbmid:ann", "dbmid:zed", "dbmid:foreign"]),
            team_group("g:2", "Sales EMEA", "teamsync:emea", ["dbmid:bob"]),
        ],
    )
    a["members"].append(member("dbmid:foreign", "f@x.com", None, "F", "F", Active))
    assert ops(plan_ok(with_groups(), a)) == [
        "rename group Sales -> Sales",
        "add to group Sales: bob@x.com",
        "remove from group Sales (old): zed@x.com",
    ]


def test_disabled_members_keep_their_group_memberships_as_they_are() -> None:
    # ann is disabled (suspended by this plan) and already in Sales; bob is disabled and not in
    # Sales EMEA. Neither membership changes: suspension is reversible.
    d = with_groups()
    for u in d["users"]:
        if u["id"] != "zed":
            u["enabled"] = False
    a = team(
        team_with_people(),
        [team_group("g:1", "Sales", "teamsync:sales", ["dbmid:ann"]), team_group("g:2", "Sales EMEA", "teamsync:emea", [])],
    )
    assert ops(plan_ok(d, a)) == ["suspend ann@x.com wipe=true", "suspend bob@x.com wipe=true"]


def test_groups_that_leave_scope_are_emptied_deleted_or_kept() -> None:
    d = directory([zed(), user("ann", "ann@x.com", "Ann", "Lee")], [], ["zed", "ann"])
    a = team(
        [zed_member(), managed("dbmid:ann", "ann", "ann@x.com", "Ann", "Lee", Active), member("dbmid:f", "f@x.com", None, "F", "F", Active)],
        [team_group("g:1", "Old", "teamsync:old", ["dbmid:ann", "dbmid:f"])],
    )
    assert ops(plan_ok(d, a)) == ["remove from group Old: ann@x.com"]
    assert ops(plan_ok(d, a, Policy(on_group_leave="delete"))) == ["delete group Old"]
    assert ops(plan_ok(d, a, Policy(on_group_leave="keep"))) == []


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


def test_render_groups_operations_by_phase_with_counts() -> None:
    d = directory([zed(), user("ann", "ann@x.com", "Ann", "Lee")], [group("s", "Sales", ["ann"])], ["zed", "s"])
    a = team([zed_member(), managed("dbmid:old", "old", "old@x.com", "Old", "Timer", Active)], [])
    p = plan_ok(d, a)
    expected = """\
Directory: 2 users in scope (2 enabled), 1 group synced. Team: 2 managed members, 0 managed groups.

groups (1)
  + create group      Sales
      a synced directory group (id s)

invite, recover, unsuspend (1)
  + invite            ann@x.com
      in scope in the directory (id ann), not on the team

group member additions (1)
  + add to group      Sales: ann@x.com
      member of the directory group (directly or through nested groups)

suspend and remove (1)
  - suspend           old@x.com (devices wiped)
      left the directory's user scope

Plan: 4 operations (1 add to group, 1 create group, 1 invite, 1 suspend).
"""
    assert p.render() == expected
    assert str(p) == expected
    assert p.counts == {"add to group": 1, "create group": 1, "invite": 1, "suspend": 1}


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
