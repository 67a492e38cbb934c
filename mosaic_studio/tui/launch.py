"""`mosaic` with no command: sweep leftover sandboxes, mark interrupted runs, open the app."""

from __future__ import annotations

import argparse
import logging
import os

from mosaic_studio.cli.errors import UserError

log = logging.getLogger(__name__)


def startup_housekeeping() -> list[str]:
    """Remove sandboxes a crashed run left, mark its trajectories interrupted; notes to show."""
    from mosaic_studio.store.db import get_engine
    from mosaic_studio.store.liveness import mark_interrupted
    from sandboxes.sandbox import docker_available, sweep

    notes: list[str] = []
    if docker_available() is None:
        try:
            removed = sweep()
        except Exception as exc:  # the app opens anyway; Run shows Docker's state
            notes.append(f"sandbox sweep failed: {exc}")
        else:
            if removed:
                notes.append(f"removed {removed} leftover sandbox container(s)")
    interrupted = mark_interrupted(get_engine())
    if interrupted:
        notes.append(f"marked {len(interrupted)} interrupted trajectory(ies)")
    return notes


def launch_app(args: argparse.Namespace) -> int:
    """Open the app; returns the process exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from mosaic_studio.tui.app import make_app

    try:
        notes = startup_housekeeping()
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"cannot open the store: {exc}") from exc
    app = make_app()
    for note in notes:
        app.startup_notes.append(note)
    app.run()
    return app.return_code or 0
