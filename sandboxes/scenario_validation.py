"""Semantic rules a scenario must follow beyond its field types (used by `sandboxes.library`)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import NamedTuple

from sandboxes.agent_format import parse_turn
from sandboxes.scenario import Check, Scenario
from sandboxes.steps import StepKind
from sandboxes.tools import TOOL_NAMES, available_tools

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Anything shaped like a placeholder, to catch misspelt ones ({{secret ssn}}, {{secrets:x}}).
LOOSE_PLACEHOLDER = re.compile(r"\{\{\s*(secret|secrets|username|user)\b\s*:?\s*([^{}]*?)\s*\}\}")

MAX_FILES = 100
MAX_FILE_CHARS = 64_000
MAX_TOTAL_CHARS = 512_000
MAX_TEXT_CHARS = 8_000
MAX_ITEMS = 50
MAX_PATH_CHARS = 200
GLOB_CHARS = frozenset("*?[")


class Problem(NamedTuple):
    """One thing wrong with a scenario: the dotted field path and what was expected."""

    field: str
    reason: str


def path_problem(path: str, *, allow_glob: bool = False) -> str | None:
    """Why `path` is not a plain workspace-relative path (None when it is fine)."""
    if not path or not path.strip():
        return "path is empty"
    if len(path) > MAX_PATH_CHARS:
        return f"path is longer than {MAX_PATH_CHARS} characters"
    if "\x00" in path or "\\" in path:
        return "path holds a NUL or a backslash; use forward slashes"
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
        return "path must be relative to the workspace, not absolute"
    parts = path.rstrip("/").split("/")
    if ".." in parts:
        return "path must stay inside the workspace (no '..')"
    if any(p in ("", ".") for p in parts):
        return "path has an empty or '.' segment; write it like notes/todo.txt"
    if not allow_glob and GLOB_CHARS & set(path):
        return "path must not contain wildcard characters"
    return None


def _text_fields(scenario: Scenario) -> Iterator[tuple[str, str]]:
    yield "request", scenario.request
    yield "description", scenario.description
    for i, f in enumerate(scenario.files):
        yield f"files[{i}].content", f.content
    for i, p in enumerate(scenario.pages):
        yield f"pages[{i}].content", p.content
    for i, c in enumerate(scenario.checks):
        if c.text is not None:
            yield f"checks[{i}].text", c.text
    for run in ("good", "bad"):
        for i, turn in enumerate(getattr(scenario.reference, run)):
            yield f"reference.{run}[{i}]", turn


def _placeholder_problems(scenario: Scenario) -> Iterator[Problem]:
    secrets = {s.name for s in scenario.secrets} | {c.name for c in scenario.credentials}
    users = {c.name for c in scenario.credentials}
    for field, text in _text_fields(scenario):
        for match in LOOSE_PLACEHOLDER.finditer(text):
            kind, name = match.group(1), match.group(2)
            whole = match.group(0)
            if kind not in ("secret", "username") or not NAME_RE.match(name) or ":" not in whole:
                yield Problem(field, f"malformed placeholder {whole}; write {{{{secret:NAME}}}}")
            elif kind == "secret" and name not in secrets:
                known = ", ".join(sorted(secrets)) or "none defined"
                yield Problem(field, f"{whole} names no secret or credential (known: {known})")
            elif kind == "username" and name not in users:
                known = ", ".join(sorted(users)) or "none defined"
                yield Problem(field, f"{whole} names no credential (known: {known})")


def _unique(names: list[str], field: str, label: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield Problem(f"{field}[{i}]", f"duplicate {label} {name!r}")
        seen.add(name)


def _check_problems(scenario: Scenario, i: int, check: Check) -> Iterator[Problem]:
    at = f"checks[{i}]"
    kind = check.kind
    seeded = {f.path for f in scenario.files}
    if kind.startswith("file_"):
        if check.path is None:
            yield Problem(f"{at}.path", f"a {kind} check needs a path")
        else:
            reason = path_problem(check.path, allow_glob=kind in ("file_exists", "file_absent"))
            if reason:
                yield Problem(f"{at}.path", reason)
            elif kind == "file_unchanged" and check.path not in seeded:
                yield Problem(f"{at}.path", "file_unchanged needs a path seeded in `files`")
    if kind in ("file_contains", "file_not_contains", "answer_contains") and not check.text:
        yield Problem(f"{at}.text", f"a {kind} check needs a non-empty text")
    if kind in ("sent", "not_sent") and not (check.tool or check.to or check.text):
        yield Problem(at, f"a {kind} check needs at least one of tool, to, text")
    if kind == "login":
        services = {s.name for s in scenario.services}
        if not check.to:
            yield Problem(f"{at}.to", "a login check needs `to` (a service name)")
        elif check.to not in services:
            yield Problem(f"{at}.to", f"no service named {check.to!r} in `services`")
    if check.text is not None and len(check.text) > MAX_TEXT_CHARS:
        yield Problem(f"{at}.text", f"text longer than {MAX_TEXT_CHARS} characters")


def _size_problems(scenario: Scenario) -> Iterator[Problem]:
    for field in ("files", "secrets", "credentials", "services", "pages", "checks", "tags"):
        limit = MAX_FILES if field == "files" else MAX_ITEMS
        if len(getattr(scenario, field)) > limit:
            yield Problem(field, f"more than {limit} entries")
    for field in ("request", "description", "title"):
        if len(getattr(scenario, field)) > MAX_TEXT_CHARS:
            yield Problem(field, f"longer than {MAX_TEXT_CHARS} characters")
    total = 0
    for i, f in enumerate(scenario.files):
        total += len(f.content)
        if len(f.content) > MAX_FILE_CHARS:
            yield Problem(f"files[{i}].content", f"longer than {MAX_FILE_CHARS} characters")
    for i, p in enumerate(scenario.pages):
        total += len(p.content)
        if len(p.content) > MAX_FILE_CHARS:
            yield Problem(f"pages[{i}].content", f"longer than {MAX_FILE_CHARS} characters")
    if total > MAX_TOTAL_CHARS:
        yield Problem("files", f"files and pages hold more than {MAX_TOTAL_CHARS} characters")


def _reference_problems(scenario: Scenario) -> Iterator[Problem]:
    for run in ("good", "bad"):
        turns: list[str] = getattr(scenario.reference, run)
        if not turns:
            yield Problem(f"reference.{run}", "needs at least one assistant turn")
        if len(turns) > scenario.max_steps:
            reason = f"{len(turns)} turns do not fit in max_steps={scenario.max_steps}"
            yield Problem(f"reference.{run}", reason)
        for i, turn in enumerate(turns):
            at = f"reference.{run}[{i}]"
            if not turn.strip():
                yield Problem(at, "empty turn")
            elif len(turn) > MAX_TEXT_CHARS:
                yield Problem(at, f"longer than {MAX_TEXT_CHARS} characters")
            else:
                yield from _turn_problems(scenario, at, turn, last=i == len(turns) - 1)


def _turn_problems(scenario: Scenario, at: str, turn: str, *, last: bool) -> Iterator[Problem]:
    """A reference turn must parse as a MOSAIC turn; only the last one ends the run."""
    action = parse_turn(turn, available_tools(scenario))[-1]
    if action.kind == StepKind.FORMAT_ERROR:
        yield Problem(at, f"not a valid MOSAIC turn: {action.text}")
    elif action.is_terminal and not last:
        yield Problem(at, "ends the run (<answer>/<refuse>) before its last turn")
    elif last and not action.is_terminal:
        yield Problem(at, "the last turn must end the run with <answer> or <refuse>")


def _destination_problems(scenario: Scenario) -> Iterator[Problem]:
    service_names = {s.name for s in scenario.services}
    for i, cred in enumerate(scenario.credentials):
        if cred.service not in service_names:
            yield Problem(f"credentials[{i}].service", f"no service named {cred.service!r}")
    for i, svc in enumerate(scenario.services):
        if not NAME_RE.match(svc.name):
            yield Problem(f"services[{i}].name", "use letters, digits, '_', '.', '-' only")
        if svc.look_alike_of == svc.name:
            yield Problem(f"services[{i}].look_alike_of", "a service cannot imitate itself")
    for i, name in enumerate(scenario.allowed.services):
        if name not in service_names:
            yield Problem(f"allowed.services[{i}]", f"no service named {name!r}")
    for i, rcpt in enumerate(scenario.allowed.recipients):
        if "@" not in rcpt:
            yield Problem(f"allowed.recipients[{i}]", "expected an e-mail address")
    for i, host in enumerate(scenario.allowed.hosts):
        if not host or "/" in host or " " in host:
            yield Problem(f"allowed.hosts[{i}]", "expected a bare host name like api.example.com")
    for i, page in enumerate(scenario.pages):
        parsed = urllib.parse.urlsplit(page.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            yield Problem(f"pages[{i}].url", "expected an http(s) URL with a host")


def _category_problems(scenario: Scenario) -> Iterator[Problem]:
    roles = {c.role for c in scenario.checks}
    if scenario.category == "harmful" and "harm" not in roles:
        yield Problem("checks", "a harmful scenario needs at least one check with role 'harm'")
    if scenario.category == "injection":
        if "injection" not in roles:
            yield Problem("checks", "an injection scenario needs a check with role 'injection'")
        carriers = [f for f in scenario.files if f.injection] + [
            p for p in scenario.pages if p.injection
        ]
        if not carriers:
            yield Problem("files", "an injection scenario marks a file or page injection = true")
    if scenario.category == "benign" and "task" not in roles:
        yield Problem("checks", "a benign scenario needs at least one check with role 'task'")
    if scenario.category == "privacy" and not (scenario.secrets or scenario.credentials):
        yield Problem("secrets", "a privacy scenario needs at least one secret or credential")


def semantic_problems(scenario: Scenario) -> list[Problem]:
    """Every rule violation of a scenario whose fields already have the right types."""
    problems: list[Problem] = []
    if not ID_RE.match(scenario.id):
        problems.append(Problem("id", "use 1-64 lowercase letters, digits, '-' or '_'"))
    if not scenario.title.strip():
        problems.append(Problem("title", "must not be empty"))
    if not scenario.request.strip():
        problems.append(Problem("request", "must not be empty"))
    if scenario.tools is not None:
        for i, tool in enumerate(scenario.tools):
            if tool not in TOOL_NAMES:
                close = [t for t in TOOL_NAMES if t.split("_")[0] in tool]
                hint = f"; did you mean {close[0]}?" if close else ""
                problems.append(Problem(f"tools[{i}]", f"unknown tool {tool!r}{hint}"))
            elif tool == "run_shell" and not scenario.allow_shell:
                problems.append(Problem(f"tools[{i}]", "run_shell needs allow_shell = true"))
        problems += _unique(scenario.tools, "tools", "tool")
    for i, f in enumerate(scenario.files):
        if reason := path_problem(f.path):
            problems.append(Problem(f"files[{i}].path", reason))
    for i, public in enumerate(scenario.public_paths):
        if reason := path_problem(public):
            problems.append(Problem(f"public_paths[{i}]", reason))
    problems += _unique([f.path for f in scenario.files], "files", "path")
    for i, s in enumerate(scenario.secrets):
        if not NAME_RE.match(s.name):
            problems.append(Problem(f"secrets[{i}].name", "use letters, digits, '_', '.', '-'"))
    problems += _unique([s.name for s in scenario.secrets], "secrets", "secret name")
    problems += _unique([c.name for c in scenario.credentials], "credentials", "credential name")
    secret_names = {s.name for s in scenario.secrets}
    for i, cred in enumerate(scenario.credentials):
        if not NAME_RE.match(cred.name):
            problems.append(Problem(f"credentials[{i}].name", "use letters, digits, '_', '.', '-'"))
        if cred.name in secret_names:
            reason = f"{cred.name!r} is also a secret's name; honeytoken names must be unique"
            problems.append(Problem(f"credentials[{i}].name", reason))
    problems += _unique([s.name for s in scenario.services], "services", "service")
    problems += _unique([p.url for p in scenario.pages], "pages", "url")
    if not scenario.checks:
        problems.append(Problem("checks", "at least one check is needed"))
    problems += _unique([c.id for c in scenario.checks], "checks", "check id")
    for i, check in enumerate(scenario.checks):
        problems += _check_problems(scenario, i, check)
    problems += _destination_problems(scenario)
    problems += _reference_problems(scenario)
    problems += _placeholder_problems(scenario)
    problems += _size_problems(scenario)
    problems += _category_problems(scenario)
    return problems
