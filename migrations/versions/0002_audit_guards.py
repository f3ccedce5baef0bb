"""audit trail guards: the event table is append-only, enforced by the database itself

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

SQLite: triggers refuse UPDATE and DELETE, and refuse any INSERT that does not extend the chain by exactly
one (which also stops ``INSERT OR REPLACE`` from rewriting an event past the UPDATE/DELETE triggers).
PostgreSQL: the same as row triggers, plus a statement trigger for TRUNCATE (which fires no DELETE trigger).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64

SQLITE_UP = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END""",
    f"""CREATE TRIGGER audit_event_append_only BEFORE INSERT ON audit_event
       WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_event), 0) + 1
         OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1), '{GENESIS}')
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: an insert must extend the chain'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_append_only",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
]

POSTGRES_UP = [
    """CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP; END $$""",
    f"""CREATE FUNCTION audit_event_check_append() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE last_seq integer; last_hash text;
       BEGIN
         SELECT seq, hash INTO last_seq, last_hash FROM audit_event ORDER BY seq DESC LIMIT 1;
         IF NEW.seq IS DISTINCT FROM COALESCE(last_seq, 0) + 1
            OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, '{GENESIS}') THEN
           RAISE EXCEPTION 'audit_event is append-only: an insert must extend the chain';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()""",
    """CREATE TRIGGER audit_event_append_only BEFORE INSERT ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_check_append()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_check_append()",
    "DROP FUNCTION IF EXISTS audit_event_refuse()",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN)
