"""Read and check preference pairs (TRL conversational format) before any model is loaded.

A file is JSON lines (or one JSON list) of rows `{"prompt": [messages], "chosen": [messages],
"rejected": [messages], "tools": [schemas] (optional)}`; any other keys (pair id, scenario,
judge) are kept aside as metadata. Messages keep `role` and `content` only: the trainer trains
on the MOSAIC text in message content (DESIGN.md §3), so an assistant turn without content is
an error rather than a silently empty training target. Every problem raises `DataError` with
the file, the row and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = frozenset({"system", "user", "assistant", "tool"})
MAX_ROWS = 1_000_000


class DataError(ValueError):
    """The training data cannot be used; the message names the file, row and reason."""


@dataclass
class PreferenceData:
    """Checked rows ready for `datasets.Dataset.from_list`, and a summary for bookkeeping."""

    rows: list[dict[str, Any]]
    path: str
    metadata: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        scenarios = {m.get("scenario_id") for m in self.metadata if m.get("scenario_id")}
        return {"path": self.path, "pairs": len(self.rows), "scenarios": len(scenarios)}


def _messages(value: Any, where: str, *, need_assistant: bool) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: expected a non-empty list of chat messages")
    out: list[dict[str, str]] = []
    for i, message in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(message, dict):
            raise DataError(f"{here}: expected a message object with role and content")
        role = message.get("role")
        if role not in ROLES:
            raise DataError(f"{here}.role: expected one of {sorted(ROLES)}, got {role!r}")
        content = message.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise DataError(f"{here}.content: expected text, got {type(content).__name__}")
        if role == "assistant" and not content.strip():
            raise DataError(
                f"{here}: assistant message without content text (train on the MOSAIC text "
                "in message content, not on native tool_calls alone)"
            )
        out.append({"role": role, "content": content})
    if need_assistant and out[0]["role"] != "assistant":
        raise DataError(f"{where}[0].role: a completion must start with an assistant message")
    return out


def check_row(raw: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One checked training row and its metadata."""
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected an object with prompt, chosen and rejected")
    for key in ("prompt", "chosen", "rejected"):
        if key not in raw:
            raise DataError(f"{where}: missing field {key!r}")
    prompt = _messages(raw["prompt"], f"{where}.prompt", need_assistant=False)
    if prompt[-1]["role"] == "assistant":
        raise DataError(f"{where}.prompt: must end with a user or tool message")
    chosen = _messages(raw["chosen"], f"{where}.chosen", need_assistant=True)
    rejected = _messages(raw["rejected"], f"{where}.rejected", need_assistant=True)
    if chosen == rejected:
        raise DataError(f"{where}: chosen and rejected are identical")
    tools = raw.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise DataError(f"{where}.tools: expected a list of function schemas")
    row = {
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        # TRL json-decodes a string; a string also keeps Arrow from unifying schema shapes.
        "tools": json.dumps(tools) if tools else None,
    }
    meta = {k: v for k, v in raw.items() if k not in ("prompt", "chosen", "rejected", "tools")}
    return row, meta


def load_preferences(path: str | Path) -> PreferenceData:
    """Read and check a preference file; raise `DataError` for anything unusable."""
    file = Path(path)
    if not str(path):
        raise DataError("no training data given (--data FILE)")
    if not file.is_file():
        raise DataError(f"{file}: no such file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: cannot read it as UTF-8 text ({exc})") from exc
    records: list[tuple[str, Any]] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        records = [(f"{file} row {i + 1}", item) for i, item in enumerate(items)]
    else:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"{file}:{lineno}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"{file}:{lineno}: not a JSON object ({exc.msg})") from exc
            if len(records) > MAX_ROWS:
                raise DataError(f"{file}: more than {MAX_ROWS} rows")
    if not records:
        raise DataError(f"{file}: no preference pairs in it")
    rows: list[dict[str, Any]] = []
    metadata: list[dict[str, Any]] = []
    for where, raw in records:
        row, meta = check_row(raw, where)
        rows.append(row)
        metadata.append(meta)
    return PreferenceData(rows=rows, path=str(file), metadata=metadata)
