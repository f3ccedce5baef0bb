"""Alembic: every revision upgrades and downgrades on both databases, and the models match the migrations."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mou_tracker.db.engine import Database
from mou_tracker.db.guards import missing_guards
from mou_tracker.db.migrate import alembic_config, current_revision, downgrade_to, head_revision, upgrade_to_head
from mou_tracker.db.models import Base


@pytest.fixture
def empty_db(backend, request, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"empty_{abs(hash(request.node.nodeid)) % 10**8}"
        server.admin(f"CREATE DATABASE {name}")
        url = server.url(name)
    db = Database(url)
    yield db
    db.dispose()


def test_stairway_up_and_down_every_revision(empty_db):
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    from alembic import command

    for rev in revisions:
        with empty_db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), rev)
        assert current_revision(empty_db) == rev
        with empty_db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "-1")
        with empty_db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), rev)
    assert current_revision(empty_db) == head_revision()
    downgrade_to(empty_db, "base")
    with empty_db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(empty_db)
    assert current_revision(empty_db) == head_revision()


#: indexes on an expression, which SQLAlchemy cannot reflect from SQLite (it warns and skips them): compared
#: by their stored definition instead (test_expression_indexes_exist_as_the_models_define_them)
EXPRESSION_INDEXES = {"ix_audit_event_hash_prefix": "substr(hash, 1, 16)"}


def test_models_and_migrations_agree(empty_db):
    upgrade_to_head(empty_db)

    def include(obj, name, type_, _reflected, _compare_to):
        return not (type_ == "index" and name in EXPRESSION_INDEXES)

    with empty_db.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index "
                                + "|".join(EXPRESSION_INDEXES))
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": Base.metadata,
                                                     "include_object": include})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_expression_indexes_exist_as_the_models_define_them(empty_db):
    upgrade_to_head(empty_db)
    declared = {ix.name: str(next(iter(ix.expressions))) for t in Base.metadata.tables.values()
                for ix in t.indexes if ix.name in EXPRESSION_INDEXES}
    assert declared == EXPRESSION_INDEXES
    with empty_db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            stored = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
        else:
            stored = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
    for name, expression in EXPRESSION_INDEXES.items():
        assert name in stored
        assert expression.replace(" ", "") in stored[name].replace(" ", "").replace("(hash)::text", "hash")


def test_every_audit_guard_exists_at_head(empty_db):
    upgrade_to_head(empty_db)
    with empty_db.engine.connect() as conn:
        assert missing_guards(conn) == []


def test_single_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_fast_revision_reading_agrees_with_alembic():
    from mou_tracker.db.migrate import script_revisions

    script = ScriptDirectory.from_config(alembic_config())
    revisions, heads = script_revisions()
    assert revisions == {r.revision for r in script.walk_revisions()}
    assert heads == tuple(sorted(script.get_heads()))
