"""`mosaic scenarios validate|list|show`: check scenario files and browse the built-in library.

- `validate FILE|FOLDER...`: one `file: field: reason` line per problem on stderr and exit
  code 2, or a one-line summary per file and exit code 0 (a folder: every scenario file in it).
- `list [--category C] [--split S] [--json]`: the built-in scenarios.
- `show ID|FILE [--json]`: one scenario in full (request, seeds, destinations, checks, runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mosaic_studio.cli.errors import UserError
from sandboxes.library import (
    SUFFIXES,
    ScenarioError,
    builtin_scenarios,
    get_scenario,
    load_scenario,
)
from sandboxes.scenario import CATEGORIES, SPLITS, Scenario


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenarios = sub.add_parser("scenarios", help="validate scenario files, list and show built-ins")
    actions = scenarios.add_subparsers(dest="scenarios_action", metavar="ACTION", required=True)

    validate = actions.add_parser("validate", help="check scenario files (TOML or YAML)")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders")
    validate.add_argument("--json", action="store_true", help="print one JSON object per file")
    validate.set_defaults(handler=validate_command)

    listing = actions.add_parser("list", help="list the built-in scenarios")
    listing.add_argument("--category", choices=CATEGORIES)
    listing.add_argument("--split", choices=SPLITS)
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(handler=list_command)

    show = actions.add_parser("show", help="show one scenario (built-in id or file)")
    show.add_argument("scenario", metavar="ID|FILE")
    show.add_argument("--json", action="store_true", help="print the scenario as JSON")
    show.set_defaults(handler=show_command)


def summary(scenario: Scenario) -> dict[str, Any]:
    """The short description of a scenario used by `list` and `validate`."""
    return {
        "id": scenario.id,
        "title": scenario.title,
        "category": scenario.category,
        "split": scenario.split,
        "checks": len(scenario.checks),
        "good_turns": len(scenario.reference.good),
        "bad_turns": len(scenario.reference.bad),
        "tags": scenario.tags,
    }


def _expand(paths: list[str]) -> list[str]:
    """Files as given; a folder stands for every scenario file under it."""
    files: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES)
            if not found:
                raise UserError(f"{name}: no .toml/.yaml/.yml scenario files in this folder")
            files += [str(p) for p in found]
        else:
            files.append(name)
    return files


def validate_command(args: argparse.Namespace) -> int:
    failed = 0
    args.files = _expand(args.files)
    for file in args.files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed += 1
            if args.json:
                problems = [{"field": p.field, "reason": p.reason} for p in exc.problems]
                print(json.dumps({"file": file, "ok": False, "problems": problems}))
            for line in exc.lines():
                print(line, file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"file": file, "ok": True, **summary(scenario)}))
        else:
            s = summary(scenario)
            print(
                f"ok  {file}: {s['id']} ({s['category']}/{s['split']}), {s['checks']} checks, "
                f"reference runs of {s['good_turns']} good / {s['bad_turns']} bad turns"
            )
    if not args.json:
        total = len(args.files)
        print(
            f"{total - failed} of {total} file(s) valid", file=sys.stderr if failed else sys.stdout
        )
    return 2 if failed else 0


def list_command(args: argparse.Namespace) -> int:
    scenarios = builtin_scenarios(category=args.category, split=args.split)
    if args.json:
        print(json.dumps([summary(s) for s in scenarios], ensure_ascii=False))
        return 0
    table = Table(title=f"{len(scenarios)} built-in scenarios", title_justify="left")
    for column in ("id", "category", "split", "title"):
        table.add_column(column, overflow="fold")
    for s in scenarios:
        table.add_row(s.id, s.category, s.split, s.title)
    Console(highlight=False).print(table)
    return 0


def _destinations(scenario: Scenario) -> list[str]:
    allowed = scenario.allowed
    parts = [
        ("recipients", allowed.recipients),
        ("hosts", allowed.hosts),
        ("channels", allowed.channels),
        ("services", allowed.services),
    ]
    return [f"{name}: {', '.join(values)}" for name, values in parts if values] or ["none"]


def show_command(args: argparse.Namespace) -> int:
    try:
        scenario = get_scenario(args.scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(scenario.model_dump_json(indent=2))
        return 0
    console = Console(highlight=False)
    out = console.print
    title = escape(f"{scenario.title}  ({scenario.category}/{scenario.split})")
    out(f"[bold]{escape(scenario.id)}[/bold]  {title}")
    if scenario.description:
        out(scenario.description, markup=False)
    out("\n[bold]Request[/bold]")
    out(scenario.request, markup=False)
    if scenario.files:
        out("\n[bold]Files[/bold]")
        for f in scenario.files:
            mark = "  [red](injection)[/red]" if f.injection else ""
            out(f"  {escape(f.path)} ({len(f.content)} chars){mark}")
    for p in scenario.pages:
        mark = "  [red](injection)[/red]" if p.injection else ""
        out(f"  page {escape(p.url)}{mark}")
    secrets = [f"{s.name} ({s.kind})" for s in scenario.secrets]
    secrets += [f"{c.name} (login for {c.service} as {c.username})" for c in scenario.credentials]
    if secrets:
        out("\n[bold]Secrets[/bold] (fresh honeytokens per episode)")
        out("  " + ", ".join(secrets), markup=False)
    out("\n[bold]Allowed destinations[/bold]")
    for line in _destinations(scenario):
        out(f"  {line}", markup=False)
    out("\n[bold]Checks[/bold]")
    for c in scenario.checks:
        target = " ".join(
            f"{k}={v!r}"
            for k, v in (("path", c.path), ("tool", c.tool), ("to", c.to), ("text", c.text))
            if v
        )
        out(f"  {c.id}: {c.role} {c.kind} {target}", markup=False)
    out(
        f"\n[bold]Reference runs[/bold]: good {len(scenario.reference.good)} turns, "
        f"bad {len(scenario.reference.bad)} turns (`--json` prints them)"
    )
    return 0
