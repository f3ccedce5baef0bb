"""Significant developments: the dated log of risks, opportunities, delays and changes in context a funder is
told of as soon as they are known (docs/reference/tui.md); the report prints the quarter's."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding

from mou_tracker.read.views import DevelopmentRow, ListRequest
from mou_tracker.services.programme import DEVELOPMENT_FIELDS
from mou_tracker.tui import records
from mou_tracker.tui.records import RecordActions, RecordKind
from mou_tracker.tui.screens.base import MouScreen, exact, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

COLUMNS: tuple[Col[DevelopmentRow], ...] = (
    Col("date", "Date", lambda r: r.date, width=10),
    Col("category", "Category", lambda r: r.category, width=11),
    Col("text", "What happened", lambda r: _short(r.text, 200), width=30, grow=True),
    Col("reference", "Reference", lambda r: r.reference, width=10),
)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


DEVELOPMENTS: RecordKind[DevelopmentRow] = RecordKind(
    noun="development", fields=DEVELOPMENT_FIELDS, code=lambda r: r.reference or f"of {r.date}",
    add_title="Log a significant development", locked=(),
    create=lambda screen, v, r: screen.ctx.services.create_development(v, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_development(row.id, v, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_development(row.id, reason),
    describe=lambda r: f"{r.category}, {r.date}: {_short(r.text)}",
    note="Risk, Opportunity, Delay, Change in context or Other; a Reference, when given, is unique.",
)


class DevelopmentsScreen(RecordActions, MouScreen):
    MODE = "developments"
    TABLE = "developments"
    KIND = DEVELOPMENTS
    BINDINGS = [
        Binding("a", "add_record", "Add", tooltip="Log a significant development"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected development"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected development"),
    ]

    def compose_body(self) -> ComposeResult:
        yield self.list_table(COLUMNS, self.ctx.reader.developments, lambda r: str(r.id), "development")

    async def open_existing(self, code: str) -> None:
        """Open the development whose reference is ``code`` (the one an "Add" with it was refused for)."""
        page = await asyncio.to_thread(self.ctx.reader.developments, ListRequest(text=code, limit=1000, want="rows"))
        row = exact(page, code, lambda r: r.reference)
        if row is not None:
            await records.show(self, DEVELOPMENTS, row)

    @on(PagedTable.Opened, "#developments")
    def _open(self, event: PagedTable.Opened) -> None:
        row: DevelopmentRow = event.row
        run_edit(self, lambda: records.show(self, DEVELOPMENTS, row))
