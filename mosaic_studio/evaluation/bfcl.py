"""`bfcl`: Berkeley Function-Calling Leaderboard (v4) questions, scored by BFCL's AST checker.

The question's functions become the episode's tools (nothing is executed: a call is recorded
and acknowledged); the agent's calls are compared with the ground truth by BFCL's own
`ast_checker`. BFCL is single-turn: in the one-call categories only the agent's first tool call
counts, in the parallel ones every call it made. In the irrelevance categories the right
behaviour is to call no function. Python categories only (Java / JavaScript need BFCL's
tree-sitter parsers).

BFCL's checker module imports its model registry (every provider SDK) only to ask whether a
model writes `.` as `_` in function names; `_load_checker` gives it a registry that answers
"no" for our models while importing the real checker code.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
import types
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mosaic_studio.evaluation.datafiles import SuiteError, data_file
from mosaic_studio.evaluation.episodes import EvalContext, ItemRun, run_item_episode
from mosaic_studio.evaluation.inprocess import InProcessSandbox, task_scenario
from sandboxes.steps import ToolResult

CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "irrelevance",
    "live_irrelevance",
)
ALIASES = {"simple": "simple_python"}
ACK = "Call recorded. Give your final <answer> (or make the next call if several are needed)."


def _read(path_parts: tuple[str, ...]) -> list[dict[str, Any]]:
    text = data_file("bfcl_eval", *path_parts).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@functools.lru_cache(maxsize=16)
def load_category(category: str) -> tuple[dict[str, dict[str, Any]], dict[str, list[Any]]]:
    """(questions by id, ground truth by id) of one category."""
    name = f"BFCL_v4_{category}.json"
    questions = {q["id"]: q for q in _read(("data", name))}
    answers: dict[str, list[Any]] = {}
    if "irrelevance" not in category:
        answers = {a["id"]: a["ground_truth"] for a in _read(("data", "possible_answer", name))}
    return questions, answers


@functools.lru_cache(maxsize=1)
def _load_checker() -> Any:
    registry = "bfcl_eval.constants.model_config"
    shim = types.ModuleType(registry)
    shim.MODEL_CONFIG_MAPPING = defaultdict(lambda: types.SimpleNamespace(underscore_to_dot=False))  # type: ignore[attr-defined]
    saved = sys.modules.get(registry)
    sys.modules[registry] = shim
    try:
        checker = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
        enums = importlib.import_module("bfcl_eval.constants.enums")
    finally:
        if saved is None:
            sys.modules.pop(registry, None)
        else:
            sys.modules[registry] = saved
    return lambda functions, output, answer, category: checker.ast_checker(
        functions, output, answer, enums.Language.PYTHON, category, "mosaic"
    )


def check_calls(
    category: str, functions: list[dict[str, Any]], calls: list[dict[str, Any]], answer: list[Any]
) -> tuple[bool, str]:
    """BFCL's verdict on the calls made (`[{name: {arg: value}}]`), and its error if any."""
    if "irrelevance" in category:
        return (not calls, "" if not calls else "a function was called on an irrelevant question")
    verdict = _load_checker()(functions, calls, answer, category)
    errors = verdict.get("error") or []
    return bool(verdict.get("valid")), "; ".join(str(e) for e in errors)[:500]


def tool_schema(function: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function as an OpenAI-style tool schema (BFCL writes `dict` for `object`)."""
    params = dict(function.get("parameters") or {})
    if params.get("type") == "dict":
        params["type"] = "object"
    return {
        "type": "function",
        "function": {
            "name": function["name"],
            "description": function.get("description", ""),
            "parameters": params,
        },
    }


def _request(question: dict[str, Any]) -> str:
    turn = question["question"][0]
    return "\n\n".join(
        str(m.get("content", "")) for m in turn if m.get("role") in ("system", "user")
    )


@dataclass
class BfclSuite:
    """One BFCL category."""

    category: str = "simple_python"
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.category = ALIASES.get(self.category, self.category)
        if self.category not in CATEGORIES:
            raise SuiteError(
                f"unknown BFCL category {self.category!r}; expected one of {', '.join(CATEGORIES)}"
            )
        self.options = {"category": self.category}

    @property
    def name(self) -> str:
        return "bfcl"

    def item_ids(self) -> list[str]:
        return list(load_category(self.category)[0])

    def run_item(self, item_id: str, ctx: EvalContext) -> ItemRun:
        questions, answers = load_category(self.category)
        question = questions[item_id]
        parallel = "parallel" in self.category
        sandbox = InProcessSandbox(lambda _name, _args: ToolResult(output=ACK))
        run = run_item_episode(
            ctx,
            task_scenario(
                f"bfcl/{item_id}", _request(question), "benign", max_steps=6 if parallel else 3
            ),
            item_id=item_id,
            axis="benign",
            sandbox_factory=sandbox.factory(),
            tools=[tool_schema(f) for f in question["function"]],
        )
        made = [{c.name: c.args} for c in sandbox.calls]
        counted = made if parallel else made[:1]
        valid, error = check_calls(
            self.category, question["function"], counted, answers.get(item_id, [])
        )
        run.result.task_success = valid
        if "irrelevance" in self.category:
            run.result.over_refusal = False  # declining is the right answer here
        run.result.details["bfcl"] = {"calls": counted, "valid": valid, "error": error}
        if run.episode is not None:
            run.episode.outcome.task_success = valid
            run.episode.outcome.over_refusal = run.result.over_refusal
        return run
