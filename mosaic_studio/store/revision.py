"""`python -m mosaic_studio.store.revision "what changed"`: write the next migration.

After extending `tables.py`, this autogenerates a revision (against a scratch database at the
current head) into `migrations/versions/`, numbered after the last one, and prints its path.
Read it, give new NOT NULL columns a `server_default`, then set `db.HEAD_REVISION` to it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sqlalchemy import create_engine

from mosaic_studio.store.db import MIGRATIONS_DIR, alembic_config, head_revision, upgrade


def next_revision_id(head: str | None) -> str:
    """`0003` after `0002` (or after `0001_initial`)."""
    match = re.match(r"\d+", head or "")
    return f"{(int(match.group(0)) if match else 0) + 1:04d}"


def make_revision(message: str) -> Path | None:
    """Autogenerate a revision for what tables.py has and the migrations lack; None if nothing."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import mosaic_studio.store.tables  # noqa: F401  (the tables to compare with)

    engine = create_engine("sqlite://")
    upgrade(engine)
    with engine.begin() as conn:
        if not compare_metadata(MigrationContext.configure(conn), SQLModel.metadata):
            return None
        rev_id = next_revision_id(head_revision())
        command.revision(alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
    return next(MIGRATIONS_DIR.joinpath("versions").glob(f"{rev_id}_*.py"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].strip():
        print('usage: python -m mosaic_studio.store.revision "what changed"', file=sys.stderr)
        return 2
    path = make_revision(args[0].strip())
    if path is None:
        print("tables.py and the migrations already agree: nothing to write")
        return 0
    print(f"{path}\nnow read it, then set HEAD_REVISION = {path.stem.split('_')[0]!r} in db.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
