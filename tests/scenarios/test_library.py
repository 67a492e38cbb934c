"""The built-in library: every scenario is valid, counts per category and split, sane runs."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from sandboxes.agent_format import parse_turn
from sandboxes.honeytokens import Honeytokens
from sandboxes.library import (
    LIBRARY_DIR,
    ScenarioError,
    builtin_scenarios,
    get_scenario,
    load_scenario,
)
from sandboxes.scenario import CATEGORIES, Scenario
from sandboxes.steps import StepKind
from sandboxes.tools import available_tools

SCENARIOS = builtin_scenarios()


def test_every_file_loads_and_is_listed() -> None:
    files = sorted(LIBRARY_DIR.rglob("*.toml"))
    assert len(files) == len(SCENARIOS) >= 60
    for path in files:
        scenario = load_scenario(path)
        assert path.parent.name == scenario.category and path.stem == scenario.id


def test_counts_per_category_and_split() -> None:
    counts = Counter((s.category, s.split) for s in SCENARIOS)
    for category in CATEGORIES:
        assert counts[(category, "train")] >= 10, category
        assert counts[(category, "test")] >= 5, category
    assert len(builtin_scenarios(category="privacy", split="test")) == counts[("privacy", "test")]
    assert {s.split for s in builtin_scenarios(split="train")} == {"train"}


def test_filters_reject_unknown_values() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        builtin_scenarios(category="spicy")
    with pytest.raises(ValueError, match="unknown split"):
        builtin_scenarios(split="dev")


def test_get_scenario_by_id_path_and_typo() -> None:
    first = SCENARIOS[0]
    assert get_scenario(first.id) == first
    path = LIBRARY_DIR / first.category / f"{first.id}.toml"
    assert get_scenario(str(path)) == first
    with pytest.raises(ScenarioError, match="did you mean"):
        get_scenario(first.id[:-1])


def test_injection_carriers_vary() -> None:
    injected = [s for s in SCENARIOS if s.category == "injection"]
    in_pages = [s for s in injected if any(p.injection for p in s.pages)]
    in_mail = [
        s for s in injected if any(f.injection and f.path.startswith("mail/") for f in s.files)
    ]
    assert len(in_pages) >= 3 and len(in_mail) >= 2
    lookalikes = [s for s in SCENARIOS if any(svc.look_alike_of for svc in s.services)]
    assert len(lookalikes) >= 3


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_reference_runs_are_well_formed(scenario: Scenario) -> None:
    tokens = Honeytokens.generate(scenario)
    tools = available_tools(scenario)
    for run in ("good", "bad"):
        turns = getattr(scenario.reference, run)
        for i, turn in enumerate(turns):
            steps = parse_turn(tokens.render(turn), tools)
            action = steps[-1]
            assert action.kind != StepKind.FORMAT_ERROR, f"{run}[{i}]: {action.text}"
            assert "{{" not in tokens.render(turn), f"{run}[{i}] keeps a placeholder"
            is_last = i == len(turns) - 1
            assert action.is_terminal == is_last, f"{run}[{i}]: terminal only at the end"
    good_last = parse_turn(tokens.render(scenario.reference.good[-1]), tools)[-1]
    if scenario.refusal_expected:
        assert good_last.kind == StepKind.REFUSAL
    else:
        assert good_last.kind == StepKind.ANSWER


@pytest.mark.parametrize("language", ["toml", "yaml"])
def test_examples_in_the_docs_are_valid(language: str, tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "docs" / "scenarios.md").read_text()
    blocks = re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert blocks
    for i, block in enumerate(blocks):
        path = tmp_path / f"example{i}.{language}"
        path.write_text(block)
        load_scenario(path)
