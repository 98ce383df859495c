"""Blocking calls release the GIL (another Python thread runs during a 200k-user plan), and
Ctrl-C interrupts a blocking call instead of being swallowed.

No timings are asserted. The GIL check is a race the other thread can only win with the GIL
released: it must finish WORK bytecode iterations (several of CPython's 5 ms switch intervals)
before the call returns. A call holding the GIL throughout (the control: C `json.dumps` of the
same data) lets it run at most one interval before the caller marks the call returned.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import pytest

import teamsync
from teamsync.testing import Emulator
from teamsync_test_support import big_team

WORK = 1_000_000


def other_thread_finishes_during(call: Callable[[], Any]) -> bool:
    go = threading.Event()
    state = {"returned": False, "finished_during_call": False}

    def count() -> None:
        go.wait()
        n = 0
        for _ in range(WORK):
            n += 1
        state["finished_during_call"] = not state["returned"]

    worker = threading.Thread(target=count)
    worker.start()
    go.set()
    call()
    state["returned"] = True
    worker.join()
    return state["finished_during_call"]


@pytest.fixture(scope="module")
def big_directory() -> dict[str, Any]:
    desired, _ = big_team(200_000)
    return desired


def test_plan_releases_the_gil(big_directory: dict[str, Any]) -> None:
    desired = teamsync.DesiredState.from_dict(big_directory)
    empty = teamsync.ActualState()
    policy = teamsync.Policy()
    plans: list[teamsync.Plan] = []
    assert other_thread_finishes_during(lambda: plans.append(teamsync.plan(desired, empty, policy)))
    assert len(plans[0]) == 200_000


def test_the_control_holding_the_gil_does_not_let_the_thread_finish(big_directory: dict[str, Any]) -> None:
    # Proves the harness can tell: json.dumps (C) holds the GIL for the whole call.
    assert not other_thread_finishes_during(lambda: json.dumps(big_directory))


def test_ctrl_c_interrupts_a_blocking_call() -> None:
    with Emulator(faults={"latency_ms": 3000}) as emulator:
        team = emulator.team()
        timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
        try:
            # Started inside the block, so that the signal cannot land outside it.
            with pytest.raises(KeyboardInterrupt):
                timer.start()
                team.snapshot()
        finally:
            timer.cancel()
        # The extension is still usable afterwards.
        emulator.set_faults({})
        assert team.snapshot().member_count == 0
