"""The live training chart: loss, reward margin and accuracy against the step."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot

SERIES: tuple[tuple[str, str, str], ...] = (
    ("loss", "loss", "red"),
    ("rewards/margins", "reward margin", "blue"),
    ("rewards/accuracies", "accuracy", "green"),
    ("reward", "reward", "magenta"),
)
"""(progress key, legend, colour)."""


def series(points: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of one metric over the log events that carry it."""
    xs: list[float] = []
    ys: list[float] = []
    for point in points:
        value, step = point.get(key), point.get("step")
        if isinstance(value, int | float) and isinstance(step, int | float):
            xs.append(float(step))
            ys.append(float(value))
    return xs, ys


class TrainingChart(PlotextPlot):
    """Redrawn from the whole history each time (`TrainingProgressed` carries all points)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plotted_points: dict[str, int] = {}
        """How many points each drawn series has (what the last `plot` drew)."""

    def plot(self, title: str, points: list[dict[str, Any]]) -> None:
        plt = self.plt
        self.plotted_points = {}
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("step")
        drawn = False
        for key, label, colour in SERIES:
            xs, ys = series(points, key)
            if xs:
                plt.plot(xs, ys, label=label, color=colour, marker="braille")
                self.plotted_points[key] = len(xs)
                drawn = True
        if not drawn and points is not None and title.startswith("job"):
            plt.title(f"{title} — waiting for the first log step")
        self.refresh()
