"""Several processes and threads share one SQLite file: first-use migration and step writes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy.engine import Engine

from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store.db import HEAD_REVISION, current_revision, get_engine
from mosaic_studio.store.recorder import TrajectoryRecorder, stored_step_count
from sandboxes.scenario import Scenario
from sandboxes.steps import Step, StepKind


def test_processes_racing_to_migrate_a_new_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = f"from mosaic_studio.store.db import get_engine; get_engine({url!r})"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert current_revision(get_engine(url)) == HEAD_REVISION


def test_threads_write_steps_at_the_same_time(engine: Engine, scenario: Scenario) -> None:
    settings = SamplingSettings()
    recorders = [TrajectoryRecorder(engine, scenario, f"m{i}", settings) for i in range(3)]
    errors: list[BaseException] = []

    def write(recorder: TrajectoryRecorder) -> None:
        try:
            for index in range(40):
                recorder.step_finished(0, Step(index=index, kind=StepKind.PLAN, text="x" * 500))
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [stored_step_count(engine, r.trajectory_id(0)) for r in recorders] == [40, 40, 40]
