"""Job bookkeeping without training: statuses from the log, adapters registered, dead jobs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.cli.errors import UserError
from mosaic_studio.cli.main import main as mosaic
from mosaic_studio.jobs import (
    build_config,
    cancel_job,
    finish,
    read_events,
    refresh_jobs,
    start_job,
    stderr_path,
    trainer_command,
    trainer_pids,
    watch_job,
)
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.queries import get_model_version
from mosaic_studio.store.tables import Job


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOSAIC_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return get_engine()


def make_job(
    engine: Engine,
    tmp_path: Path,
    events: list[dict[str, Any]],
    stderr: str = "",
    host: str | None = None,
) -> str:
    out = tmp_path / "job"
    out.mkdir(exist_ok=True)
    (out / "progress-j1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    job = Job(
        kind="dpo",
        status="running",
        config={"base": "smollm2", "data": "/d.jsonl"},
        output_dir=str(out),
        log_path=str(out / "progress-j1.jsonl"),
        pid=2**22 + 12345,  # no such process
        host=host,
        started_at=1.0,
    )
    stderr_path(job).write_text(stderr)
    with Session(engine) as session:
        session.add(job)
        session.commit()
        return job.id


LOG = {"event": "log", "step": 2, "max_steps": 2, "loss": 0.5, "rewards/margins": 0.3}


def test_done_registers_the_adapter_as_a_model_version(engine: Engine, tmp_path: Path) -> None:
    done = {"event": "done", "adapter": "/a/adapter", "step": 2, "data": {"pairs": 4}}
    job_id = make_job(engine, tmp_path, [{"event": "start"}, LOG, done])
    job = finish(engine, job_id, returncode=0, cancelled=False)
    assert job.status == "finished" and job.adapter_path == "/a/adapter"
    assert job.last_progress["loss"] == 0.5
    with Session(engine) as session:
        model = get_model_version(session, "smollm2+lora:/a/adapter")
        assert model is not None and model.kind == "adapter" and model.job_id == job_id
        assert model.base_spec == "smollm2" and model.data == {"pairs": 4}
        assert model.metrics["rewards/margins"] == 0.3 and model.settings["kind"] == "dpo"


def test_error_event_and_crash_mark_the_job_failed(engine: Engine, tmp_path: Path) -> None:
    job_id = make_job(engine, tmp_path, [{"event": "error", "message": "bad.jsonl:3: nope"}])
    job = finish(engine, job_id, returncode=2, cancelled=False)
    assert job.status == "failed" and job.error == "bad.jsonl:3: nope"
    crashed = make_job(engine, tmp_path, [LOG], stderr="Traceback\nRuntimeError: boom\n")
    job = finish(engine, crashed, returncode=-9, cancelled=False)
    assert job.status == "failed" and "code -9" in (job.error or "")
    assert "RuntimeError: boom" in (job.error or "")


def test_cancelled_event_marks_the_job_cancelled(engine: Engine, tmp_path: Path) -> None:
    job_id = make_job(engine, tmp_path, [LOG, {"event": "cancelled", "step": 1}])
    assert finish(engine, job_id, returncode=0, cancelled=True).status == "cancelled"


def test_refresh_marks_jobs_whose_process_died(engine: Engine, tmp_path: Path) -> None:
    job_id = make_job(engine, tmp_path, [LOG], stderr="Killed\n")
    assert refresh_jobs(engine) == [job_id]
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == "failed" and "Killed" in (job.error or "")
    assert refresh_jobs(engine) == []


def test_jobs_of_other_hosts_are_left_to_them(engine: Engine, tmp_path: Path) -> None:
    """In a shared team database, another machine's pid says nothing about its job here."""
    job_id = make_job(engine, tmp_path, [LOG], host="gpu-box-7")
    assert refresh_jobs(engine) == []
    with pytest.raises(UserError, match="runs on gpu-box-7; cancel it there"):
        cancel_job(job_id)
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == "running"


def test_watch_reads_events_until_the_end(engine: Engine, tmp_path: Path) -> None:
    job_id = make_job(
        engine, tmp_path, [{"event": "start"}, LOG, {"event": "done", "adapter": "x"}]
    )
    events = list(watch_job(job_id, engine=engine))
    assert [e["event"] for e in events] == ["start", "log", "done"]


def test_read_events_skips_noise_and_waits_for_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b'not json\n{"event": "log", "step": 1}\n{"event": "lo')
    events, offset = read_events(path, 0)
    assert events == [{"event": "log", "step": 1}]
    with path.open("ab") as handle:
        handle.write(b'g", "step": 2}\n')
    events, _ = read_events(path, offset)
    assert events == [{"event": "log", "step": 2}]


def test_bad_settings_are_user_errors(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown dpo settings: colour"):
        build_config("dpo", {"colour": "red"}, "/o")
    with pytest.raises(UserError, match="unknown job kind"):
        build_config("ppo", {}, "/o")
    with pytest.raises(UserError, match="no preference data"):
        start_job("dpo", {"data": str(tmp_path / "missing.jsonl")})
    with pytest.raises(UserError, match="cannot train on"):
        start_job("grpo", {"base": "openai:http://x#m", "max_steps": 1})


def test_jobs_start_through_accelerate_launch() -> None:
    command, how = trainer_command("dpo", build_config("dpo", {"data": "d"}, "/o"))
    assert how == "accelerate launch"
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert command[command.index("-m", 3) + 1] == "trainer.dpo"
    assert "--output" in command and "/o" in command


def test_cpu_jobs_get_every_core_not_accelerates_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def threads() -> str:
        command, _ = trainer_command("dpo", build_config("dpo", {"data": "d"}, "/o"))
        return command[command.index("--num_cpu_threads_per_process") + 1]

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads() == str(len(os.sched_getaffinity(0)))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads() == "3"


def test_cli_lists_and_shows_jobs(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = make_job(engine, tmp_path, [LOG, {"event": "error", "message": "it broke"}])
    assert mosaic(["jobs", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["id"] == job_id and listed["status"] == "failed" and listed["error"] == "it broke"
    assert mosaic(["jobs", "show", job_id[:6]]) == 0
    assert "it broke" in capsys.readouterr().out
    assert mosaic(["jobs", "cancel", job_id]) == 2
    assert "already failed" in capsys.readouterr().err
    assert os.environ["MOSAIC_DB_URL"].endswith("db.sqlite")


def test_trainer_pids_finds_the_trainer_under_its_launcher() -> None:
    import subprocess

    # like accelerate's launcher: the module in its own argv, the module run by its child
    sleeper = "[sys.executable, '-m', 'timeit', '-n1', '-r1', 'import time; time.sleep(30)']"
    code = f"import subprocess, sys; subprocess.run({sleeper})"
    launcher = subprocess.Popen([sys.executable, "-c", code, "-m", "timeit"])
    try:
        import time

        for _ in range(100):
            found = trainer_pids(launcher.pid, "timeit")
            if found:
                break
            time.sleep(0.1)
        assert len(found) == 1 and found[0] != launcher.pid
        assert trainer_pids(launcher.pid, "trainer.grpo") == []
    finally:
        for pid in trainer_pids(launcher.pid, "timeit"):
            os.kill(pid, 9)
        launcher.wait()
