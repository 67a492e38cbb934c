"""Evaluation test helpers: a temporary store, scripted turns, a tool-call turn builder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from mosaic_studio.evaluation.episodes import EvalContext
from mosaic_studio.evaluation.runner import DEFAULT_SETTINGS
from mosaic_studio.models.scripted import ScriptedBackend


def call(name: str, **arguments: Any) -> str:
    """One MOSAIC turn that calls a tool."""
    body = json.dumps({"name": name, "arguments": arguments})
    return f"<think>next: {name}</think><tool_call>{body}</tool_call>"


def answer(text: str) -> str:
    return f"<think>done</think><answer>{text}</answer>"


def ctx_for(turns: list[str], spec: str = "scripted:test") -> EvalContext:
    """A context whose model replays `turns`."""
    return EvalContext(ScriptedBackend(turns, spec=spec), DEFAULT_SETTINGS)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh SQLite store (migrated) under tmp_path; nothing touches the user's data."""
    from mosaic_studio.store.db import dispose_engines, get_engine

    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("MOSAIC_DB_URL", url)
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    yield get_engine(url)
    dispose_engines()
