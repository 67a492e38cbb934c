"""Store fixtures: a fresh migrated SQLite database per test, and a small scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mosaic_studio.store.db import dispose_engines, get_engine
from sandboxes.scenario import Reference, Scenario


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'mosaic.db'}"
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOSAIC_DB_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)


def make_scenario(scenario_id: str = "demo-1", category: str = "benign") -> Scenario:
    return Scenario.model_validate(
        {
            "id": scenario_id,
            "title": f"Demo {scenario_id}",
            "category": category,
            "split": "test",
            "request": "Summarise notes.txt",
            "files": [{"path": "notes.txt", "content": "hello"}],
            "reference": Reference(good=["<answer>ok</answer>"], bad=["<refuse>no</refuse>"]),
        }
    )


@pytest.fixture
def scenario() -> Scenario:
    return make_scenario()
