#!/usr/bin/env python3
"""Sync a CSV export of people into a Dropbox team: by default the in-process emulator.

    python3 examples/sync_csv.py people.csv            # dry run: print the plan
    python3 examples/sync_csv.py people.csv --apply    # and apply it

The CSV has a header row with the columns ``id,email,given_name,surname`` and optionally
``enabled`` (``true``/``false``, default true) and ``groups`` (group names separated by ``;``).
Every row is in scope; each distinct group name becomes a synced Dropbox group.

Needs the ``teamsync`` package (``pip install ./bindings-python``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import teamsync
from teamsync.testing import Emulator

ROOT_GROUP_ID = "csv:all"


def desired_state_from_csv(path: Path) -> dict[str, Any]:
    """The CSV as a DesiredState dict: one root group holding every person, plus their groups."""
    users: list[dict[str, Any]] = []
    group_members: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            user_id = (row.get("id") or "").strip()
            if not user_id:
                raise SystemExit(f"{path}:{line}: the id column is empty")
            users.append(
                {
                    "id": user_id,
                    "email": row.get("email") or "",
                    "given_name": row.get("given_name") or "",
                    "surname": row.get("surname") or "",
                    "enabled": (row.get("enabled") or "true").strip().lower() not in ("false", "0", "no"),
                    "locator": f"{path.name}:{line}",
                }
            )
            for name in filter(None, (g.strip() for g in (row.get("groups") or "").split(";"))):
                group_members.setdefault(name, []).append(user_id)
    groups = [{"id": f"csv-group:{name}", "name": name, "members": members} for name, members in sorted(group_members.items())]
    # The root holds every person and every group: everyone is in scope, and the groups below
    # the root are synced (a root itself never becomes a Dropbox group).
    root = {"id": ROOT_GROUP_ID, "name": "Everyone in the CSV", "members": [u["id"] for u in users] + [g["id"] for g in groups]}
    return {"user_roots": [ROOT_GROUP_ID], "users": users, "groups": [root, *groups]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", type=Path, help="the CSV export")
    parser.add_argument("--apply", action="store_true", help="apply the plan (default: dry run)")
    parser.add_argument("--allow-deprovision", type=int, default=None, metavar="N", help="allow up to N suspensions and removals")
    args = parser.parse_args(argv)

    desired = teamsync.DesiredState.from_dict(desired_state_from_csv(args.csv))
    policy = teamsync.Policy(send_welcome_email=False)
    with Emulator(team_name="CSV demo") as emulator:
        team = emulator.team()
        plan = teamsync.plan(desired, team.snapshot(), policy)
        print(plan.render())
        if not args.apply:
            return 0
        try:
            outcome = teamsync.apply(plan, team, allow_deprovision=args.allow_deprovision)
        except teamsync.GuardRefusedError as refused:
            print(f"not applied: {refused}", file=sys.stderr)
            return 2
        print(f"applied: {outcome.done} done, {outcome.failed} failed, {outcome.skipped} skipped")
        for failure in outcome.failures:
            print(f"  failed: {failure['kind']} {failure['target']}: {failure['message']}", file=sys.stderr)
        members = emulator.state()["members"]
        print(f"the emulated team now has {len(members)} members")
        return 0 if outcome.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
