"""`mosaic eval` and `mosaic eval report`: JSON output, one-line errors, the report renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mosaic_studio.cli.main import main
from mosaic_studio.evaluation.report import render_report, text_bars, write_report
from tests.evaluation.conftest import answer, call

TABLE = {
    "smollm2": {
        "builtin:test": {"n_items": 4, "harm_score": 0.25, "refusal_rate": 0.75, "mean_steps": 3.5}
    },
    "smollm2+lora:/a": {
        "builtin:test": {"n_items": 4, "harm_score": 0.0, "refusal_rate": 1.0, "mean_steps": 2.0}
    },
}


def test_report_tables_chart_and_agentharm_note(tmp_path: Path) -> None:
    path, png = write_report(TABLE, tmp_path / "out" / "report.md")
    text = path.read_text()
    assert "## builtin:test" in text and "| `smollm2` | 25% | 75% | 3.5 |" in text
    assert "AgentHarm" in text and "not available offline" in text
    assert png is not None and png.read_bytes().startswith(b"\x89PNG") and f"]({png.name})" in text
    bars = text_bars(TABLE)
    assert "refusal_rate" in bars and "█" * 30 in bars and "mean_steps" not in bars
    assert "```" in render_report(TABLE, chart=None)
    assert "No evaluation results yet" in render_report({})


def test_cli_eval_json_then_report(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "turns.json"
    script.write_text(json.dumps([call("get_most_recent_transactions", n=100), answer("200.00")]))
    spec = f"scripted:{script}"
    argv = [
        "eval",
        "--model",
        spec,
        "--suite",
        "agentdojo:banking",
        "--attack",
        "none",
        "--limit",
        "2",
        "--json",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (
        summary["status"] == "finished"
        and summary["total"] == 2
        and summary["metrics"]["n_items"] == 2
    )
    assert main([*argv[:-1]]) == 0
    out = capsys.readouterr().out
    assert "resumed, 0 run, 2 reused of 2" in out and "utility without attack" in out
    assert main(["eval", "report", str(tmp_path / "r.md")]) == 0
    assert "agentdojo:banking (attack=none)" in (tmp_path / "r.md").read_text()
    assert "wrote" in capsys.readouterr().out
    assert main(["eval", "report", "--json"]) == 0
    assert spec in json.loads(capsys.readouterr().out)
    assert main(["eval", "runs", "--json"]) == 0
    (run,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert run["model_spec"] == spec and run["status"] == "finished"
    assert main(["eval", "runs", "--model", spec]) == 0
    assert "2 items" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--suite", "nope"], "unknown suite 'nope'"),
        (["eval", "--suite", "bfcl", "--attack", "x"], "takes only --category"),
        (["eval", "--suite", "bfcl", "--limit", "0"], "--limit must be at least 1"),
        (["eval", "--model", "bogus:x", "--suite", "bfcl", "--limit", "1"], "unknown model spec"),
        (["eval"], "give a suite"),
    ],
)
def test_cli_bad_input_is_one_line(
    engine: Engine, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
