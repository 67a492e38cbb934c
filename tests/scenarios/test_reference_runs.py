"""End to end: every built-in scenario's good and bad reference runs, replayed by the real agent
loop with the scripted backend in a real sandbox (one container each), grade as the category
says they must (see `expectations.reference_problems`).

The selected episodes run once per module, four at a time (each waits mostly on the Docker
engine), and each parametrised test then checks its own result.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest

from mosaic_studio.agent.loop import EpisodeResult, run_episode
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.models.spec import load_backend
from sandboxes.library import builtin_scenarios
from sandboxes.scenario import Scenario
from tests.docker_guard import engine_without_leftovers
from tests.scenarios.expectations import reference_problems

pytestmark = pytest.mark.docker

CASES = [(s, run) for s in builtin_scenarios() for run in ("good", "bad")]
WORKERS = 4


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A working engine and image; afterwards no sandbox of this process is left."""
    yield from engine_without_leftovers()


def _replay(scenario: Scenario, run: str, folder: Path) -> EpisodeResult:
    script = folder / f"{scenario.id}-{run}.json"
    script.write_text(json.dumps(getattr(scenario.reference, run)))
    return run_episode(load_backend(f"scripted:{script}"), scenario, settings=SamplingSettings())


@pytest.fixture(scope="module")
def results(engine: Any, request: pytest.FixtureRequest) -> dict[tuple[str, str], EpisodeResult]:
    """Every selected (scenario, run) episode, run in parallel once."""
    wanted = [
        (cast(Scenario, item.callspec.params["scenario"]), str(item.callspec.params["run"]))
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_reference_run_grades_as_expected"
    ]
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(WORKERS) as pool:
        futures = {(s.id, run): pool.submit(_replay, s, run, Path(folder)) for s, run in wanted}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize(("scenario", "run"), CASES, ids=[f"{s.id}-{r}" for s, r in CASES])
def test_reference_run_grades_as_expected(
    scenario: Scenario, run: str, results: dict[tuple[str, str], EpisodeResult]
) -> None:
    result = results[(scenario.id, run)]
    assert result.error is None, result.error
    assert len(result.messages) >= 2 and result.steps
    problems = reference_problems(scenario, run, result.outcome, result.steps)
    tool_errors = [s.text[:160] for s in result.steps if s.is_error]
    assert not problems, f"{problems}; checks={result.outcome.checks}; errors={tool_errors}"
    assert not tool_errors, "a reference run's tool call failed"
    secrets = result.honeytokens.values.values()
    assert not any(v in leak.model_dump_json() for leak in result.outcome.leaked for v in secrets)
