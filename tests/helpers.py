"""Small helpers shared by tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.engine import Database
from mou_tracker.db.models import ENTITY_MODELS, AuditEvent


def table_counts(db: Database) -> dict[str, int]:
    """Rows per table, the audit trail included: equal before and after means nothing was written."""
    with db.reading() as s:
        counts = {kind: s.execute(select(func.count()).select_from(model)).scalar_one()
                  for kind, model in ENTITY_MODELS.items()}
        counts["audit_event"] = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return counts


def training(code: str = "T1", start: date = date(2025, 7, 10), end: date | None = None, **kw: Any) -> dict[str, Any]:
    values = {"code": code, "title": f"Training {code}", "topic": "Evidence", "start_date": start,
              "end_date": end or start, "county": "Mombasa"}
    values.update(kw)
    return values


def attendee(training_code: str, name: str, agency: str = "ODPP", staff: str | None = None, sex: str = "F",
             pre: Any = None, post: Any = None) -> dict[str, Any]:
    return {"training_code": training_code, "name": name, "sex": sex, "agency": agency, "staff_number": staff,
            "pre_score": pre, "post_score": post}


def engagement(code: str, day: date, etype: str = "Case mentoring", case: str | None = "CASE-1",
               hours: Any = "2", **kw: Any) -> dict[str, Any]:
    values = {"code": code, "date": day, "type": etype, "county": "Kisumu", "case_ref": case, "hours": hours}
    values.update(kw)
    return values


def milestone(code: str, due: date, status: str = "Not started", completed: date | None = None,
              **kw: Any) -> dict[str, Any]:
    values = {"code": code, "title": f"Milestone {code}", "due_date": due, "status": status, "completed_on": completed}
    values.update(kw)
    return values


def as_user(db_url: str, user: str) -> list[str]:
    """The command-line arguments that act as ``user`` on this database.

    SQLite: ``--db URL --user NAME``. PostgreSQL: the actor is the database login and a ``--user`` naming
    anyone else is refused, so the test connects as a login of that name (created once per cluster; a
    superuser, since these tests are about the application's own roles, not the database's)."""
    if not db_url.startswith("postgresql"):
        return ["--db", db_url, "--user", user]
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
        if exists is None:
            try:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(user)))
            except psycopg.errors.DuplicateObject:  # another test worker made it first
                pass
    return ["--db", url.set(username=user).render_as_string(hide_password=False)]
