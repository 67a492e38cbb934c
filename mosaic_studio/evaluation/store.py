"""Evaluation results in the store: resumable `EvalRun`s, their `EvalItem`s, the latest metrics.

A run is identified by model spec + suite + options: starting the same evaluation again reuses
the newest such run and skips the items it already holds (that is how an interrupted eval
resumes, and how a larger `--limit` extends a smaller one). `latest_metrics(session)` gives
`{model_spec: {suite label: metrics}}` from the newest run of each, for the app's Eval area.
"""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session, col, select

from mosaic_studio.evaluation.items import ItemResult
from mosaic_studio.evaluation.metrics import compute_metrics
from mosaic_studio.evaluation.suites import suite_label
from mosaic_studio.store.tables import EvalItem, EvalRun


def find_or_create_run(
    session: Session, model_spec: str, suite: str, options: dict[str, Any], *, fresh: bool = False
) -> tuple[EvalRun, bool]:
    """The run to continue (newest with the same identity) or a new one; (run, resumed)."""
    if not fresh:
        query = (
            select(EvalRun)
            .where(EvalRun.model_spec == model_spec, EvalRun.suite == suite)
            .order_by(col(EvalRun.created_at).desc())
        )
        for run in session.exec(query).all():
            if run.options == options:
                run.status = "running"
                session.add(run)
                session.commit()
                session.refresh(run)
                return run, True
    run = EvalRun(model_spec=model_spec, suite=suite, options=options, status="running")
    session.add(run)
    session.commit()
    session.refresh(run)
    return run, False


def stored_results(session: Session, run_id: str) -> dict[str, ItemResult]:
    """The item results a run already holds, by item id."""
    rows = session.exec(select(EvalItem).where(EvalItem.eval_run_id == run_id)).all()
    return {row.item_id: ItemResult.model_validate(row.result) for row in rows}


def save_item(session: Session, run_id: str, result: ItemResult) -> None:
    """Store one scored item (committed at once, so an interruption keeps it)."""
    session.add(
        EvalItem(
            eval_run_id=run_id,
            item_id=result.item_id,
            trajectory_id=result.trajectory_id,
            result=result.model_dump(mode="json"),
        )
    )
    session.commit()


def update_run(session: Session, run_id: str, *, status: str | None = None) -> EvalRun:
    """Recompute a run's metrics from all its items; set its status (finished: its end time)."""
    run = session.get(EvalRun, run_id)
    if run is None:
        raise KeyError(run_id)
    run.metrics = compute_metrics(stored_results(session, run_id).values())
    if status is not None:
        run.status = status
        run.finished_at = time.time() if status == "finished" else run.finished_at
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def eval_runs(session: Session, model_spec: str | None = None) -> list[EvalRun]:
    """Every run, newest first; only one model's when given."""
    query = select(EvalRun).order_by(col(EvalRun.created_at).desc())
    if model_spec is not None:
        query = query.where(EvalRun.model_spec == model_spec)
    return list(session.exec(query).all())


def latest_runs(session: Session) -> list[EvalRun]:
    """The newest run of each (model, suite, options), newest first."""
    seen: set[tuple[str, str]] = set()
    latest = []
    for run in eval_runs(session):
        key = (run.model_spec, suite_label(run.suite, run.options))
        if key not in seen and run.metrics.get("n_items"):
            seen.add(key)
            latest.append(run)
    return latest


def latest_metrics(session: Session) -> dict[str, dict[str, dict[str, Any]]]:
    """`{model_spec: {suite label: metrics}}` from the newest run of each."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for run in latest_runs(session):
        table.setdefault(run.model_spec, {})[suite_label(run.suite, run.options)] = dict(
            run.metrics
        )
    return table
