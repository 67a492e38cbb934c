"""`python -m trainer.grpo`: the MOSAIC method on TRL's GRPOTrainer with sandboxed rollouts.

    python -m trainer.grpo --output DIR --base-path CHECKPOINT [--scenarios train] [--max-steps N]

Each step takes `--batch-size` training scenarios and plays `--num-generations` rollouts of
each in real sandboxes (`trainer.rollout`, the app's own episode loop). Rewards: pairwise judge
wins within the group + format reward − length penalty (`trainer.rewards`); tool output is
masked from the loss through `env_mask`. Prints JSON lines like `trainer.dpo`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from trainer.common import (
    JobError,
    common_training_args,
    load_base,
    lora_config,
    run_main,
    train_and_save,
)
from trainer.config import GRPOJobConfig, parse_config
from trainer.progress import Reporter, make_callback


def load_scenarios(selection: str) -> list[Any]:
    """Scenarios from a split name or comma-separated ids / file paths."""
    from sandboxes.library import ScenarioError, builtin_scenarios, get_scenario

    if selection in ("train", "test"):
        found = builtin_scenarios(split=selection)
        if not found:
            raise JobError(f"no built-in scenarios in the {selection} split")
        return list(found)
    names = [name.strip() for name in selection.split(",") if name.strip()]
    if not names:
        raise JobError("no training scenarios given (--scenarios train|test|ID,...)")
    try:
        return [get_scenario(name) for name in names]
    except ScenarioError as exc:
        raise JobError(str(exc)) from exc


def alignment(
    completions: list[Any], alignment_reward: list[float], **_: Any
) -> list[float | None]:
    """Pairwise judge wins within the group (0..G-1)."""
    return list(alignment_reward)


def format_tags(completions: list[Any], format_reward: list[float], **_: Any) -> list[float | None]:
    """Well-formed turns and terminal action (0..2)."""
    return list(format_reward)


def length(completions: list[Any], length_penalty: list[float], **_: Any) -> list[float | None]:
    """Minus the length penalty max(0, (L - L0) / L0)."""
    return [-value for value in length_penalty]


def make_rollout_func(config: GRPOJobConfig, scenarios: list[Any], reporter: Reporter) -> Any:
    from trainer.rewards import group_rewards
    from trainer.rollout import RolloutSettings, run_rollouts, summarize

    by_id = {scenario.id: scenario for scenario in scenarios}
    settings = RolloutSettings(
        max_new_tokens=config.max_new_tokens,
        max_turns=config.max_turns,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        top_p=config.top_p,
    )

    def rollout_func(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        chosen = [by_id[str(prompt[-1]["content"])] for prompt in prompts]
        model = trainer.accelerator.unwrap_model(trainer.model)
        rollouts = run_rollouts(
            model,
            trainer.processing_class,
            chosen,
            settings,
            should_stop=lambda: reporter.cancel_requested,
        )
        rewards = group_rewards([r.graded() for r in rollouts], config.length_threshold)
        reporter.emit(
            "rollouts",
            step=trainer.state.global_step + 1,
            scenarios=sorted({s.id for s in chosen}),
            **summarize(rollouts),
            alignment=sum(rewards["alignment_reward"]) / len(rollouts),
        )
        return {
            "prompt_ids": [r.prompt_ids for r in rollouts],
            "completion_ids": [r.completion_ids for r in rollouts],
            "logprobs": [r.logprobs for r in rollouts],
            "env_mask": [r.env_mask for r in rollouts],
            **rewards,
        }

    return rollout_func


def run(config: GRPOJobConfig, reporter: Reporter) -> int:
    scenarios = load_scenarios(config.scenarios)
    if config.num_generations < 2:
        raise JobError("--num-generations must be at least 2 (rewards compare within a group)")
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = load_base(config)
    common = common_training_args(config)
    common["per_device_train_batch_size"] = config.batch_size * config.num_generations
    args = GRPOConfig(
        **common,
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        top_p=config.top_p,
        beta=config.beta,
        reward_weights=[config.weight_alignment, config.weight_format, config.weight_length],
    )
    rows = [{"prompt": [{"role": "user", "content": s.id}]} for s in scenarios]
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[alignment, format_tags, length],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=lora_config(config),
        rollout_func=make_rollout_func(config, scenarios, reporter),
        callbacks=[make_callback(reporter)],
    )
    summary = {"scenarios": [s.id for s in scenarios], "count": len(scenarios)}
    reporter.emit("data", **summary)
    return train_and_save(trainer, config, reporter, data=summary)


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_config(GRPOJobConfig, argv, "python -m trainer.grpo")
    return run_main("grpo", lambda reporter: run(config, reporter), config)


if __name__ == "__main__":
    sys.exit(main())
