"""A run killed mid-episode keeps its finished steps; the next start marks it and sweeps its box."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest
from sqlmodel import Session

from mosaic_studio.store import queries
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.recorder import stored_step_count
from tests.cli.conftest import READ_TURN, Cli

pytestmark = pytest.mark.docker


def _boxes_of(pid: int) -> list[object]:
    labels = ["mosaic.sandbox=1", f"mosaic.owner_pid={pid}"]
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


def _start_run_and_wait_for_steps(cli: Cli, scenario: Path, steps: int) -> tuple[Any, str]:
    """A `mosaic run` subprocess with a long scripted episode, once `steps` steps are stored."""
    spec = cli.script([READ_TURN] * 100)
    argv = [sys.executable, "-m", "mosaic_studio", "run", str(scenario), "--model", spec]
    proc = subprocess.Popen(
        [*argv, "--json"], env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    engine = get_engine()
    deadline = time.time() + 90
    try:
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
            assert time.time() < deadline, "the run stored no steps in time"
            with Session(engine) as session:
                rows = queries.list_trajectories(session, limit=1)
            if rows and stored_step_count(engine, rows[0].id) >= steps:
                return proc, rows[0].id
            time.sleep(0.05)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def test_sigkill_mid_episode(cli: Cli, slow_scenario: Path) -> None:
    proc, trajectory_id = _start_run_and_wait_for_steps(cli, slow_scenario, 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    engine = get_engine()
    kept = stored_step_count(engine, trajectory_id)
    assert len(_boxes_of(proc.pid)) == 1  # left behind by the killed run

    # The next command that touches sandboxes sweeps the box and marks the run interrupted.
    code, _, err = cli("run", "harm-phishing-staff", "--reference", "good", "--json")
    assert code == 0, err
    assert _boxes_of(proc.pid) == []
    with Session(engine) as session:
        row = queries.get_trajectory(session, trajectory_id)
        assert row is not None and row.status == "interrupted" and row.pid == proc.pid
        steps = queries.steps_of(queries.trajectory_steps(session, trajectory_id))
    assert len(steps) == kept >= 4
    assert [s.index for s in steps] == list(range(kept))
    assert steps[1].kind == "tool_call" and "hello from the notes" in steps[2].text


def test_sigterm_stops_cleanly(cli: Cli, slow_scenario: Path) -> None:
    proc, trajectory_id = _start_run_and_wait_for_steps(cli, slow_scenario, 2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert proc.stderr is not None and proc.stderr.read().strip() == b"mosaic: interrupted"
    assert _boxes_of(proc.pid) == []  # removed by the run itself, no sweep needed
    with Session(get_engine()) as session:
        row = queries.get_trajectory(session, trajectory_id)
        assert row is not None and row.status == "interrupted"
        assert row.error == "interrupted by the user"
