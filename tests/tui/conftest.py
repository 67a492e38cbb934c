"""Fixtures for the app's tests: a temporary store and data dir, fixed clock, seeded data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mosaic_studio.store.db import dispose_engines, get_engine
from mosaic_studio.tui.app import MosaicApp, make_app
from tests.tui import seed

FIXED_NOW = 1_764_000_000.0  # 2025-11-24 16:00 UTC


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`MOSAIC_HOME` and `MOSAIC_DB_URL` point into the test's temp dir."""
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOSAIC_DB_URL", f"sqlite:///{tmp_path / 'mosaic.db'}")
    return tmp_path


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    engine = get_engine()
    yield engine
    dispose_engines()


@pytest.fixture
def app_factory(engine: Engine, home: Path) -> Callable[..., MosaicApp]:
    """Builds the app on the temp store with a fixed clock, Docker reported up, seed 7."""

    def build(**overrides: object) -> MosaicApp:
        options: dict[str, object] = {
            "engine": engine,
            "clock": lambda: FIXED_NOW,
            "docker_check": lambda: None,
            "settings_path": home / "settings.json",
            "seed": 7,
        }
        options.update(overrides)
        return make_app(**options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def seeded(engine: Engine) -> seed.Seeded:
    """Two scenarios' trajectories, two pairs, one adapter, one job and evaluations."""
    return seed.seed_store(engine)
