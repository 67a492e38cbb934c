"""`mosaic pairs make|list`: make pairs of trajectories to compare, and list them.

`mosaic pairs make --strategy samples|models|fork|reference|references [SCENARIO...]
[--scenario ID] [--category C] [--split S] [--model SPEC] [--model-b SPEC] [--fork-step K]
[--parent ID] [--samples N] [--from-store] [--json]` runs the rollouts the strategy needs
(live, like `mosaic run`; stored as they happen) or pairs stored ones, and prints the new pairs.
`mosaic pairs list [--unlabelled] [--category C] [--limit N] [--json]`.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from mosaic_studio.cli.errors import UserError
from mosaic_studio.judges.strategies import STRATEGIES, STRATEGY_HELP
from sandboxes.scenario import CATEGORIES, SPLITS

if TYPE_CHECKING:
    from sqlmodel import Session

    from mosaic_studio.store.tables import Pair


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pairs = sub.add_parser("pairs", help="make and list pairs of trajectories to compare")
    actions = pairs.add_subparsers(dest="pairs_command", metavar="ACTION", required=True)

    make = actions.add_parser(
        "make",
        help="make pairs by a strategy (runs the rollouts it needs)",
        description="; ".join(f"{name}: {what}" for name, what in STRATEGY_HELP.items()) + ".",
    )
    make.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario id or file")
    make.add_argument("--strategy", choices=STRATEGIES, required=True)
    make.add_argument("--scenario", action="append", default=[], help="scenario id or file")
    make.add_argument("--category", choices=CATEGORIES, help="only (or all built-in) of it")
    make.add_argument("--split", choices=SPLITS, help="only (or all built-in) of a split")
    make.add_argument("--model", help="model spec (default smollm2; fork: the parent's)")
    make.add_argument("--model-b", help="the second model (strategy models)")
    make.add_argument("--fork-step", type=int, default=1, help="assistant turns kept (fork)")
    make.add_argument("--parent", help="trajectory id to fork (default: newest of --model)")
    make.add_argument("--samples", type=int, help="rollouts per scenario (and model)")
    make.add_argument(
        "--from-store", action="store_true", help="pair stored trajectories instead of running"
    )
    make.add_argument("--max-steps", type=int, help="assistant turns per trajectory")
    make.add_argument("--seed", type=int, help="sampling seed")
    make.add_argument("--temperature", type=float, help="sampling temperature (default 0.7)")
    make.add_argument("--top-p", type=float, help="nucleus sampling mass (default 0.95)")
    make.add_argument("--max-new-tokens", type=int, help="tokens per turn (default 256)")
    make.add_argument("--json", action="store_true", help="print the pairs as JSON lines")
    make.set_defaults(handler=make_command)

    show = actions.add_parser("list", help="list pairs (the unlabelled queue with --unlabelled)")
    show.add_argument("--unlabelled", action="store_true", help="only pairs no person labelled")
    show.add_argument("--category", choices=CATEGORIES)
    show.add_argument("--limit", type=int, help="at most this many")
    show.add_argument("--json", action="store_true", help="print JSON lines")
    show.set_defaults(handler=list_command)


def pair_json(pair: Pair, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The JSON shape of a pair on the command line."""
    data: dict[str, Any] = {
        "id": pair.id,
        "scenario": pair.scenario_id,
        "category": pair.category,
        "split": pair.split,
        "strategy": pair.strategy,
        "a": pair.trajectory_a_id,
        "b": pair.trajectory_b_id,
        "shared_prefix_steps": pair.shared_prefix_steps,
    }
    if counts is not None:
        data["labels"] = counts
    return data


def _line(pair: Pair, counts: dict[str, int] | None = None) -> str:
    prefix = f" (shares {pair.shared_prefix_steps} turns)" if pair.shared_prefix_steps else ""
    labels = f"  labels: {counts['human']} human, {counts['judge']} judge" if counts else ""
    return (
        f"pair {pair.id:>4}  {pair.category:<9} {pair.scenario_id:<28} {pair.strategy:<9} "
        f"{pair.trajectory_a_id} vs {pair.trajectory_b_id}{prefix}{labels}"
    )


def make_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mosaic_studio.cli.run_cmd import sampling_settings
    from mosaic_studio.cli.steps_view import LiveRunView
    from mosaic_studio.judges.pair_making import make_pairs
    from mosaic_studio.judges.pairs import PairError

    live = None if args.json else LiveRunView(Console(highlight=False), samples=args.samples or 1)
    try:
        pairs = make_pairs(
            args.strategy,
            [*args.scenarios, *args.scenario],
            category=args.category,
            split=args.split,
            model=args.model,
            model_b=args.model_b,
            samples=args.samples,
            fork_step=args.fork_step,
            parent=args.parent,
            from_store=args.from_store,
            settings=sampling_settings(args),
            max_steps=args.max_steps,
            listener=live,
        )
    except PairError as exc:
        raise UserError(str(exc)) from None
    finally:
        if live is not None:
            live.stop()
    for pair in pairs:
        print(json.dumps(pair_json(pair)) if args.json else _line(pair))
    if not args.json:
        print(f"{len(pairs)} pair(s) made with the {args.strategy} strategy")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.judges.pairs import balanced_queue, list_pairs
    from mosaic_studio.store.db import get_engine

    if args.limit is not None and args.limit < 0:
        raise UserError(f"--limit must be 0 or more (got {args.limit})")
    with Session(get_engine()) as session:
        if args.unlabelled:
            pairs = balanced_queue(session, category=args.category, limit=args.limit)
        else:
            pairs = [p for p in list_pairs(session) if args.category in (None, p.category)]
            pairs = pairs[: args.limit] if args.limit is not None else pairs
        _print(session, pairs, as_json=args.json)
    return 0


def _print(session: Session, pairs: list[Pair], *, as_json: bool) -> None:
    from mosaic_studio.judges.pairs import label_counts

    counts = label_counts(session, pairs)
    for pair in pairs:
        mine = counts[pair.id or 0]
        print(json.dumps(pair_json(pair, mine)) if as_json else _line(pair, mine))
    if not as_json:
        print(f"{len(pairs)} pair(s)")
