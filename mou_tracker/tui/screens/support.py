"""Technical support: engagements (case mentoring, reviews, trial support, ...)."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding

from mou_tracker.read.views import EngagementRow, ListRequest
from mou_tracker.services.programme import ENGAGEMENT_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui import records
from mou_tracker.tui.records import RecordActions, RecordKind
from mou_tracker.tui.screens.base import MouScreen, exact, run_edit
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


ENGAGEMENTS: RecordKind[EngagementRow] = RecordKind(
    noun="engagement", fields=ENGAGEMENT_FIELDS, code=lambda r: r.code, add_title="Record an engagement",
    create=lambda screen, v, r: screen.ctx.services.create_engagement(v, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_engagement(row.code, v, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_engagement(row.code, reason),
    describe=lambda r: f"{r.type} on {r.date} in {r.county}.",
    note="A case reference is required for Case mentoring; never a victim's identity.",
)


class SupportScreen(RecordActions, MouScreen):
    MODE = "support"
    TABLE = "engagements"
    KIND = ENGAGEMENTS
    BINDINGS = [
        Binding("a", "add_record", "Add", tooltip="Record a technical-support engagement"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected engagement"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected engagement"),
    ]

    def compose_body(self) -> ComposeResult:
        yield self.list_table(COLUMNS, self.ctx.reader.engagements, lambda r: r.code, "engagement")

    @on(PagedTable.Opened, "#engagements")
    def _open(self, event: PagedTable.Opened) -> None:
        row: EngagementRow = event.row
        run_edit(self, lambda: records.show(self, ENGAGEMENTS, row))

    async def open_existing(self, code: str) -> None:
        """Open the engagement ``code`` (the one an "Add" with its ID was refused for)."""
        page = await asyncio.to_thread(self.ctx.reader.engagements, ListRequest(text=code, limit=1000, want="rows"))
        row = exact(page, code, lambda r: r.code)
        if row is not None:
            await records.show(self, ENGAGEMENTS, row)
