"""Resource limits of one sandbox container and of each call made into it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps applied to a sandbox; the defaults suit a small agent on a laptop."""

    memory_mb: int = 256
    """Memory of the whole container (tmpfs contents count too); no swap on top."""
    pids: int = 64
    """Processes and threads the container may hold at once (stops fork bombs)."""
    cpus: float = 1.0
    """CPU share, in cores."""
    workspace_mb: int = 64
    """Size of the in-memory filesystem holding the workspace, vault and logs."""
    tmp_mb: int = 32
    """Size of the /tmp scratch filesystem."""
    call_timeout_s: int = 10
    """Wall-clock limit of one tool call, enforced inside the box with SIGKILL."""
    output_cap_bytes: int = 16 * 1024
    """Observation size kept from one call; the rest is cut with a marker."""
    max_payload_bytes: int = 64 * 1024
    """Largest string argument a tool accepts (file content, message body, ...)."""
    state_file_cap_bytes: int = 256 * 1024
    """Largest workspace file read back into the final state (longer ones are cut)."""
    state_total_cap_bytes: int = 8 * 1024 * 1024
    """Most bytes read back from the box for the final state."""

    def __post_init__(self) -> None:
        for name in ("memory_mb", "pids", "workspace_mb", "tmp_mb", "call_timeout_s"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")
        if self.call_timeout_s > 100:
            # the host waits for a call on a socket read that gives up after 120 s
            raise ValueError("Limits.call_timeout_s must be at most 100")
        if self.cpus <= 0:
            raise ValueError("Limits.cpus must be positive")
        if not 0 < self.max_payload_bytes <= 100 * 1024:
            # one argv string is capped at 128 KiB by the kernel (MAX_ARG_STRLEN)
            raise ValueError("Limits.max_payload_bytes must be in 1..102400")
