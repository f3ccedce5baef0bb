"""In the terminal UI, "Add" creates and "Edit" updates (issue 9, item 1): an Add whose ID exists is refused,
naming the existing record, and never replaces it; the form offers to open that record or to use the next
free ID. On a training, a returning participant is shown before saving and keeps the recorded name; a person
already on the training is refused. The demo-database cases are the ones reported (SQLite: the demo is built
once per run); the others run on both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from textual.widgets import Input, Select, Static

from mou_tracker.db.models import Attendance, AuditEvent, Engagement, Participant, Training
from mou_tracker.domain.periods import Quarter
from mou_tracker.services.indicators import IndicatorEngine
from mou_tracker.tui.forms import ExistingRecord, RecordDetail, RecordForm
from mou_tracker.tui.screens.trainings import TrainingDetail
from mou_tracker.tui.widgets import PagedTable
from tests.tui.conftest import SIZE, fill, make_app, press, rows_of, settle, type_text


def _text(widget: Static) -> str:
    return str(widget.render())


def _events(db: Any) -> int:
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _engagement(db: Any, code: str) -> tuple[Any, ...]:
    with db.reading() as s:
        e = s.execute(select(Engagement).where(Engagement.code == code)).scalar_one()
        return e.date, e.type, e.county, e.case_ref, e.hours, e.summary


def _q3_figures(db: Any) -> tuple[Any, Any]:
    with db.reading() as s:
        pid = s.execute(select(Training.partnership_id).limit(1)).scalar_one()
        by_code = IndicatorEngine(s, pid).progress(Quarter.parse("2026-Q3")).by_code()
        return by_code["1.1"].period_actual, by_code["1.2"].period_actual


async def test_a_new_engagement_with_an_existing_id_is_refused_and_the_existing_one_untouched(demo_db: Any) -> None:
    """The defect: a new engagement TS-066 emptied the real one's case reference and moved its date."""
    with demo_db.reading() as s:
        codes = set(s.execute(select(Engagement.code)).scalars())
        code = s.execute(select(Engagement.code).where(Engagement.case_ref.is_not(None))
                         .order_by(Engagement.code.desc()).limit(1)).scalar_one()
    free = next(f"TS-{n:03d}" for n in range(int(code[3:]) + 1, 1000) if f"TS-{n:03d}" not in codes)
    before, events = _engagement(demo_db, code), _events(demo_db)
    assert before[3]  # it has a case reference to lose
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "a")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Record an engagement"
        await fill(pilot, form, code=code, date="2026-11-02", type="Coordination", county="Nairobi", hours="2")
        await press(pilot, "ctrl+s")
        ask = app.screen
        assert isinstance(ask, ExistingRecord)
        assert f"{code} already exists" in str(ask.query_one(".dialog-title").render())
        assert ask.exc.suggestion == free
        await press(pilot, "escape")  # back to the form: the refusal stays under the ID
        assert app.screen is form
        assert "already exists" in _text(form.query_one("#e-code", Static))
        await press(pilot, "escape", "d")
    assert _engagement(demo_db, code) == before
    assert _events(demo_db) == events


async def test_a_new_training_with_an_existing_id_is_refused_and_indicators_unchanged(demo_db: Any) -> None:
    """The defect: a new TR-2026-040 replaced one with 21 participants (2026-Q3's 1.1 went 4 → 3, 1.2 28 → 18)."""
    figures, events = _q3_figures(demo_db), _events(demo_db)
    with demo_db.reading() as s:
        t = s.execute(select(Training).where(Training.code == "TR-2026-040")).scalar_one()
        title, county, people = t.title, t.county, s.execute(select(func.count()).select_from(Attendance)
                                           .where(Attendance.training_id == t.id)).scalar_one()
    assert people > 0
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3", "a")
        form = app.screen
        await fill(pilot, form, code="TR-2026-040", title="Digital evidence (Nakuru)", topic="Digital evidence",
                   start_date="2026-10-05", end_date="2026-10-07", county="Nakuru")
        await press(pilot, "ctrl+s")
        ask = app.screen
        assert isinstance(ask, ExistingRecord) and ask.exc.kind == "training"
        assert title in "\n".join(ask.exc.lines())  # the existing record is named
        await press(pilot, "o")  # open the existing training instead: nothing is saved
        assert isinstance(app.screen, TrainingDetail) and app.screen.code == "TR-2026-040"
        assert len(rows_of(app.screen.query_one("#attendances", PagedTable))) == people
    assert _q3_figures(demo_db) == figures
    with demo_db.reading() as s:
        t = s.execute(select(Training).where(Training.code == "TR-2026-040")).scalar_one()
        assert (t.title, t.county) == (title, county)
    assert _events(demo_db) == events


async def test_the_next_free_id_can_be_used_instead(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "5", "a")
        form = app.screen
        await fill(pilot, form, code="M1", title="Unit launched", due_date="2027-01-15")
        await press(pilot, "ctrl+s")
        ask = app.screen
        assert isinstance(ask, ExistingRecord)
        suggestion = ask.exc.suggestion
        assert suggestion and suggestion != "M1"
        await press(pilot, "u")
        assert app.screen is form and form.query_one("#f-code", Input).value == suggestion
        assert "ctrl+s saves" in _text(form.query_one("#form-error", Static))
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm | ExistingRecord)
    with seeded.db.reading() as s:
        from mou_tracker.db.models import Milestone

        titles = dict(s.execute(select(Milestone.code, Milestone.title)).all())
    assert titles["M1"] == "Guidelines drafted" and titles[suggestion] == "Unit launched"


async def test_open_the_existing_engagement_from_the_refusal(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "a")
        await fill(pilot, app.screen, code="TS-1", date="2025-09-01", type="Coordination", county="Nairobi",
                   hours="3")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ExistingRecord)
        await press(pilot, "o")
        detail = app.screen
        assert isinstance(detail, RecordDetail) and detail.title_text == "Engagement TS-1"
        assert "Mombasa" in _text(detail.query_one(".detail-body", Static))
    assert _engagement(seeded.db, "TS-1")[:3] == (date(2025, 8, 10), "Case review", "Mombasa")


async def test_an_existing_expenditure_id_is_refused(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "v", "a")
        await fill(pilot, app.screen, code="EX-1", date="2025-09-01", line_code="BL1", description="Per diems",
                   amount="99", currency="USD")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ExistingRecord)
        await press(pilot, "o")
        assert isinstance(app.screen, RecordDetail) and app.screen.title_text == "Expenditure EX-1"
    with seeded.db.reading() as s:
        from mou_tracker.db.models import Expenditure

        x = s.execute(select(Expenditure).where(Expenditure.code == "EX-1")).scalar_one()
        assert (x.description, x.amount) == ("Venue hire", Decimal("1200.00"))


async def test_edit_updates_the_record_it_opened(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "e")
        form = app.screen
        assert form.query_one("#f-code", Input).disabled
        await type_text(pilot, form.query_one("#f-summary", Input), "Reviewed the charge sheet")
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
    assert _engagement(seeded.db, "TS-1")[5] == "Reviewed the charge sheet"


async def _participant_form(pilot: Any, app: Any, training_row: int) -> RecordForm:
    await press(pilot, "3")
    app.screen.query_one("#trainings", PagedTable).table.move_cursor(row=training_row)
    await press(pilot, "enter", "a")
    form = app.screen
    assert isinstance(form, RecordForm) and form.title_text.startswith("Add a participant")
    return form


async def test_adding_a_person_again_to_the_same_training_is_refused(seeded: Any) -> None:
    """The defect: adding a person again blanked their pre/post scores and renamed them."""
    seeded.update_attendance("TR-1", _participant_id(seeded.db, "ODPP/1"),
                             {"pre_score": "40", "post_score": "70", "role": None})
    events = _events(seeded.db)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        form = await _participant_form(pilot, app, 2)  # TR-1 (newest first)
        await fill(pilot, form, name="A. Otieno", sex="F", agency="ODPP", staff_number="ODPP/1")
        await settle(pilot)
        lookup = _text(form.query_one("#form-lookup", Static))
        assert "Recognised: Achieng Otieno (ODPP, P-" in lookup and "Already on TR-1" in lookup
        await press(pilot, "ctrl+s")
        if isinstance(app.screen, ExistingRecord):
            await press(pilot, "escape")
        assert app.screen is form
        assert "already" in _text(form.query_one("#form-error", Static)) + "".join(
            _text(w) for w in form.query(".field-error"))
        await press(pilot, "escape", "d", "escape")
    with seeded.db.reading() as s:
        rows = s.execute(select(Participant.name, Attendance.pre_score, Attendance.post_score)
                         .join(Attendance, Attendance.participant_id == Participant.id)).all()
    assert rows == [("Achieng Otieno", Decimal("40.00"), Decimal("70.00"))]
    assert _events(seeded.db) == events


def _participant_id(db: Any, staff_number: str) -> int:
    with db.reading() as s:
        return s.execute(select(Participant.id).where(Participant.staff_number == staff_number)).scalar_one()


async def test_a_returning_participant_is_shown_before_saving_and_not_renamed(seeded: Any) -> None:
    """The defect: a returning participant matched by staff number was renamed everywhere."""
    pid = _participant_id(seeded.db, "ODPP/1")
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        form = await _participant_form(pilot, app, 1)  # TR-2
        await fill(pilot, form, staff_number="ODPP/1")
        await settle(pilot)
        lookup = _text(form.query_one("#form-lookup", Static))
        assert f"Recognised: Achieng Otieno (ODPP, P-{pid})" in lookup
        assert "TR-1 Evidence in trafficking cases (Kisumu) (2025-08-02)" in lookup
        await fill(pilot, form, name="Achieng Otieno Wekesa", sex="F", agency="ODPP")
        await settle(pilot)
        assert "the recorded name is kept" in _text(form.query_one("#form-lookup", Static))
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, RecordForm) and "1 added" in app.screen.note
        await press(pilot, "escape")
        detail = app.screen
        assert isinstance(detail, TrainingDetail) and detail.code == "TR-2"
        assert [r.name for r in rows_of(detail.query_one("#attendances", PagedTable))] == ["Achieng Otieno"]
    with seeded.db.reading() as s:
        assert s.execute(select(Participant.name).where(Participant.id == pid)).scalar_one() == "Achieng Otieno"
        assert s.execute(select(func.count()).select_from(Participant)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Attendance)
                         .where(Attendance.participant_id == pid)).scalar_one() == 2


async def test_a_person_is_renamed_only_by_editing_the_person_with_a_reason(seeded: Any) -> None:
    pid = _participant_id(seeded.db, "ODPP/1")
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3")
        app.screen.query_one("#trainings", PagedTable).table.move_cursor(row=2)
        await press(pilot, "enter", "p")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text.startswith("Edit Achieng Otieno")
        await type_text(pilot, form.query_one("#f-name", Input), "Achieng Otieno Wekesa")
        await press(pilot, "ctrl+s")
        from mou_tracker.tui.forms import ReasonScreen

        prompt = app.screen
        assert isinstance(prompt, ReasonScreen)
        prompt.query_one("#category", Select).value = "data correction"
        await type_text(pilot, prompt.query_one("#reason-text", Input), "married name")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, TrainingDetail)
    with seeded.db.reading() as s:
        assert s.execute(select(Participant.name).where(Participant.id == pid)).scalar_one() == "Achieng Otieno Wekesa"


async def test_the_refused_attendance_can_be_opened_to_change_the_scores(seeded: Any) -> None:
    pid = _participant_id(seeded.db, "ODPP/1")
    seeded.update_attendance("TR-1", pid, {"pre_score": "40"})
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        form = await _participant_form(pilot, app, 2)  # TR-1
        await fill(pilot, form, name="Achieng Otieno", sex="F", agency="ODPP", staff_number="ODPP/1",
                   post_score="75")
        await press(pilot, "ctrl+s")
        ask = app.screen
        assert isinstance(ask, ExistingRecord) and ask.exc.kind == "attendance" and ask.exc.suggestion is None
        await press(pilot, "o")
        edit = app.screen
        assert isinstance(edit, RecordForm) and edit.title_text == "Edit Achieng Otieno's attendance of TR-1"
        assert edit.query_one("#f-name", Input).disabled and edit.query_one("#f-pre_score", Input).value == "40"
        await type_text(pilot, edit.query_one("#f-post_score", Input), "75")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, TrainingDetail)
    with seeded.db.reading() as s:
        assert s.execute(select(Attendance.pre_score, Attendance.post_score)).one() == (Decimal("40.00"),
                                                                                        Decimal("75.00"))


async def test_adding_an_id_that_differs_from_a_stored_one_only_in_capitals_is_saved_with_a_note(seeded: Any
                                                                                                 ) -> None:
    """'TS-1' is stored: an Add of 'ts-1' makes a second engagement (IDs are compared exactly), and it did so
    without a word; the form now says so as it saves."""
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await press(pilot, "4", "a")
        form = app.screen
        assert isinstance(form, RecordForm)
        await fill(pilot, form, code="ts-1", date="2025-08-11", type="Case review", county="Mombasa", hours="3")
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
        notes = [n.message for n in app._notifications if n.title == "Saved, note"]
        assert notes == ["Engagement ID: 'ts-1' differs from the stored 'TS-1' only in capitals; IDs are compared "
                         "exactly, so it is a new engagement"]
    with seeded.db.reading() as s:
        assert sorted(s.execute(select(Engagement.code)).scalars()) == ["TS-1", "ts-1"]
