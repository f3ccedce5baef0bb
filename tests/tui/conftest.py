"""Helpers for driving the terminal UI with Textual's Pilot."""

from __future__ import annotations

import asyncio
import inspect
from datetime import date
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input, Select

from mou_tracker.app_root import Settings
from mou_tracker.db.engine import Database
from mou_tracker.tui.app import MouApp, build_app


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (Pilot needs one; no async plugin is required)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


TODAY = date(2026, 11, 29)  # the demo database's "today"
SIZE = (80, 24)


def make_app(db: Database, actor: str = "tester", **kwargs: Any) -> MouApp:
    """The app as the composition root builds it, on an already open database (as ``mou-tracker`` would
    open it, minus the schema check the fixtures have done)."""
    kwargs.setdefault("today", TODAY)
    return build_app(Settings(db.url, actor, **kwargs), database=db)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every load has finished and the screen has caught up (edit flows, which wait for a
    dialog, are left running)."""
    app = pilot.app
    for _ in range(50):  # a finished load may start the next (a page, then its count): until none is running
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "edit" and not w.is_finished]
        if not busy:
            break
        await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
    # an edit flow on its way to a dialog (or a question), and a dialog's own save, are given the time to get
    # there; one waiting for the person's answer is left waiting
    waited = False
    for _ in range(200):
        top = app.screen
        if not any(w.group == "edit" and not w.is_finished and (w.node is top or not isinstance(top, ModalScreen))
                   for w in app.workers):
            break
        waited = True
        await pilot.pause(0.02)
    if waited:  # let the screen catch up with where the edit flow got to
        await pilot.pause()


async def laid_out(pilot: Pilot[Any], ready: Any, tries: int = 100) -> None:
    """Wait (a bounded number of screen refreshes) until ``ready()`` holds: a table's columns are fitted to its
    width once it has one, which on a loaded machine may come a refresh or two after its screen opened."""
    for _ in range(tries):
        if ready():
            return
        await pilot.pause(0.02)


async def press(pilot: Pilot[Any], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_text(pilot: Pilot[Any], widget: Input, text: str) -> None:
    """Type into an input as a person would (select all, then the characters)."""
    widget.focus()
    widget.value = ""
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause()


async def fill(pilot: Pilot[Any], screen: Any, **values: str) -> None:
    """Fill a record form: inputs are typed into, drop-downs are chosen."""
    for attr, value in values.items():
        widget = screen.query_one(f"#f-{attr}")
        if isinstance(widget, Select):
            widget.value = value
            await pilot.pause()
        else:
            await type_text(pilot, widget, value)


def rows_of(table: Any) -> list[Any]:
    """The records a PagedTable shows now, top to bottom."""
    return [table.rows[str(k.value)] for k in table.table.rows]


@pytest.fixture
def seeded(services: Any) -> Any:
    """Services (both backends) with a grant and a few records of each kind."""
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                         "start_date": "2025-05-12", "end_date": "2028-05-11"})
    services.create_budget_line({"code": "BL1", "name": "Trainings", "category": "Training", "amount": "50000"})
    for i, (county, end) in enumerate((("Kisumu", "2025-08-02"), ("Nairobi", "2025-09-20"),
                                       ("Kisii", "2025-11-05")), 1):
        services.create_training({"code": f"TR-{i}", "title": f"Evidence in trafficking cases ({county})",
                                "topic": "Evidence", "start_date": end, "end_date": end, "county": county})
    services.add_attendance({"training_code": "TR-1", "name": "Achieng Otieno", "sex": "F", "agency": "ODPP",
                                "staff_number": "ODPP/1"})
    services.create_engagement({"code": "TS-1", "date": "2025-08-10", "type": "Case review", "county": "Mombasa",
                              "hours": "4"})
    services.create_milestone({"code": "M1", "title": "Guidelines drafted", "due_date": "2025-12-01",
                             "status": "In progress"})
    services.create_milestone({"code": "M2", "title": "Unit terms of reference", "due_date": "2026-12-10",
                             "status": "Not started"})
    services.create_expenditure({"code": "EX-1", "date": "2025-08-03", "line_code": "BL1",
                               "description": "Venue hire", "amount": "1200", "currency": "USD"})
    services.set_target("1.1", "2025-Q3", 2)
    return services


KE, UG = "ODPP-HTI-2025", "UG-ODPP-HTI-2026"
UG_PARTIES = [{"code": "hti", "name": "HTI", "fiscal_start_month": 10, "fiscal_label_style": "end_year",
               "currency": "USD"},
              {"code": "odpp", "name": "ODPP Uganda", "fiscal_start_month": 7, "fiscal_label_style": "split",
               "currency": "UGX"}]


def _records(svc: Any, tag: str, trainings: int, target: int) -> None:
    """The same IDs in each partnership, every text tagged with ``tag`` ([KE] or [UG])."""
    for i in range(1, trainings + 1):
        day = date(2025, 8, 4 + i)
        svc.create_training({"code": f"TR-2025-00{i}", "title": f"Evidence course {i} {tag}", "topic": "Evidence",
                             "start_date": day, "end_date": day, "county": "Busia"})
    svc.add_attendance({"training_code": "TR-2025-001", "name": f"Grace Auma {tag}", "sex": "F", "agency": "ODPP"})
    svc.create_engagement({"code": "TS-1", "date": "2025-08-10", "type": "Case review", "county": "Busia",
                           "hours": "2", "summary": f"Charge sheet review {tag}"})
    svc.create_milestone({"code": "M1", "title": f"Guidelines drafted {tag}", "due_date": "2026-12-10",
                          "status": "In progress"})
    svc.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                      "start_date": "2025-01-01", "end_date": "2027-12-31"})
    svc.create_budget_line({"code": "BL1", "name": f"Trainings {tag}", "category": "Training", "amount": "50000"})
    svc.create_expenditure({"code": "EX-1", "date": "2025-08-06", "line_code": "BL1",
                            "description": f"Venue hire {tag}", "amount": "1200", "currency": "USD"})
    svc.create_commitment({"code": "C-1", "date": "2025-08-07", "line_code": "BL1",
                           "description": f"Printing ordered {tag}", "amount": "300", "currency": "USD",
                           "status": "Open"})
    svc.create_development({"date": "2025-08-20", "category": "Risk", "text": f"Court recess {tag}",
                            "reference": "D-1"})
    svc.set_target("1.1", "2025-Q3", target)


@pytest.fixture
def two(services: Any) -> tuple[Any, Any]:
    """Kenya (the seeded partnership) and Uganda, holding look-alike IDs (TR-2025-001, TS-1, M1, G1, EX-1, C-1,
    D-1) whose texts differ: [KE] in Kenya's, [UG] in Uganda's."""
    from mou_tracker.services import Services

    ke = services
    _records(ke, "[KE]", 1, 1)
    ke.add_partnership({"code": UG, "name": "Uganda ODPP-HTI", "country": "Uganda",
                        "start_date": date(2025, 6, 1)}, UG_PARTIES)
    ug = Services(ke.db, "tester", partnership=UG)
    _records(ug, "[UG]", 2, 4)
    return ke, ug


@pytest.fixture
def funder_demo(demo_db: Any) -> Any:
    """The demo database with what a funder asks for besides (baselines, significant developments,
    commitments) and a second partnership (Uganda), for the snapshots and the layout checks."""
    from mou_tracker.services import Services

    svc = Services(demo_db, "brian.ochieng")
    for code, value, day, source in (("OC1", "31", "2024-12-31", "ODPP annual report 2024"),
                                     ("1.4", "12.5", "2025-03-31", "HTI pilot course, March 2025"),
                                     ("4.1", "0", "2025-05-12", "award start")):
        svc.set_baseline({"indicator_code": code, "value": value, "date": day, "source": source})
    for day, category, text, ref in (
            ("2026-10-14", "Delay", "The Kisumu trial-advocacy course moved to January: the High Court's recess "
                                    "was extended by two weeks.", "SD-2026-07"),
            ("2026-09-02", "Opportunity", "The Chief Justice asked for the evidence module to be offered to "
                                          "magistrates in all 47 counties.", "SD-2026-06"),
            ("2026-08-19", "Risk", "Two trained prosecutors transferred out of the Mombasa unit.", None)):
        svc.create_development({"date": day, "category": category, "text": text, "reference": ref})
    line_code = _first_line(svc)
    for code, day, line, desc, amount, currency, rate, status in (
            ("CM-2026-001", "2026-10-05", None, "Venue deposit, Nakuru course", "450000", "KES", "0.0077", "Open"),
            ("CM-2026-002", "2026-09-12", None, "Printing of bench books", "3800", "USD", None, "Liquidated")):
        svc.create_commitment({"code": code, "date": day, "line_code": line or line_code, "description": desc,
                               "amount": amount, "currency": currency, "rate": rate, "status": status})
    svc_admin = Services(demo_db, "daniel.mutua")
    svc_admin.add_partnership({"code": UG, "name": "Uganda ODPP-HTI", "country": "Uganda",
                               "start_date": date(2026, 1, 1)}, UG_PARTIES)
    ug = Services(demo_db, "daniel.mutua", partnership=UG)
    ug.create_training({"code": "TR-2026-001", "title": "Victim-centred prosecution", "topic": "Evidence",
                        "start_date": "2026-10-06", "end_date": "2026-10-08", "county": "Busia"})
    ug.set_target("1.1", "2026-Q4", 2)
    return demo_db


def _first_line(svc: Any) -> str:
    from mou_tracker.read.reader import Reader

    with Reader(svc.db) as reader:
        view = reader.grant_view(TODAY)
    return view.figures[0].lines[0].code
