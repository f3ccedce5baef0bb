"""Trainings, the people trained and their attendance.

Rules kept here (docs/reference/indicators.md, docs/reference/import-format.md): adding a training whose ID
exists is refused; adding a person who is already on the training is refused; a person recognised by identity
(staff number, else name + agency) keeps the name recorded first, and their sex, agency, role and name change
only by an explicit edit of the person (``update_participant``; a name change needs a reason). Participants
appear in the audit trail as ``P-<id>``, attendances as ``<training code>/P-<id>``. """

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import Attendance, Expenditure, Participant, Training
from mou_tracker.domain.identity import normalise_name, normalise_staff_number, participant_key, participant_ref
from mou_tracker.errors import AlreadyExists, NotFound, Problem, ReasonRequired, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.fields import parse_fields
from mou_tracker.services.records import ATTENDANCE_FIELDS, PARTICIPANT_FIELDS, TRAINING_FIELDS
from mou_tracker.services.unit_of_work import SaveResult, UnitOfWork

SCORES = ("pre_score", "post_score")


@dataclass(frozen=True)
class RecognisedParticipant:
    """A person already recorded whom new input names (same staff number, or same name and agency), shown
    before anything is saved: who they are and which trainings they attended."""

    participant_id: int
    ref: str
    name: str
    sex: str
    agency: str
    role: str | None
    #: (training code, title, end date), oldest first
    trainings: tuple[tuple[str, str, date], ...]


def attendance_ref(training_code: str, participant_id: int) -> str:
    return f"{training_code}/{participant_ref(participant_id)}"


def one_spacing(name: str) -> str:
    return " ".join(str(name).split())


class TrainingWrites(ServiceCore):
    # Trainings ----------------------------------------------------------------------------------------------
    def _training_data(self, values: Mapping[str, Any], problems: list[Problem], notes: list[str]
                       ) -> dict[str, Any]:
        data, found = parse_fields(self.local(TRAINING_FIELDS), dict(values), notes=notes)
        problems += found
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            problems.append(Problem("End date", f"{data['end_date']} is before the start date {data['start_date']}"))
        return data

    def create_training(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add a training; refused (AlreadyExists, the next free ID proposed) when its ID is taken."""
        problems: list[Problem] = []
        notes: list[str] = []
        data = self._training_data(values, problems, notes)
        with self.unit_of_work() as uow:
            if data.get("code"):
                notes += self._refuse_taken(uow, Training, "training", "Training ID", data["code"], also=problems)
            raise_problems(problems)
            result = uow.create("training", Training(partnership_id=self.partnership_id, **data), data["code"],
                                self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_training(self, code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Change a training (every field given; its ID stays ``code``)."""
        problems: list[Problem] = []
        notes: list[str] = []
        data = self._training_data({**dict(values), "code": code}, problems, notes)
        with self.unit_of_work() as uow:
            t = self._get(uow, Training, code, "training")
            raise_problems(problems)
            result = uow.update("training", t, data, t.code, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def delete_training(self, code: str, reason: Reason | None) -> None:
        """Delete a training and its attendances (each audited). Refused while expenditures link to it."""
        with self.unit_of_work() as uow:
            t = self._get(uow, Training, code, "training")
            if reason is None:
                raise ReasonRequired(Problem("Reason", f"deleting training {code} needs a reason"))
            linked = uow.session.execute(select(func.count(Expenditure.id))
                                         .where(Expenditure.training_id == t.id)).scalar_one()
            if linked:
                raise ValidationError(Problem("Training ID", f"{linked} expenditure(s) link to training {code}; "
                                                             "unlink them first"))
            for a in uow.session.execute(select(Attendance).where(Attendance.training_id == t.id)).scalars().all():
                uow.delete("attendance", a, attendance_ref(code, a.participant_id), self.partnership_id, reason)
            uow.delete("training", t, code, self.partnership_id, reason)
            uow.commit()

    # People -------------------------------------------------------------------------------------------------
    def _person_by_key(self, uow: UnitOfWork, key: str) -> Participant | None:
        return uow.session.execute(select(Participant).where(Participant.partnership_id == self.partnership_id,
                                                             Participant.key == key)).scalar()

    def _person(self, uow: UnitOfWork, participant_id: int) -> Participant:
        person = uow.session.get(Participant, participant_id)
        if person is None or person.partnership_id != self.partnership_id:
            raise NotFound(f"no participant {participant_ref(participant_id)}")
        return person

    def recognise_participant(self, values: Mapping[str, Any]) -> RecognisedParticipant | None:
        """The person already recorded that ``values`` (name, agency, staff number) names, or None. Read only:
        a form shows who was recognised before anything is saved."""
        name, agency = values.get("name"), values.get("agency")
        staff = values.get("staff_number")
        data, _problems = parse_fields(ATTENDANCE_FIELDS, {"name": name, "agency": agency, "staff_number": staff},
                                       partial=True)
        if not normalise_staff_number(data.get("staff_number")) and not (data.get("name") and data.get("agency")):
            return None
        key = participant_key(data.get("name") or "", data.get("agency") or "", data.get("staff_number"))
        with self.db.reading() as s:
            person = s.execute(select(Participant).where(Participant.partnership_id == self.partnership_id,
                                                         Participant.key == key)).scalar()
            if person is None:
                return None
            attended = s.execute(select(Training.code, Training.title, Training.end_date)
                                 .join(Attendance, Attendance.training_id == Training.id)
                                 .where(Attendance.participant_id == person.id)
                                 .order_by(Training.end_date, Training.code)).all()
            return RecognisedParticipant(person.id, participant_ref(person.id), person.name, person.sex,
                                         person.agency, person.role, tuple((c, t, d) for c, t, d in attended))

    def _new_person(self, uow: UnitOfWork, data: Mapping[str, Any], key: str) -> Participant:
        pid = self.partnership_id
        person = Participant(partnership_id=pid, key=key, name=one_spacing(data["name"]), sex=data["sex"],
                             agency=data["agency"], role=data.get("role"),
                             staff_number=normalise_staff_number(data.get("staff_number")))
        uow.session.add(person)
        uow.session.flush()  # its id makes its pseudonymous reference
        uow.create("participant", person, participant_ref(person.id), pid)
        return person

    def update_participant(self, participant_id: int, values: Mapping[str, Any],
                           reason: Reason | None = None) -> SaveResult:
        """The explicit edit of a person: name, sex, agency, role, staff number (only the fields given).
        A name change needs a reason; a change that makes them the same person as another is refused."""
        data, problems = parse_fields(PARTICIPANT_FIELDS, dict(values), partial=True)
        raise_problems(problems)
        with self.unit_of_work() as uow:
            person = self._person(uow, participant_id)
            ref = participant_ref(person.id)
            changes: dict[str, Any] = {}
            why: list[str] = []
            if "name" in data and one_spacing(data["name"]) != person.name:
                changes["name"] = one_spacing(data["name"])
                why.append(f"renaming participant {ref}")
            for attr in ("sex", "agency", "role"):
                if attr in data:
                    changes[attr] = data[attr]
            if "staff_number" in data:
                changes["staff_number"] = normalise_staff_number(data["staff_number"])
            merged = {"name": person.name, "agency": person.agency, "staff_number": person.staff_number, **changes}
            key = participant_key(merged["name"], merged["agency"], merged["staff_number"])
            if key != person.key:
                other = self._person_by_key(uow, key)
                if other is not None and other.id != person.id:
                    raise AlreadyExists(Problem("Staff number" if merged["staff_number"] else "Name",
                                                f"would make this person the same as participant "
                                                f"{participant_ref(other.id)}; two records cannot be one person"),
                                        kind="participant", code=participant_ref(other.id))
                changes["key"] = key
            result = uow.update("participant", person, changes, ref, self.partnership_id, reason, why)
            uow.commit()
            return result

    # Attendance ---------------------------------------------------------------------------------------------
    def add_attendance(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add one person to a training, creating the person when new.

        A person recognised by identity is attached as recorded (their name, sex, agency and role are kept;
        the notes say what differed). A person already on the training is refused (AlreadyExists)."""
        data, problems = parse_fields(ATTENDANCE_FIELDS, dict(values))
        with self.unit_of_work() as uow:
            training = None
            if data.get("training_code"):
                training = self._find(uow, Training, data["training_code"])
                if training is None:
                    problems.append(Problem("Training ID", f"no training '{data['training_code']}'"))
            raise_problems(problems)
            key = participant_key(data["name"], data["agency"], data["staff_number"])
            person = self._person_by_key(uow, key)
            notes: list[str] = []
            if person is None:
                person = self._new_person(uow, data, key)
            else:
                notes += _kept_notes(person, data)
                on = uow.session.execute(select(Attendance.id).where(Attendance.training_id == training.id,
                                                                     Attendance.participant_id == person.id))
                if on.scalar() is not None:
                    ref = attendance_ref(training.code, person.id)
                    raise AlreadyExists(Problem("Name", f"{person.name} ({participant_ref(person.id)}) is already "
                                                        f"on training {training.code}; open the attendance to "
                                                        "change the scores"),
                                        kind="attendance", code=ref)
            att = Attendance(training_id=training.id, participant_id=person.id,
                             **{a: data[a] for a in SCORES})
            result = uow.create("attendance", att, attendance_ref(training.code, person.id), self.partnership_id,
                                reason)
            result.notes += notes
            uow.commit()
            return result

    def _attendance(self, uow: UnitOfWork, training_code: str, participant_id: int) -> tuple[Training, Attendance]:
        training = self._find(uow, Training, training_code)
        att = None if training is None else uow.session.execute(
            select(Attendance).where(Attendance.training_id == training.id,
                                     Attendance.participant_id == participant_id)).scalar()
        if att is None:
            raise NotFound(f"participant {participant_ref(participant_id)} did not attend training '{training_code}'")
        return training, att

    def update_attendance(self, training_code: str, participant_id: int, values: Mapping[str, Any],
                          reason: Reason | None = None) -> SaveResult:
        """Change one attendance's pre/post scores (those given); a ``role`` given changes the person's role."""
        fields = tuple(f for f in ATTENDANCE_FIELDS if f.attr in (*SCORES, "role"))
        data, problems = parse_fields(fields, dict(values), partial=True)
        raise_problems(problems)
        with self.unit_of_work() as uow:
            training, att = self._attendance(uow, training_code, participant_id)
            role = data.pop("role", None) if "role" in data else ...
            result = uow.update("attendance", att, data, attendance_ref(training.code, participant_id),
                                self.partnership_id, reason)
            if role is not ...:
                person = self._person(uow, participant_id)
                moved = uow.update("participant", person, {"role": role}, participant_ref(person.id),
                                   self.partnership_id, reason)
                if moved.action == "updated":
                    result = SaveResult(att, "updated", {**result.changes, **moved.changes})
            uow.commit()
            return result

    def remove_attendance(self, training_code: str, participant_id: int, reason: Reason | None) -> None:
        with self.unit_of_work() as uow:
            training, att = self._attendance(uow, training_code, participant_id)
            uow.delete("attendance", att, attendance_ref(training.code, participant_id), self.partnership_id, reason)
            uow.commit()


def _kept_notes(person: Participant, data: Mapping[str, Any]) -> list[str]:
    """What the input says differently about a recognised person: kept as recorded, and said so."""
    ref = participant_ref(person.id)
    notes = []
    if one_spacing(data["name"]) != person.name:
        how = "spelling" if normalise_name(data["name"]) == normalise_name(person.name) else "name"
        notes.append(f"Name: recognised as {ref}, recorded as '{person.name}'; the {how} "
                     f"'{one_spacing(data['name'])}' was not saved (edit the person to rename them)")
    for attr, label in (("sex", "Sex"), ("agency", "Agency"), ("role", "Role")):
        given = data.get(attr)
        if given and given != getattr(person, attr):
            notes.append(f"{label}: {ref} is recorded as {getattr(person, attr) or '(empty)'}; {given} was not "
                         "saved (edit the person to change it)")
    return notes
