"""Grant: budget lines (spent, remaining, % utilised), disbursements received and expenditures. The money
figures are ``finance.grant_figures``'s."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Select, Static, TabbedContent, TabPane

from mou_tracker.read.views import (
    CommitmentRow,
    DisbursementRow,
    ExpenditureRow,
    GrantRow,
    GrantView,
    ListRequest,
    Page,
)
from mou_tracker.services.finance import GrantFigures, LineFigures
from mou_tracker.services.programme import (
    BUDGET_FIELDS,
    COMMITMENT_FIELDS,
    DISBURSEMENT_FIELDS,
    EXPENDITURE_FIELDS,
    GRANT_FIELDS,
)
from mou_tracker.tui import format as fmt
from mou_tracker.tui import records
from mou_tracker.tui.forms import converted_amount
from mou_tracker.tui.records import RecordActions, RecordKind
from mou_tracker.tui.screens.base import MouScreen, exact, run_edit
from mou_tracker.tui.screens.dashboard import grant_panel
from mou_tracker.tui.widgets import Col, PagedTable

BUDGET_COLUMNS: tuple[Col[LineFigures], ...] = (
    Col("", "Line", lambda r: r.code, id="code", width=5),
    Col("", "Name", lambda r: r.name, width=20, id="name"),
    Col("", "Budget", lambda r: fmt.money(r.budget), right=True, id="budget", width=12),
    Col("", "Spent", lambda r: fmt.money(r.spent), right=True, id="spent", width=12),
    Col("", "% used", lambda r: fmt.pct(r.pct_utilised), right=True, id="pct", width=6),
    Col("", "Remaining", lambda r: (fmt.money(r.remaining), "$error" if r.remaining < 0 else ""), right=True, width=12,
        id="remaining"),
    Col("", "Category", lambda r: r.category, id="category", width=18),
)
DISBURSEMENT_COLUMNS: tuple[Col[DisbursementRow], ...] = (
    Col("date", "Date", lambda r: r.date, width=10),
    Col("amount", "Amount", lambda r: fmt.money(r.amount), right=True, width=14),
    Col("currency", "Currency", lambda r: r.currency, width=8),
    Col("", "Rate", lambda r: r.rate, right=True, id="rate", width=10),
    Col("amount_grant", "In grant currency", lambda r: fmt.money(r.amount_grant), right=True, width=17),
    Col("reference", "Reference", lambda r: r.reference, width=14),
)
EXPENDITURE_COLUMNS: tuple[Col[ExpenditureRow], ...] = (
    Col("code", "Expenditure ID", lambda r: r.code, width=14),
    Col("date", "Date", lambda r: r.date, width=10),
    Col("line_code", "Line", lambda r: r.line_code, width=5),
    Col("amount_grant", "In grant cur.", lambda r: fmt.money(r.amount_grant), right=True, width=13),
    Col("amount", "Amount", lambda r: fmt.money(r.amount), right=True, width=14),
    Col("currency", "Cur.", lambda r: r.currency, width=4),
    Col("description", "Description", lambda r: r.description, width=28),
    Col("reference", "Reference", lambda r: r.reference, width=14),
)
COMMITMENT_COLUMNS: tuple[Col[CommitmentRow], ...] = (
    Col("code", "Commitment ID", lambda r: r.code, width=13),
    Col("date", "Date", lambda r: r.date, width=10),
    Col("line_code", "Line", lambda r: r.line_code, width=5),
    Col("amount_grant", "In grant cur.", lambda r: fmt.money(r.amount_grant), right=True, width=13),
    Col("status", "Status", lambda r: (r.status, "$warning" if r.status == "Open" else "$text-muted"), width=10),
    Col("amount", "Amount", lambda r: fmt.money(r.amount), right=True, width=14),
    Col("currency", "Cur.", lambda r: r.currency, width=4),
    Col("description", "Description", lambda r: r.description, width=28),
)
TABS = ("budget", "disbursements", "expenditures", "commitments")
RATE_NOTE = "Rate: amount × rate = amount in the grant currency; required when the currencies differ."


def _converted(fields: Any) -> Any:
    """The converted-amount line of a money form, in the shown grant's currency."""
    return lambda screen: converted_amount(screen.grant.currency if screen.grant else "USD", fields)


def _with_converted(fields: Any) -> Any:
    """The detail of an expenditure or a commitment: its fields, with the amount in the grant currency after
    the rate."""

    def detail(screen: Any, row: Any) -> list[tuple[str, Any]]:
        values = row.values()
        rows = [(f.label, values[f.attr]) for f in fields]
        rows.insert(7, ("Amount in grant currency", row.amount_grant))
        return rows

    return detail


GRANTS: RecordKind[GrantRow] = RecordKind(
    noun="grant", fields=GRANT_FIELDS, code=lambda r: r.code, add_title="Add the grant",
    create=lambda screen, v, r: screen.ctx.services.create_grant(v, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_grant(row.code, v, r),
)
#: a budget line is not deleted here: expenditures are booked against it
BUDGET_LINES: RecordKind[LineFigures] = RecordKind(
    noun="budget line", fields=BUDGET_FIELDS, code=lambda r: r.code, add_title="Add a budget line",
    create=lambda screen, v, r: screen.ctx.services.create_budget_line(v, screen.grant_code, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_budget_line(row.code, v, screen.grant_code, r),
    values=lambda screen, r: {"code": r.code, "name": r.name, "category": r.category, "amount": r.budget},
    detail=lambda screen, r: [("Line code", r.code), ("Name", r.name), ("Category", r.category),
                              ("Budget", r.budget), ("Spent", r.spent), ("Remaining", r.remaining),
                              ("% utilised", fmt.pct(r.pct_utilised))],
)
DISBURSEMENTS: RecordKind[DisbursementRow] = RecordKind(
    noun="disbursement", fields=DISBURSEMENT_FIELDS, code=lambda r: r.reference or r.date,
    add_title="Record a disbursement received", locked=(),
    create=lambda screen, v, r: screen.ctx.services.create_disbursement(v, screen.grant_code, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_disbursement(row.id, v, screen.grant_code, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_disbursement(row.id, reason),
    describe=lambda r: f"{r.currency} {fmt.money(r.amount)} received on {r.date}.",
    edit_title=lambda screen, r: "Edit disbursement", note=RATE_NOTE, preview=_converted(DISBURSEMENT_FIELDS),
    detail=lambda screen, r: [*((f.label, r.values()[f.attr]) for f in DISBURSEMENT_FIELDS),
                              ("Amount in grant currency", r.amount_grant)],
)
EXPENDITURES: RecordKind[ExpenditureRow] = RecordKind(
    noun="expenditure", fields=EXPENDITURE_FIELDS, code=lambda r: r.code, add_title="Record an expenditure",
    create=lambda screen, v, r: screen.ctx.services.create_expenditure(v, screen.grant_code, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_expenditure(row.code, v, screen.grant_code, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_expenditure(row.code, reason, screen.grant_code),
    describe=lambda r: f"{r.description}, {r.date}, {r.currency} {fmt.money(r.amount)}.",
    note=RATE_NOTE, preview=_converted(EXPENDITURE_FIELDS), detail=_with_converted(EXPENDITURE_FIELDS),
)
#: an obligation not yet paid (Open), then paid (Liquidated): the funder's unliquidated obligations
COMMITMENTS: RecordKind[CommitmentRow] = RecordKind(
    noun="commitment", fields=COMMITMENT_FIELDS, code=lambda r: r.code, add_title="Record a commitment",
    create=lambda screen, v, r: screen.ctx.services.create_commitment(v, screen.grant_code, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_commitment(row.code, v, screen.grant_code, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_commitment(row.code, reason, screen.grant_code),
    describe=lambda r: f"{r.description}, {r.date}, {r.currency} {fmt.money(r.amount)} ({r.status}).",
    defaults={"status": "Open"}, note=RATE_NOTE + " Open until paid, then Liquidated.",
    preview=_converted(COMMITMENT_FIELDS), detail=_with_converted(COMMITMENT_FIELDS),
)
#: the record kind each tab lists
TAB_KINDS: dict[str, RecordKind[Any]] = {"budget": BUDGET_LINES, "disbursements": DISBURSEMENTS,
                                         "expenditures": EXPENDITURES, "commitments": COMMITMENTS}


class GrantScreen(RecordActions, MouScreen):
    MODE = "grant"
    AUTO_FOCUS = "#budget > PageTable"
    BINDINGS = [
        Binding("a", "add_record", "Add",
                tooltip="Add a budget line, disbursement, expenditure or commitment (this tab)"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected row"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected disbursement, expenditure or commitment"),
        Binding("g", "edit_grant", "Grant details", tooltip="Edit the grant (or add one)"),
        Binding("v", "next_tab", "Tab", tooltip="Budget → Disbursements → Expenditures → Commitments"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: GrantView | None = None
        self.grant_code: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Select([], id="grant-select", allow_blank=True, prompt="grant", compact=True)
        yield Static(id="grant-summary", classes="summary")
        with TabbedContent(id="grant-tabs"):
            with TabPane("Budget", id="tab-budget"):
                yield PagedTable(BUDGET_COLUMNS, None, lambda r: r.code, noun="budget line", id="budget")
            with TabPane("Disbursements", id="tab-disbursements"):
                yield PagedTable(DISBURSEMENT_COLUMNS, None, lambda r: str(r.id), noun="disbursement",
                                 id="disbursements")
            with TabPane("Expenditures", id="tab-expenditures"):
                yield PagedTable(EXPENDITURE_COLUMNS, None, lambda r: r.code, noun="expenditure", id="expenditures")
            with TabPane("Commitments", id="tab-commitments"):
                yield PagedTable(COMMITMENT_COLUMNS, None, lambda r: r.code, noun="commitment", id="commitments")

    def tab_table(self, name: str) -> PagedTable[Any]:
        return self.query_one(f"#{name}", PagedTable)

    @property
    def tab(self) -> str:
        active = self.query_one(TabbedContent).active or "tab-budget"
        return active.removeprefix("tab-")

    @property
    def grant(self) -> GrantRow | None:
        if self.view is None:
            return None
        return next((g for g in self.view.grants if g.code == self.grant_code), None)

    @property
    def figures(self) -> GrantFigures | None:
        if self.view is None:
            return None
        return next((g for g in self.view.figures if g.code == self.grant_code), None)

    def refresh_data(self) -> None:
        day = self.ctx.reference_day
        self.load(lambda: self.ctx.reader.grant_view(day), self._show, cover=self.query_one("#grant-summary"))

    def _show(self, view: GrantView) -> None:
        self.view = view
        codes = [g.code for g in view.grants]
        if self.grant_code not in codes:
            self.grant_code = codes[0] if codes else None
        select = self.query_one("#grant-select", Select)
        select.display = len(codes) > 1
        with self.prevent(Select.Changed):
            select.set_options([(c, c) for c in codes])
            if self.grant_code:
                select.value = self.grant_code
        self._show_grant()

    @on(Select.Changed, "#grant-select")
    def _picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and event.value != self.grant_code:
            self.grant_code = str(event.value)
            self._show_grant()

    def _show_grant(self) -> None:
        grant, figures = self.grant, self.figures
        summary = self.query_one("#grant-summary", Static)
        if grant is None or figures is None:
            self.set_heading("Grant")
            summary.update(grant_panel(()) if self.ctx.read_only else
                           Content("No grant recorded yet. Press g to add the grant, then its budget lines."))
            for name in TABS:
                self.tab_table(name).fetch = None
            return
        self.set_heading(Content.assemble(("Grant ", "bold"), (grant.code, "bold"),
                                          f" · {grant.funder} · {grant.currency} {fmt.money(grant.amount)} · "
                                          f"{grant.start_date} – {grant.end_date}"))
        summary.update(grant_panel((figures,)))
        lines = figures.lines
        gid = grant.id

        def budget(req: ListRequest) -> Page[LineFigures]:
            text = req.text.strip().casefold()
            rows = [ln for ln in lines if not text or text in f"{ln.code} {ln.name} {ln.category}".casefold()]
            return Page(tuple(rows[req.offset:req.offset + req.limit]), len(rows), req.offset, req.limit)

        self.tab_table("budget").fetch = budget
        self.tab_table("disbursements").fetch = lambda req: self.ctx.reader.disbursements(gid, req)
        self.tab_table("expenditures").fetch = lambda req: self.ctx.reader.expenditures(gid, req)
        self.tab_table("commitments").fetch = lambda req: self.ctx.reader.commitments(gid, req)
        for name in TABS:
            self.tab_table(name).reload()

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = f"tab-{TABS[(TABS.index(self.tab) + 1) % len(TABS)]}"
        self.tab_table(self.tab).focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and not self.record_action_allowed(action):
            return False  # not shown at all (a budget line is not deleted here): a key that does nothing lies
        return allowed

    # Editing: the records of the tab shown ------------------------------------------------------------------
    def record_kind(self) -> RecordKind[Any]:
        return TAB_KINDS[self.tab]

    def current_row(self) -> Any:
        return self.tab_table(self.tab).current

    def action_edit_grant(self) -> None:
        grant = self.grant
        if grant is None:
            run_edit(self, self._add_grant)
            return
        run_edit(self, lambda: records.edit(self, GRANTS, grant))

    async def _add_grant(self) -> None:
        if await records.add(self, GRANTS) is not None:
            self.refresh_data()

    def action_add_record(self) -> None:
        if self.grant is None:  # the grant first, then its budget lines
            self.action_edit_grant()
            return
        super().action_add_record()

    async def open_existing(self, code: str) -> None:
        """Open the record of this tab whose ID is ``code`` (the one an "Add" was refused for)."""
        tab, grant, figures = self.tab, self.grant, self.figures
        if grant is None:
            return
        if tab == "budget":
            line = next((ln for ln in figures.lines if ln.code == code), None) if figures else None
            if line is not None:
                await records.edit(self, BUDGET_LINES, line)
            return
        gid = grant.id
        if tab == "disbursements":  # a disbursement is known by its reference
            page = await asyncio.to_thread(self.ctx.reader.disbursements, gid,
                                           ListRequest(text=code, limit=1000, want="rows"))
            found = exact(page, code, lambda r: r.reference)
            if found is not None:
                await records.edit(self, DISBURSEMENTS, found)
            return
        read = self.ctx.reader.commitments if tab == "commitments" else self.ctx.reader.expenditures
        page = await asyncio.to_thread(read, gid, ListRequest(text=code, limit=1000, want="rows"))
        found = exact(page, code, lambda r: r.code)
        if found is not None:
            await records.show(self, TAB_KINDS[tab], found)

    @on(PagedTable.Opened, "#budget, #disbursements, #expenditures, #commitments")
    def _open(self, event: PagedTable.Opened) -> None:
        row, kind = event.row, self.record_kind()
        run_edit(self, lambda: records.show(self, kind, row))
