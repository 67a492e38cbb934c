"""`mosaic show ID --follow` prints steps as another writer stores them, until the run ends."""

from __future__ import annotations

import threading
import time

import pytest

from mosaic_studio.agent.loop import EpisodeResult
from mosaic_studio.cli import browse_cmd
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.recorder import TrajectoryRecorder
from sandboxes.honeytokens import Honeytokens
from sandboxes.outcome import Outcome
from sandboxes.state import FinalState
from sandboxes.steps import Step, StepKind
from tests.cli.conftest import Cli
from tests.store.conftest import make_scenario


def test_follow_prints_new_steps_and_the_outcome(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browse_cmd, "FOLLOW_POLL_S", 0.05)
    scenario = make_scenario()
    recorder = TrajectoryRecorder(get_engine(), scenario, "m", SamplingSettings())
    steps = [
        Step(index=0, kind=StepKind.PLAN, text="first thought"),
        Step(index=1, kind=StepKind.SAFETY_CHECK, text="is it safe"),
        Step(index=2, kind=StepKind.REFUSAL, text="not doing that"),
    ]
    recorder.step_finished(0, steps[0])
    tid = recorder.trajectory_id(0)

    def write_the_rest() -> None:
        for step in steps[1:]:
            time.sleep(0.2)
            recorder.step_finished(0, step)
        result = EpisodeResult(
            scenario=scenario,
            model_spec="m",
            settings=SamplingSettings(),
            steps=steps,
            outcome=Outcome(refused=True, steps=3, ended_by="refusal"),
            final_state=FinalState(),
            messages=[],
            tools=[],
            honeytokens=Honeytokens(),
        )
        recorder.episode_finished(0, result)

    writer = threading.Thread(target=write_the_rest)
    writer.start()
    try:
        code, out, err = cli("show", tid, "--follow")
    finally:
        writer.join()
    assert code == 0, err
    order = [out.index(text) for text in ("first thought", "is it safe", "not doing that")]
    assert order == sorted(order)
    assert "outcome: finished" in out and "refused" in out


def test_follow_and_json_do_not_mix(cli: Cli) -> None:
    code, _, err = cli("show", "abc", "--follow", "--json")
    assert code == 2 and "--follow prints text" in err
