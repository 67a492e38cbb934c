"""A transformers backend (`hf:PATH`, the embedded `smollm2`, `SPEC+lora:DIR`).

Batched, streamed generation of assistant turns: conversations are rendered with the model's
chat template, left-padded into one `model.generate` call, streamed per row, and each row
stops at the end of its action (`</tool_call>`, `</refuse>`, `</answer>`) or end-of-turn.
Each conversation's key/value cache is kept (`kv_cache.PrefixCache`) so the next turn only
encodes the new tokens. Where the chat template renders `tools` (detected with a probe tool),
`native_tools` is True and the schemas are passed to the template; such templates emit
Hermes-style `<tool_call>{...}</tool_call>`, which `sandboxes.agent_format` parses as is.
torch and transformers are imported inside functions only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from mosaic_studio.models.base import (
    Generation,
    GenerationCancelled,
    Message,
    SamplingSettings,
    TokenCallback,
)
from mosaic_studio.models.kv_cache import (
    MIN_REUSE,
    CacheEntry,
    PrefixCache,
    build_batch_cache,
    extract_row,
)
from mosaic_studio.models.streaming import RowDecoder, make_row_criteria
from sandboxes.agent_format import STOP_STRINGS

_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "mosaic_probe_tool",
        "description": "probe",
        "parameters": {"type": "object", "properties": {}},
    },
}


def template_supports_tools(tokenizer: Any) -> bool:
    """Whether the chat template renders a `tools` list (a probe tool's name shows up)."""
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "hi"}],
            tools=[_PROBE_TOOL],
            tokenize=False,
            add_generation_prompt=True,
        )
    except Exception:
        return False
    return isinstance(text, str) and "mosaic_probe_tool" in text


def _cache_budget_tokens(config: Any) -> int:
    """How many tokens of key/value cache fit in `$MOSAIC_KV_CACHE_MB` (default 512 MB)."""
    layers = int(getattr(config, "num_hidden_layers", None) or 32)
    attention_heads = int(getattr(config, "num_attention_heads", None) or 32)
    heads = int(getattr(config, "num_key_value_heads", None) or attention_heads)
    hidden = int(getattr(config, "hidden_size", None) or 4096)
    head_dim = int(getattr(config, "head_dim", None) or hidden // attention_heads)
    per_token = 2 * layers * heads * head_dim * 4  # keys and values, float32
    megabytes = float(os.environ.get("MOSAIC_KV_CACHE_MB", "512"))
    return max(1024, int(megabytes * 2**20 // max(1, per_token)))


def _same_fresh_prompt(prompts: list[list[int]], reuse: list[tuple[Any, int]]) -> bool:
    if len(prompts) < 2 or len(prompts[0]) <= MIN_REUSE or any(n for _, n in reuse):
        return False
    return all(ids == prompts[0] for ids in prompts)


def _ids_of(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, list | tuple) else [value])]


class HFBackend:
    """A local causal LM generating MOSAIC turns, batched and streamed, with KV-cache reuse."""

    fill_placeholders = False

    def __init__(self, model: Any, tokenizer: Any, spec: str, *, kv_reuse: bool = True) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.spec = spec
        self.kv_reuse = kv_reuse
        self.native_tools = template_supports_tools(tokenizer)
        self.prefix_cache = PrefixCache(max_tokens=_cache_budget_tokens(model.config))
        self.stop_strings: tuple[str, ...] = STOP_STRINGS  # a turn ends after its action
        self._lock = threading.Lock()
        eos = _ids_of(getattr(model.generation_config, "eos_token_id", None))
        eos += _ids_of(tokenizer.eos_token_id)
        end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
            eos.append(end_of_turn)
        self.stop_ids = sorted(set(eos))
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else (self.stop_ids or [0])[0])
        self.max_positions = int(getattr(model.config, "max_position_embeddings", 8192) or 8192)

    @classmethod
    def load(cls, checkpoint: str, *, spec: str, adapters: Sequence[str] = ()) -> HFBackend:
        """Load a checkpoint (and merge LoRA adapters into it, in order)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
        for adapter in adapters:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        model.eval()
        return cls(model, tokenizer, spec)

    def encode(
        self, messages: list[Message], tools: list[dict[str, Any]] | None = None
    ) -> list[int]:
        """Token ids of the prompt for the next assistant turn."""
        text = self.tokenizer.apply_chat_template(
            messages,
            tools=tools if (tools and self.native_tools) else None,
            tokenize=False,
            add_generation_prompt=True,
        )
        ids: list[int] = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids

    def generate(
        self,
        conversations: list[list[Message]],
        settings: SamplingSettings,
        *,
        tools: list[dict[str, Any]] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        min_new_tokens: int = 0,
    ) -> list[Generation]:
        """Generate one assistant turn per conversation, as one batch.

        `min_new_tokens` suppresses end-of-turn tokens (benchmarks use it for fixed lengths).
        """
        if not conversations:
            return []
        with self._lock:
            prompts = [self.encode(messages, tools) for messages in conversations]
            for ids in prompts:
                if len(ids) + settings.max_new_tokens > self.max_positions:
                    raise ValueError(
                        f"the conversation has {len(ids)} tokens; with {settings.max_new_tokens} "
                        f"new ones it exceeds the model's context of {self.max_positions}"
                    )
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled()
            reuse = [self.prefix_cache.take(ids) if self.kv_reuse else (None, 0) for ids in prompts]
            if self.kv_reuse and _same_fresh_prompt(prompts, reuse):
                # a group's first turn: encode the shared prompt once, not once per row
                shared = self._prefill(prompts[0][:-1])
                reuse = [(shared, len(prompts[0]) - 1)] * len(prompts)
            return self._generate(prompts, reuse, settings, on_token, cancel, min_new_tokens)

    def _prefill(self, ids: list[int]) -> CacheEntry:
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([ids]), use_cache=True)
        cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
        return extract_row(cache, 0, torch.arange(len(ids)), list(ids))

    def _generate(
        self,
        prompts: list[list[int]],
        reuse: list[tuple[Any, int]],
        settings: SamplingSettings,
        on_token: TokenCallback | None,
        cancel: threading.Event | None,
        min_new_tokens: int,
    ) -> list[Generation]:
        import torch
        from transformers import StoppingCriteriaList

        built = build_batch_cache(reuse, self.model.config)
        cache, width = built if built is not None else (None, 0)
        news = [ids[length:] for ids, (_, length) in zip(prompts, reuse, strict=True)]
        span = max(len(new) for new in news)
        rows, masks = [], []
        for ids, (_, length), new in zip(prompts, reuse, news, strict=True):
            gap_c, gap_n = width - length, span - len(new)
            rows.append([self.pad_id] * gap_c + ids[:length] + [self.pad_id] * gap_n + new)
            masks.append([0] * gap_c + [1] * length + [0] * gap_n + [1] * len(new))
        input_ids = torch.tensor(rows, dtype=torch.long)
        attention_mask = torch.tensor(masks, dtype=torch.long)

        def decode(ids: list[int]) -> str:
            text: str = self.tokenizer.decode(ids, skip_special_tokens=True)
            return text

        decoders = [
            RowDecoder(
                decode,
                self.stop_ids,
                self.stop_strings,
                on_delta=partial(on_token, row) if on_token is not None else None,
            )
            for row in range(len(prompts))
        ]
        kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "pad_token_id": self.pad_id,
            "eos_token_id": self.stop_ids or None,
            "stopping_criteria": StoppingCriteriaList([make_row_criteria(decoders, cancel)]),
            "return_dict_in_generate": True,
            "do_sample": settings.temperature > 0,
        }
        if min_new_tokens:
            kwargs["min_new_tokens"] = min_new_tokens
        if settings.temperature > 0:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p, top_k=0)
        if cache is not None:
            kwargs["cache"] = cache
        if settings.seed is not None:
            torch.manual_seed(settings.seed)
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled()
        cache_out = getattr(out, "cache", None)
        if self.kv_reuse and cache_out is not None:
            self._keep_caches(cache_out, prompts, decoders, attention_mask)
        return [
            Generation(
                text=decoder.text(),
                tokens=len(decoder.ids),
                prompt_tokens=len(ids),
                finish_reason="stop" if decoder.stopped else "length",
            )
            for ids, decoder in zip(prompts, decoders, strict=True)
        ]

    def _keep_caches(
        self, cache: Any, prompts: list[list[int]], decoders: list[RowDecoder], mask: Any
    ) -> None:
        import torch

        start = mask.shape[1]
        cached = int(cache.get_seq_length())
        for row, (ids, decoder) in enumerate(zip(prompts, decoders, strict=True)):
            kept = max(0, min(len(decoder.ids), cached - start))
            positions = torch.cat(
                [mask[row].nonzero().flatten(), torch.arange(start, start + kept)]
            )
            self.prefix_cache.put(extract_row(cache, row, positions, ids + decoder.ids[:kept]))

    def close(self) -> None:
        self.prefix_cache.clear()
        self.model = None
