"""The stubs type-check real code under `mypy --strict` (and catch a wrong call), and the CSV
example syncs into the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sync_csv.py"

TYPED_SCRIPT = '''
from typing import Any

import teamsync
from teamsync.testing import Emulator


def run(data: dict[str, Any]) -> list[str]:
    desired = teamsync.DesiredState.from_dict(data)
    policy = teamsync.Policy(on_leave="remove", max_deprovision={"floor": 5, "percent": 1.0})
    with Emulator() as emulator:
        team: teamsync.DropboxTeam = emulator.team()
        plan: teamsync.Plan = teamsync.plan(desired, team.snapshot(), policy)
        verbs = [op.verb for op in plan]
        if plan.needs_permission:
            return verbs
        try:
            outcome: teamsync.Outcome = teamsync.apply(plan, team, allow_deprovision=3)
        except teamsync.GuardRefusedError as refused:
            return [str(refused)]
        counts: dict[str, int] = emulator.call_counts()
        return verbs + [str(outcome.done), str(len(counts))]


config: teamsync.Config = teamsync.Config.from_dict({"directory": {"kind": "file", "path": "people.json"}})
result: teamsync.SyncResult = teamsync.sync(config, dry_run=True)
outcome: teamsync.Outcome | None = result.outcome
memory = teamsync.MemoryTeam()
memory.inject_fault("invite", kind="conflict")
only: teamsync.SyncResult = teamsync.sync(config, only=["ann@example.org"])
restricted: teamsync.Plan = result.plan.only(["ann"], result.desired, result.actual)
rules: dict[str, Any] = teamsync.Policy(rules={"scope": []}).rules
ldap = teamsync.LdapDirectory(
    "ldaps://ldap.example.org", "dc=example,dc=org", bind="external",
    client_cert_file="client.pem", client_key_file="client.key",
)
kerberos = teamsync.LdapDirectory("ldaps://dc.example.org", "dc=example,dc=org", bind="gssapi", kerberos_fqdn="dc.example.org")


def entra() -> teamsync.DesiredState:
    from teamsync.testing import GraphEmulator

    with GraphEmulator() as graph:
        graph.seed({"tenant_id": "t"})
        directory: teamsync.EntraDirectory = graph.directory("t", "app", client_secret="s", root_groups=["Staff"])
        table: dict[str, Any] = graph.directory_config("t", "app", client_secret={"env": "SECRET"})
        return directory.snapshot()


certificate = teamsync.EntraDirectory("t", "app", certificate_file="app.pem", id="on_premises_immutable_id", email={"fallback_to_upn": False})
'''

WRONG_SCRIPT = '''
import teamsync

plan = teamsync.plan(teamsync.DesiredState(), teamsync.ActualState(), "strict")
count: str = plan.counts
teamsync.MemoryTeam().inject_fault("invitee")
teamsync.LdapDirectory("ldaps://x", "dc=x", bind="ntlm")
teamsync.EntraDirectory("t", "app", email={"fallback": True})
'''


def mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_mypy_strict_accepts_the_example_and_a_typed_script(tmp_path: Path) -> None:
    script = tmp_path / "typed_use.py"
    script.write_text(TYPED_SCRIPT)
    for path in (EXAMPLE, script):
        checked = mypy(path, tmp_path / "cache")
        assert checked.returncode == 0, f"{path}:\n{checked.stdout}{checked.stderr}"


def test_mypy_strict_accepts_the_package_sources(tmp_path: Path) -> None:
    # The pure-Python part of the package, checked against the native module's stubs.
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), "teamsync"],
        cwd=REPO / "bindings-python" / "python",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mypy_strict_rejects_wrong_use(tmp_path: Path) -> None:
    script = tmp_path / "wrong_use.py"
    script.write_text(WRONG_SCRIPT)
    checked = mypy(script, tmp_path / "cache")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    # One error per wrong line: a str for a Policy, a dict for a str, an unknown store call,
    # an unknown bind, an unknown email key.
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert sorted({int(line.split(":")[1]) for line in errors}) == [4, 5, 6, 7, 8], checked.stdout


def test_sync_csv_example_applies_into_the_emulator(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "id,email,given_name,surname,enabled,groups\n"
        "1,ann@x.com,Ann,Lee,true,Sales;EMEA\n"
        "2,bob@x.com,Bob,Bee,,Sales\n"
        "3,cid@x.com,Cid,Sea,false,\n"
        "4,bad-email,Dee,Eff,true,\n"
    )
    dry = subprocess.run([sys.executable, str(EXAMPLE), str(people)], capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "Plan: 7 operations (3 add to group, 2 create group, 2 invite), 1 warning." in dry.stdout
    assert '"bad-email" is not an address Dropbox accepts' in dry.stdout
    assert "applied" not in dry.stdout

    applied = subprocess.run([sys.executable, str(EXAMPLE), str(people), "--apply"], capture_output=True, text=True, timeout=120)
    assert applied.returncode == 0, applied.stderr
    assert "applied: 7 done, 0 failed, 0 skipped" in applied.stdout
    assert "the emulated team now has 2 members" in applied.stdout
