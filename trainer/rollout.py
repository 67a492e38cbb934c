"""GRPO rollouts: the policy model drives `sandboxes.episode.Episode` in real sandboxes.

The same episode state machine as the app (system prompt, parser, tools, grader), one sandbox
per rollout, the active rollouts generated in one batch per turn. Each rollout's training
sequence is exactly the token sequence the model was fed: its own tokens (`env_mask` 1) and
the text the chat template puts between turns, observations included (`env_mask` 0, masked
from the loss).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandboxes import agent_format as fmt
from sandboxes.episode import Episode, SandboxFactory
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from trainer.rewards import Graded


@dataclass(frozen=True)
class RolloutSettings:
    """How rollouts sample and where they stop."""

    max_new_tokens: int = 192
    max_turns: int = 0  # 0: the scenario's max_steps
    max_completion_length: int = 1024
    temperature: float = 0.9
    top_p: float = 0.95


@dataclass
class Rollout:
    """One finished rollout: its token sequence, masks and graded outcome."""

    scenario: Scenario
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    turns: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    aligned: bool = True  # False once the template re-rendered history differently

    @property
    def generated_tokens(self) -> int:
        return sum(self.env_mask)

    def graded(self) -> Graded:
        assert self.outcome is not None
        return Graded(
            scenario_id=self.scenario.id,
            category=self.scenario.category,
            outcome=self.outcome,
            turns=len(self.turns),
            format_errors=self.outcome.format_errors,
            ended_by=self.outcome.ended_by,
            generated_tokens=self.generated_tokens,
        )


GenerateFn = Callable[
    [Any, Any, list[list[int]], RolloutSettings, int], tuple[list[list[int]], list[list[float]]]
]


class _Live:
    """A rollout in progress: its episode, the ids fed next, and the text they render."""

    def __init__(self, rollout: Rollout, episode: Episode, ids: list[int], text: str) -> None:
        self.rollout = rollout
        self.episode = episode
        self.ids = ids
        self.text = text


def render(tokenizer: Any, messages: list[dict[str, Any]]) -> str:
    text: str = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text


def encode(tokenizer: Any, text: str) -> list[int]:
    ids: list[int] = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids


def cut_at_stop(tokenizer: Any, ids: list[int]) -> tuple[list[int], str]:
    """The generated ids up to the end of the first action (stop string or EOS), and the text."""
    eos = tokenizer.eos_token_id
    if eos in ids:
        ids = ids[: ids.index(eos) + 1]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    cut, hit = fmt.truncate_at_stop(text)
    if hit:
        for k in range(1, len(ids) + 1):  # the shortest prefix that holds the whole action
            if fmt.truncate_at_stop(tokenizer.decode(ids[:k], skip_special_tokens=True))[1]:
                ids = ids[:k]
                break
    return ids, cut


def glue_after_turn(
    tokenizer: Any, before: str, turn: str, after: str, ended_eos: bool
) -> str | None:
    """The template's text between the model's turn and the next generation, or None.

    `before` is the rendered chat the turn was generated from, `after` the rendering once the
    turn and its observation are in; None when the template re-rendered history differently.
    """
    if not after.startswith(before) or not after[len(before) :].startswith(turn):
        return None
    glue = after[len(before) + len(turn) :]
    eos_text = tokenizer.eos_token or ""
    if ended_eos and eos_text and glue.startswith(eos_text):
        glue = glue[len(eos_text) :]
    return glue


def generate_batch(
    model: Any, tokenizer: Any, contexts: list[list[int]], settings: RolloutSettings, limit: int
) -> tuple[list[list[int]], list[list[float]]]:
    """Sample one turn for each context (left-padded batch); new ids and their logprobs."""
    import torch

    width = max(len(c) for c in contexts)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([[pad] * (width - len(c)) + c for c in contexts])
    attention = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts])
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=limit,
                use_cache=True,
                do_sample=True,
                temperature=settings.temperature,
                top_p=settings.top_p,
                pad_token_id=pad,
                stop_strings=list(fmt.STOP_STRINGS),
                tokenizer=tokenizer,
                return_dict_in_generate=True,
                output_logits=True,
            )
    finally:
        if was_training:
            model.train()
    new = out.sequences[:, width:].tolist()
    logits = torch.stack(out.logits, dim=1).float() / max(settings.temperature, 1e-5)
    logps = torch.log_softmax(logits, dim=-1)
    chosen = logps.gather(-1, out.sequences[:, width:].unsqueeze(-1)).squeeze(-1).tolist()
    return new, chosen


def run_rollouts(
    model: Any,
    tokenizer: Any,
    scenarios: Sequence[Scenario],
    settings: RolloutSettings,
    *,
    sandbox_factory: SandboxFactory | None = None,
    should_stop: Callable[[], bool] | None = None,
    generate_fn: GenerateFn | None = None,
) -> list[Rollout]:
    """One rollout per scenario given (repeat a scenario for a group), run to their ends.

    `generate_fn(model, tokenizer, contexts, settings, limit)` samples one turn per context
    (default: `generate_batch`); `sandbox_factory` defaults to a real Docker sandbox.
    """
    generate = generate_fn or generate_batch
    live: list[_Live] = []
    try:
        for scenario in scenarios:
            episode = Episode.start(
                scenario, sandbox_factory=sandbox_factory, max_steps=settings.max_turns or None
            )
            text = render(tokenizer, episode.messages)
            ids = encode(tokenizer, text)
            rollout = Rollout(scenario=scenario, prompt_ids=list(ids))
            live.append(_Live(rollout, episode, ids, text))
        order = [item.rollout for item in live]
        while live:
            used = max(len(item.rollout.completion_ids) for item in live)
            limit = min(settings.max_new_tokens, settings.max_completion_length - used)
            if limit <= 0 or (should_stop is not None and should_stop()):
                for item in live:
                    _finish(item, "token_budget" if limit <= 0 else "cancelled")
                live = []
                break
            new_ids, new_logps = generate(model, tokenizer, [i.ids for i in live], settings, limit)
            still: list[_Live] = []
            for item, ids, logps in zip(live, new_ids, new_logps, strict=True):
                if _advance(item, tokenizer, ids, logps, settings):
                    still.append(item)
            live = still
        return order
    finally:
        for item in live:
            item.episode.close()


def _advance(
    item: _Live, tokenizer: Any, ids: list[int], logps: list[float], settings: RolloutSettings
) -> bool:
    """Feed one generated turn to the episode; False once the rollout has ended."""
    ids, turn = cut_at_stop(tokenizer, ids)
    logps = logps[: len(ids)]
    rollout, episode = item.rollout, item.episode
    rollout.turns.append(turn)
    episode.advance(turn, len(ids))
    if rollout.aligned:
        rollout.completion_ids += ids
        rollout.env_mask += [1] * len(ids)
        rollout.logprobs += logps
    if episode.done:
        _finish(item, None)
        return False
    after = render(tokenizer, episode.messages)
    ended_eos = bool(ids) and ids[-1] == tokenizer.eos_token_id
    glue = glue_after_turn(tokenizer, item.text, turn, after, ended_eos)
    if glue is None or not rollout.aligned:
        rollout.aligned = False  # keep playing the episode; train on the turns so far
        item.ids = encode(tokenizer, after)
    else:
        glue_ids = encode(tokenizer, glue)
        item.ids = item.ids + ids + glue_ids
        rollout.completion_ids += glue_ids
        rollout.env_mask += [0] * len(glue_ids)
        rollout.logprobs += [0.0] * len(glue_ids)
    item.text = after
    if len(rollout.completion_ids) >= settings.max_completion_length:
        _finish(item, "token_budget")
        return False
    return True


def _finish(item: _Live, ended_by: str | None) -> None:
    rollout = item.rollout
    outcome, _ = item.episode.finish(ended_by)
    rollout.outcome = outcome
    if not rollout.completion_ids:  # TRL needs a token; masked, it teaches nothing
        rollout.completion_ids = [item.ids[-1]]
        rollout.env_mask = [0]
        rollout.logprobs = [0.0]


def summarize(rollouts: Sequence[Rollout]) -> dict[str, Any]:
    """Counts for the progress log: refusals, harm, leaks, format errors, tokens."""
    outcomes = [r.outcome for r in rollouts if r.outcome is not None]
    n = max(len(outcomes), 1)
    return {
        "rollouts": len(rollouts),
        "refused": sum(o.refused for o in outcomes) / n,
        "harmful_action": sum(o.harmful_action for o in outcomes) / n,
        "leaked": sum(o.any_leak for o in outcomes) / n,
        "task_success": sum(bool(o.task_success) for o in outcomes) / n,
        "format_errors": sum(o.format_errors for o in outcomes) / n,
        "generated_tokens": sum(r.generated_tokens for r in rollouts) / max(len(rollouts), 1),
    }
