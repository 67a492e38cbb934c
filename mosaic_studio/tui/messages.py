"""Messages the app's workers post (past-tense events; fast streams replace their predecessors)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from sandboxes.outcome import Outcome
from sandboxes.steps import Step


class EpisodeKeyed(Message):
    """A message about one episode of one run: `key` is `run:scenario_index:episode`."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


class EpisodeBegan(EpisodeKeyed):
    """A trajectory started: its panel is made."""

    def __init__(self, key: str, run_id: int, scenario_id: str, model_spec: str, sample: int):
        super().__init__(key)
        self.run_id = run_id
        self.scenario_id = scenario_id
        self.model_spec = model_spec
        self.sample = sample


class TokensStreamed(EpisodeKeyed):
    """The text generated so far in the current turn; a newer one replaces a queued older one."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(key)
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TokensStreamed) and message.key == self.key


class StepRecorded(EpisodeKeyed):
    """A step finished (and was stored by the recorder)."""

    def __init__(self, key: str, step: Step) -> None:
        super().__init__(key)
        self.step = step


class EpisodeEnded(EpisodeKeyed):
    """A trajectory was graded."""

    def __init__(self, key: str, outcome: Outcome, trajectory_id: str | None) -> None:
        super().__init__(key)
        self.outcome = outcome
        self.trajectory_id = trajectory_id


class RunEnded(Message):
    """A run (one model over the picked scenarios) stopped: finished, cancelled or failed."""

    def __init__(self, run_id: int, status: str, detail: str = "") -> None:
        super().__init__()
        self.run_id = run_id
        self.status = status
        self.detail = detail


class PairLabeled(Message):
    """A label was committed (or retracted, with `choice == "undo"`)."""

    def __init__(self, pair_id: int, choice: str) -> None:
        super().__init__()
        self.pair_id = pair_id
        self.choice = choice


class VerdictRecorded(Message):
    """A judge stored its verdict on a pair."""

    def __init__(self, pair_id: int, choice: str, rationale: str) -> None:
        super().__init__()
        self.pair_id = pair_id
        self.choice = choice
        self.rationale = rationale


class TrainingProgressed(Message):
    """A job's progress so far (every log point); a newer one replaces a queued older one."""

    def __init__(self, job_id: str, points: list[dict[str, Any]], log_tail: list[str]) -> None:
        super().__init__()
        self.job_id = job_id
        self.points = points
        self.log_tail = log_tail

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingProgressed) and message.job_id == self.job_id


class JobEnded(Message):
    """A training job stopped."""

    def __init__(self, job_id: str, status: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.status = status
