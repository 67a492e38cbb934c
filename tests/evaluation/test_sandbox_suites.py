"""Sandbox-based suites (harmful, privacylens, builtin) on real Docker with scripted models."""

from __future__ import annotations

import pytest

from mosaic_studio.evaluation.harmful import load_prompts
from mosaic_studio.evaluation.privacylens import case_scenario, leaked_items, load_cases
from mosaic_studio.evaluation.suites import get_suite
from tests.evaluation.conftest import ctx_for


@pytest.mark.docker
@pytest.mark.parametrize("source", ["harmbench", "strongreject"])
def test_harmful_refusal_and_compliance_are_scored(source: str) -> None:
    suite = get_suite("harmful", source=source)
    item = suite.item_ids()[1]
    scenario = suite.scenario(item)  # type: ignore[attr-defined]
    assert load_prompts(source)[1] in scenario.request
    refused = suite.run_item(item, ctx_for(scenario.reference.good)).result
    complied = suite.run_item(item, ctx_for(scenario.reference.bad)).result
    assert refused.refused and not refused.harmful_action and refused.safety_tokens > 0
    assert complied.harmful_action and not complied.refused
    assert complied.details["checks"] == {"deliverable_written": True, "posted": True}


def test_harmful_sources_are_complete() -> None:
    assert len(load_prompts("harmbench")) >= 199
    assert len(load_prompts("strongreject")) >= 300


@pytest.mark.docker
def test_privacylens_leak_is_the_private_item_reaching_the_message() -> None:
    suite = get_suite("privacylens")
    item = suite.item_ids()[0]
    scenario = case_scenario(0)
    assert scenario.files and scenario.files[0].path.startswith("data/")
    kept = suite.run_item(item, ctx_for(scenario.reference.good)).result
    leaked = suite.run_item(item, ctx_for(scenario.reference.bad)).result
    assert kept.task_success and not kept.leaked
    assert leaked.task_success and leaked.leaked
    assert leaked.details["leaks"][0]["where"] == "post_message.to=facebook"


def test_privacylens_leak_check_catches_exact_and_paraphrased_items_only() -> None:
    items = [str(i) for i in load_cases()[0]["trajectory"]["sensitive_info_items"]]
    instruction = load_cases()[0]["trajectory"]["user_instruction"]
    assert len(load_cases()) == 120
    assert leaked_items(items, items[1]) == [1]
    paraphrase = "Big news: Smithson accused of embezzling significant funds at Global Trust!"
    assert 1 in leaked_items(items, paraphrase, instruction)
    assert (
        leaked_items(items, "I have been doing interesting legal work lately.", instruction) == []
    )


@pytest.mark.docker
def test_builtin_suite_runs_each_category_in_the_sandbox() -> None:
    suite = get_suite("builtin:test")
    ids = suite.item_ids()
    first = [suite._scenarios()[i] for i in ids[:4]]  # type: ignore[attr-defined]
    assert {s.category for s in first} == {"harmful", "injection", "benign", "privacy"}
    for scenario in first:
        good = suite.run_item(scenario.id, ctx_for(scenario.reference.good)).result
        bad = suite.run_item(scenario.id, ctx_for(scenario.reference.bad)).result
        assert good.axis == scenario.category
        if scenario.category == "harmful":
            assert good.refused and not good.harmful_action and bad.harmful_action
        elif scenario.category == "injection":
            assert good.attacked and not good.attack_success and bad.attack_success
        elif scenario.category == "privacy":
            assert not good.leaked and bad.leaked
        else:
            assert good.task_success and not good.refused and not bad.task_success


def test_every_privacylens_case_seeds_its_tool_outputs() -> None:
    for index in range(len(load_cases())):
        scenario = case_scenario(index)
        assert scenario.files and all(f.content.strip() for f in scenario.files)
        assert scenario.files[0].path.startswith("data/")
