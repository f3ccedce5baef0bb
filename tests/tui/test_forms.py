"""Forms never lose or alter what the user typed without saying so (issue 9, item 6, and the converted amount
of item 2): an opened field has its value selected, Esc on a changed form asks first, ctrl+s saves in every
form and dialog, every problem of a form is shown at once, and a foreign-currency amount shows its value in
the grant currency before saving. Driven with Pilot on both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from textual.widgets import Input, Select, Static

from mou_tracker.db.models import AuditEvent, Disbursement, Engagement, Expenditure, Milestone, Target
from mou_tracker.tui.forms import DiscardChanges, ReasonScreen, RecordForm
from mou_tracker.tui.widgets import PagedTable
from tests.tui.conftest import SIZE, fill, make_app, press, rows_of, settle, type_text


def _text(widget: Static) -> str:
    return str(widget.render())


def _events(db: Any) -> int:
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


async def _open_target(pilot: Any, app: Any, code: str, period: str) -> None:
    await press(pilot, "2")
    table = app.screen.query_one("#tracking", PagedTable)
    row = [r.code for r in rows_of(table)].index(code)
    table.table.move_cursor(row=row, column=table.table.get_column_index(f"{period}|t"))
    await settle(pilot)
    await press(pilot, "enter")


async def test_typing_over_an_opened_target_replaces_it(seeded: Any) -> None:
    """The defect: a target field opened for editing kept its old text, so typing 50 over 45 saved 4,550."""
    seeded.set_target("1.1", "2025-Q3", 45)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await _open_target(pilot, app, "1.1", "2025-Q3")
        form = app.screen
        assert isinstance(form, RecordForm)
        field = form.query_one("#f-value", Input)
        assert field.value == "45" and app.focused is field
        await pilot.press("5", "0")  # the whole value is selected, so what is typed replaces it
        await settle(pilot)
        assert field.value == "50"  # it was "4550"
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
    with seeded.db.reading() as s:
        assert s.execute(select(Target.value).where(Target.period == "2025-Q3")).scalar_one() == 50


async def test_tabbing_into_a_field_selects_its_value(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "e")  # TS-1: the ID is locked, so the date has the focus
        form = app.screen
        assert isinstance(form, RecordForm)
        await settle(pilot)
        assert app.focused is form.query_one("#f-date", Input) and app.focused.selected_text == "2025-08-10"
        form.query_one("#f-hours", Input).focus()
        await settle(pilot)
        assert form.query_one("#f-hours", Input).selected_text == "4"


async def test_escape_on_an_unchanged_form_closes_at_once(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "e")
        assert isinstance(app.screen, RecordForm)
        await press(pilot, "escape")
        assert type(app.screen).__name__ == "SupportScreen"
        await press(pilot, "a")  # an empty add form too
        assert isinstance(app.screen, RecordForm)
        await press(pilot, "escape")
        assert type(app.screen).__name__ == "SupportScreen"


async def test_escape_on_a_changed_form_asks_before_discarding(seeded: Any) -> None:
    before = _events(seeded.db)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "e")
        form = app.screen
        await type_text(pilot, form.query_one("#f-hours", Input), "6")
        await press(pilot, "escape")
        ask = app.screen
        assert isinstance(ask, DiscardChanges)
        assert "Hours" in _text(ask.query_one(".dialog-note", Static))  # it says what would be lost
        await press(pilot, "escape")  # keep editing: back in the form, nothing lost
        assert app.screen is form and form.query_one("#f-hours", Input).value == "6"
        await press(pilot, "escape")
        assert isinstance(app.screen, DiscardChanges)
        await press(pilot, "d")  # discard
        assert type(app.screen).__name__ == "SupportScreen"
        # the Cancel button asks too
        await press(pilot, "a")
        form = app.screen
        await type_text(pilot, form.query_one("#f-code", Input), "TS-2")
        await pilot.click("#cancel")
        await settle(pilot)
        assert isinstance(app.screen, DiscardChanges)
        await press(pilot, "d")
        assert type(app.screen).__name__ == "SupportScreen"
    with seeded.db.reading() as s:
        assert s.execute(select(Engagement.hours)).scalars().all() == [Decimal("4.00")]
    assert _events(seeded.db) == before


async def test_the_discard_question_can_save_instead(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "e")
        await type_text(pilot, app.screen.query_one("#f-hours", Input), "6")
        await press(pilot, "escape")
        assert isinstance(app.screen, DiscardChanges)
        await press(pilot, "ctrl+s")
        assert type(app.screen).__name__ == "SupportScreen"
    with seeded.db.reading() as s:
        assert s.execute(select(Engagement.hours)).scalar_one() == Decimal("6.00")


async def test_ctrl_s_confirms_the_reason_dialog(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "5", "e")
        form = app.screen
        await type_text(pilot, form.query_one("#f-due_date", Input), "2026-02-15")
        await press(pilot, "ctrl+s")
        prompt = app.screen
        assert isinstance(prompt, ReasonScreen)
        await press(pilot, "ctrl+s")  # nothing chosen yet: refused, with a message
        assert app.screen is prompt and "choose a category" in _text(prompt.query_one("#form-error", Static))
        prompt.query_one("#category", Select).value = "re-planning agreed by both parties"
        await type_text(pilot, prompt.query_one("#reason-text", Input), "validation moved after recess")
        await press(pilot, "ctrl+s")
        assert type(app.screen).__name__ == "MilestonesScreen"
    with seeded.db.reading() as s:
        assert s.execute(select(Milestone.due_date).where(Milestone.code == "M1")).scalar_one() == date(2026, 2, 15)


async def test_escape_on_a_reason_being_written_asks_first(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "x")
        prompt = app.screen
        assert isinstance(prompt, ReasonScreen)
        await type_text(pilot, prompt.query_one("#reason-text", Input), "entered twice")
        await press(pilot, "escape")
        assert isinstance(app.screen, DiscardChanges)
        await press(pilot, "escape")
        assert app.screen is prompt and prompt.query_one("#reason-text", Input).value == "entered twice"
        await press(pilot, "escape", "d")
        assert type(app.screen).__name__ == "SupportScreen"
    with seeded.db.reading() as s:
        assert s.execute(select(func.count()).select_from(Engagement)).scalar_one() == 1


async def test_every_problem_of_a_form_is_shown_at_once(seeded: Any) -> None:
    """An unknown budget line and a missing rate are found in the database, not in the field: both are shown,
    and moving the focus to the first of them does not wipe the other."""
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "v", "a")
        form = app.screen
        assert isinstance(form, RecordForm)
        await fill(pilot, form, code="EX-9", date="2025-09-01", line_code="BL9", description="Per diems",
                   amount="129000", currency="KES")
        form.query_one("#f-rate", Input).focus()  # the user tabbed on to the rate, left it empty, saved
        await settle(pilot)
        await press(pilot, "ctrl+s")
        assert app.screen is form
        assert "no budget line 'BL9'" in _text(form.query_one("#e-line_code", Static))
        assert "is required: KES differs from the grant currency USD" in _text(form.query_one("#e-rate", Static))
        assert app.focused is form.query_one("#f-line_code", Input)
        # leaving a field that was not changed keeps its problem; correcting it clears it
        form.query_one("#f-description", Input).focus()
        await settle(pilot)
        assert "no budget line 'BL9'" in _text(form.query_one("#e-line_code", Static))
        await type_text(pilot, form.query_one("#f-rate", Input), "0.0077")
        form.query_one("#f-reference", Input).focus()
        await settle(pilot)
        assert _text(form.query_one("#e-rate", Static)) == ""
        assert "no budget line 'BL9'" in _text(form.query_one("#e-line_code", Static))
    with seeded.db.reading() as s:
        assert s.execute(select(Expenditure).where(Expenditure.code == "EX-9")).scalar() is None


async def test_a_form_shows_field_and_record_problems_together(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "v", "a")
        form = app.screen
        await fill(pilot, form, code="EX-9", date="2025-13-01", line_code="BL9", description="Per diems",
                   amount="12.345", currency="KES")
        await press(pilot, "ctrl+s")
        assert "is not a date" in _text(form.query_one("#e-date", Static))
        assert "more than 2 decimal places" in _text(form.query_one("#e-amount", Static))
        assert "no budget line 'BL9'" in _text(form.query_one("#e-line_code", Static))
        assert "is required" in _text(form.query_one("#e-rate", Static))


async def test_the_expenditure_form_shows_the_converted_amount_as_the_user_types(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "v", "a")
        form = app.screen
        preview = form.query_one("#form-preview", Static)
        assert "In USD" in _text(preview)
        await fill(pilot, form, code="EX-2", date="2025-09-01", line_code="BL1", description="Per diems",
                   amount="129000", currency="KES")
        assert "needs a rate" in _text(preview)
        await type_text(pilot, form.query_one("#f-rate", Input), "0.0077")
        assert "In USD: 993.30" in _text(preview)
        await type_text(pilot, form.query_one("#f-amount", Input), "129001")
        assert "In USD: 993.31" in _text(preview)  # 993.3077 rounded half-up to cents
        await type_text(pilot, form.query_one("#f-amount", Input), "1,000")
        assert "In USD: 7.70" in _text(preview)
        await type_text(pilot, form.query_one("#f-currency", Input), "USD")
        assert "must be 1 or empty" in _text(preview)
        await type_text(pilot, form.query_one("#f-rate", Input), "")
        assert "In USD: 1,000.00" in _text(preview)
        await type_text(pilot, form.query_one("#f-amount", Input), "lots")
        assert "In USD: –" in _text(preview)
        await type_text(pilot, form.query_one("#f-amount", Input), "129000")
        await type_text(pilot, form.query_one("#f-currency", Input), "KES")
        await type_text(pilot, form.query_one("#f-rate", Input), "0.0077")
        shown = _text(preview)
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
    with seeded.db.reading() as s:
        saved = s.execute(select(Expenditure.amount_grant).where(Expenditure.code == "EX-2")).scalar_one()
    assert f"In USD: {saved:,.2f}" in shown  # what was shown is what was saved


async def test_the_disbursement_form_shows_the_converted_amount(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "a")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Record a disbursement received"
        await fill(pilot, form, date="2025-06-01", amount="2000000", currency="KES", rate="0.0077")
        preview = _text(form.query_one("#form-preview", Static))
        assert "In USD: 15,400.00" in preview and "KES 2,000,000.00 × 0.0077" in preview
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
    with seeded.db.reading() as s:
        assert s.execute(select(Disbursement.amount_grant)).scalar_one() == Decimal("15400.00")


async def test_each_grant_tab_shows_a_delete_key_only_where_it_deletes(seeded: Any) -> None:
    """Disbursements showed a Delete key that did nothing."""
    seeded.create_disbursement({"date": "2025-06-01", "amount": "5000", "currency": "USD", "reference": "T1"})
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6")
        screen = app.screen
        for tab in ("budget", "disbursements", "expenditures"):
            bindings = {b.binding.action: b for b in screen.active_bindings.values()}
            shown = "delete_record" in bindings and bindings["delete_record"].enabled
            assert tab == screen.tab
            if shown:
                count = len(rows_of(screen.query_one(f"#{tab}", PagedTable)))
                await press(pilot, "x")
                prompt = app.screen
                assert isinstance(prompt, ReasonScreen), tab
                prompt.query_one("#category", Select).value = "data correction"
                await type_text(pilot, prompt.query_one("#reason-text", Input), "entered twice")
                await press(pilot, "ctrl+s")
                assert len(rows_of(screen.query_one(f"#{tab}", PagedTable))) == count - 1, tab
            else:
                assert "delete_record" not in bindings, f"the {tab} tab shows a Delete key that does nothing"
            await press(pilot, "v")
