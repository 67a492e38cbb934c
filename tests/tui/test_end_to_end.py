"""The real `mosaic` command in a pseudo-terminal: open, run one scripted scenario, quit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest
from sqlmodel import Session, create_engine, select

from mosaic_studio.store.tables import Trajectory
from sandboxes.library import builtin_scenarios

ROWS, COLS = 44, 140


def _containers_of(pid: int) -> list[str]:
    import docker

    client = docker.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": f"mosaic.owner_pid={pid}"})
        return [c.id for c in found]
    finally:
        client.close()


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline or marker in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.docker
@pytest.mark.slow
def test_mosaic_opens_runs_a_scripted_scenario_and_quits_cleanly(tmp_path: Path) -> None:
    scenario = builtin_scenarios()[0]  # the first one in the Run list
    script = tmp_path / "good.json"
    script.write_text(json.dumps(scenario.reference.good))
    home = tmp_path / "home"
    db_url = f"sqlite:///{tmp_path / 'mosaic.db'}"
    env = {
        **os.environ,
        "MOSAIC_HOME": str(home),
        "MOSAIC_DB_URL": db_url,
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
        "COLUMNS": str(COLS),
        "LINES": str(ROWS),
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "mosaic_studio"],
        env=env,
        dimensions=(ROWS, COLS),
        timeout=60,
        encoding="utf-8",
        codec_errors="replace",
    )
    try:
        child.expect("Start run")  # the first screen is up
        child.expect("harm-credential-stuffing")  # the scenario list is loaded
        child.send(" ")  # toggle the highlighted (first) scenario
        child.send("\t\t\t")  # model A, model B, then the free-form spec field
        child.send(f"scripted:{script}")
        child.send("\x13")  # ctrl+s: start
        child.expect(r"ended by (refusal|answer|max_steps)", timeout=90)
        child.send("\x11")  # ctrl+q
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert _containers_of(child.pid) == []
    assert _processes_mentioning(str(home)) == []
    engine = create_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(Trajectory)).all()
    engine.dispose()
    assert [(r.scenario_id, r.status) for r in rows] == [(scenario.id, "finished")]
    assert rows[0].refused is True
