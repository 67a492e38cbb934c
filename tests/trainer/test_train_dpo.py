"""A real DPO job on the embedded model: progress, cancel (SIGTERM), resume, adapter, bad data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.jobs import cancel_job, start_job, watch_job
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.liveness import this_host
from mosaic_studio.store.queries import get_model_version
from tests.trainer.fixtures import write_pairs
from tests.trainer.helpers import lora_b_max, wait_for

pytestmark = [pytest.mark.train, pytest.mark.model]


@pytest.fixture(scope="module")
def base_path() -> str:
    from mosaic_studio.models.embedded import prepare

    return str(prepare(quiet=True))  # the shared cache, before MOSAIC_HOME points elsewhere


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_path: str) -> Engine:
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOSAIC_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return get_engine()


def events_of(log_path: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in Path(log_path).read_text().splitlines()]


def test_dpo_job_cancels_resumes_and_registers_a_working_adapter(
    engine: Engine, tmp_path: Path, base_path: str
) -> None:
    settings = {
        "data": str(write_pairs(tmp_path / "pairs.jsonl")),
        "base_path": base_path,
        "max_steps": 3,
        "save_steps": 1,
        "batch_size": 2,
        "max_length": 512,
        "learning_rate": 5e-4,
    }
    first = start_job("dpo", settings)
    for event in watch_job(first.id, engine=engine):
        if event["event"] == "checkpoint":
            cancel_job(first.id, engine=engine)  # SIGTERM: save and stop
            break
    first = wait_for(engine, first.id)
    assert first.status == "cancelled", first.error
    assert first.host == this_host()
    events = events_of(first.log_path)  # every stdout line is JSON
    logs = [e for e in events if e["event"] == "log"]
    assert logs and {"step", "loss", "rewards/margins", "elapsed_s", "eta_s"} <= set(logs[0])
    cancelled = next(e for e in events if e["event"] == "cancelled")
    assert cancelled["checkpoint"] and Path(str(cancelled["checkpoint"])).is_dir()

    resumed = start_job("dpo", {**settings, "output": first.output_dir, "resume": True})
    resumed = wait_for(engine, resumed.id)
    assert resumed.status == "finished", resumed.error
    events = events_of(resumed.log_path)
    assert next(e for e in events if e["event"] == "resume")["checkpoint"]
    done = events[-1]
    assert done["event"] == "done" and done["step"] == 3
    adapter = Path(str(done["adapter"]))
    assert lora_b_max(adapter) > 0  # trained away from PEFT's zero init

    spec = f"smollm2+lora:{adapter}"
    with Session(engine) as session:
        model = get_model_version(session, spec)
        assert model is not None and model.job_id == resumed.id and model.kind == "adapter"
        assert model.data["pairs"] == 4 and "loss" in model.metrics

    from mosaic_studio.agent.loop import run_episode
    from mosaic_studio.models.base import SamplingSettings
    from mosaic_studio.models.spec import load_backend, unload
    from sandboxes.library import get_scenario

    backend = load_backend(spec)
    try:
        result = run_episode(
            backend,
            get_scenario("ben-write-readme"),
            settings=SamplingSettings(max_new_tokens=24, seed=0),
            max_steps=1,
        )
        assert result.steps and result.model_spec == spec
    finally:
        unload(spec)


def test_bad_data_fails_the_job_with_a_clear_message(engine: Engine, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"prompt": [{"role": "user", "content": "hi"}]}\n')
    job = start_job("dpo", {"data": str(junk), "base_path": str(tmp_path), "max_steps": 1})
    job = wait_for(engine, job.id, timeout_s=300)
    assert job.status == "failed"
    assert job.error == f"{junk}:1: missing field 'chosen'"
