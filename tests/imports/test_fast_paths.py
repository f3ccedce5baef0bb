"""The import's fast paths (docs/development.md, "Import speed") give exactly what the plain paths give: the
same audit events (field for field, the sealed personal data included once opened, the chain verifying) on
SQLite and PostgreSQL, and the same stored time stamps as SQLAlchemy's own SQLite DATETIME."""

import re
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from mou_tracker.db.engine import Database
from mou_tracker.db.models import AuditEvent
from mou_tracker.imports import import_workbook
from mou_tracker.services import Services, bulk
from mou_tracker.services.audit import AuditWriter, canonical_value, utc_text
from mou_tracker.services.personal import Unsealer, load_secrets
from tests.conftest import _fresh_url
from tests.imports.helpers import chain_intact, snapshot, write_book


def register() -> dict[str, list[dict]]:
    """Trainings and a register with people on several trainings, spelling variants and blank scores."""
    trainings = [{"Training ID": f"TR-{n}", "Title": f"Session {n}", "Topic": "Evidence",
                  "Start date": date(2025, 7, 1) + timedelta(days=n), "End date": date(2025, 7, 2) + timedelta(days=n),
                  "County": "Nakuru", "Cost": 1000 + n, "Currency": "USD"} for n in range(12)]
    people = []
    for n in range(12):
        for k in range(n % 5, n % 5 + 25):  # 25 people per training, overlapping
            staff = f"ODPP/{k:04d}" if k % 3 == 0 else None
            name = f"Person {k}" if n % 4 else f"PERSON  {k}"
            people.append({"Training ID": f"TR-{n}", "Name": name, "Sex": "FM"[k % 2], "Agency": "ODPP",
                           "Role": "Prosecutor" if k % 2 else None, "Staff number": staff,
                           "Pre-test score": None if k % 7 == 0 else 40 + k % 30,
                           "Post-test score": 55.5 if k % 5 == 0 else 60 + k % 30})
    return {"Trainings": trainings, "Participants": people}


def _fresh(backend, request, folder: Path) -> str:
    folder.mkdir()
    return _fresh_url(backend, request, folder)


def _services(url: str) -> Services:
    ticks = count()
    services = Services(Database(url), "field-officer",
                        clock=lambda: datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(microseconds=next(ticks)))
    services.seed_standard()
    return services


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain paths: one ``build`` per event, one INSERT per row (no COPY)."""
    monkeypatch.setattr(AuditWriter, "build_many",
                        lambda self, action, kind, records: [self.build(action, kind, *r) for r in records])
    monkeypatch.setattr(bulk, "MULTI_ROW", 10**9)
    monkeypatch.setattr(bulk, "POSTGRES_COPY", False)


def _events(db: Database) -> list[dict]:
    """Every event with its sealed values opened (their ciphertexts and keys differ from run to run)."""
    with db.reading() as s:
        unsealer = Unsealer(load_secrets(s))
        out = []
        for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
            changes = e.changes
            if e.entity_kind == "participant":
                changes = unsealer.changes_text(e.entity_id, changes)
            out.append({"seq": e.seq, "occurred_at": e.occurred_at, "actor": e.actor, "action": e.action,
                        "kind": e.entity_kind, "id": e.entity_id, "ref": e.entity_ref, "pid": e.partnership_id,
                        "changes": orjson.loads(changes), "reason": (e.reason_category, e.reason_text),
                        "login": e.login, "sealed": '"$sealed"' in e.changes})
    return out


def test_the_bulk_path_writes_the_same_events_as_the_per_event_path(backend, request, tmp_path, monkeypatch):
    book = write_book(tmp_path / "register.xlsx", register())
    fast = _services(_fresh(backend, request, tmp_path / "fast"))
    assert import_workbook(fast, book).written
    with monkeypatch.context() as m:
        _slow(m)
        slow = _services(_fresh(backend, request, tmp_path / "slow"))
        assert import_workbook(slow, book).written
    a, b = _events(fast.db), _events(slow.db)
    assert len(a) == len(b) > 300
    assert a == b
    bad = [e for e in a if not e["sealed"] and re.search(r"Person \d|ODPP/0", str(e["changes"]))]
    assert any(e["sealed"] for e in a) and not bad, bad[:2]
    # the fixed clock makes the hashes comparable for every event without sealed data (ciphertexts differ)
    with fast.db.reading() as s1, slow.db.reading() as s2:
        h1 = s1.execute(select(AuditEvent.hash, AuditEvent.changes).order_by(AuditEvent.seq)).all()
        h2 = s2.execute(select(AuditEvent.hash, AuditEvent.changes).order_by(AuditEvent.seq)).all()
    first_sealed = next(i for i, (_h, c) in enumerate(h1) if '"$sealed"' in c)
    assert [h for h, _c in h1[:first_sealed]] == [h for h, _c in h2[:first_sealed]]
    assert chain_intact(fast.db) and chain_intact(slow.db)
    fast.db.dispose()
    slow.db.dispose()


def test_the_sqlite_time_stamp_and_the_canonical_one_match_the_general_ones():
    column = AuditEvent.__table__.c.occurred_at
    dialect = sqlite.dialect()
    general = column.type._cached_bind_processor(dialect)
    quick = bulk._fast_processor(column, dialect)
    moments = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
               datetime(2026, 3, 1, 0, 0, 0, 7, tzinfo=UTC), datetime.now(UTC),
               datetime(2026, 3, 1, 2, tzinfo=UTC).astimezone()]  # a local-time one takes the general path
    for moment in moments:
        assert quick(moment) == general(moment)
        assert utc_text(moment) == canonical_value(moment)


def test_the_batch_writes_still_pass_through_the_append_only_guard(services, db):
    """200-row INSERTs (SQLite) and COPY (PostgreSQL) fire the trail's guard: a batch with one event that does not
    extend the chain is refused whole, and nothing of it stays."""
    before = snapshot(db)
    with pytest.raises(Exception, match="append-only"), services.unit_of_work() as uow:
        events = uow.audit.build_many("create", "training", [(n, f"X-{n}", services.partnership_id, {})
                                                             for n in range(1, 451)])
        events[300]["prev_hash"] = "f" * 64  # in the second 200-row statement
        bulk.executemany(uow.session, AuditEvent.__table__, events)
        uow.commit()
    assert snapshot(db) == before and chain_intact(db)


def test_a_number_seen_before_is_one_look_up_but_a_yes_no_cell_is_never_taken_for_it(services, db, tmp_path):
    """The parse cache keys floats apart from other values: 1.0 == 1 == True in Python, yet a TRUE in a score
    column is refused while the 1s and 1.0s around it read as the number 1."""
    trainings = [{"Training ID": "TR-1", "Title": "Session", "Topic": "Evidence", "Start date": date(2025, 7, 1),
                  "End date": date(2025, 7, 2), "County": "Nakuru", "Cost": 1000, "Currency": "USD"}]
    scores = [1, 1.0, True, 1.0, 1.5]
    people = [{"Training ID": "TR-1", "Name": f"Person {k}", "Sex": "F", "Agency": "ODPP",
               "Pre-test score": score, "Post-test score": 2} for k, score in enumerate(scores)]
    path = write_book(tmp_path / "register.xlsx", {"Trainings": trainings, "Participants": people})
    outcome = import_workbook(services, path, dry_run=True)
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("Participants!G4", "Pre-test score 'True' is not a number")]
