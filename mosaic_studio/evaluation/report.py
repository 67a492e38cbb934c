"""`mosaic eval report`: a Markdown report of the newest metrics of every model and suite.

One table per suite (a row per model), a chart of the rate metrics (a PNG beside the report,
drawn with matplotlib when it is installed; otherwise a text bar chart inside the Markdown),
and the notes a reader needs (what each metric means, AgentHarm not being available offline).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from mosaic_studio.evaluation.harmful import AGENTHARM_NOTE
from mosaic_studio.evaluation.metrics import METRIC_LABELS, RATE_METRICS

MetricsTable = dict[str, dict[str, dict[str, Any]]]  # model -> suite label -> metrics
BAR_WIDTH = 30


def _by_suite(table: MetricsTable) -> dict[str, dict[str, dict[str, Any]]]:
    suites: dict[str, dict[str, dict[str, Any]]] = {}
    for model, per_suite in sorted(table.items()):
        for suite, metrics in per_suite.items():
            suites.setdefault(suite, {})[model] = metrics
    return dict(sorted(suites.items()))


def _fmt(name: str, value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value:.0%}" if name in RATE_METRICS else f"{value:g}"


def _columns(models: dict[str, dict[str, Any]]) -> list[str]:
    present = {k for m in models.values() for k in m}
    return [k for k in METRIC_LABELS if k in present]


def text_bars(table: MetricsTable) -> str:
    """The rate metrics as a text bar chart (one block per suite)."""
    lines = []
    for suite, models in _by_suite(table).items():
        lines.append(suite)
        for metric in (c for c in _columns(models) if c in RATE_METRICS):
            for model, metrics in models.items():
                value = metrics.get(metric)
                if isinstance(value, int | float):
                    bar = "█" * round(float(value) * BAR_WIDTH)
                    lines.append(f"  {metric:<22} {model[:28]:<28} {bar:<{BAR_WIDTH}} {value:.0%}")
        lines.append("")
    return "\n".join(lines).rstrip()


def draw_chart(table: MetricsTable, path: Path) -> bool:
    """Draw the rate metrics as grouped bars into a PNG; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    suites = _by_suite(table)
    if not suites:
        return False
    fig, axes = plt.subplots(len(suites), 1, figsize=(10, 2.8 * len(suites)), squeeze=False)
    for ax, (suite, models) in zip(axes[:, 0], suites.items(), strict=True):
        metrics = [c for c in _columns(models) if c in RATE_METRICS]
        width = 0.8 / max(len(models), 1)
        for n, (model, values) in enumerate(models.items()):
            xs = [i + n * width for i in range(len(metrics))]
            ys = [float(values.get(m) or 0.0) for m in metrics]
            ax.bar(xs, ys, width=width, label=model[:40])
        ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(metrics))])
        ax.set_xticklabels([m.replace("_", "\n") for m in metrics], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(suite, fontsize=10)
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render_report(table: MetricsTable, *, chart: str | None = None) -> str:
    """The Markdown text; `chart` is the PNG's file name, else a text chart is embedded."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# MOSAIC Studio evaluation report\n\n_{stamp}; newest run of each model and suite._\n"]
    if not table:
        out.append("No evaluation results yet: run `mosaic eval --model SPEC --suite SUITE`.\n")
    for suite, models in _by_suite(table).items():
        columns = _columns(models)
        out.append(f"## {suite}\n")
        out.append("| model | " + " | ".join(columns) + " |")
        out.append("|---|" + "---|" * len(columns))
        for model, metrics in models.items():
            out.append(
                f"| `{model}` | " + " | ".join(_fmt(c, metrics.get(c)) for c in columns) + " |"
            )
        out.append("")
    if table:
        out.append("## Chart\n")
        out.append(
            f"![rate metrics]({chart})\n" if chart else "```\n" + text_bars(table) + "\n```\n"
        )
    out.append("## Metrics\n")
    out.extend(f"- `{name}`: {label}" for name, label in METRIC_LABELS.items())
    out.append(f"\nHarmful-task axis: {AGENTHARM_NOTE}\n")
    return "\n".join(out)


def write_report(table: MetricsTable, path: Path) -> tuple[Path, Path | None]:
    """Write the Markdown report (and its PNG chart when matplotlib is there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    png = path.with_suffix(".png")
    drawn = draw_chart(table, png)
    path.write_text(render_report(table, chart=png.name if drawn else None), encoding="utf-8")
    return path, png if drawn else None
