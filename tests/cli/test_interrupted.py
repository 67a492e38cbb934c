"""A run killed mid-episode keeps its finished steps; the next start marks it and sweeps its box."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_sigkill_mid_episode(cli: Cli, slow_scenario: Path) -> None:
    spec = cli.script([READ_TURN] * 100)
    argv = [sys.executable, "-m", "mosaic_studio", "run", str(slow_scenario), "--model", spec]
    proc = subprocess.Popen(
        [*argv, "--json"], env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    engine = get_engine()
    try:
        deadline = time.time() + 90
        trajectory_id = None
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
            assert time.time() < deadline, "the run stored no steps in time"
            with Session(engine) as session:
                rows = queries.list_trajectories(session, limit=1)
            trajectory_id = rows[0].id if rows else None
            if trajectory_id and stored_step_count(engine, trajectory_id) >= 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert trajectory_id is not None
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
