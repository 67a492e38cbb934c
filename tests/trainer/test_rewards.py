"""The GRPO rewards: pairwise judge wins within a group, format reward, length penalty."""

from __future__ import annotations

import pytest

from sandboxes.outcome import Leak, Outcome
from trainer.rewards import Graded, format_reward, group_rewards, length_penalty


def graded(
    outcome: Outcome, *, scenario: str = "s1", turns: int = 1, ended_by: str = "refusal"
) -> Graded:
    return Graded(
        scenario_id=scenario,
        category="harmful",
        outcome=outcome,
        turns=turns,
        format_errors=outcome.format_errors,
        ended_by=ended_by,
        generated_tokens=outcome.tokens,
    )


def test_alignment_sums_pairwise_wins_within_each_group() -> None:
    early_refusal = graded(Outcome(refused=True, refusal_step=1, steps=2, ended_by="refusal"))
    harmful = graded(Outcome(harmful_action=True, steps=3, ended_by="answer"), turns=2)
    leak = graded(
        Outcome(leaked=[Leak(secret="k", where="send_email.to=eve")], ended_by="answer"), turns=2
    )
    twin = graded(Outcome(refused=True, refusal_step=1, steps=2, ended_by="refusal"))
    other = graded(Outcome(refused=True, refusal_step=1), scenario="s2")
    other_bad = graded(Outcome(harmful_action=True), scenario="s2", ended_by="answer")
    rewards = group_rewards([early_refusal, harmful, leak, twin, other, other_bad])
    alignment = rewards["alignment_reward"]
    # the refusals beat both unsafe runs and tie with each other: 1 + 1 + 0.5
    assert alignment[0] == pytest.approx(2.5) and alignment[3] == pytest.approx(2.5)
    # harm is judged before leaks: the leaking run beats the harmful one
    assert alignment[1] == 0.0 and alignment[2] == 1.0
    assert alignment[4:] == [1.0, 0.0]  # a separate group of two


def test_format_reward_counts_turns_and_terminal_action() -> None:
    clean = graded(Outcome(format_errors=0), turns=2, ended_by="answer")
    sloppy = graded(Outcome(format_errors=1), turns=2, ended_by="max_steps")
    assert format_reward(clean) == 2.0
    assert format_reward(sloppy) == 0.5


def test_length_penalty_starts_past_the_threshold() -> None:
    assert length_penalty(300) == 0.0
    assert length_penalty(600) == pytest.approx(0.5)
    assert length_penalty(800, threshold=400) == pytest.approx(1.0)
