"""PostgreSQL role layout: the application never connects as the owner of the audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Three group roles (NOLOGIN; cluster-wide, so created only if absent and shared by every database of the
cluster):

- ``mou_admin`` owns every table, sequence and trigger function: only it (and superusers) can alter the schema
  or drop the append-only triggers. The DBA runs ``mou-tracker db upgrade`` as a member of it.
- ``mou_manager`` reads and writes the programme's records but may only INSERT and SELECT audit events (no
  UPDATE, DELETE or TRUNCATE): the application connects as a login that is a member of it.
- ``mou_evaluator`` may only SELECT.

Deployment gives people logins: ``CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE mou_manager``.
Where the migrating login may not create roles or take ownership, the step is skipped with a WARNING (the
triggers of 0002 still guard the trail) and ``audit verify`` warns about connections that own the table.
SQLite has no roles: nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("mou_admin", "mou_manager", "mou_evaluator")
#: every table at this revision (a migration is a snapshot: later tables get their grants in their migration)
DATA_TABLES = (
    "partnership", "party", "app_user", "indicator", "target", "result", "narrative", "training", "participant",
    "attendance", "engagement", "milestone", "grant_award", "budget_line", "disbursement", "expenditure",
    "period_signoff", "period_lock", "restatement",
)
FUNCTIONS = ("audit_event_refuse()", "audit_event_check_append()")


def _do(body: str) -> None:
    op.execute(f"DO $mou$ BEGIN {body} END $mou$")


def _may_take_ownership() -> str:
    return ("(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            "OR pg_has_role(current_user, 'mou_admin', 'MEMBER')")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    creates = " ".join(f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r} NOLOGIN; "
                       "END IF;" for r in ROLES)
    _do(f"""{creates}
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not create roles; the mou_admin/mou_manager/mou_evaluator layout is '
                        'skipped (the audit triggers still apply)', current_user;""")
    tables = ", ".join((*DATA_TABLES, "audit_event", "alembic_version"))
    data = ", ".join(DATA_TABLES)
    owners = " ".join(f"ALTER TABLE {t} OWNER TO mou_admin;" for t in (*DATA_TABLES, "audit_event"))
    functions = " ".join(f"ALTER FUNCTION {f} OWNER TO mou_admin;" for f in FUNCTIONS)
    _do(f"""
        IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('mou_admin', 'mou_manager', 'mou_evaluator')) < 3 THEN
          RETURN;
        END IF;
        IF {_may_take_ownership()} THEN
          GRANT USAGE, CREATE ON SCHEMA public TO mou_admin;
          {owners}
          {functions}
        ELSE
          RAISE WARNING 'mou-tracker: % is not a member of mou_admin; the tables keep their owner', current_user;
        END IF;
        GRANT USAGE ON SCHEMA public TO mou_manager, mou_evaluator;
        GRANT SELECT, INSERT, UPDATE, DELETE ON {data} TO mou_manager;
        GRANT SELECT, INSERT ON audit_event TO mou_manager;
        GRANT SELECT ON alembic_version TO mou_manager;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mou_manager;
        GRANT SELECT ON {tables} TO mou_evaluator;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not grant on the tables; role layout skipped', current_user;""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    tables = ", ".join((*DATA_TABLES, "audit_event", "alembic_version"))
    owners = " ".join(f"ALTER TABLE {t} OWNER TO CURRENT_USER;" for t in (*DATA_TABLES, "audit_event"))
    functions = " ".join(f"ALTER FUNCTION {f} OWNER TO CURRENT_USER;" for f in FUNCTIONS)
    # Roles are cluster-wide: drop one only when nothing in any database still refers to it and no login is a
    # member (another mou-tracker database, or a deployment's logins, may use it).
    drops = " ".join(
        f"IF NOT EXISTS (SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON d.refobjid = r.oid WHERE r.rolname = '{r}') "
        f"AND NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON m.roleid = r.oid OR m.member = r.oid "
        f"WHERE r.rolname = '{r}') THEN DROP ROLE {r}; END IF;" for r in reversed(ROLES))
    _do(f"""
        IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('mou_admin', 'mou_manager', 'mou_evaluator')) < 3 THEN
          RETURN;
        END IF;
        REVOKE ALL ON {tables} FROM mou_manager, mou_evaluator;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM mou_manager;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR pg_has_role(current_user, 'mou_admin', 'MEMBER') THEN
          {owners}
          {functions}
        END IF;
        REVOKE ALL ON SCHEMA public FROM mou_manager, mou_evaluator, mou_admin;
        {drops}
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not undo the role layout completely', current_user;""")
