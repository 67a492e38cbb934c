"""One stored trajectory: its steps (a virtualised list), the selected step in full, the
grader's verdict, the sandbox outbox and the final files."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from mosaic_studio.store import queries
from mosaic_studio.store.tables import Trajectory
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.formatting import badge, outcome_text, step_text, tool_call_text
from sandboxes.steps import Step, StepKind

SUMMARY_CHARS = 110


def step_summary(step: Step) -> Text:
    """A one-line entry for the step list."""
    line = Text.assemble((f"{step.index:>3} ", "dim"), badge(step.kind), " ")
    if step.kind == StepKind.TOOL_CALL:
        line.append(tool_call_text(step.tool_name, step.tool_args, SUMMARY_CHARS))
    else:
        first = " ".join(step.text.split())
        line.append(first[:SUMMARY_CHARS] + ("…" if len(first) > SUMMARY_CHARS else ""))
    return line


def step_full(step: Step) -> Text:
    """Everything about one step: text, tool arguments as JSON, timing."""
    out = step_text(step)
    if step.tool_args is not None:
        out.append("\n\narguments:\n", style="bold")
        out.append(json.dumps(step.tool_args, indent=2, ensure_ascii=False))
    out.append(f"\n\nturn {step.turn} · {step.tokens} tok · {step.duration_s:.2f} s", style="dim")
    return out


def verdict_text(trajectory: Trajectory) -> Text:
    """The grader's outcome and each check's result."""
    outcome = queries.outcome_of(trajectory)
    if outcome is None:
        return Text(f"No verdict: the trajectory is {trajectory.status}.", style="dim")
    out = outcome_text(outcome)
    if trajectory.error:
        out.append(f"\n\nerror: {trajectory.error}", style="#ff8a80")
    if outcome.checks:
        out.append("\n\nchecks:\n", style="bold")
        for check_id, held in sorted(outcome.checks.items()):
            out.append(f"  {'✔' if held else '✘'} {check_id}\n", style="#8be3a5" if held else "dim")
    return out


def outbox_text(outbox: list[Any]) -> Text:
    """What the agent sent (nothing leaves the sandbox; it is recorded here)."""
    if not outbox:
        return Text("The outbox is empty: nothing was sent.", style="dim")
    out = Text()
    for call in outbox:
        call = call if isinstance(call, dict) else {"call": call}
        out.append(f"{call.get('tool', '?')} → {call.get('to', '?')}\n", style="bold #d7a6f0")
        out.append(json.dumps(call.get("args", {}), indent=2, ensure_ascii=False) + "\n\n")
    return out


def files_text(final_state: dict[str, Any]) -> Text:
    files = final_state.get("files") or {}
    if not files:
        return Text("No files recorded.", style="dim")
    out = Text()
    for path, content in sorted(files.items()):
        out.append(f"── {path}\n", style="bold")
        out.append(str(content)[:4000] + "\n")
    return out


class TrajectoryDetailScreen(AreaScreen):
    """Pushed over the table; escape goes back."""

    SUB_TITLE = "Trajectory"
    AUTO_FOCUS = "#detail-steps"

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "app.pop_screen", "Back")]

    def __init__(self, trajectory_id: str) -> None:
        super().__init__()
        self.trajectory_id = trajectory_id
        self._steps: list[Step] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"trajectory {self.trajectory_id}", style="bold"), id="detail-title")
        with Horizontal():
            yield OptionList(id="detail-steps")
            with TabbedContent(id="detail-tabs"):
                with TabPane("Step", id="tab-step"), VerticalScroll():
                    yield Static(Text("Select a step.", style="dim"), id="detail-step")
                with TabPane("Verdict", id="tab-verdict"), VerticalScroll():
                    yield Static("", id="detail-verdict")
                with TabPane("Outbox", id="tab-outbox"), VerticalScroll():
                    yield Static("", id="detail-outbox")
                with TabPane("Files", id="tab-files"), VerticalScroll():
                    yield Static("", id="detail-files")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, description="Loading the trajectory")
    def load(self) -> None:
        with Session(self.services.engine) as session:
            trajectory = queries.get_trajectory(session, self.trajectory_id)
            if trajectory is None:
                raise LookupError(f"no trajectory {self.trajectory_id}")
            steps = queries.steps_of(queries.trajectory_steps(session, self.trajectory_id))
            session.expunge(trajectory)
        self.app.call_from_thread(self._show, trajectory, steps)

    def _show(self, trajectory: Trajectory, steps: list[Step]) -> None:
        self._steps = steps
        title = Text.assemble(
            (trajectory.scenario_id, "bold"),
            f"  [{trajectory.category}/{trajectory.split}]  ",
            (trajectory.model_spec, "bold #9cc3ff"),
            f"  {trajectory.status} · source {trajectory.source} · {trajectory.id}",
        )
        self.query_one("#detail-title", Static).update(title)
        options = self.query_one("#detail-steps", OptionList)
        options.add_options([Option(step_summary(s), id=str(i)) for i, s in enumerate(steps)])
        if steps:
            options.highlighted = 0
        self.query_one("#detail-verdict", Static).update(verdict_text(trajectory))
        self.query_one("#detail-outbox", Static).update(outbox_text(trajectory.outbox))
        self.query_one("#detail-files", Static).update(files_text(trajectory.final_state))

    @on(OptionList.OptionHighlighted, "#detail-steps")
    def show_step(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        if 0 <= index < len(self._steps):
            self.query_one("#detail-step", Static).update(step_full(self._steps[index]))
