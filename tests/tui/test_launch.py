"""What `mosaic` does before the app opens: sweep leftover sandboxes, mark interrupted runs."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.store.tables import Trajectory
from mosaic_studio.tui import launch


def test_startup_marks_interrupted_trajectories_and_reports_the_sweep(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as session:
        session.add(
            Trajectory(
                id="dead000000000001",
                scenario_id="s",
                category="benign",
                model_spec="smollm2",
                status="running",
                pid=2**22 + 12345,
            )
        )
        session.commit()
    swept: list[bool] = []

    def fake_sweep(client: object = None) -> int:
        swept.append(True)
        return 2

    monkeypatch.setattr("sandboxes.sandbox.docker_available", lambda: None)
    monkeypatch.setattr("sandboxes.sandbox.sweep", fake_sweep)
    notes = launch.startup_housekeeping()
    assert swept == [True]
    assert notes == [
        "removed 2 leftover sandbox container(s)",
        "marked 1 interrupted trajectory(ies)",
    ]
    with Session(engine) as session:
        row = session.get(Trajectory, "dead000000000001")
        assert row is not None and row.status == "interrupted"


def test_startup_without_docker_skips_the_sweep(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sandboxes.sandbox.docker_available", lambda: "Docker is down")
    monkeypatch.setattr("sandboxes.sandbox.sweep", lambda client=None: pytest.fail("swept"))
    assert launch.startup_housekeeping() == []
