"""Engines and sessions.

SQLite: foreign keys on, WAL journal, a bounded busy timeout, and write transactions that begin IMMEDIATE
so two writers queue instead of failing at once. PostgreSQL: a plain pooled engine; writers serialise audit
appends on a row lock (see services.audit). Either way a writer waits a bounded time
(``MOU_TRACKER_LOCK_TIMEOUT`` seconds, default 30) and then gives up with a clear message, and a damaged
SQLite file is reported as such: database errors a user can act on never surface as tracebacks.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from mou_tracker.errors import DatabaseProblem

WRITE_OPTION = "mou_write"
#: how long (seconds) a writer waits for another one before giving up; MOU_TRACKER_LOCK_TIMEOUT overrides
DEFAULT_LOCK_TIMEOUT = 30.0


class DatabaseBusy(DatabaseProblem):
    """Another writer held the database longer than the bounded wait: nothing was changed."""


def lock_timeout_seconds() -> float:
    try:
        value = float(os.environ.get("MOU_TRACKER_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        value = DEFAULT_LOCK_TIMEOUT
    return min(max(value, 0.1), 3600.0)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_EXAMPLES = "sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname"


def parse_url(url: str) -> Any:
    """The parsed URL of a database this product can use, or a one-line ``DatabaseProblem``."""
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise DatabaseProblem(f"that is not a database URL; write it as {_EXAMPLES}") from exc
    if u.get_backend_name() not in SUPPORTED_BACKENDS:
        shown = u.render_as_string(hide_password=True)
        raise DatabaseProblem(f"{shown} is not a database mou-tracker can use; write {_EXAMPLES}")
    if u.get_backend_name() == "sqlite" and (not u.database or u.database == ":memory:"):
        raise DatabaseProblem(f"a SQLite URL must name a file ({_EXAMPLES}); an in-memory database keeps nothing")
    return u


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    try:
        u = make_url(url)
    except ArgumentError:
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(lock_timeout_seconds() * 1000)}")
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError:
        pass  # read-only media: keep the default journal
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def _translate_error(context: Any) -> None:
    """SQLite errors a user can act on become one clear line (the CLI prints MouErrors without traceback)."""
    orig = context.original_exception
    if not isinstance(orig, sqlite3.DatabaseError):
        return
    text = str(orig).lower()
    if "database is locked" in text or "database is busy" in text:
        raise DatabaseBusy(f"another program has been writing to the database for more than "
                           f"{lock_timeout_seconds():g} s; nothing was changed; try again in a moment") from orig
    if "malformed" in text:
        raise DatabaseProblem("the database file is damaged (SQLite reports it malformed): restore it from a "
                              "backup (mou-tracker db backup makes one)") from orig


def make_engine(url: str, **kwargs: Any) -> Engine:
    u = parse_url(url)
    try:
        engine = create_engine(u, **kwargs)
    except (ModuleNotFoundError, NoSuchModuleError) as exc:
        raise DatabaseProblem(f"no database driver '{u.drivername}' is installed; use {_EXAMPLES}") from exc
    except ArgumentError as exc:
        raise DatabaseProblem(f"the database URL's options are not valid ({type(exc).__name__})") from exc
    if u.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        event.listen(engine, "handle_error", _translate_error)
    return engine


class Database:
    """One database: a read engine and a write engine (same pool) and their session factories."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read_session(self) -> Session:
        return self._read()

    def write_session(self) -> Session:
        return self._write()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
