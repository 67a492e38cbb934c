"""The Trajectories area: filters over the table; enter opens a trajectory."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Footer, Header, Static

from mosaic_studio.store import queries
from mosaic_studio.store.tables import Trajectory
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.trajectories.detail import TrajectoryDetailScreen
from mosaic_studio.tui.trajectories.table import TrajectoryFilters, TrajectoryTable

PAGE = 500


class TrajectoriesScreen(AreaScreen):
    """Every stored trajectory, filtered; refreshed each time the area is shown."""

    SUB_TITLE = "Trajectories"
    AUTO_FOCUS = "#trajectory-table"

    BINDINGS: ClassVar[list[BindingType]] = [("r", "refresh", "Refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield TrajectoryFilters(id="filters")
        yield TrajectoryTable(id="trajectory-table")
        yield Static("", id="table-count")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_models()
        self.load(self.query_one(TrajectoryFilters).current())

    @on(TrajectoryFilters.Changed)
    def filters_changed(self, event: TrajectoryFilters.Changed) -> None:
        self.load(event.where)

    @work(thread=True, exit_on_error=False, description="Loading filter menus")
    def load_models(self) -> None:
        with Session(self.services.engine) as session:
            scenarios = queries.distinct_values(session, "scenario_id")
            specs = queries.distinct_values(session, "model_spec")
        self.app.call_from_thread(
            lambda: self.query_one(TrajectoryFilters).set_choices(scenarios, specs)
        )

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="table",
        description="Loading trajectories",
    )
    def load(self, where: queries.TrajectoryFilter) -> None:
        with Session(self.services.engine) as session:
            rows = queries.list_trajectories(session, where, limit=PAGE)
            total = queries.count_trajectories(session, where)
            for row in rows:
                session.expunge(row)
        self.app.call_from_thread(self._show, rows, total)

    def _show(self, rows: list[Trajectory], total: int) -> None:
        self.query_one(TrajectoryTable).show(rows)
        shown = (
            f"{len(rows)} of {total} trajectories" if total > len(rows) else f"{total} trajectories"
        )
        self.query_one("#table-count", Static).update(
            Text(f"{shown} · enter opens one · r refreshes", style="dim")
        )

    @on(DataTable.RowSelected, "#trajectory-table")
    def open_trajectory(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(TrajectoryDetailScreen(event.row_key.value))
