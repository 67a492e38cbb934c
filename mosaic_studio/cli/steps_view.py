"""Terminal rendering of steps and outcomes (rich): coloured badges, and a live run view.

Model output and tool output are hostile: `safe()` neutralises control characters (escape
sequences, bidi overrides) before anything reaches the terminal, and text is always passed as
`rich.text.Text`, never as markup.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from mosaic_studio.agent.loop import EpisodeResult
from mosaic_studio.runs import RunListener, RunResult
from mosaic_studio.store.recorder import TrajectoryRecorder
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.steps import Step

# C0/C1 controls except tab and newline, DEL, and the bidi / zero-width formatting characters.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

BADGES: dict[str, tuple[str, str]] = {
    "plan": ("PLAN", "bold white on blue"),
    "safety_check": ("CHECK", "bold black on yellow"),
    "tool_call": ("ACT", "bold black on cyan"),
    "observation": ("OBSERVATION", "bold white on grey37"),
    "refusal": ("REFUSE", "bold white on magenta"),
    "answer": ("ANSWER", "bold black on green"),
    "format_error": ("FORMAT ERROR", "bold white on red"),
}
STATUS_STYLES = {
    "finished": "green",
    "running": "cyan",
    "interrupted": "yellow",
    "cancelled": "yellow",
    "failed": "red",
}


def safe(text: str) -> str:
    """`text` with control and invisible formatting characters shown as `\\xNN` / `\\uNNNN`."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, text)


def clip(text: str, max_lines: int = 12, max_chars: int = 2000) -> str:
    """At most `max_lines` lines and `max_chars` characters, saying how much was cut."""
    cut = text[:max_chars]
    lines = cut.splitlines()
    shown = "\n".join(lines[:max_lines])
    hidden = len(text) - len(shown)
    return shown + (f"\n… ({hidden} more characters)" if hidden > 0 else "")


def badge(kind: str) -> Text:
    label, style = BADGES.get(kind, (kind.upper(), "bold"))
    return Text(f" {label} ", style=style)


def step_text(step: Step, *, full: bool = False) -> Text:
    """One step as a badge and its text (a tool call shows `name(args)`)."""
    line = badge(step.kind.value)
    line.append(" ")
    if step.kind == "tool_call":
        args = json.dumps(step.tool_args or {}, ensure_ascii=False)
        line.append(safe(step.tool_name or "?"), style="bold cyan")
        line.append(safe(f"({args if full else clip(args, 1, 200)})"), style="cyan")
        return line
    body = step.text if full else clip(step.text, 8 if step.kind == "observation" else 12)
    style = "dim" if step.kind == "observation" else ""
    if step.kind == "observation" and (step.is_error or (step.exit_code or 0) != 0):
        line.append(f"[exit {step.exit_code}] ", style="red")
    line.append(safe(body), style=style)
    return line


def format_error_context(step: Step, messages: list[object]) -> str:
    """What the model wrote in the turn of a format-error step (from the stored messages)."""
    turns = [
        str(m.get("content") or "")
        for m in messages
        if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    return turns[step.turn].strip() if 0 <= step.turn < len(turns) else ""


def outcome_text(outcome: Outcome | None, status: str, error: str | None = None) -> Text:
    """The graded outcome as coloured flags, e.g. `refused  no leak  task ✓`."""
    line = Text(status, style=STATUS_STYLES.get(status, "bold"))
    if outcome is None:
        if error:
            line.append(f"  {safe(error)}", style="red")
        return line
    flags: list[tuple[str, str]] = [(f"ended by {outcome.ended_by}", "")]
    if outcome.task_success is not None:
        flags.append(("task ✓" if outcome.task_success else "task ✗", _good(outcome.task_success)))
    if outcome.refused:
        flags.append(("refused", "magenta"))
    if outcome.over_refusal:
        flags.append(("over-refusal", "red"))
    if outcome.harmful_action:
        flags.append(("HARMFUL ACTION", "bold red"))
    if outcome.followed_injection:
        flags.append(("followed injection", "bold red"))
    for leak in outcome.leaked:
        flags.append((f"LEAKED {safe(leak.secret)} → {safe(leak.where)} ({leak.encoding})", "red"))
    if outcome.format_errors:
        flags.append((f"{outcome.format_errors} format errors", "yellow"))
    cost = f"{outcome.steps} steps, {outcome.tokens} tokens, {outcome.wall_time_s:.1f}s"
    flags.append((cost, ""))
    for label, style in flags:
        line.append("  ")
        line.append(label, style=style or "default")
    if error:
        line.append(f"  {safe(error)}", style="red")
    return line


def _good(ok: bool) -> str:
    return "green" if ok else "red"


class JsonLinesView(RunListener):
    """Prints each trajectory's summary as one JSON line when its scenario ends."""

    def scenario_finished(self, position: int, results: list[RunResult]) -> None:
        for result in results:
            sys.stdout.write(json.dumps(result.summary(), ensure_ascii=False) + "\n")
        sys.stdout.flush()


class LiveRunView(RunListener):
    """Prints each finished step with its badge; the turn being generated streams below it."""

    def __init__(self, console: Console, samples: int = 1) -> None:
        self.console = console
        self.samples = samples
        self._buffers: dict[int, str] = {}  # the turn being generated, per episode
        self._last_turn: dict[int, str] = {}  # the last generated turn, to show format errors
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._recorder: TrajectoryRecorder | None = None

    def _prefix(self, episode: int) -> str:
        return f"[{episode}] " if self.samples > 1 else ""

    def stage(self, text: str) -> None:
        self.console.print(Text(safe(text) + " …", style="dim"))

    def scenario_started(
        self, position: int, total: int, scenario: Scenario, recorder: TrajectoryRecorder
    ) -> None:
        self._recorder = recorder
        title = f"{position + 1}/{total}  {scenario.id}  ({scenario.category}, {scenario.split})"
        self.console.rule(Text(safe(title), style="bold"))
        self.console.print(Text(safe(clip(scenario.request, 4)), style="italic"))
        self._live = Live(
            Text(""), console=self.console, transient=True, refresh_per_second=8, auto_refresh=True
        )
        self._live.start()

    def episode_started(self, episode: int, state: Any = None) -> None:
        if self._recorder is not None:
            tid = self._recorder.trajectory_id(episode)
            self.console.print(Text(f"{self._prefix(episode)}trajectory {tid}", style="dim"))

    def step_started(self, episode: int, turn: int = 0) -> None:
        with self._lock:
            self._buffers[episode] = ""
        self._refresh()

    def token(self, episode: int, text: str) -> None:
        with self._lock:
            self._buffers[episode] = (self._buffers.get(episode, "") + text)[-4000:]
        self._refresh()

    def step_finished(self, episode: int, step: Step) -> None:
        with self._lock:
            if episode in self._buffers:  # the turn is generated; its steps follow
                self._last_turn[episode] = self._buffers.pop(episode)
            raw = self._last_turn.get(episode, "")
        line = Text(self._prefix(episode)) + step_text(step)
        if step.kind == "format_error" and raw.strip():
            line.append(f"\n  the model wrote: {safe(clip(raw.strip(), 4, 400))}", style="dim")
        self.console.print(line)
        self._refresh()

    def episode_finished(self, episode: int, result: EpisodeResult) -> None:
        with self._lock:
            self._buffers.pop(episode, None)
        status = "failed" if result.error else "finished"
        status = "cancelled" if result.ended_by == "cancelled" else status
        line = Text(f"{self._prefix(episode)}outcome: ", style="bold")
        self.console.print(line + outcome_text(result.outcome, status, result.error))

    def scenario_finished(self, position: int, results: list[RunResult]) -> None:
        self.stop()

    def stop(self) -> None:
        """End the live region (also on errors, so the terminal is left clean)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _refresh(self) -> None:
        live = self._live
        if live is None:
            return
        with self._lock:
            parts = []
            for episode, text in sorted(self._buffers.items()):
                tail = "\n".join(text.splitlines()[-3:])[-400:]
                parts.append(Text(self._prefix(episode) + "… ", style="dim") + Text(safe(tail)))
        live.update(Group(*parts))
