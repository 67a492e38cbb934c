"""The Judge area: pick rubric or a model spec, run it over unlabelled pairs, watch verdicts."""

from __future__ import annotations

import threading
from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Input, ProgressBar, Static
from textual.worker import Worker

from mosaic_studio.judges.agreement import agreement_report
from mosaic_studio.judges.service import JudgedPair, judge_pairs, make_judge
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.judge.agreement_view import agreement_text
from mosaic_studio.tui.messages import VerdictRecorded

CHOICE_STYLES = {"A": "#9cc3ff", "B": "#d7a6f0", "tie": "#f2d16b", "abstain": "dim"}


VERDICT_COLUMNS = (("pair", 4), ("scenario", 28), ("category", 9), ("choice", 8), ("rationale", 60))


class JudgeProgressed(VerdictRecorded):
    """A verdict, with how far the judge is through its queue."""

    def __init__(self, judged: JudgedPair, done: int, total: int) -> None:
        super().__init__(judged.pair_id, judged.verdict.choice, judged.verdict.rationale)
        self.judged = judged
        self.done = done
        self.total = total


class JudgeScreen(AreaScreen):
    """Runs one judge at a time; its verdicts are stored as judgments as they arrive."""

    SUB_TITLE = "Judge"
    AUTO_FOCUS = "#verdicts"

    BINDINGS: ClassVar[list[BindingType]] = [
        ("ctrl+s", "start", "Start judge"),
        ("x", "cancel", "Cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="judge-controls"):
            yield Input("rubric", placeholder="rubric or a model spec", id="judge-name")
            yield Button("Judge unlabelled pairs", id="judge-start", variant="success")
            yield Button("Cancel", id="judge-cancel", variant="error", disabled=True)
        yield ProgressBar(id="judge-progress", show_eta=False)
        with Horizontal():
            yield DataTable(id="verdicts", cursor_type="row")
            with VerticalScroll(id="agreement-pane"):
                yield Static("", id="agreement")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#verdicts", DataTable)
        # Fixed widths: verdicts arrive one by one, and auto-sized columns would jump around.
        for label, width in VERDICT_COLUMNS:
            table.add_column(label, width=width)

    def on_screen_resume(self) -> None:
        self.load_agreement()

    def action_start(self) -> None:
        self.query_one("#judge-start", Button).press()

    def action_cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    @on(Button.Pressed, "#judge-start")
    def start(self) -> None:
        name = self.query_one("#judge-name", Input).value.strip()
        if not name:
            self.notify("Type `rubric` or a model spec.", severity="error")
            return
        self._cancel = threading.Event()
        self.query_one("#judge-start", Button).disabled = True
        self.query_one("#judge-cancel", Button).disabled = False
        self.query_one("#verdicts", DataTable).clear()
        self.query_one("#judge-progress", ProgressBar).update(total=None, progress=0)
        self.run_judge(name, self._cancel)

    @on(Button.Pressed, "#judge-cancel")
    def cancel(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, exit_on_error=False, group="judge", description="Judge")
    def run_judge(self, name: str, cancel: threading.Event) -> None:
        judge = make_judge(name, cancel=cancel)

        def report(judged: JudgedPair, done: int, total: int) -> None:
            self.post_message(JudgeProgressed(judged, done, total))

        with Session(self.services.engine) as session:
            judged = judge_pairs(session, judge, on_verdict=report, cancel=cancel)
        word = "cancelled" if cancel.is_set() else "finished"
        self.app.call_from_thread(
            self._judge_ended, f"Judge {name} {word}: {len(judged)} verdicts."
        )

    def on_judge_progressed(self, event: JudgeProgressed) -> None:
        judged = event.judged
        self.query_one("#verdicts", DataTable).add_row(
            str(judged.pair_id),
            judged.scenario_id,
            judged.category,
            Text(judged.verdict.choice, style=CHOICE_STYLES.get(judged.verdict.choice, "")),
            Text(" ".join(judged.verdict.rationale.split())[:120]),
        )
        self.query_one("#judge-progress", ProgressBar).update(
            total=event.total, progress=event.done
        )

    def _judge_ended(self, message: str) -> None:
        self.query_one("#judge-start", Button).disabled = False
        self.query_one("#judge-cancel", Button).disabled = True
        self._cancel = None
        self.notify(message)
        self.load_agreement()

    def worker_failed(self, worker: Worker[object], error: BaseException | None) -> None:
        if worker.group == "judge":
            self.query_one("#judge-start", Button).disabled = False
            self.query_one("#judge-cancel", Button).disabled = True

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="agreement", description="Agreement"
    )
    def load_agreement(self) -> None:
        with Session(self.services.engine) as session:
            report = agreement_report(session)
        text = agreement_text(report)
        self.app.call_from_thread(lambda: self.query_one("#agreement", Static).update(text))
