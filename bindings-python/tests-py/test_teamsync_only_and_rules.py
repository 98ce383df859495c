"""Provision on demand and rules from Python (issue 13): ``teamsync.sync(config, only=[...])``
and ``Plan.only`` restrict a plan exactly as the command's ``--only`` does (the same
``Plan::only``), and rules written in a dict config work: a scope rule, a mapping. Parity: the
command's ``plan --json`` (with and without ``--only``) and Python's plan are byte for byte the
same for a rules config."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import teamsync
from teamsync.testing import Emulator
from test_teamsync_config_parity import TOKEN_VAR, binary  # noqa: F401  (the module's fixture)

STATE: dict[str, Any] = {
    "user_roots": ["staff"],
    "groups": [{"id": "staff", "name": "Staff", "members": ["ann", "bob", "cy", "dee"]}],
    "users": [
        {"id": "ann", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "attributes": {"title": "Engineer", "uid": "ann"}},
        {"id": "bob", "email": "bob@corp.test", "given_name": "Bob", "surname": "Stone", "attributes": {"title": "Contractor (QA)", "uid": "bob"}},
        {"id": "cy", "email": "", "given_name": "Cy", "surname": "Moss", "attributes": {"title": "Engineer", "uid": "cy"}},
        {"id": "dee", "email": "dee@corp.test", "given_name": "Dee", "surname": "Park", "attributes": {"title": "Engineer", "uid": "dee"}},
    ],
}
RULES: dict[str, Any] = {
    "scope": [{"name": "no-contractors", "exclude": 'has(user.title) && user.title.startsWith("Contractor")'}],
    "mapping": {"email": {"expr": 'user.email != "" ? user.email : user.uid + "@corp.test"'}},
}
RULES_TOML = """
[[policy.rules.scope]]
name = "no-contractors"
exclude = 'has(user.title) && user.title.startsWith("Contractor")'

[policy.rules.mapping]
email = { expr = 'user.email != "" ? user.email : user.uid + "@corp.test"' }
"""


def seed() -> dict[str, Any]:
    # bob is on the team already (managed): the scope rule takes him out of scope.
    return {
        "members": [
            {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": True},
            {"email": "bob@corp.test", "given_name": "Bob", "surname": "Stone", "external_id": "teamsync:bob"},
        ]
    }


def dict_config(folder: Path, emulator: Emulator) -> dict[str, Any]:
    (folder / "state.json").write_text(json.dumps(STATE))
    return {
        "directory": {"kind": "file", "path": str(folder / "state.json"), "format": "state_json"},
        "team": {"base_url": emulator.base_url, "token": {"env": TOKEN_VAR}},
        "policy": {"send_welcome_email": False, "group_sync": "off", "rules": RULES},
    }


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Any:
    with Emulator() as e:
        e.seed(seed())
        monkeypatch.setenv(TOKEN_VAR, e.access_token)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield e


def ops(plan: teamsync.Plan) -> list[tuple[str, str]]:
    return [(op.kind, op.target) for op in plan]


def test_a_scope_rule_and_a_mapping_from_a_dict_config(tmp_path: Path, emulator: Emulator) -> None:
    result = teamsync.sync(dict_config(tmp_path, emulator))
    plan = result.plan
    assert ops(plan) == [
        ("invite", "ann@corp.test"),
        # cy has no email in the directory: the mapping gives uid@corp.test.
        ("invite", "cy@corp.test"),
        ("invite", "dee@corp.test"),
        ("suspend", "bob@corp.test"),
    ], plan.render()
    suspend = next(op for op in plan if op.kind == "suspend")
    assert 'scope rule "no-contractors"' in suspend.reason
    assert teamsync.Config.from_dict(dict_config(tmp_path, emulator)) is not None
    # The policy holds its rules as written, defaults filled in.
    written = teamsync.Policy(rules=RULES).rules
    assert written["scope"] == RULES["scope"]
    assert written["mapping"]["email"] == {**RULES["mapping"]["email"], "when": "always"}
    assert teamsync.Policy().rules == {}


def test_a_bad_rule_in_a_dict_names_the_rule(tmp_path: Path, emulator: Emulator) -> None:
    config = dict_config(tmp_path, emulator)
    config["policy"]["rules"] = {"scope": [{"name": "typo", "include": 'usr.department == "Sales"'}]}
    with pytest.raises(teamsync.ConfigError, match='typo'):
        teamsync.sync(config)


def test_only_restricts_the_plan_and_plan_only_is_the_same(tmp_path: Path, emulator: Emulator) -> None:
    config = dict_config(tmp_path, emulator)
    only = teamsync.sync(config, only=["cy@corp.test", "bob"])
    assert ops(only.plan) == [("invite", "cy@corp.test"), ("suspend", "bob@corp.test")]
    full = teamsync.sync(config)
    assert len(full.plan) == 4
    restricted = full.plan.only(["cy@corp.test", "bob"], full.desired, full.actual)
    assert restricted.to_json() == only.plan.to_json()
    # Nothing applied on a dry run; applying the restricted plan touches only those people.
    applied = teamsync.sync(config, dry_run=False, only=["ann@corp.test"])
    assert applied.outcome is not None and applied.outcome.done == 1
    emails = {m["email"] for m in emulator.state()["members"]}
    assert "ann@corp.test" in emails and "dee@corp.test" not in emails


def test_only_a_name_nobody_has_plans_nothing_for_anyone(tmp_path: Path, emulator: Emulator) -> None:
    with pytest.raises(teamsync.PlanError, match="nobody@corp.test"):
        teamsync.sync(dict_config(tmp_path, emulator), dry_run=False, only=["nobody@corp.test", "ann@corp.test"])
    assert "ann@corp.test" not in {m["email"] for m in emulator.state()["members"]}


def command_plan(binary: Path, config: Path, emulator: Emulator, *extra: str) -> str:
    env = {**os.environ, TOKEN_VAR: emulator.access_token, "NO_PROXY": "127.0.0.1"}
    done = subprocess.run([str(binary), "--config", str(config), "plan", "--json", *extra], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_rules_and_only_plan_byte_for_byte_like_the_command(binary: Path, tmp_path: Path, emulator: Emulator) -> None:  # noqa: F811
    (tmp_path / "state.json").write_text(json.dumps(STATE))
    config = tmp_path / "teamsync.toml"
    config.write_text(
        '[directory]\nkind = "file"\npath = "state.json"\nformat = "state_json"\n\n'
        f'[team]\nbase_url = "{emulator.base_url}"\ntoken = {{ env = "{TOKEN_VAR}" }}\n\n'
        '[policy]\nsend_welcome_email = false\ngroup_sync = "off"\n' + RULES_TOML
    )
    config.chmod(0o600)
    python = teamsync.sync(config)
    assert command_plan(binary, config, emulator) == python.plan.to_json() + "\n"
    assert len(python.plan) == 4
    only = teamsync.sync(config, only=["cy", "bob@corp.test"])
    assert command_plan(binary, config, emulator, "--only", "cy,bob@corp.test") == only.plan.to_json() + "\n"
    assert len(only.plan) == 2


def test_a_restricted_run_is_recorded_with_only_its_operations(tmp_path: Path, emulator: Emulator) -> None:
    config = {**dict_config(tmp_path, emulator), "history_dir": str(tmp_path / "history")}
    teamsync.sync(config, only=["cy@corp.test"])
    with pytest.raises(teamsync.PlanError):
        teamsync.sync(config, only=["nobody@corp.test"])
    runs = teamsync.history(config)
    assert [op["target"] for op in runs[0]["operations"]] == ["cy@corp.test"]
    # As the command records `--only` with a name nobody has: usage (2), the name in the error.
    assert runs[1]["exit_code"] == 2 and "nobody@corp.test" in runs[1]["error"]
