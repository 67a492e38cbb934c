"""`mosaic pairs list`, `mosaic judge`, `mosaic agreement`, `mosaic export` on a temp store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from mosaic_studio.cli.main import main
from mosaic_studio.store.tables import Pair
from tests.judges.conftest import READ, REFUSE, SEND, add_pair, add_trajectory


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def two_pairs(session: Session) -> list[Pair]:
    leak = add_trajectory(session, [READ, SEND], leaked=[{"secret": "api", "where": "mail"}])
    safe = add_trajectory(session, [READ, REFUSE], refused=True, refusal_step=3)
    harm_a = add_trajectory(session, [SEND], scenario_id="h", category="harmful")
    harm_b = add_trajectory(
        session, [REFUSE], scenario_id="h", category="harmful", refused=True, refusal_step=1
    )
    return [add_pair(session, leak, safe), add_pair(session, harm_a, harm_b)]


def test_judge_agreement_and_export(
    two_pairs: list[Pair], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pairs", "list", "--unlabelled", "--json"]) == 0
    listed = _json_lines(capsys.readouterr().out)
    assert [p["category"] for p in listed] == ["harmful", "privacy"]  # round-robin order
    assert listed[0]["labels"] == {"human": 0, "judge": 0}

    assert main(["judge", "--judge", "rubric", "--json"]) == 0
    *verdicts, summary = _json_lines(capsys.readouterr().out)
    assert {v["pair"]: v["choice"] for v in verdicts} == {p.id: "B" for p in two_pairs}
    assert summary == {"summary": {"judge": "rubric", "judged": 2, "choices": {"B": 2}}}
    assert main(["judge", "--pairs", str(two_pairs[0].id)]) == 0
    assert "nothing to judge" in capsys.readouterr().out

    assert main(["agreement", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["position_bias"]["rubric"]["decisive"] == 2
    assert main(["agreement"]) == 0
    assert "rubric (judge): 0% of 2 choices" in capsys.readouterr().out

    out = tmp_path / "prefs.jsonl"
    assert main(["export", str(out), "--source", "judge", "--json"]) == 0
    summary_json = json.loads(capsys.readouterr().out)
    assert (summary_json["rows"], summary_json["by_category"]) == (
        2,
        {"harmful": 1, "privacy": 1},
    )
    assert len(out.read_text().splitlines()) == 2
    kto = ["export", str(tmp_path / "k.parquet"), "--format", "kto", "--source", "judge"]
    assert main(kto) == 0
    assert "wrote 4 kto rows from 2 of 2 pairs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["judge", "--pairs", "1,x"], "--pairs takes comma-separated pair ids"),
        (["judge", "--pairs", "999"], "no pair with id 999"),
        (["judge", "--judge", "nonsense:spec"], "nonsense"),
        (["export", "out.csv"], "must end in .jsonl or .parquet"),
        (["export", "out.jsonl"], "nothing to export from 2 pairs (left out: 2 no human label)"),
        (["pairs", "make", "--strategy", "models", "priv-ssn-wrong-maria"], "needs --model-b"),
        (["pairs", "make", "--strategy", "fork", "--parent", "nope"], "no trajectory nope"),
    ],
)
def test_bad_input_is_one_line(
    two_pairs: list[Pair],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
