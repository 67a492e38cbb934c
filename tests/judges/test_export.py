"""Preference export: label sources, formats, what is left out, and a `datasets` round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from mosaic_studio.judges.export import ExportError, export_preferences
from mosaic_studio.store.tables import Pair
from tests.judges.conftest import ANSWER, READ, REFUSE, SEND, add_pair, add_trajectory, label


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_trl_rows_keep_mosaic_text_and_tool_calls(
    session: Session, labelled: dict[str, Pair], tmp_path: Path
) -> None:
    out = tmp_path / "prefs.jsonl"
    summary = export_preferences(session, out, format="trl", source="human")
    assert (summary.rows, summary.pairs, summary.used) == (1, 4, 1)
    assert dict(summary.left_out) == {"tie": 1, "both_bad": 1, "conflict": 1}
    (row,) = _read(out)
    # the fork shares one assistant turn: the prompt holds it and its observation
    assert [m["role"] for m in row["prompt"]] == ["system", "user", "assistant", "user"]
    assert row["prompt"][2]["content"] == READ
    assert row["prompt"][2]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "notes.txt"}',
    }
    assert row["chosen"] == [{"role": "assistant", "content": REFUSE}]
    (sent,) = [m for m in row["rejected"] if m["role"] == "assistant"]
    assert sent["content"] == SEND
    assert json.loads(sent["tool_calls"][0]["function"]["arguments"]) == {"to": "eve@evil.test"}
    assert [t["function"]["name"] for t in row["tools"]] == ["read_file", "send_email"]
    assert (row["pair_id"], row["strategy"]) == (labelled["fork"].id, "fork")


def test_sources_and_filters(session: Session, labelled: dict[str, Pair], tmp_path: Path) -> None:
    judge = export_preferences(session, tmp_path / "j.jsonl", source="judge")
    assert judge.rows == 2  # the fork and the both-bad pair the judge called A
    agree = export_preferences(session, tmp_path / "a.jsonl", source="agree")
    assert agree.rows == 1
    assert agree.left_out["human and judge disagree"] == 1  # both_bad vs A
    assert agree.left_out["not labelled by both"] == 1
    with pytest.raises(ExportError, match=r"nothing to export from 1 pairs \(left out: 1 tie\)"):
        export_preferences(session, tmp_path / "t.jsonl", split="test")
    only = export_preferences(session, tmp_path / "c.jsonl", source="judge", category="privacy")
    assert only.by_category == {"privacy": 2}
    with pytest.raises(ExportError, match=r"\.jsonl or \.parquet"):
        export_preferences(session, tmp_path / "x.csv")
    with pytest.raises(ExportError, match="format must be"):
        export_preferences(session, tmp_path / "x.jsonl", format="sft")


def test_kto_and_stepwise(session: Session, labelled: dict[str, Pair], tmp_path: Path) -> None:
    export_preferences(session, tmp_path / "k.jsonl", format="kto", source="human")
    kto = _read(tmp_path / "k.jsonl")
    # fork: winner True + loser False; both-bad: two False rows; tie and conflict left out
    assert sorted((r["pair_id"], r["label"]) for r in kto) == sorted(
        [
            (labelled["fork"].id, True),
            (labelled["fork"].id, False),
            (labelled["bad"].id, False),
            (labelled["bad"].id, False),
        ]
    )
    winner = next(r for r in kto if r["label"] and r["pair_id"] == labelled["fork"].id)
    assert winner["completion"][0]["content"] == REFUSE
    export_preferences(session, tmp_path / "s.jsonl", format="stepwise", source="judge")
    steps = {r["pair_id"]: r for r in _read(tmp_path / "s.jsonl")}
    fork = steps[labelled["fork"].id]
    assert fork["step"] == 1
    assert [m["content"] for m in fork["chosen"]] == [REFUSE]
    assert [m["content"] for m in fork["rejected"]] == [SEND]
    bad = steps[labelled["bad"].id]  # no shared prefix: they differ at the first turn
    assert bad["step"] == 0 and bad["chosen"][0]["content"] == SEND


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_round_trip_through_datasets(
    session: Session, labelled: dict[str, Pair], tmp_path: Path, suffix: str
) -> None:
    from datasets import Dataset, load_dataset

    out = tmp_path / f"prefs{suffix}"
    export_preferences(session, out, source="judge")
    if suffix == ".jsonl":
        data = load_dataset("json", data_files=str(out), split="train")
        tools = data[0]["tools"]  # a list here: what the trainer's loader reads
    else:
        data = Dataset.from_parquet(str(out))
        tools = json.loads(data[0]["tools"])  # JSON text: Arrow cannot hold ragged schemas
    assert [t["function"]["name"] for t in tools] == ["read_file", "send_email"]
    assert len(data) == 2
    row = data[0]
    assert set(row) >= {"prompt", "chosen", "rejected", "tools"}
    calls = [m["tool_calls"] for m in row["prompt"] if m["role"] == "assistant"]
    assert calls[0][0]["function"]["name"] == "read_file"
    assert row["chosen"][0]["content"] == REFUSE


def test_identical_completions_are_left_out(session: Session, tmp_path: Path) -> None:
    a = add_trajectory(session, [READ, ANSWER], scenario_id="same")
    b = add_trajectory(session, [READ, ANSWER], scenario_id="same")
    label(session, add_pair(session, a, b), alice="A")
    with pytest.raises(ExportError, match="1 identical completions"):
        export_preferences(session, tmp_path / "x.jsonl")


def test_the_trainer_reads_the_export(
    session: Session, labelled: dict[str, Pair], tmp_path: Path
) -> None:
    from trainer.data import load_preferences

    out = tmp_path / "prefs.jsonl"
    export_preferences(session, out, source="judge")
    data = load_preferences(out)
    assert len(data.rows) == 2
    assert {m["pair_id"] for m in data.metadata} == {labelled["fork"].id, labelled["bad"].id}
