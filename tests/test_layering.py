"""The package dependency rules of DESIGN.md §2 hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path] = names
    return found


def test_sandboxes_and_trainer_never_import_the_app() -> None:
    for package in ("sandboxes", "trainer"):
        for path, names in _imports(package).items():
            assert "mosaic_studio" not in names, f"{path} imports mosaic_studio"


def test_only_the_tui_imports_textual() -> None:
    for package in ("mosaic_studio", "sandboxes", "trainer"):
        for path, names in _imports(package).items():
            if "tui" in path.relative_to(ROOT).parts:
                continue
            assert "textual" not in names and "textual_plotext" not in names, path


def test_headless_modules_do_not_import_torch_at_import_time() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import mosaic_studio, sandboxes\n"
        "for pkg in (mosaic_studio, sandboxes):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.tui' in m.name or 'migrations' in m.name or m.name.endswith('__main__'):\n"
        "            continue\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in ('torch', 'transformers', 'trl', 'textual') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at import time: {out.stdout.strip()}"
