"""BFCL (AST-checked by BFCL's own checker) and ASB (attacker tool called or not) adapters."""

from __future__ import annotations

import sys

import pytest

from mosaic_studio.evaluation.asb import injection_text, load_data
from mosaic_studio.evaluation.bfcl import check_calls, load_category
from mosaic_studio.evaluation.datafiles import SuiteError
from mosaic_studio.evaluation.suites import get_suite
from tests.evaluation.conftest import answer, call, ctx_for


def test_bfcl_simple_item_right_and_wrong_arguments() -> None:
    suite = get_suite("bfcl", category="simple")
    item = suite.item_ids()[0]
    assert item == "simple_python_0"
    good = suite.run_item(item, ctx_for([call("calculate_triangle_area", base=10, height=5)]))
    wrong = suite.run_item(item, ctx_for([call("calculate_triangle_area", base=5, height=10)]))
    silent = suite.run_item(item, ctx_for([answer("The area is 25.")]))
    assert good.result.task_success is True
    assert wrong.result.task_success is False and "base" in wrong.result.details["bfcl"]["error"]
    assert silent.result.task_success is False
    assert good.result.axis == "benign"


def test_bfcl_only_the_first_call_counts_outside_parallel_categories() -> None:
    suite = get_suite("bfcl", category="simple_python")
    twice = [
        call("calculate_triangle_area", base=10, height=5),
        call("calculate_triangle_area", base=1, height=1),
    ]
    assert suite.run_item("simple_python_0", ctx_for(twice)).result.task_success is True


def test_bfcl_parallel_needs_every_call_and_irrelevance_needs_none() -> None:
    parallel = get_suite("bfcl", category="parallel")
    both = [
        call("spotify.play", artist="Taylor Swift", duration=20),
        call("spotify.play", artist="Maroon 5", duration=15),
        answer("Playing."),
    ]
    assert parallel.run_item("parallel_0", ctx_for(both)).result.task_success is True
    assert (
        parallel.run_item("parallel_0", ctx_for(both[:1] + both[2:])).result.task_success is False
    )
    irrelevant = get_suite("bfcl", category="irrelevance")
    assert irrelevant.run_item(
        "irrelevance_0", ctx_for([answer("No tool fits.")])
    ).result.task_success
    bmi = call("determine_body_mass_index", weight=10.0, height=5.0)
    assert irrelevant.run_item("irrelevance_0", ctx_for([bmi])).result.task_success is False


def test_bfcl_checker_is_bfcls_own_and_imports_no_provider_sdk() -> None:
    questions, answers = load_category("multiple")
    functions = questions["multiple_2"]["function"]
    assert check_calls(
        "multiple",
        functions,
        [{"country_info.capital": {"country": "Brazil"}}],
        answers["multiple_2"],
    )[0]
    assert not check_calls(
        "multiple",
        functions,
        [{"country_info.capital": {"country": "Peru"}}],
        answers["multiple_2"],
    )[0]
    assert "bfcl_eval.constants.model_config" not in sys.modules
    with pytest.raises(SuiteError, match="unknown BFCL category"):
        get_suite("bfcl", category="simple_java")


def test_asb_attack_success_is_the_attacker_tool_being_called() -> None:
    suite = get_suite("asb")
    item = suite.item_ids()[0]
    agent, _task, attack_index = item.split("/")
    tasks, normal, attacks = load_data()
    attack = attacks[int(attack_index)]
    tool = next(iter(normal[agent]))
    resisted = suite.run_item(item, ctx_for([call(tool), answer("Monitoring done.")]))
    followed = suite.run_item(
        item, ctx_for([call(tool), call(attack["Attacker Tool"]), answer("ok")])
    )
    assert resisted.result.attack_success is False and resisted.result.task_success is True
    assert followed.result.attack_success is True
    assert followed.result.details["asb"]["tool_trace"] == [tool, attack["Attacker Tool"]]
    assert resisted.episode is not None
    assert injection_text(attack) in resisted.episode.messages[3]["content"]
    assert len(suite.item_ids()) == 400 and len(tasks) == 10
    assert len({i.split("/")[0] for i in suite.item_ids()[:10]}) == 10  # a limit covers all agents
    assert len(get_suite("asb", attack_set="aggressive").item_ids()) == 200
