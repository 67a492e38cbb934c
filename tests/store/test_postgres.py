"""The store on a real PostgreSQL server started on loopback: migrations, recorder, queries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store import queries
from mosaic_studio.store.db import HEAD_REVISION, current_revision, dispose_engines, get_engine
from mosaic_studio.store.liveness import mark_interrupted
from mosaic_studio.store.queries import TrajectoryFilter
from mosaic_studio.store.recorder import TrajectoryRecorder, stored_step_count
from sandboxes.steps import Step, StepKind
from tests.store.conftest import make_scenario

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    pytest.importorskip("psycopg", reason="the psycopg driver is a dev dependency")
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="mosaic-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    init = ["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run(_as_postgres_user(init), check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = ["pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    subprocess.run(_as_postgres_user(start), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        dispose_engines()
        stop = ["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres_user(stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg(pg_url: str) -> Engine:
    return get_engine(pg_url)


def test_migrations_build_the_model_schema_on_postgres(pg: Engine) -> None:
    assert current_revision(pg) == HEAD_REVISION
    with pg.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_recorder_and_queries_on_postgres(pg: Engine) -> None:
    scenario = make_scenario("pg-1")
    recorder = TrajectoryRecorder(pg, scenario, "smollm2", SamplingSettings())
    recorder.step_finished(0, Step(index=0, kind=StepKind.PLAN, text="think"))
    recorder.step_finished(0, Step(index=1, kind=StepKind.REFUSAL, text="no"))
    tid = recorder.trajectory_id(0)
    assert stored_step_count(pg, tid) == 2
    with Session(pg) as session:
        queries.register_model_version(session, "smollm2")
        assert queries.scenario_version(session, scenario).id is not None
        where = TrajectoryFilter(scenario="pg-1", model="smollm2", status="running")
        assert [t.id for t in queries.list_trajectories(session, where)] == [tid]
        assert queries.count_trajectories(session, TrajectoryFilter(refused=True)) == 0
        assert queries.resolve_trajectory_id(session, tid[:6]) == tid
        assert queries.distinct_values(session, "model_spec") == ["smollm2"]
        records = queries.trajectory_steps(session, tid)
        assert [s.kind for s in queries.steps_of(records)] == ["plan", "refusal"]
    assert mark_interrupted(pg) == []  # its writer (this process) is alive
