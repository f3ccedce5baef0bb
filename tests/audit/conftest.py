"""Fixtures for the audit-trail tests: a small programme with a history, and ways to tamper with it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from mou_tracker.db.engine import Database
from mou_tracker.db.guards import POSTGRES_TRIGGERS, SQLITE_TRIGGERS
from mou_tracker.db.models import AuditEvent
from mou_tracker.services import Reason, Services
from mou_tracker.services.audit import compute_hash, event_payload
from tests.helpers import attendee, engagement, milestone, training


class Clock:
    """An audit clock the test sets: each call is one second after the previous one."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, day: date) -> None:
        self.now = max(self.now, datetime(day.year, day.month, day.day, 9, tzinfo=UTC))

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 5, 12, 9, tzinfo=UTC))


@pytest.fixture
def programme(db: Database, clock: Clock) -> Services:
    """A seeded partnership with trainings, attendances, an engagement and milestones, entered over 2025-Q3
    with the audit clock at each record's date (so as-of views have a history to show)."""
    svc = Services(db, "tester", clock=clock)
    clock.set(date(2025, 5, 12))
    svc.seed_standard()
    svc.set_target("1.1", "2025-Q3", 2)
    svc.set_target("1.2", "2025-Q3", 4)
    clock.set(date(2025, 7, 3))
    svc.create_milestone(milestone("M01", date(2025, 8, 30), workstream="Strategic advice"))
    svc.create_milestone(milestone("M02", date(2025, 9, 15)))
    clock.set(date(2025, 7, 10))
    svc.create_training(training("T1", date(2025, 7, 8), date(2025, 7, 10)))
    for name, agency in (("Amina Hassan", "ODPP"), ("Juma Otieno", "DCI"), ("Makena Were", "ODPP")):
        svc.add_attendance(attendee("T1", name, agency, pre=40, post=70))
    clock.set(date(2025, 8, 20))
    svc.create_engagement(engagement("E1", date(2025, 8, 20), hours="3.5"))
    svc.update_milestone("M01", milestone("M01", date(2025, 9, 20), status="In progress"),
                       reason=Reason("re-planning agreed by both parties", "validation moved"))
    clock.set(date(2025, 9, 12))
    svc.create_training(training("T2", date(2025, 9, 10), date(2025, 9, 12), county="Kisumu"))
    svc.add_attendance(attendee("T2", "Amina Hassan", "ODPP", pre=50, post=80))
    svc.add_attendance(attendee("T2", "Otieno Kamau", "Judiciary"))
    clock.set(date(2025, 9, 25))
    svc.update_milestone("M01", milestone("M01", date(2025, 9, 20), status="Completed", completed=date(2025, 9, 25)),
                       reason=None)
    return svc


def event_count(db: Database) -> int:
    with db.reading() as s:
        return len(s.execute(select(AuditEvent.seq)).all())


def seq_of(db: Database, kind: str, ref: str, action: str = "create") -> int:
    with db.reading() as s:
        return s.execute(select(AuditEvent.seq).where(AuditEvent.entity_kind == kind, AuditEvent.entity_ref == ref,
                                                      AuditEvent.action == action)
                         .order_by(AuditEvent.seq)).scalars().first()


def raw_sql(db: Database, *statements: str) -> None:
    """Run SQL behind the application's back, in one transaction."""
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def drop_guards(db: Database) -> None:
    if db.dialect == "sqlite":
        raw_sql(db, *(f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS))
    else:
        raw_sql(db, *(f"DROP TRIGGER {name} ON audit_event" for name in POSTGRES_TRIGGERS))


def forge_event(db: Database, seq: int, prev_hash: str, **fields: Any) -> str:
    """Insert an event with a valid hash (as someone who knows the algorithm would); returns its hash."""
    values: dict[str, Any] = {"seq": seq, "occurred_at": datetime(2025, 8, 1, 12, tzinfo=UTC), "actor": "mallory",
                              "action": "update", "entity_kind": "milestone", "entity_id": 1, "entity_ref": "M01",
                              "partnership_id": 1, "changes": '{"status":["Not started","Completed"]}',
                              "reason_category": None, "reason_text": None, "prev_hash": prev_hash}
    values.update(fields)
    values["hash"] = compute_hash(event_payload(**{k: v for k, v in values.items() if k != "hash"}))
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEvent.__table__), [values])
    return values["hash"]


def hash_of(db: Database, seq: int) -> str:
    with db.reading() as s:
        return s.execute(select(AuditEvent.hash).where(AuditEvent.seq == seq)).scalar_one()


@pytest.fixture
def pg_logins(backend, db_url, request):
    """Logins that are members of the migration's group roles (what a deployment creates)."""
    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    server = request.getfixturevalue("pg_server")
    database = db_url.rsplit("/", 1)[1]
    suffix = uuid.uuid4().hex[:8]
    logins = {}
    for group in ("mou_manager", "mou_evaluator", "mou_admin"):
        name = f"{group.split('_')[1]}_{suffix}"
        server.admin(f"CREATE ROLE {name} LOGIN IN ROLE {group}")
        logins[group] = Database(server.url(database, user=name))
    yield logins
    for login in logins.values():
        login.dispose()
