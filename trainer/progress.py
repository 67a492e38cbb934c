"""JSON-lines progress on stdout, SIGTERM handling, and the Trainer callback that reports.

Events, one JSON object per line:
`{"event":"start",...}`, `{"event":"log","step":..,"loss":..,"rewards/margins":..,
"rewards/accuracies":..,"reward":..,"learning_rate":..,"elapsed_s":..,"eta_s":..}`,
`{"event":"checkpoint","path":..}`, `{"event":"done","adapter":PATH,...}`,
`{"event":"cancelled",...}` and `{"event":"error","message":...}`.

`Reporter.claim_stdout()` keeps the real stdout for these lines only and points everything
else (library prints, progress bars) at stderr, so a reader can parse every stdout line.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from typing import IO, Any

# The metrics forwarded from a Trainer log record, under these names.
LOG_KEYS: tuple[str, ...] = (
    "loss",
    "rewards/margins",
    "rewards/accuracies",
    "rewards/chosen",
    "rewards/rejected",
    "reward",
    "reward_std",
    "learning_rate",
    "grad_norm",
    "epoch",
    "completions/mean_length",
    "frac_reward_zero_std",
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Reporter:
    """Writes progress events as JSON lines and remembers whether SIGTERM arrived."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream: IO[str] = stream or sys.stdout
        self.started = time.monotonic()
        self.cancel_requested = False

    def claim_stdout(self) -> None:
        """Keep file descriptor 1 for events; send every other write to stderr."""
        sys.stdout.flush()
        self.stream = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def install_sigterm(self) -> None:
        """On SIGTERM (and SIGINT) ask the run to save and stop at the next step boundary."""

        def on_signal(signum: int, frame: object) -> None:
            self.cancel_requested = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, **{k: _clean(v) for k, v in fields.items()}}
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()

    def log(self, step: int, max_steps: int, logs: dict[str, Any]) -> None:
        """One `log` event: the known metrics plus elapsed time and an ETA."""
        elapsed = self.elapsed()
        eta = elapsed / step * (max_steps - step) if step > 0 and max_steps > 0 else None
        fields: dict[str, Any] = {"step": step, "max_steps": max_steps}
        for key, value in logs.items():
            if key in LOG_KEYS or key.startswith("rewards/"):
                fields[key] = value
        fields["elapsed_s"] = elapsed
        fields["eta_s"] = round(eta, 1) if eta is not None else None
        self.emit("log", **fields)


def make_callback(reporter: Reporter) -> Any:
    """A transformers `TrainerCallback` reporting logs and checkpoints, and stopping on SIGTERM."""
    from transformers import TrainerCallback

    class JsonLinesCallback(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if reporter.cancel_requested:
                control.should_training_stop = True
            return control

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
        ) -> None:
            if logs and "train_runtime" not in logs:
                reporter.log(state.global_step, state.max_steps, logs)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if reporter.cancel_requested:
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
            reporter.emit("checkpoint", step=state.global_step, path=path)

    return JsonLinesCallback()
