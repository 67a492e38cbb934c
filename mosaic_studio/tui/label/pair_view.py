"""Two trajectories side by side, row by row, with the first divergence marked and in view."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from mosaic_studio.tui.formatting import outcome_text
from mosaic_studio.tui.label.align import align, first_divergence, visible_window
from mosaic_studio.tui.label.queue import Side
from mosaic_studio.tui.run.panel import StepBlock
from sandboxes.outcome import Outcome
from sandboxes.steps import Step

STEP_CHARS = 900


def side_header(label: str, side: Side) -> Text:
    """Which model and source a side is, and its graded outcome."""
    trajectory = side.trajectory
    text = Text()
    text.append(f"{label}  ", style="bold")
    text.append(trajectory.model_spec, style="bold #9cc3ff")
    text.append(f"  {trajectory.source} · {len(side.steps)} steps\n", style="dim")
    outcome = trajectory.outcome
    if outcome:
        text.append_text(outcome_text(Outcome.model_validate(outcome)))
    else:
        text.append(trajectory.status, style="dim")
    return text


class AlignedRow(Horizontal):
    """Row `index`: the left and the right step at the same position."""

    def __init__(self, index: int, blocks: tuple[Static, Static], diverged: bool) -> None:
        super().__init__(classes="aligned-row" + (" diverged" if diverged else ""))
        self.index = index
        self._blocks = blocks
        if diverged:
            self.border_title = "first divergence"

    def compose(self) -> ComposeResult:
        yield from self._blocks


class PairView(VerticalScroll):
    """Shows a pair; the parent sets it with `show(left, right)`."""

    divergence: int | None = None

    def show(self, left: Side, right: Side) -> None:
        self.remove_children()
        rows = align(left.steps, right.steps)
        self.divergence = first_divergence(rows)
        widgets: list[Static | Horizontal] = [
            Horizontal(
                Static(side_header("LEFT", left), classes="side-header"),
                Static(side_header("RIGHT", right), classes="side-header"),
                classes="aligned-header",
            )
        ]
        start, end = visible_window(len(rows), self.divergence)
        if start:
            widgets.append(_note(f"… {start} identical steps before these (shared prefix)"))
        for index in range(start, end):
            a, b = rows[index]
            widgets.append(
                AlignedRow(index, (_block(a), _block(b)), diverged=index == self.divergence)
            )
        if end < len(rows):
            widgets.append(_note(f"… {len(rows) - end} more steps (open them in Trajectories)"))
        if self.divergence is None:
            widgets.append(_note("The two trajectories are identical."))
        self.mount_all(widgets)
        self.call_after_refresh(self.scroll_to_divergence)

    def scroll_to_divergence(self) -> None:
        rows = [row for row in self.query(AlignedRow) if row.index == self.divergence]
        if rows:
            self.scroll_to_widget(rows[0], animate=False, top=True)


def _note(text: str) -> Static:
    return Static(Text(text, style="dim italic"), classes="pair-note")


def _block(step: Step | None) -> Static:
    if step is not None:
        return StepBlock(step, max_chars=STEP_CHARS)
    return Static(Text("—", style="dim"), classes="step missing")
