"""Technical support: engagements (case mentoring, reviews, trial support, ...)."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding

from mou_tracker.read.views import EngagementRow, ListRequest
from mou_tracker.services.programme import ENGAGEMENT_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui.forms import form_fields
from mou_tracker.tui.screens.base import MouScreen, add_form, exact, open_detail, open_form, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

COLUMNS: tuple[Col[EngagementRow], ...] = (
    Col("code", "Engagement ID", lambda r: r.code, width=13),
    Col("date", "Date", lambda r: r.date, width=10),
    Col("type", "Type", lambda r: r.type, width=15),
    Col("county", "County", lambda r: r.county, width=12),
    Col("case_ref", "Case reference", lambda r: r.case_ref, width=18),
    Col("hours", "Hours", lambda r: fmt.number(r.hours, 1), right=True, width=6),
    Col("hti_advisor", "HTI advisor", lambda r: r.hti_advisor, width=14),
)


class SupportScreen(MouScreen):
    MODE = "support"
    TABLE = "engagements"
    BINDINGS = [
        Binding("a", "add_engagement", "Add", tooltip="Record a technical-support engagement"),
        Binding("e", "edit_engagement", "Edit", tooltip="Edit the selected engagement"),
        Binding("x", "delete_engagement", "Delete", tooltip="Delete the selected engagement"),
    ]

    def compose_body(self) -> ComposeResult:
        yield self.list_table(COLUMNS, self.ctx.reader.engagements, lambda r: r.code, "engagement")

    @on(PagedTable.Opened, "#engagements")
    def _open(self, event: PagedTable.Opened) -> None:
        row: EngagementRow = event.row
        run_edit(self, lambda: self._show(row))

    async def _show(self, row: EngagementRow) -> None:
        rows = [(f.label, row.values()[f.attr]) for f in ENGAGEMENT_FIELDS]
        choice = await open_detail(self, f"Engagement {row.code}", rows)
        if choice == "edit":
            await self._edit(row)
        elif choice == "delete":
            await self._delete(row)

    async def _open_code(self, code: str) -> None:
        """Open the engagement ``code`` (the one an "Add" with its ID was refused for)."""
        page = await asyncio.to_thread(self.ctx.reader.engagements, ListRequest(text=code, limit=1000, want="rows"))
        row = exact(page, code, lambda r: r.code)
        if row is not None:
            await self._show(row)

    def action_add_engagement(self) -> None:
        async def flow() -> None:
            if await add_form(self, "Record an engagement", form_fields(ENGAGEMENT_FIELDS), {},
                              lambda v, r: self.ctx.services.create_engagement(v, r), open_existing=self._open_code,
                              note="A case reference is required for Case mentoring; never a victim's identity."):
                self.refresh_data()

        run_edit(self, flow)

    def action_edit_engagement(self) -> None:
        self.act_on_current(self._edit)

    def action_delete_engagement(self) -> None:
        self.act_on_current(self._delete)

    async def _edit(self, row: EngagementRow) -> None:
        if await open_form(self, f"Edit engagement {row.code}", form_fields(ENGAGEMENT_FIELDS, locked=("code",)),
                           row.values(), lambda v, r: self.ctx.services.update_engagement(row.code, v, r)):
            self.refresh_data()

    async def _delete(self, row: EngagementRow) -> None:
        if await self.mou.confirm_delete(f"engagement {row.code}", f"{row.type} on {row.date} in {row.county}.",
                                         lambda reason: self.ctx.services.delete_engagement(row.code, reason)):
            self.refresh_data()
