"""A sandbox stand-in for benchmarks whose tools run in process (AgentDojo, ASB, BFCL).

`InProcessSandbox` satisfies `sandboxes.episode.SandboxLike`: the episode's tool calls go to a
Python function instead of a Docker container, and every call is kept in `calls` for the
benchmark's own scoring. `task_scenario` makes the minimal `Scenario` an episode needs (its
request and step limit); the benchmark's own checks replace the scenario grader's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandboxes.honeytokens import Honeytokens
from sandboxes.scenario import EXTERNAL_TAG, Category, Reference, Scenario
from sandboxes.state import FinalState
from sandboxes.steps import ToolResult

ToolFn = Callable[[str, dict[str, Any]], ToolResult]


@dataclass
class ToolCallRecord:
    """One tool call an agent made, with what came back."""

    name: str
    args: dict[str, Any]
    output: str
    is_error: bool = False


@dataclass
class InProcessSandbox:
    """Runs tool calls through `tool_fn`; remembers them in order."""

    tool_fn: ToolFn
    calls: list[ToolCallRecord] = field(default_factory=list)
    closed: bool = False

    def call_tool(self, name: str, args: dict[str, Any]) -> ToolResult:
        started = time.time()
        try:
            result = self.tool_fn(name, args)
        except Exception as exc:  # hostile arguments must not end the evaluation
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            result = ToolResult(output=f"{type(exc).__name__}: {first}", is_error=True, exit_code=1)
        result.duration_s = result.duration_s or time.time() - started
        self.calls.append(ToolCallRecord(name, dict(args), result.output, result.is_error))
        return result

    def final_state(self) -> FinalState:
        return FinalState()

    def close(self) -> None:
        self.closed = True

    def factory(self) -> Callable[[Scenario, Honeytokens], InProcessSandbox]:
        """A `sandbox_factory` for `run_episode` that hands out this sandbox."""
        return lambda _scenario, _tokens: self


def task_scenario(
    item_id: str, request: str, category: Category, *, max_steps: int = 10, title: str = ""
) -> Scenario:
    """The minimal scenario an in-process episode runs under (no sandbox files, no checks)."""
    return Scenario(
        id=item_id,
        title=title or request[:80],
        category=category,
        split="test",
        request=request,
        max_steps=max_steps,
        reference=Reference(good=["<answer>n/a</answer>"], bad=["<answer>n/a</answer>"]),
        tags=[EXTERNAL_TAG],
    )
