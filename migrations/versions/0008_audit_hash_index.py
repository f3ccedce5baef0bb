"""audit trail: the events' hash is looked up through an index on its first 16 hex digits, not a unique index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

The unique index on ``audit_event.hash`` (64 random hex digits per event) was half of SQLite's work in a bulk
import: every event's entry lands on a random page of a tree larger than the page cache (docs/development.md).
It guarded nothing the chain does not: an event's hash covers its own ``seq``, so two events can share a hash
only through a SHA-256 collision, and a stored hash that is not its event's is what ``audit verify`` finds by
recomputing every one. What the index is for is finding an event by its hash (``--anchor``, and the walk of a
tampered chain): an index on the first 16 digits (64 bits, the shortest anchor accepted) serves those lookups
with a quarter of the entry size, a tree that stays in the page cache.

SQLite cannot drop a table constraint: the table is rebuilt (its rows, other indexes and triggers as they
are: a trigger is re-created from its stored text, so one that was altered stays altered for verify to name).
PostgreSQL drops the constraint in place. Events, hashes and the guards are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_INDEX = "ix_audit_event_hash_prefix"
UNIQUE = "uq_audit_event_hash"


def _sqlite_rebuild(change: str) -> None:
    """Rebuild audit_event with its unique hash constraint dropped (``change='drop'``) or added back
    (``'add'``), keeping its triggers exactly as stored."""
    conn = op.get_bind()
    triggers = [sql for (sql,) in conn.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event' AND sql IS NOT NULL "
        "ORDER BY rowid"))]
    with op.batch_alter_table("audit_event", recreate="always") as batch_op:
        if change == "drop":
            batch_op.drop_constraint(UNIQUE, type_="unique")
        else:
            batch_op.create_unique_constraint(UNIQUE, ["hash"])
    for sql in triggers:  # DROP TABLE dropped them with the old table
        conn.exec_driver_sql(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild("drop")
    else:
        op.drop_constraint(UNIQUE, "audit_event", type_="unique")
    op.create_index(PREFIX_INDEX, "audit_event", [sa.text("substr(hash, 1, 16)")], unique=False)


def downgrade() -> None:
    op.drop_index(PREFIX_INDEX, table_name="audit_event")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild("add")
    else:
        op.create_unique_constraint(UNIQUE, "audit_event", ["hash"])
