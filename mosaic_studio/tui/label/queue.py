"""The labelling queue (`judges.pairs.balanced_queue`), the progress count, and each pair's two
trajectories with their steps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mosaic_studio.judges.pairs import balanced_queue
from mosaic_studio.store import queries
from mosaic_studio.store.tables import Judgment, Pair, Trajectory
from sandboxes.steps import Step


def unlabelled_pairs(session: Session, annotator_id: int | None) -> list[int]:
    """Ids of pairs without a live judgment by this annotator, categories taken in turn."""
    return [p.id for p in balanced_queue(session, annotator_id=annotator_id) if p.id is not None]


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
