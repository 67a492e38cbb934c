"""`python -m trainer.dpo`: DPO (+SFT on the chosen side) with a LoRA adapter on preference pairs.

    python -m trainer.dpo --data pairs.jsonl --output DIR --base-path CHECKPOINT [--max-steps N]

Prints JSON lines (see `trainer.progress`); `--resume` continues from the last checkpoint;
SIGTERM saves a checkpoint and stops with `{"event":"cancelled"}`.
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
from trainer.config import DPOJobConfig, parse_config
from trainer.data import load_preferences
from trainer.progress import Reporter, make_callback


def loss_settings(config: DPOJobConfig) -> dict[str, Any]:
    """`loss_type` and `loss_weights`: sigmoid DPO, plus the SFT term when asked."""
    if config.sft:
        return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, config.sft_weight]}
    return {"loss_type": ["sigmoid"], "loss_weights": None}


def run(config: DPOJobConfig, reporter: Reporter) -> int:
    data = load_preferences(config.data)  # fails fast, before any model is loaded
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = load_base(config)
    args = DPOConfig(
        **common_training_args(config),
        num_train_epochs=config.epochs,
        beta=config.beta,
        max_length=config.max_length,
        precompute_ref_log_probs=config.precompute_ref,
        **loss_settings(config),
    )
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(data.rows),
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[make_callback(reporter)],
    )
    kept = len(trainer.train_dataset)  # type: ignore[arg-type]
    if kept == 0:
        raise JobError(
            f"{config.data}: every pair's prompt is longer than --max-length {config.max_length}"
        )
    reporter.emit("data", **data.summary(), kept=kept)
    return train_and_save(trainer, config, reporter, data=data.summary())


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_config(DPOJobConfig, argv, "python -m trainer.dpo")
    return run_main("dpo", lambda reporter: run(config, reporter), config)


if __name__ == "__main__":
    sys.exit(main())
