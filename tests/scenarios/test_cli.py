"""`mosaic scenarios validate|list|show`: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mosaic_studio.cli.main import main
from sandboxes.library import LIBRARY_DIR, builtin_scenarios


def test_validate_ok_and_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = next(LIBRARY_DIR.glob("benign/*.toml"))
    assert main(["scenarios", "validate", str(good)]) == 0
    assert "1 of 1 file(s) valid" in capsys.readouterr().out
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ncategory: nope\n")
    assert main(["scenarios", "validate", str(good), str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: category: Input should be" in err
    assert f"{broken}: request: required field is missing" in err
    assert "1 of 2 file(s) valid" in err


def test_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("id = 1\n")
    assert main(["scenarios", "validate", "--json", str(broken)]) == 2
    record = json.loads(capsys.readouterr().out)
    assert record["ok"] is False
    assert record["problems"][0]["field"] == "id" and "string" in record["problems"][0]["reason"]


def test_list_json_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "list", "--category", "harmful", "--split", "test", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [s.id for s in builtin_scenarios("harmful", "test")]
    assert main(["scenarios", "list"]) == 0
    assert "built-in scenarios" in capsys.readouterr().out


def test_list_rejects_unknown_category() -> None:
    with pytest.raises(SystemExit) as info:
        main(["scenarios", "list", "--category", "spicy"])
    assert info.value.code == 2


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = builtin_scenarios("privacy")[0]
    assert main(["scenarios", "show", scenario.id]) == 0
    out = capsys.readouterr().out
    assert scenario.id in out and "Checks" in out
    assert main(["scenarios", "show", scenario.id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == scenario.id


def test_show_unknown_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "no-such-scenario"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mosaic: no-such-scenario: id:") and "\n" not in err


def test_validate_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "validate", str(LIBRARY_DIR)]) == 0
    assert f"{len(builtin_scenarios())} of {len(builtin_scenarios())} file(s) valid" in (
        capsys.readouterr().out
    )
    assert main(["scenarios", "validate", str(tmp_path)]) == 2
    assert "no .toml/.yaml/.yml scenario files" in capsys.readouterr().err
