"""Exported pairs train on what the agent saw: SmolLM2's rendering and a real DPOTrainer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from mosaic_studio.judges.export import export_preferences
from mosaic_studio.store.tables import Pair, StepRecord
from tests.judges.conftest import REFUSE

pytestmark = pytest.mark.model


@pytest.fixture
def checkpoint(monkeypatch: pytest.MonkeyPatch) -> str:
    """The de-quantised embedded model in the shared cache (not the test's MOSAIC_HOME)."""
    from mosaic_studio.models.spec import base_checkpoint

    with monkeypatch.context() as env:
        env.delenv("MOSAIC_HOME", raising=False)
        return base_checkpoint("smollm2")


def _refusals(session: Session, pair_id: int) -> list[str]:
    pair = session.get(Pair, pair_id)
    assert pair is not None
    ids = [pair.trajectory_a_id, pair.trajectory_b_id]
    query = select(StepRecord).where(
        StepRecord.trajectory_id.in_(ids),  # type: ignore[attr-defined]
        StepRecord.kind == "refusal",
    )
    return [s.text for s in session.exec(query).all()]


def test_rendered_training_text_holds_every_call_and_refusal(
    session: Session, labelled: dict[str, Pair], tmp_path: Path, checkpoint: str
) -> None:
    from transformers import AutoTokenizer

    out = tmp_path / "prefs.jsonl"
    export_preferences(session, out, source="judge")
    data = [json.loads(line) for line in out.read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    assert len(data) == 2
    for row in data:
        tools = row["tools"]
        sides: dict[str, str] = {}
        for side in ("chosen", "rejected"):
            messages = row["prompt"] + row[side]
            text = str(tokenizer.apply_chat_template(messages, tools=tools, tokenize=False))
            sides[side] = text
            for message in messages:
                for call in message.get("tool_calls") or []:
                    fn = call["function"]
                    assert f'"name": "{fn["name"]}"' in text
                    for value in json.loads(fn["arguments"]).values():
                        assert json.dumps(value) in text
        both = sides["chosen"] + sides["rejected"]
        for refusal in _refusals(session, row["pair_id"]):
            assert f"<refuse>{refusal}</refuse>" in both
    fork = next(r for r in data if r["pair_id"] == labelled["fork"].id)
    assert fork["chosen"][0]["content"] == REFUSE


def test_dpo_trainer_accepts_the_export(
    session: Session, labelled: dict[str, Pair], tmp_path: Path, checkpoint: str
) -> None:
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    started = time.monotonic()
    out = tmp_path / "prefs.parquet"
    export_preferences(session, out, source="judge")
    data = load_dataset("parquet", data_files=str(out), split="train")
    args = DPOConfig(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=2,
        max_steps=1,
        max_length=512,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(checkpoint),
        args=args,
        train_dataset=data,
        processing_class=AutoTokenizer.from_pretrained(checkpoint),
        peft_config=LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"),
    )
    # Constructed only: a training step is the training area's test (it takes minutes here).
    rows: list[dict[str, Any]] = list(trainer.train_dataset)  # type: ignore[arg-type]
    assert len(rows) == 2
    tokenizer = trainer.processing_class
    fork = next(r for r in rows if r["pair_id"] == labelled["fork"].id)
    assert REFUSE in tokenizer.decode(fork["chosen_ids"])  # type: ignore[union-attr]
    assert "send_email" in tokenizer.decode(fork["rejected_ids"])  # type: ignore[union-attr]
    assert "read_file" in tokenizer.decode(fork["prompt_ids"])  # type: ignore[union-attr]
    assert time.monotonic() - started < 120
