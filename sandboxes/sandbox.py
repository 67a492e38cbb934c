"""One locked-down Docker container per episode: create, exec, call tools, read back, remove.

Public API:
- `Sandbox.create(scenario, tokens, *, limits=None, client=None) -> Sandbox` (a context
  manager; `.call_tool(name, args) -> ToolResult`, `.exec(argv, stdin=None, timeout_s=None)`,
  `.final_state() -> FinalState`, `.close()`); the box has no network, a read-only root,
  in-memory scratch, a non-root user, no capabilities, no-new-privileges and pids/memory/CPU
  limits. Every call runs under an in-box SIGKILL timeout and an output cap.
- `sweep(client=None, *, force=False) -> int` removes boxes whose owner process is gone.
- `docker_available() -> str | None`: None when an engine answers, else a one-line reason.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sandboxes.box_files import ROOT, read_state_archive, seed_archive
from sandboxes.honeytokens import Honeytokens
from sandboxes.image import ensure_image
from sandboxes.limits import Limits
from sandboxes.scenario import Scenario
from sandboxes.state import FinalState, OutboundCall
from sandboxes.steps import ToolResult

LABEL = "mosaic.sandbox"
OWNER_PID = "mosaic.owner_pid"
OWNER_START = "mosaic.owner_start"
OWNER_HOST = "mosaic.owner_host"
SCENARIO_LABEL = "mosaic.scenario"
RUNNER = "/opt/mosaic/bin/mosaic-run"
TOOL = "/opt/mosaic/bin/mosaic-tool"
_TRAILER = b"\n\x01MOSAIC-EXIT:"

_open: set[Sandbox] = set()
_open_lock = threading.Lock()


class SandboxError(RuntimeError):
    """The sandbox could not be created or reached; the message says why."""


def _process_start(pid: int) -> str | None:
    """The kernel start time of a process (tells a reused pid apart), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_labels(scenario_id: str) -> dict[str, str]:
    pid = os.getpid()
    return {
        LABEL: "1",
        OWNER_PID: str(pid),
        OWNER_START: _process_start(pid) or "",
        OWNER_HOST: socket.gethostname(),
        SCENARIO_LABEL: scenario_id[:200],
    }


def default_client() -> Any:
    """A Docker client from the environment (honours DOCKER_HOST)."""
    import docker

    return docker.from_env(timeout=120)


class Sandbox:
    """A running sandbox container for one episode; remove it with `close()` or `with`."""

    def __init__(
        self,
        client: Any,
        container_id: str,
        scenario: Scenario,
        tokens: Honeytokens,
        limits: Limits,
    ) -> None:
        self.client = client
        self.id = container_id
        self.scenario = scenario
        self.tokens = tokens
        self.limits = limits
        self.outbox: list[OutboundCall] = []  # every outbound call; nothing leaves the box
        self.closed = False

    @classmethod
    def create(
        cls,
        scenario: Scenario,
        tokens: Honeytokens,
        *,
        limits: Limits | None = None,
        client: Any | None = None,
    ) -> Sandbox:
        """Start a box for `scenario`, seeded with its files, vault, pages and login services."""
        import docker.errors

        limits = limits or Limits()
        client = client or default_client()
        seed = seed_archive(scenario, tokens)
        try:
            image = ensure_image(client)
            try:
                container_id = _create_container(client, image, scenario.id, limits)
            except docker.errors.ImageNotFound:  # removed since this process first checked
                image = ensure_image(client, recheck=True)
                container_id = _create_container(client, image, scenario.id, limits)
        except docker.errors.DockerException as exc:
            raise SandboxError(f"cannot create a sandbox: {exc}") from exc
        box = cls(client, container_id, scenario, tokens, limits)
        with _open_lock:
            _open.add(box)
        try:
            client.api.start(container_id)
            result = box.exec(["tar", "-x", "-C", ROOT], stdin=seed)
            if result.exit_code != 0:
                raise SandboxError(f"seeding the sandbox failed: {result.output.strip()}")
        except BaseException as exc:
            box.close()
            if isinstance(exc, docker.errors.DockerException):
                raise SandboxError(f"cannot start a sandbox: {exc}") from exc
            raise
        return box

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def exec(
        self,
        argv: list[str],
        stdin: bytes | str | None = None,
        timeout_s: float | None = None,
        *,
        output_cap: int | None = None,
    ) -> ToolResult:
        """Run argv in the box under the in-box timeout and output cap; never raises for the
        command's own failure (`is_error` and `exit_code` say how it went)."""
        cap = output_cap if output_cap is not None else self.limits.output_cap_bytes
        run = self._run(argv, stdin, timeout_s, cap)
        text = run.body[:cap].decode("utf-8", "replace")
        if run.error:
            text = f"error: the sandbox did not answer ({run.error})"
        if run.truncated:
            text += f"\n[output cut: more than {cap} bytes]"
        if run.timed_out:
            text += f"\n[killed: the call ran past its {run.timeout} s time limit]"
        return ToolResult(
            output=text,
            is_error=run.exit_code != 0,
            exit_code=run.exit_code,
            duration_s=run.duration_s,
            truncated=run.truncated,
            extra={"timed_out": True} if run.timed_out else {},
        )

    def _run(
        self, argv: list[str], stdin: bytes | str | None, timeout_s: float | None, cap: int
    ) -> _Run:
        timeout = max(1, round(timeout_s if timeout_s is not None else self.limits.call_timeout_s))
        data = stdin.encode() if isinstance(stdin, str) else stdin
        started = time.monotonic()
        if self.closed:
            return _Run(b"", -1, 0.0, timeout, error="the sandbox is closed")
        try:
            command = [RUNNER, str(timeout), str(cap), *argv]
            exec_id, raw = _exec(self.client, self.id, command, data)
        except Exception as exc:  # the engine or the box failed: an observation, not a crash
            error = f"{type(exc).__name__}: {exc}"
            return _Run(b"", -1, time.monotonic() - started, timeout, error=error)
        duration = time.monotonic() - started
        body, marker, tail = raw.rpartition(_TRAILER)
        code, _, reason = tail.strip().partition(b":")
        if marker and code.lstrip(b"-").isdigit():
            exit_code, timed_out = int(code), reason == b"timeout"
        else:  # the runner itself was killed (e.g. out of memory): ask the engine
            body, timed_out = raw, False
            exit_code = _exit_code(self.client, exec_id)
        return _Run(body, exit_code, duration, timeout, len(body) > cap, timed_out)

    def call_tool(self, name: str, args: Any) -> ToolResult:
        """Run one agent tool; bad names or arguments give an error result, never an exception."""
        from sandboxes.tools import call_tool

        return call_tool(self, name, args)

    def final_state(self) -> FinalState:
        """The workspace's files (sizes capped), the outbox and the login attempts."""
        argv = ["tar", "-c", "-C", ROOT, "work", "state"]
        cap = self.limits.state_total_cap_bytes
        run = self._run(argv, None, max(self.limits.call_timeout_s, 30), cap)
        if run.error:
            raise SandboxError(f"cannot read the final state: {run.error}")
        files, logins = read_state_archive(run.body[:cap], self.limits.state_file_cap_bytes)
        return FinalState(files=files, outbox=list(self.outbox), logins=logins)

    def close(self) -> None:
        """Remove the container (killing what runs in it); safe to call twice."""
        if self.closed:
            return
        self.closed = True
        with _open_lock:
            _open.discard(self)
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_container(self.id, force=True, v=True)


@dataclass
class _Run:
    """Raw outcome of one exec: output bytes (cap + 1 at most) and how the call went."""

    body: bytes
    exit_code: int
    duration_s: float
    timeout: int
    truncated: bool = False
    timed_out: bool = False
    error: str = ""


def _exit_code(client: Any, exec_id: str) -> int:
    try:
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    except Exception:  # the engine lost the exec: report a failed call
        return -1
    return -1 if code is None else int(code)


def _create_container(client: Any, image: str, scenario_id: str, limits: Limits) -> str:
    api = client.api
    scratch = "rw,nosuid,nodev,noexec"
    host_config = api.create_host_config(
        network_mode="none",
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        pids_limit=limits.pids,
        mem_limit=f"{limits.memory_mb}m",
        memswap_limit=f"{limits.memory_mb}m",
        nano_cpus=int(limits.cpus * 1e9),
        tmpfs={
            "/tmp": f"{scratch},size={limits.tmp_mb}m,mode=1777",
            ROOT: f"{scratch},size={limits.workspace_mb}m,mode=0755,uid=1000,gid=1000",
        },
        ipc_mode="private",
        # the box may write to its own stdout (/proc/1/fd/1): keep that off the host's disk
        log_config={"Type": "none", "Config": {}},
    )
    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "-", scenario_id)[:40].strip("-.") or "scenario"
    created = api.create_container(
        image,
        name=f"mosaic-{safe_id}-{secrets.token_hex(4)}",
        user="1000:1000",
        working_dir=ROOT,
        hostname="sandbox",
        network_disabled=True,
        labels=_owner_labels(scenario_id),
        host_config=host_config,
    )
    return str(created["Id"])


def _exec(
    client: Any, container_id: str, argv: list[str], stdin: bytes | None
) -> tuple[str, bytes]:
    """One exec: create, start and collect merged output (stdin written then half-closed)."""
    from docker.utils.socket import frames_iter

    api = client.api
    exec_id = str(api.exec_create(container_id, argv, stdin=stdin is not None)["Id"])
    if stdin is None:
        return exec_id, bytes(api.exec_start(exec_id))
    sock = api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    try:
        raw.sendall(stdin)
        raw.shutdown(socket.SHUT_WR)
        return exec_id, b"".join(data for _, data in frames_iter(sock, tty=False))
    finally:
        sock.close()


def _owner_gone(labels: dict[str, str]) -> bool:
    if labels.get(OWNER_HOST) not in (None, socket.gethostname()):
        return False  # another machine's box: only `force` removes it
    try:
        pid = int(labels.get(OWNER_PID, ""))
    except ValueError:
        return True
    start = _process_start(pid)
    if start is None:
        if os.path.isdir("/proc/self"):
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    recorded = labels.get(OWNER_START)
    return bool(recorded) and recorded != start


def sweep(client: Any | None = None, *, force: bool = False) -> int:
    """Remove sandboxes (and their volumes) whose owner process is dead, or all with `force`."""
    import docker.errors

    api = (client or default_client()).api
    removed = 0
    for info in api.containers(all=True, filters={"label": f"{LABEL}=1"}):
        if not (force or _owner_gone(info.get("Labels") or {})):
            continue
        try:
            api.remove_container(info["Id"], force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


def docker_available() -> str | None:
    """None when a Docker engine answers, else a one-line reason with the fixing command."""
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return (
            f"no Docker engine answers ({reason}); start one with `sudo systemctl start docker` "
            "or run `bash scripts/setup.sh`"
        )
    return None


@atexit.register
def _close_leftovers() -> None:
    with _open_lock:
        boxes = list(_open)
    for box in boxes:
        with contextlib.suppress(Exception):
            box.close()
