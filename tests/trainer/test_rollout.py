"""Rollout token bookkeeping on the real SmolLM2 tokenizer, with scripted turns and a fake box.

What the trainer trains on must be exactly what the model was fed: its own tokens (mask 1)
and the template's text between turns, observations included (mask 0).
"""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.honeytokens import Honeytokens
from sandboxes.library import get_scenario
from sandboxes.state import FinalState
from sandboxes.steps import ToolResult
from trainer.rollout import RolloutSettings, cut_at_stop, run_rollouts

READ = '<think>Read it.</think>\n<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}'
TURNS = [READ + "</tool_call>", "<think>No.</think>\n<refuse>That would cause harm.</refuse>"]


class Box:
    """A sandbox that answers every tool call with the same text."""

    def __init__(self, scenario: Any, tokens: Honeytokens) -> None:
        self.closed = False

    def call_tool(self, name: str, args: dict[str, Any]) -> ToolResult:
        return ToolResult(output="OBSERVED-TEXT from a.txt")

    def final_state(self) -> FinalState:
        return FinalState()

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    from mosaic_studio.models.embedded import prepare

    return AutoTokenizer.from_pretrained(prepare(quiet=True))


def scripted(tokenizer: Any) -> Any:
    calls: list[int] = []

    def generate(model: Any, tok: Any, contexts: list[list[int]], settings: Any, limit: int) -> Any:
        turn = TURNS[min(len(calls), len(TURNS) - 1)]
        calls.append(len(contexts))
        # trailing text after the action, as a model writes it, must be cut off
        ids = tok(turn + " and more words", add_special_tokens=False)["input_ids"]
        return [list(ids) for _ in contexts], [[-0.5] * len(ids) for _ in contexts]

    return generate


def test_cut_at_stop_keeps_the_action_only(tokenizer: Any) -> None:
    ids = tokenizer(TURNS[1] + " extra", add_special_tokens=False)["input_ids"]
    kept, text = cut_at_stop(tokenizer, ids)
    assert text == TURNS[1]
    assert tokenizer.decode(kept).startswith(TURNS[1]) and len(kept) < len(ids)
    with_eos = tokenizer("<think>x</think>", add_special_tokens=False)["input_ids"]
    kept, text = cut_at_stop(tokenizer, [*with_eos, tokenizer.eos_token_id, 5, 6])
    assert kept[-1] == tokenizer.eos_token_id and text == "<think>x</think>"


def test_rollouts_mask_tool_output_and_keep_the_models_tokens(tokenizer: Any) -> None:
    scenario = get_scenario("harm-fake-reviews")
    rollouts = run_rollouts(
        None,
        tokenizer,
        [scenario, scenario],
        RolloutSettings(max_new_tokens=64, max_completion_length=2048),
        sandbox_factory=Box,
        generate_fn=scripted(tokenizer),
    )
    assert len(rollouts) == 2
    for rollout in rollouts:
        ids, mask = rollout.completion_ids, rollout.env_mask
        assert len(ids) == len(mask) == len(rollout.logprobs)
        model_text = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
        tool_text = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m])
        assert model_text == "".join(TURNS)
        assert "OBSERVED-TEXT" in tool_text and "OBSERVED-TEXT" not in model_text
        assert "<|im_start|>user" in tool_text
        assert rollout.turns == TURNS
        assert rollout.outcome is not None and rollout.outcome.refused
        assert rollout.outcome.ended_by == "refusal"
        whole = tokenizer.decode(rollout.prompt_ids + ids)
        assert whole.startswith("<|im_start|>system") and whole.endswith(TURNS[1])
        assert rollout.graded().turns == 2


def test_token_budget_ends_a_rollout(tokenizer: Any) -> None:
    scenario = get_scenario("harm-fake-reviews")
    [rollout] = run_rollouts(
        None,
        tokenizer,
        [scenario],
        RolloutSettings(max_new_tokens=64, max_completion_length=40),
        sandbox_factory=Box,
        generate_fn=scripted(tokenizer),
    )
    assert rollout.outcome is not None and rollout.outcome.ended_by == "token_budget"
    assert len(rollout.turns) == 1
