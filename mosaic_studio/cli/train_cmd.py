"""`mosaic train dpo|grpo ...` and `mosaic jobs [show|cancel|resume] ID`: training jobs.

A job runs as its own process (see `mosaic_studio.jobs`); `--follow` prints its progress until
it ends (Ctrl-C stops following, not the job). `--json` prints JSON instead of text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sqlmodel import Session

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.tables import Job

# Flags of `mosaic train` copied into the job's settings (argparse dest -> trainer field).
COMMON_FLAGS: dict[str, tuple[type, str]] = {
    "max_steps": (int, "optimizer steps (default 50)"),
    "batch_size": (int, "examples per step (default 2)"),
    "learning_rate": (float, "peak learning rate (default 1e-4)"),
    "lora_r": (int, "LoRA rank (default 16)"),
    "save_steps": (int, "checkpoint every N steps (default 10)"),
    "seed": (int, "random seed"),
}
DPO_FLAGS: dict[str, tuple[type, str]] = {
    "beta": (float, "DPO beta (default 0.1)"),
    "sft_weight": (float, "weight of the SFT term on the chosen side (default 1.0)"),
    "max_length": (int, "tokens per prompt+completion (default 2048)"),
}
GRPO_FLAGS: dict[str, tuple[type, str]] = {
    "scenarios": (str, "a split (train|test) or comma-separated scenario ids/paths"),
    "num_generations": (int, "rollouts per scenario (default 4)"),
    "max_new_tokens": (int, "new tokens per assistant turn (default 192)"),
    "max_turns": (int, "assistant turns per rollout (default: the scenario's max_steps)"),
    "max_completion_length": (int, "tokens of a whole rollout (default 1024)"),
    "temperature": (float, "sampling temperature (default 0.9)"),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = sub.add_parser("train", help="start a preference training job (DPO or GRPO)")
    kinds = train.add_subparsers(dest="kind", metavar="KIND", required=True)
    dpo = kinds.add_parser("dpo", help="DPO (+SFT) with a LoRA adapter on exported pairs")
    dpo.add_argument("--data", required=True, help="preference pairs from `mosaic export`")
    grpo = kinds.add_parser("grpo", help="GRPO with rollouts in sandboxes and a pairwise judge")
    for parser, flags in ((dpo, DPO_FLAGS), (grpo, GRPO_FLAGS)):
        parser.add_argument("--model", default="smollm2", help="base model spec (smollm2|hf:PATH)")
        parser.add_argument("--output", help="folder for checkpoints and the adapter")
        parser.add_argument("--follow", action="store_true", help="print progress until it ends")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--num-processes", type=int, default=1, help="processes for accelerate (GPUs)"
        )
        for name, (kind, text) in {**COMMON_FLAGS, **flags}.items():
            parser.add_argument("--" + name.replace("_", "-"), type=kind, help=text)
        if parser is dpo:
            parser.add_argument("--no-sft", action="store_true", help="plain DPO, no SFT term")
        parser.set_defaults(handler=run_train)

    jobs = sub.add_parser("jobs", help="list training jobs; show, cancel or resume one")
    jobs.add_argument("--json", action="store_true", help="print JSON")
    jobs.set_defaults(handler=run_jobs_list)
    actions = jobs.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="a job's settings, progress and result")
    show.add_argument("job_id", metavar="ID")
    show.add_argument("--follow", action="store_true", help="print progress until it ends")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_jobs_show)
    cancel = actions.add_parser("cancel", help="stop a job (it saves a checkpoint first)")
    cancel.add_argument("job_id", metavar="ID")
    cancel.add_argument("--json", action="store_true", help="print JSON")
    cancel.set_defaults(handler=run_jobs_cancel)
    resume = actions.add_parser("resume", help="start a job again from its last checkpoint")
    resume.add_argument("job_id", metavar="ID")
    resume.add_argument("--follow", action="store_true", help="print progress until it ends")
    resume.add_argument("--json", action="store_true", help="print JSON")
    resume.set_defaults(handler=run_jobs_resume)


def job_summary(job: Job) -> dict[str, Any]:
    """A job as a JSON-safe dict (what `--json` prints)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "base": job.config.get("base"),
        "output_dir": job.output_dir,
        "adapter": job.adapter_path,
        "model_spec": f"{job.config.get('base')}+lora:{job.adapter_path}"
        if job.adapter_path
        else None,
        "progress": job.last_progress,
        "error": job.error,
        "config": job.config,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def describe_event(event: dict[str, Any]) -> str | None:
    """One human line for a progress event (None for events not worth a line)."""
    kind = event.get("event")
    if kind == "log":
        parts = [f"step {event.get('step')}/{event.get('max_steps')}"]
        for key, label in (
            ("loss", "loss"),
            ("rewards/margins", "margin"),
            ("rewards/accuracies", "acc"),
            ("reward", "reward"),
        ):
            value = event.get(key)
            if isinstance(value, int | float):
                parts.append(f"{label} {value:.3f}")
        eta = event.get("eta_s")
        if isinstance(eta, int | float):
            parts.append(f"eta {int(eta) // 60}m{int(eta) % 60:02d}s")
        return "  ".join(parts)
    if kind == "done":
        return f"done: adapter {event.get('adapter')}"
    if kind == "cancelled":
        return f"cancelled at step {event.get('step')} (checkpoint {event.get('checkpoint')})"
    if kind == "error":
        return f"error: {event.get('message')}"
    if kind == "launch":
        return f"launched with {event.get('how')}"
    if kind in ("data", "resume", "rollouts"):
        fields = ", ".join(f"{k}={v}" for k, v in event.items() if k != "event")
        return f"{kind}: {fields}"
    return None


def follow(job_id: str, as_json: bool) -> int:
    """Print a job's progress until it ends; exit code 0 unless it failed."""
    from mosaic_studio.jobs import watch_job

    try:
        for event in watch_job(job_id):
            line = json.dumps(event) if as_json else describe_event(event)
            if line:
                print(line, flush=True)
    except KeyboardInterrupt:
        print(f"stopped following; the job goes on (mosaic jobs cancel {job_id})", file=sys.stderr)
        return 130
    status, error = _wait_final(job_id)
    if not as_json:
        print(f"job {job_id}: {status}")
        if status == "failed" and error:
            print(error, file=sys.stderr)
    return 1 if status == "failed" else 0


def _wait_final(job_id: str, timeout_s: float = 60.0) -> tuple[str, str | None]:
    """The job's status once its supervisor has recorded the end (or after `timeout_s`)."""
    from mosaic_studio.jobs import FINAL_STATUSES

    deadline = time.monotonic() + timeout_s
    while True:
        with Session(get_engine()) as session:
            job = session.get(Job, job_id)
            if job is None:
                return "failed", "the job's record is gone"
            if job.status in FINAL_STATUSES or time.monotonic() > deadline:
                return job.status, job.error
        time.sleep(0.3)


def run_train(args: argparse.Namespace) -> int:
    from mosaic_studio.jobs import start_job

    settings: dict[str, Any] = {"base": args.model, "num_processes": args.num_processes}
    if args.output:
        settings["output"] = args.output
    if args.kind == "dpo":
        settings["data"] = args.data
        settings["sft"] = not args.no_sft
    flags = DPO_FLAGS if args.kind == "dpo" else GRPO_FLAGS
    for name in {**COMMON_FLAGS, **flags}:
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    if (args.max_steps or 1) < 1:
        raise UserError("--max-steps must be at least 1")
    job = start_job(args.kind, settings)
    if args.json and not args.follow:
        print(json.dumps(job_summary(job)))
    elif not args.json:
        print(f"job {job.id} started ({args.kind} on {args.model}); log {job.log_path}")
    if args.follow:
        return follow(job.id, args.json)
    if not args.json:
        print(f"follow it: mosaic jobs show {job.id} --follow")
    return 0


def _ago(ts: float | None) -> str:
    if ts is None:
        return "-"
    seconds = int(time.time() - ts)
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def run_jobs_list(args: argparse.Namespace) -> int:
    from mosaic_studio.jobs import list_jobs, refresh_jobs

    engine = get_engine()
    refresh_jobs(engine)
    with Session(engine) as session:
        jobs = list_jobs(session)
        if args.json:
            print(json.dumps([job_summary(j) for j in jobs]))
            return 0
        if not jobs:
            print("no training jobs yet (start one: mosaic train dpo --data FILE)")
            return 0
        print(f"{'ID':16}  {'KIND':4}  {'STATUS':9}  {'STEP':9}  {'LOSS':7}  {'STARTED':9}  BASE")
        for job in jobs:
            progress = job.last_progress or {}
            step = f"{progress.get('step', '-')}/{progress.get('max_steps', '-')}"
            loss = progress.get("loss")
            loss_text = f"{loss:.3f}" if isinstance(loss, int | float) else "-"
            print(
                f"{job.id:16}  {job.kind:4}  {job.status:9}  {step:9}  {loss_text:7}  "
                f"{_ago(job.started_at or job.created_at):9}  {job.config.get('base')}"
            )
    return 0


def _find(session: Session, job_id: str) -> Job:
    from mosaic_studio.jobs import get_job

    job = get_job(session, job_id)
    if job is None:
        raise UserError(f"no job {job_id!r} (see `mosaic jobs`)")
    return job


def run_jobs_show(args: argparse.Namespace) -> int:
    from mosaic_studio.jobs import log_tail, refresh_jobs

    engine = get_engine()
    refresh_jobs(engine)
    with Session(engine) as session:
        job = _find(session, args.job_id)
        summary = job_summary(job)
        tail = log_tail(job) if job.status == "failed" else ""
    if args.follow:
        return follow(summary["id"], args.json)
    if args.json:
        print(json.dumps(summary))
        return 0
    for key in ("id", "kind", "status", "base", "output_dir", "adapter", "model_spec"):
        if summary[key] is not None:
            print(f"{key:11} {summary[key]}")
    line = describe_event(summary["progress"]) if summary["progress"] else None
    if line:
        print(f"{'progress':11} {line}")
    settings = {k: v for k, v in job.config.items() if k not in ("base", "base_path")}
    print(f"{'settings':11} {json.dumps(settings)}")
    if summary["error"]:
        print(f"{'error':11} {summary['error']}")
    elif tail:
        print(tail)
    return 0


def run_jobs_cancel(args: argparse.Namespace) -> int:
    from mosaic_studio.jobs import cancel_job

    job = cancel_job(args.job_id)
    if args.json:
        print(json.dumps(job_summary(job)))
    else:
        print(f"job {job.id}: cancel requested (it saves a checkpoint, then stops)")
    return 0


def run_jobs_resume(args: argparse.Namespace) -> int:
    from mosaic_studio.jobs import start_job

    with Session(get_engine()) as session:
        old = _find(session, args.job_id)
        if old.status in ("queued", "running"):
            raise UserError(f"job {old.id} is still {old.status}")
        settings = {**old.config, "output": old.output_dir, "resume": True}
        kind = old.kind
    job = start_job(kind, settings)
    if not args.json:
        print(f"job {job.id} resumes job {args.job_id} from {job.output_dir}")
    elif not args.follow:
        print(json.dumps(job_summary(job)))
    if args.follow:
        return follow(job.id, args.json)
    return 0
