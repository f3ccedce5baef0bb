"""Several partnerships in one database: the switcher (w, the palette) shows the chosen one on every screen and
nothing of the other (two partnerships holding the same record IDs with different texts), keeps the session's
rights and as-of day, and the title line names the partnership shown; the Portfolio screen puts them side by
side, each partnership's figures exactly its own progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from textual.widgets import OptionList, Select, Static

from mou_tracker.app_root import Settings
from mou_tracker.domain.periods import Quarter
from mou_tracker.read.reader import Reader
from mou_tracker.tui import format as fmt
from mou_tracker.tui.app import build_app
from mou_tracker.tui.forms import PartnershipPicker
from mou_tracker.tui.screens.portfolio import PortfolioScreen
from mou_tracker.tui.screens.trainings import TrainingDetail, TrainingsScreen
from mou_tracker.tui.widgets import NavBar, PagedTable, TitleBar
from tests.tui.conftest import KE, SIZE, TODAY, UG, fill, make_app, press, rows_of, settle
from tests.tui.test_read_only import offered_edit_actions
from tests.tui.test_snapshots import screen_text

#: every screen but the portfolio, which shows all partnerships by design
RECORD_SCREENS = "123456789"


def badges(app: Any) -> str:
    return str(app.screen.query_one(TitleBar).query_one("#badges", Static).render())


def shown(app: Any) -> str:
    """What the screen shows and every record its tables hold (the Grant screen's hidden tabs included)."""
    rows = [repr(rows_of(t)) for t in app.screen.query(PagedTable)]
    return screen_text(app.export_screenshot()) + "\n".join(rows)


async def visit_every_screen(pilot: Any) -> str:
    seen = []
    for key in RECORD_SCREENS:
        await press(pilot, key)
        seen.append(shown(pilot.app))
    await press(pilot, "3", "enter")  # TR-2025-001, the only training in Kenya, the oldest in Uganda
    seen.append(shown(pilot.app))
    await press(pilot, "escape")
    return "\n".join(seen)


async def test_switching_shows_the_chosen_partnership_and_nothing_of_the_other(two: Any) -> None:
    ke, _ug = two
    app = make_app(ke.db, partnership=KE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert KE in badges(app)
        before = await visit_every_screen(pilot)
        assert "[KE]" in before and "[UG]" not in before
        # from a training's detail (a screen over the list), the switcher
        await press(pilot, "3", "enter")
        assert isinstance(app.screen, TrainingDetail)
        await press(pilot, "w")
        picker = app.screen
        assert isinstance(picker, PartnershipPicker)
        options = picker.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [KE, UG]
        assert options.highlighted == 0  # the one shown
        await press(pilot, "down", "enter")
        assert app.ctx.partnership_code == UG and UG in badges(app) and KE not in badges(app)
        # every screen is built anew: the detail of Kenya's TR-2025-001 is gone, the list is Uganda's
        assert isinstance(app.screen, TrainingsScreen)
        assert [r.title for r in rows_of(app.screen.query_one("#trainings", PagedTable))] == [
            "Evidence course 2 [UG]", "Evidence course 1 [UG]"]
        after = await visit_every_screen(pilot)
        assert "[UG]" in after and "[KE]" not in after
        # a write lands in the partnership shown
        await press(pilot, "9", "a")
        await fill(pilot, app.screen, date="2025-09-01", category="Opportunity", text="New judges [UG]")
        await press(pilot, "ctrl+s")
        await press(pilot, "w", "up", "enter")  # back to Kenya
        assert app.ctx.partnership_code == KE
        assert "New judges" not in shown(app)
    for code, texts in ((UG, ["New judges [UG]", "Court recess [UG]"]), (KE, ["Court recess [KE]"])):
        with Reader(ke.db, partnership=code) as reader:
            assert [d.text for d in reader.developments().rows] == texts


async def test_the_palette_offers_the_switcher_and_a_wrong_code_changes_nothing(two: Any) -> None:
    ke, _ug = two
    app = make_app(ke.db, partnership=KE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Switch partnership" in titles and "Go to Portfolio" in titles and "Go to Developments" in titles
        assert not await app.switch_partnership("NO-SUCH")
        await settle(pilot)
        assert app.ctx.partnership_code == KE
        assert any("no partnership 'NO-SUCH'" in n.message for n in app._notifications)


async def test_read_only_and_the_as_of_day_are_kept(two: Any) -> None:
    ke, _ug = two
    app = make_app(ke.db, partnership=KE, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert await app.switch_partnership(UG)
        await settle(pilot)
        assert app.ctx.read_only and app.ctx.services.read_only and "read-only" in badges(app)
        for key in "36950":
            await press(pilot, key)
            assert offered_edit_actions(app) == [], key
    today = datetime.now(UTC).date()  # the records were made today: as of today's end, all of them
    looking_back = make_app(ke.db, partnership=KE, as_of=today)
    async with looking_back.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert await looking_back.switch_partnership(UG)
        await press(pilot, "3")
        ctx = looking_back.ctx
        assert (ctx.as_of, ctx.reader.as_of, ctx.read_only) == (today, today, True)
        assert f"as of {today}" in badges(looking_back) and UG in badges(looking_back)
        assert [r.title for r in rows_of(looking_back.screen.query_one("#trainings", PagedTable))] == [
            "Evidence course 2 [UG]", "Evidence course 1 [UG]"]


async def test_looking_back_to_before_a_partnership_existed_switches_to_nothing(two: Any) -> None:
    ke, _ug = two
    yesterday = datetime.now(UTC).date() - timedelta(days=1)  # before the test made either partnership
    app = make_app(ke.db, partnership=KE, as_of=yesterday)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not await app.switch_partnership(UG)
        await settle(pilot)
        assert app.ctx.partnership_code == KE
        assert any(f"partnership {UG} did not exist yet on {yesterday}" in n.message for n in app._notifications)


async def test_without_a_partnership_named_the_one_last_shown_opens(two: Any) -> None:
    ke, _ug = two
    app = build_app(Settings(ke.db.url, "tester", today=TODAY), database=ke.db)
    assert app.ctx.partnership_code == KE  # the first by code, when none was shown before
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert await app.switch_partnership(UG)
        await settle(pilot)
    again = build_app(Settings(ke.db.url, "tester", today=TODAY), database=ke.db)
    assert again.ctx.partnership_code == UG
    again.ctx.close()


# The portfolio -----------------------------------------------------------------------------------------------------
def cell(paged: PagedTable[Any], row: int, key: str) -> str:
    return str(paged.table.get_row_at(row)[paged.table.get_column_index(key)])


async def test_the_portfolio_shows_each_partnerships_own_progress_and_the_total(two: Any) -> None:
    ke, ug = two
    ke.create_indicator({"code": "X1", "name": "Referrals made", "unit": "referrals", "kind": "sum"})
    ug.create_indicator({"code": "X1", "name": "Referral rate", "unit": "%", "kind": "level"})
    app = make_app(ke.db, partnership=KE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        nav = app.screen.query_one(NavBar)
        assert "portfolio" in [t[0] for t in nav.tabs]  # shown: the database holds two partnerships
        await press(pilot, "0")
        screen = app.screen
        assert isinstance(screen, PortfolioScreen)
        screen.query_one("#portfolio-quarter", Select).value = "2025-Q3"
        await settle(pilot)
        paged = screen.query_one("#portfolio", PagedTable)
        rows = rows_of(paged)
        q = Quarter(2025, 3)
        own = {}
        for code in (KE, UG):
            with Reader(ke.db, partnership=code) as reader:
                own[code] = reader.progress(q).by_code()
        checked = 0
        for i, r in enumerate(rows):
            for code in (KE, UG):
                f = own[code][r.code]
                assert cell(paged, i, f"p|{code}") == fmt.fig(f, f.period_actual), (r.code, code)
                checked += 1
        assert checked == 2 * len(rows) and len(rows) == len(own[KE])
        line = {r.code: i for i, r in enumerate(rows)}
        assert cell(paged, line["1.1"], "total") == "3"  # 1 training in Kenya + 2 in Uganda
        assert cell(paged, line["1.2"], "total") == "2"  # one person trained in each
        assert cell(paged, line["4.1"], "total") == "2,400.00"
        assert cell(paged, line["X1"], "total") == "not added"
        note = str(screen.query_one("#portfolio-note", Static).render())
        assert "Not added up (unit, kind or currency differ): X1" in note
        # to date: the cumulative figures
        await press(pilot, "t")
        assert cell(paged, line["1.1"], "total") == "3" and "to 2025-Q3" in paged.columns[2].label
        await press(pilot, "left_square_bracket", "left_square_bracket")  # 2025-Q1: nothing yet
        assert str(screen.quarter) == "2025-Q1" and cell(paged, line["1.1"], "total") == "0"


async def test_one_partnership_shows_no_portfolio_tab_but_the_key_still_opens_it(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "portfolio" not in [t[0] for t in app.screen.query_one(NavBar).tabs]
        assert app.ctx.partnership_code in badges(app)
        await press(pilot, "0")
        assert isinstance(app.screen, PortfolioScreen)
        assert len(rows_of(app.screen.query_one("#portfolio", PagedTable))) == 12


async def test_a_uganda_training_takes_a_district_as_its_county(two: Any) -> None:
    """The Add form of a partnership outside Kenya offers no Kenyan counties and saves the place as written;
    in Kenya it still offers the 47 and refuses another place, naming the field."""
    from textual.widgets import Input

    ke, _ug = two
    values = dict(code="TR-2025-009", title="Trial advocacy (Gulu)", topic="Trial advocacy",
                  start_date="2025-09-10", end_date="2025-09-12", county="Gulu")
    for code, saved in ((UG, True), (KE, False)):
        app = make_app(ke.db, partnership=code)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "3", "a")
            form = app.screen
            county = form.query_one("#f-county", Input)
            assert (county.suggester is None) is saved
            assert ("Kenya" in county.placeholder) is not saved
            await fill(pilot, form, **values)
            await press(pilot, "ctrl+s")
            assert (app.screen is not form) is saved
            if not saved:
                assert "'Gulu' is not one of Kenya's 47 counties" in str(form.query_one("#e-county", Static).render())
        with Reader(ke.db, partnership=code) as reader:
            assert [t.county for t in reader.trainings().rows if t.code == "TR-2025-009"] == (["Gulu"] if saved
                                                                                               else [])
