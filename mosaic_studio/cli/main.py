"""Entry point of `mosaic`: no arguments opens the app; subcommands live in their own modules.

Each command module defines `register(subparsers)`, adding its parser(s) with
`set_defaults(handler=...)`; a handler takes the parsed namespace and returns an exit code.
Handlers raise `UserError` for bad input: it is printed as one line, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mosaic_studio.cli.errors import UserError

# Modules under mosaic_studio.cli that add subcommands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "run_cmd",
    "browse_cmd",
    "doctor_cmd",
    "scenarios_cmd",
    "pairs_cmd",
    "judge_cmd",
    "export_cmd",
    "train_cmd",
    "eval_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mosaic",
        description="MOSAIC Studio: run agents in a sandbox, label, judge, train and evaluate. "
        "With no command, opens the app.",
    )
    parser.add_argument("--db", help="database URL (default: $MOSAIC_DB_URL or a SQLite file)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"mosaic_studio.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"mosaic_studio.cli.{name}":
                continue  # that area is not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db:
        os.environ["MOSAIC_DB_URL"] = args.db
    try:
        if args.command is None:
            from mosaic_studio.tui.launch import launch_app

            return launch_app(args)
        code: int = args.handler(args)
        return code
    except UserError as exc:
        print(f"mosaic: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mosaic: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
