"""How steps and outcomes look everywhere in the app: badges, colours, one-line summaries.

Model output and scenario text are hostile: everything here builds `rich.text.Text` from plain
strings, never markup, so a model cannot inject styles or links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from sandboxes.outcome import Outcome
from sandboxes.steps import Step, StepKind

BADGES: dict[str, tuple[str, str]] = {
    StepKind.PLAN: ("PLAN", "bold white on #1f4e8c"),
    StepKind.SAFETY_CHECK: ("CHECK", "bold black on #d9a400"),
    StepKind.TOOL_CALL: ("ACT", "bold white on #7a3d99"),
    StepKind.OBSERVATION: ("OBSERVATION", "bold black on #7f8c8d"),
    StepKind.REFUSAL: ("REFUSE", "bold white on #c0392b"),
    StepKind.ANSWER: ("ANSWER", "bold white on #1e8449"),
    StepKind.FORMAT_ERROR: ("FORMAT ERROR", "bold yellow on #5b0f0f"),
}
"""Badge text and style per step kind."""

BODY_STYLES: dict[str, str] = {
    StepKind.PLAN: "#9cc3ff",
    StepKind.SAFETY_CHECK: "#f2d16b",
    StepKind.TOOL_CALL: "#d7a6f0",
    StepKind.OBSERVATION: "#b8c0c2",
    StepKind.REFUSAL: "#ff8a80",
    StepKind.ANSWER: "#8be3a5",
    StepKind.FORMAT_ERROR: "#ffcc80",
}

MAX_ARGS_CHARS = 160


def badge(kind: str) -> Text:
    """The coloured badge of a step kind (unknown kinds get a neutral badge)."""
    label, style = BADGES.get(kind, (kind.upper() or "?", "reverse"))
    out = Text()
    out.append(f" {label} ", style=style)
    return out


def tool_call_text(name: str | None, args: Mapping[str, Any] | None, limit: int = 0) -> str:
    """`tool(arg=value, ...)` with JSON values, cut at `limit` characters when given."""
    parts = []
    for key, value in (args or {}).items():
        try:
            shown = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            shown = repr(value)
        parts.append(f"{key}={shown}")
    text = f"{name or '?'}({', '.join(parts)})"
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def step_text(step: Step, *, max_chars: int = 0) -> Text:
    """A step as one block: badge, then the tool call or text in the kind's colour."""
    out = badge(step.kind)
    out.append(" ")
    style = BODY_STYLES.get(step.kind, "")
    if step.kind == StepKind.TOOL_CALL:
        out.append(tool_call_text(step.tool_name, step.tool_args, MAX_ARGS_CHARS), style=style)
        return out
    body = step.text
    if max_chars and len(body) > max_chars:
        body = body[: max_chars - 1] + "…"
    if step.kind == StepKind.OBSERVATION:
        flags = []
        if step.exit_code not in (None, 0):
            flags.append(f"exit {step.exit_code}")
        if step.is_error:
            flags.append("error")
        if step.truncated:
            flags.append("truncated")
        if flags:
            out.append(f"[{', '.join(flags)}] ", style="bold red")
    out.append(body, style=style)
    return out


def outcome_text(outcome: Outcome) -> Text:
    """One line: the verdicts that matter first, then leaks with which secret went where."""
    out = Text()

    def tag(label: str, style: str) -> None:
        if out:
            out.append("  ")
        out.append(f" {label} ", style=style)

    if outcome.harmful_action:
        tag("HARM", "bold white on #c0392b")
    if outcome.leaked:
        tag("LEAK", "bold white on #c0392b")
    if outcome.followed_injection:
        tag("FOLLOWED INJECTION", "bold white on #a04000")
    if outcome.over_refusal:
        tag("OVER-REFUSAL", "bold black on #d9a400")
    elif outcome.refused:
        tag("REFUSED", "bold white on #1f4e8c")
    if outcome.task_success is True:
        tag("TASK SUCCESS", "bold white on #1e8449")
    elif outcome.task_success is False:
        tag("TASK FAILED", "bold black on #7f8c8d")
    if outcome.format_errors:
        tag(f"{outcome.format_errors} FORMAT ERR", "bold yellow on #5b0f0f")
    out.append(
        f"  ended by {outcome.ended_by} · {outcome.steps} steps · {outcome.tokens} tok · "
        f"{outcome.wall_time_s:.1f} s",
        style="dim",
    )
    for leak in outcome.leaked:
        out.append(f"\n  leaked {leak.secret} → {leak.where}", style="#ff8a80")
        if leak.encoding != "plain":
            out.append(f" ({leak.encoding})", style="#ff8a80")
    return out


def outcome_label(outcome: Mapping[str, Any] | None, status: str = "finished") -> str:
    """A short word for a stored outcome, for table cells and filters."""
    if status != "finished":
        return status
    if not outcome:
        return "?"
    if outcome.get("harmful_action"):
        return "harm"
    if outcome.get("leaked"):
        return "leak"
    if outcome.get("followed_injection"):
        return "injected"
    if outcome.get("over_refusal"):
        return "over-refusal"
    if outcome.get("refused"):
        return "refused"
    if outcome.get("task_success"):
        return "success"
    return "failed"


OUTCOME_LABELS = ("harm", "leak", "injected", "over-refusal", "refused", "success", "failed")


def short_spec(spec: str) -> str:
    """A model spec for narrow headers: file and folder paths cut to their last part."""
    base, sep, adapter = spec.partition("+lora:")
    if base.startswith("scripted:"):
        base = "scripted:" + base.removeprefix("scripted:").rstrip("/").rsplit("/", 1)[-1]
    if sep:
        return f"{base}+lora:…/{adapter.rstrip('/').rsplit('/', 1)[-1]}"
    return base
