"""Two-party sign-off, locks and restatements."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import PeriodLock, PeriodSignoff, Restatement
from mou_tracker.errors import ReasonRequired, ValidationError
from mou_tracker.services import Reason, Services
from mou_tracker.services.signoff import lock_period, period_status, sign_off
from mou_tracker.services.verify import verify_chain
from tests.helpers import training


def run(db_url: str, *args: str, user: str = "tester"):
    return CliRunner().invoke(cli, ["--db", db_url, "--user", user, *args])


def status(db, svc):
    with db.reading() as s:
        return period_status(s, svc.partnership_id, "2025-Q3")


def test_both_parties_sign_and_the_quarter_locks(programme, db, db_url):
    head_before = verify_chain(db).head
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--comment", "Agreed at the review",
              user="alice")
    assert out.exit_code == 0, out.output
    assert "Human Trafficking Institute (HTI) signed off 2025-Q3 as alice" in out.stdout
    assert f"chain head {head_before}" in out.stdout and "Waiting for ODPP" in out.stdout
    assert status(db, programme).lock is None
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "ODPP", user="bob")
    assert out.exit_code == 0, out.output
    assert "2025-Q3 is now locked" in out.stdout and "note:" not in out.stdout
    st = status(db, programme)
    assert st.lock is not None and "HTI (alice) and ODPP (bob)" in (st.lock.reason or "")
    hti, odpp = sorted(st.signoffs, key=lambda s: s.party)
    assert (hti.party, hti.actor, hti.comment, hti.chain_head) == ("hti", "alice", "Agreed at the review", head_before)
    assert odpp.chain_seq == hti.chain_seq + 1  # HTI's sign-off is itself an audited event
    assert hti.figures == odpp.figures == st.lock.figures
    assert hti.figures["1.1"] == {"target": "2", "actual": "2"}
    assert "2025-Q3" in programme.locked_periods()
    # the head HTI signed is an anchor: the trail still contains it
    assert verify_chain(db, anchor=hti.chain_head).ok
    out = run(db_url, "period", "status", "2025-Q3")
    assert "locked on" in out.stdout and "signed by Human Trafficking Institute (HTI): alice" in out.stdout


def test_figures_changed_between_signatures_do_not_lock(programme, db, clock):
    clock.set(date(2025, 10, 3))
    alice = Services(db, "alice", clock=clock)
    bob = Services(db, "bob", clock=clock)
    sign_off(alice, "2025-Q3", "hti", "ok")
    programme.create_training(training("T3", date(2025, 9, 30)))  # not locked yet: no reason needed
    outcome = sign_off(bob, "2025-Q3", "odpp")
    assert not outcome.locked
    text = "\n".join(outcome.lines())
    assert "Not locked: HTI signed different figures" in text and "1.1: 2 -> 3" in text
    assert "HTI needs to sign off again" in text
    assert status(db, programme).lock is None
    again = sign_off(alice, "2025-Q3", "hti", "re-signed after T3 was added")
    assert again.locked
    st = status(db, programme)
    assert {s.party: s.figures["1.1"]["actual"] for s in st.signoffs} == {"hti": "3", "odpp": "3"}


def test_one_person_signing_for_both_parties_gets_a_note(programme, db, db_url):
    run(db_url, "period", "signoff", "2025-Q3", "--party", "hti")
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "odpp")
    assert out.exit_code == 0
    assert "now locked" in out.stdout and "note: tester also signed for HTI" in out.stdout


def test_change_to_a_locked_quarter_needs_a_reason_and_is_a_restatement(programme, db, clock):
    clock.set(date(2025, 10, 3))
    outcome = lock_period(programme, "2025-Q3", "data correction: figures final for the donor report")
    assert outcome.locked
    n_events = verify_chain(db).events
    with pytest.raises(ReasonRequired) as info:
        programme.create_training(training("T3", date(2025, 9, 30)))
    assert "locked quarter(s) (2025-Q3: 1.1: 2 -> 3)" in str(info.value)
    assert verify_chain(db).events == n_events  # nothing was written
    clock.set(date(2025, 10, 9))
    carol = Services(db, "carol", clock=clock)
    carol.create_training(training("T3", date(2025, 9, 30)), reason=Reason("data correction", "report arrived late"))
    carol.delete_training("T2", Reason("data correction", "held in October, not September"))
    restated = status(db, programme).restatements
    assert [(r.indicator_code, r.period, r.reported_value, r.restated_value, r.actor, r.reason_category,
             r.reason_text) for r in restated] == [
        ("1.1", "2025-Q3", "2", "3", "carol", "data correction", "report arrived late"),
        ("1.1", "2025-Q3", "3", "2", "carol", "data correction", "held in October, not September"),
        ("1.2", "2025-Q3", "4", "3", "carol", "data correction", "held in October, not September"),
    ]  # 1.4 stays 30: T2's one scored attendance had the same gain as T1's
    assert restated[0].at.date() == date(2025, 10, 9)
    assert verify_chain(db).ok  # restatements are written through the audited path


def test_change_that_leaves_the_figures_alone_makes_no_restatement(programme, db, clock):
    clock.set(date(2025, 10, 3))
    lock_period(programme, "2025-Q3", "final")
    with pytest.raises(ReasonRequired):  # a record dated in a locked quarter still needs a reason
        programme.update_training("T1", training("T1", date(2025, 7, 8), date(2025, 7, 10), venue="Law courts"))
    programme.update_training("T1", training("T1", date(2025, 7, 8), date(2025, 7, 10), venue="Law courts"),
                            reason=Reason("data correction", "venue was missing"))
    programme.create_training(training("Q4", date(2025, 10, 2)))  # another quarter: no reason, no restatement
    with db.reading() as s:
        assert s.execute(select(Restatement)).first() is None


def test_lock_directly_and_twice(programme, db, db_url):
    out = run(db_url, "period", "lock", "2025-Q3", "--reason", "donor requirement: end of reporting year")
    assert out.exit_code == 0, out.output
    assert "2025-Q3 locked by tester" in out.stdout and "chain head" in out.stdout
    with db.reading() as s:
        lock = s.execute(select(PeriodLock)).scalar_one()
    assert lock.reason == "donor requirement: end of reporting year" and '"1.1"' in (lock.figures or "")
    again = run(db_url, "period", "lock", "2025-Q3", "--reason", "again")
    assert again.exit_code == 0 and "already locked" in again.stdout
    assert run(db_url, "period", "lock", "2025-Q3").exit_code == 2  # --reason is required


def test_quarter_that_has_not_ended_cannot_be_signed_or_locked(programme, db, clock):
    clock.set(date(2025, 9, 26))
    with pytest.raises(ValidationError) as info:
        sign_off(programme, "2025-Q3", "hti")
    assert "2025-Q3 has not ended yet (it ends 2025-09-30)" in str(info.value)
    with pytest.raises(ValidationError):
        lock_period(programme, "2025-Q4", "too early")


def test_evaluators_and_read_only_sessions_cannot_sign(programme, db, db_url):
    programme.save_user("eve", "evaluator")
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", user="eve")
    assert out.exit_code == 1 and "evaluator" in out.stderr
    with db.reading() as s:
        assert s.execute(select(PeriodSignoff)).first() is None


def test_unknown_party_and_bad_period_are_usage_errors(programme, db_url):
    assert run(db_url, "period", "signoff", "2025-Q3", "--party", "dci").exit_code == 2
    assert run(db_url, "period", "signoff", "2025-Q5", "--party", "hti").exit_code == 2
