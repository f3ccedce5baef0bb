"""As-of: the state at the end of a past day, rebuilt from the audit trail, gives that day's figures."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import ENTITY_MODELS
from mou_tracker.domain.periods import Quarter
from mou_tracker.services import Reason, Services
from mou_tracker.services.history import Replayer, end_of_day_utc, iter_events, scratch_session, state_as_of
from mou_tracker.services.indicators import IndicatorEngine
from tests.helpers import attendee, training


def progress_json(db_url: str, *args: str) -> dict:
    out = CliRunner().invoke(cli, ["--db", db_url, "progress", "--period", "2025-Q3", "--format", "json", *args])
    assert out.exit_code == 0, out.output
    return {f["code"]: f for f in json.loads(out.stdout)["indicators"]}


def test_as_of_figures_are_the_earlier_ones(programme, db, db_url, clock):
    before = progress_json(db_url)
    assert before["1.1"]["period_actual"] == 2 and before["1.2"]["period_actual"] == 4
    # after 30 September, records of 2025-Q3 change: a training added late, one deleted, a milestone reopened
    clock.set(date(2025, 10, 20))
    programme.create_training(training("T3", date(2025, 9, 29), date(2025, 9, 30)))
    programme.add_attendance(attendee("T3", "New Person", "ODPP"))
    programme.delete_training("T1", Reason("data correction", "entered twice"))
    now = progress_json(db_url)
    assert now["1.1"]["period_actual"] == 2 and now["1.2"]["period_actual"] == 3  # T3 in, T1 (3 people) out
    as_of = progress_json(db_url, "--as-of", "2025-09-30")
    assert as_of == before
    assert progress_json(db_url, "--as-of", "2025-07-09")["1.1"]["period_actual"] == 0  # T1 not yet entered
    out = CliRunner().invoke(cli, ["--db", db_url, "progress", "--period", "2025-Q3", "--as-of", "2025-09-30",
                                   "--format", "json"])
    assert json.loads(out.stdout)["as_of"] == "2025-09-30"


def test_as_of_state_equals_a_full_replay(programme, db, clock):
    clock.set(date(2025, 10, 2))
    programme.delete_training("T2", Reason("data correction", "wrong file"))
    for day in (date(2025, 7, 10), date(2025, 9, 12), date(2025, 10, 2)):
        with state_as_of(db, day) as fast, scratch_session() as slow:
            replayer = Replayer(slow)
            for event in iter_events(db, end_of_day_utc(day)):
                replayer.apply(event)
            slow.flush()
            for model in ENTITY_MODELS.values():
                table = model.__table__
                rows = [tuple(r) for r in fast.execute(select(table).order_by(table.c.id))]
                assert rows == [tuple(r) for r in slow.execute(select(table).order_by(table.c.id))], table.name


def test_as_of_one_partnership_ignores_the_others(programme, db, clock):
    other = Services(db, "tester", partnership="UG-HTI", clock=clock)
    other.create_partnership({"code": "UG-HTI", "name": "Uganda", "country": "Uganda",
                              "start_date": date(2025, 1, 1)})
    other.create_training(training("U1", date(2025, 8, 1)))
    pid = programme.partnership_id
    with state_as_of(db, date(2025, 12, 31), partnership_id=pid) as session:
        from mou_tracker.db.models import Training

        assert sorted(session.execute(select(Training.code)).scalars()) == ["T1", "T2"]
        figures = IndicatorEngine(session, pid).progress(Quarter(2025, 3)).by_code()
    with db.reading() as live:
        expected = IndicatorEngine(live, pid).progress(Quarter(2025, 3)).by_code()
    assert figures == expected


def test_as_of_on_the_demo_programme_matches_the_live_figures_at_its_end(demo_db):
    svc = Services(demo_db, "tester", read_only=True)
    pid = svc.partnership_id
    with demo_db.reading() as live:
        expected = IndicatorEngine(live, pid).progress(Quarter(2026, 2))
    with state_as_of(demo_db, date(2026, 11, 29), partnership_id=pid) as session:
        assert IndicatorEngine(session, pid).progress(Quarter(2026, 2)) == expected
