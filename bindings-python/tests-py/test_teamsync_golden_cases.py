"""Golden plans shared with the Rust tests: every `sync-core/tests/cases/*.json` planned from
Python must give the operations (and the rendered table, the warnings' kinds and the figures,
when the file holds them) exactly as `sync-core/tests/golden_cases.rs` checks them. The cases
live only there: add a case as a file, not as a test here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import teamsync
from teamsync_test_support import ops

CASES = Path(__file__).resolve().parents[2] / "sync-core" / "tests" / "cases"


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.json"))


def test_the_case_files_are_there() -> None:
    assert _cases(), f"no golden cases in {CASES}"


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.stem)
def test_case_plans_as_written(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    plan = teamsync.plan(
        teamsync.DesiredState.from_dict(case["desired"]),
        teamsync.ActualState.from_dict(case["actual"]),
        teamsync.Policy(**case["policy"]),
    )
    assert ops(plan) == case["ops"]
    if "render" in case:
        assert plan.render() == case["render"]
        assert str(plan) == case["render"]
    if "warnings" in case:
        assert [w["kind"] for w in plan.warnings] == case["warnings"]
    for name, value in case.get("stats", {}).items():
        assert plan.stats[name] == value, name
