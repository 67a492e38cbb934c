"""`mosaic eval`: evaluate a model on a suite (resumable), and `mosaic eval report [OUT.md]`.

mosaic eval --model smollm2 --suite builtin:test --limit 8
mosaic eval --model smollm2 --suite agentdojo:banking --attack none --limit 5 --json
mosaic eval report eval-report.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mosaic_studio.cli.errors import UserError

DOCKER_SUITES = ("builtin", "harmful", "privacylens")


def register(subparsers: Any) -> None:
    from mosaic_studio.evaluation.suites import SUITE_NAMES

    parser = subparsers.add_parser(
        "eval",
        help="evaluate a model on a suite (harmful, injection, benign, privacy axes)",
        description="Evaluate a model on a suite; the same command again resumes where it stopped. "
        f"Suites: {', '.join(SUITE_NAMES)}.",
    )
    parser.add_argument("--model", default="smollm2", help="model spec (default: smollm2)")
    parser.add_argument("--suite", help="suite name, e.g. builtin:test, agentdojo:banking, bfcl")
    parser.add_argument("--limit", type=int, help="only the first N items of the suite")
    parser.add_argument("--attack", help="AgentDojo attack (default important_instructions; none)")
    parser.add_argument("--category", help="BFCL category (default simple_python)")
    parser.add_argument("--attack-set", help="ASB attacker tools: all, aggressive, non_aggressive")
    parser.add_argument("--source", help="harmful requests: harmbench (default) or strongreject")
    parser.add_argument("--max-steps", type=int, help="turns per episode (default: per item)")
    parser.add_argument("--max-new-tokens", type=int, default=160, help="tokens per turn (160)")
    parser.add_argument("--fresh", action="store_true", help="start a new run instead of resuming")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run_command)
    sub = parser.add_subparsers(dest="eval_command", metavar="{report,runs}")
    report = sub.add_parser("report", help="write a Markdown report of the newest results")
    report.add_argument(
        "out", nargs="?", default="eval-report.md", help="output file (eval-report.md)"
    )
    report.add_argument("--json", action="store_true", help="print the metrics table as JSON")
    report.set_defaults(handler=report_command)
    runs = sub.add_parser("runs", help="list evaluation runs, newest first")
    runs.add_argument("--model", dest="runs_model", help="only this model spec")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.set_defaults(handler=runs_command)


def _check_docker(suite: str) -> None:
    if suite.split(":", 1)[0] not in DOCKER_SUITES:
        return
    from sandboxes.sandbox import docker_available, sweep

    problem = docker_available()
    if problem:
        raise UserError(problem)
    sweep()


def run_command(args: argparse.Namespace) -> int:
    from mosaic_studio.evaluation.datafiles import SuiteError
    from mosaic_studio.evaluation.runner import DEFAULT_SETTINGS, run_eval
    from mosaic_studio.evaluation.suites import get_suite
    from mosaic_studio.models.spec import ModelSpecError

    if not args.suite:
        raise UserError("give a suite: mosaic eval --suite builtin:test (see mosaic eval --help)")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    options = {
        "attack": args.attack,
        "category": args.category,
        "attack_set": args.attack_set,
        "source": args.source,
    }
    try:
        get_suite(args.suite, **options)
    except SuiteError as exc:
        raise UserError(str(exc)) from None
    _check_docker(args.suite)
    settings = DEFAULT_SETTINGS.model_copy(update={"max_new_tokens": args.max_new_tokens})
    progress = None if args.json else _Progress()
    try:
        summary = run_eval(
            args.model,
            args.suite,
            args.limit,
            settings=settings,
            max_steps=args.max_steps,
            fresh=args.fresh,
            on_start=progress.start if progress else None,
            on_item=progress.advance if progress else None,
            **options,
        )
    except (SuiteError, ModelSpecError) as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        print("eval interrupted: run the same command again to continue", file=sys.stderr)
        raise
    finally:
        if progress is not None:
            progress.stop()
    if args.json:
        print(
            json.dumps({k: v for k, v in summary.__dict__.items() if k != "results"}, default=str)
        )
    else:
        _print_summary(summary)
    return 0


class _Progress:
    """A rich progress bar on stderr: items done, the last item's outcome."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]eval[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=False,
        )
        self.task: Any = None

    def start(self, done: int, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("resumed" if done else "", total=total, completed=done)

    def advance(self, done: int, total: int, result: Any) -> None:
        verdict = "error" if result.error else result.ended_by
        self.bar.update(self.task, completed=done, description=f"{result.item_id[:40]}: {verdict}")

    def stop(self) -> None:
        self.bar.stop()


def _print_summary(summary: Any) -> None:
    from mosaic_studio.evaluation.metrics import METRIC_LABELS, RATE_METRICS

    state = "resumed, " if summary.resumed else ""
    print(
        f"{summary.model_spec} on {summary.label}: {summary.status} ({state}{summary.ran} run, "
        f"{summary.reused} reused of {summary.total}); run {summary.run_id}"
    )
    for name, label in METRIC_LABELS.items():
        value = summary.metrics.get(name)
        if value is not None:
            shown = f"{value:.1%}" if name in RATE_METRICS else f"{value:g}"
            print(f"  {label:<42} {shown:>8}")
    errors = summary.metrics.get("n_errors", 0)
    if errors:
        print(f"  {errors} item(s) failed to run; the same command retries them", file=sys.stderr)
    if summary.status == "interrupted":
        print("interrupted: run the same command again to continue", file=sys.stderr)


def report_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.evaluation.report import write_report
    from mosaic_studio.evaluation.store import latest_metrics
    from mosaic_studio.store.db import get_engine

    with Session(get_engine()) as session:
        table = latest_metrics(session)
    if args.json:
        print(json.dumps(table))
        return 0
    try:
        path, png = write_report(table, Path(args.out))
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {path}" + (f" and {png}" if png else ""))
    return 0


def runs_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.evaluation.store import eval_runs
    from mosaic_studio.evaluation.suites import suite_label
    from mosaic_studio.store.db import get_engine

    with Session(get_engine()) as session:
        rows = eval_runs(session, args.runs_model)
    for run in rows:
        label = suite_label(run.suite, run.options)
        if args.json:
            fields = ("id", "model_spec", "suite", "options", "status", "metrics", "created_at")
            print(json.dumps({name: getattr(run, name) for name in fields}))
        else:
            items = run.metrics.get("n_items", 0)
            print(f"{run.id}  {run.status:<11} {items:>4} items  {run.model_spec}  {label}")
    if not rows and not args.json:
        print("no evaluation runs yet: mosaic eval --model smollm2 --suite builtin:test")
    return 0
