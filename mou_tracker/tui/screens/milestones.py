"""Advisory milestones: the register, and each milestone's detail with its history from the audit trail."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from mou_tracker.read.views import AuditEntry, MilestoneRow
from mou_tracker.services.programme import MILESTONE_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui import records
from mou_tracker.tui.forms import key_values
from mou_tracker.tui.records import RecordActions, RecordKind
from mou_tracker.tui.screens.base import MouScreen, SubScreen, run_edit
from mou_tracker.tui.widgets import Col, PagedTable, Styled

STATUS_HINT = "Moving the due date or moving the status backwards asks for a reason (audit trail)."


def _slippage(r: MilestoneRow) -> Styled:
    n = r.slippage_days
    return (fmt.days(n), "$warning" if n > 0 else "") if n else ("–", "")


COLUMNS: tuple[Col[MilestoneRow], ...] = (
    Col("code", "ID", lambda r: r.code, width=5),
    Col("title", "Title", lambda r: r.title, width=34),
    Col("status", "Status", lambda r: r.status, width=11),
    Col("due_date", "Due", lambda r: r.due_date, width=10),
    Col("original_due_date", "Original due", lambda r: r.original_due_date, width=12),
    Col("", "Slippage", _slippage, right=True, width=9),
    Col("completed_on", "Completed", lambda r: r.completed_on, width=10),
    Col("owner", "Owner", lambda r: r.owner, width=5),
    Col("workstream", "Workstream", lambda r: r.workstream, width=17),
)


MILESTONES: RecordKind[MilestoneRow] = RecordKind(
    noun="milestone", fields=MILESTONE_FIELDS, code=lambda r: r.code, add_title="Add a milestone",
    create=lambda screen, v, r: screen.ctx.services.create_milestone(v, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_milestone(row.code, v, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_milestone(row.code, reason),
    describe=lambda r: r.title, defaults={"status": "Not started"},
    note="The first due date is kept as the original due date (indicator 3.2).", edit_note=STATUS_HINT,
)


class MilestonesScreen(RecordActions, MouScreen):
    MODE = "milestones"
    TABLE = "milestones"
    KIND = MILESTONES
    BINDINGS = [
        Binding("a", "add_record", "Add", tooltip="Add a milestone"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected milestone"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected milestone"),
    ]

    def compose_body(self) -> ComposeResult:
        yield self.list_table(COLUMNS, self.ctx.reader.milestones, lambda r: r.code, "milestone")

    @on(PagedTable.Opened, "#milestones")
    def _open(self, event: PagedTable.Opened) -> None:
        self.app.push_screen(MilestoneDetail(event.row.code))

    async def open_existing(self, code: str) -> None:
        self.app.push_screen(MilestoneDetail(code))


class MilestoneDetail(RecordActions, SubScreen):
    """A milestone: original and current due date, slippage, evidence, and its history timeline."""

    MODE = "milestones"
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        Binding("e", "edit_record", "Edit", tooltip="Edit this milestone (due date changes ask for a reason)"),
        Binding("x", "delete_record", "Delete", tooltip="Delete this milestone"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.milestone: MilestoneRow | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="timeline"):
            yield Static(id="milestone-info", classes="summary")
            yield Label("History (from the audit trail)", classes="panel-title")
            yield Static(id="milestone-history")

    def refresh_data(self) -> None:
        code = self.code
        self.load(lambda: self.ctx.reader.milestone_history(code), self._show, cover=self.query_one("#timeline"))

    def _show(self, found: tuple[MilestoneRow | None, tuple[AuditEntry, ...]]) -> None:
        m, history = found
        if m is None:
            self.set_heading(f"Milestone {self.code} · not found (deleted?)")
            self.milestone = None
            return
        self.milestone = m
        self.set_heading(Content.assemble(("Milestone ", "bold"), (m.code, "bold"), f" · {m.title}"))
        self.query_one("#milestone-info", Static).update(key_values(milestone_facts(m)))
        self.query_one("#milestone-history", Static).update(timeline(history))

    KIND = MILESTONES

    def current_row(self) -> MilestoneRow | None:
        return self.milestone

    def action_delete_record(self) -> None:
        row = self.milestone
        if row is None:
            return

        async def flow() -> None:
            if await records.delete(self, MILESTONES, row):
                self.app.pop_screen()

        run_edit(self, flow)


def milestone_facts(m: MilestoneRow) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Milestone ID", m.code), ("Title", m.title), ("Workstream", m.workstream), ("Owner", m.owner),
        ("Status", m.status), ("Original due date", m.original_due_date), ("Current due date", m.due_date),
        ("Slippage", f"{fmt.days(m.slippage_days)} (current against original due date)"),
    ]
    if m.completed_on is not None:
        late = (m.completed_on - m.original_due_date).days
        verdict = "on time" if late <= 0 else f"{late} day{'s' if late != 1 else ''} after the original due date"
        rows.append(("Completed on", f"{m.completed_on} ({verdict})"))
    rows.append(("Evidence", m.evidence))
    if m.evidence_sha256:
        rows.append(("Evidence SHA-256", m.evidence_sha256))
    return rows


def _value(v: Any) -> str:
    return "(empty)" if v is None or v == "" else str(v)


def timeline(history: tuple[AuditEntry, ...]) -> Content:
    """Every recorded change, oldest first: when, who, what changed (old → new), and why."""
    if not history:
        return Content("No recorded history.")
    lines: list[Content] = []
    verbs = {"create": "created", "update": "changed", "delete": "deleted"}
    for h in history:
        lines.append(Content.assemble((fmt.stamp(h.occurred_at), "bold"), "  ", (h.who, "$accent"), "  ",
                                      (verbs.get(h.action, h.action), "bold")))
        if h.action == "create":
            wanted = ("due_date", "status", "owner", "workstream")
            made = {c.field: c for c in h.changes}
            lines.append(Content("    " + ", ".join(f"{made[k].label} {_value(made[k].new)}" for k in wanted
                                                    if k in made)))
        elif h.action == "update":
            for c in h.visible:
                if c.field == "evidence_sha256":
                    continue
                lines.append(Content.assemble(f"    {c.label}: ", _value(c.old), " → ", (_value(c.new), "bold")))
        if h.reason_category or h.reason_text:
            lines.append(Content.assemble("    reason ", (f"({h.reason_category or 'other'})", "$warning"),
                                          f": {h.reason_text or ''}"))
    return Content("\n").join(lines)
