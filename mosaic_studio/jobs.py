"""Launch, watch and cancel training jobs as separate processes, recorded in the `Job` table.

API (used by the CLI and the TUI):
- `start_job(kind, config, *, db_url=None) -> Job`: check the settings, resolve the base model
  (`smollm2` → the de-quantised embedded checkpoint, `hf:PATH` → PATH), record a `queued` job
  and start its supervisor, a detached `python -m mosaic_studio.jobs supervise ID` process.
- `watch_job(job_id, *, follow=True) -> Iterator[dict]`: the job's progress events (its
  JSON-lines log, tailed), ending after `done`, `cancelled` or `error`, or when the job ends.
- `cancel_job(job_id) -> Job`: SIGTERM to the supervisor, which forwards it to the trainer (it
  saves a checkpoint and stops); a queued job is simply marked cancelled.
- `list_jobs(session)`, `get_job(session, id)`, `refresh_jobs(engine)` (mark jobs whose
  supervisor died as failed, with the log tail).

The supervisor runs the trainer through `accelerate launch` (plain python when accelerate
cannot launch, noted in the log), copies progress into `Job.last_progress`, and when the
trainer finishes marks the job finished / cancelled / failed. A finished job's adapter is
registered as a `ModelVersion` with spec `BASE+lora:DIR`, its data, settings and metrics.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.liveness import pid_alive, this_host
from mosaic_studio.store.paths import data_dir, database_url
from mosaic_studio.store.queries import register_model_version
from mosaic_studio.store.tables import Job
from trainer.config import DPOJobConfig, GRPOJobConfig, JobConfig, config_to_argv

JOB_CONFIGS: dict[str, type[JobConfig]] = {"dpo": DPOJobConfig, "grpo": GRPOJobConfig}
TERMINAL_EVENTS = frozenset({"done", "cancelled", "error"})
FINAL_STATUSES = frozenset({"finished", "failed", "cancelled"})
LAUNCHER_KEYS = frozenset({"num_processes"})  # settings of `accelerate launch`, not the trainer
TAIL_LINES = 20
_GRACE_S = 180.0  # how long a cancelled trainer may take to save before it is killed


# --- starting ------------------------------------------------------------------------------


def resolve_base(spec: str) -> str:
    """The local checkpoint folder of a base model spec (`smollm2` or `hf:PATH`)."""
    if spec == "smollm2":
        from mosaic_studio.models.embedded import EmbeddedModelError, prepare

        try:
            return str(prepare(quiet=True))
        except EmbeddedModelError as exc:
            raise UserError(str(exc)) from None
    if spec.startswith("hf:"):
        path = Path(spec.removeprefix("hf:")).expanduser()
        if (path / "config.json").is_file():
            return str(path.resolve())
        raise UserError(f"{spec}: training needs a local transformers checkpoint folder")
    raise UserError(
        f"cannot train on {spec!r}: use smollm2 or hf:PATH (a local checkpoint) as the base"
    )


def build_config(kind: str, settings: dict[str, Any], output: str) -> JobConfig:
    """The trainer config of a job from its settings (unknown keys are an error)."""
    if kind not in JOB_CONFIGS:
        raise UserError(f"unknown job kind {kind!r}: expected one of {sorted(JOB_CONFIGS)}")
    cls = JOB_CONFIGS[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in settings.items() if k not in LAUNCHER_KEYS}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"unknown {kind} settings: {', '.join(unknown)}")
    values["output"] = output
    try:
        return cls(**values)
    except TypeError as exc:
        raise UserError(f"bad {kind} settings: {exc}") from None


def start_job(kind: str, config: dict[str, Any], *, db_url: str | None = None) -> Job:
    """Record a job and start its supervisor process; returns the `Job` row."""
    settings = dict(config)
    base = str(settings.get("base") or "smollm2")
    settings["base"] = base
    if kind == "dpo":
        data = settings.get("data")
        if not data or not Path(str(data)).is_file():
            raise UserError(f"no preference data at {data!r} (export some with `mosaic export`)")
        settings["data"] = str(Path(str(data)).resolve())
    job_id = Job(kind=kind).id
    output = Path(str(settings.pop("output", None) or data_dir() / "jobs" / job_id)).resolve()
    build_config(kind, settings, str(output))  # fail before anything is recorded
    settings.setdefault("base_path", resolve_base(base))
    job = Job(id=job_id, kind=kind, config=settings, output_dir=str(output), host=this_host())
    job.log_path = str(output / f"progress-{job_id}.jsonl")  # a resumed job shares the folder
    output.mkdir(parents=True, exist_ok=True)
    url = database_url(db_url)
    engine = get_engine(url)
    with Session(engine) as session:
        session.add(job)
        session.commit()
        session.refresh(job)
    env = {**os.environ, "MOSAIC_DB_URL": url}
    with open(output / "supervisor.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mosaic_studio.jobs", "supervise", job.id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    with Session(engine) as session:
        row = session.get(Job, job.id)
        assert row is not None
        if row.pid is None:
            row.pid = proc.pid
            session.add(row)
            session.commit()
        session.refresh(row)
        return row


def cpu_threads(num_processes: int) -> int:
    """Threads per trainer process: `OMP_NUM_THREADS` if set, else the CPUs shared out."""
    configured = os.environ.get("OMP_NUM_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return max(1, (available or os.cpu_count() or 1) // max(1, num_processes))


def trainer_command(kind: str, config: JobConfig, num_processes: int = 1) -> tuple[list[str], str]:
    """The trainer's command line, through `accelerate launch` when it is there, and a note."""
    module = f"trainer.{kind}"
    args = config_to_argv(config)
    if importlib.util.find_spec("accelerate") is not None:
        launch = [sys.executable, "-m", "accelerate.commands.launch"]
        launch += ["--num_processes", str(num_processes), "--num_machines", "1"]
        launch += ["--mixed_precision", "no", "--dynamo_backend", "no"]
        # Without this, accelerate pins a CPU job to one thread (OMP_NUM_THREADS=1).
        launch += ["--num_cpu_threads_per_process", str(cpu_threads(num_processes))]
        return [*launch, "-m", module, *args], "accelerate launch"
    return [sys.executable, "-m", module, *args], "plain python (accelerate is not installed)"


# --- the supervisor process ----------------------------------------------------------------


def _become_subreaper() -> None:
    """Adopt orphaned grandchildren (the trainer under accelerate) so they can be awaited."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def trainer_pids(root: int, module: str) -> list[int]:
    """Processes under `root` (itself included) running `python -m module ...`."""
    children: dict[int, list[int]] = {}
    commands: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        commands[int(entry.name)] = argv[1:3]
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        if commands.get(pid) == ["-m", module]:  # `python -m module`, not its launcher
            found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _group_alive(pgid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass  # reap what has exited
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _update(engine: Engine, job_id: str, **fields: Any) -> None:
    with Session(engine) as session:
        row = session.get(Job, job_id)
        if row is None:
            return
        for name, value in fields.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def supervise(job_id: str) -> int:
    """Run one job's trainer to its end and record the result (the supervisor's body)."""
    cancelled = False

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal cancelled
        cancelled = True

    signal.signal(signal.SIGTERM, on_sigterm)
    engine = get_engine()
    with Session(engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "queued":
            print(f"no queued job {job_id}", file=sys.stderr)
            return 2
        kind, settings, output = job.kind, dict(job.config), Path(job.output_dir)
        log_path, err_path = Path(job.log_path), stderr_path(job)
    try:
        config = build_config(kind, settings, str(output))
        command, how = trainer_command(kind, config, int(settings.get("num_processes", 1)))
    except (UserError, ValueError) as exc:
        _update(engine, job_id, status="failed", error=str(exc), finished_at=time.time())
        return 1
    _become_subreaper()
    with open(log_path, "a") as log:
        log.write(json.dumps({"event": "launch", "how": how, "command": command}) + "\n")
    if cancelled:
        finish(engine, job_id, returncode=None, cancelled=True)
        return 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "a") as log, open(err_path, "a") as err:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=err,
            env=env,
            start_new_session=True,
        )
    _update(engine, job_id, status="running", started_at=time.time(), pid=os.getpid())
    signalled_at: float | None = None
    offset = 0
    while True:
        if cancelled and signalled_at is None:
            # Only the trainer processes: accelerate's launcher would kill them 5 s after a
            # SIGTERM of its own, before a checkpoint is written; it exits when they do.
            for pid in trainer_pids(proc.pid, f"trainer.{kind}") or [proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            signalled_at = time.monotonic()
        if signalled_at is not None and time.monotonic() - signalled_at > _GRACE_S:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        events, offset = read_events(log_path, offset)
        progress = [e for e in events if e.get("event") == "log"]
        if progress:
            _update(engine, job_id, last_progress=progress[-1])
        if proc.poll() is not None and not _group_alive(proc.pid):
            break
        time.sleep(0.5)
    finish(engine, job_id, returncode=proc.returncode, cancelled=cancelled)
    return 0


def finish(engine: Engine, job_id: str, *, returncode: int | None, cancelled: bool) -> Job:
    """Mark a job by the last event of its log; register the adapter of a finished one."""
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        events, _ = read_events(Path(job.log_path), 0)
        last = next((e for e in reversed(events) if e.get("event") in TERMINAL_EVENTS), None)
        logs = [e for e in events if e.get("event") == "log"]
        if logs:
            job.last_progress = logs[-1]
        job.finished_at = time.time()
        if last is not None and last["event"] == "done":
            job.status = "finished"
            job.adapter_path = str(last.get("adapter"))
            session.add(job)
            session.commit()
            register_adapter(session, job, last, logs)
        elif (last is not None and last["event"] == "cancelled") or cancelled:
            job.status = "cancelled"
            job.error = None
        else:
            job.status = "failed"
            message = str(last.get("message")) if last is not None else ""
            job.error = message or f"the trainer exited with code {returncode}\n" + log_tail(job)
        session.add(job)
        session.commit()
        session.refresh(job)
        return job


def register_adapter(
    session: Session, job: Job, done: dict[str, Any], logs: list[dict[str, Any]]
) -> None:
    """Record a finished job's adapter as the model version `BASE+lora:DIR`."""
    base = str(job.config.get("base", "smollm2"))
    adapter = str(done["adapter"])
    metrics = {k: v for k, v in (logs[-1] if logs else {}).items() if k != "event"}
    metrics.update({k: done[k] for k in ("step", "final_loss", "elapsed_s") if k in done})
    data = done.get("data") or {"path": job.config.get("data") or job.config.get("scenarios")}
    register_model_version(
        session,
        f"{base}+lora:{adapter}",
        kind="adapter",
        base_spec=base,
        adapter_path=adapter,
        job_id=job.id,
        data=data if isinstance(data, dict) else {"value": data},
        settings={"kind": job.kind, **job.config},
        metrics=metrics,
    )


# --- reading, watching, cancelling ---------------------------------------------------------


def read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines after byte `offset` of a log, and the new offset (others skipped)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next read
    events: list[dict[str, Any]] = []
    for line in chunk[:end].splitlines():
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            value = json.loads(line)
            if isinstance(value, dict) and "event" in value:
                events.append(value)
    return events, offset + end


def stderr_path(job: Job) -> Path:
    """Where the trainer's stderr (warnings, tracebacks) goes, beside its progress log."""
    return Path(job.log_path).with_name(f"stderr-{job.id}.log")


def log_tail(job: Job, lines: int = TAIL_LINES) -> str:
    """The last lines of the trainer's stderr (where tracebacks go)."""
    path = stderr_path(job)
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def get_job(session: Session, job_id: str) -> Job | None:
    """A job by id or by a unique id prefix."""
    row = session.get(Job, job_id)
    if row is not None:
        return row
    matches = session.exec(select(Job).where(col(Job.id).startswith(job_id))).all()
    return matches[0] if len(matches) == 1 else None


def list_jobs(session: Session, status: str | None = None) -> list[Job]:
    """Jobs, newest first."""
    query = select(Job).order_by(col(Job.created_at).desc())
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.exec(query).all())


def runs_here(job: Job) -> bool:
    """Whether the job's pid is one of this machine's (rows from before hosts were stored are)."""
    return job.host is None or job.host == this_host()


def refresh_jobs(engine: Engine | None = None) -> list[str]:
    """Mark this host's queued/running jobs whose supervisor is gone as failed; their ids.

    Jobs of other hosts sharing a team database are left alone: their pids mean nothing here.
    """
    engine = engine or get_engine()
    changed: list[str] = []
    with Session(engine) as session:
        stale = [
            j.id
            for j in session.exec(select(Job).where(col(Job.status).in_(["queued", "running"])))
            if runs_here(j) and (j.pid is None or not pid_alive(j.pid, since=j.started_at))
        ]
    for job_id in stale:
        job = finish(engine, job_id, returncode=None, cancelled=False)
        if job.status == "failed" and job.error and job.error.startswith("the trainer exited"):
            _update(engine, job_id, error="the job's process stopped\n" + log_tail(job))
        changed.append(job_id)
    return changed


def cancel_job(job_id: str, *, engine: Engine | None = None) -> Job:
    """Ask a job to stop: it saves a checkpoint and ends as `cancelled`."""
    engine = engine or get_engine()
    with Session(engine) as session:
        job = get_job(session, job_id)
        if job is None:
            raise UserError(f"no job {job_id!r} (see `mosaic jobs`)")
        if job.status in FINAL_STATUSES:
            raise UserError(f"job {job.id} already {job.status}")
        if not runs_here(job):
            raise UserError(f"job {job.id} runs on {job.host}; cancel it there")
        alive = job.pid is not None and pid_alive(job.pid, since=job.started_at)
        if alive and job.pid is not None:
            os.kill(job.pid, signal.SIGTERM)
        else:
            job.status = "cancelled"
            job.finished_at = time.time()
            session.add(job)
            session.commit()
        session.refresh(job)
        return job


def watch_job(
    job_id: str, *, follow: bool = True, poll_s: float = 0.5, engine: Engine | None = None
) -> Iterator[dict[str, Any]]:
    """The job's progress events as they are written; stops at its end (or now, unfollowed)."""
    engine = engine or get_engine()
    with Session(engine) as session:
        job = get_job(session, job_id)
        if job is None:
            raise UserError(f"no job {job_id!r} (see `mosaic jobs`)")
        full_id, log_path = job.id, Path(job.log_path)
    offset = 0
    while True:
        events, offset = read_events(log_path, offset)
        for event in events:
            yield event
            if event.get("event") in TERMINAL_EVENTS:
                return
        if not follow:
            return
        with Session(engine) as session:
            row = session.get(Job, full_id)
            ended = row is None or row.status in FINAL_STATUSES
        if ended:
            events, offset = read_events(log_path, offset)
            yield from events
            return
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "supervise":
        return supervise(args[1])
    print("usage: python -m mosaic_studio.jobs supervise JOB_ID", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
