"""Find runs whose writer died: `mark_interrupted(engine)` at startup, and `pid_alive`."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from mosaic_studio.store.tables import Trajectory

# A process that started this long after a row was written cannot be the row's writer.
_PID_REUSE_SLACK_S = 2.0


def this_host() -> str:
    """The name stored with a writer's pid (pids only mean something on their own machine)."""
    return socket.gethostname()


def pid_alive(pid: int, since: float | None = None) -> bool:
    """Whether process `pid` runs here, and (when `since` is given) started before `since`.

    The second test catches a pid reused by a newer process after the writer died.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if since is None:
        return True
    started = _process_start_time(pid)
    return started is None or started <= since + _PID_REUSE_SLACK_S


def mark_interrupted(engine: Engine) -> list[str]:
    """Mark this host's `running` trajectories whose writer is gone as `interrupted`.

    Rows written on another host (a shared database) are left alone: their pid means
    nothing here. Returns the ids marked.
    """
    host = this_host()
    marked: list[str] = []
    with Session(engine) as session:
        query = select(Trajectory).where(
            Trajectory.status == "running",
            or_(col(Trajectory.host) == host, col(Trajectory.host).is_(None)),
        )
        for row in session.exec(query).all():
            if row.pid is not None and pid_alive(row.pid, since=row.started_at):
                continue
            row.status = "interrupted"
            row.error = row.error or "the process running it stopped before it finished"
            row.finished_at = row.finished_at or time.time()
            session.add(row)
            marked.append(row.id)
        session.commit()
    return marked


def _process_start_time(pid: int) -> float | None:
    """Start time of a process (epoch seconds) from /proc; None where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # Fields after the parenthesised command name; starttime is field 22 overall.
    after_name = stat.rsplit(")", 1)[1].split()
    ticks = int(after_name[19])
    return boot + ticks / os.sysconf("SC_CLK_TCK")
