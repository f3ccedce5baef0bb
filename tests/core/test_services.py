"""The service layer: validation with field-named messages, nothing written on refusal, audit in the same
transaction, roles and reasons. Runs on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from mou_tracker.db.models import AuditEvent, Expenditure, Milestone, Participant
from mou_tracker.errors import NotFound, PermissionDenied, ReasonRequired, ValidationError
from mou_tracker.services import Reason, Services
from mou_tracker.services.audit import event_hash
from tests.helpers import attendee, engagement, milestone, table_counts, training


def refused(db, call, field, fragment=""):
    """Call must raise a ValidationError naming ``field`` and change nothing at all."""
    before = table_counts(db)
    with pytest.raises(ValidationError) as info:
        call()
    labels = [p.field for p in info.value.problems]
    assert field in labels, info.value.lines()
    if fragment:
        assert any(fragment in p.message for p in info.value.problems if p.field == field), info.value.lines()
    assert table_counts(db) == before
    return info.value


def test_end_before_start_is_refused(services, db):
    refused(db, lambda: services.create_training(training(start=date(2025, 7, 10), end=date(2025, 7, 9))),
            "End date", "before the start date")


def test_unknown_county_is_refused(services, db):
    refused(db, lambda: services.create_training(training(county="Atlantis")), "County", "47 counties")


def test_missing_required_fields_are_all_listed(services, db):
    err = refused(db, lambda: services.create_training({"code": "T9"}), "Title")
    assert {"Title", "Topic", "Start date", "End date", "County"} <= {p.field for p in err.problems}


def test_negative_hours_refused(services, db):
    refused(db, lambda: services.create_engagement(engagement("E1", date(2025, 8, 1), hours="-3")), "Hours", "negative")


def test_case_mentoring_needs_a_case_reference(services, db):
    refused(db, lambda: services.create_engagement(engagement("E1", date(2025, 8, 1), case=None)), "Case reference")


@pytest.mark.parametrize("score", ["101", "-1", "abc"])
def test_score_outside_0_100_refused(services, db, score):
    services.create_training(training())
    refused(db, lambda: services.add_attendance(attendee("T1", "Jane", post=score)), "Post-test score")


def test_attendance_needs_an_existing_training(services, db):
    refused(db, lambda: services.add_attendance(attendee("NOPE", "Jane")), "Training ID", "no training")


def test_foreign_currency_expenditure_needs_a_rate(services, db):
    _grant(services)
    refused(db, lambda: services.create_expenditure({"code": "X1", "date": date(2025, 8, 1), "line_code": "BL1",
                                                   "description": "Hall", "amount": "100000", "currency": "KES"}),
            "Rate", "required")


def test_expenditure_on_unknown_budget_line_refused(services, db):
    _grant(services)
    refused(db, lambda: services.create_expenditure({"code": "X1", "date": date(2025, 8, 1), "line_code": "BL9",
                                                   "description": "Hall", "amount": "10", "currency": "USD"}),
            "Line code")


def test_completed_milestone_needs_a_completion_date(services, db):
    refused(db, lambda: services.create_milestone(milestone("M1", date(2025, 9, 1), status="Completed")),
            "Completed on", "required")


def test_money_with_too_many_decimals_refused(services, db):
    refused(db, lambda: services.create_training(training(cost="10.123")), "Cost", "decimal places")


def test_kes_expenditure_is_converted_half_up(services, db):
    _grant(services)
    res = services.create_expenditure({"code": "X1", "date": date(2025, 8, 1), "line_code": "BL1",
                                     "description": "Hall", "amount": "1000.50", "currency": "kes",
                                     "rate": "0.0077"})
    assert res.action == "created"
    with db.reading() as s:
        x = s.execute(select(Expenditure)).scalar_one()
    assert (x.currency, x.amount, x.amount_grant) == ("KES", Decimal("1000.50"), Decimal("7.70"))
    assert isinstance(x.amount_grant, Decimal)


def test_every_write_is_audited_and_chained(services, db):
    services.create_training(training())
    services.update_training("T1", training(title="Renamed"))
    services.update_training("T1", training(title="Renamed"))  # unchanged: no event
    with db.reading() as s:
        events = list(s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for prev, ev in zip(events, events[1:], strict=False):
        assert ev.prev_hash == prev.hash
    assert all(event_hash(e) == e.hash for e in events)
    last = events[-1]
    assert (last.action, last.entity_kind, last.entity_ref, last.actor) == ("update", "training", "T1", "tester")
    assert '"title":["Training T1","Renamed"]' in last.changes
    assert last.occurred_at.tzinfo is not None and last.occurred_at.utcoffset().total_seconds() == 0


def test_unchanged_save_writes_no_event(services, db):
    services.create_training(training(cost="1500"))
    before = table_counts(db)
    assert services.update_training("T1", training(cost="1500.00")).action == "unchanged"
    assert table_counts(db) == before


def test_failed_batch_rolls_back_everything(services, db):
    before = table_counts(db)
    with pytest.raises(ValidationError), services.transaction():
        services.create_training(training("T1"))
        services.create_training(training("T2", county="Atlantis"))
    assert table_counts(db) == before


def test_evaluator_cannot_write(services, db):
    services.save_user("eve", "evaluator")
    eve = Services(db, "eve")
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="evaluator"):
        eve.create_training(training())
    assert table_counts(db) == before


def test_read_only_session_cannot_write(services, db):
    with pytest.raises(PermissionDenied, match="read-only"):
        Services(db, "tester", read_only=True).create_training(training())


def test_only_an_admin_manages_users(services, db):
    services.save_user("mo", "manager")
    with pytest.raises(PermissionDenied, match="admin"):
        Services(db, "mo").save_user("mo", "admin")


def test_due_date_change_needs_a_reason_and_keeps_the_original(services, db):
    services.create_milestone(milestone("M1", date(2025, 9, 1)))
    with pytest.raises(ReasonRequired):
        services.update_milestone("M1", milestone("M1", date(2025, 10, 15)))
    services.update_milestone("M1", milestone("M1", date(2025, 10, 15)),
                            reason=Reason.of("re-planning agreed by both parties", "court vacation"))
    with db.reading() as s:
        m = s.execute(select(Milestone)).scalar_one()
        ev = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (m.original_due_date, m.due_date) == (date(2025, 9, 1), date(2025, 10, 15))
    assert (ev.reason_category, ev.reason_text) == ("re-planning agreed by both parties", "court vacation")


def test_status_moving_backwards_needs_a_reason(services, db):
    services.create_milestone(milestone("M1", date(2025, 9, 1), status="Completed", completed=date(2025, 8, 30)))
    with pytest.raises(ReasonRequired):
        services.update_milestone("M1", milestone("M1", date(2025, 9, 1), status="In progress"))
    services.update_milestone("M1", milestone("M1", date(2025, 9, 1), status="In progress"),
                            reason=Reason.parse("data correction: not yet signed"))


def test_delete_needs_a_reason_and_is_audited(services, db):
    services.create_training(training())
    services.add_attendance(attendee("T1", "Jane"))
    with pytest.raises(ReasonRequired):
        services.delete_training("T1", None)
    services.delete_training("T1", Reason.parse("entered twice"))
    with db.reading() as s:
        kinds = [(e.action, e.entity_kind) for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
    assert kinds[-2:] == [("delete", "attendance"), ("delete", "training")]
    with pytest.raises(NotFound):
        services.delete_training("T1", Reason.parse("again"))


def test_reason_category_must_be_known():
    with pytest.raises(ValidationError, match="unknown reason category"):
        Reason.of("whim", "because")
    assert Reason.parse("Donor requirement - new format") == Reason("donor requirement", "new format")
    assert Reason.parse("typo") == Reason("other", "typo")


def test_participant_identity_reuses_the_person(services, db):
    services.create_training(training("T1"))
    services.create_training(training("T2", start=date(2025, 10, 2)))
    services.add_attendance(attendee("T1", "Jane  Wanjiru", agency="DCI"))
    services.add_attendance(attendee("T2", " jane WANJIRU ", agency="DCI"))
    services.add_attendance(attendee("T1", "Peter Otieno", staff="odpp 77"))
    services.add_attendance(attendee("T2", "P. Otieno", staff="ODPP77"))
    with db.reading() as s:
        people = s.execute(select(Participant.name, Participant.key).order_by(Participant.id)).all()
    assert len(people) == 2
    assert people[1].key == "staff:ODPP77"


def test_no_raw_update_or_delete_on_the_audit_trail(services, db):
    services.create_training(training())
    for sql in ("UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))


def _grant(services):
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                         "start_date": date(2025, 5, 12), "end_date": date(2028, 5, 11)})
    services.create_budget_line({"code": "BL1", "name": "Trainings", "category": "Training", "amount": "50000"})
