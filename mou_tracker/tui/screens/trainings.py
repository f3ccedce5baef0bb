"""Trainings and their participants (attendances), with the disaggregation by sex and agency."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from mou_tracker.domain.identity import normalise_name, parse_participant_ref
from mou_tracker.errors import MouError
from mou_tracker.read.views import AttendanceRow, Disaggregation, ListRequest, TrainingRow
from mou_tracker.services.programme import ATTENDANCE_FIELDS, TRAINING_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui import records
from mou_tracker.tui.records import RecordActions, RecordKind
from mou_tracker.tui.screens.base import MouScreen, SubScreen, exact, run_edit
from mou_tracker.tui.widgets import Col, PagedTable

TRAINING_COLUMNS: tuple[Col[TrainingRow], ...] = (
    Col("code", "Training ID", lambda r: r.code, width=11),
    Col("end_date", "Ends", lambda r: r.end_date, width=10),
    Col("title", "Title", lambda r: r.title, width=21),
    Col("county", "County", lambda r: r.county, width=10),
    Col("", "People", lambda r: r.participants, right=True, width=6),
    Col("", "F", lambda r: r.women, right=True, width=3),
    Col("", "M", lambda r: r.men, right=True, width=3),
)

ATTENDANCE_COLUMNS: tuple[Col[AttendanceRow], ...] = (
    Col("name", "Name", lambda r: r.name, width=28),
    Col("sex", "Sex", lambda r: r.sex, width=3),
    Col("agency", "Agency", lambda r: r.agency, width=17),
    Col("role", "Role", lambda r: r.role, width=14),
    Col("staff_number", "Staff number", lambda r: r.staff_number, width=12),
    Col("pre_score", "Pre", lambda r: fmt.input_value(r.pre_score) or "–", right=True, width=5),
    Col("post_score", "Post", lambda r: fmt.input_value(r.post_score) or "–", right=True, width=5),
)

IDENTITY_HINT = ("A person is known by staff number, else name and agency; a returning person keeps the name "
                 "recorded first (p on the list edits the person).")
#: what the attendance form edits (the person's own details are edited with "Edit person")
ATTENDANCE_ONLY = ("role", "pre_score", "post_score")
PERSON_FIELDS = tuple(f for f in ATTENDANCE_FIELDS if f.attr in ("name", "sex", "agency", "role", "staff_number"))
SHOWN_TRAININGS = 3


def recognised_line(found: Any, values: dict[str, Any], training_code: str) -> Content:
    """Who the participant form's person is, before anything is saved: a returning participant (recognised
    by staff number, else name and agency) with their recorded name, agency and trainings attended."""
    if found is None:
        if values.get("name") or values.get("staff_number"):
            return Content.styled("New person: not recognised by staff number, nor by name and agency.",
                                  "$text-muted")
        return Content("")
    trainings = tuple(found.trainings)
    latest = trainings[::-1][:SHOWN_TRAININGS]  # the most recent first
    attended = "; ".join(f"{code} {title} ({end})" for code, title, end in latest)
    if len(trainings) > SHOWN_TRAININGS:
        attended += f"; and {len(trainings) - SHOWN_TRAININGS} earlier"
    parts = [Content.assemble(("Recognised: ", "bold"), (found.name, "bold"),
                              f" ({found.agency or '–'}, {found.ref}) · attended "
                              f"{fmt.count(len(trainings), 'training')}: {attended or '–'}")]
    if training_code in {code for code, _title, _end in trainings}:
        parts.append(Content.styled(f"Already on {training_code}: adding them again is refused; e edits their "
                                    "attendance.", "$error"))
    elif values.get("name") and normalise_name(str(values["name"])) != normalise_name(found.name):
        parts.append(Content.styled(f"Saving adds {found.name} (the recorded name is kept; p on the list edits "
                                    "the person).", "$warning"))
    return Content("\n").join(parts)


def disaggregation_line(d: Disaggregation, one: str, many: str) -> Content:
    """'1 participant: F 1 | ODPP 1', '374 people trained: …' (``one`` and ``many``: the noun for 1 and for more)."""
    if not d.total:
        return Content(f"No {many} yet.")
    sexes = " · ".join(f"{s} {n}" for s, n in d.by_sex)
    agencies = " · ".join(f"{a} {n}" for a, n in d.by_agency)
    return Content.assemble((f"{d.total:,} {one if d.total == 1 else many}", "bold"), f": {sexes}  |  {agencies}")


def _delete_training_note(r: TrainingRow) -> str:
    people = f" and its {fmt.count(r.participants, 'attendance')}" if r.participants else ""
    return f"{r.title}, ending {r.end_date}. This removes the training{people}; the audit trail keeps them."


TRAININGS: RecordKind[TrainingRow] = RecordKind(
    noun="training", fields=TRAINING_FIELDS, code=lambda r: r.code, add_title="Add a training",
    create=lambda screen, v, r: screen.ctx.services.create_training(v, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_training(row.code, v, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_training(row.code, reason),
    describe=_delete_training_note,
)


def _recognise(screen: Any) -> Any:
    """As the participant form is typed: who the person is (a returning participant), before any save."""
    services, code = screen.ctx.services, screen.code

    def recognise(values: dict[str, Any]) -> Content:
        if not (values.get("name") or values.get("staff_number")):
            return Content("")
        try:
            found = services.recognise_participant({**values, "training_code": code})
        except MouError:
            return Content("")  # not enough typed yet to tell; the save checks everything
        return recognised_line(found, values, code)

    return recognise


#: a participant's attendance of the training the screen shows (``screen.code``)
ATTENDANCES: RecordKind[AttendanceRow] = RecordKind(
    noun="attendance", fields=ATTENDANCE_FIELDS, code=lambda r: "", skip=("training_code",),
    add_title="Add a participant",
    create=lambda screen, v, r: screen.ctx.services.add_attendance({**v, "training_code": screen.code}, r),
    update=lambda screen, row, v, r: screen.ctx.services.update_attendance(
        screen.code, row.participant_id, {k: v[k] for k in ATTENDANCE_ONLY}, r),
    delete=lambda screen, row, reason: screen.ctx.services.remove_attendance(screen.code, row.participant_id, reason),
    values=lambda screen, row: row.values(screen.code),
    locked=tuple(f.attr for f in ATTENDANCE_FIELDS if f.attr not in ATTENDANCE_ONLY),
    edit_title=lambda screen, r: f"Edit {r.name}'s attendance of {screen.code}",
    edit_note="p on the list edits the person's own details.",
    lookup=_recognise,
)
#: the person behind an attendance, edited everywhere they appear (the only way a recorded name changes)
PERSONS: RecordKind[AttendanceRow] = RecordKind(
    noun="person", fields=PERSON_FIELDS, code=lambda r: r.name, locked=(),
    update=lambda screen, row, v, r: screen.ctx.services.update_participant(row.participant_id, v, r),
    values=lambda screen, row: {f.attr: getattr(row, f.attr) for f in PERSON_FIELDS},
    edit_title=lambda screen, r: f"Edit {r.name} (everywhere, not only on {screen.code})",
    edit_note="This changes the person in every training they attended. A new name asks for a reason (audit trail).",
)


class TrainingsScreen(RecordActions, MouScreen):
    MODE = "trainings"
    TABLE = "trainings"
    KIND = TRAININGS
    BINDINGS = [
        Binding("a", "add_record", "Add", tooltip="Add a training"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected training"),
        Binding("x", "delete_record", "Delete", tooltip="Delete the selected training and its attendances"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="disaggregation", classes="summary")
        yield self.list_table(TRAINING_COLUMNS, self.ctx.reader.trainings, lambda r: r.code, "training")

    def refresh_data(self) -> None:
        super().refresh_data()
        self.load(self.ctx.reader.disaggregation,
                  lambda d: self.query_one("#disaggregation", Static).update(
                      disaggregation_line(d, "person trained", "people trained")), group="summary")

    @on(PagedTable.Opened, "#trainings")
    def _open(self, event: PagedTable.Opened) -> None:
        self.app.push_screen(TrainingDetail(event.row.code))

    async def added(self, result: Any) -> None:
        self.app.push_screen(TrainingDetail(result.obj.code, add_first=True))

    async def open_existing(self, code: str) -> None:
        self.app.push_screen(TrainingDetail(code))


class TrainingDetail(RecordActions, SubScreen):
    """One training: its details, its participants and their disaggregation."""

    MODE = "trainings"
    TABLE = "attendances"
    KIND = ATTENDANCES
    BINDINGS = [
        Binding("a", "add_participant", "Add", tooltip="Record a participant's attendance"),
        Binding("e", "edit_record", "Edit", tooltip="Edit the selected attendance (scores, role)"),
        Binding("p", "edit_person", "Person", tooltip="Edit the selected person (name, sex, agency, staff "
                "number; a new name needs a reason)"),
        Binding("x", "delete_record", "Remove", tooltip="Remove the selected attendance"),
        Binding("t", "edit_training", "Training", show=False, tooltip="Edit this training's details"),
    ]

    def __init__(self, code: str, *, add_first: bool = False) -> None:
        super().__init__()
        self.code = code
        self.training: TrainingRow | None = None
        self.add_first = add_first

    def compose_body(self) -> ComposeResult:
        yield Static(id="training-info", classes="summary")
        yield Static(id="training-people", classes="summary")
        yield PagedTable(ATTENDANCE_COLUMNS, None, lambda r: str(r.participant_id), noun="participant",
                         id="attendances")

    def refresh_data(self) -> None:
        code = self.code
        self.load(lambda: self.ctx.reader.training_detail(code), self._show)

    def _show(self, found: tuple[TrainingRow | None, Disaggregation | None]) -> None:
        t, people = found
        if t is None:
            self.set_heading(f"Training {self.code} · not found (deleted?)")
            return
        self.training = t
        self.set_heading(Content.assemble(("Training ", "bold"), (t.code, "bold"), f" · {t.title}"))
        self.query_one("#training-info", Static).update(Content.assemble(
            f"{t.start_date} – {t.end_date} · {t.county}" + (f" ({t.venue})" if t.venue else ""),
            f" · {t.delivery or '–'} · lead {t.lead or '–'} · cost "
            f"{(t.currency or '') + ' ' + fmt.money(t.cost) if t.cost is not None else '–'} · topic {t.topic}"))
        if people is not None:
            line = disaggregation_line(people, "participant", "participants")
            self.query_one("#training-people", Static).update(line)
        table = self.table
        if table.fetch is None:
            tid = t.id
            table.fetch = lambda req: self.ctx.reader.attendances(tid, req)
        table.reload()
        if self.add_first and not self.ctx.read_only:
            self.add_first = False
            self.action_add_participant()

    def action_add_participant(self) -> None:
        """Participants one after another (the register being typed in), until Esc."""

        async def flow() -> None:
            added = 0
            opened: list[str] = []

            async def open_existing(ref: str) -> None:
                opened.append(ref)
                await self._open_attendance(ref)

            while not opened:
                note = (f"{added} added. Add the next participant, or Esc when done." if added else
                        "Esc when done. " + IDENTITY_HINT)
                kind = replace(ATTENDANCES, add_title=f"Add a participant to {self.code}")
                if await records.add(self, kind, open_existing=open_existing, note=note) is None:
                    break
                added += 1
                self.refresh_data()

        run_edit(self, flow)

    async def _open_attendance(self, ref: str) -> None:
        """Open the attendance an "Add" was refused for (``ref`` is ``<training>/P-<id>`` or ``P-<id>``)."""
        participant_id = parse_participant_ref(ref.rsplit("/", 1)[-1])
        if participant_id is None or self.training is None:
            return
        tid = self.training.id
        page = await asyncio.to_thread(self.ctx.reader.attendances, tid, ListRequest(limit=100_000, want="rows"))
        row = exact(page, participant_id, lambda r: r.participant_id)
        if row is not None:
            await records.edit(self, ATTENDANCES, row)

    def action_edit_person(self) -> None:
        self.act_on_current(lambda row: records.edit(self, PERSONS, row))

    def action_edit_training(self) -> None:
        if self.training is not None:
            training = self.training
            run_edit(self, lambda: records.edit(self, TRAININGS, training))
