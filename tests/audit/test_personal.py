"""Participants' personal data: sealed in the trail, shown only when asked, erasable
(docs/reference/audit-and-signoff.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.db.models import AuditEvent, Participant
from mou_tracker.errors import AlreadyExists, PermissionDenied
from mou_tracker.services import Reason, Services
from mou_tracker.services.audit import AuditWriter
from mou_tracker.services.personal import erase_participant
from mou_tracker.services.users import add_user
from mou_tracker.services.verify import verify_chain
from tests.helpers import as_user, attendee, training

NAME = "Wanjiru Kamau-Odhiambo"
STAFF = "ODPP/KX-7731"


def run(db_url: str, *args: str, user: str = "tester"):
    return CliRunner().invoke(cli, [*as_user(db_url, user), *args])


def progress(db_url: str) -> list[dict]:
    out = run(db_url, "progress", "--period", "2025-Q3", "--format", "json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)["indicators"]


@pytest.fixture
def person(programme, db) -> int:
    programme.add_attendance(attendee("T1", NAME, "ODPP", staff=STAFF, pre=20, post=90))
    programme.add_attendance(attendee("T2", NAME, "ODPP", staff=STAFF, pre=30, post=60))
    with db.reading() as s:
        return s.execute(select(Participant.id).where(Participant.name == NAME)).scalar_one()


def _bytes_of(db_url: str) -> bytes:
    path = sqlite_path(db_url)
    blobs = [p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    return b"".join(blobs)


def test_events_reference_participants_by_pseudonym_and_seal_personal_fields(programme, db, person):
    with db.reading() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.entity_kind.in_(("participant", "attendance")),
                                                    AuditEvent.seq > 0)).scalars().all()
    mine = [e for e in events if e.entity_kind == "participant" and e.entity_id == person]
    assert mine and all(e.entity_ref == f"P-{person}" for e in mine)
    assert any(e.entity_ref == f"T1/P-{person}" for e in events)
    for e in events:
        for needle in (NAME, NAME.casefold(), "ODPP/KX-7731", "KX-7731"):
            assert needle not in (e.changes + (e.entity_ref or "")), (e.seq, needle)
    assert verify_chain(db).ok


def test_log_and_export_show_personal_data_only_when_asked(programme, db, db_url, person, tmp_path):
    plain = run(db_url, "audit", "log", "--entity", "participant")
    assert plain.exit_code == 0 and NAME not in plain.stdout and "KX-7731" not in plain.stdout
    assert "[personal data hidden]" in plain.stdout and f"P-{person}" in plain.stdout
    shown = run(db_url, "audit", "log", "--entity", "participant", "--include-personal-data")
    assert shown.exit_code == 0 and NAME in shown.stdout and STAFF.replace("/", "/") in shown.stdout
    add_user(programme, "eve", "evaluator")
    refused = run(db_url, "audit", "log", "--include-personal-data", user="eve")
    assert refused.exit_code == 1 and "evaluator" in refused.stderr
    path = tmp_path / "trail.xlsx"
    assert run(db_url, "audit", "export", str(path), user="eve").exit_code == 0
    cells = " ".join(str(c) for ws in openpyxl.load_workbook(path) for r in ws.iter_rows(values_only=True) for c in r)
    assert NAME not in cells and "KX-7731" not in cells
    assert run(db_url, "audit", "export", str(path), "--include-personal-data", user="eve").exit_code == 1
    assert run(db_url, "audit", "export", str(path), "--include-personal-data").exit_code == 0
    cells = " ".join(str(c) for ws in openpyxl.load_workbook(path) for r in ws.iter_rows(values_only=True) for c in r)
    assert NAME in cells


@pytest.mark.parametrize("ref", ["staff", "pid"])
def test_erasure_removes_the_person_everywhere_and_changes_no_figure(programme, db, db_url, person, backend, ref,
                                                                     tmp_path):
    before = progress(db_url)
    key = STAFF.lower() if ref == "staff" else f"P-{person}"
    out = run(db_url, "participant", "erase", key, "--reason", "data subject request DSR-2025-14")
    assert out.exit_code == 0, out.output
    assert f"P-{person} erased" in out.stdout and "warning" not in out.stderr
    assert progress(db_url) == before  # every figure unchanged: the person stays one anonymous participant
    result = verify_chain(db)
    assert result.ok, result.findings
    with db.reading() as s:
        p = s.get(Participant, person)
        assert (p.name, p.staff_number, p.key) == (f"Erased participant P-{person}", None, f"erased:P-{person}")
        erase = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (erase.action, erase.entity_ref) == ("erase", f"P-{person}")
    assert NAME not in erase.changes and "KX-7731" not in erase.changes
    log = run(db_url, "audit", "log", "--entity", "participant", "--include-personal-data").stdout
    assert NAME not in log and "[erased]" in log
    path = tmp_path / "after.xlsx"
    assert run(db_url, "audit", "export", str(path), "--include-personal-data").exit_code == 0
    cells = " ".join(str(c) for ws in openpyxl.load_workbook(path) for r in ws.iter_rows(values_only=True) for c in r)
    assert NAME not in cells and "KX-7731" not in cells
    if backend == "sqlite":
        db.dispose()
        raw = _bytes_of(db_url)  # the file, its WAL and every free page
        for needle in (NAME, NAME.casefold(), "ODPP/KX-7731", "odpp/kx-7731", "KX-7731"):
            assert needle.encode() not in raw, needle
    # erasing twice, or someone unknown, is a clear refusal
    again = run(db_url, "participant", "erase", f"P-{person}", "--reason", "again")
    assert again.exit_code == 1 and "already erased" in again.stderr
    assert run(db_url, "participant", "erase", "P-9999", "--reason", "x").exit_code == 1


def test_only_an_admin_erases(programme, db, db_url, person):
    add_user(programme, "mia", "manager")
    for who in ("mia", "nobody"):
        out = run(db_url, "participant", "erase", f"P-{person}", "--reason", "x", user=who)
        assert out.exit_code == 1 and "only an admin" in out.stderr
    with pytest.raises(PermissionDenied):
        erase_participant(Services(db, "tester", read_only=True), f"P-{person}", "x")


def test_older_events_with_clear_names_are_named_by_the_erasure(programme, db, db_url, monkeypatch):
    """A trail written before sealing holds names in clear inside hashed events: erase says so plainly."""
    monkeypatch.setattr(AuditWriter, "_sealed", lambda self, kind, eid, ref, action, changes: (ref, changes))
    programme.add_attendance(attendee("T1", NAME, "ODPP", staff=STAFF))
    monkeypatch.undo()
    out = run(db_url, "participant", "erase", STAFF, "--reason", "DSR-7")
    assert out.exit_code == 0, out.output
    assert "older audit event(s)" in out.stderr and "cannot be changed without breaking it" in out.stderr
    assert verify_chain(db).ok
    plain = run(db_url, "audit", "log").stdout
    assert NAME not in plain  # never shown without the flag


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["attend", "erase", "sign"]), st.integers(0, 5), st.integers(0, 1)),
                min_size=1, max_size=10))
def test_random_writes_erasures_and_signoffs_keep_the_trail_and_the_figures(sqlite_template, tmp_path_factory,
                                                                         steps):
    import shutil

    from mou_tracker.domain.periods import Quarter
    from mou_tracker.services.indicators import IndicatorEngine
    from mou_tracker.services.signoff import sign_off
    from tests.audit.signers import register_signatory

    folder = tmp_path_factory.mktemp("prop")
    shutil.copy(sqlite_template, folder / "p.db")
    db = Database(f"sqlite:///{folder / 'p.db'}")
    from datetime import UTC, datetime, timedelta

    tick = [datetime(2025, 10, 5, 9, tzinfo=UTC)]

    def clock():
        tick[0] += timedelta(seconds=1)
        return tick[0]

    svc = Services(db, "tester", clock=clock)
    svc.seed_standard()
    keys = {"hti": register_signatory(svc, folder, "h.lead", "hti"),
            "odpp": register_signatory(svc, folder, "o.lead", "odpp")}
    for code in ("T1", "T2"):
        svc.create_training(training(code, date(2025, 7, 10) if code == "T1" else date(2025, 9, 1)))
    erased: set[int] = set()

    def figures() -> list:
        with db.reading() as s:
            return IndicatorEngine(s, svc.partnership_id).progress(Quarter.parse("2025-Q3")).as_json()["indicators"]

    for action, who, which in steps:
        before = figures()
        if action == "attend":
            # a person erased earlier is not recognised again: the same staff number makes a new person
            try:
                svc.add_attendance(attendee(f"T{which + 1}", f"Person {who}", "ODPP", staff=f"S{who}",
                                            pre=10 * who, post=50 + who),
                                   reason=Reason("data correction", "late register"))
            except AlreadyExists:  # the same person on the same training again: refused, nothing written
                assert figures() == before
        elif action == "erase":
            with db.reading() as s:
                pid = s.execute(select(Participant.id).where(Participant.staff_number == f"S{who}")).scalar()
            if pid is not None and pid not in erased:
                erase_participant(svc, f"P-{pid}", "request")
                erased.add(pid)
                assert figures() == before  # an erasure changes no figure
        else:
            party = ("hti", "odpp")[which]
            signer = Services(db, {"hti": "h.lead", "odpp": "o.lead"}[party], clock=clock)
            try:
                sign_off(signer, "2025-Q3", party, key=keys[party])
            except Exception as exc:
                assert "reason" in str(exc).lower() or "locked" in str(exc).lower()
        result = verify_chain(db)
        assert result.ok, (steps, result.findings)
    db.dispose()


def test_verify_names_a_tampered_person_by_pseudonym_only(programme, db, person):
    from tests.audit.conftest import raw_sql

    raw_sql(db, f"UPDATE participant SET name = 'Someone Else' WHERE id = {person}")
    result = verify_chain(db)
    assert not result.ok
    text = " ".join(result.findings)
    assert f"P-{person}" in text and "personal data, not shown" in text
    assert NAME not in text and "Someone Else" not in text


def test_the_ui_audit_views_never_show_sealed_personal_data(programme, db):
    """The terminal UI's audit detail reads events through the reader: a sealed name shows as hidden."""
    from mou_tracker.read import Reader
    from mou_tracker.services.personal import HIDDEN

    programme.add_attendance(attendee("T1", "Wanjiku Njeri", "ODPP", staff="ODPP/UI-1"))
    with db.reading() as s:
        seq = s.execute(select(AuditEvent.seq).where(AuditEvent.entity_kind == "participant")
                        .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    with Reader(db) as reader:
        detail = reader.event(seq)
    shown = {c.field: c.new for c in detail.changes}
    assert shown["name"] == HIDDEN and shown["staff_number"] == HIDDEN
    assert "Wanjiku" not in repr(detail)
