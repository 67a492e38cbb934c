"""Run a judge over pairs and store its verdicts as judgments (one per pair, committed at once).

`make_judge(name)`: `rubric` or any model spec. `judge_pairs(session, judge, pair_ids=None,
on_verdict=None, force=False, cancel=None)`: pairs given by id, or every pair this judge has
not labelled yet (round-robin by category); returns the `JudgedPair`s in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlmodel import Session

from mosaic_studio.judges.labels import annotator, current_labels, record_judgment
from mosaic_studio.judges.model_judge import ModelJudge
from mosaic_studio.judges.pairs import balanced_queue
from mosaic_studio.judges.render import load_view
from mosaic_studio.judges.rubric import RubricJudge
from mosaic_studio.judges.verdict import Judge, Verdict
from mosaic_studio.store.tables import Pair, Trajectory


@dataclass(frozen=True)
class JudgedPair:
    """A pair and the verdict stored for it."""

    pair_id: int
    scenario_id: str
    category: str
    judgment_id: int
    verdict: Verdict


def make_judge(name: str, *, cancel: threading.Event | None = None) -> Judge:
    """The rubric judge for `rubric`, else a model judge on that model spec."""
    if name.strip().lower() == "rubric":
        return RubricJudge()
    return ModelJudge(name.strip(), cancel=cancel)


def _request(session: Session, pair: Pair) -> str:
    """The user's request as the agent saw it (the first user message of trajectory A)."""
    row = session.get(Trajectory, pair.trajectory_a_id)
    for message in (row.messages if row else []) or []:
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def judge_pairs(
    session: Session,
    judge: Judge,
    pair_ids: Iterable[int] | None = None,
    *,
    on_verdict: Callable[[JudgedPair, int, int], None] | None = None,
    force: bool = False,
    cancel: threading.Event | None = None,
) -> list[JudgedPair]:
    """Judge pairs and store each verdict; `on_verdict(judged, done, total)` after each one.

    Without `pair_ids`, every pair this judge has not labelled yet. Pairs it labelled already
    are skipped unless `force`.
    """
    who = annotator(session, judge.name, kind="judge")
    if pair_ids is None:
        pairs = balanced_queue(session, annotator_id=who.id)
    else:
        pairs = []
        for pid in pair_ids:
            pair = session.get(Pair, pid)
            if pair is None:
                raise KeyError(pid)
            pairs.append(pair)
    if not force:
        labelled = current_labels(session, [p.id for p in pairs if p.id is not None])
        pairs = [p for p in pairs if who.id not in labelled.get(p.id or -1, {})]
    results: list[JudgedPair] = []
    for n, pair in enumerate(pairs, 1):
        if cancel is not None and cancel.is_set():
            break
        assert pair.id is not None
        verdict = judge.judge(
            load_view(session, pair.trajectory_a_id),
            load_view(session, pair.trajectory_b_id),
            request=_request(session, pair),
            category=pair.category,
        )
        row = record_judgment(
            session,
            pair.id,
            who,
            verdict.choice,
            left=verdict.left,
            rationale=verdict.rationale,
            seconds=verdict.seconds,
            details=verdict.details,
        )
        assert row.id is not None
        judged = JudgedPair(pair.id, pair.scenario_id, pair.category, row.id, verdict)
        results.append(judged)
        if on_verdict is not None:
            on_verdict(judged, n, len(pairs))
    return results
