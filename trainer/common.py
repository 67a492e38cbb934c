"""What the DPO and GRPO scripts share: loading the base model, LoRA, running and reporting.

Heavy libraries are imported inside the functions so that `--help` and data errors are quick.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer.config import PRECISIONS, JobConfig, config_to_dict
from trainer.data import DataError
from trainer.progress import Reporter

ADAPTER_DIRNAME = "adapter"


class JobError(RuntimeError):
    """A problem with the job's inputs, reported as one line (exit code 2)."""


def load_base(config: JobConfig) -> tuple[Any, Any]:
    """The base model (float32, trainable) and its tokenizer from a local checkpoint folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(config.resolved_base_path())
    if not (path / "config.json").is_file():
        raise JobError(
            f"base model folder {path} has no config.json (pass --base-path DIR, a local "
            "transformers checkpoint)"
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype="float32")
    return model, tokenizer


def lora_config(config: JobConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules(),
        task_type="CAUSAL_LM",
    )


def bf16_native() -> bool:
    """Whether this machine runs bf16 matmuls natively (CUDA bf16, or CPU AVX512-BF16/AMX)."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def use_bf16(precision: str) -> bool:
    """Whether a job with this `--precision` trains in bf16 mixed precision."""
    if precision not in PRECISIONS:
        raise JobError(f"--precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    return precision == "bf16" or (precision == "auto" and bf16_native())


def common_training_args(config: JobConfig) -> dict[str, Any]:
    """Keyword arguments of `TrainingArguments` both trainers share."""
    import torch

    return {
        "output_dir": config.output,
        "max_steps": config.max_steps if config.max_steps > 0 else -1,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.learning_rate,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "seed": config.seed,
        "report_to": [],
        "disable_tqdm": True,
        "use_cpu": not torch.cuda.is_available(),
        "bf16": use_bf16(config.precision),
        "dataloader_num_workers": 0,
        "gradient_checkpointing": False,
    }


def last_checkpoint(output: str) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output) if os.path.isdir(output) else None


def train_and_save(trainer: Any, config: JobConfig, reporter: Reporter, **done: Any) -> int:
    """Run (or resume) training, then save the adapter; report `done` or `cancelled`."""
    from transformers import PrinterCallback, ProgressCallback

    for noisy in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(noisy)
    resume = last_checkpoint(config.output) if config.resume else None
    if config.resume:
        reporter.emit("resume", checkpoint=resume)
    trainer.train(resume_from_checkpoint=resume)
    step = trainer.state.global_step
    if reporter.cancel_requested:
        reporter.emit("cancelled", step=step, checkpoint=last_checkpoint(config.output))
        return 0
    adapter = str(Path(config.output) / ADAPTER_DIRNAME)
    trainer.save_model(adapter)
    history = [h for h in trainer.state.log_history if "loss" in h]
    reporter.emit(
        "done",
        adapter=adapter,
        step=step,
        final_loss=history[-1]["loss"] if history else None,
        elapsed_s=reporter.elapsed(),
        **done,
    )
    return 0


def run_main(prog: str, body: Callable[[Reporter], int], config: JobConfig | None = None) -> int:
    """Run a job body: JSON errors with exit codes (2 for bad input, 1 for a crash)."""
    reporter = Reporter()
    reporter.claim_stdout()
    reporter.install_sigterm()
    if config is not None:
        reporter.emit("start", job=prog, pid=os.getpid(), config=config_to_dict(config))
    try:
        return body(reporter)
    except (JobError, DataError) as exc:
        reporter.emit("error", message=str(exc))
        return 2
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        reporter.emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
