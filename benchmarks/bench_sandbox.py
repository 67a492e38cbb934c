"""Sandbox overhead against the raw Docker CLI, measured in the same run (medians of N).

- lifecycle: `Sandbox.create` (create, start, seed files) + `close()` against
  `docker run -d` + `docker rm -f` of the same image with the same isolation flags;
- tool call: `call_tool("read_file")` (argument checks, in-box timeout and output cap, path
  confinement) against `docker exec <box> cat <file>`.

Run: `.venv/bin/python benchmarks/bench_sandbox.py [-n 10]`. Goals: lifecycle <= 1.5x raw,
tool call <= 1.2x raw.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandboxes.honeytokens import Honeytokens
from sandboxes.image import ensure_image
from sandboxes.limits import Limits
from sandboxes.sandbox import Sandbox, default_client
from sandboxes.scenario import Reference, Scenario, SeedFile

SCENARIO = Scenario(
    id="bench",
    title="benchmark",
    category="benign",
    split="train",
    request="read the notes",
    files=[SeedFile(path="notes.txt", content="benchmark notes\n" * 20)],
    reference=Reference(good=[], bad=[]),
)


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def _raw_run_flags(image: str) -> list[str]:
    limits = Limits()
    return [
        "run", "-d", "--network", "none", "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--pids-limit", str(limits.pids),
        "--memory", f"{limits.memory_mb}m", "--cpus", str(limits.cpus),
        "--tmpfs", "/tmp", "--tmpfs", "/sandbox:uid=1000,gid=1000", "--user", "1000:1000",
        "--label", "mosaic.benchmark=1", image,
    ]  # fmt: skip


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_lifecycle(n: int, image: str, client: object) -> dict[str, float]:
    ours_up, ours_down, raw_up, raw_down = [], [], [], []
    tokens = Honeytokens.generate(SCENARIO)
    try:
        for _ in range(n):
            started = time.perf_counter()
            box = Sandbox.create(SCENARIO, tokens, client=client)
            ours_up.append(time.perf_counter() - started)
            ours_down.append(_time(box.close))

            started = time.perf_counter()
            container_id = _docker(*_raw_run_flags(image)).strip()
            raw_up.append(time.perf_counter() - started)
            raw_down.append(_time(functools.partial(_docker, "rm", "-f", "-v", container_id)))
    finally:
        stray = _docker("ps", "-aq", "--filter", "label=mosaic.benchmark=1").split()
        if stray:  # left by a failure above
            _docker("rm", "-f", "-v", *stray)
    return {
        "create_ms": _median_ms(ours_up),
        "close_ms": _median_ms(ours_down),
        "raw_run_ms": _median_ms(raw_up),
        "raw_rm_ms": _median_ms(raw_down),
    }


def bench_tool_call(n: int, client: object) -> dict[str, float]:
    ours, raw = [], []
    with Sandbox.create(SCENARIO, Honeytokens.generate(SCENARIO), client=client) as box:
        box.call_tool("read_file", {"path": "notes.txt"})  # warm up both paths
        _docker("exec", box.id, "cat", "/sandbox/work/notes.txt")
        for _ in range(n):
            result = None

            def call(b: Sandbox = box) -> None:
                nonlocal result
                result = b.call_tool("read_file", {"path": "notes.txt"})

            ours.append(_time(call))
            assert result is not None and not result.is_error, result
            raw.append(
                _time(functools.partial(_docker, "exec", box.id, "cat", "/sandbox/work/notes.txt"))
            )
    return {"read_file_ms": _median_ms(ours), "raw_exec_cat_ms": _median_ms(raw)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="repetitions (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    client = default_client()
    image = ensure_image(client)
    life = bench_lifecycle(args.n, image, client)
    call = bench_tool_call(args.n, client)
    ours_life = life["create_ms"] + life["close_ms"]
    raw_life = life["raw_run_ms"] + life["raw_rm_ms"]
    report = {
        **life,
        **call,
        "lifecycle_ratio": ours_life / raw_life,
        "tool_call_ratio": call["read_file_ms"] / call["raw_exec_cat_ms"],
        "n": args.n,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"sandbox benchmark ({image}, medians of {args.n})")
    print(
        f"  lifecycle: create {life['create_ms']:.0f} ms + close {life['close_ms']:.0f} ms "
        f"vs raw run -d {life['raw_run_ms']:.0f} ms + rm -f {life['raw_rm_ms']:.0f} ms "
        f"-> {report['lifecycle_ratio']:.2f}x raw (goal <= 1.5x)"
    )
    print(
        f"  tool call: read_file {call['read_file_ms']:.0f} ms vs raw exec cat "
        f"{call['raw_exec_cat_ms']:.0f} ms -> {report['tool_call_ratio']:.2f}x raw (goal <= 1.2x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
