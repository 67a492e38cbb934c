"""The pair strategies and what each pairs; no heavy imports, so the CLI can list them."""

from __future__ import annotations

STRATEGY_HELP: dict[str, str] = {
    "samples": "two samples of one model",
    "models": "--model against --model-b",
    "fork": "replay a trajectory's first --fork-step turns and let the model continue",
    "reference": "the model's rollout against the scenario's reference good run",
    "references": "the scenario's reference good run against its reference bad run",
}
STRATEGIES: tuple[str, ...] = tuple(STRATEGY_HELP)
