"""One run (one model over the picked scenarios): a header with its state and a cancel button."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from mosaic_studio.tui.formatting import short_spec
from mosaic_studio.tui.run.panel import TrajectoryPanel


class RunColumn(Vertical):
    """A run's trajectories stacked; several columns stand side by side."""

    class CancelRequested(Message):
        """The user asked to cancel this run."""

        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, run_id: int, model_spec: str, n_scenarios: int, samples: int) -> None:
        super().__init__(id=f"run-{run_id}", classes="run-column")
        self.run_id = run_id
        self.model_spec = model_spec
        self._summary = f"{n_scenarios} scenario(s) × {samples} sample(s)"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="run-header"):
            yield Static(self._header("running"), classes="run-title")
            yield Button("Cancel", id=f"cancel-{self.run_id}", variant="error", compact=True)
        yield VerticalScroll(classes="run-body")

    def _header(self, status: str) -> Text:
        styles = {"running": "#d9a400", "finished": "#8be3a5", "cancelled": "#f2d16b"}
        text = Text()
        text.append(f"#{self.run_id} ", style="bold")
        text.append(status, style=f"bold {styles.get(status, '#ff8a80')}")
        text.append(f" · {self._summary}\n", style="dim")
        text.append(short_spec(self.model_spec), style="bold #9cc3ff")
        return text

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        event.button.disabled = True
        self.set_status("cancelling")
        self.post_message(self.CancelRequested(self.run_id))

    def set_status(self, status: str) -> None:
        self.query_one(".run-title", Static).update(self._header(status))
        if status not in ("running", "cancelling"):
            self.query_one(Button).disabled = True
            self.add_class("ended")

    async def add_panel(self, key: str, title: str) -> TrajectoryPanel:
        """Mount a trajectory's panel; returns once it (and its children) can be queried."""
        panel = TrajectoryPanel(title, id=panel_id(key))
        await self.query_one(".run-body", VerticalScroll).mount(panel)
        return panel


def panel_id(key: str) -> str:
    """A widget id for an episode key (`run:scenario_index:episode`)."""
    return "traj-" + key.replace(":", "-")
