"""Drive MOSAIC episodes with a model backend: batching, live events, cancellation, results.

- `run_episode(backend, scenario, *, settings, listener=None, cancel=None, max_steps=None,
  prefix_turns=None, ...) -> EpisodeResult`: one trajectory.
- `run_group(backend, scenario, n, ...) -> list[EpisodeResult]`: n trajectories of the same
  scenario, one sandbox each; every step the still-active episodes are generated as one batch
  (finished episodes drop out).

The episode logic itself is `sandboxes.episode.Episode`, shared with GRPO rollouts. A backend
error ends the group with `ended_by="error"` and `EpisodeResult.error` set (sandboxes are always
removed); a set `cancel` event ends it with `ended_by="cancelled"`, between steps or during
generation. Backends with `fill_placeholders = True` (scripted) get `{{secret:NAME}}` filled.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mosaic_studio.agent.events import EpisodeListener
from mosaic_studio.models.base import (
    Generation,
    GenerationCancelled,
    Message,
    ModelBackend,
    SamplingSettings,
)
from sandboxes.episode import Episode, GradeFn, SandboxFactory
from sandboxes.honeytokens import Honeytokens
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.state import FinalState
from sandboxes.steps import Step


@dataclass
class EpisodeResult:
    """A finished, graded trajectory and exactly what the model saw."""

    scenario: Scenario
    model_spec: str
    settings: SamplingSettings
    steps: list[Step]
    outcome: Outcome
    final_state: FinalState
    messages: list[Message]  # system, user, then assistant turns (MOSAIC text) and observations
    tools: list[dict[str, Any]]
    honeytokens: Honeytokens
    index: int = 0  # position in its group
    prefix_steps: int = 0  # steps replayed from `prefix_turns` before the model continued
    error: str | None = None  # one line, when the backend or sandbox failed
    started_at: float = field(default_factory=time.time)

    @property
    def ended_by(self) -> str:
        return self.outcome.ended_by


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_episode(
    backend: ModelBackend,
    scenario: Scenario,
    *,
    settings: SamplingSettings | None = None,
    listener: EpisodeListener | None = None,
    cancel: threading.Event | None = None,
    max_steps: int | None = None,
    prefix_turns: list[str] | None = None,
    **options: Any,
) -> EpisodeResult:
    """Run one episode; `options` are those of `run_group`."""
    results = run_group(
        backend,
        scenario,
        1,
        settings=settings,
        listener=listener,
        cancel=cancel,
        max_steps=max_steps,
        prefix_turns=prefix_turns,
        **options,
    )
    return results[0]


def run_group(
    backend: ModelBackend,
    scenario: Scenario,
    n: int,
    *,
    settings: SamplingSettings | None = None,
    listener: EpisodeListener | None = None,
    cancel: threading.Event | None = None,
    max_steps: int | None = None,
    prefix_turns: list[str] | None = None,
    token_budget: int | None = None,
    tokens: Honeytokens | None = None,
    batch: bool = True,
    sandbox_factory: SandboxFactory | None = None,
    tools: list[dict[str, Any]] | None = None,
    grade_fn: GradeFn | None = None,
) -> list[EpisodeResult]:
    """Run `n` episodes of `scenario`, batching their generation step by step.

    `tokens` reuses given honeytokens (a fork continues its parent's secrets) instead of fresh
    ones per episode; `batch=False` generates the episodes one after another (for comparison).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    settings = settings or SamplingSettings()
    events = listener or EpisodeListener()
    native = bool(getattr(backend, "native_tools", False))
    fill = bool(getattr(backend, "fill_placeholders", False))
    episodes: list[Episode] = []
    errors: list[str | None] = [None] * n
    started = time.time()
    try:
        for i in range(n):
            episode = Episode.start(
                scenario,
                tokens=tokens,
                sandbox_factory=sandbox_factory,
                max_steps=max_steps,
                token_budget=token_budget,
                native_tools=native,
                tools=tools,
                grade_fn=grade_fn,
            )
            episodes.append(episode)
            events.episode_started(i, episode)
        prefix_counts = [
            _replay(i, ep, prefix_turns or [], events) for i, ep in enumerate(episodes)
        ]
        ended_by = _drive(backend, episodes, settings, events, cancel, native, fill, batch, errors)
        results = []
        for i, episode in enumerate(episodes):
            outcome, final_state = episode.finish(ended_by if not episode.done else None)
            result = EpisodeResult(
                scenario=scenario,
                model_spec=backend.spec,
                settings=settings,
                steps=list(episode.steps),
                outcome=outcome,
                final_state=final_state,
                messages=list(episode.messages),
                tools=episode.tools,
                honeytokens=episode.tokens,
                index=i,
                prefix_steps=prefix_counts[i],
                error=errors[i] or episode.error,
                started_at=started,
            )
            results.append(result)
            events.episode_finished(i, result)
        return results
    finally:
        for episode in episodes:
            episode.close()


def _replay(index: int, episode: Episode, turns: list[str], events: EpisodeListener) -> int:
    for turn in turns:
        if episode.done:
            break
        events.step_started(index, episode.turns)
        text = episode.tokens.render(turn)
        events.token(index, text)
        for step in episode.advance(text, 0):
            events.step_finished(index, step)
    return len(episode.steps)


def _drive(
    backend: ModelBackend,
    episodes: list[Episode],
    settings: SamplingSettings,
    events: EpisodeListener,
    cancel: threading.Event | None,
    native: bool,
    fill: bool,
    batch: bool,
    errors: list[str | None],
) -> str | None:
    """Generate and advance until every episode is done; return how unfinished ones end."""
    while True:
        active = [i for i, ep in enumerate(episodes) if not ep.done]
        if not active:
            return None
        if cancel is not None and cancel.is_set():
            return "cancelled"
        groups = [active] if batch else [[i] for i in active]
        for group in groups:
            try:
                generations = _generate(backend, episodes, group, settings, events, cancel, native)
            except GenerationCancelled:
                return "cancelled"
            except Exception as exc:
                for i in active:
                    errors[i] = _one_line(exc)
                return "error"
            if any(gen.finish_reason == "cancelled" for _, gen, _ in generations):
                return "cancelled"  # a half-written turn is dropped, not parsed
            for i, gen, (t0, dt) in generations:
                episode = episodes[i]
                text = episode.tokens.render(gen.text) if fill else gen.text
                steps = episode.advance(
                    text, gen.tokens, gen.native_tool_calls, started_at=t0, duration_s=dt
                )
                for step in steps:
                    events.step_finished(i, step)


def _generate(
    backend: ModelBackend,
    episodes: list[Episode],
    group: list[int],
    settings: SamplingSettings,
    events: EpisodeListener,
    cancel: threading.Event | None,
    native: bool,
) -> list[tuple[int, Generation, tuple[float, float]]]:
    for i in group:
        events.step_started(i, episodes[i].turns)

    def on_token(row: int, delta: str) -> None:
        events.token(group[row], delta)

    if settings.seed is not None:
        # reproducible, yet each turn (and each episode generated on its own) samples afresh
        alone = group[0] if len(group) == 1 and len(episodes) > 1 else 0
        turn = episodes[group[0]].turns
        settings = settings.model_copy(update={"seed": settings.seed + 7919 * turn + alone})
    t0 = time.time()
    generations = backend.generate(
        [episodes[i].messages for i in group],
        settings,
        tools=episodes[group[0]].tools if native else None,
        on_token=on_token,
        cancel=cancel,
    )
    dt = time.time() - t0
    if len(generations) != len(group):
        raise RuntimeError(f"the backend returned {len(generations)} turns for {len(group)}")
    return [(i, gen, (t0, dt)) for i, gen in zip(group, generations, strict=True)]
