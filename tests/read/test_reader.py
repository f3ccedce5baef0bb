"""The reader behind the UI's tables and dashboard (and the CLI and the reports), on both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from mou_tracker.db.models import Training
from mou_tracker.domain.periods import Quarter
from mou_tracker.read import ListRequest, Reader, lists
from mou_tracker.services.audit import Reason


def _engagements(services: Any, n: int) -> None:
    from mou_tracker.db.models import Engagement

    services.bulk_insert("engagement", Engagement, [
        {"partnership_id": services.partnership_id, "code": f"TS-{i:03d}", "date": date(2025, 6, 1 + i % 28),
         "type": "Case review" if i % 3 else "Coordination", "county": "Kisumu" if i % 2 else "Nairobi",
         "case_ref": None, "case_key": None, "hours": 2, "hti_advisor": "50%_off" if i == 7 else None,
         "odpp_counterpart": None, "summary": None} for i in range(120)])


def test_pages_filter_and_sort_in_sql(services: Any) -> None:
    _engagements(services, 120)
    with Reader(services.db) as r:
        first = r.engagements(ListRequest(limit=50))
        assert (first.total, len(first.rows), first.first, first.last, first.has_next) == (120, 50, 1, 50, True)
        last = r.engagements(ListRequest(offset=100, limit=50))
        assert (last.first, last.last, last.has_next, last.has_prev) == (101, 120, False, True)
        beyond = r.engagements(ListRequest(offset=1000, limit=50))
        assert beyond.offset == 100  # clamped to the last page
        kisumu = r.engagements(ListRequest(text="  KISUMU "))
        assert kisumu.total == 60 and all(r.county == "Kisumu" for r in kisumu.rows)
        by_date = r.engagements(ListRequest(text="2025-06-0", limit=200))
        assert {r.date.day for r in by_date.rows} == set(range(1, 10))
        # LIKE wildcards in the filter are taken literally
        assert [r.code for r in r.engagements(ListRequest(text="50%_")).rows] == ["TS-007"]
        assert r.engagements(ListRequest(text="%")).total == 1
        ordered = r.engagements(ListRequest(sort="code", limit=3)).rows
        assert [r.code for r in ordered] == ["TS-000", "TS-001", "TS-002"]
        reverse = r.engagements(ListRequest(sort="code", descending=True, limit=2)).rows
        assert [r.code for r in reverse] == ["TS-119", "TS-118"]
        unknown = r.engagements(ListRequest(sort="no such column", limit=1)).rows
        assert unknown[0].date == date(2025, 6, 28)  # falls back to the default order, newest first


def test_trainings_carry_their_participant_counts(services: Any) -> None:
    services.create_training({"code": "T1", "title": "One", "topic": "x", "start_date": "2025-07-01",
                            "end_date": "2025-07-02", "county": "Nairobi"})
    for name, sex, agency in (("A B", "F", "ODPP"), ("C D", "F", "DCI"), ("E F", "M", "ODPP")):
        services.add_attendance({"training_code": "T1", "name": name, "sex": sex, "agency": agency})
    with Reader(services.db) as r:
        (row,) = r.trainings().rows
        assert (row.participants, row.women, row.men) == (3, 2, 1)
        assert r.training("T1") == row
        assert r.training("nope") is None
        people = r.disaggregation(row.id)
        assert people.by_sex == (("F", 2), ("M", 1)) and people.by_agency == (("ODPP", 2), ("DCI", 1))
        assert r.training_detail("T1") == (row, people)
        assert r.disaggregation().total == 3
        names = [a.name for a in r.attendances(row.id, ListRequest(text="odpp")).rows]
        assert names == ["A B", "E F"]


def test_milestone_alerts_and_history(services: Any) -> None:
    services.create_milestone({"code": "M1", "title": "Late", "due_date": "2026-01-10", "status": "In progress"})
    services.create_milestone({"code": "M2", "title": "Soon", "due_date": "2026-02-05", "status": "Not started"})
    services.create_milestone({"code": "M3", "title": "Done late", "due_date": "2026-01-05", "status": "Completed",
                             "completed_on": "2026-01-25"})
    services.create_milestone({"code": "M4", "title": "Dropped", "due_date": "2026-01-01", "status": "Cancelled"})
    services.update_milestone("M1", {"code": "M1", "title": "Late", "due_date": "2026-01-12", "status": "In progress"},
                            reason=Reason("implementation delay", "court recess"))
    with Reader(services.db) as r:
        now = r.milestone_alerts(date(2026, 1, 20))
        assert [m.code for m in now.overdue] == ["M3", "M1"]  # M3 was still open on that day
        assert [m.code for m in now.upcoming] == ["M2"] and now.upcoming_total == 1
        later = r.milestone_alerts(date(2026, 1, 30))
        assert [m.code for m in later.overdue] == ["M1"]
        m1, history = r.milestone_history("M1")
        assert m1 is not None and m1 == r.milestone("M1")
        assert (m1.original_due_date, m1.due_date, m1.slippage_days) == (date(2026, 1, 10), date(2026, 1, 12), 2)
        assert [h.action for h in history] == ["create", "update"]
        assert [(c.field, c.label, c.old, c.new) for c in history[1].changes] == [
            ("due_date", "Due date", date(2026, 1, 10), date(2026, 1, 12))]
        assert (history[1].reason_category, history[1].reason_text) == ("implementation delay", "court recess")
        assert r.milestone_history("nope") == (None, ())


def test_trainings_per_month_fills_empty_months(services: Any) -> None:
    for code, end in (("T1", "2025-05-20"), ("T2", "2025-07-03"), ("T3", "2025-07-30"), ("T4", "2025-09-01")):
        services.create_training({"code": code, "title": code, "topic": "x", "start_date": end, "end_date": end,
                                "county": "Nairobi"})
    with services.db.reading() as s:
        months = lists.trainings_per_month(s, services.partnership_id, date(2025, 5, 12), date(2025, 8, 31))
    assert [(m.month.month, m.count) for m in months] == [(5, 1), (6, 0), (7, 2), (8, 0)]


def test_audit_events_page_newest_first_and_stop_at_until(services: Any) -> None:
    services.create_engagement({"code": "E1", "date": "2025-06-01", "type": "Coordination", "county": "Nairobi",
                              "hours": "1"})
    with Reader(services.db) as r:
        page = r.events(ListRequest(limit=5))
        assert page.rows[0].entity_ref == "E1" and page.rows[0].seq == page.total
        assert r.events(ListRequest(text="engagement")).total == 1
        detail = r.event(page.rows[0].seq)
        assert detail is not None and detail.hash and ("hours", "Hours", None, Decimal("1.00")) in \
            [(c.field, c.label, c.old, c.new) for c in detail.changes]
    with Reader(services.db, as_of=date(2000, 1, 1)) as long_ago:
        assert long_ago.events().total == 0 and long_ago.event(page.rows[0].seq) is None


def test_dashboard_figures_are_the_engines(demo_db: Any) -> None:
    """The dashboard shows exactly what `progress --format json` reports for the same quarter."""
    import json

    from mou_tracker.cli import cli

    with Reader(demo_db) as r:
        board = r.dashboard(Quarter(2026, 3), date(2026, 11, 29))
    out = CliRunner().invoke(cli, ["--db", demo_db.url, "progress", "--period", "2026-Q3", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert board.progress.as_json() == json.loads(out.output)
    assert board.day == date(2026, 9, 30) and board.grants[0].as_at == date(2026, 9, 30)
    assert board.quarters[0] == Quarter(2025, 2) and Quarter(2026, 4) in board.quarters
    with demo_db.reading() as s:
        ended = s.execute(select(func.count()).select_from(Training).where(Training.end_date <= board.day)).scalar()
    assert sum(m.count for m in board.months) == ended > 0
