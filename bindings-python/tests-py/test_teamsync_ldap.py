"""LdapDirectory against the real slapd of `scripts/fixtures/slapd.sh` (population in
`scripts/fixtures/slapd/population.ldif`). Needs TEAMSYNC_SLAPD_* from STATE_DIR/slapd.env;
without them each test skips with one line naming the missing variables, so a plain pytest
passes on a contributor's machine; scripts/test.sh starts the fixture and loads them."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

import teamsync
from teamsync.testing import Emulator

NEEDED = ("TEAMSYNC_SLAPD_URL", "TEAMSYNC_SLAPD_LDAPS_URL", "TEAMSYNC_SLAPD_CA", "TEAMSYNC_SLAPD_BASE", "TEAMSYNC_SLAPD_BIND_DN", "TEAMSYNC_SLAPD_BIND_PW")


@pytest.fixture
def slapd() -> dict[str, str]:
    missing = [name for name in NEEDED if not os.environ.get(name)]
    if missing:
        pytest.skip(
            f"SKIPPED: {', '.join(missing)} not set: start the OpenLDAP fixture with `scripts/fixtures/slapd.sh start STATE_DIR` "
            "and load STATE_DIR/slapd.env (scripts/test.sh does both)"
        )
    return {name: os.environ[name] for name in (*NEEDED, "TEAMSYNC_SLAPD_LIMITED_DN", "TEAMSYNC_SLAPD_LIMITED_PW") if name in os.environ}


def settings(env: dict[str, str], **overrides: Any) -> dict[str, Any]:
    base = env["TEAMSYNC_SLAPD_BASE"]
    config: dict[str, Any] = {
        "url": env["TEAMSYNC_SLAPD_LDAPS_URL"],
        "base_dn": base,
        "profile": "openldap",
        "bind_dn": env["TEAMSYNC_SLAPD_BIND_DN"],
        "bind_password": env["TEAMSYNC_SLAPD_BIND_PW"],
        "ca_file": env["TEAMSYNC_SLAPD_CA"],
        "user_root_dns": [f"cn=dropbox,ou=groups,{base}"],
        "group_root_dns": [f"cn=team-groups,ou=groups,{base}"],
        "connect_timeout": 10.0,
        "operation_timeout": 30.0,
    }
    config.update(overrides)
    return config


def by_uid(state: teamsync.DesiredState) -> dict[str, dict[str, Any]]:
    return {u["attributes"]["uid"]: u for u in state.to_dict()["users"]}


def test_ldaps_snapshot_reads_the_population(slapd: dict[str, str]) -> None:
    state = teamsync.LdapDirectory(**settings(slapd)).snapshot()
    users = by_uid(state)
    # The same population sync-ldap's own tests expect (out-of-scope henry and bulk users left out).
    assert sorted(users) == sorted(["ann", "bob", "carol", "dave", "erin", "frank", "zoe", "gina", "ivan", "judy", "kim"])
    assert users["ann"]["email"] == "ann@example.org"
    assert users["ann"]["locator"] == f"uid=ann,ou=people,{slapd['TEAMSYNC_SLAPD_BASE']}"
    assert users["bob"]["email"] == "bob.stone@example.org"
    assert users["carol"]["enabled"] is False  # ppolicy lock
    assert (users["zoe"]["given_name"], users["zoe"]["surname"]) == ("Zoë", "Ångström")
    data = state.to_dict()
    assert sorted(g["name"] for g in data["groups"]) == sorted(
        ["dropbox", "engineering", "backend", "platform", "unix", "design", "cycle-a", "cycle-b", "team-groups"]
    )
    assert len(data["user_roots"]) == 1 and len(data["group_roots"]) == 1
    assert sorted(i["entry"].split(",")[0] for i in data["issues"]) == ["uid=dave", "uid=gina"]


def test_starttls_reads_the_same(slapd: dict[str, str]) -> None:
    over_ldaps = teamsync.LdapDirectory(**settings(slapd)).snapshot()
    over_starttls = teamsync.LdapDirectory(**settings(slapd, url=slapd["TEAMSYNC_SLAPD_URL"], starttls=True)).snapshot()
    assert over_starttls == over_ldaps


def test_ldap_snapshot_plans_and_applies_into_a_memory_team(slapd: dict[str, str]) -> None:
    desired = teamsync.LdapDirectory(**settings(slapd)).snapshot()
    memory = teamsync.MemoryTeam()
    plan = teamsync.plan(desired, memory.snapshot(), teamsync.Policy(group_sync="group_roots"))
    # Erin and Frank share one address (neither invited), carol is locked, dave has no mail,
    # gina's is invalid: each reported, none invited.
    invited = sorted(op.target for op in plan if op.kind == "invite")
    assert invited == ["ann@example.org", "bob.stone@example.org", "ivan@example.org", "judy@example.org", "kim@example.org", "zoe@example.org"]
    assert sorted(op.target for op in plan if op.kind == "create_group") == ["backend", "design", "engineering", "platform"]
    outcome = teamsync.apply(plan, memory)
    assert outcome.is_success and outcome.done == len(plan)
    assert len(teamsync.plan(desired, memory.snapshot(), teamsync.Policy(group_sync="group_roots"))) == 0


def test_directory_errors(slapd: dict[str, str]) -> None:
    with pytest.raises(teamsync.DirectoryError) as bind:
        teamsync.LdapDirectory(**settings(slapd, bind_password="wrong")).snapshot()
    assert bind.value.kind == "bind"  # type: ignore[attr-defined]
    assert "wrong" not in str(bind.value)

    with pytest.raises(teamsync.DirectoryError) as untrusted:
        teamsync.LdapDirectory(**settings(slapd, ca_file=None)).snapshot()
    assert untrusted.value.kind == "connect"  # type: ignore[attr-defined]

    if "TEAMSYNC_SLAPD_LIMITED_DN" in slapd:
        limited = settings(slapd, bind_dn=slapd["TEAMSYNC_SLAPD_LIMITED_DN"], bind_password=slapd["TEAMSYNC_SLAPD_LIMITED_PW"])
        with pytest.raises(teamsync.DirectoryError) as incomplete:
            teamsync.LdapDirectory(**limited).snapshot()
        assert incomplete.value.kind == "incomplete"  # type: ignore[attr-defined]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.raises(teamsync.DirectoryError) as refused:
        teamsync.LdapDirectory(**settings(slapd, url=f"ldaps://127.0.0.1:{closed_port}", connect_timeout=5.0)).snapshot()
    assert refused.value.kind == "connect"  # type: ignore[attr-defined]


def test_unusable_settings_are_config_errors(slapd: dict[str, str]) -> None:
    with pytest.raises(teamsync.ConfigError, match="plain|clear"):
        teamsync.LdapDirectory(**settings(slapd, url=slapd["TEAMSYNC_SLAPD_URL"], starttls=False))
    with pytest.raises(teamsync.ConfigError, match="root"):
        teamsync.LdapDirectory(**settings(slapd, user_root_dns=[], group_root_dns=[]))
    with pytest.raises(teamsync.ConfigError, match="profile"):
        teamsync.LdapDirectory(**settings(slapd, profile="novell"))
    with pytest.raises(teamsync.ConfigError, match="page size"):
        teamsync.LdapDirectory(**settings(slapd, page_size=0))


def test_sync_from_an_ldap_config_with_the_password_from_the_environment(slapd: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    base = slapd["TEAMSYNC_SLAPD_BASE"]
    monkeypatch.setenv("TEAMSYNC_TEST_LDAP_PW", slapd["TEAMSYNC_SLAPD_BIND_PW"])
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    ldap = {
        "kind": "ldap",
        "url": slapd["TEAMSYNC_SLAPD_LDAPS_URL"],
        "ca_file": slapd["TEAMSYNC_SLAPD_CA"],
        "profile": "openldap",
        "base_dn": base,
        "bind_dn": slapd["TEAMSYNC_SLAPD_BIND_DN"],
        "bind_password": {"env": "TEAMSYNC_TEST_LDAP_PW"},
        "user_roots": [f"cn=dropbox,ou=groups,{base}"],
    }
    with Emulator() as emulator:
        monkeypatch.setenv("TEAMSYNC_TEST_TOKEN", emulator.access_token)
        config = {"directory": ldap, "team": {"base_url": emulator.base_url, "token": {"env": "TEAMSYNC_TEST_TOKEN"}}, "policy": {"group_sync": "off", "send_welcome_email": False}}
        dry = teamsync.sync(config)
        assert dry.outcome is None and dry.plan.counts == {"invite": 6}
        done = teamsync.sync(config, dry_run=False)
        assert done.outcome is not None and done.outcome.done == 6
        assert emulator.team().snapshot().member_count == 6
    with pytest.raises(teamsync.ConfigError, match="bind_dnn"):
        teamsync.sync({**config, "directory": {**ldap, "bind_dnn": "x"}})