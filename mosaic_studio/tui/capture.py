"""Capture the Run and Label areas as SVG and plain text (for the README): real sandboxed runs.

`python -m mosaic_studio.tui.capture [OUT_DIR] [--scenario ID]` runs the scenario's reference
good and bad turns as two scripted models side by side in real Docker sandboxes, pairs the two
stored trajectories, and saves `run.svg`/`run.txt` and `label.svg`/`label.txt`. Everything it
stores goes to a temporary data dir, never the user's.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App

SIZE = (140, 44)


def export_text(app: App[Any]) -> str:
    """The current screen as plain text (what `export_screenshot` draws, without styles)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None
    )
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def _save(app: App[Any], out: Path, name: str) -> None:
    (out / f"{name}.svg").write_text(app.export_screenshot(title=f"MOSAIC Studio — {name}"))
    (out / f"{name}.txt").write_text(export_text(app))


async def _settle(app: App[Any], pilot: object) -> None:
    for _ in range(4):
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]


async def capture(out: Path, scenario_id: str, work: Path) -> None:
    """Drive the app headless through a run and a label and save both screens."""
    from sqlmodel import Session
    from textual.widgets import Input, SelectionList

    from mosaic_studio.judges.pairs import pair_trajectories
    from mosaic_studio.runs import run_scenarios
    from mosaic_studio.store.db import get_engine
    from mosaic_studio.tui.app import make_app
    from mosaic_studio.tui.settings import AppSettings
    from sandboxes.library import get_scenario

    engine = get_engine()
    scenario = get_scenario(scenario_id)
    scripts = {}
    for which, turns in (("good", scenario.reference.good), ("bad", scenario.reference.bad)):
        scripts[which] = work / f"{which}.json"
        scripts[which].write_text(json.dumps(turns))
    settings_path = work / "app.json"
    AppSettings(annotator="demo").save(settings_path)
    app = make_app(engine=engine, settings_path=settings_path, seed=1)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        app.screen.query_one(SelectionList).select(scenario.id)
        for which in ("good", "bad"):
            app.screen.query_one("#model-spec", Input).value = f"scripted:{scripts[which]}"
            await pilot.press("ctrl+s")
            await _settle(app, pilot)
        app.clear_notifications()
        await pilot.pause()
        _save(app, out, "run")
    good = run_scenarios([scenario.id], reference="good", engine=engine)
    bad = run_scenarios([scenario.id], reference="bad", engine=engine)
    with Session(engine) as session:
        pair_trajectories(session, [(good[0].trajectory_id, bad[0].trajectory_id)], "reference")
    app = make_app(engine=engine, settings_path=settings_path, seed=1, start_mode="label")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        _save(app, out, "label")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/screens", help="output folder")
    parser.add_argument("--scenario", default="harm-exfiltrate-company-keys")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mosaic-capture-") as tmp:
        work = Path(tmp)
        os.environ["MOSAIC_HOME"] = str(work / "home")
        os.environ["MOSAIC_DB_URL"] = f"sqlite:///{work / 'mosaic.db'}"
        asyncio.run(capture(out, args.scenario, work))
    print(f"saved {', '.join(sorted(p.name for p in out.glob('*.*')))} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
