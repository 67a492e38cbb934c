"""Agent-loop generation against plain transformers, measured in the same run (embedded model).

- (a) overhead: `HFBackend.generate` (chat template, per-row streaming, stop-string checks,
  cancellation, cache bookkeeping) against raw `model.generate` on the same prompt ids and the
  same number of new tokens (`min_new_tokens` = `max_new_tokens`, greedy). Goal: <= 10 %.
- (b) KV-cache reuse: a multi-step episode (three long tool observations replayed, then the
  model takes the next turns) with the backend reusing each conversation's cache, against
  the same loop re-encoding the whole conversation every step. Greedy, so both take the
  same path; the outputs are compared.
- (c) batching: a group of 4 rollouts generated as one batch per step (`run_group`) against the
  4 generated one after another (`batch=False`), with the same fixed token counts.

Sandboxes are an in-memory fake here so that only generation is timed (Docker has its own
benchmark). Throughput is compared per generated token. Run:
`.venv/bin/python benchmarks/bench_agent.py [--tokens 24] [--reps 2]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mosaic_studio.agent.loop import EpisodeResult, run_group
from mosaic_studio.models.base import Generation, Message, SamplingSettings
from mosaic_studio.models.hf import HFBackend
from mosaic_studio.models.spec import load_backend
from sandboxes.honeytokens import Honeytokens
from sandboxes.scenario import Reference, Scenario
from sandboxes.state import FinalState
from sandboxes.steps import ToolResult

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the workspace.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]
SCENARIO = Scenario(
    id="bench-agent",
    title="benchmark",
    category="benign",
    split="train",
    request="Read the three reports and tell me which team shipped the most features.",
    max_steps=50,
    reference=Reference(good=[], bad=[]),
)
REPORT = " ".join(
    f"Week {i}: the team shipped {i % 7} features and fixed {i % 5} bugs." for i in range(24)
)
PREFIX = [
    f'<think>Read report {i}.</think><tool_call>{{"name": "read_file", '
    f'"arguments": {{"path": "report{i}.txt"}}}}</tool_call>'
    for i in range(3)
]
PROMPTS = [
    "Write a short paragraph about the history of the bicycle.",
    "Explain how a refrigerator keeps food cold.",
    "Describe a walk through a quiet forest in autumn.",
]


class MemorySandbox:
    """Every read returns the same long report; nothing else happens."""

    def __init__(self, scenario: Scenario, tokens: Honeytokens) -> None:
        self.calls = 0

    def call_tool(self, name: str, args: dict[str, Any]) -> ToolResult:
        self.calls += 1
        return ToolResult(output=REPORT)

    def final_state(self) -> FinalState:
        return FinalState()

    def close(self) -> None:
        return None


def grade(*args: Any, ended_by: str, wall_time_s: float, **kwargs: Any) -> Any:
    from sandboxes.outcome import Outcome

    return Outcome(ended_by=ended_by, wall_time_s=wall_time_s)


class FixedLength:
    """Every turn is exactly `n` tokens long: end-of-turn is suppressed, stop strings are off."""

    fill_placeholders = False
    native_tools = False

    def __init__(self, backend: HFBackend, n: int) -> None:
        self.backend, self.n, self.spec = backend, n, backend.spec

    def generate(
        self, conversations: list[list[Message]], settings: SamplingSettings, **kw: Any
    ) -> list[Generation]:
        return self.backend.generate(conversations, settings, min_new_tokens=self.n, **kw)

    def close(self) -> None:
        return None


def variant(base: HFBackend, *, kv_reuse: bool) -> HFBackend:
    backend = HFBackend(base.model, base.tokenizer, base.spec, kv_reuse=kv_reuse)
    backend.stop_strings = ()
    return backend


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench_overhead(base: HFBackend, tokens: int, reps: int) -> tuple[float, float, int, int]:
    import torch

    backend = HFBackend(base.model, base.tokenizer, base.spec, kv_reuse=False)
    settings = SamplingSettings(temperature=0, max_new_tokens=tokens)
    conversations = [[{"role": "user", "content": p}] for p in PROMPTS]
    ids = [backend.encode(c) for c in conversations]
    raw_time = ours_time = 0.0
    raw_tokens = ours_tokens = 0
    for _ in range(reps):
        for conversation, prompt in zip(conversations, ids, strict=True):
            tensor = torch.tensor([prompt])
            dt, out = timed(
                lambda t=tensor: base.model.generate(
                    input_ids=t,
                    attention_mask=torch.ones_like(t),
                    max_new_tokens=tokens,
                    min_new_tokens=tokens,
                    do_sample=False,
                    pad_token_id=backend.pad_id,
                )
            )
            raw_time += dt
            raw_tokens += out.shape[1] - tensor.shape[1]
            dt, gens = timed(
                lambda c=conversation: backend.generate(
                    [c], settings, min_new_tokens=tokens, on_token=lambda i, d: None
                )
            )
            ours_time += dt
            ours_tokens += gens[0].tokens
    return raw_time, ours_time, raw_tokens, ours_tokens


def run_loop(backend: Any, n: int, steps: int, *, batch: bool, prefix: bool) -> list[EpisodeResult]:
    settings = SamplingSettings(temperature=0 if n == 1 else 0.7, seed=1, max_new_tokens=backend.n)
    return run_group(
        backend,
        SCENARIO,
        n,
        settings=settings,
        max_steps=steps + (len(PREFIX) if prefix else 0),
        prefix_turns=PREFIX if prefix else None,
        batch=batch,
        sandbox_factory=MemorySandbox,
        tools=TOOLS,
        grade_fn=grade,
    )


def generated(results: list[EpisodeResult]) -> int:
    return sum(s.tokens for r in results for s in r.steps)


def row(name: str, base_s: float, ours_s: float, base_tok: int, ours_tok: int, note: str) -> str:
    base_rate = base_tok / base_s if base_s else 0.0
    ours_rate = ours_tok / ours_s if ours_s else 0.0
    ratio = ours_rate / base_rate if base_rate else 0.0
    return (
        f"{name:<22} {base_s:8.2f} {base_rate:8.1f} {ours_s:8.2f} {ours_rate:8.1f} "
        f"{ratio:7.2f}x  {note}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=24, help="new tokens per turn")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of (a)")
    parser.add_argument("--steps", type=int, default=4, help="model turns in (b) and (c)")
    args = parser.parse_args()
    base = load_backend("smollm2")
    assert isinstance(base, HFBackend)
    run_loop(FixedLength(variant(base, kv_reuse=True), 4), 1, 1, batch=True, prefix=False)  # warm

    raw_s, ours_s, raw_tok, ours_tok = bench_overhead(base, args.tokens, args.reps)
    overhead = (ours_s / ours_tok) / (raw_s / raw_tok) - 1 if raw_tok and ours_tok else 0.0

    naive = FixedLength(variant(base, kv_reuse=False), args.tokens)
    cached = FixedLength(variant(base, kv_reuse=True), args.tokens)
    naive_s, naive_runs = timed(lambda: run_loop(naive, 1, args.steps, batch=True, prefix=True))
    cached_s, cached_runs = timed(lambda: run_loop(cached, 1, args.steps, batch=True, prefix=True))
    same = [m["content"] for m in naive_runs[0].messages] == [
        m["content"] for m in cached_runs[0].messages
    ]
    context = cached_runs[0].messages
    context_tokens = len(cached.backend.encode(context))

    grouped = FixedLength(variant(base, kv_reuse=True), args.tokens)
    seq_s, seq_runs = timed(lambda: run_loop(grouped, 4, args.steps, batch=False, prefix=False))
    batch_s, batch_runs = timed(lambda: run_loop(grouped, 4, args.steps, batch=True, prefix=False))

    print(f"bench_agent: smollm2 on CPU, {args.tokens} tokens per turn")
    print(f"{'':<22} {'base s':>8} {'tok/s':>8} {'ours s':>8} {'tok/s':>8} {'speed':>8}")
    print(row("(a) vs raw generate", raw_s, ours_s, raw_tok, ours_tok, f"overhead {overhead:+.1%}"))
    print(
        row(
            "(b) KV-cache reuse",
            naive_s,
            cached_s,
            generated(naive_runs),
            generated(cached_runs),
            f"context {context_tokens} tokens, same turns: {'yes' if same else 'NO'}",
        )
    )
    print(
        row(
            "(c) group of 4 batched",
            seq_s,
            batch_s,
            generated(seq_runs),
            generated(batch_runs),
            "sequential vs one batch per step",
        )
    )
    print("speed = ours tokens/s over baseline tokens/s (higher is better)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
