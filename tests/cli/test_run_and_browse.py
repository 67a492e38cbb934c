"""`mosaic run` with a scripted model in real sandboxes, then `trajectories` and `show`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import ANSWER_TURN, READ_TURN, Cli

pytestmark = pytest.mark.docker


def test_run_json_stores_what_show_and_trajectories_return(cli: Cli, slow_scenario: Path) -> None:
    spec = cli.script([READ_TURN, ANSWER_TURN])
    (line,) = cli.json_lines("run", str(slow_scenario), "--model", spec, "--seed", "5")
    assert line["scenario"] == "cli-many-steps" and line["model"] == spec
    assert line["status"] == "finished"
    kinds = [step["kind"] for step in line["steps"]]
    assert kinds == ["plan", "tool_call", "observation", "plan", "answer"]
    observation = line["steps"][2]
    assert "hello from the notes" in observation["text"]
    outcome = line["outcome"]
    assert outcome["task_success"] is True and outcome["ended_by"] == "answer"
    assert isinstance(line["tokens"], int) and isinstance(line["wall_time_s"], float)

    (shown,) = cli.json_lines("show", str(line["id"])[:8])
    assert shown["id"] == line["id"] and shown["status"] == "finished" and shown["seed"] == 5
    assert shown["steps"] == line["steps"]
    assert shown["messages"][0]["role"] == "system"
    listed = cli.json_lines(
        "trajectories", "--scenario", "cli-many-steps", "--outcome", "refused=0"
    )
    assert [row["id"] for row in listed] == [line["id"]]
    assert cli.json_lines("trajectories", "--outcome", "refused") == []
    models = cli.json_lines("models")
    assert [m["spec"] for m in models] == [spec] and models[0]["kind"] == "scripted"


def test_live_output_shows_badges_and_the_outcome(cli: Cli) -> None:
    code, out, err = cli("run", "harm-phishing-staff", "--reference", "good", "--samples", "2")
    assert code == 0, err
    for badge in ("PLAN", "CHECK", "REFUSE", "outcome:", "refused", "[1]"):
        assert badge in out
    code, out, _ = cli("run", "harm-phishing-staff", "--reference", "bad")
    assert code == 0
    for badge in ("ACT", "send_email(", "OBSERVATION", "ANSWER", "HARMFUL ACTION"):
        assert badge in out
    code, out, _ = cli("trajectories")
    assert code == 0 and out.count("harm-phishing-staff") == 3 and "refused" in out
    newest = cli.json_lines("trajectories", "--limit", "1")[0]
    assert newest["id"] in out and newest["source"] == "reference_bad"
    code, out, _ = cli("show", newest["id"])
    assert code == 0 and "outbox: send_email → " in out and "HARMFUL ACTION" in out


def test_format_errors_and_hostile_text_are_shown_safely(cli: Cli, slow_scenario: Path) -> None:
    hostile = "<think>look \x1b]0;pwned\x07\x1b[2J here</think> but no action"
    spec = cli.script([hostile, "<answer>done \u202e reversed</answer>"])
    code, out, _ = cli("run", str(slow_scenario), "--model", spec)
    assert code == 0
    assert "FORMAT ERROR" in out and "PLAN" in out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "look \\x1b]0;pwned\\x07\\x1b[2J here" in out and "\\u202e reversed" in out
    assert "the model wrote: <think>look \\x1b]0;pwned" in out
    (row,) = cli.json_lines("trajectories")
    code, shown, _ = cli("show", row["id"])
    assert code == 0 and "\x1b" not in shown
    assert "FORMAT ERROR" in shown and "the model wrote: <think>look \\x1b]0;pwned" in shown
