"""`agentdojo:SUITE`: AgentDojo (workspace, travel, banking, slack) run by OUR agent loop.

`MosaicPipelineElement` is an AgentDojo `BasePipelineElement` whose `query` runs one MOSAIC
episode (`run_episode`: the same prompt, parser and model backends as everywhere else) with
AgentDojo's tools executed in AgentDojo's own runtime and environment, then hands AgentDojo the
conversation in its message format. `TaskSuite.run_task_with_pipeline` scores it with the
task's own `utility` and the injection task's own `security` checks. The pipeline's name holds
`local` so the `important_instructions` attack can address the model by a known name.

Items: without an attack (`--attack none`), every user task (utility); with one (default
`important_instructions`), user task × injection task pairs, ordered so that a `--limit`
covers many user and injection tasks (utility under attack, attack success rate).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mosaic_studio.evaluation.datafiles import SuiteError, package_dir
from mosaic_studio.evaluation.episodes import EvalContext, ItemRun, run_item_episode
from mosaic_studio.evaluation.inprocess import InProcessSandbox, task_scenario
from sandboxes.steps import StepKind, ToolResult

SUITES = ("workspace", "travel", "banking", "slack")
VERSION = "v1.2.2"
DEFAULT_ATTACK = "important_instructions"
PIPELINE_NAME = "mosaic-local"
MAX_STEPS = 12


@functools.lru_cache(maxsize=8)
def load_suite(name: str) -> Any:
    """AgentDojo's task suite `name` at the benchmark version we pin."""
    if name not in SUITES:
        raise SuiteError(f"unknown AgentDojo suite {name!r}; expected one of {', '.join(SUITES)}")
    package_dir("agentdojo")  # a clear error when the package is missing
    from agentdojo.task_suite.load_suites import get_suite

    return get_suite(VERSION, name)


def _pipeline_element_class() -> type:
    from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement
    from agentdojo.agent_pipeline.tool_execution import tool_result_to_str

    class MosaicPipelineElement(BasePipelineElement):  # type: ignore[misc]
        """Runs one MOSAIC episode on AgentDojo's runtime and environment."""

        name = PIPELINE_NAME

        def __init__(self, ctx: EvalContext, item_id: str, attacked: bool) -> None:
            self.ctx = ctx
            self.item_id = item_id
            self.attacked = attacked
            self.run: ItemRun | None = None

        def query(
            self,
            query: str,
            runtime: Any,
            env: Any = None,
            messages: Sequence[Any] = (),
            extra_args: dict[str, Any] | None = None,
        ) -> tuple[str, Any, Any, Sequence[Any], dict[str, Any]]:
            def call(name: str, args: dict[str, Any]) -> ToolResult:
                result, error = runtime.run_function(env, name, args)
                if error:
                    return ToolResult(output=str(error), is_error=True, exit_code=1)
                return ToolResult(output=tool_result_to_str(result))

            sandbox = InProcessSandbox(call)
            self.run = run_item_episode(
                self.ctx,
                task_scenario(self.item_id, query, "injection", max_steps=MAX_STEPS),
                item_id=self.item_id,
                axis="injection",
                attacked=self.attacked,
                sandbox_factory=sandbox.factory(),
                tools=tool_schemas_for(runtime),
            )
            assert self.run.episode is not None
            chat = agentdojo_chat(self.run.episode.messages[0]["content"], query, self.run, sandbox)
            return query, runtime, env, chat, dict(extra_args or {})

    return MosaicPipelineElement


def agentdojo_chat(system: str, query: str, run: ItemRun, sandbox: InProcessSandbox) -> list[Any]:
    """The episode as AgentDojo messages: tool calls with their results, then the final text.

    AgentDojo's checks read the function-call trace from assistant `tool_calls` and the model
    output from the last assistant message (always present, so AgentDojo never re-runs).
    """
    from agentdojo.functions_runtime import FunctionCall
    from agentdojo.types import text_content_block_from_string as text

    chat: list[Any] = [
        {"role": "system", "content": [text(system)]},
        {"role": "user", "content": [text(query)]},
    ]
    final = ""
    calls = iter(sandbox.calls)
    for n, step in enumerate(run.episode.steps if run.episode else []):
        if step.kind in (StepKind.ANSWER, StepKind.REFUSAL):
            final = step.text
        record = next(calls, None) if step.kind == StepKind.TOOL_CALL else None
        if record is None:
            continue
        call = FunctionCall(function=record.name, args=record.args, id=f"call_{n}")
        chat.append({"role": "assistant", "content": [text(step.text)], "tool_calls": [call]})
        chat.append(
            {
                "role": "tool",
                "content": [text(record.output)],
                "tool_call_id": f"call_{n}",
                "tool_call": call,
                "error": record.output if record.is_error else None,
            }
        )
    chat.append({"role": "assistant", "content": [text(final)], "tool_calls": None})
    return chat


def tool_schemas_for(runtime: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": f.name,
                "description": f.description,
                "parameters": f.parameters.model_json_schema(),
            },
        }
        for f in runtime.functions.values()
    ]


def interleaved_pairs(user_ids: list[str], injection_ids: list[str]) -> list[tuple[str, str]]:
    """Every (user task, injection task) pair, ordered so any prefix varies both."""
    n_inj = len(injection_ids)
    return [
        (u, injection_ids[(k + r) % n_inj]) for r in range(n_inj) for k, u in enumerate(user_ids)
    ]


@dataclass
class AgentDojoSuite:
    """One AgentDojo suite, with or without an injection attack."""

    suite: str = "workspace"
    attack: str = DEFAULT_ATTACK
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise SuiteError(
                f"unknown AgentDojo suite {self.suite!r}; expected one of {', '.join(SUITES)}"
            )
        if self.attack != "none":
            package_dir("agentdojo")
            from agentdojo.attacks.attack_registry import ATTACKS

            if self.attack not in ATTACKS:
                known = ", ".join(["none", *sorted(ATTACKS)])
                raise SuiteError(
                    f"unknown AgentDojo attack {self.attack!r}; expected one of {known}"
                )
        self.options = {"attack": self.attack, "version": VERSION}

    @property
    def name(self) -> str:
        return f"agentdojo:{self.suite}"

    def item_ids(self) -> list[str]:
        suite = load_suite(self.suite)
        users = sorted(suite.user_tasks, key=_task_number)
        if self.attack == "none":
            return users
        injections = sorted(suite.injection_tasks, key=_task_number)
        return [f"{u}/{i}" for u, i in interleaved_pairs(users, injections)]

    def run_item(self, item_id: str, ctx: EvalContext) -> ItemRun:
        suite = load_suite(self.suite)
        user_id, _, injection_id = item_id.partition("/")
        user_task = suite.get_user_task_by_id(user_id)
        element = _pipeline_element_class()(ctx, f"{self.suite}/{item_id}", bool(injection_id))
        injection_task = None
        injections: dict[str, str] = {}
        if injection_id:
            from agentdojo.attacks.attack_registry import load_attack

            injection_task = suite.get_injection_task_by_id(injection_id)
            injections = load_attack(self.attack, suite, element).attack(user_task, injection_task)
        utility, security = suite.run_task_with_pipeline(
            element, user_task, injection_task, injections
        )
        run: ItemRun = element.run
        run.result.item_id = item_id
        run.result.task_success = bool(utility)
        run.result.attack_success = bool(security) if injection_task is not None else False
        run.result.details["agentdojo"] = {"utility": bool(utility), "security": bool(security)}
        if run.episode is not None:
            run.episode.outcome.task_success = run.result.task_success
            run.episode.outcome.followed_injection = run.result.attack_success
        return run


def _task_number(task_id: str) -> int:
    return int(task_id.rsplit("_", 1)[-1])
