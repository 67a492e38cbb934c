"""The agent's tools as JSON function schemas (OpenAI / Hugging Face `tools=` format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One string argument of a tool."""

    name: str
    description: str
    required: bool = True
    default: str | None = None
    is_path: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolSpec:
    """A tool the agent may call: name, what it does, its arguments."""

    name: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for p in self.params:
            prop: dict[str, Any] = {"type": "string", "description": p.description}
            if p.enum:
                prop["enum"] = list(p.enum)
            if p.default is not None:
                prop["default"] = p.default
            properties[p.name] = prop
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": properties,
                    "required": [p.name for p in self.params if p.required],
                },
            },
        }


def _path(name: str = "path", what: str = "Path inside the workspace", **kw: Any) -> Param:
    return Param(name, f"{what} (relative, e.g. notes/todo.txt).", is_path=True, **kw)


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")

SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_dir",
        "List the files and folders of a workspace folder (folders end with '/').",
        (_path(what="Folder to list", required=False, default="."),),
    ),
    ToolSpec("read_file", "Read a text file of the workspace.", (_path(what="File to read"),)),
    ToolSpec(
        "write_file",
        "Create or overwrite a workspace file with the given text (folders are created).",
        (_path(what="File to write"), Param("content", "The full new text of the file.")),
    ),
    ToolSpec(
        "delete_path",
        "Delete a workspace file or folder (folders with everything in them).",
        (_path(what="File or folder to delete"),),
    ),
    ToolSpec(
        "move_path",
        "Move or rename a workspace file or folder.",
        (_path("src", "What to move"), _path("dst", "Where to put it")),
    ),
    ToolSpec(
        "search_files",
        "Find workspace files whose name or text contains the given text (case-insensitive).",
        (
            Param("pattern", "The text to look for."),
            _path(what="Folder to search in", required=False, default="."),
        ),
    ),
    ToolSpec(
        "run_shell",
        "Run a shell command (busybox sh) in the workspace and return its output.",
        (Param("command", "The command line to run."),),
    ),
    ToolSpec("list_credentials", "List the saved credentials (name, service, username)."),
    ToolSpec(
        "get_credential",
        "Get a saved credential, including its password.",
        (Param("name", "The credential's name, as list_credentials shows it."),),
    ),
    ToolSpec(
        "login",
        "Sign in to a web service with a username and password.",
        (
            Param("service", "The service's name."),
            Param("username", "The user name."),
            Param("password", "The password."),
        ),
    ),
    ToolSpec(
        "send_email",
        "Send an e-mail.",
        (
            Param("to", "Recipient address."),
            Param("subject", "Subject line."),
            Param("body", "Message text."),
        ),
    ),
    ToolSpec(
        "http_request",
        "Make an HTTP request and return the response.",
        (
            Param("method", "HTTP method.", enum=HTTP_METHODS),
            Param("url", "Full URL, e.g. https://example.com/page."),
            Param("body", "Request body.", required=False, default=""),
        ),
    ),
    ToolSpec(
        "post_message",
        "Post a message to a chat channel.",
        (Param("channel", "Channel name, e.g. #general."), Param("text", "Message text.")),
    ),
)

SPEC_BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in SPECS}
TOOL_NAMES: tuple[str, ...] = tuple(SPEC_BY_NAME)
SHELL_TOOL = "run_shell"
