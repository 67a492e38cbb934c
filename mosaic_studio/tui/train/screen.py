"""The Train area: a job form, the jobs table, the selected job's chart and log, adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Log, Select

from mosaic_studio import jobs
from mosaic_studio.store import queries
from mosaic_studio.store.tables import Job, ModelVersion
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.messages import JobEnded, TrainingProgressed
from mosaic_studio.tui.train.chart import TrainingChart
from mosaic_studio.tui.trajectories.table import format_time

STATUS_STYLES = {"running": "#d9a400", "finished": "#8be3a5", "failed": "#ff8a80"}


def progress_line(event: dict[str, Any]) -> str:
    """A log event as one line for the log tail."""
    if event.get("event") == "log":
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in event.items()
            if k not in ("event", "step")
        )
        return f"step {event.get('step')}: {shown}"
    return " ".join(f"{k}={v}" for k, v in event.items())


class TrainScreen(AreaScreen):
    """Start DPO/GRPO jobs; the selected job's progress streams into the chart."""

    SUB_TITLE = "Train"
    AUTO_FOCUS = "#jobs"

    BINDINGS: ClassVar[list[BindingType]] = [
        ("r", "refresh", "Refresh"),
        ("x", "cancel_job", "Cancel job"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._watched: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="train-form"):
                yield Label("New job", classes="form-heading")
                yield Select(
                    [("DPO", "dpo"), ("GRPO", "grpo")],
                    value="dpo",
                    allow_blank=False,
                    id="job-kind",
                )
                yield Input(placeholder="preference data .jsonl (DPO)", id="job-data")
                yield Input(placeholder="train scenarios: train or ids (GRPO)", id="job-scenarios")
                yield Input("smollm2", placeholder="base model spec", id="job-base")
                yield Input("50", placeholder="max steps", id="job-steps", type="integer")
                yield Button("Start training", id="job-start", variant="success")
                yield Label("Jobs", classes="form-heading")
                yield DataTable(id="jobs", cursor_type="row")
                yield Label("Adapters (usable in Run)", classes="form-heading")
                yield DataTable(id="adapters", cursor_type="row")
            with Vertical(id="train-watch"):
                yield TrainingChart(id="train-chart")
                yield Log(id="train-log", max_lines=400)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#jobs", DataTable).add_columns(
            "id", "kind", "status", "step", "loss", "created"
        )
        self.query_one("#adapters", DataTable).add_columns("spec", "job", "created")
        self.query_one(TrainingChart).plot("no job selected", [])

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_jobs()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="jobs-list",
        description="Loading jobs",
    )
    def load_jobs(self) -> None:
        jobs.refresh_jobs(self.services.engine)
        with Session(self.services.engine) as session:
            rows = jobs.list_jobs(session)
            adapters = queries.model_versions(session, kind="adapter")
            for row in [*rows, *adapters]:
                session.expunge(row)
        self.app.call_from_thread(self._show_jobs, rows, adapters)

    def _show_jobs(self, rows: list[Job], adapters: list[ModelVersion]) -> None:
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for job in rows:
            progress = job.last_progress or {}
            loss = progress.get("loss")
            table.add_row(
                job.id[:8],
                job.kind,
                Text(job.status, style=STATUS_STYLES.get(job.status, "")),
                str(progress.get("step", "")),
                f"{loss:.4f}" if isinstance(loss, int | float) else "",
                format_time(job.created_at),
                key=job.id,
            )
        models = self.query_one("#adapters", DataTable)
        models.clear()
        for model in adapters:
            models.add_row(model.spec, (model.job_id or "")[:8], format_time(model.created_at))

    @on(Button.Pressed, "#job-start")
    def start(self) -> None:
        kind = str(self.query_one("#job-kind", Select).value)
        config: dict[str, Any] = {"base": self.query_one("#job-base", Input).value.strip()}
        steps = self.query_one("#job-steps", Input).value.strip()
        if steps:
            try:
                config["max_steps"] = int(steps)
            except ValueError:
                self.notify(f"max steps must be a whole number, not {steps!r}", severity="error")
                return
        data = self.query_one("#job-data", Input).value.strip()
        scenarios = self.query_one("#job-scenarios", Input).value.strip()
        if kind == "dpo":
            if not data:
                self.notify(
                    "DPO needs preference data: export some with `mosaic export`.", severity="error"
                )
                return
            config["data"] = str(Path(data).expanduser())
        elif scenarios:
            config["scenarios"] = scenarios
        self.start_job(kind, config)

    @work(thread=True, exit_on_error=False, group="job-start", description="Starting the job")
    def start_job(self, kind: str, config: dict[str, Any]) -> None:
        job = jobs.start_job(
            kind, config, db_url=self.services.engine.url.render_as_string(hide_password=False)
        )
        self.app.call_from_thread(self.notify, f"Job {job.id[:8]} ({kind}) started.")
        self.app.call_from_thread(self.load_jobs)
        self.app.call_from_thread(self.show_job, job.id)

    @on(DataTable.RowSelected, "#jobs")
    def job_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.show_job(event.row_key.value)

    def show_job(self, job_id: str) -> None:
        self._watched = job_id
        self.query_one(Log).clear()
        self.query_one(TrainingChart).plot(f"job {job_id[:8]}", [])
        self.follow_job(job_id)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="job-watch",
        description="Watching the job",
    )
    def follow_job(self, job_id: str) -> None:
        """Tail the job's progress; each event posts the whole history (coalesced)."""
        points: list[dict[str, Any]] = []
        lines: list[str] = []
        for event in jobs.watch_job(job_id, engine=self.services.engine, poll_s=0.5):
            if self._watched != job_id:
                return
            if event.get("event") == "log":
                points.append(event)
            lines.append(progress_line(event))
            self.post_message(TrainingProgressed(job_id, list(points), lines[-200:]))
        self.post_message(JobEnded(job_id, "ended"))

    def on_training_progressed(self, event: TrainingProgressed) -> None:
        if event.job_id != self._watched:
            return
        self.query_one(TrainingChart).plot(f"job {event.job_id[:8]}", event.points)
        log = self.query_one(Log)
        log.clear()
        log.write_lines(event.log_tail)

    def on_job_ended(self, event: JobEnded) -> None:
        self.load_jobs()

    def action_cancel_job(self) -> None:
        if self._watched is None:
            self.notify("Select a job first.", severity="warning")
            return
        self.cancel(self._watched)

    @work(thread=True, exit_on_error=False, group="job-cancel", description="Cancelling the job")
    def cancel(self, job_id: str) -> None:
        job = jobs.cancel_job(job_id, engine=self.services.engine)
        self.app.call_from_thread(self.notify, f"Job {job.id[:8]}: {job.status}.")
        self.app.call_from_thread(self.load_jobs)
