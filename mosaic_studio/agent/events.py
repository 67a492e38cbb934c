"""Live events of running episodes, for the TUI, the CLI and the trajectory recorder.

Subclass `EpisodeListener` and override what you need; every callback gets the episode's index
in its group (0 for a single episode). Callbacks run on the thread that runs the loop.
Order per episode: `episode_started`, then per turn `step_started`, `token`…, `step_finished`
for each step the turn produced (plan, safety_check, action, observation), and finally
`episode_finished` with the `EpisodeResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandboxes.steps import Step

if TYPE_CHECKING:
    from mosaic_studio.agent.loop import EpisodeResult
    from sandboxes.episode import Episode


class EpisodeListener:
    """No-op callbacks; override the ones you need."""

    def episode_started(self, episode: int, state: Episode) -> None:
        """The sandbox is up; `state` holds the scenario, honeytokens, tools and messages."""

    def step_started(self, episode: int, turn: int) -> None:
        """The model starts generating turn `turn` (0-based) of this episode."""

    def token(self, episode: int, text: str) -> None:
        """A piece of generated text (or of a replayed turn)."""

    def step_finished(self, episode: int, step: Step) -> None:
        """A step is complete (its index, kind, text, timing and tokens are filled)."""

    def episode_finished(self, episode: int, result: EpisodeResult) -> None:
        """The episode is graded and its sandbox removed."""


class ListenerGroup(EpisodeListener):
    """Fans every event out to several listeners, in order."""

    def __init__(self, *listeners: EpisodeListener | None) -> None:
        self.listeners = [listener for listener in listeners if listener is not None]

    def episode_started(self, episode: int, state: Episode) -> None:
        for listener in self.listeners:
            listener.episode_started(episode, state)

    def step_started(self, episode: int, turn: int) -> None:
        for listener in self.listeners:
            listener.step_started(episode, turn)

    def token(self, episode: int, text: str) -> None:
        for listener in self.listeners:
            listener.token(episode, text)

    def step_finished(self, episode: int, step: Step) -> None:
        for listener in self.listeners:
            listener.step_finished(episode, step)

    def episode_finished(self, episode: int, result: EpisodeResult) -> None:
        for listener in self.listeners:
            listener.episode_finished(episode, result)
