"""The main flows of each screen, driven with Pilot on both backends: open, filter, add, edit with a reason,
refuse bad input, delete with confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from textual.widgets import Input, Select, Static

from mou_tracker.db.models import Attendance, AuditEvent, Engagement, Milestone, Participant, Target, Training
from mou_tracker.tui.forms import DiscardChanges, ReasonScreen, RecordForm
from mou_tracker.tui.screens.dashboard import DashboardScreen
from mou_tracker.tui.screens.milestones import MilestoneDetail
from mou_tracker.tui.screens.trainings import TrainingDetail
from mou_tracker.tui.widgets import IndicatorBars, PagedTable, PageTable
from tests.tui.conftest import SIZE, fill, laid_out, make_app, press, rows_of, settle, type_text


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_every_screen_opens_with_its_key(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        bars = app.screen.query_one(IndicatorBars)
        assert bars.progress is not None and [f.code for f in bars.progress.indicators][:2] == ["OC1", "OC2"]
        names = {}
        for key in "12345678":
            await press(pilot, key)
            names[key] = type(app.screen).__name__
        assert names == {"1": "DashboardScreen", "2": "IndicatorsScreen", "3": "TrainingsScreen",
                         "4": "SupportScreen", "5": "MilestonesScreen", "6": "GrantScreen",
                         "7": "ReportsScreen", "8": "AuditScreen"}


async def test_filter_narrows_the_trainings_in_sql(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3")
        table = app.screen.query_one("#trainings", PagedTable)
        assert [r.code for r in rows_of(table)] == ["TR-3", "TR-2", "TR-1"]  # newest first
        await press(pilot, "slash")
        assert app.focused is table.filter_input
        await pilot.press(*"kis")
        await settle(pilot)
        assert [r.code for r in rows_of(table)] == ["TR-3", "TR-1"]  # Kisii, Kisumu
        assert "Showing 1–2 of 2 trainings · filter 'kis'" in _text(table.query_one(".table-status", Static))
        await pilot.press(*"umu")
        await settle(pilot)
        assert [r.code for r in rows_of(table)] == ["TR-1"]
        await press(pilot, "escape")  # clears the filter, back to the table
        assert len(rows_of(table)) == 3 and app.focused is table.table
        await press(pilot, "slash")
        await pilot.press(*"nothing like this")
        await settle(pilot)
        assert rows_of(table) == []
        assert "No trainings match 'nothing like this'." in _text(table.query_one(".table-status", Static))


async def test_add_a_training_with_participants(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3", "a")
        form = app.screen
        assert isinstance(form, RecordForm)
        await fill(pilot, form, code="TR-NEW", title="Digital evidence (Nakuru)", topic="Digital evidence",
                   start_date="2026-10-05", end_date="2026-10-07", county="Nakuru", delivery="Hybrid", lead="Joint")
        await press(pilot, "ctrl+s")
        # the new training opens with the participant form ready
        assert isinstance(app.screen, RecordForm) and "TR-NEW" in app.screen.title_text
        assert isinstance(app.screen_stack[-2], TrainingDetail)
        await fill(pilot, app.screen, name="Wanjiru Kamau", sex="F", agency="ODPP", staff_number="ODPP/77",
                   pre_score="40", post_score="65")
        await press(pilot, "enter")  # Enter in a field saves too
        assert isinstance(app.screen, RecordForm) and "1 added" in str(app.screen.note)
        await fill(pilot, app.screen, name="Otieno Barasa", sex="M", agency="DCI")
        await press(pilot, "ctrl+s")
        await press(pilot, "escape")  # done adding
        detail = app.screen
        assert isinstance(detail, TrainingDetail)
        table = detail.query_one("#attendances", PagedTable)
        assert sorted(r.name for r in rows_of(table)) == ["Otieno Barasa", "Wanjiru Kamau"]
        people = _text(detail.query_one("#training-people", Static))
        assert "2 participants: F 1 · M 1" in people and "ODPP 1 · DCI 1" in people

    with seeded.db.reading() as s:
        t = s.execute(select(Training).where(Training.code == "TR-NEW")).scalar_one()
        assert (t.county, t.delivery, t.end_date) == ("Nakuru", "Hybrid", date(2026, 10, 7))
        names = s.execute(select(Participant.name).join(Attendance, Attendance.participant_id == Participant.id)
                          .where(Attendance.training_id == t.id)).scalars().all()
        assert sorted(names) == ["Otieno Barasa", "Wanjiru Kamau"]


async def test_bad_input_is_refused_with_the_service_message(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3", "a")
        form = app.screen
        await fill(pilot, form, code="TR-BAD", title="Bad", topic="x", start_date="2026-10-09",
                   end_date="2026-10-01", county="Atlantis")
        await press(pilot, "ctrl+s")
        assert app.screen is form  # still open, nothing saved
        assert "'Atlantis' is not one of Kenya's 47 counties" in _text(form.query_one("#e-county", Static))
        assert "is before the start date" in _text(form.query_one("#e-end_date", Static))
        assert form.query_one("#f-county", Input).has_class("-invalid")
        # a field is checked as soon as it is left, before saving
        await type_text(pilot, form.query_one("#f-cost", Input), "lots")
        form.query_one("#f-currency", Input).focus()
        await settle(pilot)
        assert "'lots' is not a number" in _text(form.query_one("#e-cost", Static))
        await press(pilot, "escape")  # the form was changed: it asks first
        assert isinstance(app.screen, DiscardChanges)
        await press(pilot, "d")
        assert not isinstance(app.screen, RecordForm | DiscardChanges)
    with seeded.db.reading() as s:
        assert s.execute(select(Training).where(Training.code == "TR-BAD")).scalar() is None


async def test_moving_a_due_date_asks_for_a_reason_and_shows_in_the_timeline(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "5")
        table = app.screen.query_one("#milestones", PagedTable)
        assert [r.code for r in rows_of(table)] == ["M1", "M2"]
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, MilestoneDetail) and detail.code == "M1"
        await press(pilot, "e")
        form = app.screen
        assert isinstance(form, RecordForm)
        await type_text(pilot, form.query_one("#f-due_date", Input), "2026-02-15")
        await press(pilot, "ctrl+s")
        prompt = app.screen
        assert isinstance(prompt, ReasonScreen)
        assert "Moving the due date of M1 from 2025-12-01 to 2026-02-15" in str(prompt.message)
        await type_text(pilot, prompt.query_one("#reason-text", Input), "validation moved after recess")
        await press(pilot, "enter")  # no category yet: refused with a message
        assert app.screen is prompt and "choose a category" in _text(prompt.query_one("#form-error", Static))
        prompt.query_one("#category", Select).value = "re-planning agreed by both parties"
        await press(pilot, "tab", "enter")
        assert app.screen is detail
        facts = _text(detail.query_one("#milestone-info", Static))
        assert "2025-12-01" in facts and "2026-02-15" in facts and "+76 days" in facts
        history = _text(detail.query_one("#milestone-history", Static))
        assert "Due date: 2025-12-01 → 2026-02-15" in history
        assert "(re-planning agreed by both parties): validation moved after recess" in history

    with seeded.db.reading() as s:
        m = s.execute(select(Milestone).where(Milestone.code == "M1")).scalar_one()
        assert (m.original_due_date, m.due_date) == (date(2025, 12, 1), date(2026, 2, 15))
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert (last.entity_ref, last.reason_category) == ("M1", "re-planning agreed by both parties")


async def test_declining_the_reason_changes_nothing(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "5", "e")
        form = app.screen
        await type_text(pilot, form.query_one("#f-due_date", Input), "2026-03-01")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ReasonScreen)
        await press(pilot, "escape")
        assert app.screen is form  # back in the form, which can be corrected or cancelled
        await press(pilot, "escape", "d")
    with seeded.db.reading() as s:
        assert s.execute(select(Milestone.due_date).where(Milestone.code == "M1")).scalar_one() == date(2025, 12, 1)


async def test_delete_confirms_and_escape_cancels(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "x")
        assert isinstance(app.screen, ReasonScreen) and "Delete engagement TS-1?" in app.screen.title_text
        await press(pilot, "escape")
        assert len(rows_of(app.screen.query_one("#engagements", PagedTable))) == 1
        await press(pilot, "x")
        prompt = app.screen
        prompt.query_one("#category", Select).value = "data correction"
        await type_text(pilot, prompt.query_one("#reason-text", Input), "entered twice")
        await press(pilot, "enter")
        assert rows_of(app.screen.query_one("#engagements", PagedTable)) == []
    with seeded.db.reading() as s:
        assert s.execute(select(Engagement)).scalar() is None
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert (last.action, last.entity_ref, last.reason_text) == ("delete", "TS-1", "entered twice")


async def test_targets_are_edited_in_place_in_the_tracking_table(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        screen = app.screen
        table = screen.query_one("#tracking", PagedTable)
        codes = [r.code for r in rows_of(table)]
        row = codes.index("1.1")
        column = table.table.get_column_index("2025-Q3|t")
        table.table.move_cursor(row=row, column=column)
        await settle(pilot)
        assert "2025-Q3: target 2, actual 2" in _text(screen.query_one("#cell-info", Static))
        await press(pilot, "enter")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Target for 1.1 in 2025-Q3"
        await type_text(pilot, form.query_one("#f-value", Input), "-3")
        await press(pilot, "ctrl+s")
        assert "-3.00 is negative" in _text(form.query_one("#e-value", Static))
        await type_text(pilot, form.query_one("#f-value", Input), "4")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        assert "2025-Q3: target 4, actual 2 (50.0%) below target" in _text(screen.query_one("#cell-info", Static))
        # a computed actual cannot be typed in
        table.table.move_cursor(row=row, column=table.table.get_column_index("2025-Q3|a"))
        await press(pilot, "e")
        assert app.screen is screen
        # a manual outcome can
        table.table.move_cursor(row=codes.index("OC1"), column=table.table.get_column_index("2025-Q4|a"))
        await press(pilot, "e")
        await fill(pilot, app.screen, value="7", source="ODPP case records")
        await press(pilot, "ctrl+s")
        assert "2025-Q4: target –, actual 7" in _text(screen.query_one("#cell-info", Static))
    with seeded.db.reading() as s:
        assert s.execute(select(Target.value).where(Target.period == "2025-Q3")).scalar_one() == 4


async def test_tables_page_in_sql(services: Any) -> None:
    from mou_tracker.db.models import Engagement as E

    services.bulk_insert("engagement", E, [
        {"partnership_id": services.partnership_id, "code": f"TS-{i:04d}", "date": date(2025, 6, 1),
         "type": "Coordination", "county": "Nairobi", "case_ref": None, "case_key": None, "hours": 2,
         "hti_advisor": None, "odpp_counterpart": None, "summary": None} for i in range(250)])
    app = make_app(services.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4")
        table = app.screen.query_one("#engagements", PagedTable)
        assert table.table.row_count == 100
        assert "Showing 1–100 of 250 engagements" in _text(table.query_one(".table-status", Static))
        await press(pilot, "right_square_bracket")
        assert "Showing 101–200 of 250" in _text(table.query_one(".table-status", Static))
        await press(pilot, "ctrl+end", "down")  # running off the last row loads the next page
        assert "Showing 201–250 of 250" in _text(table.query_one(".table-status", Static))
        assert table.table.cursor_row == 0
        await press(pilot, "up")
        assert "Showing 101–200 of 250" in _text(table.query_one(".table-status", Static))
        assert table.table.cursor_row == 99


async def test_the_quarter_selector_moves_the_dashboard(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert str(screen.query_one(IndicatorBars).progress.period) == "2026-Q4"
        await press(pilot, "left_square_bracket")
        assert str(screen.query_one(IndicatorBars).progress.period) == "2026-Q3"
        screen.query_one("#quarter-select", Select).value = "2025-Q3"
        await settle(pilot)
        progress = screen.query_one(IndicatorBars).progress
        assert str(progress.period) == "2025-Q3"
        by_code = progress.by_code()
        assert (by_code["1.1"].period_actual, by_code["1.1"].period_target) == (2, 2)
        assert "Milestones on 2025-09-30" in _text(screen.query_one("#dash-milestones", Static))
        await press(pilot, "c")
        assert str(screen.query_one(IndicatorBars).progress.period) == "2026-Q4"
        assert "1 overdue" in _text(screen.query_one("#dash-milestones", Static))  # M1, due 2025-12-01


async def test_palette_offers_every_screen_and_action(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3")
        # the table's own keys (Filter) are bound once the table has the focus, which on a loaded machine may
        # come a refresh after the screen opened (a person opens the palette later than that)
        await laid_out(pilot, lambda: isinstance(app.focused, PageTable))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for name in ("Dashboard", "Indicators", "Trainings", "Support", "Milestones", "Grant", "Reports", "Audit"):
            assert f"Go to {name}" in titles
        assert {"Add", "Edit", "Delete", "Filter"} <= set(titles)  # this screen's own
        assert "Milestones: Add" in titles and "Grant: Grant details" in titles  # other screens'
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Support: Add")
        await command.callback()
        await settle(pilot)
        assert isinstance(app.screen, RecordForm) and app.screen.title_text == "Record an engagement"


async def test_question_mark_shows_the_keys(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3", "question_mark")
        assert app.screen.query("HelpPanel")
        await press(pilot, "question_mark")
        assert not app.screen.query("HelpPanel")


async def test_the_mouse_works_too(seeded: Any) -> None:
    from mou_tracker.tui.widgets import NavBar

    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click(NavBar, offset=(25, 0))  # "3Trainings" in the bar above the footer
        await settle(pilot)
        assert type(app.screen).__name__ == "TrainingsScreen"
        table = app.screen.query_one("#trainings", PagedTable)
        await pilot.click(PageTable, offset=(3, 0))  # the "Training ID" header sorts
        await settle(pilot)
        assert [r.code for r in rows_of(table)] == ["TR-1", "TR-2", "TR-3"]
        assert "sorted by Training ID ↑" in _text(table.query_one(".table-status", Static))
        await pilot.click(PageTable, offset=(3, 2))  # a row: the cursor goes there ...
        await pilot.click(PageTable, offset=(3, 2))  # ... and a second click opens it
        await settle(pilot)
        assert isinstance(app.screen, TrainingDetail) and app.screen.code == "TR-2"
