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
from mou_tracker.tui.forms import form_fields, key_values
from mou_tracker.tui.screens.base import MouScreen, SubScreen, add_form, open_form, run_edit
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


class MilestonesScreen(MouScreen):
    MODE = "milestones"
    TABLE = "milestones"
    BINDINGS = [
        Binding("a", "add_milestone", "Add", tooltip="Add a milestone"),
        Binding("e", "edit_milestone", "Edit", tooltip="Edit the selected milestone"),
        Binding("x", "delete_milestone", "Delete", tooltip="Delete the selected milestone"),
    ]

    def compose_body(self) -> ComposeResult:
        yield self.list_table(COLUMNS, self.ctx.reader.milestones, lambda r: r.code, "milestone")

    @on(PagedTable.Opened, "#milestones")
    def _open(self, event: PagedTable.Opened) -> None:
        self.app.push_screen(MilestoneDetail(event.row.code))

    def action_add_milestone(self) -> None:
        async def flow() -> None:
            if await add_form(self, "Add a milestone", form_fields(MILESTONE_FIELDS), {"status": "Not started"},
                              lambda v, r: self.ctx.services.create_milestone(v, r), open_existing=self._open_code,
                              note="The first due date is kept as the original due date (indicator 3.2)."):
                self.refresh_data()

        run_edit(self, flow)

    async def _open_code(self, code: str) -> None:
        self.app.push_screen(MilestoneDetail(code))

    def action_edit_milestone(self) -> None:
        self.act_on_current(lambda row: edit_milestone(self, row))

    def action_delete_milestone(self) -> None:
        self.act_on_current(lambda row: delete_milestone(self, row))


async def edit_milestone(screen: MouScreen, row: MilestoneRow) -> bool:
    result = await open_form(screen, f"Edit milestone {row.code}", form_fields(MILESTONE_FIELDS, locked=("code",)),
                             row.values(), lambda v, r: screen.ctx.services.update_milestone(row.code, v, r),
                             note=STATUS_HINT)
    if result is not None:
        screen.refresh_data()
    return result is not None


async def delete_milestone(screen: MouScreen, row: MilestoneRow) -> bool:
    done = await screen.mou.confirm_delete(f"milestone {row.code}", row.title,
                                           lambda reason: screen.ctx.services.delete_milestone(row.code, reason))
    if done:
        screen.refresh_data()
    return done


class MilestoneDetail(SubScreen):
    """A milestone: original and current due date, slippage, evidence, and its history timeline."""

    MODE = "milestones"
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        Binding("e", "edit_milestone", "Edit", tooltip="Edit this milestone (due date changes ask for a reason)"),
        Binding("x", "delete_milestone", "Delete", tooltip="Delete this milestone"),
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

    def action_edit_milestone(self) -> None:
        if self.milestone is not None:
            row = self.milestone
            run_edit(self, lambda: edit_milestone(self, row))

    def action_delete_milestone(self) -> None:
        if self.milestone is None:
            return
        row = self.milestone

        async def flow() -> None:
            if await delete_milestone(self, row):
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
