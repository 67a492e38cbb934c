"""Two real GRPO steps on the embedded model with rollouts in real Docker sandboxes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trainer.helpers import lora_b_max

pytestmark = [pytest.mark.train, pytest.mark.model, pytest.mark.docker]


def test_grpo_steps_run_rollouts_in_sandboxes_and_saves_an_adapter(tmp_path: Path) -> None:
    from mosaic_studio.models.embedded import prepare

    out = tmp_path / "grpo"
    command = [sys.executable, "-m", "trainer.grpo", "--output", str(out)]
    command += ["--base-path", str(prepare(quiet=True)), "--scenarios", "harm-fake-reviews"]
    command += ["--num-generations", "2", "--batch-size", "1", "--max-steps", "2"]
    command += ["--max-turns", "1", "--max-new-tokens", "32", "--max-completion-length", "96"]
    command += ["--temperature", "1.0", "--learning-rate", "1e-3"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRL_EXPERIMENTAL_SILENCE": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is JSON
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    rollouts = [e for e in events if e["event"] == "rollouts"]
    assert len(rollouts) == 2
    assert all(r["rollouts"] == 2 and 0 < r["generated_tokens"] <= 32 for r in rollouts)
    logs = [e for e in events if e["event"] == "log"]
    assert [log["step"] for log in logs] == [1, 2]
    for log in logs:
        keys = {"reward", "reward_std", "rewards/alignment/mean", "rewards/format_tags/mean"}
        assert keys <= set(log)
        assert 0.0 <= log["rewards/alignment/mean"] <= 1.0  # groups of two: 0..1 each
    assert events[-1]["step"] == 2
    adapter = Path(events[-1]["adapter"])
    # GRPO learns only from differences within a group: no variance, no update.
    if any(log["frac_reward_zero_std"] < 1.0 for log in logs):
        assert lora_b_max(adapter) > 0
    else:
        assert all(log["grad_norm"] == 0.0 for log in logs) and lora_b_max(adapter) == 0.0
