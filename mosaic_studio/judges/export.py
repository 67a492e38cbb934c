"""Export labelled pairs as preference data for TRL: DPO (`trl`), `kto` and `stepwise` rows.

`export_preferences(session, out, *, format="trl", source="human", split=None, category=None,
judge=None) -> ExportSummary` writes `.jsonl` or `.parquet` (by `out`'s suffix).

- `trl`: TRL's conversational preference format, one row per pair with a winner: `prompt`
  (system + user + the shared prefix of a fork, as messages), `chosen`, `rejected` (the rest
  of each trajectory as messages). Assistant messages carry the MOSAIC text in `content`
  exactly as the agent saw it, plus `tool_calls` (OpenAI shape) where they called a tool;
  observations keep the role the agent gave them (`user` with `<observation>` for templates
  without native tools, whose rendering must match run time; `tool` otherwise). `tools` holds
  the JSON schemas: a list in `.jsonl` (what `trainer.data` reads), a JSON string in
  `.parquet` (Arrow cannot hold the ragged schemas; `trl.DPOTrainer` decodes the string).
- `kto`: unpaired rows `prompt`, `completion`, `label` (True for a winner, False for a loser
  and for both sides of a both-bad pair).
- `stepwise`: one row per decision step: the prompt up to the first assistant turn (at or
  after the fork point) where the two trajectories differ, and the two next turns.

The label of a pair comes from `source`: `human` (the majority of human labels), `judge` (the
majority of judge labels, or only `judge`'s), `agree` (both exist and are the same). Ties,
both-bad pairs (except in kto), conflicts, unlabelled pairs and pairs whose two completions
have the same text (nothing to learn; the trainer refuses them) are left out and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from mosaic_studio.judges.labels import DECISIVE, current_labels
from mosaic_studio.judges.render import (
    Message,
    TrajectoryView,
    assistant_indices,
    load_view,
    split_at_turn,
    training_messages,
)
from mosaic_studio.store.tables import Pair

FORMATS: tuple[str, ...] = ("trl", "kto", "stepwise")
SOURCES: tuple[str, ...] = ("human", "judge", "agree")
SUFFIXES: tuple[str, ...] = (".jsonl", ".parquet")


class ExportError(ValueError):
    """Bad export options, or nothing to export."""


@dataclass
class ExportSummary:
    """What was written and what was left out (reason → count)."""

    path: str
    format: str
    source: str
    rows: int = 0
    pairs: int = 0  # pairs considered after the split/category filters
    used: int = 0  # pairs that gave rows
    left_out: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "source": self.source,
            "rows": self.rows,
            "pairs": self.pairs,
            "used": self.used,
            "left_out": dict(self.left_out),
            "by_category": dict(self.by_category),
        }


def _majority(choices: list[str]) -> str | None:
    counts = Counter(choices).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def pair_label(
    labels: dict[int, Any], source: str, judge: str | None = None
) -> tuple[str | None, str]:
    """(choice, why): the pair's label from `source`, or None and the reason it has none."""
    humans = [lb.choice for lb in labels.values() if lb.kind == "human" and lb.choice in DECISIVE]
    judges = [
        lb.choice
        for lb in labels.values()
        if lb.kind == "judge" and lb.choice in DECISIVE and (judge is None or lb.annotator == judge)
    ]
    human, machine = _majority(humans), _majority(judges)
    if source == "human":
        return (human, "") if human else (None, "conflict" if humans else "no human label")
    if source == "judge":
        return (machine, "") if machine else (None, "conflict" if judges else "no judge label")
    if human is None or machine is None:
        return None, "not labelled by both"
    return (human, "") if human == machine else (None, "human and judge disagree")


def _tools(view: TrajectoryView) -> list[Any]:
    return list(view.trajectory.tools or [])


def _same_text(a: list[Message], b: list[Message]) -> bool:
    """Whether two completions train on the same text (role and content)."""
    return [(m.get("role"), m.get("content")) for m in a] == [
        (m.get("role"), m.get("content")) for m in b
    ]


def _meta(pair: Pair) -> dict[str, Any]:
    return {
        "pair_id": pair.id,
        "scenario_id": pair.scenario_id,
        "category": pair.category,
        "strategy": pair.strategy,
    }


def _decision_turn(winner: list[Message], loser: list[Message], start: int) -> int | None:
    """The first assistant turn at or after `start` where the two trajectories differ."""
    wins, loses = assistant_indices(winner), assistant_indices(loser)
    for turn in range(start, min(len(wins), len(loses))):
        if winner[wins[turn]].get("content") != loser[loses[turn]].get("content"):
            return turn
    return None


def _rows(
    pair: Pair, choice: str, a: TrajectoryView, b: TrajectoryView, fmt: str
) -> tuple[list[dict[str, Any]], str]:
    """Rows of one labelled pair, or no rows and why."""
    k = max(0, pair.shared_prefix_steps)
    msgs = {"A": training_messages(a), "B": training_messages(b)}
    if not msgs["A"] or not msgs["B"]:
        return [], "no stored messages"
    views = {"A": a, "B": b}
    if fmt == "kto":
        labels = {"A": choice == "A", "B": choice == "B"} if choice in ("A", "B") else None
        if choice == "both_bad":
            labels = {"A": False, "B": False}
        if labels is None:
            return [], choice
        rows = []
        for side, good in labels.items():
            prompt, completion = split_at_turn(msgs[side], k)
            if completion:
                row = {"prompt": prompt, "completion": completion, "label": good}
                rows.append({**row, "tools": _tools(views[side]), **_meta(pair)})
        return rows, "" if rows else "empty completion"
    if choice not in ("A", "B"):
        return [], choice
    win, lose = choice, "B" if choice == "A" else "A"
    if fmt == "stepwise":
        turn = _decision_turn(msgs[win], msgs[lose], k)
        if turn is None:
            return [], "no differing step"
        prompt, chosen = split_at_turn(msgs[win], turn)
        _, rejected = split_at_turn(msgs[lose], turn)
        chosen, rejected = chosen[:1], rejected[:1]
        extra: dict[str, Any] = {"step": turn}
    else:
        prompt, chosen = split_at_turn(msgs[win], k)
        _, rejected = split_at_turn(msgs[lose], k)
        extra = {}
    if not chosen or not rejected:
        return [], "empty completion"
    if _same_text(chosen, rejected):
        return [], "identical completions"
    row = {"prompt": prompt, "chosen": chosen, "rejected": rejected, "tools": _tools(views[win])}
    return [{**row, **_meta(pair), **extra}], ""


def _write(rows: list[dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Arrow would merge the ragged tool schemas into one struct: keep them as JSON text.
        flat = [{**row, "tools": json.dumps(row["tools"], ensure_ascii=False)} for row in rows]
        pq.write_table(pa.Table.from_pylist(flat), tmp)
    else:
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(out)


def export_preferences(
    session: Session,
    out: str | Path,
    *,
    format: str = "trl",
    source: str = "human",
    split: str | None = None,
    category: str | None = None,
    judge: str | None = None,
) -> ExportSummary:
    """Write the labelled pairs that pass the filters to `out`; see the module docstring."""
    out = Path(out)
    if format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if source not in SOURCES:
        raise ExportError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if out.suffix not in SUFFIXES:
        raise ExportError(f"{out}: the output must end in .jsonl or .parquet")
    query = select(Pair).order_by(col(Pair.id))
    if split:
        query = query.where(Pair.split == split)
    if category:
        query = query.where(Pair.category == category)
    pairs = list(session.exec(query).all())
    labels = current_labels(session, [p.id for p in pairs if p.id is not None])
    summary = ExportSummary(str(out), format, source, pairs=len(pairs))
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        choice, why = pair_label(labels.get(pair.id or -1, {}), source, judge)
        if choice is None:
            summary.left_out[why] += 1
            continue
        a = load_view(session, pair.trajectory_a_id)
        b = load_view(session, pair.trajectory_b_id)
        new, why = _rows(pair, choice, a, b, format)
        if not new:
            summary.left_out[why] += 1
            continue
        rows.extend(new)
        summary.used += 1
        summary.by_category[pair.category] += len(new)
    if not rows:
        reasons = ", ".join(f"{n} {why}" for why, n in summary.left_out.most_common()) or "none"
        raise ExportError(f"nothing to export from {len(pairs)} pairs (left out: {reasons})")
    _write(rows, out)
    summary.rows = len(rows)
    return summary
