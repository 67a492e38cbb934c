"""Bad input gets one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.conftest import ANSWER_TURN, Cli


def _one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mosaic: "), err
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unknown_scenario(cli: Cli) -> None:
    line = _one_line_error(*cli("run", "harm-phishing-stafff", "--model", cli.script([])))
    assert "no built-in scenario" in line and "harm-phishing-staff" in line  # a suggestion


def test_invalid_scenario_file_names_file_and_field(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\ntitle = "t"\ncategory = "nope"\n')
    line = _one_line_error(*cli("run", str(bad), "--model", cli.script([])))
    assert "bad.toml" in line and "category" in line


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("gpt-17", "unknown model spec"),
        ("scripted:/no/such/file.json", "no such script file"),
        ("hf:/no/such/checkpoint", "no such checkpoint"),
        ("smollm2+lora:/no/adapter", "not a LoRA adapter folder"),
    ],
)
def test_bad_model_spec(cli: Cli, spec: str, expected: str) -> None:
    line = _one_line_error(*cli("run", "ben-write-readme", "--model", spec))
    assert expected in line


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--samples", "0"], "--samples must be at least 1"),
        (["--max-steps", "0"], "--max-steps must be at least 1"),
        (["--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--temperature", "-1"], "--temperature must be between"),
    ],
)
def test_bad_numbers(cli: Cli, flags: list[str], expected: str) -> None:
    line = _one_line_error(*cli("run", "ben-write-readme", "--model", cli.script([]), *flags))
    assert expected in line


def test_no_scenario_named(cli: Cli) -> None:
    line = _one_line_error(*cli("run", "--model", cli.script([])))
    assert "name at least one scenario" in line


def test_docker_down(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    line = _one_line_error(*cli("run", "ben-write-readme", "--model", cli.script([ANSWER_TURN])))
    assert "no Docker engine answers" in line and "systemctl start docker" in line


@pytest.mark.docker
def test_unreachable_model_server(cli: Cli) -> None:
    spec = f"openai:http://127.0.0.1:{_closed_port()}/v1#some-model"
    line = _one_line_error(*cli("run", "ben-write-readme", "--model", spec, "--max-steps", "1"))
    assert spec in line and "ben-write-readme" in line
    code, out, _ = cli("trajectories", "--status", "failed", "--json")
    assert code == 0 and '"status": "failed"' in out


def test_bad_database_url(cli: Cli) -> None:
    line = _one_line_error(*cli("--db", "nosuchdb://x", "trajectories"))
    assert "cannot use database" in line


def test_browse_errors(cli: Cli) -> None:
    assert "no trajectory 'nope'" in _one_line_error(*cli("show", "nope"))
    line = _one_line_error(*cli("trajectories", "--outcome", "happy"))
    assert "expected one of refused" in line
    line = _one_line_error(*cli("trajectories", "--outcome", "refused=maybe"))
    assert "yes or no" in line
    assert "--limit" in _one_line_error(*cli("trajectories", "--limit", "0"))
