"""Turns run events (called on a worker thread) into messages posted to the run screen.

Only `post_message` is called from here: it is the one thread-safe way into the UI. Tokens are
accumulated per episode and posted as the whole turn so far, so a queued message can be replaced
by a newer one (`TokensStreamed.can_replace`) and a fast model never floods the UI.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.message_pump import MessagePump

from mosaic_studio.runs import RunListener, RunResult
from mosaic_studio.tui.messages import EpisodeBegan, EpisodeEnded, StepRecorded, TokensStreamed
from sandboxes.scenario import Scenario
from sandboxes.steps import Step

if TYPE_CHECKING:
    from mosaic_studio.agent.loop import EpisodeResult
    from mosaic_studio.store.recorder import TrajectoryRecorder
    from sandboxes.episode import Episode


class PanelListener(RunListener):
    """Listens to one run (one model over several scenarios, each a group of samples)."""

    def __init__(self, target: MessagePump, run_id: int, spec: str) -> None:
        self._target = target
        self._run_id = run_id
        self._spec = spec
        self._lock = threading.Lock()
        self._position = 0
        self._scenario_id = ""
        self._recorder: TrajectoryRecorder | None = None
        self._turn_text: dict[int, str] = {}

    def key(self, episode: int) -> str:
        """`run:scenario position:episode`, unique within the app."""
        return f"{self._run_id}:{self._position}:{episode}"

    def scenario_started(
        self, position: int, total: int, scenario: Scenario, recorder: TrajectoryRecorder
    ) -> None:
        self._position = position
        self._scenario_id = scenario.id
        self._recorder = recorder
        with self._lock:
            self._turn_text.clear()

    def scenario_finished(self, position: int, results: list[RunResult]) -> None:
        self._recorder = None

    def episode_started(self, episode: int, state: Episode) -> None:
        self._target.post_message(
            EpisodeBegan(self.key(episode), self._run_id, self._scenario_id, self._spec, episode)
        )

    def step_started(self, episode: int, turn: int) -> None:
        with self._lock:
            self._turn_text[episode] = ""

    def token(self, episode: int, text: str) -> None:
        with self._lock:
            so_far = self._turn_text.get(episode, "") + text
            self._turn_text[episode] = so_far
        self._target.post_message(TokensStreamed(self.key(episode), so_far))

    def step_finished(self, episode: int, step: Step) -> None:
        with self._lock:
            self._turn_text[episode] = ""
        self._target.post_message(StepRecorded(self.key(episode), step))

    def episode_finished(self, episode: int, result: EpisodeResult) -> None:
        trajectory_id = None
        if self._recorder is not None:
            try:
                trajectory_id = self._recorder.trajectory_id(episode)
            except (KeyError, LookupError):
                trajectory_id = None
        self._target.post_message(EpisodeEnded(self.key(episode), result.outcome, trajectory_id))
