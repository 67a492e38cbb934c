"""One live trajectory: its steps as they finish, the current turn streaming, then the outcome."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from mosaic_studio.tui.formatting import outcome_text, step_text
from sandboxes.outcome import Outcome
from sandboxes.steps import Step


class StepBlock(Static):
    """One step: coloured badge and body; the kind is also a CSS class for its border."""

    def __init__(self, step: Step, *, max_chars: int = 0) -> None:
        super().__init__(step_text(step, max_chars=max_chars), classes=f"step {step.kind}")
        self.step = step


class TrajectoryPanel(Vertical):
    """A trajectory being generated; the run screen feeds it steps, tokens and the outcome."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="trajectory-panel")
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(Text(self._title, style="bold"), classes="panel-title")
        yield Vertical(classes="panel-steps")
        yield Static("", classes="streaming")
        yield Static("", classes="outcome")

    def stream(self, text: str) -> None:
        """Show the turn generated so far (replaced on each call)."""
        streaming = self.query_one(".streaming", Static)
        tail = text[-600:]
        streaming.update(Text.assemble(("▌ ", "bold #d9a400"), (tail, "italic #c8c8c8")))
        streaming.display = True

    def add_step(self, step: Step) -> None:
        """Append a finished step; the streaming line is cleared when the turn's steps land."""
        streaming = self.query_one(".streaming", Static)
        streaming.update("")
        streaming.display = False
        self.query_one(".panel-steps", Vertical).mount(StepBlock(step, max_chars=1200))

    def finish(self, outcome: Outcome, trajectory_id: str | None) -> None:
        """Show the grader's verdict."""
        self.query_one(".streaming", Static).display = False
        shown = outcome_text(outcome)
        if trajectory_id:
            shown.append(f"\n  trajectory {trajectory_id}", style="dim")
        self.query_one(".outcome", Static).update(shown)
        self.add_class("finished")
