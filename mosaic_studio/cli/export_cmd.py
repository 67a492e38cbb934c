"""`mosaic export OUT --format trl|kto|stepwise`: labelled pairs as preference data for TRL.

`[--source human|judge|agree] [--judge NAME] [--split S] [--category C] [--json]`; the file
type follows OUT's suffix (`.jsonl` or `.parquet`). Prints what was written and what was left
out (ties, both-bad pairs, conflicts, unlabelled pairs) at the end.
"""

from __future__ import annotations

import argparse
import json

from mosaic_studio.cli.errors import UserError
from sandboxes.scenario import CATEGORIES, SPLITS

FORMATS = ("trl", "kto", "stepwise")
SOURCES = ("human", "judge", "agree")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export",
        help="export labelled pairs as preference data (.jsonl or .parquet)",
        description="trl: prompt/chosen/rejected message lists with tools (TRL DPOTrainer); "
        "kto: unpaired rows with a boolean label; stepwise: one row per decision step.",
    )
    export.add_argument("out", metavar="OUT", help="output file, .jsonl or .parquet")
    export.add_argument("--format", choices=FORMATS, default="trl", help="default trl")
    export.add_argument(
        "--source",
        choices=SOURCES,
        default="human",
        help="whose labels: people (majority), judges, or only where both agree",
    )
    export.add_argument("--judge", help="only this judge's labels (e.g. rubric)")
    export.add_argument("--split", choices=SPLITS)
    export.add_argument("--category", choices=CATEGORIES)
    export.add_argument("--json", action="store_true", help="print the summary as JSON")
    export.set_defaults(handler=export_command)


def export_command(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from mosaic_studio.judges.export import ExportError, export_preferences
    from mosaic_studio.store.db import get_engine

    with Session(get_engine()) as session:
        try:
            summary = export_preferences(
                session,
                args.out,
                format=args.format,
                source=args.source,
                split=args.split,
                category=args.category,
                judge=args.judge,
            )
        except ExportError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(summary.as_dict()))
        return 0
    left = ", ".join(f"{n} {why}" for why, n in summary.left_out.most_common()) or "nothing"
    cats = ", ".join(f"{c} {n}" for c, n in sorted(summary.by_category.items()))
    print(
        f"wrote {summary.rows} {args.format} rows from {summary.used} of {summary.pairs} pairs "
        f"to {summary.path} ({cats})"
    )
    print(f"left out: {left}")
    return 0
