"""Sandbox logic that needs no engine: schemas, argument checks, seeding, parsing, image hash."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from sandboxes import image
from sandboxes.box_files import (
    SeedError,
    parse_logins,
    parse_vault,
    read_state_archive,
    seed_archive,
    workspace_relative,
)
from sandboxes.honeytokens import Honeytokens
from sandboxes.limits import Limits
from sandboxes.sandbox import (
    OWNER_HOST,
    OWNER_PID,
    OWNER_START,
    _owner_gone,
    _process_start,
    docker_available,
)
from sandboxes.scenario import SeedFile
from sandboxes.tool_specs import SPEC_BY_NAME, TOOL_NAMES
from sandboxes.tools import available_tools, check_args, tool_schemas
from tests.sandbox.conftest import make_scenario


def test_default_tools_exclude_the_shell() -> None:
    names = [s["function"]["name"] for s in tool_schemas(make_scenario())]
    assert names == [n for n in TOOL_NAMES if n != "run_shell"]
    with_shell = available_tools(make_scenario(allow_shell=True))
    assert "run_shell" in with_shell


def test_scenario_tool_list_is_honoured_and_shell_needs_allow_shell() -> None:
    assert available_tools(make_scenario(tools=["read_file", "run_shell"])) == ["read_file"]
    assert available_tools(make_scenario(tools=["send_email"], allow_shell=True)) == [
        "run_shell",
        "send_email",
    ]


def test_schemas_are_openai_function_format() -> None:
    for schema in tool_schemas(make_scenario(allow_shell=True)):
        assert schema["type"] == "function"
        fn = schema["function"]
        assert fn["name"] in TOOL_NAMES and fn["description"]
        params = fn["parameters"]
        assert params["type"] == "object"
        assert set(params["required"]) <= set(params["properties"])
        assert all(p["type"] == "string" for p in params["properties"].values())
    http = SPEC_BY_NAME["http_request"].schema()["function"]["parameters"]
    assert http["required"] == ["method", "url"]
    assert "GET" in http["properties"]["method"]["enum"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("./a//b/", "a/b"),
        (".", "."),
        ("", None),
        ("/etc/passwd", None),
        ("a/../b", None),
        ("..", None),
        ("x\0y", None),
        ("\\\\server\\share", None),
    ],
)
def test_workspace_relative(path: str, expected: str | None) -> None:
    assert workspace_relative(path) == expected


def test_check_args_fills_defaults_and_normalises() -> None:
    assert check_args(SPEC_BY_NAME["list_dir"], None, 100) == {"path": "."}
    assert check_args(SPEC_BY_NAME["search_files"], {"pattern": "x"}, 100) == {
        "pattern": "x",
        "path": ".",
    }
    assert check_args(SPEC_BY_NAME["http_request"], {"method": "post", "url": "u"}, 100) == {
        "method": "POST",
        "url": "u",
        "body": "",
    }


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("read_file", {"path": True}, "got boolean"),
        ("read_file", {"path": None}, "missing argument"),
        ("read_file", [1], "JSON object, got array"),
        ("write_file", {"path": "a", "content": "\u00e9" * 60}, "too large (120 bytes"),
        ("write_file", {"path": "a", "content": "a\0b"}, "NUL"),
        ("move_path", {"src": "a", "dst": "../b"}, "outside the workspace"),
        ("list_credentials", {"x": "1"}, "expected: none"),
    ],
)
def test_check_args_errors(tool: str, args: object, message: str) -> None:
    result = check_args(SPEC_BY_NAME[tool], args, 100)
    assert isinstance(result, str) and message in result


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_seed_archive_renders_files_vault_and_pages() -> None:
    scenario = make_scenario()
    tokens = Honeytokens.generate(scenario)
    data = seed_archive(scenario, tokens)
    members = _members(data)
    assert {"work", "work/docs", "work/notes.txt", "vault/credentials", "pages/0"} <= set(members)
    assert all(m.uid == 1000 for m in members.values())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        notes = tar.extractfile("work/notes.txt")
        vault = tar.extractfile("vault/credentials")
        assert notes is not None and vault is not None
        assert notes.read().decode() == f"hello {tokens.values['bank']}\n"
        assert parse_vault(vault.read().decode()) == [
            ("bank", "bank", "alice", tokens.values["bank"])
        ]


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/cron.d/x", "a/../../b", "."])
def test_seed_archive_refuses_paths_leaving_the_workspace(bad: str) -> None:
    scenario = make_scenario(files=[SeedFile(path=bad, content="x")])
    with pytest.raises(SeedError, match="leaves the workspace"):
        seed_archive(scenario, Honeytokens.generate(scenario))


def test_vault_survives_hostile_field_values() -> None:
    scenario = make_scenario(
        credentials=[
            {"name": "n\tx", "service": "s\nvc", "username": "u%20 +&=", "description": ""}
        ]
    )
    tokens = Honeytokens.generate(scenario)
    with tarfile.open(fileobj=io.BytesIO(seed_archive(scenario, tokens))) as tar:
        vault = tar.extractfile("vault/credentials")
        assert vault is not None
        rows = parse_vault(vault.read().decode())
    assert rows == [("n\tx", "s\nvc", "u%20 +&=", tokens.values["n\tx"])]


def test_parse_logins_decodes_and_skips_garbage() -> None:
    text = "1700000000\t1\tbank\talice\tp%40ss+word\nnot a line\n17\t0\ta\tb\n"
    [attempt] = parse_logins(text)
    assert (attempt.service, attempt.username, attempt.password) == ("bank", "alice", "p@ss word")
    assert attempt.accepted and attempt.at == 1700000000


def test_read_state_archive_tolerates_a_cut_archive() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, body in (
            ("work/a.txt", b"alpha"),
            ("state/logins.tsv", b""),
            ("work/b", b"x" * 5000),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    data = buffer.getvalue()
    files, logins = read_state_archive(data, file_cap=1000)
    assert logins == []
    assert files["a.txt"] == "alpha" and files["b"].endswith("[file cut at 1000 bytes]")
    files, _ = read_state_archive(data[:1500], file_cap=1000)
    assert files == {"a.txt": "alpha"}


def test_context_hash_changes_with_the_build_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = tmp_path / "image"
    shutil.copytree(image.CONTEXT_DIR, context)
    monkeypatch.setattr(image, "CONTEXT_DIR", context)
    before = image.context_hash()
    (context / "bin" / "mosaic-tool").write_text("#!/bin/sh\necho changed\n")
    assert image.context_hash() != before
    assert len(before) == 12


def test_missing_static_busybox_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image, "BUSYBOX_CANDIDATES", (tmp_path / "busybox", Path("/bin/sh")))
    with pytest.raises(image.ImageError, match="apt-get install busybox-static"):
        image.find_static_busybox()


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="pids"):
        Limits(pids=0)
    with pytest.raises(ValueError, match="call_timeout_s"):
        Limits(call_timeout_s=1000)
    with pytest.raises(ValueError, match="max_payload_bytes"):
        Limits(max_payload_bytes=10**6)


def test_owner_liveness() -> None:
    me = {OWNER_PID: str(os.getpid()), OWNER_START: _process_start(os.getpid()) or ""}
    assert not _owner_gone(me)
    assert _owner_gone({**me, OWNER_START: "1"})  # the pid was reused by another process
    assert _owner_gone({OWNER_PID: "not-a-pid"})
    assert not _owner_gone({**me, OWNER_PID: "999999999", OWNER_HOST: "another-machine"})
    assert _owner_gone({OWNER_PID: "999999999"})


def test_docker_available_explains_an_unreachable_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    reason = docker_available()
    assert reason is not None and "\n" not in reason
    assert "systemctl start docker" in reason


class _FakeImages:
    def __init__(self) -> None:
        self.built: list[str] = []

    def get(self, tag: str) -> object:
        if tag not in self.built:
            import docker.errors

            raise docker.errors.ImageNotFound(tag)
        return object()

    def build(self, *, path: str, tag: str, **_: object) -> None:
        context = Path(path)
        assert (context / "Dockerfile").is_file() and (context / "busybox").is_file()
        self.built.append(tag)


def test_ensure_image_builds_once_then_trusts_its_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "_ready", set())
    client = type("FakeClient", (), {"images": _FakeImages()})()
    tag = image.ensure_image(client)
    assert client.images.built == [tag]
    assert image.ensure_image(client) == tag and client.images.built == [tag]
    client.images.built.clear()  # pruned behind our back
    assert image.ensure_image(client, recheck=True) == tag
    assert client.images.built == [tag]
