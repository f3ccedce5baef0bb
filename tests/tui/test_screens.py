"""Grant, Technical support, Reports and Audit screens, the error path of loads, and both themes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from textual.widgets import Input, ProgressBar, Static, TabbedContent

from mou_tracker.db.models import Engagement, Expenditure
from mou_tracker.tui.forms import RecordDetail, RecordForm
from mou_tracker.tui.screens import reports as reports_screen
from mou_tracker.tui.screens.audit import AuditScreen
from mou_tracker.tui.screens.dashboard import DashboardScreen
from mou_tracker.tui.widgets import PagedTable
from tests.tui.conftest import SIZE, fill, make_app, press, rows_of, settle, type_text


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_grant_shows_finance_figures_and_records_an_expenditure(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6")
        screen = app.screen
        summary = _text(screen.query_one("#grant-summary", Static))
        assert "Spent USD 1,200.00 of 100,000.00 (1.2%)" in summary
        assert "cash on hand -1,200.00" in summary  # nothing disbursed yet
        budget = rows_of(screen.query_one("#budget", PagedTable))
        assert [(b.code, b.spent, b.remaining) for b in budget] == [("BL1", 1200, 48800)]
        await press(pilot, "v", "v")  # to the expenditures tab
        assert screen.query_one(TabbedContent).active == "tab-expenditures"
        await press(pilot, "a")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Record an expenditure"
        await fill(pilot, form, code="EX-2", date="2025-09-01", line_code="BL1", description="Per diems",
                   amount="129000", currency="KES")
        await press(pilot, "ctrl+s")
        assert "is required: KES differs from the grant currency USD" in _text(form.query_one("#e-rate", Static))
        await type_text(pilot, form.query_one("#f-rate", Input), "0.0077")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        expenditures = rows_of(screen.query_one("#expenditures", PagedTable))
        assert [(x.code, x.amount_grant) for x in expenditures] == [("EX-2", Decimal("993.30")),
                                                                     ("EX-1", Decimal("1200.00"))]
        assert "Spent USD 2,193.30" in _text(screen.query_one("#grant-summary", Static))
        await press(pilot, "enter")  # the cursor stayed on the row it was on
        assert isinstance(app.screen, RecordDetail) and app.screen.title_text == "Expenditure EX-1"
        await press(pilot, "escape")
    with seeded.db.reading() as s:
        spent = s.execute(select(Expenditure.amount_grant).where(Expenditure.code == "EX-2")).scalar_one()
        assert spent == Decimal("993.30")


async def test_support_opens_a_detail_and_edits_from_it(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "enter")
        detail = app.screen
        assert isinstance(detail, RecordDetail) and "Case review" in _text(detail.query_one(".detail-body", Static))
        await press(pilot, "e")
        form = app.screen
        assert isinstance(form, RecordForm) and form.query_one("#f-code", Input).disabled
        form.query_one("#f-type").value = "Case mentoring"
        await press(pilot, "ctrl+s")
        assert "is required for Case mentoring" in _text(form.query_one("#e-case_ref", Static))
        await type_text(pilot, form.query_one("#f-case_ref", Input), "CTIP/MSA/2025/001")
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, RecordForm)
    with seeded.db.reading() as s:
        e = s.execute(select(Engagement)).scalar_one()
        assert (e.type, e.case_key) == ("Case mentoring", "ctip/msa/2025/001")


async def test_audit_browser_filters_and_shows_an_event(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "8")
        table = app.screen.query_one("#events", PagedTable)
        total = table.page.total
        assert total > 20 and rows_of(table)[0].seq == total  # newest first
        await press(pilot, "slash")
        await pilot.press(*"milestone")
        await settle(pilot)
        assert {r.entity_ref for r in rows_of(table)} == {"M1", "M2"}
        await press(pilot, "enter", "enter")  # keep the filter, then open the event
        detail = app.screen
        assert isinstance(detail, RecordDetail) and detail.actions == []
        body = _text(detail.query_one(".detail-body", Static))
        assert "Hash" in body and "Previous hash" in body
        # fields by the labels a person knows them by (as `audit log` prints them), never raw column names
        assert "Due date" in body and "Original due date" in body and "due_date" not in body


async def test_audit_verify_when_available(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "8")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        if screen.verify is None:
            assert "verify" not in [b.binding.action for b in screen.active_bindings.values()]
            return
        await press(pilot, "v")
        assert "✓ OK:" in _text(screen.query_one("#audit-note", Static))


async def test_reports_say_plainly_when_not_available(seeded: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(reports_screen, "report_writer", lambda: None)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "7")
        assert "not available in this version yet" in _text(app.screen.query_one("#reports-unavailable", Static))
        assert not app.screen.query("Button")  # no dead buttons
        assert "generate" not in [b.binding.action for b in app.screen.active_bindings.values()]


async def test_reports_generate_in_a_worker(seeded: Any, tmp_path: Path, monkeypatch: Any) -> None:
    calls: list[dict[str, Any]] = []

    def fake_generate(reader: Any, **kwargs: Any) -> Path:
        calls.append({**kwargs, "as_of": reader.as_of, "partnership": reader.partnership_id})
        kwargs["progress"](1, 2)
        kwargs["progress"](2, 2)
        kwargs["output"].write_bytes(b"x")
        return kwargs["output"]

    monkeypatch.setattr(reports_screen, "report_writer", lambda: fake_generate)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "7")
        screen = app.screen
        await type_text(pilot, screen.query_one("#r-period", Input), "2025-Q5")
        await press(pilot, "enter")
        assert "is not a quarter" in _text(screen.query_one("#e-period", Static)) and calls == []
        await type_text(pilot, screen.query_one("#r-period", Input), "2025-Q3")
        await type_text(pilot, screen.query_one("#r-output", Input), str(tmp_path / "hti.xlsx"))
        screen.query_one("#r-names").focus()
        await press(pilot, "g")
        assert "Report written to" in _text(screen.query_one("#r-result", Static))
        assert screen.query_one("#r-progress", ProgressBar).percentage == 1.0
    (call,) = calls
    assert (call["party"], str(call["period"]), call["as_of"], call["partnership"]) == \
        ("hti", "2025-Q3", None, seeded.partnership_id)
    assert call["include_personal_data"] is False and call["output"] == tmp_path / "hti.xlsx"


async def test_a_failing_load_is_shown_not_crashed(seeded: Any, monkeypatch: Any) -> None:
    from mou_tracker.read import lists

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(lists, "engagements", broken)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await press(pilot, "4")
        messages = [n.message for n in app._notifications]
        assert any("unexpected problem (RuntimeError: the database went away)" in m for m in messages)
        await press(pilot, "3")  # and the app carries on
        assert len(rows_of(app.screen.query_one("#trainings", PagedTable))) == 3


async def test_both_themes_render_every_screen(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        for theme in ("textual-light", "textual-dark"):
            app.theme = theme
            for key in "12345678":
                await press(pilot, key)
                assert app.screen.query_one("NavBar")  # composed and styled without error
        assert app.current_theme.name == "textual-dark"


async def test_a_first_visit_of_a_tab_restyles_nothing_else_and_a_theme_change_reaches_every_tab(seeded: Any) -> None:
    """Each tab opened for the first time is styled as it mounts; the app is not restyled for it (Textual
    did, every node of every open screen, on each first visit); a theme chosen later reaches every tab, those
    opened before it and those opened after."""
    from textual.color import Color

    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        restyles: list[str] = []
        restyle = app.refresh_css

        def counted(animate: bool = True) -> None:
            restyles.append(type(app.screen).__name__)
            restyle(animate)

        app.refresh_css = counted  # type: ignore[method-assign]
        for key in "2345":
            await press(pilot, key)
        assert restyles == []
        app.theme = "textual-light"
        await settle(pilot)
        assert restyles  # the theme change itself restyles
        background = Color.parse(app.get_css_variables()["background"])
        for key in "12345678":
            await press(pilot, key)
            assert app.screen.styles.background == background, (key, app.screen.styles.background)


def test_run_app_refuses_an_unknown_partnership_before_opening(seeded: Any) -> None:
    import pytest

    from mou_tracker.app_root import Settings
    from mou_tracker.errors import NotFound
    from mou_tracker.tui.app import run_app

    with pytest.raises(NotFound, match="no partnership 'NOPE'"):
        run_app(Settings(seeded.db.url, partnership="NOPE", as_of=date(2026, 1, 1)))


async def test_reports_offer_the_partnerships_own_parties(seeded: Any) -> None:
    """A DCI MoU's Reports screen offers HTI's and DCI's reports, not ODPP's."""
    from textual.widgets import Select

    from mou_tracker.services.setup import parse_party

    seeded.add_partnership(
        {"code": "DCI-HTI-2026", "name": "Kenya DCI and HTI", "country": "Kenya", "start_date": date(2026, 3, 1)},
        [parse_party("hti=Human Trafficking Institute:10", "Kenya"),
         parse_party("dci=Directorate of Criminal Investigations:7", "Kenya")])
    for code, expected in (("DCI-HTI-2026", ["dci", "hti"]), ("ODPP-HTI-2025", ["hti", "odpp"])):
        app = make_app(seeded.db, partnership=code)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "7")
            party = app.screen.query_one("#r-party", Select)
            assert sorted(value for _label, value in party._options) == expected
            assert party.value == "hti"


async def test_a_loading_cover_due_after_the_data_came_stays_off(seeded: Any, monkeypatch: Any) -> None:
    """A stopped timer whose event was already queued still runs its callback. On a loaded machine the loading
    indicator's timer did, after the page was drawn: the table stayed covered, a covered widget cannot hold
    the focus, and no key worked on the screen (CI saw / do nothing on the Trainings screen)."""
    from textual.message_pump import MessagePump

    from mou_tracker.tui.widgets import LOADING_DELAY

    due: list[Any] = []
    set_timer = MessagePump.set_timer

    def recording(self: Any, delay: float, callback: Any = None, **kwargs: Any) -> Any:
        if delay == LOADING_DELAY:
            due.append(callback)
        return set_timer(self, delay, callback, **kwargs)

    monkeypatch.setattr(MessagePump, "set_timer", recording)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        table = app.screen.query_one("#trainings", PagedTable)
        assert len(rows_of(table)) == 3 and due
        for callback in due:  # what the late timer events do
            callback()
        await settle(pilot)
        assert [w for w in app.screen.query("*") if w.loading] == []
        assert app.focused is table.table
        await press(pilot, "slash")
        assert app.focused is table.filter_input
        await press(pilot, "escape", "1")  # the dashboard's cover (a screen's own load) too
        assert isinstance(app.screen, DashboardScreen)
        assert [w for w in app.screen.query("*") if w.loading] == []
