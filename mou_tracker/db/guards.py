"""The database's own guards of the audit trail: names, so tests and `audit verify` can check they exist.

The SQL lives in the migrations (a migration is a snapshot; it must not change when this file does).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

GENESIS_HASH = "0" * 64

SQLITE_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete", "audit_event_append_only")
POSTGRES_TRIGGERS = (
    "audit_event_no_update",
    "audit_event_no_delete",
    "audit_event_no_truncate",
    "audit_event_append_only",
)


def missing_guards(conn: Connection) -> list[str]:
    """Names of the audit-trail triggers that should exist on this database but do not."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        expected: tuple[str, ...] = SQLITE_TRIGGERS
    else:
        rows = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal")
        ).scalars()
        expected = POSTGRES_TRIGGERS
    present = set(rows)
    return [name for name in expected if name not in present]
