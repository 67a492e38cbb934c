"""Stored trajectories as judges and exports need them: chat messages and a compact text.

- `TrajectoryView`: a `Trajectory` row with its steps and graded `Outcome`
  (`load_view(session, trajectory_id)`).
- `training_messages(view)`: the chat messages the model saw (`Trajectory.messages`, MOSAIC
  text in assistant `content`, observations in the role the agent used), each assistant turn
  that called a tool also carrying `tool_calls` in the OpenAI shape (arguments as a JSON
  string) and each `tool`-role observation its `tool_call_id`.
- `split_at_turn(messages, k)`: prompt (everything before the (k+1)-th assistant turn) and
  completion (the rest).
- `compact_text(view)`: a short numbered rendering of the steps for a judge model, with tags
  that could speak for the judge neutralised.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from mosaic_studio.store.tables import StepRecord, Trajectory
from sandboxes.outcome import Outcome

Message = dict[str, Any]
ASSISTANT_KINDS = frozenset(
    {"plan", "safety_check", "tool_call", "refusal", "answer", "format_error"}
)
_LABEL = {
    "plan": "PLAN",
    "safety_check": "CHECK",
    "tool_call": "ACT",
    "observation": "OBSERVATION",
    "refusal": "REFUSE",
    "answer": "ANSWER",
    "format_error": "FORMAT ERROR",
}
# Any tag a judge prompt uses to frame its answer: trajectory text must not be able to close it.
_JUDGE_TAGS = re.compile(r"<\s*/?\s*(verdict|trajectory|rationale|reason)\b", re.IGNORECASE)


@dataclass
class TrajectoryView:
    """A stored trajectory, its steps in order, and its graded outcome (None when ungraded)."""

    trajectory: Trajectory
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.trajectory.id

    @property
    def outcome(self) -> Outcome | None:
        data = self.trajectory.outcome
        return Outcome.model_validate(data) if data else None


def load_view(session: Session, trajectory_id: str) -> TrajectoryView:
    """The trajectory `trajectory_id` with its steps; `KeyError` when it is not stored."""
    row = session.get(Trajectory, trajectory_id)
    if row is None:
        raise KeyError(trajectory_id)
    steps = session.exec(
        select(StepRecord)
        .where(StepRecord.trajectory_id == trajectory_id)
        .order_by(col(StepRecord.index))
    ).all()
    return TrajectoryView(row, list(steps))


def _turns(steps: list[StepRecord]) -> list[list[StepRecord]]:
    """The model's steps grouped by turn, in order (observations left out)."""
    groups: dict[int, list[StepRecord]] = {}
    for step in steps:
        if step.kind in ASSISTANT_KINDS:
            groups.setdefault(step.turn, []).append(step)
    return [groups[t] for t in sorted(groups)]


def _tool_call(step: StepRecord, turn: int, n: int) -> dict[str, Any]:
    return {
        "id": step.tool_call_id or f"call_{turn}_{n}",
        "type": "function",
        "function": {
            "name": step.tool_name or "",
            "arguments": json.dumps(step.tool_args or {}, ensure_ascii=False, sort_keys=True),
        },
    }


def training_messages(view: TrajectoryView) -> list[Message]:
    """The messages the model saw, with `tool_calls` on assistant turns that called a tool."""
    messages = [dict(m) for m in copy.deepcopy(view.trajectory.messages) if isinstance(m, dict)]
    turns = _turns(view.steps)
    pending: list[str] = []
    turn_no = 0
    for message in messages:
        role = message.get("role")
        if not isinstance(message.get("content"), str):
            message["content"] = "" if message.get("content") is None else str(message["content"])
        if role == "assistant":
            steps = turns[turn_no] if turn_no < len(turns) else []
            calls = [
                _tool_call(s, turn_no, n)
                for n, s in enumerate(x for x in steps if x.kind == "tool_call")
            ]
            if calls and not message.get("tool_calls"):
                message["tool_calls"] = calls
            pending = [c["id"] for c in message.get("tool_calls") or [] if isinstance(c, dict)]
            turn_no += 1
        elif role == "tool":
            if pending and not message.get("tool_call_id"):
                message["tool_call_id"] = pending[0]
            pending = pending[1:]
    return messages


def assistant_indices(messages: list[Message]) -> list[int]:
    """Positions of the assistant messages."""
    return [i for i, m in enumerate(messages) if m.get("role") == "assistant"]


def split_at_turn(messages: list[Message], k: int) -> tuple[list[Message], list[Message]]:
    """(prompt, completion): the completion starts at the (k+1)-th assistant message.

    When there are k assistant messages or fewer, the completion is empty.
    """
    positions = assistant_indices(messages)
    if k < len(positions):
        cut = positions[k]
        return messages[:cut], messages[cut:]
    return messages, []


def neutralise(text: str) -> str:
    """Make judge-framing tags inert inside trajectory text (hostile model output)."""
    return _JUDGE_TAGS.sub(lambda m: m.group(0).replace("<", "‹"), text)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compact_text(view: TrajectoryView, *, step_chars: int = 240, max_chars: int = 2400) -> str:
    """Numbered steps, one line each (`3. ACT send_email {...}`), cut to `max_chars`."""
    lines: list[str] = []
    for n, step in enumerate(view.steps, 1):
        label = _LABEL.get(step.kind, step.kind.upper())
        if step.kind == "tool_call":
            args = json.dumps(step.tool_args or {}, ensure_ascii=False, sort_keys=True)
            body = f"{step.tool_name} {args}"
        else:
            body = step.text
        lines.append(f"{n}. {label}: {_clip(neutralise(body), step_chars)}")
    if sum(len(line) + 1 for line in lines) <= max_chars:
        return "\n".join(lines) or "(no steps)"
    # Too long: keep the opening and the end (where the terminal action is), cut the middle.
    head: list[str] = []
    tail: list[str] = []
    budget = max_chars - 40
    for line in reversed(lines):
        if sum(len(t) + 1 for t in tail) + len(line) + 1 > budget // 2:
            break
        tail.insert(0, line)
    for line in lines[: len(lines) - len(tail)]:
        if sum(len(t) + 1 for t in head + tail) + len(line) + 1 > budget:
            break
        head.append(line)
    cut = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"[… {cut} steps cut]", *tail])
