"""A metrics table: one row per metric, one column per model, coloured against the first model."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from mosaic_studio.evaluation.metrics import METRIC_LABELS, RATE_METRICS

METRIC_WIDTH = 42
COUNT_LABELS = {"n_items": "items evaluated", "n_errors": "items that failed to run"}

ModelMetrics = Mapping[str, Mapping[str, float | int]]
"""model spec -> metric name -> value (one suite)."""


def format_value(name: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if name in RATE_METRICS:
        return f"{100 * float(value):.0f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def compare_style(name: str, value: float | int | None, base: float | int | None) -> str:
    """Green where better than the base model, red where worse (by the label's arrow)."""
    label = METRIC_LABELS.get(name, "")
    if value is None or base is None or value == base:
        return ""
    higher_is_better = label.endswith("↑")
    if not higher_is_better and not label.endswith("↓"):
        return ""
    better = (value > base) if higher_is_better else (value < base)
    return "bold #8be3a5" if better else "bold #ff8a80"


def order_models(specs: list[str]) -> list[str]:
    """Base models first, then adapters and the rest, each alphabetically."""
    return sorted(specs, key=lambda spec: ("+lora:" in spec, spec))


class MetricsTable(DataTable[Text | str]):
    """Shows one suite's metrics for several models."""

    def show(self, metrics: ModelMetrics) -> None:
        self.clear(columns=True)
        models = order_models(list(metrics))
        if not models:
            return
        # fixed widths: auto-sized columns would depend on when rows arrive
        self.add_column("metric", key="metric", width=METRIC_WIDTH)
        for spec in models:
            self.add_column(Text(spec, style="bold"), key=spec, width=max(8, len(spec)))
        names = [n for n in METRIC_LABELS if any(n in metrics[m] for m in models)]
        names += sorted({n for m in models for n in metrics[m]} - set(names))
        base = metrics[models[0]]
        for name in names:
            cells: list[Text | str] = [METRIC_LABELS.get(name) or COUNT_LABELS.get(name, name)]
            for spec in models:
                value = metrics[spec].get(name)
                style = compare_style(name, value, base.get(name)) if spec != models[0] else ""
                cells.append(Text(format_value(name, value), style=style, justify="right"))
            self.add_row(*cells, key=name)
