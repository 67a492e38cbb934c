"""The labelling queue: pairs this annotator has not labelled, balanced across categories,
and each pair's two trajectories with their steps."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from mosaic_studio.store import queries
from mosaic_studio.store.tables import Judgment, Pair, Trajectory
from sandboxes.steps import Step


def unlabelled_pairs(session: Session, annotator_id: int | None) -> list[int]:
    """Ids of pairs without a live judgment by this annotator, round-robin by category."""
    done: set[int] = set()
    if annotator_id is not None:
        done = set(
            session.exec(
                select(Judgment.pair_id).where(
                    Judgment.annotator_id == annotator_id, col(Judgment.retracted).is_(False)
                )
            ).all()
        )
    by_category: dict[str, list[int]] = defaultdict(list)
    rows = session.exec(select(Pair.id, Pair.category).order_by(col(Pair.id))).all()
    for pair_id, category in rows:
        if pair_id is not None and pair_id not in done:
            by_category[category].append(pair_id)
    queue: list[int] = []
    columns = [by_category[c] for c in sorted(by_category)]
    for position in range(max((len(c) for c in columns), default=0)):
        queue.extend(c[position] for c in columns if position < len(c))
    return queue


def labelled_count(session: Session, annotator_id: int | None) -> int:
    """How many pairs this annotator has a live label on."""
    if annotator_id is None:
        return 0
    rows = session.exec(
        select(Judgment.pair_id)
        .where(Judgment.annotator_id == annotator_id, col(Judgment.retracted).is_(False))
        .distinct()
    ).all()
    return len(rows)


@dataclass(frozen=True)
class Side:
    """One trajectory of a pair, detached from the session."""

    trajectory: Trajectory
    steps: list[Step]


@dataclass(frozen=True)
class PairToLabel:
    """A pair and its two sides (A and B, as stored)."""

    pair: Pair
    a: Side
    b: Side


def load_pair(session: Session, pair_id: int) -> PairToLabel:
    """A pair with both trajectories and their steps; `LookupError` when something is gone."""
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise LookupError(f"no pair {pair_id}")

    def side(trajectory_id: str) -> Side:
        trajectory = session.get(Trajectory, trajectory_id)
        if trajectory is None:
            raise LookupError(f"pair {pair_id}: no trajectory {trajectory_id}")
        steps = queries.steps_of(queries.trajectory_steps(session, trajectory_id))
        session.expunge(trajectory)
        return Side(trajectory, steps)

    a, b = side(pair.trajectory_a_id), side(pair.trajectory_b_id)
    session.expunge(pair)
    return PairToLabel(pair, a, b)
