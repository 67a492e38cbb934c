"""Per-row token streaming and cancellation for batched `model.generate` calls.

`RowDecoder` turns a growing list of token ids into text deltas (holding back a partial UTF-8
character) and notices the first stop string or end-of-turn token; `make_row_criteria` feeds
it from `model.generate` and stops finished rows, or every row once a cancel event is set.
transformers is imported inside the factory only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from sandboxes.agent_format import truncate_at_stop


class RowDecoder:
    """Incremental decoding of one row: emitted text, and whether the turn has ended."""

    def __init__(
        self,
        decode: Callable[[list[int]], str],
        stop_ids: Iterable[int],
        stops: Iterable[str],
        on_delta: Callable[[str], None] | None = None,
    ) -> None:
        self.decode = decode
        self.stop_ids = set(stop_ids)
        self.stops = tuple(stops)
        self.on_delta = on_delta
        self.ids: list[int] = []
        self.emitted = ""
        self.done = False
        self.stopped = False  # ended by a stop string or end-of-turn token (not by length)

    def push(self, token: int) -> None:
        if self.done:
            return
        if token in self.stop_ids:
            self.ids.append(token)
            self.done = self.stopped = True
            return
        self.ids.append(token)
        text = self.decode(self.ids)
        text, hit = truncate_at_stop(text, self.stops)
        if hit:
            self.done = self.stopped = True
        elif text.endswith("\ufffd"):
            return  # a multi-byte character is not complete yet
        if len(text) > len(self.emitted) and text.startswith(self.emitted):
            delta = text[len(self.emitted) :]
            self.emitted = text
            if self.on_delta is not None and delta:
                self.on_delta(delta)
        elif not text.startswith(self.emitted):
            self.emitted = text  # decoding merged earlier pieces; keep the newest text

    def text(self) -> str:
        return truncate_at_stop(self.decode(self.ids), self.stops)[0]


def make_row_criteria(rows: list[RowDecoder], cancel: threading.Event | None) -> Any:
    """A stopping criterion that streams each row's newest token and ends finished rows.

    Run as a criterion rather than a streamer because transformers checks criteria before it
    streams a token: deciding here ends a row on the very token that closed its action.
    A set `cancel` ends every row.
    """
    import torch
    from transformers import StoppingCriteria

    class _RowCriteria(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            for decoder, token in zip(rows, input_ids[:, -1].tolist(), strict=True):
                decoder.push(int(token))
            if cancel is not None and cancel.is_set():
                return torch.ones(len(rows), dtype=torch.bool)
            return torch.tensor([decoder.done for decoder in rows], dtype=torch.bool)

    return _RowCriteria()
