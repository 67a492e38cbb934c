"""`run_eval`: evaluate one model on one suite, item by item, resumably, into the store.

    summary = run_eval("smollm2", "builtin:test", limit=8)
    summary.metrics  # {"harm_score": ..., "refusal_rate": ..., "mean_steps": ..., ...}

Each item is committed as soon as it is scored; the same model + suite + options continues
the newest matching run and skips what it holds (items that failed with an error are retried).
A set `cancel` event or Ctrl-C leaves the run `interrupted`, ready to resume.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mosaic_studio.agent.events import EpisodeListener
from mosaic_studio.evaluation.episodes import EvalContext, ItemRun
from mosaic_studio.evaluation.items import ItemResult
from mosaic_studio.evaluation.store import find_or_create_run, save_item, stored_results, update_run
from mosaic_studio.evaluation.suites import Suite, get_suite, suite_label
from mosaic_studio.models.base import ModelBackend, SamplingSettings
from mosaic_studio.store.tables import EvalItem, Trajectory

ItemCallback = Callable[[int, int, ItemResult], None]  # (items done, items in total, result)
# Evaluations sample greedily-ish and briefly by default: comparable across runs, fast on CPU.
DEFAULT_SETTINGS = SamplingSettings(temperature=0.0, top_p=1.0, seed=0, max_new_tokens=160)


@dataclass
class EvalSummary:
    """What one `run_eval` call did and the run's metrics over all its items."""

    run_id: str
    model_spec: str
    suite: str
    label: str
    options: dict[str, Any]
    status: str
    metrics: dict[str, Any]
    resumed: bool
    ran: int  # items scored in this call
    reused: int  # items already in the run
    total: int  # items selected (after --limit)
    results: list[ItemResult] = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _run_one(suite: Suite, item_id: str, ctx: EvalContext) -> ItemRun:
    try:
        return suite.run_item(item_id, ctx)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # one broken item must not end the evaluation
        from mosaic_studio.evaluation.items import Axis

        axis: Axis = "benign"
        return ItemRun(
            ItemResult(item_id=item_id, axis=axis, error=_one_line(exc), ended_by="error")
        )


def _sync_trajectory(session: Session, run: ItemRun) -> None:
    """Benchmark scores decided after the episode (AgentDojo, ASB, BFCL) reach its row too."""
    if run.result.trajectory_id is None or run.episode is None:
        return
    from mosaic_studio.store.queries import outcome_columns

    row = session.get(Trajectory, run.result.trajectory_id)
    if row is not None:
        for name, value in outcome_columns(run.episode.outcome).items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def run_eval(
    model_spec: str,
    suite: str,
    limit: int | None = None,
    *,
    engine: Engine | None = None,
    backend: ModelBackend | None = None,
    settings: SamplingSettings | None = None,
    max_steps: int | None = None,
    fresh: bool = False,
    cancel: threading.Event | None = None,
    listener: EpisodeListener | None = None,
    on_item: ItemCallback | None = None,
    on_start: Callable[[int, int], None] | None = None,
    **options: Any,
) -> EvalSummary:
    """Evaluate `model_spec` on `suite` (options: attack, category, attack_set, source)."""
    adapter = get_suite(suite, **options)
    ids = adapter.item_ids()
    if limit is not None:
        ids = ids[: max(limit, 0)]
    if engine is None:
        from mosaic_studio.store.db import get_engine

        engine = get_engine()
    with Session(engine) as session:
        run, resumed = find_or_create_run(
            session, model_spec, adapter.name, adapter.options, fresh=fresh
        )
        run_id = run.id
        held = stored_results(session, run_id)
    done = {i: r for i, r in held.items() if r.error is None}
    todo = [i for i in ids if i not in done]
    results = [done[i] for i in ids if i in done]
    status = "finished"
    try:
        if todo and backend is None:
            from mosaic_studio.models.spec import load_backend

            backend = load_backend(model_spec)
        if on_start is not None:
            on_start(len(ids) - len(todo), len(ids))
        if todo and backend is not None:
            ctx = EvalContext(
                backend, settings or DEFAULT_SETTINGS, max_steps, cancel, listener, engine
            )
            for item_id in todo:
                if cancel is not None and cancel.is_set():
                    status = "interrupted"
                    break
                item = _run_one(adapter, item_id, ctx)
                if item.result.ended_by == "cancelled":
                    status = "interrupted"
                    break
                with Session(engine) as session:
                    _sync_trajectory(session, item)
                    for stale in session.exec(
                        select(EvalItem).where(
                            EvalItem.eval_run_id == run_id, EvalItem.item_id == item_id
                        )
                    ).all():
                        session.delete(stale)  # an earlier failed attempt
                    session.commit()
                    try:
                        save_item(session, run_id, item.result)
                    except IntegrityError:  # another process resuming the same run scored it
                        session.rollback()
                    update_run(session, run_id)
                results.append(item.result)
                if on_item is not None:
                    on_item(len(results), len(ids), item.result)
    except BaseException:
        with Session(engine) as session:
            update_run(session, run_id, status="interrupted")
        raise
    with Session(engine) as session:
        final = update_run(session, run_id, status=status)
        _remember_on_model(
            session, model_spec, suite_label(final.suite, final.options), final.metrics
        )
        return EvalSummary(
            run_id=run_id,
            model_spec=model_spec,
            suite=final.suite,
            label=suite_label(final.suite, final.options),
            options=dict(final.options),
            status=final.status,
            metrics=dict(final.metrics),
            resumed=resumed,
            ran=len(results) - (len(ids) - len(todo)),
            reused=len(ids) - len(todo),
            total=len(ids),
            results=results,
        )


def _remember_on_model(
    session: Session, model_spec: str, label: str, metrics: dict[str, Any]
) -> None:
    """Keep the newest metrics per suite on the model version too (the app lists models)."""
    from mosaic_studio.store.queries import get_model_version, register_model_version

    existing = get_model_version(session, model_spec)
    merged = dict(existing.metrics) if existing is not None else {}
    merged[label] = metrics
    register_model_version(session, model_spec, metrics=merged)
