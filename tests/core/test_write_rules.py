"""Issue 9, the service layer: nothing changes silently. Adding a record whose ID exists is refused (naming it,
proposing the next free ID), adding a person twice to a training is refused, a recognised person keeps the
recorded name, every problem of a write is reported at once, dates stay in 2000-2100 and completions in the
past, rates keep 10 decimal places. On SQLite and PostgreSQL."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from mou_tracker.db.models import Attendance, AuditEvent, Disbursement, Engagement, Expenditure, Participant, Training
from mou_tracker.errors import AlreadyExists, NotFound, ReasonRequired, ValidationError
from mou_tracker.services import Reason, Services
from tests.helpers import attendee, engagement, milestone, table_counts, training


def _grant(services):
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                           "start_date": date(2025, 5, 12), "end_date": date(2028, 5, 11)})
    services.create_budget_line({"code": "BL1", "name": "Trainings", "category": "Training", "amount": "50000"})


def _spend(code="X1", **kw):
    values = {"code": code, "date": date(2025, 8, 1), "line_code": "BL1", "description": "Hall",
              "amount": "1000000", "currency": "KES", "rate": "0.0077405"}
    values.update(kw)
    return values


def exists_refused(db, call, kind, code, suggestion):
    before = table_counts(db)
    with pytest.raises(AlreadyExists) as info:
        call()
    assert (info.value.kind, info.value.code, info.value.suggestion) == (kind, code, suggestion)
    assert table_counts(db) == before
    return info.value


# Create and update are different operations ---------------------------------------------------------------------
def test_adding_a_training_whose_id_exists_is_refused_and_the_next_free_id_proposed(services, db):
    services.create_training(training("TR-2026-040", title="Prosecutors' workshop"))
    services.create_training(training("TR-2026-041"))
    for i in range(21):
        services.add_attendance(attendee("TR-2026-040", f"Person {i}", pre=40, post=70))
    err = exists_refused(db, lambda: services.create_training(training("TR-2026-040", title="Another")),
                         "training", "TR-2026-040", "TR-2026-042")
    assert err.lines() == ["Training ID: training TR-2026-040 already exists (Prosecutors' workshop); open it to "
                           "change it, or use TR-2026-042"]
    with db.reading() as s:
        t = s.execute(select(Training).where(Training.code == "TR-2026-040")).scalar_one()
        assert t.title == "Prosecutors' workshop"
        assert len(s.execute(select(Attendance).where(Attendance.training_id == t.id)).all()) == 21


def test_adding_an_engagement_whose_id_exists_keeps_the_real_one(services, db):
    services.create_engagement(engagement("TS-066", date(2026, 8, 3), case="CTIP/MSA/2026/101"))
    err = exists_refused(db, lambda: services.create_engagement(engagement("TS-066", date(2026, 9, 1), case=None,
                                                                             etype="Coordination")),
                         "engagement", "TS-066", "TS-067")
    assert "Case mentoring, 2026-08-03" in err.lines()[0]
    with db.reading() as s:
        e = s.execute(select(Engagement)).scalar_one()
    assert (e.case_ref, e.date) == ("CTIP/MSA/2026/101", date(2026, 8, 3))


def test_adding_a_milestone_grant_line_expenditure_or_indicator_whose_id_exists_is_refused(services, db):
    services.create_milestone(milestone("M01", date(2025, 9, 1)))
    exists_refused(db, lambda: services.create_milestone(milestone("M01", date(2025, 10, 1))), "milestone", "M01",
                   "M02")
    _grant(services)
    exists_refused(db, lambda: services.create_grant({"code": "G1", "funder": "X", "currency": "USD", "amount": "1",
                                                      "start_date": date(2025, 5, 12),
                                                      "end_date": date(2026, 5, 11)}), "grant", "G1", "G2")
    exists_refused(db, lambda: services.create_budget_line({"code": "BL1", "name": "Other", "amount": "5"}),
                   "budget_line", "BL1", "BL2")
    services.create_expenditure(_spend("EX-0009"))
    exists_refused(db, lambda: services.create_expenditure(_spend("EX-0009", amount="5")), "expenditure", "EX-0009",
                   "EX-0010")
    exists_refused(db, lambda: services.create_indicator({"code": "1.1", "name": "Mine", "unit": "x",
                                                          "kind": "sum"}), "indicator", "1.1", "1.5")
    services.create_disbursement({"date": date(2025, 6, 1), "amount": "300000", "currency": "USD",
                                  "reference": "TRANCHE-1"})
    exists_refused(db, lambda: services.create_disbursement({"date": date(2025, 7, 1), "amount": "1",
                                                             "currency": "USD", "reference": "TRANCHE-1"}),
                   "disbursement", "TRANCHE-1", None)


def test_adding_an_id_that_differs_from_a_stored_one_only_in_capitals_says_so(services, db):
    """IDs are compared exactly, so 'tr-1' beside a stored 'TR-1' is a training of its own; the import noted it,
    a form or a script adding one did not say a word. Now every kind of record with an ID notes it."""
    services.create_training(training("TR-1"))
    made = services.create_training(training("tr-1"))
    assert made.action == "created"
    assert made.notes == ["Training ID: 'tr-1' differs from the stored 'TR-1' only in capitals; IDs are compared "
                          "exactly, so it is a new training"]
    assert services.create_training(training("TR-2")).notes == []
    services.create_training(training("SÉMINAIRE-1"))  # letters beyond ASCII fold too (SQLite's lower() does not)
    assert "'séminaire-1' differs from the stored 'SÉMINAIRE-1'" in services.create_training(
        training("séminaire-1")).notes[0]
    services.create_engagement(engagement("TS-1", date(2026, 8, 3)))
    assert services.create_engagement(engagement("ts-1", date(2026, 8, 4))).notes[0].startswith(
        "Engagement ID: 'ts-1' differs from the stored 'TS-1' only in capitals")
    services.create_milestone(milestone("M01", date(2025, 9, 1)))
    assert "'m01' differs from the stored 'M01'" in services.create_milestone(milestone("m01", date(2025, 9, 1))
                                                                              ).notes[0]
    _grant(services)
    line = services.create_budget_line({"code": "bl1", "name": "Other", "amount": "5"})
    assert line.notes == ["Line code: 'bl1' differs from the stored 'BL1' only in capitals; IDs are compared "
                          "exactly, so it is a new budget line"]
    services.create_expenditure(_spend("EX-1"))
    assert "'ex-1' differs from the stored 'EX-1'" in services.create_expenditure(_spend("ex-1")).notes[0]
    ind = services.create_indicator({"code": "x1", "name": "Mine", "unit": "x", "kind": "sum"})
    assert ind.notes == []
    assert services.create_indicator({"code": "X1", "name": "Mine too", "unit": "x", "kind": "sum"}).notes == [
        "Indicator code: 'X1' differs from the stored 'x1' only in capitals; IDs are compared exactly, so it is a new "
        "indicator"]
    with db.reading() as s:
        assert sorted(s.execute(select(Training.code)).scalars()) == ["SÉMINAIRE-1", "TR-1", "TR-2", "séminaire-1",
                                                                      "tr-1"]


def test_an_id_without_a_number_gets_no_suggestion(services, db):
    services.create_training(training("INDUCTION"))
    exists_refused(db, lambda: services.create_training(training("INDUCTION")), "training", "INDUCTION", None)


def test_updating_a_record_that_does_not_exist_is_not_found(services, db):
    _grant(services)
    for call in (lambda: services.update_training("NOPE", training("NOPE")),
                 lambda: services.update_engagement("NOPE", engagement("NOPE", date(2025, 8, 1))),
                 lambda: services.update_milestone("NOPE", milestone("NOPE", date(2025, 8, 1))),
                 lambda: services.update_expenditure("NOPE", _spend("NOPE")),
                 lambda: services.update_budget_line("NOPE", {"name": "x", "amount": "1"}),
                 lambda: services.update_disbursement(999, {"date": date(2025, 8, 1), "amount": "1",
                                                            "currency": "USD"}),
                 lambda: services.update_indicator("NOPE", {"name": "x"})):
        with pytest.raises(NotFound):
            call()


def test_update_keeps_the_id_it_was_given(services, db):
    services.create_training(training("T1"))
    services.update_training("T1", training("T1", title="Renamed"))
    with db.reading() as s:
        assert s.execute(select(Training.code, Training.title)).all() == [("T1", "Renamed")]


def test_disbursement_can_be_deleted_with_a_reason(services, db):
    _grant(services)
    d = services.create_disbursement({"date": date(2025, 6, 1), "amount": "300000", "currency": "USD"})
    with pytest.raises(ReasonRequired):
        services.delete_disbursement(d.obj.id, None)
    services.delete_disbursement(d.obj.id, Reason("data correction", "entered twice"))
    with db.reading() as s:
        assert s.execute(select(Disbursement)).first() is None


def test_a_disbursement_edited_to_another_ones_reference_is_refused(services, db):
    """A Reference is unique within the grant: adding a second TRANCHE-1 was refused, but editing TRANCHE-2 into
    TRANCHE-1 saved it, and the grant then held two (an import matches disbursements by their reference)."""
    _grant(services)
    first = services.create_disbursement({"date": date(2025, 6, 1), "amount": "300000", "currency": "USD",
                                          "reference": "TRANCHE-1"})
    second = services.create_disbursement({"date": date(2025, 12, 1), "amount": "200000", "currency": "USD",
                                           "reference": "TRANCHE-2"})
    before = table_counts(db)
    with pytest.raises(AlreadyExists, match="disbursement TRANCHE-1 already exists .2025-06-01"):
        services.update_disbursement(second.obj.id, {"date": date(2025, 12, 1), "amount": "200000",
                                                     "currency": "USD", "reference": "TRANCHE-1"})
    assert table_counts(db) == before
    with db.reading() as s:
        assert sorted(s.execute(select(Disbursement.reference)).scalars()) == ["TRANCHE-1", "TRANCHE-2"]
    # its own reference, kept or changed to a free one, is no conflict
    services.update_disbursement(first.obj.id, {"date": date(2025, 6, 2), "amount": "300000", "currency": "USD",
                                                "reference": "TRANCHE-1"})
    services.update_disbursement(second.obj.id, {"date": date(2025, 12, 1), "amount": "200000", "currency": "USD",
                                                 "reference": "TRANCHE-2B"})
    with db.reading() as s:
        assert sorted(s.execute(select(Disbursement.reference)).scalars()) == ["TRANCHE-1", "TRANCHE-2B"]


def _tranche(day, reference, amount="1"):
    return {"date": day, "amount": amount, "currency": "USD", "reference": reference}


def test_a_reference_differing_from_another_only_in_capitals_saves_with_a_note(services, db):
    """References are compared exactly, as IDs are: 'tranche-1' beside 'TRANCHE-1' is another disbursement (and
    another development), saved as before, but no longer silently."""
    _grant(services)
    services.create_disbursement(_tranche(date(2025, 6, 1), "TRANCHE-1", "300000"))
    made = services.create_disbursement(_tranche(date(2025, 12, 1), "tranche-1", "200000"))
    assert made.notes == ["Reference: 'tranche-1' differs from the stored 'TRANCHE-1' only in capitals; references "
                          "are compared exactly, so it is another disbursement"]
    # an edit that keeps its reference says nothing again; one that moves to a capitals variant does
    assert services.update_disbursement(made.obj.id, _tranche(date(2025, 12, 2), "tranche-1", "200000")).notes == []
    third = services.create_disbursement(_tranche(date(2026, 3, 1), "T-3"))
    moved = services.update_disbursement(third.obj.id, _tranche(date(2026, 3, 1), "Tranche-1"))
    assert moved.notes == ["Reference: 'Tranche-1' differs from the stored 'TRANCHE-1' only in capitals; references "
                           "are compared exactly, so it is another disbursement"]
    assert services.create_disbursement(_tranche(date(2026, 4, 1), "T-4")).notes == []
    with db.reading() as s:
        assert sorted(s.execute(select(Disbursement.reference)).scalars()) == ["T-4", "TRANCHE-1", "Tranche-1",
                                                                                "tranche-1"]

    services.create_development({"date": date(2025, 8, 20), "category": "Risk", "text": "Court recess",
                                 "reference": "RISK-Ä1"})
    dev = services.create_development({"date": date(2025, 8, 21), "category": "Risk", "text": "Recess again",
                                       "reference": "risk-ä1"})
    assert dev.notes == ["Reference: 'risk-ä1' differs from the stored 'RISK-Ä1' only in capitals; references are "
                         "compared exactly, so it is another development"]


# People ---------------------------------------------------------------------------------------------------------
def test_adding_a_person_already_on_the_training_is_refused_and_blanks_nothing(services, db):
    services.create_training(training("T1"))
    services.add_attendance(attendee("T1", "Jane Wanjiru", pre=40, post=80))
    before = table_counts(db)
    with pytest.raises(AlreadyExists) as info:
        services.add_attendance(attendee("T1", "JANE  wanjiru"))  # the same person, typed differently
    assert info.value.kind == "attendance"
    assert info.value.code.startswith("T1/P-")
    assert "already on training T1" in info.value.lines()[0]
    assert table_counts(db) == before
    with db.reading() as s:
        assert s.execute(select(Participant.name)).scalar_one() == "Jane Wanjiru"
        assert s.execute(select(Attendance.pre_score, Attendance.post_score)).one() == (Decimal(40), Decimal(80))


def test_a_returning_participant_matched_by_staff_number_keeps_the_recorded_name(services, db):
    services.create_training(training("T1"))
    services.create_training(training("T2", start=date(2025, 8, 1)))
    services.add_attendance(attendee("T1", "Amina Ali", staff="ODPP 101"))
    result = services.add_attendance(attendee("T2", "Amina A. Mohamed", staff="odpp101", sex="M"))
    with db.reading() as s:
        people = s.execute(select(Participant.name, Participant.sex)).all()
        assert people == [("Amina Ali", "F")]
        assert len(s.execute(select(Attendance)).all()) == 2
    assert any("recorded as 'Amina Ali'" in n for n in result.notes), result.notes
    assert any(n.startswith("Sex:") for n in result.notes), result.notes


def test_recognise_participant_shows_who_and_their_trainings(services, db):
    services.create_training(training("T1", title="Evidence", start=date(2025, 7, 1)))
    services.add_attendance(attendee("T1", "Amina Ali", staff="ODPP101"))
    seen = services.recognise_participant({"name": "whoever", "agency": "DCI", "staff_number": "odpp 101"})
    assert seen is not None
    assert (seen.ref, seen.name, seen.agency, seen.trainings) == (
        f"P-{seen.participant_id}", "Amina Ali", "ODPP", (("T1", "Evidence", date(2025, 7, 1)),))
    assert services.recognise_participant({"name": "Nobody", "agency": "ODPP"}) is None
    assert services.recognise_participant({}) is None


def test_renaming_a_person_is_explicit_and_needs_a_reason(services, db):
    services.create_training(training("T1"))
    services.add_attendance(attendee("T1", "Amina Ali", staff="ODPP101"))
    pid = services.recognise_participant({"staff_number": "ODPP101"}).participant_id
    with pytest.raises(ReasonRequired):
        services.update_participant(pid, {"name": "Amina Mohamed"})
    services.update_participant(pid, {"name": "Amina Mohamed", "role": "Senior prosecutor"},
                                Reason("data correction", "married name"))
    with db.reading() as s:
        assert s.execute(select(Participant.name, Participant.role)).one() == ("Amina Mohamed", "Senior prosecutor")
        refs = s.execute(select(AuditEvent.entity_ref).where(AuditEvent.entity_kind.in_(
            ("participant", "attendance"))).order_by(AuditEvent.seq)).scalars().all()
    assert refs == [f"P-{pid}", f"T1/P-{pid}", f"P-{pid}"]  # never a name or identity key


def test_update_attendance_changes_the_scores_only(services, db):
    services.create_training(training("T1"))
    r = services.add_attendance(attendee("T1", "Jane", pre=40, post=70))
    pid = r.obj.participant_id
    services.update_attendance("T1", pid, {"post_score": "75"})
    with db.reading() as s:
        assert s.execute(select(Attendance.pre_score, Attendance.post_score)).one() == (Decimal(40), Decimal(75))
    with pytest.raises(NotFound):
        services.update_attendance("T1", pid + 99, {"post_score": "75"})


def test_a_person_cannot_be_edited_into_another(services, db):
    services.create_training(training("T1"))
    services.add_attendance(attendee("T1", "Amina", staff="A1"))
    other = services.add_attendance(attendee("T1", "Bea", staff="B2")).obj.participant_id
    with pytest.raises(AlreadyExists):
        services.update_participant(other, {"staff_number": "a1"})


# Every problem at once ------------------------------------------------------------------------------------------
def test_an_expenditure_with_an_unknown_line_and_a_missing_rate_gets_both_problems(services, db):
    _grant(services)
    with pytest.raises(ValidationError) as info:
        services.create_expenditure(_spend(line_code="BL9", rate=None, training_code="NOPE"))
    assert {p.field for p in info.value.problems} == {"Line code", "Rate", "Training ID"}


def test_no_grant_and_bad_fields_are_reported_together(services, db):
    with pytest.raises(ValidationError) as info:
        services.create_expenditure(_spend(amount="1.005", date="2101-01-01"))
    assert {p.field for p in info.value.problems} >= {"Grant code", "Amount", "Date"}


# Dates ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["1999-12-31", "2101-01-01", date(1, 1, 1), date(9999, 12, 31)])
def test_dates_outside_2000_2100_are_refused(services, db, day):
    before = table_counts(db)
    with pytest.raises(ValidationError) as info:
        services.create_training(training(start=day, end=day))
    assert any("outside the accepted range 2000-01-01 to 2100-12-31" in p.message for p in info.value.problems)
    assert table_counts(db) == before


@pytest.mark.parametrize("period", ["9999-Q4", "1999-Q4", "2101-Q1"])
def test_periods_outside_2000_2100_are_refused(services, db, period):
    with pytest.raises(ValidationError) as info:
        services.set_target("1.1", period, 3)
    assert info.value.problems[0].field == "Period"


def test_a_milestone_cannot_be_completed_in_the_future(db):
    clock_day = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    services = Services(db, "tester", clock=lambda: clock_day)
    services.seed_standard()
    with pytest.raises(ValidationError) as info:
        services.create_milestone(milestone("M1", date(2026, 3, 1), status="Completed", completed=date(2026, 3, 11)))
    assert info.value.for_field("Completed on") == [
        "2026-03-11 is in the future (today is 2026-03-10); a milestone is completed on a day that has come"]
    services.create_milestone(milestone("M1", date(2026, 3, 1), status="Completed", completed=date(2026, 3, 10)))


def test_without_a_clock_today_is_utc_today(services, db):
    tomorrow = date.fromordinal(datetime.now(UTC).date().toordinal() + 1)
    with pytest.raises(ValidationError):
        services.create_milestone(milestone("M1", date(2026, 3, 1), status="Completed", completed=tomorrow))


# Exact numbers --------------------------------------------------------------------------------------------------
def test_a_rate_is_kept_exactly_and_converted_half_up_once(services, db):
    _grant(services)
    result = services.create_expenditure(_spend())
    assert result.notes == []
    with db.reading() as s:
        x = s.execute(select(Expenditure)).scalar_one()
    assert (x.rate, x.amount_grant) == (Decimal("0.0077405"), Decimal("7740.50"))


def test_a_rate_with_more_than_10_places_is_rounded_with_a_note(services, db):
    _grant(services)
    result = services.create_expenditure(_spend(rate="0.007740512345678"))
    assert result.notes == ["Rate: 0.007740512345678 has more than 10 decimal places; rounded half-up to "
                            "0.0077405123"]
    with db.reading() as s:
        assert s.execute(select(Expenditure.rate)).scalar_one() == Decimal("0.0077405123")
    d = services.create_disbursement({"date": date(2025, 6, 1), "amount": "100", "currency": "KES",
                                      "rate": 0.12345678901234})
    assert d.notes and d.notes[0].startswith("Rate:")


@pytest.mark.parametrize("call,label", [
    (lambda s: s.create_training(training("T9", cost="10.001")), "Cost"),
    (lambda s: s.create_engagement(engagement("E1", date(2025, 8, 1), hours="1.125")), "Hours"),
    (lambda s: s.add_attendance(attendee("T1", "Jane", pre="50.555")), "Pre-test score"),
    (lambda s: s.create_expenditure(_spend(amount="10.999")), "Amount"),
])
def test_money_hours_and_scores_with_more_than_2_places_are_refused(services, db, call, label):
    _grant(services)
    services.create_training(training("T1"))
    with pytest.raises(ValidationError) as info:
        call(services)
    assert any("more than 2 decimal places" in m for m in info.value.for_field(label)), info.value.lines()


# Edge input -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,fragment", [
    (float("inf"), "not a number"), (float("nan"), "not a number"), ("INF", "not a number"),
    ("NaN", "not a number"), (Decimal("Infinity"), "not a number"), ("1e999999", "too large"),
    (b"\x00\x01", "not a number"), (True, "not a number"),
])
def test_odd_numbers_are_refused_plainly(services, db, value, fragment):
    with pytest.raises(ValidationError) as info:
        services.create_training(training(cost=value))
    assert any(fragment in m for m in info.value.for_field("Cost")), info.value.lines()


@pytest.mark.parametrize("value,fragment", [
    (b"\x89PNG\r\n", "binary data"), (memoryview(b"abc"), "binary data"), ("a\x00b", "NUL"),
    ("x" * 100_000, "characters long"), ("\ud800", "not valid text"), ({"a": 1}, "not text"),
])
def test_odd_text_is_refused_plainly(services, db, value, fragment):
    with pytest.raises(ValidationError) as info:
        services.create_training(training(title=value))
    assert any(fragment in m for m in info.value.for_field("Title")), info.value.lines()


# The unit of work -----------------------------------------------------------------------------------------------
def test_a_unit_of_work_rolls_back_unless_committed(services, db):
    before = table_counts(db)
    with services.unit_of_work():
        services.create_training(training("T1"))  # nested: its commit is the outer one's
    assert table_counts(db) == before
    with services.unit_of_work() as uow:
        services.create_training(training("T1"))
        uow.commit()
    with db.reading() as s:
        assert s.execute(select(Training.code)).scalars().all() == ["T1"]


def test_an_id_taken_comes_with_the_records_other_problems(services, db):
    services.create_training(training("T1"))
    with pytest.raises(AlreadyExists) as info:
        services.create_training(training("T1", county="Atlantis"))
    assert [p.field for p in info.value.problems] == ["Training ID", "County"]
    assert info.value.suggestion == "T2"
