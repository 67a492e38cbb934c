"""`mosaic trajectories`, `mosaic show ID` and `mosaic models`: browse what the store holds."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store.filters import OUTCOME_FLAGS, TrajectoryFilter
from sandboxes.scenario import CATEGORIES, SPLITS

if TYPE_CHECKING:  # the handlers import the store and rich when they run: `mosaic -h` is quick
    from rich.console import Console
    from rich.text import Text

    from mosaic_studio.store.tables import Trajectory
    from sandboxes.steps import Step

STATUSES = ("running", "finished", "interrupted", "cancelled", "failed")
FOLLOW_POLL_S = 0.5
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lst = sub.add_parser("trajectories", help="list stored trajectories, newest first")
    lst.add_argument("--scenario", help="scenario id")
    lst.add_argument("--model", help="model spec")
    lst.add_argument("--category", choices=CATEGORIES)
    lst.add_argument("--split", choices=SPLITS)
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--group", help="the samples of one `mosaic run --samples N`")
    lst.add_argument(
        "--outcome",
        action="append",
        default=[],
        metavar="FLAG[=no]",
        help=f"only with (or =no: without) an outcome flag: {', '.join(OUTCOME_FLAGS)}",
    )
    lst.add_argument("--limit", type=int, default=50, help="at most N (default 50)")
    lst.add_argument("--offset", type=int, default=0, help="skip the first N")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(handler=list_command)

    show = sub.add_parser("show", help="one trajectory: its steps, outcome and final state")
    show.add_argument("trajectory_id", metavar="TRAJECTORY_ID", help="id (or a unique prefix)")
    show.add_argument("--full", action="store_true", help="do not shorten long texts")
    show.add_argument("--follow", action="store_true", help="print new steps until it ends")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_command)

    models = sub.add_parser("models", help="list registered models and trained adapters")
    models.add_argument("--json", action="store_true", help="one JSON object per line")
    models.set_defaults(handler=models_command)


def parse_outcome_flags(items: list[str]) -> dict[str, bool]:
    """`["refused", "leaked=no"]` → `{"refused": True, "leaked": False}` (checked)."""
    flags: dict[str, bool] = {}
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in OUTCOME_FLAGS:
            raise UserError(f"--outcome {item!r}: expected one of {', '.join(OUTCOME_FLAGS)}")
        value = value.strip().lower() or "yes"
        if value not in _YES | _NO:
            raise UserError(f"--outcome {item!r}: the value must be yes or no")
        flags[name] = value in _YES
    return flags


def list_command(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text
    from sqlmodel import Session

    from mosaic_studio.cli.steps_view import STATUS_STYLES, safe
    from mosaic_studio.store import queries
    from mosaic_studio.store.db import get_engine
    from mosaic_studio.store.liveness import mark_interrupted

    if args.limit < 1 or args.offset < 0:
        raise UserError("--limit must be at least 1 and --offset at least 0")
    filters: dict[str, Any] = {
        "scenario": args.scenario,
        "model": args.model,
        "category": args.category,
        "split": args.split,
        "status": args.status,
        "group_id": args.group,
        **parse_outcome_flags(args.outcome),
    }
    where = TrajectoryFilter(**filters)
    engine = get_engine()
    mark_interrupted(engine)
    with Session(engine) as session:
        rows = queries.list_trajectories(session, where, limit=args.limit, offset=args.offset)
        total = queries.count_trajectories(session, where)
    if args.json:
        for row in rows:
            _write_json(trajectory_summary(row))
        return 0
    console = _console()
    if not rows:
        console.print("no trajectories match" if total else "no trajectories yet: `mosaic run`")
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("id", "started", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("steps", "tokens"):
        table.add_column(column, no_wrap=True, justify="right")
    for column in ("scenario", "model", "outcome"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.id,
            time.strftime("%m-%d %H:%M", time.localtime(row.started_at)),
            Text(row.status, style=STATUS_STYLES.get(row.status, "")),
            str(row.n_steps),
            str(row.tokens),
            Text(safe(row.scenario_id)),
            Text(safe(_short(row.model_spec, 40))),
            _flags(row),
        )
    console.print(table)
    if total > len(rows) + args.offset:
        console.print(f"{len(rows)} of {total} shown; --limit/--offset for more", style="dim")
    return 0


def show_command(args: argparse.Namespace) -> int:
    from rich.text import Text
    from sqlmodel import Session

    from mosaic_studio.cli.steps_view import outcome_text, safe
    from mosaic_studio.store import queries
    from mosaic_studio.store.db import get_engine
    from mosaic_studio.store.liveness import mark_interrupted

    if args.follow and args.json:
        raise UserError("--follow prints text; use `mosaic show ID --json` once the run ends")
    engine = get_engine()
    mark_interrupted(engine)
    with Session(engine) as session:
        try:
            full_id = queries.resolve_trajectory_id(session, args.trajectory_id.strip())
        except LookupError as exc:
            raise UserError(str(exc)) from None
        row = queries.get_trajectory(session, full_id) if full_id else None
        if row is None:
            raise UserError(f"no trajectory {args.trajectory_id!r}; see `mosaic trajectories`")
        steps = queries.steps_of(queries.trajectory_steps(session, row.id))
    if args.json:
        data = row.model_dump(mode="json")
        data["steps"] = [step.model_dump(mode="json") for step in steps]
        _write_json(data)
        return 0
    console = _console()
    head = f"{row.id}  {row.scenario_id} ({row.category}, {row.split})  model {row.model_spec}"
    console.rule(Text(safe(head), style="bold"))
    detail = f"source {row.source}  sample {row.sample_index}  group {row.group_id}"
    console.print(Text(safe(detail) + f"  started {time.ctime(row.started_at)}", style="dim"))
    for step in steps:
        console.print(_step_line(step, row.messages, full=args.full))
    while args.follow and row.status == "running":
        time.sleep(FOLLOW_POLL_S)
        mark_interrupted(engine)  # its writer may die while we watch
        with Session(engine) as session:
            new = queries.steps_of(queries.trajectory_steps(session, row.id, after=len(steps)))
            row = queries.get_trajectory(session, row.id) or row
        for step in new:
            console.print(_step_line(step, row.messages, full=args.full))
        steps += new
    console.print(
        Text("outcome: ", style="bold")
        + outcome_text(queries.outcome_of(row), row.status, row.error)
    )
    for call in row.outbox:
        to = call.get("to", "?") if isinstance(call, dict) else "?"
        tool = call.get("tool", "?") if isinstance(call, dict) else "?"
        console.print(Text(safe(f"  outbox: {tool} → {to}"), style="yellow"))
    return 0


def models_command(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text
    from sqlmodel import Session

    from mosaic_studio.cli.steps_view import safe
    from mosaic_studio.store import queries
    from mosaic_studio.store.db import get_engine

    with Session(get_engine()) as session:
        rows = queries.model_versions(session)
    if args.json:
        for row in rows:
            _write_json(row.model_dump(mode="json"))
        return 0
    console = _console()
    if not rows:
        console.print("no models used yet: `mosaic run SCENARIO --model smollm2`")
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("spec", "kind", "base", "job", "added"):
        table.add_column(column)
    for row in rows:
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.created_at))
        table.add_row(Text(safe(row.spec)), row.kind, row.base_spec or "", row.job_id or "", added)
    console.print(table)
    return 0


def trajectory_summary(row: Trajectory) -> dict[str, Any]:
    """The listing's JSON shape: ids, scenario, model, status and the outcome flags."""
    data: dict[str, Any] = {
        "id": row.id,
        "scenario": row.scenario_id,
        "category": row.category,
        "split": row.split,
        "model": row.model_spec,
        "source": row.source,
        "group": row.group_id,
        "sample": row.sample_index,
        "status": row.status,
        "error": row.error,
        "steps": row.n_steps,
        "tokens": row.tokens,
        "wall_time_s": row.wall_time_s,
        "started_at": row.started_at,
    }
    data.update({flag: getattr(row, flag) for flag in OUTCOME_FLAGS})
    return data


def _step_line(step: Step, messages: list[Any], *, full: bool) -> Text:
    """A step's line; a format error also shows what the model wrote in that turn."""
    from mosaic_studio.cli.steps_view import clip, format_error_context, safe, step_text

    line = step_text(step, full=full)
    raw = format_error_context(step, messages) if step.kind == "format_error" else ""
    if raw:
        line.append(f"\n  the model wrote: {safe(raw if full else clip(raw, 4, 400))}", "dim")
    return line


def _flags(row: Trajectory) -> Text:
    from rich.text import Text

    text = Text()
    marks = [
        ("refused", "refused", "magenta"),
        ("harmful_action", "harmful", "bold red"),
        ("leaked", "leaked", "red"),
        ("followed_injection", "injected", "red"),
        ("over_refusal", "over-refusal", "red"),
    ]
    for flag, label, style in marks:
        if getattr(row, flag):
            text.append(label + " ", style=style)
    if row.task_success is not None:
        text.append("task✓ " if row.task_success else "task✗ ", "green" if row.task_success else "")
    return text


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _console() -> Console:
    """A console for tables: wide when the output is a pipe or a file, not 80 columns."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
