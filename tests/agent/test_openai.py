"""The `openai:` backend against a small OpenAI-compatible SSE server on loopback."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mosaic_studio.agent.loop import run_episode
from mosaic_studio.models.base import GenerationCancelled, SamplingSettings
from mosaic_studio.models.openai_compat import OpenAIBackend, OpenAIError
from mosaic_studio.models.spec import load_backend
from sandboxes.steps import StepKind
from tests.agent.fakes import FAKE_OPTIONS, scenario

REPLY = (
    "<think>easy</think><answer>It is about a key.</answer> and then rambling <refuse>x</refuse>"
)


class Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append({"path": self.path, "body": body})
        if body["model"] == "fail":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"model exploded\nmore")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        user = body["messages"][-1]["content"]
        pieces = [REPLY[i : i + 7] for i in range(0, len(REPLY), 7)]
        try:
            self.wfile.write(b": keep-alive\n\ndata: {not json}\n\n")
            for piece in pieces:
                event = {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                if body["model"] == "slow":
                    time.sleep(0.05)
            done = {"choices": [{"delta": {}, "finish_reason": "stop"}], "echo": user}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_streams_and_cuts_at_the_first_action(server: str) -> None:
    backend = load_backend(f"openai:{server}#tiny")
    deltas: list[tuple[int, str]] = []
    settings = SamplingSettings(temperature=0.2, seed=3, max_new_tokens=64)
    conversation = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    gens = backend.generate(
        [conversation, conversation], settings, on_token=lambda i, d: deltas.append((i, d))
    )
    assert [g.text for g in gens] == ["<think>easy</think><answer>It is about a key.</answer>"] * 2
    assert all(g.finish_reason == "stop" and g.tokens > 3 for g in gens)
    for row in (0, 1):
        assert "".join(d for i, d in deltas if i == row) == gens[row].text
    sent = Handler.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["stream"] is True
    assert sorted(r["body"]["seed"] for r in Handler.requests[-2:]) == [3, 4]  # rows differ
    assert sent["body"]["max_tokens"] == 64 and "stop" not in sent["body"]


def test_runs_an_episode(server: str) -> None:
    result = run_episode(OpenAIBackend(server, "tiny"), scenario(), **FAKE_OPTIONS)
    assert [s.kind for s in result.steps] == [StepKind.PLAN, StepKind.ANSWER]
    assert result.model_spec == f"openai:{server}#tiny"


def test_errors_are_one_line(server: str) -> None:
    conversation = [{"role": "user", "content": "u"}]
    with pytest.raises(OpenAIError, match=r"HTTP 500: model exploded$"):
        OpenAIBackend(server, "fail").generate([conversation], SamplingSettings())
    dead = OpenAIBackend("http://127.0.0.1:9/v1", "m", timeout_s=2)
    with pytest.raises(OpenAIError, match=re.escape("cannot reach http://127.0.0.1:9/v1")):
        dead.generate([conversation], SamplingSettings())
    result = run_episode(dead, scenario(), **FAKE_OPTIONS)
    assert result.outcome.ended_by == "error" and "cannot reach" in (result.error or "")


def test_cancel_during_the_stream(server: str) -> None:
    cancel = threading.Event()
    backend = OpenAIBackend(server, "slow")
    with pytest.raises(GenerationCancelled):
        backend.generate(
            [[{"role": "user", "content": "u"}]],
            SamplingSettings(),
            on_token=lambda i, d: cancel.set(),
            cancel=cancel,
        )
