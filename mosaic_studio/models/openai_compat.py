"""`openai:BASE_URL#MODEL`: any OpenAI-compatible chat completions server, streamed (SSE).

Stdlib only (`http.client`). The MOSAIC text format travels in message content, so any server
works (vLLM, llama.cpp server, Ollama); stop strings are applied client-side because the API's
`stop` would drop the closing tag the parser needs. Several conversations run as parallel
requests (the server batches them); token callbacks are delivered on the caller's thread.
`$OPENAI_API_KEY`, when set, is sent as a bearer token. An unreachable server or an HTTP error
raises `OpenAIError` with one line.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import threading
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from mosaic_studio.models.base import (
    Generation,
    GenerationCancelled,
    Message,
    SamplingSettings,
    TokenCallback,
)
from sandboxes.agent_format import STOP_STRINGS, truncate_at_stop


class OpenAIError(RuntimeError):
    """The server could not be reached or answered with an error."""


class OpenAIBackend:
    """Chat completions over HTTP, streamed, with client-side stop strings and cancellation."""

    native_tools = False
    fill_placeholders = False

    def __init__(self, base_url: str, model: str, *, spec: str = "", timeout_s: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.spec = spec or f"openai:{base_url}#{model}"
        self.timeout_s = timeout_s
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OpenAIError(f"bad server URL {base_url!r}: expected http(s)://HOST[:PORT]/v1")
        self._parts = parts

    def _connect(self) -> http.client.HTTPConnection:
        cls = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        return cls(self._parts.hostname or "", self._parts.port, timeout=self.timeout_s)

    def _body(self, messages: list[Message], settings: SamplingSettings, row: int) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_tokens": settings.max_new_tokens,
        }
        if settings.seed is not None:
            body["seed"] = settings.seed + row  # parallel samples must differ
        return json.dumps(body).encode()

    def _stream_one(
        self,
        row: int,
        messages: list[Message],
        settings: SamplingSettings,
        deltas: queue.Queue[tuple[int, str]],
        cancel: threading.Event | None,
    ) -> Generation:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        path = (self._parts.path or "") + "/chat/completions"
        conn = self._connect()
        try:
            try:
                conn.request(
                    "POST", path, body=self._body(messages, settings, row), headers=headers
                )
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise OpenAIError(f"cannot reach {self.base_url}: {exc}") from None
            if response.status != 200:
                detail = response.read(300).decode("utf-8", "replace").strip().splitlines()
                raise OpenAIError(
                    f"{self.base_url} answered HTTP {response.status}: {(detail or [''])[0]}"
                )
            return self._read_events(row, response, deltas, cancel)
        finally:
            conn.close()

    def _read_events(
        self,
        row: int,
        response: http.client.HTTPResponse,
        deltas: queue.Queue[tuple[int, str]],
        cancel: threading.Event | None,
    ) -> Generation:
        text, chunks, finish, stopped = "", 0, "length", False
        try:
            for raw in response:
                if cancel is not None and cancel.is_set():
                    return Generation(text=text, tokens=chunks, finish_reason="cancelled")
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    choice = (json.loads(data).get("choices") or [{}])[0]
                except (json.JSONDecodeError, AttributeError, TypeError):
                    continue  # a malformed event is skipped, not fatal
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    chunks += 1
                    cut, stopped = truncate_at_stop(text + piece, STOP_STRINGS)
                    deltas.put((row, cut[len(text) :]))
                    text = cut
                    if stopped:
                        break
                if choice.get("finish_reason"):
                    finish = "stop" if choice["finish_reason"] == "stop" else "length"
        except (OSError, http.client.HTTPException) as exc:
            raise OpenAIError(f"{self.base_url}: the stream broke ({exc})") from None
        return Generation(text=text, tokens=chunks, finish_reason="stop" if stopped else finish)

    def generate(
        self,
        conversations: list[list[Message]],
        settings: SamplingSettings,
        *,
        tools: list[dict[str, Any]] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Generation]:
        """One streamed request per conversation, in parallel."""
        if not conversations:
            return []
        deltas: queue.Queue[tuple[int, str]] = queue.Queue()
        with ThreadPoolExecutor(max_workers=min(8, len(conversations))) as pool:
            futures: list[Future[Generation]] = [
                pool.submit(self._stream_one, row, messages, settings, deltas, cancel)
                for row, messages in enumerate(conversations)
            ]
            while not all(f.done() for f in futures) or not deltas.empty():
                try:
                    row, delta = deltas.get(timeout=0.05)
                except queue.Empty:
                    continue
                if on_token is not None and delta:
                    on_token(row, delta)
            results = [f.result() for f in futures]
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled()
        return results

    def close(self) -> None:
        return None
