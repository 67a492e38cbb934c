"""Judgments: record, undo, the current labels, the balanced queue, and the rubric judge."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from mosaic_studio.judges.labels import (
    LabelError,
    annotator,
    current_labels,
    record_judgment,
    undo_last,
)
from mosaic_studio.judges.pairs import PairError, balanced_queue, pair_trajectories
from mosaic_studio.judges.render import load_view
from mosaic_studio.judges.rubric import RubricJudge
from mosaic_studio.judges.service import judge_pairs
from mosaic_studio.store.tables import Judgment, Pair
from tests.judges.conftest import ANSWER, READ, REFUSE, SEND, add_pair, add_trajectory


def test_record_and_undo(session: Session) -> None:
    a = add_trajectory(session, [READ, ANSWER])
    b = add_trajectory(session, [READ, SEND])
    pair = add_pair(session, a, b)
    assert pair.id is not None
    alice = annotator(session, "alice")
    assert annotator(session, "alice").id == alice.id  # created once
    first = record_judgment(session, pair.id, alice, "A", left="B", rationale="safer", seconds=3)
    second = record_judgment(session, pair.id, alice, "tie")
    assert current_labels(session)[pair.id][alice.id or 0].choice == "tie"
    undone = undo_last(session, alice)
    assert undone is not None and undone.id == second.id and undone.retracted
    label = current_labels(session)[pair.id][alice.id or 0]
    assert (label.choice, label.left, label.judgment_id) == ("A", "B", first.id)
    assert undo_last(session, alice) is not None
    assert undo_last(session, alice) is None
    assert current_labels(session) == {}
    rows = session.exec(select(Judgment)).all()
    assert len(rows) == 2 and all(r.retracted for r in rows)  # kept for the record


@pytest.mark.parametrize(
    ("choice", "left", "pair_id", "message"),
    [
        ("C", "A", None, "choice must be"),
        ("A", "X", None, "left must be"),
        ("A", "A", 999, "no pair"),
    ],
)
def test_bad_labels_are_refused(
    session: Session, choice: str, left: str, pair_id: int | None, message: str
) -> None:
    pair = add_pair(session, add_trajectory(session, [ANSWER]), add_trajectory(session, [REFUSE]))
    with pytest.raises(LabelError, match=message):
        record_judgment(session, pair_id or pair.id or 0, annotator(session, "bob"), choice, left)


def test_queue_is_round_robin_by_category_and_skips_labelled(session: Session) -> None:
    pairs = []
    for category, n in (("benign", 3), ("harmful", 2), ("privacy", 1)):
        for i in range(n):
            sid = f"{category}-{i}"
            a = add_trajectory(session, [ANSWER], scenario_id=sid, category=category)
            b = add_trajectory(session, [REFUSE], scenario_id=sid, category=category)
            pairs.append(add_pair(session, a, b))
    order = [p.category for p in balanced_queue(session)]
    assert order == ["harmful", "benign", "privacy", "harmful", "benign", "benign"]
    alice = annotator(session, "alice")
    first = balanced_queue(session)[0]
    record_judgment(session, first.id or 0, alice, "B")
    assert first.id not in [p.id for p in balanced_queue(session)]
    # a judge's label does not take a pair out of the people's queue
    judge = annotator(session, "rubric", kind="judge")
    second = balanced_queue(session)[0]
    record_judgment(session, second.id or 0, judge, "A")
    assert second.id in [p.id for p in balanced_queue(session)]
    assert second.id not in [p.id for p in balanced_queue(session, annotator_id=judge.id)]
    assert len(balanced_queue(session, category="benign", limit=2)) == 2


def test_pairing_rules(session: Session) -> None:
    a = add_trajectory(session, [ANSWER])
    b = add_trajectory(session, [REFUSE])
    other = add_trajectory(session, [ANSWER], scenario_id="other")
    running = add_trajectory(session, [READ], status="running")
    first = pair_trajectories(session, [(a.id, b.id)], "samples")
    again = pair_trajectories(session, [(b.id, a.id)], "samples")  # same pair, either order
    assert first[0].id == again[0].id
    assert len(session.exec(select(Pair)).all()) == 1
    with pytest.raises(PairError, match="different scenarios"):
        pair_trajectories(session, [(a.id, other.id)], "samples")
    with pytest.raises(PairError, match="running, not finished"):
        pair_trajectories(session, [(a.id, running.id)], "samples")
    with pytest.raises(PairError, match="strategy must be"):
        pair_trajectories(session, [(a.id, b.id)], "coin")


def test_rubric_judge_over_the_store(session: Session) -> None:
    leak = add_trajectory(session, [READ, SEND], leaked=[{"secret": "api", "where": "mail"}])
    safe = add_trajectory(session, [READ, REFUSE], refused=True, refusal_step=2)
    pending = add_trajectory(session, [READ], status="interrupted")
    p1 = add_pair(session, leak, safe)
    p2 = add_pair(session, safe, pending)
    results = judge_pairs(session, RubricJudge())
    by_pair = {r.pair_id: r.verdict for r in results}
    assert by_pair[p1.id or 0].choice == "B"
    assert by_pair[p1.id or 0].rationale == "leak: B leaked no secret"
    assert by_pair[p2.id or 0].choice == "abstain"
    assert "B (interrupted)" in by_pair[p2.id or 0].rationale
    stored = current_labels(session)[p1.id or 0]
    (label,) = stored.values()
    assert (label.annotator, label.kind, label.choice) == ("rubric", "judge", "B")
    assert judge_pairs(session, RubricJudge()) == []  # already judged
    assert len(judge_pairs(session, RubricJudge(), [p1.id or 0], force=True)) == 1


def test_load_view_reads_outcome_and_steps(session: Session) -> None:
    row = add_trajectory(session, [READ, ANSWER], task_success=True)
    view = load_view(session, row.id)
    assert [s.kind for s in view.steps] == ["plan", "tool_call", "observation", "plan", "answer"]
    assert view.outcome is not None and view.outcome.task_success is True
