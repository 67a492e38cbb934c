"""The filter bar and the table of stored trajectories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Select

from mosaic_studio.store.queries import TrajectoryFilter
from mosaic_studio.store.tables import Trajectory
from mosaic_studio.tui.formatting import outcome_label
from sandboxes.scenario import CATEGORIES

OUTCOME_FILTERS: dict[str, dict[str, bool]] = {
    "refused": {"refused": True},
    "task success": {"task_success": True},
    "task failed": {"task_success": False},
    "harm": {"harmful_action": True},
    "leak": {"leaked": True},
    "followed injection": {"followed_injection": True},
    "over-refusal": {"over_refusal": True},
}
STATUSES = ("finished", "running", "interrupted", "failed")
OUTCOME_STYLES = {
    "harm": "bold #ff8a80",
    "leak": "bold #ff8a80",
    "injected": "bold #ffab70",
    "over-refusal": "#f2d16b",
    "refused": "#9cc3ff",
    "success": "#8be3a5",
}


class TrajectoryFilters(Horizontal):
    """Scenario, category, model, outcome and status menus; posts `Changed` on any pick."""

    class Changed(Message):
        def __init__(self, where: TrajectoryFilter) -> None:
            super().__init__()
            self.where = where

    def compose(self) -> ComposeResult:
        yield Select[str]([], prompt="any scenario", id="f-scenario")
        yield Select([(c, c) for c in CATEGORIES], prompt="any category", id="f-category")
        yield Select[str]([], prompt="any model", id="f-model")
        yield Select([(o, o) for o in OUTCOME_FILTERS], prompt="any outcome", id="f-outcome")
        yield Select([(s, s) for s in STATUSES], prompt="any status", id="f-status")

    def set_choices(self, scenarios: list[str], specs: list[str]) -> None:
        """Fill the scenario and model menus, keeping what is picked where it still exists."""
        for selector, values in (("#f-scenario", scenarios), ("#f-model", specs)):
            menu = self.query_one(selector, Select)
            picked = menu.value
            with menu.prevent(Select.Changed):
                menu.set_options([(v, v) for v in values])
                if isinstance(picked, str) and picked in values:
                    menu.value = picked

    def current(self) -> TrajectoryFilter:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        outcome = chosen("#f-outcome")
        flags: dict[str, Any] = dict(OUTCOME_FILTERS[outcome]) if outcome else {}
        return TrajectoryFilter(
            scenario=chosen("#f-scenario"),
            category=chosen("#f-category"),
            model=chosen("#f-model"),
            status=chosen("#f-status"),
            **flags,
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.current()))


class TrajectoryTable(DataTable[Text | str]):
    """One row per trajectory; the row key is the trajectory id."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("id", "scenario", "category", "model", "outcome", "steps", "tok", "s")
        self.add_column("started", key="started")

    def show(self, rows: list[Trajectory]) -> None:
        self.clear()
        for row in rows:
            label = outcome_label(row.outcome, row.status)
            self.add_row(
                row.id[:8],
                row.scenario_id,
                row.category,
                row.model_spec,
                Text(label, style=OUTCOME_STYLES.get(label, ""), justify="left"),
                str(row.n_steps),
                str(row.tokens),
                f"{row.wall_time_s:.1f}",
                format_time(row.started_at),
                key=row.id,
            )


def format_time(timestamp: float) -> str:
    """A stored UNIX time as `YYYY-MM-DD HH:MM` in UTC (stable across machines)."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
