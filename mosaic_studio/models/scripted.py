"""`scripted:FILE`: replays a JSON list of assistant-turn strings, one per turn (for tests).

The turn to play is the number of assistant messages already in the conversation, so one
backend serves any number of episodes. Turns are streamed word by word as tokens. Scenario
reference runs hold `{{secret:NAME}}` placeholders: `fill_placeholders = True` tells the loop to
fill them with the episode's honeytokens. A conversation past the end of the script gets an
empty turn (a format error).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from mosaic_studio.models.base import (
    Generation,
    GenerationCancelled,
    Message,
    SamplingSettings,
    TokenCallback,
)

_CHUNK = re.compile(r"\s*\S+|\s+")


class ScriptError(ValueError):
    """A script file that is not a JSON list of strings."""


def load_script(path: str | Path) -> list[str]:
    """Read and validate a script file: a JSON list of strings."""
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{file}: no such script file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{file}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{file}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, list) or not all(isinstance(turn, str) for turn in data):
        raise ScriptError(f"{file}: expected a JSON list of assistant-turn strings")
    return data


class ScriptedBackend:
    """Replays fixed assistant turns; deterministic, instant."""

    native_tools = False
    fill_placeholders = True

    def __init__(self, turns: list[str], spec: str = "scripted:<inline>") -> None:
        self.turns = list(turns)
        self.spec = spec

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedBackend:
        return cls(load_script(path), spec=f"scripted:{path}")

    def generate(
        self,
        conversations: list[list[Message]],
        settings: SamplingSettings,
        *,
        tools: list[dict[str, Any]] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Generation]:
        generations = []
        for row, messages in enumerate(conversations):
            turn = sum(1 for m in messages if m.get("role") == "assistant")
            text = self.turns[turn] if turn < len(self.turns) else ""
            chunks = _CHUNK.findall(text)
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    raise GenerationCancelled()
                if on_token is not None:
                    on_token(row, chunk)
            prompt_tokens = sum(len(_CHUNK.findall(str(m.get("content", "")))) for m in messages)
            generations.append(
                Generation(text=text, tokens=len(chunks), prompt_tokens=prompt_tokens)
            )
        return generations

    def close(self) -> None:
        self.turns = []
