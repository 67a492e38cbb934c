"""The database engine: one per URL, SQLite pragmas on connect, Alembic migrations on first use.

`get_engine(url=None)` resolves the URL (argument, `$MOSAIC_DB_URL`, or `mosaic.db` in the data
dir, see `paths`), makes the engine once and reuses it, and brings the schema to the newest
revision with the migrations that ship in `mosaic_studio/store/migrations` (no alembic.ini).
Any SQLAlchemy URL works; SQLite gets WAL mode, foreign keys and a busy timeout. Problems
opening the database raise `UserError` with one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store.paths import database_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest revision under migrations/versions. Checking it costs no Alembic import on every
# start; a test fails (and says so) when a new revision is added without updating it.
HEAD_REVISION = "0003"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Any constant works; two processes migrating one PostgreSQL database take turns on it.
_PG_MIGRATION_LOCK = 7_364_127_301

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (or the default database), migrated to the newest schema."""
    resolved = database_url(url)
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _open(resolved)
            _engines[resolved] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and before a process forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code, pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision the packaged migrations define (read with Alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return _revision(conn)


def upgrade(engine: Engine) -> None:
    """Run pending migrations; concurrent processes take turns."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    with _migration_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        if _revision(conn) != HEAD_REVISION:
            command.upgrade(alembic_config(conn), "head")


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _open(url: str) -> Engine:
    shown = describe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"not a database URL: {url!r} (e.g. sqlite:///path/mosaic.db)") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        if _is_memory(parsed.database):
            kwargs["poolclass"] = StaticPool  # one shared connection, or each sees an empty DB
        elif parsed.database:
            try:
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except (OSError, ValueError) as exc:
                raise UserError(f"cannot create the folder of database {shown}: {exc}") from None
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        hint = " (for PostgreSQL: pip install 'psycopg[binary]', URL postgresql+psycopg://…)"
        raise UserError(f"cannot use database {shown}: {_one_line(exc)}{hint}") from None
    except (NoSuchModuleError, ArgumentError) as exc:
        raise UserError(f"cannot use database {shown}: {_one_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise UserError(f"cannot open database {shown}: {_one_line(exc)}") from None
    return engine


def _is_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or database.startswith("file::memory:")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # in-memory databases answer "memory"
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive file lock beside a SQLite file; PostgreSQL uses an advisory lock instead."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or _is_memory(database):
        yield
        return
    assert database is not None
    lock_path = Path(database).expanduser().with_suffix(".migrate.lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
