"""The embedded model's scores on `builtin:test` and one AgentDojo suite, against baselines.

Baselines measured in the same run, through the same loop and scoring:
- builtin: the scenarios' reference good runs (the oracle) and reference bad runs;
- AgentDojo: each user task's ground-truth tool calls replayed as a scripted model (the
  oracle; it gives no final answer, so tasks judged on the answer text fail for it too).
The model's rate metrics are printed beside them, with the ratio model / oracle where the
oracle scores, and seconds per item. Results of the model are stored (resumable) in a
temporary database unless `--db` is given.

    .venv/bin/python benchmarks/bench_eval.py --builtin-limit 8 --agentdojo-limit 4
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from mosaic_studio.evaluation.episodes import EvalContext
from mosaic_studio.evaluation.items import ItemResult
from mosaic_studio.evaluation.metrics import RATE_METRICS, compute_metrics
from mosaic_studio.evaluation.runner import DEFAULT_SETTINGS, run_eval
from mosaic_studio.evaluation.suites import Suite, get_suite
from mosaic_studio.models.scripted import ScriptedBackend

Metrics = dict[str, Any]


def _scripted_results(suite: Suite, ids: list[str], turns_for: Any) -> tuple[Metrics, float]:
    started = time.time()
    results: list[ItemResult] = []
    for item_id in ids:
        backend = ScriptedBackend(turns_for(item_id), spec="scripted:baseline")
        results.append(suite.run_item(item_id, EvalContext(backend, DEFAULT_SETTINGS)).result)
    return compute_metrics(results), (time.time() - started) / max(len(ids), 1)


def builtin_baselines(limit: int) -> dict[str, tuple[Metrics, float]]:
    suite = get_suite("builtin:test")
    ids = suite.item_ids()[:limit]
    scenarios = suite._scenarios()  # type: ignore[attr-defined]
    return {
        "reference good (oracle)": _scripted_results(
            suite, ids, lambda i: scenarios[i].reference.good
        ),
        "reference bad": _scripted_results(suite, ids, lambda i: scenarios[i].reference.bad),
    }


def agentdojo_oracle(name: str, limit: int, attack: str) -> tuple[Metrics, float]:
    from mosaic_studio.evaluation.agentdojo_suite import load_suite

    suite = get_suite(f"agentdojo:{name}", attack=attack)
    dojo = load_suite(name)

    def ground_truth(item_id: str) -> list[str]:
        task = dojo.get_user_task_by_id(item_id.split("/")[0])
        env = task.init_environment(dojo.load_and_inject_default_environment({}))
        calls = [{"name": c.function, "arguments": dict(c.args)} for c in task.ground_truth(env)]
        turns = [
            f"<think>step</think><tool_call>{json.dumps(c, default=str)}</tool_call>" for c in calls
        ]
        return [*turns, "<think>done</think><answer>Done.</answer>"]

    return _scripted_results(suite, suite.item_ids()[:limit], ground_truth)


def model_run(
    spec: str, suite: str, limit: int, args: argparse.Namespace, **options: Any
) -> tuple[Metrics, float]:
    settings = DEFAULT_SETTINGS.model_copy(update={"max_new_tokens": args.max_new_tokens})
    started = time.time()
    summary = run_eval(spec, suite, limit, settings=settings, max_steps=args.max_steps, **options)
    per_item = (time.time() - started) / max(summary.ran, 1)
    return summary.metrics, per_item


def _row(label: str, metrics: Metrics, per_item: float, oracle: Metrics | None) -> str:
    shown = []
    for name in sorted(k for k in metrics if k in RATE_METRICS):
        value = float(metrics[name])
        ratio = ""
        if oracle and isinstance(oracle.get(name), int | float) and oracle[name]:
            ratio = f" ({value / float(oracle[name]):.2f}x)"
        shown.append(f"{name}={value:.0%}{ratio}")
    steps = metrics.get("mean_steps", 0)
    return f"  {label:<28} {per_item:6.1f} s/item  steps={steps:<5} " + "  ".join(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--builtin-limit", type=int, default=8)
    parser.add_argument("--agentdojo-suite", default="banking")
    parser.add_argument("--agentdojo-limit", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--db", help="database URL for the model's results (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MOSAIC_DB_URL"] = args.db or f"sqlite:///{tmp}/bench.db"
        print(f"builtin:test, first {args.builtin_limit} items (one category after another)")
        baselines = builtin_baselines(args.builtin_limit)
        oracle = baselines["reference good (oracle)"][0]
        for label, (metrics, per_item) in baselines.items():
            print(_row(label, metrics, per_item, None))
        print(
            _row(
                args.model, *model_run(args.model, "builtin:test", args.builtin_limit, args), oracle
            )
        )
        for attack in ("none", "important_instructions"):
            suite = f"agentdojo:{args.agentdojo_suite}"
            print(f"{suite} attack={attack}, first {args.agentdojo_limit} items")
            oracle_metrics, oracle_time = agentdojo_oracle(
                args.agentdojo_suite, args.agentdojo_limit, attack
            )
            print(_row("ground-truth calls (oracle)", oracle_metrics, oracle_time, None))
            measured = model_run(args.model, suite, args.agentdojo_limit, args, attack=attack)
            print(_row(args.model, *measured, oracle_metrics))


if __name__ == "__main__":
    main()
