"""Bring a database to the schema this version of mou-tracker needs (Alembic, head)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DatabaseError, OperationalError

from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.errors import DatabaseProblem
from mou_tracker.paths import migrations_dir


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise DatabaseProblem(f"the migrations have {len(heads)} heads; expected one")
    return heads[0]


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _describe(db: Database) -> str:
    path = sqlite_path(db.url)
    return str(path) if path else db.engine.url.render_as_string(hide_password=True)


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
    try:
        with db.engine.connect() as conn:
            rev = MigrationContext.configure(conn).get_current_revision()
            tables = set(inspect(conn).get_table_names())
    except (DatabaseError, OperationalError) as exc:
        msg = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseProblem(f"cannot open the database at {where}: {msg}") from exc
    if rev is None and tables and must_exist:
        raise DatabaseProblem(f"{where} is not a mou-tracker database (it has tables but no schema version)")
    if rev is not None:
        script = ScriptDirectory.from_config(alembic_config())
        known = {r.revision for r in script.walk_revisions()}
        if rev not in known:
            raise DatabaseProblem(
                f"the database at {where} has schema version {rev}, newer than this mou-tracker knows; "
                "upgrade mou-tracker to use it"
            )
    return rev


def upgrade_to_head(db: Database) -> None:
    """Upgrade in one transaction (PostgreSQL DDL is transactional; SQLite batch steps are self-contained)."""
    if check_database(db, must_exist=False) == head_revision():
        return
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")


def downgrade_to(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
