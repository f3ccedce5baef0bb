"""Technical-support engagements (case mentoring, reviews, trial support...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import Engagement, Expenditure
from mou_tracker.domain import codes
from mou_tracker.domain.identity import case_key
from mou_tracker.errors import Problem, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.fields import parse_fields
from mou_tracker.services.records import ENGAGEMENT_FIELDS
from mou_tracker.services.unit_of_work import SaveResult


def engagement_rules(data: Mapping[str, Any]) -> list[Problem]:
    """What an engagement's fields must satisfy together (each field parsed; one missing from ``data`` is not
    judged): the importer also runs these on a row whose other cells have problems."""
    if data.get("type") == codes.CASE_MENTORING and not data.get("case_ref") and "case_ref" in data:
        return [Problem("Case reference", "is required for Case mentoring")]
    return []


class SupportWrites(ServiceCore):
    def _engagement_data(self, values: Mapping[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[Problem]]:
        data, problems = parse_fields(self.local(ENGAGEMENT_FIELDS), dict(values), notes=notes)
        problems += engagement_rules(data)
        data["case_key"] = case_key(data.get("case_ref"))
        return data, problems

    def create_engagement(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add an engagement; refused (AlreadyExists, the next free ID proposed) when its ID is taken."""
        notes: list[str] = []
        data, problems = self._engagement_data(values, notes)
        with self.unit_of_work() as uow:
            if data.get("code"):
                notes += self._refuse_taken(uow, Engagement, "engagement", "Engagement ID", data["code"],
                                            lambda e: f"{e.type}, {e.date.isoformat()}", also=problems)
            raise_problems(problems)
            result = uow.create("engagement", Engagement(partnership_id=self.partnership_id, **data), data["code"],
                                self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_engagement(self, code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        data, problems = self._engagement_data({**dict(values), "code": code}, notes)
        with self.unit_of_work() as uow:
            e = self._get(uow, Engagement, code, "engagement")
            raise_problems(problems)
            result = uow.update("engagement", e, data, e.code, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def delete_engagement(self, code: str, reason: Reason | None) -> None:
        """Refused while expenditures link to it."""
        with self.unit_of_work() as uow:
            e = self._get(uow, Engagement, code, "engagement")
            linked = uow.session.execute(select(func.count(Expenditure.id))
                                         .where(Expenditure.engagement_id == e.id)).scalar_one()
            if linked:
                raise ValidationError(Problem("Engagement ID", f"{linked} expenditure(s) link to {code}; "
                                                               "unlink them first"))
            uow.delete("engagement", e, code, self.partnership_id, reason)
            uow.commit()
