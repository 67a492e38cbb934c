"""Judgments on pairs: record a label, undo the last one, and read the labels that count.

Public API (used by the app's Label screen, the judges and export):
- `annotator(session, name, kind="human") -> Annotator` (created on first use);
- `record_judgment(session, pair_id, annotator, choice, left="A", rationale="", seconds=0.0,
  details=None) -> Judgment`, committed at once;
- `undo_last(session, annotator) -> Judgment | None` marks that annotator's newest live
  judgment `retracted` (kept for the record);
- `current_labels(session, pair_ids=None) -> dict[pair_id, dict[annotator_id, Label]]`: each
  annotator's newest non-retracted judgment per pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from mosaic_studio.store.tables import Annotator, Judgment, Pair

CHOICES: tuple[str, ...] = ("A", "B", "tie", "both_bad", "abstain", "skip")
# Choices that say something about the pair (agreement and export use only these).
DECISIVE: tuple[str, ...] = ("A", "B", "tie", "both_bad")
ANNOTATOR_KINDS: tuple[str, ...] = ("human", "judge")


class LabelError(ValueError):
    """A label that cannot be recorded (unknown pair, choice or side)."""


@dataclass(frozen=True)
class Label:
    """One annotator's current label of one pair."""

    pair_id: int
    annotator_id: int
    annotator: str
    kind: str  # human | judge
    choice: str
    left: str
    judgment_id: int


def annotator(session: Session, name: str, kind: str = "human") -> Annotator:
    """The annotator called `name`, created (and committed) on first use."""
    name = name.strip()
    if not name:
        raise LabelError("an annotator needs a name")
    if kind not in ANNOTATOR_KINDS:
        kinds = ", ".join(ANNOTATOR_KINDS)
        raise LabelError(f"annotator kind must be one of {kinds}, not {kind!r}")
    found = session.exec(select(Annotator).where(Annotator.name == name)).first()
    if found is not None:
        return found
    row = Annotator(name=name, kind=kind)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def record_judgment(
    session: Session,
    pair_id: int,
    annotator: Annotator,
    choice: str,
    left: str = "A",
    rationale: str = "",
    seconds: float = 0.0,
    details: dict[str, Any] | None = None,
) -> Judgment:
    """Store one label of `pair_id` (choices in `CHOICES`; `left`: which side was shown left)."""
    if choice not in CHOICES:
        raise LabelError(f"choice must be one of {', '.join(CHOICES)}, not {choice!r}")
    if left not in ("A", "B"):
        raise LabelError(f"left must be 'A' or 'B', not {left!r}")
    if session.get(Pair, pair_id) is None:
        raise LabelError(f"no pair with id {pair_id}")
    if annotator.id is None:
        raise LabelError("the annotator is not stored yet")
    row = Judgment(
        pair_id=pair_id,
        annotator_id=annotator.id,
        choice=choice,
        left=left,
        rationale=rationale,
        seconds_spent=max(0.0, float(seconds)),
        details=details or {},
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def undo_last(session: Session, annotator: Annotator) -> Judgment | None:
    """Retract `annotator`'s newest live judgment; None when there is none."""
    row = session.exec(
        select(Judgment)
        .where(Judgment.annotator_id == annotator.id, col(Judgment.retracted).is_(False))
        .order_by(col(Judgment.created_at).desc(), col(Judgment.id).desc())
    ).first()
    if row is None:
        return None
    row.retracted = True
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def current_labels(
    session: Session, pair_ids: Iterable[int] | None = None
) -> dict[int, dict[int, Label]]:
    """Each annotator's newest non-retracted judgment, by pair then annotator id."""
    query = (
        select(Judgment, Annotator)
        .join(Annotator, col(Annotator.id) == col(Judgment.annotator_id))
        .where(col(Judgment.retracted).is_(False))
        .order_by(col(Judgment.created_at), col(Judgment.id))
    )
    if pair_ids is not None:
        query = query.where(col(Judgment.pair_id).in_(list(pair_ids)))
    labels: dict[int, dict[int, Label]] = {}
    for judgment, who in session.exec(query).all():
        assert judgment.id is not None and who.id is not None
        labels.setdefault(judgment.pair_id, {})[who.id] = Label(
            pair_id=judgment.pair_id,
            annotator_id=who.id,
            annotator=who.name,
            kind=who.kind,
            choice=judgment.choice,
            left=judgment.left,
            judgment_id=judgment.id,
        )
    return labels
