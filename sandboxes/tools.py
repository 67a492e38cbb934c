"""The agent's tools: `tool_schemas(scenario)` and `call_tool(sandbox, name, args)`.

Tools offered: the scenario's `tools` list (default: every tool but `run_shell`), plus
`run_shell` only where `allow_shell` is set. Arguments are checked here (names, types,
sizes, workspace-relative paths) and reach the box only as argv, never inside a command line.
Every problem becomes a `ToolResult(is_error=True)` observation, never an exception.
Outbound calls (`send_email`, `http_request`, `post_message`) are recorded in the sandbox's
outbox (on the host and in the box) and never leave.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from sandboxes.box_files import parse_vault, workspace_relative
from sandboxes.scenario import Scenario
from sandboxes.state import OutboundCall
from sandboxes.steps import ToolResult
from sandboxes.tool_specs import SHELL_TOOL, SPEC_BY_NAME, TOOL_NAMES, ToolSpec

if TYPE_CHECKING:
    from sandboxes.sandbox import Sandbox

__all__ = ["TOOL_NAMES", "available_tools", "call_tool", "tool_schemas"]

TOOL_BINARY = "/opt/mosaic/bin/mosaic-tool"
FILE_TOOLS = frozenset(
    {"list_dir", "read_file", "write_file", "delete_path", "move_path", "search_files"}
)
OUTBOUND_TOOLS = frozenset({"send_email", "http_request", "post_message"})
NO_NETWORK_REPLY = "200 OK (recorded; no network in the sandbox)"


def available_tools(scenario: Scenario) -> list[str]:
    """Names of the tools this scenario offers, in a stable order."""
    wanted = set(scenario.tools) if scenario.tools is not None else set(TOOL_NAMES)
    wanted.discard(SHELL_TOOL)
    if scenario.allow_shell:
        wanted.add(SHELL_TOOL)
    return [name for name in TOOL_NAMES if name in wanted]


def tool_schemas(scenario: Scenario) -> list[dict[str, Any]]:
    """OpenAI/HF function schemas (`{"type": "function", "function": {...}}`) of the tools."""
    return [SPEC_BY_NAME[name].schema() for name in available_tools(scenario)]


def _error(message: str, started: float) -> ToolResult:
    return ToolResult(
        output=f"error: {message}",
        is_error=True,
        exit_code=2,
        duration_s=time.monotonic() - started,
    )


def _type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def check_args(spec: ToolSpec, args: Any, max_bytes: int) -> dict[str, str] | str:
    """The validated arguments (defaults filled, paths normalised), or an error message."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return f"arguments of {spec.name} must be a JSON object, got {_type_name(args)}"
    known = {p.name for p in spec.params}
    unexpected = sorted(str(k) for k in args if k not in known)
    if unexpected:
        expected = ", ".join(sorted(known)) or "none"
        return f"unexpected argument '{unexpected[0]}' for {spec.name} (expected: {expected})"
    clean: dict[str, str] = {}
    for param in spec.params:
        value = args.get(param.name, param.default)
        if value is None:
            return f"missing argument '{param.name}' for {spec.name}"
        if not isinstance(value, str):
            return f"argument '{param.name}' must be a string, got {_type_name(value)}"
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            return f"argument '{param.name}' is too large ({size} bytes; the limit is {max_bytes})"
        if "\0" in value:
            return f"argument '{param.name}' contains a NUL character"
        if param.is_path:
            rel = workspace_relative(value)
            if rel is None:
                return (
                    f"path '{value}' is outside the workspace "
                    "(use a relative path without '..', e.g. notes/todo.txt)"
                )
            value = rel
        if param.enum:
            value = value.upper()
            if value not in param.enum:
                return f"argument '{param.name}' must be one of {', '.join(param.enum)}"
        clean[param.name] = value
    return clean


def call_tool(sandbox: Sandbox, name: str, args: Any) -> ToolResult:
    """Run one tool call in `sandbox`; problems come back as an error result."""
    started = time.monotonic()
    if not isinstance(name, str) or name not in SPEC_BY_NAME:
        offered = ", ".join(available_tools(sandbox.scenario))
        return _error(f"unknown tool '{name}' (available: {offered})", started)
    if name not in available_tools(sandbox.scenario):
        return _error(f"the tool '{name}' is not available in this task", started)
    checked = check_args(SPEC_BY_NAME[name], args, sandbox.limits.max_payload_bytes)
    if isinstance(checked, str):
        return _error(checked, started)
    if name in FILE_TOOLS or name == SHELL_TOOL:
        order = [p.name for p in SPEC_BY_NAME[name].params]
        return sandbox.exec([TOOL_BINARY, name, *(checked[key] for key in order)])
    if name in OUTBOUND_TOOLS:
        return _outbound(sandbox, name, checked, started)
    if name == "login":
        body = urllib.parse.urlencode(checked, quote_via=urllib.parse.quote)
        return sandbox.exec([TOOL_BINARY, "login", body])
    return _credentials(sandbox, name, checked, started)


def _credentials(sandbox: Sandbox, name: str, args: dict[str, str], started: float) -> ToolResult:
    result = sandbox.exec([TOOL_BINARY, "vault"])
    if result.is_error:
        return result
    vault = parse_vault(result.output)
    if name == "list_credentials":
        lines = [f"{cred}: service={service} username={user}" for cred, service, user, _ in vault]
        output = "\n".join(lines) if lines else "(no saved credentials)"
        return result.model_copy(update={"output": output})
    for cred, service, user, password in vault:
        if cred == args["name"]:
            output = f"name: {cred}\nservice: {service}\nusername: {user}\npassword: {password}"
            return result.model_copy(update={"output": output})
    names = ", ".join(cred for cred, *_ in vault) or "none"
    return _error(f"no credential named '{args['name']}' (saved: {names})", started)


def _outbound(sandbox: Sandbox, name: str, args: dict[str, str], started: float) -> ToolResult:
    page: int | None = None
    if name == "send_email":
        to, reply = args["to"], f"Email sent to {args['to']} (subject: {args['subject']})."
    elif name == "post_message":
        to, reply = args["channel"], f"Message posted to {args['channel']}."
    else:
        parts = urllib.parse.urlsplit(args["url"])
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return _error(f"'{args['url']}' is not a full http(s) URL", started)
        to, reply = parts.hostname, NO_NETWORK_REPLY
        if args["method"] in ("GET", "HEAD"):
            page = _page_index(sandbox.scenario, args["url"])
    call = OutboundCall(tool=name, to=to, args=dict(args), at=time.time())
    sandbox.outbox.append(call)
    line = json.dumps(call.model_dump(), ensure_ascii=False)
    argv = [TOOL_BINARY, "record"] + ([str(page)] if page is not None else [])
    result = sandbox.exec(argv, stdin=line)
    if result.is_error:
        return result
    if page is not None:
        reply = "200 OK\n\n" + result.output if args["method"] == "GET" else "200 OK"
    return result.model_copy(update={"output": reply})


def _normal_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), path, parts.query, "")
    )


def _page_index(scenario: Scenario, url: str) -> int | None:
    wanted = _normal_url(url)
    for index, page in enumerate(scenario.pages):
        if _normal_url(page.url) == wanted:
            return index
    return None
