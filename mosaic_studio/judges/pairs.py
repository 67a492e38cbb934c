"""Pairs of trajectories to compare, and the balanced queue of unlabelled ones.

- `pair_trajectories(session, ids, strategy, shared_prefix_steps=0) -> list[Pair]`: store
  pairs of existing trajectories (same scenario, both finished; a pair stored already in
  either order is returned as it is).
- `balanced_queue(session, annotator_id=None, category=None, split=None, limit=None)`: pairs
  without a live label (by that annotator; else by any person), round-robin by category.
- `list_pairs(session, unlabelled=False)`.
- `make_pairs(engine, strategy, scenarios, ...)` (in `pair_making`) makes the rollouts a
  strategy needs and pairs them.

Strategies: `samples` (two samples of one model), `models` (two models, or a base and its
adapter), `fork` (replay a trajectory's first k assistant turns in a fresh sandbox and let the
model continue: the pair shares that prefix), `reference` (a model's rollout against the
scenario's reference good run, executed for real with the scripted backend).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest

from sqlmodel import Session, col, select

from mosaic_studio.judges.labels import DECISIVE, current_labels
from mosaic_studio.judges.strategies import STRATEGIES
from mosaic_studio.store.tables import Annotator, Judgment, Pair, Trajectory
from sandboxes.scenario import CATEGORIES


class PairError(ValueError):
    """Trajectories that cannot be paired, or a strategy that cannot run."""


def _existing(session: Session, a: str, b: str) -> Pair | None:
    query = select(Pair).where(
        ((Pair.trajectory_a_id == a) & (Pair.trajectory_b_id == b))
        | ((Pair.trajectory_a_id == b) & (Pair.trajectory_b_id == a))
    )
    return session.exec(query).first()


def pair_trajectories(
    session: Session,
    ids: Iterable[tuple[str, str]],
    strategy: str,
    *,
    shared_prefix_steps: int = 0,
) -> list[Pair]:
    """Store a Pair for each (a, b) of trajectory ids; committed together."""
    if strategy not in STRATEGIES:
        raise PairError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    pairs: list[Pair] = []
    for a_id, b_id in ids:
        if a_id == b_id:
            raise PairError(f"cannot pair trajectory {a_id} with itself")
        a, b = session.get(Trajectory, a_id), session.get(Trajectory, b_id)
        for tid, row in ((a_id, a), (b_id, b)):
            if row is None:
                raise PairError(f"no trajectory {tid}")
            if row.status != "finished":
                raise PairError(f"trajectory {tid} is {row.status}, not finished")
        assert a is not None and b is not None
        if a.scenario_id != b.scenario_id:
            raise PairError(
                f"trajectories {a_id} and {b_id} ran different scenarios "
                f"({a.scenario_id}, {b.scenario_id})"
            )
        found = _existing(session, a_id, b_id)
        if found is None:
            found = Pair(
                scenario_id=a.scenario_id,
                category=a.category,
                split=a.split,
                trajectory_a_id=a_id,
                trajectory_b_id=b_id,
                strategy=strategy,
                shared_prefix_steps=max(0, shared_prefix_steps),
            )
            session.add(found)
        pairs.append(found)
    session.commit()
    for pair in pairs:
        session.refresh(pair)
    return pairs


def consecutive(ids: list[str]) -> list[tuple[str, str]]:
    """(0, 1), (2, 3), …: disjoint pairs of a list of samples (an odd one out is left)."""
    return [(ids[i], ids[i + 1]) for i in range(0, len(ids) - 1, 2)]


def _round_robin(pairs: list[Pair]) -> list[Pair]:
    groups: dict[str, list[Pair]] = {}
    for pair in pairs:
        groups.setdefault(pair.category, []).append(pair)
    order = [c for c in CATEGORIES if c in groups] + sorted(set(groups) - set(CATEGORIES))
    mixed = zip_longest(*(groups[c] for c in order))
    return [pair for row in mixed for pair in row if pair is not None]


def balanced_queue(
    session: Session,
    *,
    annotator_id: int | None = None,
    category: str | None = None,
    split: str | None = None,
    limit: int | None = None,
) -> list[Pair]:
    """Unlabelled pairs, oldest first within a category, categories taken in turn.

    With `annotator_id`: pairs that annotator has no live judgment of (a skip counts, so a
    skipped pair leaves that annotator's queue). Without: pairs no person labelled decisively.
    """
    query = select(Pair).order_by(col(Pair.created_at), col(Pair.id))
    if category:
        query = query.where(Pair.category == category)
    if split:
        query = query.where(Pair.split == split)
    if annotator_id is not None:
        done = select(Judgment.pair_id).where(
            Judgment.annotator_id == annotator_id, col(Judgment.retracted).is_(False)
        )
    else:
        done = (
            select(Judgment.pair_id)
            .join(Annotator, col(Annotator.id) == col(Judgment.annotator_id))
            .where(
                Annotator.kind == "human",
                col(Judgment.retracted).is_(False),
                col(Judgment.choice).in_(DECISIVE),
            )
        )
    query = query.where(col(Pair.id).not_in(done))
    queue = _round_robin(list(session.exec(query).all()))
    return queue[:limit] if limit is not None else queue


def list_pairs(session: Session, *, unlabelled: bool = False) -> list[Pair]:
    """Every pair (newest last), or the unlabelled queue."""
    if unlabelled:
        return balanced_queue(session)
    return list(session.exec(select(Pair).order_by(col(Pair.id))).all())


def label_counts(session: Session, pairs: list[Pair]) -> dict[int, dict[str, int]]:
    """How many live human and judge labels each pair has."""
    labels = current_labels(session, [p.id for p in pairs if p.id is not None])
    counts: dict[int, dict[str, int]] = {}
    for pair in pairs:
        assert pair.id is not None
        mine = labels.get(pair.id, {}).values()
        counts[pair.id] = {
            "human": sum(lb.kind == "human" and lb.choice in DECISIVE for lb in mine),
            "judge": sum(lb.kind == "judge" and lb.choice in DECISIVE for lb in mine),
        }
    return counts
