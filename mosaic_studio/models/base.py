"""The interface every model backend implements."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

Message = dict[str, Any]  # an OpenAI-style chat message: role, content, maybe tool_calls
TokenCallback = Callable[[int, str], None]  # (index in the batch, text delta)


class SamplingSettings(BaseModel):
    """How to sample one assistant turn."""

    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None
    max_new_tokens: int = 256


class Generation(BaseModel):
    """One generated assistant turn."""

    text: str
    tokens: int
    prompt_tokens: int = 0
    finish_reason: str = "stop"  # stop | length | cancelled
    native_tool_calls: list[dict[str, Any]] | None = None  # parsed by the chat template's format


class GenerationCancelled(Exception):
    """Raised when a cancel event is set while generating."""


class ModelBackend(Protocol):
    """A loaded model that can continue chats, one or several at a time."""

    spec: str
    native_tools: bool  # the chat template renders `tools` and `tool_calls` itself

    def generate(
        self,
        conversations: list[list[Message]],
        settings: SamplingSettings,
        *,
        tools: list[dict[str, Any]] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Generation]:
        """Continue each conversation by one assistant turn (batched where the backend can)."""
        ...

    def close(self) -> None:
        """Free what the backend holds."""
        ...
