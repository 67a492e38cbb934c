"""Settings of the training jobs: dataclasses whose fields become command-line flags."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_type_hints

T = TypeVar("T")
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


@dataclass
class JobConfig:
    """What every training job shares: the base model, the adapter and the schedule."""

    output: str = field(metadata={"help": "folder for checkpoints and the final adapter"})
    base: str = field(default="smollm2", metadata={"help": "the base model spec (bookkeeping)"})
    base_path: str | None = field(
        default=None,
        metadata={"help": "local checkpoint folder of the base model (default: --base if a dir)"},
    )
    max_steps: int = field(default=50, metadata={"help": "optimizer steps to run"})
    batch_size: int = field(default=2, metadata={"help": "examples per device and step"})
    grad_accum: int = field(default=1, metadata={"help": "gradient accumulation steps"})
    learning_rate: float = field(default=1e-4, metadata={"help": "peak learning rate"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    lora_targets: str = field(
        default="all-linear",
        metadata={"help": "LoRA target modules: all-linear or comma-separated module names"},
    )
    save_steps: int = field(default=10, metadata={"help": "save a checkpoint every N steps"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints to keep"})
    seed: int = field(default=0, metadata={"help": "random seed"})
    precision: str = field(
        default="auto",
        metadata={
            "choices": PRECISIONS,
            "help": "fp32, bf16 (mixed), or auto: bf16 where the hardware has it natively "
            "(a CUDA GPU with bf16, a CPU with AVX512-BF16 or AMX), else fp32",
        },
    )
    resume: bool = field(default=False, metadata={"help": "resume from the last checkpoint"})

    def resolved_base_path(self) -> str:
        """The folder to load the base model from."""
        return self.base_path or self.base.removeprefix("hf:")

    def lora_target_modules(self) -> str | list[str]:
        if self.lora_targets == "all-linear":
            return "all-linear"
        return [name.strip() for name in self.lora_targets.split(",") if name.strip()]


@dataclass
class DPOJobConfig(JobConfig):
    """DPO (+ an SFT term on the chosen side) on exported preference pairs."""

    data: str = field(default="", metadata={"help": "preference pairs (JSON lines, TRL format)"})
    beta: float = field(default=0.1, metadata={"help": "DPO beta (strength of the KL anchor)"})
    sft: bool = field(
        default=True, metadata={"help": "add an SFT loss on the chosen side (loss sigmoid+sft)"}
    )
    sft_weight: float = field(default=1.0, metadata={"help": "weight of the SFT term"})
    max_length: int = field(
        default=2048, metadata={"help": "tokens per prompt+completion; longer is cut at the end"}
    )
    epochs: float = field(
        default=1.0, metadata={"help": "epochs, used only when --max-steps is 0 or less"}
    )
    precompute_ref: bool = field(
        default=True,
        metadata={
            "help": "score every row under the reference model once, before training, "
            "instead of on every step (a quarter less compute per step)"
        },
    )


@dataclass
class GRPOJobConfig(JobConfig):
    """GRPO with rollouts in real sandboxes and pairwise-judged rewards (the MOSAIC method)."""

    scenarios: str = field(
        default="train",
        metadata={"help": "training scenarios: a split (train|test) or comma-separated ids/paths"},
    )
    num_generations: int = field(default=4, metadata={"help": "rollouts per scenario (group)"})
    max_new_tokens: int = field(default=192, metadata={"help": "new tokens per assistant turn"})
    max_turns: int = field(
        default=0, metadata={"help": "assistant turns per rollout (0: the scenario's max_steps)"}
    )
    max_completion_length: int = field(
        default=1024, metadata={"help": "tokens of one whole rollout (model + tool output)"}
    )
    temperature: float = field(default=0.9, metadata={"help": "sampling temperature"})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling"})
    length_threshold: int = field(
        default=400, metadata={"help": "L0 of the length penalty max(0, (L - L0) / L0)"}
    )
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (0: no reference model)"})
    weight_alignment: float = field(default=1.0, metadata={"help": "weight of the judge reward"})
    weight_format: float = field(default=1.0, metadata={"help": "weight of the format reward"})
    weight_length: float = field(default=1.0, metadata={"help": "weight of the length penalty"})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser(cls: type[Any], prog: str) -> argparse.ArgumentParser:
    """An argparse parser with one flag per dataclass field, its help from the metadata."""
    parser = argparse.ArgumentParser(prog=prog, description=(cls.__doc__ or "").strip())
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        help_text = f.metadata.get("help", "")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if kind is bool:
            parser.add_argument(
                _flag(f.name),
                action=argparse.BooleanOptionalAction,
                default=f.default,
                help=help_text,
            )
            continue
        if kind in (int, float, str):
            convert: Any = kind
        else:  # Optional[str]
            convert = str
        parser.add_argument(
            _flag(f.name),
            type=convert,
            choices=f.metadata.get("choices"),
            required=required,
            default=None if required else f.default,
            help=help_text,
        )
    return parser


def parse_config(cls: type[T], argv: Sequence[str] | None, prog: str) -> T:
    """Parse command-line flags into the config dataclass `cls`."""
    namespace = build_parser(cls, prog).parse_args(argv)
    return cls(**vars(namespace))


def config_to_argv(config: Any) -> list[str]:
    """The flags that rebuild `config` (what the app passes to a job)."""
    argv: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            argv.append(_flag(f.name) if value else "--no-" + f.name.replace("_", "-"))
        else:
            argv += [_flag(f.name), str(value)]
    return argv


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-safe dict of the config."""
    return json.loads(json.dumps(dataclasses.asdict(config)))
