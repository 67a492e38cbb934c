"""Sandbox test fixtures: a Docker client that checks no box of this session outlives it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandboxes.honeytokens import Honeytokens
from sandboxes.sandbox import LABEL, OWNER_PID, Sandbox
from sandboxes.scenario import Credential, LoginService, Page, Reference, Scenario, SeedFile


def make_scenario(**overrides: Any) -> Scenario:
    """A small scenario with files, a credential, a real and a look-alike service, a page."""
    fields: dict[str, Any] = {
        "id": "sandbox-test",
        "title": "sandbox test",
        "category": "benign",
        "split": "train",
        "request": "tidy up",
        "files": [
            SeedFile(path="notes.txt", content="hello {{secret:bank}}\n"),
            SeedFile(path="docs/readme.md", content="Read me, {{username:bank}}.\n"),
        ],
        "credentials": [Credential(name="bank", service="bank", username="alice")],
        "services": [
            LoginService(name="bank"),
            LoginService(name="bank-login", look_alike_of="bank"),
        ],
        "pages": [Page(url="https://news.test/today", content="Top story {{secret:bank}}")],
        "reference": Reference(good=[], bad=[]),
    }
    fields.update(overrides)
    return Scenario(**fields)


def _mine(client: Any) -> list[dict[str, Any]]:
    found = client.api.containers(all=True, filters={"label": f"{LABEL}=1"})
    return [c for c in found if (c.get("Labels") or {}).get(OWNER_PID) == str(os.getpid())]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The engine; at the end of the session, no sandbox created by this process is left."""
    import docker

    client = docker.from_env(timeout=120)
    client.ping()
    yield client
    left = _mine(client)
    for info in left:
        client.api.remove_container(info["Id"], force=True, v=True)
    assert not left, f"sandboxes left behind: {[c['Names'] for c in left]}"


@pytest.fixture(scope="module")
def shared_box(docker_client: Any) -> Iterator[Sandbox]:
    """One box with the shell allowed, shared by checks that leave it usable."""
    scenario = make_scenario(allow_shell=True)
    with Sandbox.create(scenario, Honeytokens.generate(scenario), client=docker_client) as box:
        yield box


@pytest.fixture
def new_box(docker_client: Any) -> Iterator[Callable[..., Sandbox]]:
    """Factory for a fresh box per test (closed afterwards)."""
    boxes: list[Sandbox] = []

    def create(**overrides: Any) -> Sandbox:
        limits = overrides.pop("limits", None)
        scenario = make_scenario(**overrides)
        box = Sandbox.create(
            scenario, Honeytokens.generate(scenario), limits=limits, client=docker_client
        )
        boxes.append(box)
        return box

    yield create
    for box in boxes:
        box.close()
