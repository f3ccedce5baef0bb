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

from mou_tracker.read.views import DisbursementRow, ExpenditureRow, GrantRow, GrantView, ListRequest, Page
from mou_tracker.services.finance import GrantFigures, LineFigures
from mou_tracker.services.programme import BUDGET_FIELDS, DISBURSEMENT_FIELDS, EXPENDITURE_FIELDS, GRANT_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui.forms import converted_amount, form_fields
from mou_tracker.tui.screens.base import MouScreen, add_form, exact, open_detail, open_form, run_edit
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
TABS = ("budget", "disbursements", "expenditures")
#: the tabs whose rows the Delete key deletes (a budget line stays: expenditures are booked against it)
DELETABLE = ("disbursements", "expenditures")


class GrantScreen(MouScreen):
    MODE = "grant"
    AUTO_FOCUS = "#budget > PageTable"
    BINDINGS = [
        Binding("a", "add_record", "Add", tooltip="Add a budget line, disbursement or expenditure (this tab)"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected row"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected disbursement or expenditure"),
        Binding("g", "edit_grant", "Grant details", tooltip="Edit the grant (or add one)"),
        Binding("v", "next_tab", "Next tab", tooltip="Budget → Disbursements → Expenditures"),
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
        if allowed and action == "delete_record" and self.tab not in DELETABLE:
            return False  # not shown at all: budget lines are not deleted here, and a key that does nothing lies
        return allowed

    # Editing ------------------------------------------------------------------------------------------------------
    def action_edit_grant(self) -> None:
        grant, services = self.grant, self.ctx.services
        if grant is None:
            run_edit(self, lambda: self._form("Add the grant", form_fields(GRANT_FIELDS), {},
                                              lambda v, r: services.create_grant(v, r), adding=True))
            return
        code = grant.code
        run_edit(self, lambda: self._form(f"Edit grant {code}", form_fields(GRANT_FIELDS, locked=("code",)),
                                          grant.values(), lambda v, r: services.update_grant(code, v, r)))

    def action_add_record(self) -> None:
        if self.grant is None:
            self.action_edit_grant()
            return
        self._record_form(None)

    def action_edit_record(self) -> None:
        row = self.tab_table(self.tab).current
        if row is not None:
            self._record_form(row)

    def _record_form(self, row: Any) -> None:
        tab = self.tab
        run_edit(self, lambda: self._record_flow(tab, row))

    async def _record_flow(self, tab: str, row: Any) -> None:
        """Add (``row`` None: the service's create_*, which refuses an ID that exists) or edit (update_*)."""
        services, code = self.ctx.services, self.grant_code
        rate_note = "Rate: amount × rate = amount in the grant currency; required when the currencies differ."
        currency = self.grant.currency if self.grant else "USD"
        if tab == "budget":
            if row is None:
                await self._form("Add a budget line", form_fields(BUDGET_FIELDS), {},
                                 lambda v, r: services.create_budget_line(v, code, r), adding=True)
                return
            values = {"code": row.code, "name": row.name, "category": row.category, "amount": row.budget}
            await self._form(f"Edit budget line {row.code}", form_fields(BUDGET_FIELDS, locked=("code",)), values,
                             lambda v, r: services.update_budget_line(row.code, v, code, r))
        elif tab == "disbursements":
            preview = converted_amount(currency, DISBURSEMENT_FIELDS)
            if row is None:
                await self._form("Record a disbursement received", form_fields(DISBURSEMENT_FIELDS), {},
                                 lambda v, r: services.create_disbursement(v, code, r), note=rate_note,
                                 preview=preview, adding=True)
                return
            await self._form("Edit disbursement", form_fields(DISBURSEMENT_FIELDS), row.values(),
                             lambda v, r: services.update_disbursement(row.id, v, code, r), note=rate_note,
                             preview=preview)
        else:
            preview = converted_amount(currency, EXPENDITURE_FIELDS)
            if row is None:
                await self._form("Record an expenditure", form_fields(EXPENDITURE_FIELDS), {},
                                 lambda v, r: services.create_expenditure(v, code, r), note=rate_note,
                                 preview=preview, adding=True)
                return
            await self._form(f"Edit expenditure {row.code}", form_fields(EXPENDITURE_FIELDS, locked=("code",)),
                             row.values(), lambda v, r: services.update_expenditure(row.code, v, code, r),
                             note=rate_note, preview=preview)

    async def _form(self, title: str, fields: Any, values: dict[str, Any], save: Any, note: str = "",
                    preview: Any = None, adding: bool = False) -> None:
        if adding:
            done = await add_form(self, title, fields, values, save, open_existing=self._open_code, note=note,
                                  preview=preview)
        else:
            done = await open_form(self, title, fields, values, save, note=note, preview=preview)
        if done:
            self.refresh_data()

    async def _open_code(self, code: str) -> None:
        """Open the record of this tab whose ID is ``code`` (the one an "Add" was refused for)."""
        tab, grant, figures = self.tab, self.grant, self.figures
        if grant is None:
            return
        if tab == "budget":
            line = next((ln for ln in figures.lines if ln.code == code), None) if figures else None
            if line is not None:
                await self._record_flow("budget", line)
            return
        gid = grant.id
        if tab == "disbursements":  # a disbursement is known by its reference
            page = await asyncio.to_thread(self.ctx.reader.disbursements, gid,
                                           ListRequest(text=code, limit=1000, want="rows"))
            found = exact(page, code, lambda r: r.reference)
            if found is not None:
                await self._record_flow("disbursements", found)
            return
        page = await asyncio.to_thread(self.ctx.reader.expenditures, gid,
                                       ListRequest(text=code, limit=1000, want="rows"))
        found = exact(page, code, lambda r: r.code)
        if found is not None:
            await self._show_expenditure(found)

    def action_delete_record(self) -> None:
        tab = self.tab
        if tab not in DELETABLE:
            return
        row = self.tab_table(tab).current
        if row is not None:
            run_edit(self, lambda: self._delete(row) if tab == "expenditures" else self._delete_disbursement(row))

    async def _delete(self, row: ExpenditureRow) -> None:
        services, code = self.ctx.services, self.grant_code
        if await self.mou.confirm_delete(f"expenditure {row.code}", f"{row.description}, {row.date}, "
                                         f"{row.currency} {fmt.money(row.amount)}.",
                                         lambda reason: services.delete_expenditure(row.code, reason, code)):
            self.refresh_data()

    async def _delete_disbursement(self, row: DisbursementRow) -> None:
        services = self.ctx.services
        what = f"the disbursement of {row.date}" + (f" ({row.reference})" if row.reference else "")
        if await self.mou.confirm_delete(what, f"{row.currency} {fmt.money(row.amount)} received on {row.date}.",
                                         lambda reason: services.delete_disbursement(row.id, reason)):
            self.refresh_data()

    @on(PagedTable.Opened, "#expenditures")
    def _open_expenditure(self, event: PagedTable.Opened) -> None:
        row: ExpenditureRow = event.row
        run_edit(self, lambda: self._show_expenditure(row))

    async def _show_expenditure(self, row: ExpenditureRow) -> None:
        values = row.values()
        rows = [(f.label, values[f.attr]) for f in EXPENDITURE_FIELDS]
        rows.insert(7, ("Amount in grant currency", row.amount_grant))
        choice = await open_detail(self, f"Expenditure {row.code}", rows)
        if choice == "edit":
            await self._record_flow("expenditures", row)
        elif choice == "delete":
            await self._delete(row)

    @on(PagedTable.Opened, "#budget, #disbursements")
    def _open_other(self, event: PagedTable.Opened) -> None:
        row, tab = event.row, self.tab

        async def flow() -> None:
            if tab == "budget":
                title = f"Budget line {row.code}"
                rows = [("Line code", row.code), ("Name", row.name), ("Category", row.category),
                        ("Budget", row.budget), ("Spent", row.spent), ("Remaining", row.remaining),
                        ("% utilised", fmt.pct(row.pct_utilised))]
            else:
                title = f"Disbursement of {row.date}"
                values = row.values()
                rows = [(f.label, values[f.attr]) for f in DISBURSEMENT_FIELDS]
                rows.append(("Amount in grant currency", row.amount_grant))
            choice = await open_detail(self, title, rows, delete=tab in DELETABLE)
            if choice == "edit":
                await self._record_flow(tab, row)
            elif choice == "delete":
                await self._delete_disbursement(row)

        run_edit(self, flow)
