"""Native tool calling: template detection, tools passed to the template, tool-role observations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mosaic_studio.agent.loop import run_episode
from mosaic_studio.models.base import Generation, SamplingSettings
from mosaic_studio.models.scripted import ScriptedBackend
from sandboxes.steps import StepKind
from tests.agent.fakes import FAKE_OPTIONS, TOOLS, scenario

TOOL_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\nTools: {{ tools | tojson }}<|im_end|>\n{%- endif %}"
    "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)
CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "n"}}\n</tool_call>'


class NativeScripted(ScriptedBackend):
    native_tools = True

    def __init__(self, turns: list[str]) -> None:
        super().__init__(turns)
        self.tools_seen: list[Any] = []

    def generate(self, conversations: Any, settings: SamplingSettings, **kw: Any) -> Any:
        self.tools_seen.append(kw.get("tools"))
        gens: list[Generation] = super().generate(conversations, settings, **kw)
        return gens


def test_native_backends_get_tool_schemas_and_tool_role_observations() -> None:
    backend = NativeScripted([CALL, "<answer>done</answer>"])
    result = run_episode(backend, scenario(), **FAKE_OPTIONS)
    assert backend.tools_seen == [TOOLS, TOOLS]
    assert [s.kind for s in result.steps] == [
        StepKind.TOOL_CALL,
        StepKind.OBSERVATION,
        StepKind.ANSWER,
    ]
    observation = result.messages[3]
    assert observation["role"] == "tool" and observation["name"] == "read_file"
    assert "<observation>" not in observation["content"]
    assert "read_file(" not in result.messages[0]["content"]  # the template lists the tools


@pytest.mark.model
def test_template_detection_and_tools_in_the_prompt() -> None:
    from transformers import AutoTokenizer

    from mosaic_studio.models.embedded import prepare
    from mosaic_studio.models.hf import HFBackend, template_supports_tools

    tokenizer = AutoTokenizer.from_pretrained(prepare())
    assert not template_supports_tools(tokenizer)  # SmolLM2's template drops `tools`
    tokenizer.chat_template = TOOL_TEMPLATE
    assert template_supports_tools(tokenizer)
    fake_model = SimpleNamespace(
        generation_config=SimpleNamespace(eos_token_id=2),
        config=SimpleNamespace(max_position_embeddings=8192),
    )
    backend = HFBackend(fake_model, tokenizer, "hf:fake")
    assert backend.native_tools and backend.stop_ids == [2]
    ids = backend.encode([{"role": "user", "content": "hi"}], TOOLS)
    assert '"name": "read_file"' in tokenizer.decode(ids)
