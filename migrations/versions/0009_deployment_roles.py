"""PostgreSQL: what the deployment's roles need: the DBA can upgrade the schema, an evaluator can back it up

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

The deployment runs schema upgrades as a member of ``mou_admin`` (README, PostgreSQL deployment), and
0003 made ``mou_admin`` the owner of every table but ``alembic_version``, which kept the owner of the login
that ran ``init`` (a superuser, or one DBA's own login): any other DBA's `db upgrade` was refused with
"permission denied for table alembic_version" before it could start. This hands the table to ``mou_admin``,
as 0003 did the others (run by a superuser or by the table's owner; otherwise a warning and no change).
The grants on it (managers and evaluators read it) stay.

Evaluators may read every table but not the sequences behind the ids, so `db backup` (pg_dump reads each
sequence's position) failed for them: they get SELECT on the sequences (read only: not nextval or setval).
SQLite: nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owner(to: str) -> None:
    op.execute(f"""DO $mou$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mou_admin') THEN
          RETURN;
        END IF;
        ALTER TABLE alembic_version OWNER TO {to};
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not change the owner of alembic_version; a superuser should run '
                        'ALTER TABLE alembic_version OWNER TO mou_admin', current_user;
        END $mou$""")


def _sequences(grant: bool) -> None:
    statement = ("GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO mou_evaluator" if grant else
                 "REVOKE SELECT ON ALL SEQUENCES IN SCHEMA public FROM mou_evaluator")
    op.execute(f"""DO $mou$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mou_evaluator') THEN
          RETURN;
        END IF;
        {statement};
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not grant on the sequences; evaluators cannot back up', current_user;
        END $mou$""")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _owner("mou_admin")
        _sequences(grant=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _sequences(grant=False)
        _owner("CURRENT_USER")
