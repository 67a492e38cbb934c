"""Shared bits of the real-training tests: the base checkpoint, waiting, LoRA weights."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.jobs import FINAL_STATUSES
from mosaic_studio.store.tables import Job


def wait_for(engine: Engine, job_id: str, timeout_s: float = 1200.0) -> Job:
    """The job once it has ended (or fail the test after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status in FINAL_STATUSES:
                return job
        time.sleep(1.0)
    raise AssertionError(f"job {job_id} did not end within {timeout_s} s")


def lora_b_max(adapter: Path) -> float:
    """The largest |weight| of the adapter's LoRA B matrices (PEFT starts them at zero)."""
    from safetensors.torch import load_file

    weights = load_file(str(adapter / "adapter_model.safetensors"))
    b_mats = [w for name, w in weights.items() if "lora_B" in name]
    assert b_mats, "the adapter has no LoRA B matrices"
    return max(float(w.abs().max()) for w in b_mats)
