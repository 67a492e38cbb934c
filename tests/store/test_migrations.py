"""The packaged migrations build exactly the schema tables.py declares, in one linear history."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store import tables
from mosaic_studio.store.db import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    get_engine,
    head_revision,
    upgrade,
)
from mosaic_studio.store.revision import make_revision, next_revision_id


def test_empty_database_upgrades_to_head_matching_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"tables.py and the migrations differ; add a revision: {diff}"
    names = set(inspect(engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= names
    assert tables.Trajectory.__tablename__ in names


def test_history_is_linear_with_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == HEAD_REVISION, "update db.HEAD_REVISION to the new head"
    revisions = list(script.walk_revisions())
    assert sum(1 for r in revisions if r.down_revision is None) == 1
    for revision in revisions:
        assert not isinstance(revision.down_revision, tuple | list), "merge revisions"


def test_upgrade_keeps_rows_written_by_an_older_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001_initial")
        conn.execute(
            text(
                "INSERT INTO trajectory (id, scenario_id, category, split, model_spec, sampling,"
                " sample_index, source, status, outcome, format_errors, n_steps, tokens,"
                " wall_time_s, outbox, final_state, messages, started_at) VALUES ('old1', 's',"
                " 'benign', 'test', 'smollm2', '{}', 0, 'rollout', 'finished', '{}', 0, 3, 10,"
                " 1.5, '[]', '{}', '[]', 1.0)"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT n_steps, tools, honeytokens FROM trajectory")).one()
    assert (row[0], row[1], row[2]) == (3, "[]", "{}")


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_get_engine_sets_sqlite_pragmas_and_is_made_once(db_url: str) -> None:
    engine = get_engine(db_url)
    assert get_engine() is engine  # $MOSAIC_DB_URL names the same database
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_default_database_lives_in_mosaic_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOSAIC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MOSAIC_DB_URL", raising=False)
    engine = get_engine()
    assert engine.url.database == str(tmp_path / "home" / "mosaic.db")
    assert (tmp_path / "home" / "mosaic.db").exists()
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb://x/y", "cannot use database"),
        ("sqlite:///{tmp}/a-file/x.db", "cannot create the folder"),
        ("sqlite:///{tmp}/a-file", "cannot open database"),
    ],
)
def test_bad_database_urls_are_one_line_user_errors(
    url: str, expected: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a database")
    url = url.format(tmp=tmp_path)
    with pytest.raises(UserError) as info:
        get_engine(url)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_revision_helper_numbers_and_finds_nothing_to_write() -> None:
    assert next_revision_id("0001_initial") == "0002"
    assert next_revision_id("0012") == "0013"
    assert next_revision_id(None) == "0001"
    assert make_revision("nothing changed") is None
