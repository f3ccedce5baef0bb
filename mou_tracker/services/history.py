"""Rebuilding state from the audit trail: the register as it stood at the end of any past day.

Every create event carries all of a record's columns, every update the changed ones (old and new), every
delete the old values; replaying events in sequence order into an empty scratch database therefore rebuilds
each table exactly. `progress --as-of`, as-of reports and `audit verify` all use this.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Integer, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from mou_tracker.db.engine import Database
from mou_tracker.db.models import ENTITY_MODELS, AuditEvent, Base
from mou_tracker.db.types import ScaledDecimal, UTCDateTime

REPLAY_BATCH = 5000


def end_of_day_utc(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def from_canonical(column: Any, value: Any) -> Any:
    """The Python value of a canonical (audit-event) value for ``column``."""
    if value is None:
        return None
    t = column.type
    if isinstance(t, ScaledDecimal):
        return Decimal(value)
    if isinstance(t, UTCDateTime):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if isinstance(t, Date):
        return date.fromisoformat(value)
    if isinstance(t, Boolean):
        return bool(value)
    if isinstance(t, Integer):
        return int(value)
    return value


class Replayer:
    """Applies audit events, in order, to a scratch database."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.applied = 0

    def apply(self, event: AuditEvent | Any) -> None:
        model = ENTITY_MODELS.get(event.entity_kind)
        if model is None or event.entity_id is None:
            return  # events about no table row (e.g. a verification note)
        table = model.__table__  # type: ignore[attr-defined]
        changes: dict[str, list[Any]] = json.loads(event.changes)
        cols = table.columns
        if event.action == "create":
            row = {k: from_canonical(cols[k], v[1]) for k, v in changes.items() if k in cols}
            row["id"] = event.entity_id
            self.session.execute(insert(table), [row])
        elif event.action == "update":
            new = {k: from_canonical(cols[k], v[1]) for k, v in changes.items() if k in cols}
            if new:
                self.session.execute(update(table).where(table.c.id == event.entity_id).values(**new))
        elif event.action == "delete":
            self.session.execute(delete(table).where(table.c.id == event.entity_id))
        self.applied += 1


@contextmanager
def scratch_session() -> Iterator[Session]:
    """An empty in-memory database with the current schema (a throwaway; never the user's database)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def iter_events(db: Database, until: datetime | None = None) -> Iterator[Any]:
    """Audit events in sequence order, streamed in batches (bounded memory on a large trail)."""
    last = 0
    while True:
        with db.reading() as s:
            stmt = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(REPLAY_BATCH)
            batch = list(s.execute(stmt).scalars())
        if not batch:
            return
        for event in batch:
            if until is not None and event.occurred_at >= until:
                return
            yield event
        last = batch[-1].seq


@contextmanager
def state_as_of(db: Database, day: date) -> Iterator[Session]:
    """A read-only session on the state at the end of ``day`` (UTC), rebuilt from the audit trail."""
    with scratch_session() as session:
        replayer = Replayer(session)
        for event in iter_events(db, end_of_day_utc(day)):
            replayer.apply(event)
        session.flush()
        yield session
