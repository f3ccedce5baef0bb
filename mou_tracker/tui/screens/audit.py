"""Audit: browse the hash-chained audit trail (who changed what, when and why) and verify it."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from typing import Any

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import ProgressBar, Static

from mou_tracker.db.models import ENTITY_MODELS
from mou_tracker.domain.identity import participant_ref
from mou_tracker.services import queries
from mou_tracker.services.audit_log import field_label
from mou_tracker.services.queries import AuditDetail, AuditRow, FieldChange
from mou_tracker.tui import format as fmt
from mou_tracker.tui.screens.base import MouScreen, open_detail, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

#: what each kind of record is called on screen
KIND_LABELS = {
    "partnership": "Partnership", "party": "Party", "user": "User", "indicator": "Indicator", "target": "Target",
    "result": "Indicator value", "narrative": "Narrative", "training": "Training", "participant": "Participant",
    "attendance": "Attendance", "engagement": "Support", "milestone": "Milestone", "grant": "Grant",
    "budget_line": "Budget line", "disbursement": "Disbursement", "expenditure": "Expenditure",
    "period_signoff": "Sign-off", "period_lock": "Period lock", "restatement": "Restatement",
}
ACTION_LABELS = {"create": "added", "update": "changed", "delete": "deleted", "erase": "erased"}
#: fields that point at another record (shown by that record's name) and internal ones (never shown as stored)
REFERENCE_FIELDS = {"training_id": "training", "participant_id": "participant", "indicator_id": "indicator",
                    "partnership_id": "partnership", "grant_id": "grant", "budget_line_id": "budget_line",
                    "engagement_id": "engagement", "milestone_id": "milestone", "party_id": "party"}
FIELD_LABELS = {"key": "Identity key", "chain_head": "Audit-chain head", "chain_seq": "Audit-chain event",
                "figures": "Figures signed", "amount_grant": "Amount in grant currency",
                "evidence_sha256": "Evidence SHA-256", "key_fingerprint": "Key fingerprint"}
INTERNAL = {"key": "(derived from the name and agency; not shown)"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def record_label(kind: str, ref: str | None) -> str:
    """A record as people name it: 'TR-2025-001 / P-4', 'OC1, 2025-Q2', 'HTI, 2026-Q3'."""
    if not ref:
        return "–"
    if "@" in ref:
        head, _, period = ref.partition("@")
        return f"{head.upper() if kind in ('period_signoff', 'party') else head}, {period}"
    return ref.replace("/", " / ")


def change_label(kind: str, attr: str) -> str:
    if attr in REFERENCE_FIELDS:
        return kind_label(REFERENCE_FIELDS[attr])
    return FIELD_LABELS.get(attr) or field_label(kind, attr)


COLUMNS: tuple[Col[AuditRow], ...] = (
    Col("seq", "Seq", lambda r: r.seq, right=True),
    Col("occurred_at", "When (UTC)", lambda r: r.occurred_at.strftime("%Y-%m-%d %H:%M")),
    Col("actor", "Actor", lambda r: r.actor, width=8),
    Col("action", "Action", lambda r: action_label(r.action)),
    Col("entity_kind", "Kind", lambda r: kind_label(r.entity_kind), width=15),
    Col("entity_ref", "Record", lambda r: record_label(r.entity_kind, r.entity_ref), width=14),
    Col("", "Reason", lambda r: r.reason, width=12, id="reason", grow=True),
)


def record_names(session: Session, changes: tuple[FieldChange, ...]) -> dict[tuple[str, int], str]:
    """The names (codes) of the records an event's changes point at, e.g. ("training", 41) -> TR-2026-001.
    A record since deleted keeps its number only."""
    names: dict[tuple[str, int], str] = {}
    for c in changes:
        kind = REFERENCE_FIELDS.get(c.field)
        if kind is None:
            continue
        for value in (c.old, c.new):
            if not isinstance(value, int) or isinstance(value, bool) or (kind, value) in names:
                continue
            if kind == "participant":
                names[kind, value] = participant_ref(value)
                continue
            record = session.get(ENTITY_MODELS[kind], value)
            code = getattr(record, "code", None) if record is not None else None
            if code is not None:
                names[kind, value] = str(code).upper() if kind == "party" else str(code)
    return names


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
            noun="event", id="events")

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
            def read(s: Session) -> tuple[AuditDetail | None, dict[tuple[str, int], str]]:
                detail = queries.audit_event(s, seq)
                return detail, record_names(s, detail.changes) if detail is not None else {}

            detail, names = await asyncio.to_thread(self.ctx.source.read_audit, read)
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

        self.load(lambda: verify(self.ctx.db, progress=progress), self._verified, group="verify")

    def _verified(self, result: Any) -> None:
        self.query_one("#verify-progress", ProgressBar).display = False
        ok = result.ok
        text = Content.assemble(("✓ " if ok else "✗ ", "bold $success" if ok else "bold $error"), result.summary())
        details = list(result.details() or [])
        if details:
            text = Content("\n").join([text, *(Content("  " + str(x)) for x in details[:6])])
        self.query_one("#audit-note", Static).update(text)


def event_rows(d: AuditDetail, names: dict[tuple[str, int], str] | None = None) -> list[tuple[str, Any]]:
    """An event as label/value lines: fields by their labels, other records by their names."""
    names = names or {}
    r = d.row
    rows: list[tuple[str, Any]] = [
        ("Sequence", r.seq), ("When", fmt.stamp(r.occurred_at)), ("Actor", r.actor),
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

    for c in d.changes:
        label = change_label(r.entity_kind, c.field)
        if r.action == "update":
            rows.append((label, f"{fmt.text(shown(c.field, c.old))} → {fmt.text(shown(c.field, c.new))}"))
        else:
            rows.append((label, shown(c.field, c.new if r.action == "create" else c.old)))
    rows += [("Previous hash", d.prev_hash), ("Hash", d.hash)]
    return rows
