"""The database itself keeps the trail append-only: triggers on both engines, the known holes closed, and on
PostgreSQL a role layout in which the application's login cannot rewrite history."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mou_tracker.db.engine import Database
from mou_tracker.db.guards import missing_guards
from mou_tracker.db.migrate import upgrade_to_head
from mou_tracker.services import Services
from mou_tracker.services.verify import verify_chain
from tests.audit.conftest import event_count, hash_of, raw_sql
from tests.helpers import training


def refused(db: Database, statement: str) -> str:
    """Run ``statement``; it must fail. Returns the database's message."""
    with pytest.raises(DBAPIError) as info:
        raw_sql(db, statement)
    return str(info.value.orig)


def test_raw_update_and_delete_on_the_event_table_fail(programme, db):
    n = event_count(db)
    assert "append-only" in refused(db, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
    assert "append-only" in refused(db, "DELETE FROM audit_event WHERE seq = 3")
    assert "append-only" in refused(db, f"DELETE FROM audit_event WHERE seq = {n}")
    assert event_count(db) == n and verify_chain(db).ok


def test_insert_that_does_not_extend_the_chain_fails(programme, db):
    n = event_count(db)
    columns = ("seq, occurred_at, actor, action, entity_kind, changes, prev_hash, hash")
    stamp = "'2025-08-01 12:00:00.000000'" if db.dialect == "sqlite" else "'2025-08-01 12:00:00+00'"
    bad_link = f"INSERT INTO audit_event ({columns}) VALUES ({n + 1}, {stamp}, 'm', 'update', 'x', '{{}}', " \
               f"'{'1' * 64}', '{'2' * 64}')"
    assert "must extend the chain" in refused(db, bad_link)
    gap = f"INSERT INTO audit_event ({columns}) VALUES ({n + 5}, {stamp}, 'm', 'update', 'x', '{{}}', " \
          f"'{hash_of(db, n)}', '{'3' * 64}')"
    assert "must extend the chain" in refused(db, gap)
    assert verify_chain(db).ok


def test_sqlite_insert_or_replace_cannot_rewrite_an_event(programme, db, backend):
    if backend != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    original = hash_of(db, 3)
    message = refused(db, "INSERT OR REPLACE INTO audit_event SELECT seq, occurred_at, 'mallory', action, entity_kind, "
                          "entity_id, entity_ref, partnership_id, changes, reason_category, reason_text, prev_hash, "
                          "hash, login FROM audit_event WHERE seq = 3")
    assert "append-only" in message
    assert "append-only" in refused(db, "REPLACE INTO audit_event SELECT * FROM audit_event WHERE seq = 3")
    assert hash_of(db, 3) == original and verify_chain(db).ok


def test_postgres_truncate_fires_its_own_trigger(programme, db, backend):
    if backend != "postgresql":
        pytest.skip("TRUNCATE triggers are PostgreSQL's")
    assert "TRUNCATE refused" in refused(db, "TRUNCATE audit_event")
    assert verify_chain(db).ok


def test_every_guard_exists_after_upgrading_to_head(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade_to_head(db)
    with db.engine.connect() as conn:
        assert missing_guards(conn) == []
    db.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")  # 0008's index
def test_a_batch_rebuild_of_the_event_table_loses_the_guards_and_verify_says_so(programme, db, backend):
    """Why the test above matters: Alembic's batch mode on SQLite rebuilds a table without its triggers."""
    if backend != "sqlite":
        pytest.skip("batch mode rebuilds tables only on SQLite")
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    with db.engine.begin() as conn:
        with Operations(MigrationContext.configure(conn)).batch_alter_table("audit_event",
                                                                            recreate="always") as batch:
            batch.alter_column("actor", existing_type=__import__("sqlalchemy").String(120), nullable=False)
        assert sorted(missing_guards(conn)) == sorted(["audit_event_append_only", "audit_event_no_delete",
                                                       "audit_event_no_update"])
    result = verify_chain(db)
    assert [p.kind for p in result.problems] == ["guard"]


# PostgreSQL roles ---------------------------------------------------------------------------------------------------
def test_migration_lays_out_the_roles(programme, db, backend):
    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with db.engine.connect() as conn:
        roles = set(conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname LIKE 'mou_%'")).scalars())
        owners = set(conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' "
                                       "AND tablename <> 'alembic_version'")).scalars())
        grants = conn.execute(text("SELECT grantee, table_name, privilege_type FROM "
                                   "information_schema.role_table_grants "
                                   "WHERE grantee IN ('mou_manager', 'mou_evaluator')")).all()
        tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert {"mou_admin", "mou_manager", "mou_evaluator"} <= roles
    assert owners == {"mou_admin"}
    by = {}
    for grantee, table, privilege in grants:
        by.setdefault((grantee, table), set()).add(privilege)
    assert by[("mou_manager", "audit_event")] == {"SELECT", "INSERT"}
    # the chain lock: row-locked by writers (needs UPDATE), never inserted into or deleted from
    assert by[("mou_manager", "audit_chain_lock")] == {"SELECT", "UPDATE"}
    # the per-person keys: created and destroyed (erasure), never changed
    assert by[("mou_manager", "participant_secret")] == {"SELECT", "INSERT", "DELETE"}
    for table in tables - {"audit_event", "alembic_version", "audit_chain_lock", "participant_secret"}:
        assert by[("mou_manager", table)] == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table
    for table in tables:
        assert by[("mou_evaluator", table)] == {"SELECT"}, table


def test_manager_login_writes_records_but_cannot_rewrite_the_trail(programme, db, pg_logins):
    manager = pg_logins["mou_manager"]
    with manager.engine.connect() as conn:  # on PostgreSQL the actor is the database login
        login = conn.execute(text("SELECT session_user")).scalar_one()
    svc = Services(manager, login)
    svc.create_training(training("T9"))  # the application works as the manager
    for statement in ("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3", "DELETE FROM audit_event",
                      "TRUNCATE audit_event", "ALTER TABLE audit_event DISABLE TRIGGER USER",
                      "DROP TRIGGER audit_event_no_update ON audit_event", "DROP TABLE audit_event"):
        message = refused(manager, statement)
        assert "permission denied" in message or "must be owner" in message, (statement, message)
    result = verify_chain(manager)
    assert result.ok and result.warnings == []


def test_evaluator_login_can_only_read(programme, db, pg_logins):
    evaluator = pg_logins["mou_evaluator"]
    for statement in ("UPDATE milestone SET status = 'Cancelled'", "DELETE FROM training",
                      "INSERT INTO app_user (name, role) VALUES ('x', 'admin')",
                      "INSERT INTO audit_event (seq, occurred_at, actor, action, entity_kind, changes, prev_hash, "
                      f"hash) VALUES (999, now(), 'm', 'update', 'x', '{{}}', '{'1' * 64}', '{'2' * 64}')"):
        assert "permission denied" in refused(evaluator, statement), statement
    assert verify_chain(evaluator).ok


def test_verify_warns_when_connected_as_the_owner_or_a_superuser(programme, db, pg_logins):
    assert "superuser" in " ".join(verify_chain(db).warnings)  # the tests' own login
    admin_warnings = verify_chain(pg_logins["mou_admin"]).warnings
    assert len(admin_warnings) == 1 and "owns the audit table" in admin_warnings[0]


def test_an_evaluator_backs_up_the_database_but_cannot_move_a_sequence(programme, db, pg_logins, tmp_path):
    """An evaluator reads everything, so may take a copy to verify independently: pg_dump also reads each
    sequence's position, which evaluators were refused (and the refusal quoted pg_dump's SQL). Reading a
    sequence does not let them draw from it."""
    from click.testing import CliRunner

    from mou_tracker.cli import cli

    evaluator = pg_logins["mou_evaluator"]
    out = CliRunner().invoke(cli, ["--db", evaluator.url, "db", "backup", str(tmp_path / "copy.dump")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "copy.dump").stat().st_size > 1000
    assert "permission denied" in refused(evaluator, "SELECT nextval('training_id_seq')")

    # a backup pg_dump cannot make says why in one line, without the SQL it ran
    raw_sql(db, "REVOKE SELECT ON SEQUENCE training_id_seq FROM mou_evaluator")
    out = CliRunner().invoke(cli, ["--db", evaluator.url, "db", "backup", str(tmp_path / "again.dump")])
    assert out.exit_code == 1
    assert out.output.strip() == ("error: pg_dump failed: permission denied for sequence training_id_seq; no backup "
                                  "was written")
    assert not (tmp_path / "again.dump").exists()
