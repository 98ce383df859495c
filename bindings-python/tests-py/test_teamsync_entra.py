"""EntraDirectory end to end: the Graph emulator (teamsync.testing.GraphEmulator) -> plan ->
the Dropbox emulator, from Python, with nested groups, a disabled user, a guest, a user without
`mail` and a soft-deleted user; a second run writes nothing. The same directory through
``teamsync.sync`` with the config's ``[directory] kind = "entra"`` as a dict, byte for byte the
command's ``plan --json`` for the same config file, and its errors mapped onto the exception
hierarchy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import teamsync
from teamsync.testing import Emulator, GraphEmulator
from test_teamsync_config_parity import TOKEN_VAR, binary  # noqa: F401  (the module's fixture)

TENANT = "7e1ea5e0-0000-4000-8000-00000000c0de"
APP = "a99c11e0-0000-4000-8000-000000000001"
SECRET = "s3cr3t~Value.of-the-test-app"
CERT_APP = "a99c11e0-0000-4000-8000-000000000002"
FIXTURES = Path(__file__).resolve().parents[2] / "sync-entra" / "tests" / "fixtures"
ROLES = ["User.Read.All", "GroupMember.Read.All"]


def oid(name: str) -> str:
    """A GUID-shaped object id from a short name (as sync-entra's tests make them)."""
    return f"00000000-0000-4000-8000-{name.encode().hex()[:12]:0>12}"


def user(name: str, **fields: Any) -> dict[str, Any]:
    u: dict[str, Any] = {
        "id": oid(name),
        "displayName": f"{name} display",
        "givenName": name.capitalize(),
        "surname": "Entra",
        "mail": f"{name}@contoso.com",
        "userPrincipalName": f"{name}@contoso.com",
        "accountEnabled": True,
        "userType": "Member",
    }
    u.update(fields)
    return u


def tenant() -> dict[str, Any]:
    """Root "Dropbox Users": ann, bob (no mail: his UPN), cat (disabled), dan (a guest), and
    "Engineering", which holds fay and, nested, "Ops" with eve. hal is soft-deleted."""
    return {
        "tenant_id": TENANT,
        "apps": [
            {"client_id": APP, "client_secret": SECRET, "roles": ROLES},
            {"client_id": CERT_APP, "certificates": [(FIXTURES / "cert.pem").read_text()], "roles": ROLES},
        ],
        "users": [
            user("ann"),
            user("bob", mail=None, userPrincipalName="bob@contoso.com"),
            user("cat", accountEnabled=False),
            user("dan", userType="Guest", mail="dan@partner.example", userPrincipalName="dan_partner.example#EXT#@contoso.onmicrosoft.com"),
            user("eve"),
            user("fay"),
        ],
        "groups": [
            {"id": oid("g-root"), "displayName": "Dropbox Users", "members": [oid("ann"), oid("bob"), oid("cat"), oid("dan"), oid("g-eng")]},
            {"id": oid("g-eng"), "displayName": "Engineering", "members": [oid("fay"), oid("g-ops")]},
            {"id": oid("g-ops"), "displayName": "Ops", "members": [oid("eve")]},
        ],
        "deleted_users": [user("hal", deletedDateTime="2026-11-30T10:00:00Z")],
    }


@pytest.fixture
def graph() -> Any:
    with GraphEmulator() as emulator:
        emulator.seed(tenant())
        yield emulator


def test_graph_to_dropbox_end_to_end_and_a_second_run_writes_nothing(graph: GraphEmulator) -> None:
    directory = graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"])
    desired = directory.snapshot()
    users = {u["email"]: u for u in desired.to_dict()["users"]}
    # The guest is left out by default; bob's email is his UPN; cat is read, disabled.
    assert sorted(users) == ["ann@contoso.com", "bob@contoso.com", "cat@contoso.com", "eve@contoso.com", "fay@contoso.com"]
    assert users["cat@contoso.com"]["enabled"] is False
    assert users["ann@contoso.com"]["id"] == oid("ann")
    assert directory.requests_sent() > 0

    with Emulator() as dropbox:
        dropbox.seed(
            {
                "members": [
                    {"email": "admin@contoso.com", "given_name": "Ad", "surname": "Min", "is_admin": True},
                    # hal was provisioned by teamsync and is soft-deleted in Entra now.
                    {"email": "hal@contoso.com", "given_name": "Hal", "surname": "Entra", "external_id": f"teamsync:{oid('hal')}"},
                ]
            }
        )
        team = dropbox.team()
        policy = teamsync.Policy(send_welcome_email=False, on_delete="remove")
        plan = teamsync.plan(desired, team.snapshot(), policy)
        by_target = {(op.kind, op.target) for op in plan}
        # Nested groups flattened: eve is in scope through Engineering -> Ops.
        for email in ("ann@contoso.com", "bob@contoso.com", "eve@contoso.com", "fay@contoso.com"):
            assert ("invite", email) in by_target, plan.render()
        assert not any(op.target.startswith(("cat@", "dan@")) for op in plan if op.kind == "invite")
        assert ("remove", "hal@contoso.com") in by_target, plan.render()
        assert ("create_group", "Engineering") in by_target

        outcome = teamsync.apply(plan, team, allow_deprovision=1)
        assert outcome.is_success, outcome.failures
        dropbox.reset_call_counts()

        again = teamsync.plan(graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"]).snapshot(), team.snapshot(), policy)
        assert again.is_empty, again.render()
        assert teamsync.apply(again, team).done == 0
        writes = {route: n for route, n in dropbox.call_counts().items() if not route.endswith(("/list", "/list/continue", "/get_info", "members/list_v2", "members/list/continue_v2"))}
        assert writes == {}, writes


def test_a_certificate_credential_reads_the_same_people(graph: GraphEmulator) -> None:
    by_secret = graph.directory(TENANT, APP, client_secret=SECRET, root_groups=[oid("g-root")]).snapshot()
    by_certificate = graph.directory(TENANT, CERT_APP, certificate_file=FIXTURES / "app.pem", root_groups=[oid("g-root")]).snapshot()
    assert by_secret == by_certificate
    assert by_secret.user_count == 5


def test_guests_and_email_rules_are_the_config_keys(graph: GraphEmulator) -> None:
    with_guests = graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"], include_guests=True).snapshot()
    assert "dan@partner.example" in {u["email"] for u in with_guests.to_dict()["users"]}
    no_upn = graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"], email={"fallback_to_upn": False}).snapshot()
    emails = {u["email"] for u in no_upn.to_dict()["users"]}
    assert "bob@contoso.com" not in emails


def test_sync_runs_an_entra_config_given_as_a_dict(graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMSYNC_TEST_ENTRA_SECRET", SECRET)
    with Emulator() as dropbox:
        monkeypatch.setenv("TEAMSYNC_TEST_DROPBOX_TOKEN", dropbox.access_token)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        config = {
            "directory": graph.directory_config(
                TENANT, APP, client_secret={"env": "TEAMSYNC_TEST_ENTRA_SECRET"}, root_groups=["Dropbox Users"], email={"fallback_to_upn": True}
            ),
            "team": {"base_url": dropbox.base_url, "token": {"env": "TEAMSYNC_TEST_DROPBOX_TOKEN"}},
            "policy": {"send_welcome_email": False},
        }
        assert teamsync.Config.from_dict(config).directory_kind == "entra"
        result = teamsync.sync(config, dry_run=False)
        assert result.outcome is not None and result.outcome.is_success
        assert result.outcome.done == len(result.plan) > 0
        assert teamsync.sync(config).plan.is_empty


def test_errors_are_the_hierarchy_s(graph: GraphEmulator) -> None:
    with pytest.raises(teamsync.DirectoryError) as refused:
        graph.directory(TENANT, APP, client_secret="wrong", root_groups=["Dropbox Users"]).snapshot()
    assert refused.value.kind == "bind"
    assert SECRET not in str(refused.value) and "wrong" not in str(refused.value)
    with pytest.raises(teamsync.DirectoryError) as missing:
        graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["No Such Group"]).snapshot()
    assert missing.value.kind == "root_not_found"
    with pytest.raises(teamsync.ConfigError, match="exactly one of"):
        teamsync.EntraDirectory(TENANT, APP, client_secret=SECRET, certificate="PEM")
    with pytest.raises(teamsync.ConfigError, match="go together"):
        teamsync.EntraDirectory(TENANT, APP, client_secret=SECRET, authority_url=graph.base_url)
    with pytest.raises(teamsync.ConfigError, match="email"):
        teamsync.EntraDirectory(TENANT, APP, client_secret=SECRET, email={"fallback_to_UPN": True})  # type: ignore[arg-type]
    with pytest.raises(teamsync.ConfigError, match="unknown id"):
        teamsync.EntraDirectory(TENANT, APP, client_secret=SECRET, id="upn")  # type: ignore[arg-type]
    with pytest.raises(teamsync.EmulatorError):
        graph.seed({"users": [{"displayName": "no id"}]})


def test_check_names_the_permissions_the_app_lacks(graph: GraphEmulator) -> None:
    assert graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"]).check()["missing"] == []
    seed = tenant()
    seed["apps"][0]["roles"] = ["User.Read.All"]
    graph.seed(seed)
    report = graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"]).check()
    assert report["missing"] == ["GroupMember.Read.All"], report
    assert report["roles"] == ["User.Read.All"]


def test_a_dropped_page_fails_the_read_whole_and_a_retry_converges(graph: GraphEmulator) -> None:
    def directory(**options: Any) -> teamsync.EntraDirectory:
        return graph.directory(TENANT, APP, client_secret=SECRET, root_groups=["Dropbox Users"], **options)

    healthy = directory().snapshot()
    # Every time: no partial snapshot, an incomplete read.
    graph.set_faults({"drop_on_page": {"listing": "users", "page": 1}})
    with pytest.raises(teamsync.DirectoryError) as dropped:
        directory(max_attempts=1).snapshot()
    assert dropped.value.kind == "incomplete", dropped.value
    # Once: the retry reads the same people.
    graph.set_faults({"drop_on_page": {"listing": "users", "page": 1, "times": 1}})
    assert directory().snapshot() == healthy
    with pytest.raises(teamsync.ConfigError, match="max_attempts"):
        directory(max_attempts=0)


def test_an_entra_config_plans_byte_for_byte_like_the_command(  # noqa: F811
    binary: Path, graph: GraphEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as dropbox:
        config = tmp_path / "teamsync.toml"
        config.write_text(
            f'[directory]\nkind = "entra"\ntenant_id = "{TENANT}"\nclient_id = "{APP}"\n'
            'client_secret = { env = "TEAMSYNC_TEST_ENTRA_SECRET" }\nroot_groups = ["Dropbox Users"]\n'
            f'authority_url = "{graph.base_url}"\ngraph_url = "{graph.base_url}"\n\n'
            f'[team]\nbase_url = "{dropbox.base_url}"\ntoken = {{ env = "{TOKEN_VAR}" }}\n\n'
            "[policy]\nsend_welcome_email = false\n"
        )
        config.chmod(0o600)
        env = {**os.environ, TOKEN_VAR: dropbox.access_token, "TEAMSYNC_TEST_ENTRA_SECRET": SECRET, "NO_PROXY": "127.0.0.1"}
        command = subprocess.run([str(binary), "--config", str(config), "plan", "--json"], capture_output=True, text=True, env=env, timeout=120)
        assert command.returncode == 0, command.stderr
        for name in (TOKEN_VAR, "TEAMSYNC_TEST_ENTRA_SECRET", "NO_PROXY"):
            monkeypatch.setenv(name, env[name])
        python = teamsync.sync(config)
    assert command.stdout == python.plan.to_json() + "\n"
    assert len(python.plan) > 0
