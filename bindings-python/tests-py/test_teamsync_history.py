"""The run history and the metrics file (issue 13), checked from Python:

* ``teamsync apply --metrics-file`` writes the Prometheus text format that a real parser
  (``prometheus_client.parser.text_string_to_metric_families``, what client libraries and
  exporters use) reads: every family and sample, the label values, a failed run's exit code;
* ``teamsync.sync()`` records its run when the config names ``history_dir``, and
  ``teamsync.history(config, user=None)`` reads the command's records and its own, per
  person too, skipping a forged file with a ``UserWarning`` naming it.

The ``teamsync`` binary: ``TEAMSYNC_BIN`` if set, else built with ``cargo build -p teamsync-cli``
and copied beside the test's files (as test_teamsync_config_parity.py does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import teamsync
from teamsync.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN_VAR = "TEAMSYNC_HISTORY_TOKEN"


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TEAMSYNC_BIN")
    if given:
        return Path(given)
    if shutil.which("cargo") is None:
        pytest.skip("SKIPPED history: no TEAMSYNC_BIN and no cargo to build the teamsync binary")
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "teamsync-target"))
    subprocess.run(["cargo", "build", "-q", "-p", "teamsync-cli"], cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    copy = tmp_path_factory.mktemp("bin") / "teamsync"
    shutil.copy2(target / "debug" / "teamsync", copy)
    return copy


def people(count: int) -> dict[str, Any]:
    return {
        "user_roots": ["Staff"],
        "groups": [{"name": "Staff", "id": "g-staff"}, {"name": "Sales", "id": "g-sales", "groups": ["Staff"]}],
        "people": [
            {"id": f"u{i}", "email": f"user{i}@corp.test", "given_name": f"User{i}", "surname": "Test", "groups": ["Sales"]}
            for i in range(count)
        ],
    }


def write_config(folder: Path, emulator: Emulator, extra: str = "") -> Path:
    (folder / "people.json").write_text(json.dumps(people(3)))
    config = folder / "teamsync.toml"
    config.write_text(
        f'{extra}log_file = "teamsync.log"\nlock_file = "teamsync.lock"\n\n'
        '[directory]\nkind = "file"\npath = "people.json"\n\n'
        f'[team]\nbase_url = "{emulator.base_url}"\ntoken = {{ env = "{TOKEN_VAR}" }}\n'
    )
    config.chmod(0o600)
    return config


def run(binary: Path, config: Path, emulator: Emulator, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, TOKEN_VAR: emulator.access_token, "NO_PROXY": "127.0.0.1"}
    return subprocess.run([str(binary), "--config", str(config), *args], env=env, capture_output=True, text=True, timeout=120)


def families(path: Path) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(path.read_text())}


def value(family: Any, **labels: str) -> float:
    matches = [s.value for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (family.name, labels, family.samples)
    return float(matches[0])


def test_the_metrics_file_parses_with_prometheus_clients_own_parser(binary: Path, tmp_path: Path) -> None:
    with Emulator() as emulator:
        config = write_config(tmp_path, emulator)
        metrics = tmp_path / "teamsync.prom"
        done = run(binary, config, emulator, "apply", "--metrics-file", str(metrics))
        assert done.returncode == 0, done.stderr
        parsed = families(metrics)
        # prometheus_client drops the _total-less gauge names as they are.
        assert {
            "teamsync_last_run_timestamp_seconds",
            "teamsync_last_run_exit_code",
            "teamsync_last_run_success",
            "teamsync_last_run_duration_seconds",
            "teamsync_last_run_operations",
            "teamsync_last_run_directory_users",
            "teamsync_last_run_team_members",
            "teamsync_build_info",
        } <= set(parsed)
        assert all(f.type == "gauge" for f in parsed.values())
        assert value(parsed["teamsync_last_run_exit_code"], command="apply") == 0
        assert value(parsed["teamsync_last_run_success"], command="apply") == 1
        assert value(parsed["teamsync_last_run_operations"], command="apply", kind="invite", result="done") == 3
        assert value(parsed["teamsync_last_run_operations"], command="apply", kind="create_group", result="done") == 1
        assert value(parsed["teamsync_last_run_directory_users"], command="apply") == 3
        assert value(parsed["teamsync_last_run_team_members"], command="apply") == 0
        assert value(parsed["teamsync_last_run_timestamp_seconds"], command="apply") > 1.7e9
        assert value(parsed["teamsync_last_run_duration_seconds"], command="apply") >= 0
        assert value(parsed["teamsync_build_info"], version=teamsync.__version__) == 1

        # A failed run: its exit code, and no made-up counts for what it never read.
        (tmp_path / "people.json").unlink()
        failed = run(binary, config, emulator, "plan", "--metrics-file", str(metrics))
        assert failed.returncode == 5, failed.stderr
        parsed = families(metrics)
        assert value(parsed["teamsync_last_run_exit_code"], command="plan") == 5
        assert value(parsed["teamsync_last_run_success"], command="plan") == 0
        assert parsed["teamsync_last_run_directory_users"].samples == []
        assert not list(tmp_path.glob(".teamsync.prom.*")), "no temp file left behind"


def test_sync_records_and_history_reads_the_commands_runs_too(binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emulator:
        # The command's default folder (beside the log), named explicitly so that sync() records.
        config = write_config(tmp_path, emulator, extra='history_dir = "history"\nhistory_keep = 50\n')
        assert run(binary, config, emulator, "plan").returncode == 0
        monkeypatch.setenv(TOKEN_VAR, emulator.access_token)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        result = teamsync.sync(str(config), dry_run=False)
        assert result.applied

        runs = teamsync.history(str(config))
        assert [r["command"] for r in runs] == ["plan", "apply"]
        assert [r["exit_code"] for r in runs] == [0, 0]
        applied = runs[1]
        assert applied["file"].startswith("run-") and applied["file"].endswith(".json")
        assert applied["directory"] == {"users": 3, "groups": 2}
        assert applied["team"] == {"members": 0, "groups": 0}
        assert applied["guard"]["verdict"] == "within_limits"
        assert {op["result"] for op in applied["operations"]} == {"done"}

        mine = teamsync.history(teamsync.Config.load(str(config)), user="u1")
        assert [r["command"] for r in mine] == ["plan", "apply"]
        assert [op["kind"] for op in mine[1]["operations"]] == ["invite", "add_group_member"]
        assert all(op["email"] == "user1@corp.test" for op in mine[1]["operations"])

        # A failed sync is recorded with the command's exit code and the error.
        (tmp_path / "people.json").unlink()
        with pytest.raises(teamsync.DirectoryError):
            teamsync.sync(str(config), dry_run=True)
        last = teamsync.history(str(config))[-1]
        assert last["exit_code"] == 5
        assert "people.json" in last["error"]

        # A forged file is skipped, named in a warning; the rest is read.
        (tmp_path / "history" / "run-forged.json").write_text("{not json")
        with pytest.warns(UserWarning, match="run-forged.json not read: not a run record"):
            runs = teamsync.history(str(config))
        assert len(runs) == 3
