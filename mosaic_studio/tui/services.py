"""The parts the app uses from other areas, bundled so tests can inject fakes.

Defaults import the real services lazily (store, run service, sandbox, scenario library), so
opening the app never imports torch and an area whose service is missing still opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy.engine import Engine

from mosaic_studio.tui.settings import AppSettings, default_settings_path
from sandboxes.scenario import Scenario

RunService = Callable[..., Any]
"""`mosaic_studio.runs.run_scenarios`-shaped callable."""


def default_engine() -> Engine:
    """The store's engine (SQLite in the user data dir, or `MOSAIC_DB_URL`)."""
    from mosaic_studio.store.db import get_engine

    return get_engine()


def default_docker_check() -> str | None:
    """None when Docker works, else a one-line reason with the command that fixes it."""
    from sandboxes.sandbox import docker_available

    return docker_available()


def default_scenarios() -> list[Scenario]:
    """The built-in scenario library."""
    from sandboxes.library import builtin_scenarios

    return builtin_scenarios()


def default_run_service() -> RunService:
    """The headless run service shared with the CLI."""
    from mosaic_studio.runs import run_scenarios

    return run_scenarios


@dataclass
class Services:
    """Everything the screens call out to; one instance per app."""

    engine: Engine
    clock: Callable[[], float] = time.time
    docker_check: Callable[[], str | None] = default_docker_check
    scenarios: Callable[[], list[Scenario]] = default_scenarios
    run_service: Callable[[], RunService] = default_run_service
    backend_loader: Callable[[str], Any] | None = None
    """Loads a model spec; passed to the run service where given (tests: scripted models)."""
    settings_path: Path = field(default_factory=default_settings_path)
    rng: Random = field(default_factory=Random)
    """Chooses which side of a pair is shown left."""

    def load_settings(self) -> AppSettings:
        return AppSettings.load(self.settings_path)

    def save_settings(self, settings: AppSettings) -> None:
        settings.save(self.settings_path)
