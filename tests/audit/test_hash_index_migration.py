"""Migration 0008: the unique index on the events' whole hash becomes an index on its first 16 hex digits.
A trail written before it keeps every event, its guards and its proofs, both ways, on SQLite and PostgreSQL;
the lookups by hash (an anchor, the walk of a tampered chain) go through the new index."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mou_tracker.db.guards import guard_problems
from mou_tracker.db.migrate import current_revision, downgrade_to, head_revision, upgrade_to_head
from mou_tracker.services.verify import verify_chain
from tests.audit.conftest import drop_guards, raw_sql


def _events(db):
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).all()


def _hash_indexes(db):
    """(whether the hash is under a unique constraint, the names of audit_event's indexes)"""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            listed = conn.exec_driver_sql("PRAGMA index_list(audit_event)").all()  # seq, name, unique, origin
            unique = any(conn.exec_driver_sql(f"PRAGMA index_info('{r[1]}')").all()[0][2] == "hash"
                         for r in listed if r[3] == "u")
            names = {r[1] for r in listed}
        else:
            unique = conn.execute(text("SELECT count(*) FROM pg_constraint WHERE conname = 'uq_audit_event_hash'")
                                  ).scalar() == 1
            names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_event'"))
                        .scalars())
    return unique, names


def test_a_trail_keeps_its_events_guards_and_proofs_down_and_up(programme, db):
    before = _events(db)
    head = verify_chain(db).head
    assert len(before) > 20
    unique, names = _hash_indexes(db)
    assert not unique and "ix_audit_event_hash_prefix" in names

    downgrade_to(db, "0007")
    unique, names = _hash_indexes(db)
    assert unique and "ix_audit_event_hash_prefix" not in names
    assert _events(db) == before
    with db.engine.connect() as conn:
        assert guard_problems(conn) == []
    assert verify_chain(db).ok

    upgrade_to_head(db)
    assert current_revision(db) == head_revision()
    unique, names = _hash_indexes(db)
    assert not unique and "ix_audit_event_hash_prefix" in names
    assert _events(db) == before
    with db.engine.connect() as conn:
        assert guard_problems(conn) == []
    result = verify_chain(db, anchor=before[len(before) // 2].hash[:20])
    assert result.ok and result.head == head and result.anchor_seq == before[len(before) // 2].seq

    # the rebuilt table is still append-only
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'someone else' WHERE seq = 1"))


def test_a_guard_altered_before_the_upgrade_stays_altered_for_verify_to_name(programme, db):
    if db.dialect != "sqlite":
        pytest.skip("SQLite rebuilds the table; PostgreSQL drops the constraint in place")
    downgrade_to(db, "0007")
    raw_sql(db, "DROP TRIGGER audit_event_no_update")
    raw_sql(db, "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN SELECT 1; END")
    upgrade_to_head(db)
    with db.engine.connect() as conn:
        problems = guard_problems(conn)
    assert problems == ["guard trigger audit_event_no_update has been replaced: its definition is not the one the "
                        "migrations create, so it may no longer refuse anything"]


def test_lookups_by_hash_use_the_prefix_index(programme, db):
    if db.dialect != "sqlite":
        pytest.skip("the query plan is read from SQLite's EXPLAIN QUERY PLAN")
    from mou_tracker.services import verify

    with db.engine.connect() as conn:
        plans = [" ".join(str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
                 for sql in (f"SELECT seq, hash FROM audit_event WHERE {verify.HASH_PREFIX} = 'ab' ORDER BY seq",
                             f"SELECT seq FROM audit_event WHERE {verify.HASH_PREFIX} = 'ab' AND hash >= 'ab' "
                             "AND hash < 'abg' ORDER BY seq LIMIT 2")]
    assert all("USING INDEX ix_audit_event_hash_prefix" in p for p in plans), plans


def test_a_removed_event_is_still_found_out_of_place(programme, db):
    """The tampered path looks events up by hash: a deleted event's successor names where the chain broke."""
    events = _events(db)
    victim = events[len(events) // 2]
    drop_guards(db)
    raw_sql(db, f"DELETE FROM audit_event WHERE seq = {victim.seq}")
    result = verify_chain(db)
    assert not result.ok
    assert any(str(victim.seq) in p.message or str(victim.seq + 1) in p.message for p in result.problems), \
        [p.message for p in result.problems]


def test_the_dba_migrates_a_deployed_trail_as_a_member_of_mou_admin(programme, db, pg_logins):
    """What a PostgreSQL deployment does (README): `init` by a superuser, then schema upgrades by a DBA whose
    login is a member of mou_admin, not a superuser. The DBA could not even read the schema version (0003 left
    alembic_version to the login that ran init; 0009 hands it to mou_admin). A manager may not migrate."""
    from mou_tracker.errors import DatabaseProblem

    dba, clerk = pg_logins["mou_admin"], pg_logins["mou_manager"]
    before = _events(db)
    downgrade_to(dba, "0007")
    assert current_revision(db) == "0007"
    with pytest.raises(DatabaseProblem, match="needs a schema upgrade"):
        upgrade_to_head(clerk)
    assert current_revision(db) == "0007"
    upgrade_to_head(dba)
    assert current_revision(db) == head_revision()
    assert "ix_audit_event_hash_prefix" in _hash_indexes(db)[1]
    assert _events(db) == before
    with db.engine.connect() as conn:
        assert guard_problems(conn) == []
        assert conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
                            ).scalar() == "mou_admin"
    assert verify_chain(db).ok
