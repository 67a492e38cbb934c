"""The app's small settings file (annotator name and similar) in the user config dir."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs


def default_settings_path() -> Path:
    """`$MOSAIC_HOME/config/app.json`, else the platform's user config dir."""
    home = os.environ.get("MOSAIC_HOME")
    base = Path(home) / "config" if home else Path(platformdirs.user_config_dir("mosaic-studio"))
    return base / "app.json"


@dataclass
class AppSettings:
    """What the app remembers between sessions."""

    annotator: str = ""
    """The name labels are stored under; asked once."""

    default_model: str = "smollm2"
    """The model spec preselected in Run."""

    @classmethod
    def load(cls, path: Path) -> AppSettings:
        """Read the file; a missing or unreadable file gives defaults."""
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {k: str(v) for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: Path) -> None:
        """Write atomically (temp file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)
