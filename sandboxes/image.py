"""Build the sandbox image locally (no registry), tagged with a hash of its build context.

`ensure_image(client=None) -> str` returns `mosaic-sandbox:<hash12>`, building it when missing;
a change to any file of `sandboxes/image/` or to the busybox binary gives a new tag.
`python -m sandboxes.image` builds it if needed and prints the tag.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

CONTEXT_DIR = Path(__file__).with_name("image")
REPOSITORY = "mosaic-sandbox"
BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
IMAGE_LABEL = "mosaic.sandbox.image"

_lock = threading.Lock()
_ready: set[str] = set()  # tags known to exist on an engine in this process


class ImageError(RuntimeError):
    """The sandbox image cannot be built; the message says how to fix it."""


def find_static_busybox() -> Path:
    """The statically linked busybox to copy into the image, or a clear ImageError."""
    for path in BUSYBOX_CANDIDATES:
        if path.is_file() and _is_static_elf(path):
            return path
    raise ImageError(
        "no static busybox found (looked at /bin/busybox, /usr/bin/busybox); "
        "install it with: apt-get install busybox-static"
    )


def _is_static_elf(path: Path) -> bool:
    """True for an ELF file without a program interpreter (PT_INTERP), i.e. statically linked."""
    with path.open("rb") as handle:
        data = handle.read(65536)  # the ELF and program headers sit at the start
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return False
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[32:40], order)
    phentsize = int.from_bytes(data[54:56], order)
    phnum = int.from_bytes(data[56:58], order)
    for i in range(phnum):
        start = phoff + i * phentsize
        if int.from_bytes(data[start : start + 4], order) == 3:  # PT_INTERP
            return False
    return True


def _context_files() -> list[Path]:
    return sorted(p for p in CONTEXT_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def context_hash(busybox: Path | None = None) -> str:
    """sha256 over the build context's paths and contents plus the busybox binary (12 hex)."""
    busybox = busybox or find_static_busybox()
    paths = [*_context_files(), busybox]
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _hash_for(stamp, busybox)


@functools.lru_cache(maxsize=4)
def _hash_for(stamp: tuple[tuple[str, int, int], ...], busybox: Path) -> str:
    digest = hashlib.sha256()
    for path in _context_files():
        digest.update(path.relative_to(CONTEXT_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(busybox.read_bytes())
    return digest.hexdigest()[:12]


def image_tag() -> str:
    """The tag the current build context gives."""
    return f"{REPOSITORY}:{context_hash()}"


def _client(client: Any | None) -> Any:
    if client is not None:
        return client
    import docker

    return docker.from_env()


def ensure_image(client: Any | None = None, *, recheck: bool = False) -> str:
    """Return the sandbox image tag, building the image first when the engine lacks it.

    The engine is asked once per process; `recheck=True` asks again (e.g. after a prune).
    """
    import docker.errors

    busybox = find_static_busybox()
    tag = f"{REPOSITORY}:{context_hash(busybox)}"
    with _lock:
        if recheck:
            _ready.discard(tag)
        if tag in _ready:
            return tag
        engine = _client(client)
        try:
            engine.images.get(tag)
        except docker.errors.ImageNotFound:
            _build(engine, tag, busybox)
        _ready.add(tag)
    return tag


def _build(engine: Any, tag: str, busybox: Path) -> None:
    import docker.errors

    with tempfile.TemporaryDirectory(prefix="mosaic-image-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(CONTEXT_DIR, context, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(busybox, context / "busybox")
        try:
            engine.images.build(
                path=str(context), tag=tag, rm=True, forcerm=True, labels={IMAGE_LABEL: "1"}
            )
        except docker.errors.BuildError as exc:
            log = "".join(str(chunk.get("stream", "")) for chunk in exc.build_log)
            raise ImageError(f"building {tag} failed: {exc.msg}\n{log[-2000:]}") from exc


def prune_images(client: Any | None = None) -> list[str]:
    """Remove older `mosaic-sandbox:*` images (ones still used by a container are kept)."""
    import docker.errors

    engine = _client(client)
    current = image_tag()
    removed = []
    for image in engine.images.list(name=REPOSITORY):
        for tag in image.tags:
            if tag.startswith(f"{REPOSITORY}:") and tag != current:
                try:
                    engine.images.remove(tag)
                except docker.errors.APIError:
                    continue  # in use by a running box
                removed.append(tag)
    return removed


def main(argv: list[str] | None = None) -> int:
    """Build the image if needed and print its tag; `--prune` also drops older tags."""
    import argparse

    import docker.errors

    parser = argparse.ArgumentParser(prog="python -m sandboxes.image", description=main.__doc__)
    parser.add_argument("--prune", action="store_true", help="remove older sandbox images")
    args = parser.parse_args(argv)
    try:
        print(ensure_image())
        if args.prune:
            for tag in prune_images():
                print(f"removed {tag}", file=sys.stderr)
    except (ImageError, docker.errors.DockerException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
