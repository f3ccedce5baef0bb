"""Trainings and their participants (attendances), with the disaggregation by sex and agency."""

from __future__ import annotations

import asyncio
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
from mou_tracker.tui.forms import form_fields
from mou_tracker.tui.screens.base import MouScreen, SubScreen, add_form, exact, open_form, run_edit
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


class TrainingsScreen(MouScreen):
    MODE = "trainings"
    TABLE = "trainings"
    BINDINGS = [
        Binding("a", "add_training", "Add", tooltip="Add a training"),
        Binding("e", "edit_training", "Edit", tooltip="Edit the selected training"),
        Binding("x", "delete_training", "Delete", tooltip="Delete the selected training and its attendances"),
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

    def action_add_training(self) -> None:
        async def flow() -> None:
            result = await add_form(self, "Add a training", form_fields(TRAINING_FIELDS), {},
                                    lambda v, r: self.ctx.services.create_training(v, r),
                                    open_existing=self._open_code)
            if result is not None:
                self.refresh_data()
                self.app.push_screen(TrainingDetail(result.obj.code, add_first=True))

        run_edit(self, flow)

    async def _open_code(self, code: str) -> None:
        self.app.push_screen(TrainingDetail(code))

    def action_edit_training(self) -> None:
        self.act_on_current(lambda row: edit_training(self, row))

    def action_delete_training(self) -> None:
        self.act_on_current(self._delete)

    async def _delete(self, row: TrainingRow) -> None:
        people = f" and its {fmt.count(row.participants, 'attendance')}" if row.participants else ""
        if await self.mou.confirm_delete(
                f"training {row.code}", f"{row.title}, ending {row.end_date}. This removes the training{people}; "
                "the audit trail keeps them.", lambda reason: self.ctx.services.delete_training(row.code, reason)):
            self.refresh_data()


async def edit_training(screen: MouScreen, row: TrainingRow) -> bool:
    result = await open_form(screen, f"Edit training {row.code}", form_fields(TRAINING_FIELDS, locked=("code",)),
                             row.values(), lambda v, r: screen.ctx.services.update_training(row.code, v, r))
    if result is not None:
        screen.refresh_data()
    return result is not None


class TrainingDetail(SubScreen):
    """One training: its details, its participants and their disaggregation."""

    MODE = "trainings"
    TABLE = "attendances"
    BINDINGS = [
        Binding("a", "add_participant", "Add participant", tooltip="Record a participant's attendance"),
        Binding("e", "edit_participant", "Edit", tooltip="Edit the selected attendance (scores, role)"),
        Binding("p", "edit_person", "Edit person", tooltip="Edit the selected person (name, sex, agency, staff "
                "number; a new name needs a reason)"),
        Binding("x", "remove_participant", "Remove", tooltip="Remove the selected attendance"),
        Binding("t", "edit_training", "Edit training", tooltip="Edit this training's details"),
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
        services, code = self.ctx.services, self.code

        def recognise(values: dict[str, Any]) -> Content:
            if not (values.get("name") or values.get("staff_number")):
                return Content("")
            try:
                found = services.recognise_participant({**values, "training_code": code})
            except MouError:
                return Content("")  # not enough typed yet to tell; the save checks everything
            return recognised_line(found, values, code)

        async def flow() -> None:
            added = 0
            opened: list[str] = []

            async def open_existing(ref: str) -> None:
                opened.append(ref)
                await self._open_attendance(ref)

            while not opened:
                note = (f"{added} added. Add the next participant, or Esc when done." if added else
                        "Esc when done. " + IDENTITY_HINT)
                result = await add_form(self, f"Add a participant to {code}",
                                        form_fields(ATTENDANCE_FIELDS, skip=("training_code",)), {},
                                        lambda v, r: services.add_attendance({**v, "training_code": code}, r),
                                        open_existing=open_existing, note=note, lookup=recognise)
                if result is None:
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
            await self._edit_participant(row)

    def action_edit_participant(self) -> None:
        self.act_on_current(self._edit_participant)

    async def _edit_participant(self, row: AttendanceRow) -> None:
        before = row.values(self.code)
        services, code = self.ctx.services, self.code
        if await open_form(self, f"Edit {row.name}'s attendance of {code}",
                           form_fields(ATTENDANCE_FIELDS, skip=("training_code",),
                                       locked=tuple(f.attr for f in ATTENDANCE_FIELDS
                                                    if f.attr not in ATTENDANCE_ONLY)),
                           before, lambda v, r: services.update_attendance(
                               code, row.participant_id, {k: v[k] for k in ATTENDANCE_ONLY}, r),
                           note="p on the list edits the person's own details."):
            self.refresh_data()

    def action_edit_person(self) -> None:
        self.act_on_current(self._edit_person)

    async def _edit_person(self, row: AttendanceRow) -> None:
        """The explicit edit of a person: the only way a recorded name changes (with a reason)."""
        services = self.ctx.services
        values = {f.attr: getattr(row, f.attr) for f in PERSON_FIELDS}
        if await open_form(self, f"Edit {row.name} (everywhere, not only on {self.code})", form_fields(PERSON_FIELDS),
                           values, lambda v, r: services.update_participant(row.participant_id, v, r),
                           note="This changes the person in every training they attended. A new name asks for a "
                                "reason (audit trail)."):
            self.refresh_data()

    def action_remove_participant(self) -> None:
        self.act_on_current(self._remove_participant)

    async def _remove_participant(self, row: AttendanceRow) -> None:
        services, code = self.ctx.services, self.code
        if await self.mou.confirm_delete(
                f"{row.name}'s attendance", f"{row.name} ({row.agency}) will no longer count as attending {code}.",
                lambda reason: services.remove_attendance(code, row.participant_id, reason)):
            self.refresh_data()

    def action_edit_training(self) -> None:
        if self.training is not None:
            training = self.training
            run_edit(self, lambda: edit_training(self, training))

