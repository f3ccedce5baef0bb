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

from mou_tracker.services import queries
from mou_tracker.services.queries import AuditDetail, AuditRow
from mou_tracker.tui import format as fmt
from mou_tracker.tui.screens.base import MouScreen, open_detail, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

COLUMNS: tuple[Col[AuditRow], ...] = (
    Col("seq", "Seq", lambda r: r.seq, right=True, width=7),
    Col("occurred_at", "When (UTC)", lambda r: r.occurred_at.strftime("%Y-%m-%d %H:%M"), width=16),
    Col("actor", "Actor", lambda r: r.actor, width=10),
    Col("action", "Action", lambda r: r.action, width=6),
    Col("entity_kind", "Kind", lambda r: r.entity_kind, width=11),
    Col("entity_ref", "Record", lambda r: r.entity_ref, width=18),
    Col("", "Reason", lambda r: r.reason, width=40, id="reason"),
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
        pid, source = self.ctx.partnership_id, self.ctx.source
        yield PagedTable(COLUMNS, lambda req: source.read_audit(
            lambda s: queries.audit_events(s, pid, req, until=source.until)), lambda r: str(r.seq),
            noun="events", id="events")

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
            detail = await asyncio.to_thread(self.ctx.source.read_audit, lambda s: queries.audit_event(s, seq))
            if detail is not None:
                await open_detail(self, f"Audit event {seq}", event_rows(detail), edit=False)

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

        self.load(lambda: verify(self.ctx.db, progress=progress), self._verified, group="verify")

    def _verified(self, result: Any) -> None:
        self.query_one("#verify-progress", ProgressBar).display = False
        ok = result.ok
        text = Content.assemble(("✓ " if ok else "✗ ", "bold $success" if ok else "bold $error"), result.summary())
        details = list(result.details() or [])
        if details:
            text = Content("\n").join([text, *(Content("  " + str(x)) for x in details[:6])])
        self.query_one("#audit-note", Static).update(text)


def event_rows(d: AuditDetail) -> list[tuple[str, Any]]:
    r = d.row
    rows: list[tuple[str, Any]] = [
        ("Sequence", r.seq), ("When", fmt.stamp(r.occurred_at)), ("Actor", r.actor), ("Action", r.action),
        ("Record", f"{r.entity_kind} {r.entity_ref or ''}".strip()), ("Reason", r.reason or None),
    ]
    for c in d.changes:
        if r.action == "update":
            rows.append((c.field, f"{fmt.text(c.old)} → {fmt.text(c.new)}"))
        else:
            rows.append((c.field, c.new if r.action == "create" else c.old))
    rows += [("Previous hash", d.prev_hash), ("Hash", d.hash)]
    return rows
