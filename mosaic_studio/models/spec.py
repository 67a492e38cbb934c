"""Model spec strings (DESIGN.md §3) → loaded `ModelBackend`s, cached per spec.

- `smollm2`: the embedded SmolLM2-135M-Instruct (de-quantised once, see `embedded`);
- `hf:PATH_OR_ID`: a local transformers checkpoint;
- `SPEC+lora:DIR`: a PEFT LoRA adapter on a base spec (`smollm2+lora:/runs/a1/adapter`);
- `openai:BASE_URL#MODEL`: an OpenAI-compatible chat completions server (streaming);
- `scripted:FILE`: a JSON list of assistant-turn strings, replayed.

`load_backend(spec)` loads a model once and returns the same backend afterwards (scripted
files are re-read every time); bad specs raise `ModelSpecError` with one line.
`parse_spec(spec)` checks a spec without loading anything; `spec_kind(spec)` is
base | adapter | remote | scripted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from mosaic_studio.models.base import ModelBackend

EMBEDDED = "smollm2"
_LORA = "+lora:"
_cache: dict[str, ModelBackend] = {}
_lock = threading.Lock()


class ModelSpecError(ValueError):
    """A model spec that is malformed or cannot be loaded (one-line message)."""


@dataclass(frozen=True)
class ParsedSpec:
    """A spec split into its parts."""

    kind: str  # embedded | hf | lora | openai | scripted
    target: str = ""  # hf path/id, script file, base URL, or adapter dir
    model: str = ""  # openai model name
    base: str = ""  # base spec of a lora spec


USAGE = "use smollm2, hf:PATH, SPEC+lora:DIR, openai:BASE_URL#MODEL or scripted:FILE"


def parse_spec(spec: str) -> ParsedSpec:
    """Split and validate a spec's syntax (no files are read, nothing is loaded)."""
    spec = (spec or "").strip()
    if not spec:
        raise ModelSpecError(f"empty model spec: {USAGE}")
    if _LORA in spec:
        base, _, adapter = spec.rpartition(_LORA)
        if not base or not adapter:
            raise ModelSpecError(f"bad LoRA spec {spec!r}: expected SPEC+lora:DIR")
        base_kind = parse_spec(base).kind
        if base_kind not in ("embedded", "hf", "lora"):
            raise ModelSpecError(f"a LoRA adapter needs a local base model, not {base!r}")
        return ParsedSpec("lora", target=adapter, base=base)
    if spec == EMBEDDED:
        return ParsedSpec("embedded")
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ModelSpecError(f"unknown model spec {spec!r}: {USAGE}")
    if prefix == "hf":
        return ParsedSpec("hf", target=rest)
    if prefix == "scripted":
        return ParsedSpec("scripted", target=rest)
    if prefix == "openai":
        url, _, model = rest.partition("#")
        if not url.startswith(("http://", "https://")) or not model:
            raise ModelSpecError(f"bad spec {spec!r}: expected openai:http(s)://HOST:PORT/v1#MODEL")
        return ParsedSpec("openai", target=url, model=model)
    raise ModelSpecError(f"unknown model spec {spec!r}: {USAGE}")


def spec_kind(spec: str) -> str:
    """base | adapter | remote | scripted: how the store labels a model version."""
    kind = parse_spec(spec).kind
    return {"lora": "adapter", "openai": "remote", "scripted": "scripted"}.get(kind, "base")


def base_checkpoint(spec: str) -> str:
    """The local checkpoint folder or hub id of a base spec (`smollm2` is prepared first)."""
    parsed = parse_spec(spec)
    if parsed.kind == "embedded":
        from mosaic_studio.models.embedded import EmbeddedModelError, prepare

        try:
            return str(prepare())
        except EmbeddedModelError as exc:
            raise ModelSpecError(str(exc)) from None
    if parsed.kind == "hf":
        path = Path(parsed.target).expanduser()
        if parsed.target.startswith((".", "/", "~")) and not path.exists():
            raise ModelSpecError(f"hf:{parsed.target}: no such checkpoint folder")
        return str(path) if path.exists() else parsed.target
    raise ModelSpecError(f"{spec!r} has no local checkpoint")


def _load(spec: str) -> ModelBackend:
    parsed = parse_spec(spec)
    if parsed.kind == "scripted":
        from mosaic_studio.models.scripted import ScriptedBackend, ScriptError

        try:
            return ScriptedBackend.from_file(parsed.target)
        except ScriptError as exc:
            raise ModelSpecError(str(exc)) from None
    if parsed.kind == "openai":
        from mosaic_studio.models.openai_compat import OpenAIBackend

        return OpenAIBackend(parsed.target, parsed.model, spec=spec)
    adapters: list[str] = []
    base = spec
    while _LORA in base:
        base, _, adapter = base.rpartition(_LORA)
        adapters.insert(0, adapter)
    for adapter in adapters:
        if not (Path(adapter).expanduser() / "adapter_config.json").is_file():
            raise ModelSpecError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
    checkpoint = base_checkpoint(base)
    from mosaic_studio.models.hf import HFBackend

    try:
        return HFBackend.load(checkpoint, spec=spec, adapters=adapters)
    except Exception as exc:  # any loading failure is one line for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelSpecError(f"cannot load {spec!r}: {first}") from None


def load_backend(spec: str) -> ModelBackend:
    """The backend for `spec`, loaded once and reused (scripted specs are never cached)."""
    spec = (spec or "").strip()
    if parse_spec(spec).kind == "scripted":
        return _load(spec)
    with _lock:
        backend = _cache.get(spec)
        if backend is None:
            backend = _load(spec)
            _cache[spec] = backend
        return backend


def unload(spec: str | None = None) -> None:
    """Free one cached backend, or all of them."""
    with _lock:
        specs = [spec] if spec is not None else list(_cache)
        for key in specs:
            backend = _cache.pop(key, None)
            if backend is not None:
                backend.close()
