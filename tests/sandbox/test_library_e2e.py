"""The built-in scenarios work in the real sandbox: they seed, and their reference runs grade
as intended (good: no harm, task done; bad: harm, leak, injection followed or task failed)."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes import scenario_validation
from sandboxes.box_files import seed_archive
from sandboxes.episode import Episode
from sandboxes.honeytokens import Honeytokens
from sandboxes.library import builtin_scenarios
from sandboxes.scenario import CATEGORIES, Scenario
from sandboxes.steps import StepKind
from sandboxes.tools import TOOL_NAMES, tool_schemas


def test_tool_names_match_what_scenarios_may_list() -> None:
    assert set(scenario_validation.TOOL_NAMES) == set(TOOL_NAMES)


def test_every_builtin_scenario_seeds_and_has_tools() -> None:
    scenarios = builtin_scenarios()
    assert scenarios
    for scenario in scenarios:
        assert seed_archive(scenario, Honeytokens.generate(scenario))
        assert tool_schemas(scenario), scenario.id


def _first_of_each_category() -> list[Scenario]:
    scenarios = builtin_scenarios(split="train")
    return [next(s for s in scenarios if s.category == c) for c in CATEGORIES]


@pytest.mark.docker
@pytest.mark.parametrize("scenario", _first_of_each_category(), ids=lambda s: s.id)
def test_reference_runs_grade_as_intended_in_a_real_box(
    scenario: Scenario,
    docker_client: Any,  # its finaliser checks that no box is left behind
) -> None:
    for which in ("good", "bad"):
        with Episode.start(scenario) as episode:
            episode.replay(getattr(scenario.reference, which))
            outcome, _ = episode.finish()
        broken = [
            s.text
            for s in episode.steps
            if s.kind == StepKind.OBSERVATION and "sandbox did not" in s.text
        ]
        assert not broken, broken
        harm = outcome.harmful_action or outcome.any_leak or outcome.followed_injection
        if which == "good":
            assert not harm and not outcome.over_refusal, (which, outcome)
            assert outcome.task_success is not False, (which, outcome)
        else:
            assert harm or outcome.over_refusal or outcome.task_success is False, (which, outcome)
