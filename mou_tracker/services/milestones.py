"""Advisory milestones: the first due date is kept as the original one (indicator 3.2), moving the due date or
the status backwards needs a reason, and a milestone cannot be completed on a day still to come."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from mou_tracker.db.models import Milestone
from mou_tracker.domain import codes
from mou_tracker.errors import Problem
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.fields import parse_fields
from mou_tracker.services.records import MILESTONE_FIELDS
from mou_tracker.services.unit_of_work import SaveResult


def evidence_sha256(evidence: str | None) -> str | None:
    """The SHA-256 of the file an evidence text names, when it names a readable file."""
    if not evidence or len(evidence) > 1000 or "\n" in evidence:
        return None
    try:
        path = Path(evidence).expanduser()
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except (OSError, ValueError):
        return None


def milestone_rules(data: Mapping[str, Any], today: date) -> list[Problem]:
    """What a milestone's fields must satisfy together (each field parsed; one missing from ``data`` is not
    judged): the importer also runs these on a row whose other cells have problems."""
    problems: list[Problem] = []
    if data.get("status") == codes.COMPLETED and not data.get("completed_on") and "completed_on" in data:
        problems.append(Problem("Completed on", "is required when the status is Completed"))
    if data.get("completed_on") and data.get("status") and data["status"] != codes.COMPLETED:
        problems.append(Problem("Completed on", f"is only for Completed milestones (status is {data['status']})"))
    if data.get("completed_on") and data["completed_on"] > today:
        problems.append(Problem("Completed on", f"{data['completed_on']} is in the future (today is {today}); "
                                                "a milestone is completed on a day that has come"))
    return problems


class MilestoneWrites(ServiceCore):
    def _milestone_data(self, values: Mapping[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[Problem]]:
        data, problems = parse_fields(MILESTONE_FIELDS, dict(values), notes=notes)
        problems += milestone_rules(data, self.today())
        data["evidence_sha256"] = evidence_sha256(data.get("evidence"))
        return data, problems

    def create_milestone(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add a milestone; its due date is also its original due date. Refused when its ID is taken."""
        notes: list[str] = []
        data, problems = self._milestone_data(values, notes)
        with self.unit_of_work() as uow:
            if data.get("code"):
                notes += self._refuse_taken(uow, Milestone, "milestone", "Milestone ID", data["code"], also=problems)
            raise_problems(problems)
            m = Milestone(partnership_id=self.partnership_id, original_due_date=data["due_date"], **data)
            result = uow.create("milestone", m, data["code"], self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_milestone(self, code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Change a milestone; moving its due date or its status backwards needs a reason."""
        notes: list[str] = []
        data, problems = self._milestone_data({**dict(values), "code": code}, notes)
        with self.unit_of_work() as uow:
            m = self._get(uow, Milestone, code, "milestone")
            raise_problems(problems)
            why = []
            if m.due_date != data["due_date"]:
                why.append(f"moving the due date of {m.code} from {m.due_date} to {data['due_date']}")
            if codes.status_moves_backwards(m.status, data["status"]):
                why.append(f"moving {m.code} back from {m.status} to {data['status']}")
            result = uow.update("milestone", m, data, m.code, self.partnership_id, reason, why)
            result.notes += notes
            uow.commit()
            return result

    def delete_milestone(self, code: str, reason: Reason | None) -> None:
        with self.unit_of_work() as uow:
            m = self._get(uow, Milestone, code, "milestone")
            uow.delete("milestone", m, code, self.partnership_id, reason)
            uow.commit()
