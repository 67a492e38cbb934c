"""The backend-agnostic episode state machine, shared by the app's agent loop and GRPO rollouts.

Whoever generates text drives it from outside:

    with Episode.start(scenario) as episode:
        while not episode.done:
            text = generate(episode.messages)            # any model
            new_steps = episode.advance(text, n_tokens)   # parse, run the tool, observe
        outcome, final_state = episode.finish()

`Episode.start(scenario, *, tokens=None, sandbox_factory=Sandbox.create, max_steps=None,
token_budget=None, native_tools=False)` makes fresh honeytokens and a sandbox; `messages` is
the exact chat the model sees next (system prompt, user request, then assistant turns in the
MOSAIC text format and observations, see `sandboxes.agent_format`); `advance(text, tokens,
native_calls=None)` returns the new steps; `replay(turns)` executes scripted turns (prefixes of
forks); `finish(ended_by=None)` grades with `sandboxes.grader.grade` and closes the sandbox.
A turn is one assistant message; `max_steps` (default: the scenario's) counts turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from sandboxes import agent_format as fmt
from sandboxes.honeytokens import Honeytokens
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.state import FinalState
from sandboxes.steps import Step, StepKind, ToolResult


class SandboxLike(Protocol):
    """What the episode needs from `sandboxes.sandbox.Sandbox`."""

    def call_tool(self, name: str, args: dict[str, Any]) -> ToolResult: ...

    def final_state(self) -> FinalState: ...

    def close(self) -> None: ...


SandboxFactory = Callable[[Scenario, Honeytokens], SandboxLike]
GradeFn = Callable[..., Outcome]


def _default_sandbox_factory(scenario: Scenario, tokens: Honeytokens) -> SandboxLike:
    from sandboxes.sandbox import Sandbox

    sandbox: SandboxLike = Sandbox.create(scenario, tokens)
    return sandbox


def _default_grade(*args: Any, **kwargs: Any) -> Outcome:
    from sandboxes.grader import grade

    return grade(*args, **kwargs)


def _default_tools(scenario: Scenario) -> list[dict[str, Any]]:
    from sandboxes.tools import tool_schemas

    return tool_schemas(scenario)


class Episode:
    """One trajectory in progress: messages so far, steps, the sandbox, when it ends."""

    def __init__(
        self,
        scenario: Scenario,
        tokens: Honeytokens,
        sandbox: SandboxLike,
        tools: list[dict[str, Any]],
        *,
        max_steps: int,
        token_budget: int | None = None,
        native_tools: bool = False,
        grade_fn: GradeFn | None = None,
    ) -> None:
        self.scenario = scenario
        self.tokens = tokens
        self.sandbox = sandbox
        self.tools = tools
        self.tool_names = fmt.tool_names(tools)
        self.max_steps = max_steps
        self.token_budget = token_budget
        self.native_tools = native_tools
        self.system_prompt = fmt.render_system_prompt(tools, native_tools=native_tools)
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": tokens.render(scenario.request)},
        ]
        self.steps: list[Step] = []
        self.turns = 0
        self.tokens_used = 0
        self.started_at = time.time()
        self.ended_by: str | None = None
        self.error: str | None = None  # one line, when the sandbox failed at the end
        self._grade = grade_fn or _default_grade
        self._result: tuple[Outcome, FinalState] | None = None
        self._closed = False

    @classmethod
    def start(
        cls,
        scenario: Scenario,
        *,
        tokens: Honeytokens | None = None,
        sandbox_factory: SandboxFactory | None = None,
        max_steps: int | None = None,
        token_budget: int | None = None,
        native_tools: bool = False,
        tools: list[dict[str, Any]] | None = None,
        grade_fn: GradeFn | None = None,
    ) -> Episode:
        """Fresh honeytokens (unless given) and a sandbox seeded with them."""
        tokens = tokens or Honeytokens.generate(scenario)
        schemas = tools if tools is not None else _default_tools(scenario)
        sandbox = (sandbox_factory or _default_sandbox_factory)(scenario, tokens)
        return cls(
            scenario,
            tokens,
            sandbox,
            schemas,
            max_steps=max_steps or scenario.max_steps,
            token_budget=token_budget,
            native_tools=native_tools,
            grade_fn=grade_fn,
        )

    @property
    def done(self) -> bool:
        return self.ended_by is not None

    def _add(self, step: Step) -> Step:
        step.index = len(self.steps)
        step.turn = self.turns
        self.steps.append(step)
        return step

    def _observe(self, content: str, *, tool_name: str | None = None) -> None:
        if self.native_tools:
            message: dict[str, Any] = {"role": fmt.NATIVE_OBSERVATION_ROLE, "content": content}
            if tool_name:
                message["name"] = tool_name
        else:
            message = {"role": fmt.OBSERVATION_ROLE, "content": content}
        self.messages.append(message)

    def _run_tool(self, call: Step) -> Step:
        assert call.tool_name is not None
        started = time.time()
        try:
            result = self.sandbox.call_tool(call.tool_name, dict(call.tool_args or {}))
        except Exception as exc:  # a broken sandbox is an observation, not a crash
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            result = ToolResult(output=f"tool failed: {first}", is_error=True, exit_code=-1)
        content, cut = fmt.render_observation(result, native_tools=self.native_tools)
        self._observe(content, tool_name=call.tool_name)
        return Step(
            kind=StepKind.OBSERVATION,
            text=content,
            tool_name=call.tool_name,
            exit_code=result.exit_code,
            is_error=result.is_error,
            truncated=cut,
            started_at=started,
            duration_s=result.duration_s or (time.time() - started),
        )

    def advance(
        self,
        text: str,
        tokens: int = 0,
        native_calls: list[dict[str, Any]] | None = None,
        *,
        started_at: float | None = None,
        duration_s: float = 0.0,
    ) -> list[Step]:
        """Take one assistant turn: parse it, run its tool call, feed back what happened."""
        if self.done:
            raise RuntimeError(f"the episode already ended ({self.ended_by})")
        text = text if isinstance(text, str) else str(text)
        for call in native_calls or []:
            name = call.get("name") if isinstance(call, dict) else None
            args = call.get("arguments") if isinstance(call, dict) else None
            if isinstance(name, str):
                text += fmt.render_tool_call(name, args if isinstance(args, dict) else {})
        self.messages.append({"role": "assistant", "content": text})
        parsed = fmt.parse_turn(text, self.tool_names)
        start = started_at if started_at is not None else time.time()
        for step in parsed:
            step.started_at = start
            step.duration_s = duration_s
        parsed[-1].tokens = tokens  # the turn's tokens, counted once, on its action
        new = [self._add(step) for step in parsed]
        action = new[-1]
        if action.kind == StepKind.TOOL_CALL:
            new.append(self._add(self._run_tool(action)))
        elif action.kind == StepKind.FORMAT_ERROR:
            self._observe(fmt.render_format_error(action.text, native_tools=self.native_tools))
        self.turns += 1
        self.tokens_used += tokens
        if action.kind == StepKind.REFUSAL:
            self.ended_by = "refusal"
        elif action.kind == StepKind.ANSWER:
            self.ended_by = "answer"
        elif self.token_budget is not None and self.tokens_used >= self.token_budget:
            self.ended_by = "token_budget"
        elif self.turns >= self.max_steps:
            self.ended_by = "max_steps"
        return new

    def replay(self, turns: list[str]) -> list[Step]:
        """Execute scripted turns for real (placeholders filled), e.g. the prefix of a fork."""
        new: list[Step] = []
        for turn in turns:
            if self.done:
                break
            new.extend(self.advance(self.tokens.render(turn), 0))
        return new

    def finish(self, ended_by: str | None = None) -> tuple[Outcome, FinalState]:
        """Grade the trajectory and close the sandbox; later calls return the same result."""
        if self._result is not None:
            return self._result
        if ended_by is not None or self.ended_by is None:
            self.ended_by = ended_by or "error"
        try:
            try:
                final_state = self.sandbox.final_state()
            except Exception as exc:  # the sandbox died: grade what is known, say why
                lines = str(exc).strip().splitlines()
                self.error = self.error or f"final state unreadable: {(lines or [repr(exc)])[0]}"
                self.ended_by = "error"
                final_state = FinalState()
            outcome = self._grade(
                self.scenario,
                self.tokens,
                final_state,
                self.steps,
                ended_by=self.ended_by,
                wall_time_s=time.time() - self.started_at,
            )
        finally:
            self.close()
        self._result = (outcome, final_state)
        return self._result

    def close(self) -> None:
        """Remove the sandbox (idempotent); `finish` calls it."""
        if not self._closed:
            self._closed = True
            self.sandbox.close()

    def __enter__(self) -> Episode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
