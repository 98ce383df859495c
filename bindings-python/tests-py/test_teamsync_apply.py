"""apply() into a MemoryTeam and into the in-process Dropbox emulator (through DropboxTeam over
HTTP); sync(); the exceptions the team side raises."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import teamsync
from teamsync import Policy
from teamsync.testing import Emulator
from teamsync_test_support import Active, big_team, directory, group, managed, plan_ok, team, user


def people() -> dict[str, Any]:
    return directory(
        [user("zed", "zed@x.com", "Zed", "Last"), user("ann", "ann@x.com", "Ann", "Lee"), user("bob", "bob@x.com", "Bob", "B")],
        [group("sales", "Sales", ["ann", "bob"])],
        ["zed", "sales"],
    )


def test_apply_into_memory_team_converges() -> None:
    desired = teamsync.DesiredState.from_dict(people())
    memory = teamsync.MemoryTeam()
    plan = teamsync.plan(desired, memory.snapshot(), Policy())
    assert plan.counts == {"add to group": 2, "create group": 1, "invite": 3}
    outcome = teamsync.apply(plan, memory)
    assert (outcome.done, outcome.failed, outcome.skipped) == (6, 0, 0)
    assert outcome.is_success and outcome.failures == []
    assert [r["status"] for r in outcome.results] == ["done"] * 6
    actual = memory.snapshot()
    assert sorted(m["email"] for m in actual.to_dict()["members"]) == ["ann@x.com", "bob@x.com", "zed@x.com"]
    assert len(teamsync.plan(desired, actual, Policy())) == 0
    assert memory.calls()["invite"] >= 1


def test_memory_team_from_a_dict_and_failures_are_reported_not_raised() -> None:
    memory = teamsync.MemoryTeam(team([managed("dbmid:zed", "zed", "zed@x.com", "Zed", "Last", Active)], []))
    memory.inject_fault("invite", subject="ann@x.com", times=10, kind="conflict", code="user_already_on_team", message="taken")
    plan = teamsync.plan(teamsync.DesiredState.from_dict(people()), memory.snapshot(), Policy())
    outcome = teamsync.apply(plan, memory)
    assert outcome.failed == 1
    # Ann's group membership depends on her invite, so it is skipped, not attempted.
    assert outcome.skipped == 1
    assert outcome.done == len(plan) - 2
    [failure] = outcome.failures
    assert failure["kind"] == "invite" and failure["target"] == "ann@x.com"
    assert failure["error_kind"] == "conflict" and failure["code"] == "user_already_on_team"
    assert failure["message"] == "taken" and failure["attempts"] == 1
    skipped = [r for r in outcome.results if r["status"] == "skipped"]
    assert "depends on operation" in skipped[0]["because"]


def test_guard_refuses_without_permission() -> None:
    d, a = big_team(100)
    root = next(g for g in d["groups"] if g["id"] == "root")
    root["members"] = root["members"][:50]
    memory = teamsync.MemoryTeam(a)
    plan = plan_ok(d, a)
    assert plan.needs_permission and plan.guard["deprovisions"] == 50
    with pytest.raises(teamsync.GuardRefusedError, match="refused"):
        teamsync.apply(plan, memory)
    with pytest.raises(teamsync.GuardRefusedError):
        teamsync.apply(plan, memory, allow_deprovision=49)
    assert memory.calls().get("suspend", 0) == 0
    assert teamsync.apply(plan, memory, allow_deprovision=50).done == 50
    # force allows any plan; the second run has nothing left to do.
    assert teamsync.apply(plan_ok(d, memory.snapshot().to_dict()), memory, force=True).done == 0


def test_store_errors_map_to_exceptions() -> None:
    memory = teamsync.MemoryTeam()
    memory.inject_fault("snapshot", kind="auth", message="token revoked")
    with pytest.raises(teamsync.TeamAuthError, match="token revoked") as auth:
        memory.snapshot()
    assert auth.value.kind == "auth"  # type: ignore[attr-defined]
    memory.inject_fault("snapshot", kind="rate_limited")
    with pytest.raises(teamsync.RateLimitedError) as limited:
        memory.snapshot()
    assert limited.value.retry_after_ms is None  # type: ignore[attr-defined]
    memory.inject_fault("snapshot", kind="transient", code="internal_error")
    with pytest.raises(teamsync.TeamError) as other:
        memory.snapshot()
    assert other.value.code == "internal_error"  # type: ignore[attr-defined]
    with pytest.raises(teamsync.ConfigError, match="frobnicate"):
        memory.inject_fault("frobnicate")
    with pytest.raises(TypeError):
        teamsync.apply(plan_ok(people(), team([], [])), object())  # type: ignore[arg-type]


def test_apply_into_the_emulator() -> None:
    with Emulator() as emulator:
        dropbox = emulator.team()
        assert dropbox.team_name() == "Emulated Team"
        desired = teamsync.DesiredState.from_dict(people())
        plan = teamsync.plan(desired, dropbox.snapshot(), Policy(send_welcome_email=False))
        outcome = teamsync.apply(plan, dropbox)
        assert (outcome.done, outcome.failed, outcome.skipped) == (len(plan), 0, 0)

        state = emulator.state()
        by_email = {m["email"]: m for m in state["members"]}
        assert sorted(by_email) == ["ann@x.com", "bob@x.com", "zed@x.com"]
        assert by_email["ann@x.com"]["external_id"] == "teamsync:ann"
        assert by_email["ann@x.com"]["status"] == "invited"
        [sales] = state["groups"]
        assert sales["name"] == "Sales" and sales["external_id"] == "teamsync:sales"
        assert sorted(m["email"] for m in sales["members"]) == ["ann@x.com", "bob@x.com"]

        counts = emulator.call_counts()
        assert counts["team/members/add_v2"] >= 1
        assert counts["team/groups/create"] == 1

        # Converged: a second plan from the emulator's team is empty.
        assert len(teamsync.plan(desired, dropbox.snapshot(), Policy())) == 0


def test_emulator_seed_adoption_and_refresh_token() -> None:
    with Emulator(team_name="Seeded") as emulator:
        emulator.seed({"members": [{"email": "ann@x.com", "given_name": "Ann", "surname": "Lee", "status": "active"}]})
        dropbox = teamsync.DropboxTeam(
            base_url=emulator.base_url, refresh_token=emulator.refresh_token, app_key=emulator.app_key, app_secret=emulator.app_secret, proxy=""
        )
        d = directory([user("ann", "ann@x.com", "Ann", "Lee")], [], ["ann"])
        plan = teamsync.plan(teamsync.DesiredState.from_dict(d), dropbox.snapshot(), Policy())
        assert [op.verb for op in plan] == ["adopt member"]
        assert teamsync.apply(plan, dropbox).done == 1
        assert emulator.state()["members"][0]["external_id"] == "teamsync:ann"
        assert emulator.call_counts()["oauth2/token"] >= 1


def test_emulator_errors() -> None:
    emulator = Emulator()
    with pytest.raises(teamsync.EmulatorError, match="invalid team seed"):
        emulator.seed({"members": [{"email": "a@x.com"}, {"email": "a@x.com"}]})
    with pytest.raises(teamsync.InvalidDataError, match="emial"):
        emulator.seed({"members": [{"emial": "a@x.com"}]})
    with pytest.raises(teamsync.InvalidDataError):
        emulator.set_faults({"server_error_rate": "often"})
    emulator.close()
    emulator.close()
    with pytest.raises(teamsync.EmulatorError, match="closed"):
        emulator.base_url


def test_dropbox_team_errors() -> None:
    with pytest.raises(teamsync.ConfigError, match="token"):
        teamsync.DropboxTeam(base_url="http://127.0.0.1:9")
    with pytest.raises(teamsync.ConfigError, match="token"):
        teamsync.DropboxTeam(base_url="http://127.0.0.1:9", token="t", refresh_token="r", app_key="k")
    with pytest.raises(teamsync.ConfigError, match="http"):
        teamsync.DropboxTeam(base_url="ftp://example.invalid", token="t")
    with pytest.raises(teamsync.ConfigError, match="CA"):
        teamsync.DropboxTeam(base_url="https://127.0.0.1:9", token="t", ca_file="/nonexistent/ca.pem")
    with Emulator() as emulator:
        wrong = teamsync.DropboxTeam(base_url=emulator.base_url, token="not-a-token", proxy="")
        with pytest.raises(teamsync.TeamAuthError) as auth:
            wrong.snapshot()
        assert auth.value.kind == "auth"  # type: ignore[attr-defined]
        assert "not-a-token" not in str(auth.value)


def test_emulator_over_tls_with_its_ca() -> None:
    with Emulator(tls=True) as emulator:
        assert emulator.base_url.startswith("https://")
        assert emulator.ca_pem is not None and "BEGIN CERTIFICATE" in emulator.ca_pem
        assert emulator.team().snapshot().member_count == 0
        ca_file = emulator._ca_file
        assert ca_file is not None and os.path.exists(ca_file)
    # Leaving the block closed the emulator and removed the CA file team() wrote.
    assert not os.path.exists(ca_file)


def emulator_config(emulator: Emulator, folder: Path) -> dict[str, Any]:
    """The command's own config shape, as a dict: a state JSON file against the emulator."""
    (folder / "people.json").write_text(json.dumps(people()))
    return {
        "directory": {"kind": "file", "path": str(folder / "people.json"), "format": "state_json"},
        "team": {"base_url": emulator.base_url, "token": {"env": "TEAMSYNC_TEST_TOKEN"}},
        "policy": {"send_welcome_email": False},
    }


def test_sync_dry_run_then_apply(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Emulator() as emulator:
        monkeypatch.setenv("TEAMSYNC_TEST_TOKEN", emulator.access_token)
        config = emulator_config(emulator, tmp_path)
        dry = teamsync.sync(config)
        assert not dry.applied and dry.outcome is None and len(dry.plan) == 6
        assert emulator.state()["members"] == []

        # The same run from the command's TOML file.
        path = tmp_path / "teamsync.toml"
        path.write_text(
            f'[directory]\nkind = "file"\npath = "people.json"\n\n[team]\nbase_url = "{emulator.base_url}"\n'
            'token = { env = "TEAMSYNC_TEST_TOKEN" }\n\n[policy]\nsend_welcome_email = false\n'
        )
        done = teamsync.sync(path, dry_run=False)
        assert done.applied and done.outcome is not None and done.outcome.done == 6
        assert len(emulator.state()["members"]) == 3
        assert len(teamsync.sync(str(path)).plan) == 0
        assert len(teamsync.sync(teamsync.Config.load(path)).plan) == 0


def test_sync_config_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TEAMSYNC_TEST_TOKEN", raising=False)
    monkeypatch.delenv("TEAMSYNC_TEST_OTHER", raising=False)
    directory = {"kind": "file", "path": "people.json"}
    config = {"directory": directory, "team": {"token": {"env": "TEAMSYNC_TEST_TOKEN"}}}
    with pytest.raises(teamsync.ConfigError, match="TEAMSYNC_TEST_TOKEN"):
        teamsync.sync(config)
    with pytest.raises(teamsync.ConfigError, match="extra"):
        teamsync.sync({**config, "extra": {}})
    with pytest.raises(teamsync.ConfigError, match="team.token"):
        teamsync.sync({"directory": directory})
    with pytest.raises(teamsync.ConfigError, match="on_leeve"):
        teamsync.sync({**config, "policy": {"on_leeve": "remove"}})
    with pytest.raises(teamsync.ConfigError, match="tokn"):
        teamsync.sync({"directory": directory, "team": {"tokn": "x"}})
    with pytest.raises(teamsync.ConfigError, match="directory.kind"):
        teamsync.sync({"directory": {"kind": "ftp"}, "team": config["team"]})
    # Every unreadable secret in one error.
    two = {"directory": directory, "team": {"refresh_token": {"env": "TEAMSYNC_TEST_TOKEN"}, "app_key": "k", "app_secret": {"env": "TEAMSYNC_TEST_OTHER"}}}
    with pytest.raises(teamsync.ConfigError, match="2 secrets cannot be read.*TEAMSYNC_TEST_TOKEN.*TEAMSYNC_TEST_OTHER"):
        teamsync.sync(two)
    bad = tmp_path / "bad.toml"
    bad.write_text("directory = [")
    with pytest.raises(teamsync.ConfigError, match="bad.toml"):
        teamsync.sync(bad)
    with pytest.raises(teamsync.ConfigError, match="missing.toml"):
        teamsync.sync(tmp_path / "missing.toml")
    with pytest.raises(TypeError):
        teamsync.sync(42)  # type: ignore[arg-type]


def test_config_load_names_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "teamsync.toml"
    path.write_text('log_file = "t.log"\n[directory]\nkind = "file"\npath = "p.json"\ncolour = "blue"\n')
    with pytest.raises(teamsync.ConfigError, match=r"line 5: directory.colour: unknown field `colour`"):
        teamsync.Config.load(path)
    path.write_text('log_file = "t.log"\nlock_file = "t.lock"\n[directory]\nkind = "file"\npath = "p.json"\n')
    loaded = teamsync.Config.load(path)
    assert loaded.directory_kind == "file" and loaded.path == path
