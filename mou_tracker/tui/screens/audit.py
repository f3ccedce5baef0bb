"""Audit: browse the hash-chained audit trail (who changed what, when and why) and verify it."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import ProgressBar, Static

from mou_tracker.read.labels import INTERNAL, REFERENCE_FIELDS, action_label, change_label, kind_label, record_label
from mou_tracker.read.views import AuditEntry
from mou_tracker.tui import format as fmt
from mou_tracker.tui.screens.base import MouScreen, open_detail, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

COLUMNS: tuple[Col[AuditEntry], ...] = (
    Col("seq", "Seq", lambda r: r.seq, right=True),
    Col("occurred_at", "When (UTC)", lambda r: r.occurred_at.strftime("%Y-%m-%d %H:%M")),
    Col("actor", "Actor", lambda r: r.actor, width=8),
    Col("action", "Action", lambda r: action_label(r.action)),
    Col("entity_kind", "Kind", lambda r: kind_label(r.entity_kind), width=15),
    Col("entity_ref", "Record", lambda r: record_label(r.entity_kind, r.entity_ref), width=14),
    Col("", "Reason", lambda r: r.reason or "", width=12, id="reason", grow=True),
)


def verifier() -> Any:
    """``verify_chain`` when the audit-verification feature is installed, else None."""
    name = "mou_tracker.services.verify"
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return getattr(importlib.import_module(name), "verify_chain", None)
    except ImportError:
        return None


class AuditScreen(MouScreen):
    MODE = "audit"
    TABLE = "events"
    BINDINGS = [
        Binding("v", "verify", "Verify chain", tooltip="Recompute the hash chain and replay it against the tables"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.verify = verifier()

    def compose_body(self) -> ComposeResult:
        yield Static(id="audit-note", classes="summary")
        yield ProgressBar(id="verify-progress", show_eta=False)
        yield PagedTable(COLUMNS, self.ctx.reader.events, lambda r: str(r.seq), noun="event", id="events")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#verify-progress", ProgressBar).display = False
        note = ("Every change, newest first: / filters by actor, action, kind, record or reason; Enter shows "
                "the fields changed and the hashes.")
        if self.ctx.as_of is not None:
            note += f" Only events up to the end of {self.ctx.as_of} are shown."
        if self.verify is None:
            note += " Chain verification is not available in this version yet."
        self.query_one("#audit-note", Static).update(note)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "verify" and self.verify is None:
            return False
        return super().check_action(action, parameters)

    @on(PagedTable.Opened, "#events")
    def _open(self, event: PagedTable.Opened) -> None:
        seq = event.row.seq

        async def flow() -> None:
            detail, names = await asyncio.to_thread(self.ctx.reader.event_detail, seq)
            if detail is not None:
                await open_detail(self, f"Audit event {seq}", event_rows(detail, names), edit=False)

        run_edit(self, flow)

    def action_verify(self) -> None:
        verify = self.verify
        if verify is None:
            return
        note = self.query_one("#audit-note", Static)
        note.update("Verifying the audit chain and replaying it against the tables…")
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        self.load(lambda: self.ctx.reader.verify_chain(progress=progress), self._verified, group="verify")

    def _verified(self, result: Any) -> None:
        self.query_one("#verify-progress", ProgressBar).display = False
        ok = result.ok
        text = Content.assemble(("✓ " if ok else "✗ ", "bold $success" if ok else "bold $error"), result.summary())
        details = list(result.details() or [])
        if details:
            text = Content("\n").join([text, *(Content("  " + str(x)) for x in details[:6])])
        self.query_one("#audit-note", Static).update(text)


def event_rows(r: AuditEntry, names: dict[tuple[str, int], str] | None = None) -> list[tuple[str, Any]]:
    """An event as label/value lines: fields by their labels, other records by their names."""
    names = names or {}
    rows: list[tuple[str, Any]] = [
        ("Sequence", r.seq), ("When", fmt.stamp(r.occurred_at)), ("Actor", r.who),
        ("Action", action_label(r.action)),
        ("Record", f"{kind_label(r.entity_kind)} {record_label(r.entity_kind, r.entity_ref)}"),
        ("Reason", r.reason or None),
    ]

    def shown(attr: str, value: Any) -> Any:
        if attr in INTERNAL and value is not None:
            return INTERNAL[attr]
        kind = REFERENCE_FIELDS.get(attr)
        if kind is not None and isinstance(value, int):
            return names.get((kind, value), f"{kind_label(kind).lower()} no. {value} (no longer recorded)")
        return value

    for c in r.changes:
        label = change_label(r.entity_kind, c.field)
        if r.action == "update":
            rows.append((label, f"{fmt.text(shown(c.field, c.old))} → {fmt.text(shown(c.field, c.new))}"))
        else:
            rows.append((label, shown(c.field, c.new if r.action == "create" else c.old)))
    rows += [("Previous hash", r.prev_hash), ("Hash", r.hash)]
    return rows
