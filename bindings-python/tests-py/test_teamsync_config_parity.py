"""The command and Python run the same library: the command's own config, through
``teamsync.sync(path, dry_run=True)``, gives byte for byte the plan JSON of
``teamsync plan --json``, for every file source and for LDAP (the slapd fixture); and the
OpenLDAP deleted-user case comes out as the same ``on_delete`` operation from both.

The ``teamsync`` binary: ``TEAMSYNC_BIN`` if set, else built with ``cargo build -p teamsync-cli``
and copied beside the test's files (the shared target folder's binary can be replaced by
another build while the test runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import teamsync
from teamsync.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN_VAR = "TEAMSYNC_PARITY_TOKEN"
SLAPD_VARS = ("TEAMSYNC_SLAPD_LDAPS_URL", "TEAMSYNC_SLAPD_CA", "TEAMSYNC_SLAPD_BASE", "TEAMSYNC_SLAPD_BIND_DN", "TEAMSYNC_SLAPD_BIND_PW")
# An entryUUID no entry of the fixture has: a managed member with it was deleted in slapd.
DELETED_ID = "0badc0de-0000-4000-8000-00000000dead"


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TEAMSYNC_BIN")
    if given:
        return Path(given)
    if shutil.which("cargo") is None:
        pytest.skip("SKIPPED config parity: no TEAMSYNC_BIN and no cargo to build the teamsync binary")
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "teamsync-target"))
    subprocess.run(["cargo", "build", "-q", "-p", "teamsync-cli"], cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    copy = tmp_path_factory.mktemp("bin") / "teamsync"
    shutil.copy2(target / "debug" / "teamsync", copy)
    return copy


def seed() -> dict[str, Any]:
    return {
        "members": [
            {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": True},
            {"email": "ann@corp.test", "given_name": "Ann", "surname": "Old", "external_id": "teamsync:1"},
            {"email": "gone@corp.test", "given_name": "Gone", "surname": "Away", "external_id": "teamsync:9"},
        ]
    }


def write_config(folder: Path, emulator: Emulator, directory: str, policy: str = "") -> Path:
    config = folder / "teamsync.toml"
    config.write_text(
        f'log_file = "teamsync.log"\nlock_file = "teamsync.lock"\n\n[directory]\n{directory}\n'
        f'[team]\nbase_url = "{emulator.base_url}"\ntoken = {{ env = "{TOKEN_VAR}" }}\n\n'
        f'[policy]\nsend_welcome_email = false\nmax_deprovision = {{ floor = 50, percent = 100 }}\n{policy}'
    )
    config.chmod(0o600)
    return config


def both_plans(binary: Path, config: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    env = {**os.environ, TOKEN_VAR: emulator.access_token, "NO_PROXY": "127.0.0.1"}
    command = subprocess.run([str(binary), "--config", str(config), "plan", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert command.returncode == 0, command.stderr
    monkeypatch.setenv(TOKEN_VAR, emulator.access_token)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    python = teamsync.sync(str(config), dry_run=True)
    assert not python.applied
    return command.stdout, python.plan.to_json() + "\n"


SIMPLE = {
    "user_roots": ["Staff"],
    "groups": [{"name": "Staff"}, {"name": "Eng", "groups": ["Staff"]}],
    "people": [
        {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Eng"]},
        {"id": "2", "email": "bob@corp.test", "given_name": "Bob", "surname": "Stone", "groups": ["Staff"]},
    ],
}
STATE = {
    "user_roots": ["g-staff"],
    "groups": [{"id": "g-staff", "name": "Staff", "members": ["1", "2"]}],
    "users": [
        {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee"},
        {"id": "2", "email": "bob@corp.test", "given_name": "Bob", "surname": "Stone"},
    ],
}
LDIF = """dn: cn=staff,ou=groups,dc=corp
objectClass: groupOfNames
cn: staff
entryUUID: 00000000-0000-4000-8000-0000000000a1
member: uid=ann,ou=people,dc=corp
member: uid=bob,ou=people,dc=corp

dn: uid=ann,ou=people,dc=corp
objectClass: inetOrgPerson
uid: ann
entryUUID: 1
mail: ann@corp.test
givenName: Ann
sn: Lee

dn: uid=bob,ou=people,dc=corp
objectClass: inetOrgPerson
uid: bob
entryUUID: 2
mail: bob@corp.test
givenName: Bob
sn: Stone
"""
CSV = "id,email,given_name,surname,enabled,groups\n1,ann@corp.test,Ann,Lee,,Staff\n2,bob@corp.test,Bob,Stone,no,Staff\n3,cy@corp.test,Cy,Moss,maybe,Staff\n"

FILE_SOURCES = {
    "simple_json": ("people.json", json.dumps(SIMPLE), ""),
    "state_json": ("state.json", json.dumps(STATE), ""),
    "ldif": ("export.ldif", LDIF, 'user_roots = ["staff"]\n'),
    "csv": ("people.csv", CSV, 'user_roots = ["Staff"]\n'),
}


@pytest.mark.parametrize("source", sorted(FILE_SOURCES))
def test_file_sources_plan_byte_for_byte_like_the_command(source: str, binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name, text, extra = FILE_SOURCES[source]
    (tmp_path / name).write_text(text)
    with Emulator() as emulator:
        emulator.seed(seed())
        config = write_config(tmp_path, emulator, f'kind = "file"\npath = "{name}"\nformat = "{source}"\n{extra}')
        command, python = both_plans(binary, config, emulator, monkeypatch)
    assert command == python
    plan = json.loads(command)
    assert plan["operations"], "a plan with operations, not two empty ones"
    # The command's own keys (log_file, lock_file) are accepted by Python too; Config.load exists.
    assert teamsync.Config.load(config).directory_kind == "file"


def slapd_or_skip() -> dict[str, str]:
    missing = [name for name in SLAPD_VARS if not os.environ.get(name)]
    if missing:
        pytest.skip(f"SKIPPED slapd parity: {', '.join(missing)} not set (scripts/fixtures/slapd.sh start DIR; scripts/test.sh does it)")
    return {name: os.environ[name] for name in SLAPD_VARS}


def ldap_directory(env: dict[str, str]) -> str:
    base = env["TEAMSYNC_SLAPD_BASE"]
    return (
        f'kind = "ldap"\nurl = "{env["TEAMSYNC_SLAPD_LDAPS_URL"]}"\nca_file = "{env["TEAMSYNC_SLAPD_CA"]}"\n'
        f'profile = "openldap"\nbase_dn = "{base}"\nbind_dn = "{env["TEAMSYNC_SLAPD_BIND_DN"]}"\n'
        f'bind_password = {{ env = "TEAMSYNC_PARITY_LDAP_PW" }}\nuser_roots = ["cn=dropbox,ou=groups,{base}"]\n'
    )


def test_ldap_plan_and_the_openldap_deleted_user_match_the_command(binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = slapd_or_skip()
    monkeypatch.setenv("TEAMSYNC_PARITY_LDAP_PW", env["TEAMSYNC_SLAPD_BIND_PW"])
    with Emulator() as emulator:
        emulator.seed(
            {
                "members": [
                    {"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": True},
                    {"email": "deleted@example.org", "given_name": "Del", "surname": "Eted", "external_id": f"teamsync:{DELETED_ID}"},
                ]
            }
        )
        # on_leave and on_delete differ, so the operation shows which rule the run applied.
        config = write_config(tmp_path, emulator, ldap_directory(env), 'group_sync = "off"\non_leave = "suspend"\non_delete = "remove"\n')
        command, python = both_plans(binary, config, emulator, monkeypatch)
    assert command == python
    ops = json.loads(python)["operations"]
    deleted = [op for op in ops if op["target"] == "deleted@example.org"]
    assert [op["kind"] for op in deleted] == ["remove"], deleted
