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
import statistics
import sys
import time
from dataclasses import dataclass
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


def bench_overhead(base: HFBackend, tokens: int, reps: int) -> list[Pair]:
    """(raw, ours) timings of one turn per prompt and repetition, interleaved."""
    import torch

    backend = HFBackend(base.model, base.tokenizer, base.spec, kv_reuse=False)
    settings = SamplingSettings(temperature=0, max_new_tokens=tokens)
    conversations = [[{"role": "user", "content": p}] for p in PROMPTS]
    pairs = []
    for _ in range(reps):
        for conversation in conversations:
            tensor = torch.tensor([backend.encode(conversation)])
            raw_s, out = timed(
                lambda t=tensor: base.model.generate(
                    input_ids=t,
                    attention_mask=torch.ones_like(t),
                    max_new_tokens=tokens,
                    min_new_tokens=tokens,
                    do_sample=False,
                    pad_token_id=backend.pad_id,
                )
            )
            ours_s, gens = timed(
                lambda c=conversation: backend.generate(
                    [c], settings, min_new_tokens=tokens, on_token=lambda i, d: None
                )
            )
            pairs.append(Pair(raw_s, ours_s, out.shape[1] - tensor.shape[1], gens[0].tokens))
    return pairs


@dataclass
class Pair:
    """One baseline run and one of ours, back to back."""

    base_s: float
    ours_s: float
    base_tokens: int
    ours_tokens: int

    @property
    def speed(self) -> float:
        """Our tokens/s over the baseline's."""
        return (self.ours_tokens / self.ours_s) / (self.base_tokens / self.base_s)


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


def row(name: str, pairs: list[Pair], note: str) -> str:
    base_s = sum(p.base_s for p in pairs)
    ours_s = sum(p.ours_s for p in pairs)
    base_rate = sum(p.base_tokens for p in pairs) / base_s
    ours_rate = sum(p.ours_tokens for p in pairs) / ours_s
    speed = statistics.median(p.speed for p in pairs)
    return (
        f"{name:<22} {base_s:8.2f} {base_rate:8.1f} {ours_s:8.2f} {ours_rate:8.1f} "
        f"{speed:7.2f}x  {note}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=24, help="new tokens per turn")
    parser.add_argument("--reps", type=int, default=2, help="interleaved repetitions")
    parser.add_argument("--steps", type=int, default=3, help="model turns in (b) and (c)")
    args = parser.parse_args()
    base = load_backend("smollm2")
    assert isinstance(base, HFBackend)
    run_loop(FixedLength(variant(base, kv_reuse=True), 4), 1, 1, batch=True, prefix=False)  # warm

    overhead_pairs = bench_overhead(base, args.tokens, args.reps)
    overhead = 1 / statistics.median(p.speed for p in overhead_pairs) - 1

    def fresh(kv_reuse: bool) -> FixedLength:  # no cache carried over between runs
        return FixedLength(variant(base, kv_reuse=kv_reuse), args.tokens)

    reuse_pairs, group_pairs, same, context_tokens = [], [], True, 0
    for _ in range(args.reps):
        naive_s, naive = timed(
            lambda: run_loop(fresh(False), 1, args.steps, batch=True, prefix=True)
        )
        cached_s, cached = timed(
            lambda: run_loop(fresh(True), 1, args.steps, batch=True, prefix=True)
        )
        reuse_pairs.append(Pair(naive_s, cached_s, generated(naive), generated(cached)))
        same = same and [m["content"] for m in naive[0].messages] == [
            m["content"] for m in cached[0].messages
        ]
        context_tokens = len(base.encode(cached[0].messages))
        seq_s, seq = timed(lambda: run_loop(fresh(True), 4, args.steps, batch=False, prefix=False))
        bat_s, bat = timed(lambda: run_loop(fresh(True), 4, args.steps, batch=True, prefix=False))
        group_pairs.append(Pair(seq_s, bat_s, generated(seq), generated(bat)))

    print(f"bench_agent: smollm2 on CPU, {args.tokens} tokens per turn, {args.reps} reps")
    print(f"{'':<22} {'base s':>8} {'tok/s':>8} {'ours s':>8} {'tok/s':>8} {'speed':>8}")
    print(row("(a) vs raw generate", overhead_pairs, f"overhead {overhead:+.1%} (goal <= 10%)"))
    note = f"context {context_tokens} tokens, same turns: {'yes' if same else 'NO'}"
    print(row("(b) KV-cache reuse", reuse_pairs, note))
    print(row("(c) group of 4 batched", group_pairs, "4 sequential vs one batch per step"))
    print("speed = median over interleaved runs of ours tokens/s / baseline tokens/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
