"""`mosaic doctor`: one line per part, OK or what to do; JSON with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Cli


@pytest.mark.docker
def test_doctor_reports_each_part(cli: Cli) -> None:
    code, out, _ = cli("doctor", "--json")
    report = json.loads(out)
    checks = {c["name"]: c for c in report["checks"]}
    assert list(checks) == ["docker", "sandbox image", "embedded model", "database"]
    assert checks["docker"]["ok"] is True
    assert checks["database"]["ok"] is True and "schema" in checks["database"]["detail"]
    # A fresh MOSAIC_HOME has no de-quantised model: doctor says how to make it.
    model = checks["embedded model"]
    assert model["ok"] is False and "mosaic_studio.models.embedded" in model["detail"]
    assert report["ok"] is False and code == 1

    code, out, _ = cli("doctor")
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 4
    assert lines[0].split()[:2] == ["OK", "docker"]
    assert lines[2].split()[:3] == ["FIX", "embedded", "model"]


def test_doctor_without_docker(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    code, out, _ = cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert checks["docker"]["ok"] is False
    assert "systemctl start docker" in checks["docker"]["detail"]
    assert checks["sandbox image"]["ok"] is False
    assert checks["database"]["ok"] is True
