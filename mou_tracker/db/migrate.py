"""Bring a database to the schema this version of mou-tracker needs (Alembic, head)."""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DatabaseError, InternalError, OperationalError, ProgrammingError

from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.errors import DatabaseProblem
from mou_tracker.paths import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION_RE = re.compile(r"^revision\s*(?::\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_RE = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(?:[\"']([^\"']+)[\"']|None)", re.M)


@lru_cache(maxsize=1)
def script_revisions() -> tuple[frozenset[str], tuple[str, ...]]:
    """(every revision, the heads), read from the migration files' text.

    Opening the app must not pay for importing Alembic when the database is already at head; a test checks
    that this agrees with Alembic's own reading of the scripts.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        rev = _REVISION_RE.search(source)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        down = _DOWN_RE.search(source)
        if down and down.group(1):
            parents.add(down.group(1))
    return frozenset(revisions), tuple(sorted(revisions - parents))


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    heads = script_revisions()[1]
    if len(heads) != 1:
        raise DatabaseProblem(f"the migrations have {len(heads)} heads; expected one")
    return heads[0]


class _NoVersion:
    """The schema-version table exists but holds no row: the database was damaged or made by another tool."""


EMPTY_VERSION = _NoVersion()


def _revision(conn: Connection) -> str | None | _NoVersion:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) == 1:
        return rows[0]
    if not rows and set(inspect(conn).get_table_names()) <= {"alembic_version"}:
        return None  # downgraded to base: an empty database
    return EMPTY_VERSION


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        rev = _revision(conn)
    return None if isinstance(rev, _NoVersion) else rev


def _describe(db: Database) -> str:
    path = sqlite_path(db.url)
    return str(path) if path else db.engine.url.render_as_string(hide_password=True)


def _peek_sqlite(path: Path) -> tuple[set[str], str | None | _NoVersion]:
    """The tables and schema revision of a SQLite file, read without writing to it (no WAL switch, no
    checkpoint), so that refusing a foreign or damaged file leaves it byte for byte as it was."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        tables = {r[0] for r in conn.execute(query)}
        if "alembic_version" not in tables:
            return tables, None
        rows = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
        if len(rows) == 1:
            return tables, rows[0]
        if not rows and tables <= {"alembic_version"}:
            return set(), None  # downgraded to base: an empty database
        return tables, EMPTY_VERSION
    finally:
        conn.close()


def check_database(db: Database, *, must_exist: bool = True) -> str | None:
    """Fail with a clear message if the database is missing, unreadable, corrupt or newer than us.

    Returns the current schema revision (None for an empty database).
    """
    path = sqlite_path(db.url)
    where = _describe(db)
    if path is not None and must_exist and not path.exists():
        raise DatabaseProblem(f"no database at {where}; create one with `mou-tracker init` (or --demo)")
    if path is not None and path.exists() and path.is_dir():
        raise DatabaseProblem(f"{where} is a folder, not a database file")
    if path is not None and path.exists() and not path.is_file():
        raise DatabaseProblem(f"{where} is not a regular file (a device or pipe); name a database file")
    if path is not None and must_exist and path.is_file() and path.stat().st_size == 0:
        # what `touch` or an interrupted copy leaves: opening it would write a whole schema into it
        raise DatabaseProblem(f"{where} is an empty file (0 bytes), not a database yet; nothing was changed. "
                              "Create one with `mou-tracker init` (or --demo), or restore the file from a backup")
    if path is not None and not path.exists() and not path.parent.is_dir():
        raise DatabaseProblem(f"cannot create a database at {where}: folder {path.parent} does not exist")
    try:
        if path is not None and path.exists():
            tables, rev = _peek_sqlite(path)  # read-only: a file that is not ours is never touched
        else:
            with db.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                rev = _revision(conn)
    except (DatabaseError, OperationalError, sqlite3.Error) as exc:
        raise DatabaseProblem(f"cannot open the database at {where}: {driver_message(exc)}") from exc
    if isinstance(rev, _NoVersion):
        raise DatabaseProblem(f"the database at {where} has an empty or damaged schema version table, so its schema "
                              "version is unknown; nothing was changed. Restore it from a backup "
                              "(`mou-tracker db backup` makes one) or ask the admin")
    if rev is None and tables - {"alembic_version"}:
        raise DatabaseProblem(f"{where} is not a mou-tracker database (it has tables but no schema version); "
                              "nothing was changed")
    if rev is not None and rev not in script_revisions()[0]:
        raise DatabaseProblem(
            f"the database at {where} has schema version {rev}, newer than this mou-tracker knows; "
            "upgrade mou-tracker to use it"
        )
    return rev


def driver_message(exc: BaseException) -> str:
    """The database driver's own first line about ``exc``, without the SQL text or bound values.

    SQLAlchemy's message carries the statement and its parameters (stored values of other records); the
    driver's primary message does not (PostgreSQL puts values in DETAIL, which is left out)."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text_ = primary or str(orig)
    lines = text_.strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def upgrade_to_head(db: Database) -> None:
    """Upgrade in one transaction (PostgreSQL DDL is transactional; SQLite batch steps are self-contained)."""
    if check_database(db, must_exist=False) == head_revision():
        return
    from alembic import command

    try:
        with db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    except (ProgrammingError, InternalError) as exc:  # e.g. a PostgreSQL login that may not change the schema
        msg = driver_message(exc)
        raise DatabaseProblem(
            f"the database at {_describe(db)} needs a schema upgrade to {head_revision()} that this login may not "
            f"make ({msg}); ask the database admin to run `mou-tracker db upgrade`"
        ) from exc


def downgrade_to(db: Database, revision: str) -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
