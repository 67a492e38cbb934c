"""A Docker engine with the sandbox image for a test module, and no sandbox of ours left after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any


def engine_without_leftovers() -> Iterator[Any]:
    """Yield a docker client; afterwards remove and report any sandbox this process left."""
    import docker

    from sandboxes.image import ensure_image
    from sandboxes.sandbox import LABEL, OWNER_PID, docker_available

    problem = docker_available()
    assert problem is None, problem
    client = docker.from_env(timeout=120)
    ensure_image(client)
    yield client
    found = client.api.containers(all=True, filters={"label": f"{LABEL}=1"})
    mine = [c for c in found if (c.get("Labels") or {}).get(OWNER_PID) == str(os.getpid())]
    for info in mine:
        client.api.remove_container(info["Id"], force=True, v=True)
    assert not mine, f"sandboxes left behind: {[c['Names'] for c in mine]}"
