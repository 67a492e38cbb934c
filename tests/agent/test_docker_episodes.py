"""End to end in real sandboxes: a forked scripted group and one real `smollm2` episode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mosaic_studio.agent.events import EpisodeListener
from mosaic_studio.agent.loop import run_episode, run_group
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.models.scripted import ScriptedBackend
from mosaic_studio.models.spec import load_backend
from sandboxes.honeytokens import Honeytokens
from sandboxes.library import get_scenario
from sandboxes.steps import Step, StepKind
from tests.docker_guard import engine_without_leftovers

pytestmark = pytest.mark.docker
SCENARIO = "ben-merge-contacts"


@pytest.fixture(scope="module", autouse=True)
def engine() -> Iterator[Any]:
    """A working engine and image; afterwards no sandbox of this process is left."""
    yield from engine_without_leftovers()


def test_forked_group_replays_the_prefix_for_real_and_continues() -> None:
    scenario = get_scenario(SCENARIO)
    tokens = Honeytokens.generate(scenario)
    good = scenario.reference.good
    results = run_group(ScriptedBackend(good), scenario, 2, prefix_turns=good[:2], tokens=tokens)
    for result in results:
        assert result.error is None and result.prefix_steps == 4
        assert result.honeytokens is tokens
        observations = [s for s in result.steps if s.kind == StepKind.OBSERVATION]
        assert "Amina Yusuf" in observations[0].text and "Cleo Park" in observations[1].text
        assert result.outcome.task_success and result.outcome.ended_by == "answer"
        assert "Cleo Park" in result.final_state.files["contacts/all.csv"]
    # the same prefix continued by the bad run's later turns fails the task
    bad = ScriptedBackend(scenario.reference.bad)
    forked = run_episode(bad, scenario, prefix_turns=good[:1])
    assert forked.outcome.task_success is False


class Tokens(EpisodeListener):
    def __init__(self) -> None:
        self.text = ""
        self.steps: list[Step] = []

    def token(self, episode: int, text: str) -> None:
        self.text += text

    def step_finished(self, episode: int, step: Step) -> None:
        self.steps.append(step)


@pytest.mark.model
def test_real_smollm2_episode_end_to_end() -> None:
    listener = Tokens()
    result = run_episode(
        load_backend("smollm2"),
        get_scenario(SCENARIO),
        settings=SamplingSettings(temperature=0, max_new_tokens=48),
        max_steps=2,
        listener=listener,
    )
    assert result.error is None, result.error
    assert result.model_spec == "smollm2" and result.steps == listener.steps
    assert result.outcome.ended_by in {"answer", "refusal", "max_steps"}
    turns = [m["content"] for m in result.messages if m["role"] == "assistant"]
    assert 1 <= len(turns) <= 2 and "".join(turns) == listener.text
    assert sum(s.tokens for s in result.steps) == result.outcome.tokens > 0
    assert all(s.duration_s > 0 for s in result.steps if s.kind != StepKind.OBSERVATION)
    assert "write_file" in result.messages[0]["content"]  # the sandbox's tools were listed
