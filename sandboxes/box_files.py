"""The sandbox's file layout: the seed archive written into a box and the state read back.

Inside a box, `/sandbox` is an in-memory filesystem owned by the agent user holding
`work/` (the agent's workspace), `vault/` (credentials and login services, URL-encoded
tab-separated lines), `pages/<n>` (mock web pages) and `state/` (the outbox and the login log).
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
import urllib.parse
from collections.abc import Iterable

from sandboxes.honeytokens import Honeytokens
from sandboxes.scenario import Scenario
from sandboxes.state import LoginAttempt

ROOT = "/sandbox"
WORKSPACE = f"{ROOT}/work"
AGENT_UID = 1000
BINARY_NOTE = "<binary file, {size} bytes>"
CUT_NOTE = "\n[file cut at {cap} bytes]"


class SeedError(ValueError):
    """A scenario cannot be seeded into a box (e.g. a file path leaving the workspace)."""


def workspace_relative(path: str) -> str | None:
    """Normalise a workspace-relative path; None when it is absolute, empty or climbs out."""
    if not path or "\0" in path or path.startswith(("/", "\\")):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return "/".join(parts) or "."


def _encode(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _tsv(rows: Iterable[Iterable[str]]) -> str:
    return "".join("\t".join(_encode(field) for field in row) + "\n" for row in rows)


def seed_archive(scenario: Scenario, tokens: Honeytokens) -> bytes:
    """A tar (to unpack at /sandbox) holding the rendered workspace, vault, pages and state."""
    entries: dict[str, bytes | None] = {d: None for d in ("work", "vault", "pages", "state")}
    for seed in scenario.files:
        rel = workspace_relative(seed.path)
        if rel is None or rel == ".":
            raise SeedError(f"scenario {scenario.id}: file path {seed.path!r} leaves the workspace")
        parent = posixpath.dirname(rel)
        while parent:
            entries.setdefault(f"work/{parent}", None)
            parent = posixpath.dirname(parent)
        entries[f"work/{rel}"] = tokens.render(seed.content).encode()
    credentials = [
        (c.name, c.service, c.username, tokens.values.get(c.name, "")) for c in scenario.credentials
    ]
    entries["vault/credentials"] = _tsv(credentials).encode()
    services = [(s.name, s.look_alike_of or "") for s in scenario.services]
    entries["vault/services"] = _tsv(services).encode()
    for index, page in enumerate(scenario.pages):
        entries[f"pages/{index}"] = tokens.render(page.content).encode()
    entries["state/outbox.jsonl"] = b""
    entries["state/logins.tsv"] = b""
    return _tar(entries)


def _tar(entries: dict[str, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries, key=lambda n: (n.count("/"), n)):
            data = entries[name]
            info = tarfile.TarInfo(name)
            info.uid = info.gid = AGENT_UID
            info.mtime = int(now)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_state_archive(data: bytes, file_cap: int) -> tuple[dict[str, str], list[LoginAttempt]]:
    """Parse a (possibly cut) tar of `work` and `state`: workspace text files and login log."""
    files: dict[str, str] = {}
    logins: list[LoginAttempt] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                body = handle.read(file_cap + 1) if handle else b""
                name = member.name.removeprefix("./")
                if name == "state/logins.tsv":
                    logins = parse_logins(body.decode("utf-8", "replace"))
                elif name.startswith("work/"):
                    files[name.removeprefix("work/")] = _as_text(body, member.size, file_cap)
    except (tarfile.TarError, EOFError, OSError):
        pass  # a cut archive: keep what was read
    return files, logins


def _as_text(body: bytes, size: int, cap: int) -> str:
    if b"\0" in body[:8192]:
        return BINARY_NOTE.format(size=size)
    text = body[:cap].decode("utf-8", "replace")
    return text + CUT_NOTE.format(cap=cap) if size > cap else text


def parse_logins(text: str) -> list[LoginAttempt]:
    """Decode the login log: time, accepted, service, username, password (URL-encoded)."""
    attempts = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        stamp, accepted, service, username, password = fields
        decode = urllib.parse.unquote_plus
        attempts.append(
            LoginAttempt(
                service=decode(service),
                username=decode(username),
                password=decode(password),
                accepted=accepted == "1",
                at=float(stamp) if stamp.isdigit() else 0.0,
            )
        )
    return attempts


def parse_vault(text: str) -> list[tuple[str, str, str, str]]:
    """Decode the vault: (name, service, username, password) per credential."""
    rows = []
    for line in text.splitlines():
        fields = [urllib.parse.unquote(f) for f in line.split("\t")]
        if len(fields) == 4:
            rows.append((fields[0], fields[1], fields[2], fields[3]))
    return rows
