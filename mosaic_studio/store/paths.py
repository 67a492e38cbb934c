"""Where MOSAIC Studio keeps its data: `MOSAIC_HOME` or the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "mosaic-studio"
DB_FILENAME = "mosaic.db"


def data_dir(create: bool = True) -> Path:
    """The data folder: `$MOSAIC_HOME`, else `platformdirs.user_data_dir("mosaic-studio")`."""
    home = os.environ.get("MOSAIC_HOME")
    path = Path(home).expanduser() if home else Path(platformdirs.user_data_dir(APP_NAME))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    """The SQLite file used when no database URL is given."""
    return data_dir() / DB_FILENAME


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else `$MOSAIC_DB_URL`, else the SQLite file."""
    return url or os.environ.get("MOSAIC_DB_URL") or f"sqlite:///{default_db_path()}"
