"""The transformers backend on the real embedded model: batching, streaming, KV reuse, LoRA."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from mosaic_studio.models.base import GenerationCancelled, SamplingSettings
from mosaic_studio.models.hf import HFBackend
from mosaic_studio.models.spec import load_backend

pytestmark = pytest.mark.model

GREEDY = SamplingSettings(temperature=0, max_new_tokens=8)
SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}


def chat(*turns: str) -> list[dict[str, Any]]:
    roles = ["user", "assistant"]
    return [SYSTEM] + [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


@pytest.fixture(scope="module")
def backend() -> HFBackend:
    loaded = load_backend("smollm2")
    assert isinstance(loaded, HFBackend) and not loaded.native_tools
    return loaded


def test_batch_equals_single_rows_and_streams_each_row(backend: HFBackend) -> None:
    plain = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=False)
    conversations = [chat("Name a fruit."), chat("What is two plus two? Explain your answer.")]
    deltas: dict[int, str] = {0: "", 1: ""}

    def on_token(row: int, delta: str) -> None:
        deltas[row] += delta

    batch = plain.generate(conversations, GREEDY, on_token=on_token)
    single = [plain.generate([c], GREEDY)[0] for c in conversations]
    assert [g.text for g in batch] == [g.text for g in single]
    assert [deltas[0], deltas[1]] == [g.text for g in batch]
    assert all(0 < g.tokens <= 8 and g.prompt_tokens > 10 for g in batch)


def test_kv_cache_reuse_gives_the_same_turns_as_full_encoding(backend: HFBackend) -> None:
    cached = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=True)
    plain = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=False)
    first = [chat("Name a fruit."), chat("Name a colour and a number.")]
    turns = cached.generate(first, GREEDY)
    grown = [
        [*c, {"role": "assistant", "content": g.text}, {"role": "user", "content": "And another?"}]
        for c, g in zip(first, turns, strict=True)
    ]
    again = cached.generate(grown, GREEDY)
    assert cached.prefix_cache.hits == 2
    assert cached.prefix_cache.reused_tokens >= sum(g.prompt_tokens for g in turns)
    assert [g.text for g in again] == [g.text for g in plain.generate(grown, GREEDY)]


def test_a_group_shares_its_first_prompt(backend: HFBackend) -> None:
    cached = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=True)
    plain = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=False)
    group = cached.generate([chat("Name a fruit.")] * 2, GREEDY)
    assert [g.text for g in group] == [plain.generate([chat("Name a fruit.")], GREEDY)[0].text] * 2
    assert len(cached.prefix_cache.entries) == 2  # each row keeps its own conversation


def test_cancel_during_generation(backend: HFBackend) -> None:
    cancel = threading.Event()
    with pytest.raises(GenerationCancelled):
        backend.generate(
            [chat("Tell me a long story.")],
            SamplingSettings(temperature=0, max_new_tokens=200),
            on_token=lambda row, delta: cancel.set(),
            cancel=cancel,
        )


def test_sampling_is_seeded(backend: HFBackend) -> None:
    settings = SamplingSettings(temperature=1.0, top_p=0.9, seed=7, max_new_tokens=10)
    plain = HFBackend(backend.model, backend.tokenizer, "smollm2", kv_reuse=False)
    first = plain.generate([chat("Say something.")], settings)[0].text
    assert plain.generate([chat("Say something.")], settings)[0].text == first


def test_lora_spec_loads_a_random_adapter(backend: HFBackend, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from mosaic_studio.models.embedded import cached_checkpoint

    base = AutoModelForCausalLM.from_pretrained(cached_checkpoint())
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], init_lora_weights=False)
    torch.manual_seed(0)
    get_peft_model(base, config).save_pretrained(str(tmp_path / "adapter"))
    spec = f"smollm2+lora:{tmp_path / 'adapter'}"
    adapted = load_backend(spec)
    try:
        assert adapted.spec == spec and load_backend(spec) is adapted
        assert isinstance(adapted, HFBackend)
        q_base = backend.model.model.layers[0].self_attn.q_proj.weight
        q_adapted = adapted.model.model.layers[0].self_attn.q_proj.weight
        assert not torch.equal(q_base, q_adapted)  # the adapter is merged in
        assert adapted.generate([chat("Hi")], SamplingSettings(temperature=0, max_new_tokens=4))
    finally:
        from mosaic_studio.models.spec import unload

        unload(spec)
