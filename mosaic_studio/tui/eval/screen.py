"""The Eval area: pick a suite, see every evaluated model's metrics side by side."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Header, Select, Static

from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.eval.table import MetricsTable

AllMetrics = dict[str, dict[str, dict[str, Any]]]
"""model spec -> suite -> metrics."""


class EvalScreen(AreaScreen):
    """Reads the latest finished evaluation of each model on each suite."""

    SUB_TITLE = "Eval"
    AUTO_FOCUS = "#metrics-table"

    BINDINGS: ClassVar[list[BindingType]] = [("r", "refresh", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self._metrics: AllMetrics = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select[str]([], prompt="suite", id="suite")
        yield MetricsTable(id="metrics-table")
        yield Static("", id="eval-note")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, description="Loading evaluations")
    def load(self) -> None:
        from mosaic_studio.evaluation import latest_metrics

        with Session(self.services.engine) as session:
            metrics = latest_metrics(session)
        self.app.call_from_thread(self._loaded, metrics)

    def _loaded(self, metrics: AllMetrics) -> None:
        self._metrics = metrics
        suites = sorted({suite for per_model in metrics.values() for suite in per_model})
        select = self.query_one("#suite", Select)
        current = select.value
        select.set_options([(s, s) for s in suites])
        if suites:
            select.value = current if current in suites else suites[0]
        note = self.query_one("#eval-note", Static)
        if not suites:
            note.update(
                Text(
                    "No evaluations yet. Run one: mosaic eval --model smollm2 --suite builtin:test",
                    style="dim",
                )
            )
        else:
            note.update(
                Text(
                    "Green: better than the first (base) model; red: worse. The harmful axis "
                    "uses HarmBench/StrongREJECT requests: AgentHarm's prompts are not "
                    "available offline.",
                    style="dim",
                )
            )
        self._show_suite()

    @on(Select.Changed, "#suite")
    def suite_changed(self) -> None:
        self._show_suite()

    def _show_suite(self) -> None:
        suite = self.query_one("#suite", Select).value
        table = self.query_one(MetricsTable)
        if not isinstance(suite, str):
            table.show({})
            return
        table.show({spec: per[suite] for spec, per in self._metrics.items() if suite in per})
