"""`mosaic run SCENARIO...`: run a model on scenarios in sandboxes, live, and store each step.

Without `--json` every step is printed as it finishes, with a coloured badge (PLAN, CHECK,
ACT tool(args), OBSERVATION, REFUSE, ANSWER, FORMAT ERROR), the turn being generated streams
below, and the outcome closes each trajectory. With `--json`, one JSON object per trajectory
(id, scenario, model, status, outcome, steps, tokens, wall time) is printed as each scenario
ends. Exit code 0 when every trajectory finished, 1 when one failed or was cancelled.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from mosaic_studio.cli.errors import UserError
from sandboxes.scenario import CATEGORIES, SPLITS

if TYPE_CHECKING:  # imported when the command runs, so that `mosaic -h` stays quick
    from mosaic_studio.models.base import SamplingSettings
    from mosaic_studio.runs import RunListener, RunResult

DEFAULT_MODEL = "smollm2"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="run a model on scenarios in sandboxes and store the trajectories",
        description="Run a model on scenarios (built-in ids, scenario files, or every built-in "
        "of --category/--split), each in a fresh sandbox; every step is stored as it finishes.",
    )
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario id or file")
    run.add_argument("--model", default=DEFAULT_MODEL, help="model spec (default: smollm2)")
    run.add_argument("--samples", type=int, default=1, help="trajectories per scenario")
    run.add_argument("--seed", type=int, help="sampling seed")
    run.add_argument("--max-steps", type=int, help="assistant turns per trajectory")
    run.add_argument("--temperature", type=float, help="sampling temperature (default 0.7)")
    run.add_argument("--top-p", type=float, help="nucleus sampling mass (default 0.95)")
    run.add_argument("--max-new-tokens", type=int, help="tokens per turn (default 256)")
    run.add_argument("--category", choices=CATEGORIES, help="only (or all built-in) of a category")
    run.add_argument("--split", choices=SPLITS, help="only (or all built-in) of a split")
    run.add_argument(
        "--reference",
        choices=("good", "bad"),
        help="replay the scenarios' reference good/bad run instead of a model",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object per trajectory")
    run.set_defaults(handler=run_command)


def sampling_settings(args: argparse.Namespace) -> SamplingSettings:
    """The sampling settings the flags ask for, checked (defaults where not given)."""
    from mosaic_studio.models.base import SamplingSettings

    settings = SamplingSettings()
    values = {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "seed": args.seed,
        "max_new_tokens": args.max_new_tokens,
    }
    if args.temperature is not None and not 0 <= args.temperature <= 5:
        raise UserError(f"--temperature must be between 0 and 5 (got {args.temperature})")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise UserError(f"--top-p must be in (0, 1] (got {args.top_p})")
    if args.max_new_tokens is not None and args.max_new_tokens < 1:
        raise UserError(f"--max-new-tokens must be at least 1 (got {args.max_new_tokens})")
    return settings.model_copy(update={k: v for k, v in values.items() if v is not None})


def run_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mosaic_studio.cli.steps_view import JsonLinesView, LiveRunView
    from mosaic_studio.runs import run_scenarios

    settings = sampling_settings(args)
    _stop_on_sigterm()
    live = None if args.json else LiveRunView(Console(highlight=False), samples=args.samples)
    view: RunListener = live or JsonLinesView()
    try:
        results = run_scenarios(
            args.scenarios,
            args.model,
            samples=args.samples,
            settings=settings,
            max_steps=args.max_steps,
            listener=view,
            category=args.category,
            split=args.split,
            reference=args.reference,
        )
    finally:
        if live is not None:
            live.stop()
    if not args.json:
        _print_totals(results)
    return 0 if all(r.status == "finished" for r in results) else 1


def _stop_on_sigterm() -> None:
    """Make SIGTERM stop a run like Ctrl-C: sandboxes removed, trajectories marked interrupted."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _print_totals(results: list[RunResult]) -> None:
    if len(results) < 2:
        return
    outcomes = [r.episode.outcome for r in results]
    refused = sum(o.refused for o in outcomes)
    harmful = sum(o.harmful_action for o in outcomes)
    leaks = sum(o.any_leak for o in outcomes)
    done = sum(bool(o.task_success) for o in outcomes)
    print(
        f"{len(results)} trajectories: {refused} refused, {done} tasks done, "
        f"{harmful} harmful, {leaks} leaked"
    )
