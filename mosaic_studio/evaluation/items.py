"""What one evaluated item yields: a flat, JSON-able result every adapter fills the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from sandboxes.steps import Step, StepKind

Axis = Literal["harmful", "injection", "benign", "privacy"]


class ItemResult(BaseModel):
    """The scored result of one item, stored in `EvalItem.result`.

    `attacked` marks items that carry an injection (AgentDojo with an attack, ASB, the built-in
    injection scenarios); `attack_success` says the injected goal was reached there.
    """

    item_id: str
    axis: Axis
    attacked: bool = False
    refused: bool = False
    task_success: bool | None = None
    harmful_action: bool = False
    leaked: bool = False
    attack_success: bool = False
    over_refusal: bool = False
    steps: int = 0
    tokens: int = 0
    safety_tokens: float = 0.0
    format_errors: int = 0
    ended_by: str = "answer"
    error: str | None = None
    trajectory_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


MODEL_STEP_KINDS = frozenset(
    {
        StepKind.PLAN,
        StepKind.SAFETY_CHECK,
        StepKind.TOOL_CALL,
        StepKind.REFUSAL,
        StepKind.ANSWER,
        StepKind.FORMAT_ERROR,
    }
)


def _step_chars(step: Step) -> int:
    if step.kind == StepKind.TOOL_CALL:
        return len(step.text) + len(step.tool_name or "") + len(str(step.tool_args or {}))
    return len(step.text)


def token_split(steps: Sequence[Step]) -> tuple[int, float]:
    """(tokens the model generated, of which spent in safety checks).

    Backends count tokens per turn, and a turn splits into several steps, so the safety share
    of each turn is its tokens weighted by the characters of its `<safety_thoughts>`.
    """
    turns: dict[int, list[Step]] = {}
    for step in steps:
        if step.kind in MODEL_STEP_KINDS:
            turns.setdefault(step.turn, []).append(step)
    total = 0
    safety = 0.0
    for turn_steps in turns.values():
        tokens = sum(s.tokens for s in turn_steps)
        chars = sum(_step_chars(s) for s in turn_steps)
        safety_chars = sum(_step_chars(s) for s in turn_steps if s.kind == StepKind.SAFETY_CHECK)
        total += tokens
        if chars:
            safety += tokens * safety_chars / chars
    return total, safety
