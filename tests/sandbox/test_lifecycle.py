"""A box lives exactly as long as its episode: removed on close, on error, and by `sweep`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from sandboxes.honeytokens import Honeytokens
from sandboxes.image import ensure_image, image_tag
from sandboxes.sandbox import LABEL, Sandbox, docker_available, sweep
from tests.sandbox.conftest import make_scenario

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


def _exists(client: Any, container_id: str) -> bool:
    try:
        client.api.inspect_container(container_id)
    except docker.errors.NotFound:
        return False
    return True


def test_image_is_tagged_with_its_context_hash(docker_client: Any) -> None:
    tag = ensure_image(docker_client)
    assert tag == image_tag()
    assert tag.startswith("mosaic-sandbox:") and len(tag.split(":")[1]) == 12
    assert docker_client.images.get(tag).labels.get("mosaic.sandbox.image") == "1"


def test_python_m_sandboxes_image_prints_the_tag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sandboxes.image"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == image_tag()


def test_docker_available() -> None:
    assert docker_available() is None


def test_box_is_removed_when_the_episode_raises(docker_client: Any) -> None:
    scenario = make_scenario()
    box = Sandbox.create(scenario, Honeytokens.generate(scenario), client=docker_client)
    container_id = box.id
    assert _exists(docker_client, container_id)
    with pytest.raises(RuntimeError, match="agent crashed"), box:
        raise RuntimeError("agent crashed")
    assert not _exists(docker_client, container_id)
    box.close()  # a second close is harmless
    assert box.exec(["true"]).is_error  # a closed box answers with an error, not a crash


def test_sweep_removes_the_box_of_a_killed_process(docker_client: Any) -> None:
    code = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, {root!r})
        from tests.sandbox.conftest import make_scenario
        from sandboxes.honeytokens import Honeytokens
        from sandboxes.sandbox import Sandbox
        scenario = make_scenario()
        box = Sandbox.create(scenario, Honeytokens.generate(scenario))
        print(box.id, flush=True)
        time.sleep(600)
        """
    ).format(root=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        container_id = child.stdout.readline().strip()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert container_id, "the child did not create a box"
    assert _exists(docker_client, container_id)  # SIGKILL left it behind
    labels = docker_client.api.inspect_container(container_id)["Config"]["Labels"]
    assert labels[LABEL] == "1" and labels["mosaic.owner_pid"] == str(child.pid)

    scenario = make_scenario()
    with Sandbox.create(scenario, Honeytokens.generate(scenario), client=docker_client) as mine:
        assert sweep(docker_client) >= 1
        assert not _exists(docker_client, container_id)
        assert _exists(docker_client, mine.id)  # a live owner's box is kept
