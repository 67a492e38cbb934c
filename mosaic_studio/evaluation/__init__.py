"""Evaluation on the paper's four axes (harmful, injection, benign, privacy).

Public API:
- `run_eval(model_spec, suite, limit=None, *, engine=None, backend=None, settings=None,
  max_steps=None, fresh=False, cancel=None, listener=None, on_item=None, on_start=None,
  **options) -> EvalSummary` (`mosaic_studio.evaluation.runner`): resumable, stored as
  `EvalRun` / `EvalItem` rows, trajectories as `Trajectory` rows (source `eval`).
- `latest_metrics(session) -> {model_spec: {suite label: metrics}}`, `latest_runs`,
  `eval_runs` (`mosaic_studio.evaluation.store`), for the app's Eval area.
- `get_suite(name, **options)`, `SUITE_NAMES` (`mosaic_studio.evaluation.suites`).
- `compute_metrics(results)`, `METRIC_LABELS` (`mosaic_studio.evaluation.metrics`).
- `write_report(table, path)` (`mosaic_studio.evaluation.report`).
"""

from __future__ import annotations

from typing import Any


def run_eval(model_spec: str, suite: str, limit: int | None = None, **kwargs: Any) -> Any:
    """See `mosaic_studio.evaluation.runner.run_eval`."""
    from mosaic_studio.evaluation.runner import run_eval as _run_eval

    return _run_eval(model_spec, suite, limit, **kwargs)


def latest_metrics(session: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """See `mosaic_studio.evaluation.store.latest_metrics`."""
    from mosaic_studio.evaluation.store import latest_metrics as _latest_metrics

    return _latest_metrics(session)
