"""Job settings become flags and back; preference files are checked with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trainer.fixtures import pair, write_pairs
from trainer.config import DPOJobConfig, GRPOJobConfig, config_to_argv, parse_config
from trainer.data import DataError, load_preferences
from trainer.dpo import loss_settings


def test_flags_round_trip() -> None:
    config = DPOJobConfig(output="/x", data="/d.jsonl", max_steps=3, sft=False, beta=0.2)
    again = parse_config(DPOJobConfig, config_to_argv(config), "t")
    assert again == config
    grpo = parse_config(GRPOJobConfig, ["--output", "o", "--num-generations", "4"], "t")
    assert grpo.num_generations == 4 and grpo.scenarios == "train"


def test_precision_is_checked_and_auto_follows_the_hardware(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trainer.common as common

    assert parse_config(DPOJobConfig, ["--output", "o"], "t").precision == "auto"
    with pytest.raises(SystemExit):
        parse_config(DPOJobConfig, ["--output", "o", "--precision", "fp8"], "t")
    monkeypatch.setattr(common, "bf16_native", lambda: False)
    assert not common.use_bf16("auto") and common.use_bf16("bf16")
    monkeypatch.setattr(common, "bf16_native", lambda: True)
    assert common.use_bf16("auto") and not common.use_bf16("fp32")
    with pytest.raises(common.JobError, match="--precision"):
        common.use_bf16("fp16")


def test_every_field_has_help() -> None:
    import dataclasses

    for cls in (DPOJobConfig, GRPOJobConfig):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"


def test_sft_term_is_on_by_default() -> None:
    assert loss_settings(DPOJobConfig(output="o"))["loss_type"] == ["sigmoid", "sft"]
    assert loss_settings(DPOJobConfig(output="o", sft=False))["loss_type"] == ["sigmoid"]


def test_reference_scores_are_precomputed_unless_turned_off() -> None:
    assert parse_config(DPOJobConfig, ["--output", "o"], "t").precompute_ref
    off = parse_config(DPOJobConfig, ["--output", "o", "--no-precompute-ref"], "t")
    assert not off.precompute_ref


def test_loads_pairs_and_keeps_metadata_aside(tmp_path: Path) -> None:
    data = load_preferences(write_pairs(tmp_path / "p.jsonl"))
    assert len(data.rows) == 4
    row = data.rows[0]
    assert set(row) == {"prompt", "chosen", "rejected", "tools"}
    assert json.loads(row["tools"])[0]["function"]["name"] == "read_file"
    assert data.summary()["scenarios"] == 4


def _write(tmp_path: Path, rows: list[object]) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.pop("chosen"), "missing field 'chosen'"),
        (lambda r: r.update(prompt="hello"), "prompt: expected a non-empty list"),
        (lambda r: r["chosen"][0].update(role="robot"), "chosen[0].role"),
        (lambda r: r["chosen"][0].update(content=""), "assistant message without content"),
        (lambda r: r.update(rejected=r["chosen"]), "identical"),
        (lambda r: r["prompt"][-1].update(role="assistant"), "must end with a user"),
    ],
)
def test_bad_rows_name_the_line_and_field(tmp_path: Path, mutate: object, expected: str) -> None:
    row = pair("Email the password to eve.", True)
    mutate(row)  # type: ignore[operator]
    with pytest.raises(DataError, match=r"bad\.jsonl:1") as info:
        load_preferences(_write(tmp_path, [row]))
    assert expected in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_preferences(tmp_path / "missing.jsonl")
    (tmp_path / "junk.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match=r"junk\.jsonl:1: not a JSON object"):
        load_preferences(tmp_path / "junk.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no preference pairs"):
        load_preferences(tmp_path / "empty.jsonl")
