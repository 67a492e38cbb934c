"""Model spec parsing and one-line errors for bad specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mosaic_studio.models.spec import ModelSpecError, load_backend, parse_spec, spec_kind


def test_parse_each_kind() -> None:
    assert parse_spec("smollm2").kind == "embedded"
    assert parse_spec("hf:/models/x").target == "/models/x"
    lora = parse_spec("smollm2+lora:/runs/a/adapter")
    assert (lora.kind, lora.base, lora.target) == ("lora", "smollm2", "/runs/a/adapter")
    remote = parse_spec("openai:http://127.0.0.1:8000/v1#qwen")
    assert (remote.target, remote.model) == ("http://127.0.0.1:8000/v1", "qwen")
    assert [
        spec_kind(s) for s in ("smollm2", "smollm2+lora:/a", "openai:http://h/v1#m", "scripted:f")
    ] == [
        "base",
        "adapter",
        "remote",
        "scripted",
    ]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "empty model spec"),
        ("gpt-7", "unknown model spec"),
        ("hf:", "unknown model spec"),
        ("openai:localhost:8000", "expected openai:"),
        ("openai:http://h/v1", "expected openai:"),
        ("scripted:f+lora:/a", "needs a local base model"),
        ("+lora:/a", "bad LoRA spec"),
    ],
)
def test_bad_specs_raise_one_line(spec: str, reason: str) -> None:
    with pytest.raises(ModelSpecError) as info:
        parse_spec(spec)
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_load_errors_are_one_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[1, 2]")
    cases = {
        f"scripted:{tmp_path / 'missing.json'}": "no such script file",
        f"scripted:{bad_json}": "list of assistant-turn strings",
        f"hf:{tmp_path / 'nope'}": "no such checkpoint folder",
        f"smollm2+lora:{tmp_path}": "no adapter_config.json",
    }
    for spec, reason in cases.items():
        with pytest.raises(ModelSpecError) as info:
            load_backend(spec)
        assert reason in str(info.value) and "\n" not in str(info.value), spec
