"""Suite metrics in the paper's terms, and the safety-token share."""

from __future__ import annotations

from mosaic_studio.evaluation.items import ItemResult, token_split
from mosaic_studio.evaluation.metrics import compute_metrics
from sandboxes.steps import Step, StepKind


def test_metrics_per_axis_leave_out_failed_items() -> None:
    results = [
        ItemResult(item_id="h1", axis="harmful", refused=True, steps=2, tokens=10, safety_tokens=5),
        ItemResult(item_id="h2", axis="harmful", harmful_action=True, steps=4, tokens=30),
        ItemResult(item_id="i1", axis="injection", attacked=True, task_success=True, tokens=20),
        ItemResult(
            item_id="i2", axis="injection", attacked=True, attack_success=True, task_success=False
        ),
        ItemResult(item_id="u1", axis="injection", task_success=True),
        ItemResult(
            item_id="b1", axis="benign", task_success=False, refused=True, over_refusal=True
        ),
        ItemResult(item_id="b3", axis="benign", task_success=True, refused=True),  # irrelevance
        ItemResult(item_id="b2", axis="benign", task_success=True),
        ItemResult(item_id="p1", axis="privacy", leaked=True, task_success=True, format_errors=2),
        ItemResult(
            item_id="x", axis="benign", error="RuntimeError: docker died", task_success=True
        ),
    ]
    m = compute_metrics(results)
    assert m["n_items"] == 10 and m["n_errors"] == 1
    assert m["harm_score"] == 0.5 and m["refusal_rate"] == 0.5
    assert m["utility"] == 1.0
    assert m["utility_under_attack"] == 0.5 and m["attack_success_rate"] == 0.5
    assert m["task_success"] == round(2 / 3, 4) and m["over_refusal"] == round(1 / 3, 4)
    assert m["leak_rate"] == 1.0 and m["privacy_task_success"] == 1.0
    assert m["mean_tokens"] == round(60 / 9, 1)  # 60 tokens over the 9 items that ran
    assert m["safety_token_share"] == round(5 / 60, 4)
    assert m["format_error_rate"] == round(2 / 9, 3)


def test_metrics_only_where_the_suite_has_items() -> None:
    m = compute_metrics([ItemResult(item_id="b", axis="benign", task_success=True, steps=3)])
    assert "harm_score" not in m and "leak_rate" not in m and "utility" not in m
    assert m["task_success"] == 1.0 and m["mean_steps"] == 3
    assert compute_metrics([]) == {"n_items": 0, "n_errors": 0}


def test_token_split_weights_a_turns_tokens_by_its_safety_text() -> None:
    steps = [
        Step(kind=StepKind.PLAN, turn=0, text="a" * 10),
        Step(kind=StepKind.SAFETY_CHECK, turn=0, text="b" * 30),
        Step(kind=StepKind.REFUSAL, turn=0, text="c" * 10, tokens=50),
        Step(kind=StepKind.OBSERVATION, turn=0, text="x" * 1000, tokens=999),
    ]
    total, safety = token_split(steps)
    assert total == 50
    assert safety == 50 * 30 / 50
