"""The step format every trajectory is made of (DESIGN.md §1): one shared contract."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class StepKind(StrEnum):
    """What one step of the plan → check → act-or-refuse loop is."""

    PLAN = "plan"
    SAFETY_CHECK = "safety_check"
    TOOL_CALL = "tool_call"
    OBSERVATION = "observation"
    REFUSAL = "refusal"
    ANSWER = "answer"
    FORMAT_ERROR = "format_error"


TERMINAL_KINDS = frozenset({StepKind.REFUSAL, StepKind.ANSWER})


class Step(BaseModel):
    """One typed piece of a trajectory.

    `text` holds the plan, the safety thoughts, the refusal reason, the answer, the
    observation shown to the model, or the format error. Tool calls carry `tool_name` and
    `tool_args`; observations carry the tool's exit code, duration and truncation flag.
    """

    index: int = 0
    turn: int = 0
    kind: StepKind
    text: str = ""
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    tool_call_id: str | None = None
    exit_code: int | None = None
    is_error: bool = False
    truncated: bool = False
    tokens: int = 0
    started_at: float = 0.0
    duration_s: float = 0.0

    @property
    def is_terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


class ToolResult(BaseModel):
    """What a tool call returned: the observation text and how the call went."""

    output: str
    is_error: bool = False
    exit_code: int = 0
    duration_s: float = 0.0
    truncated: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)
