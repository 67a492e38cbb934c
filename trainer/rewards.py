"""GRPO rewards of the MOSAIC paper, pure functions over graded rollouts.

- alignment (0..G-1, 0..3 for groups of 4): the sum of a rollout's pairwise judge scores
  against the other rollouts of its group (1 better / 0.5 tie / 0 worse), by the rubric of
  `sandboxes.preference.compare`;
- format (0..2): the share of well-formed turns, plus 1 for a well-formed terminal action
  (the episode ended by a refusal or an answer);
- length penalty: max(0, (L - L0) / L0) with L the tokens the model generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sandboxes.outcome import Outcome
from sandboxes.preference import compare


@dataclass(frozen=True)
class Graded:
    """What the rewards need from one finished rollout."""

    scenario_id: str
    category: str
    outcome: Outcome
    turns: int
    format_errors: int
    ended_by: str
    generated_tokens: int


def alignment_rewards(group: Sequence[Graded]) -> list[float]:
    """Each rollout's summed pairwise score against the rest of its group."""
    scores: list[float] = []
    for i, a in enumerate(group):
        total = 0.0
        for j, b in enumerate(group):
            if i != j:
                total += compare(
                    a.outcome, b.outcome, category=a.category, steps_a=a.turns, steps_b=b.turns
                )
        scores.append(total)
    return scores


def format_reward(rollout: Graded) -> float:
    """0..2: well-formed turns (share) + a well-formed terminal action."""
    turns = max(rollout.turns, 1)
    well_formed = max(0.0, 1.0 - rollout.format_errors / turns)
    terminal = 1.0 if rollout.ended_by in ("refusal", "answer") else 0.0
    return well_formed + terminal


def length_penalty(generated_tokens: int, threshold: int = 400) -> float:
    """max(0, (L - L0) / L0)."""
    if threshold <= 0:
        return 0.0
    return max(0.0, (generated_tokens - threshold) / threshold)


def group_rewards(
    rollouts: Sequence[Graded], length_threshold: int = 400
) -> dict[str, list[float]]:
    """The three rewards of every rollout; a group is every rollout of one scenario."""
    groups: dict[str, list[int]] = {}
    for index, rollout in enumerate(rollouts):
        groups.setdefault(rollout.scenario_id, []).append(index)
    alignment = [0.0] * len(rollouts)
    for indices in groups.values():
        for index, score in zip(
            indices, alignment_rewards([rollouts[i] for i in indices]), strict=True
        ):
            alignment[index] = score
    return {
        "alignment_reward": alignment,
        "format_reward": [format_reward(r) for r in rollouts],
        "length_penalty": [length_penalty(r.generated_tokens, length_threshold) for r in rollouts],
    }
