"""What a funder asks for beyond the programme's own records (docs/reference/grant.md, indicators.md):
commitments (obligations not yet paid), the grant's indirect-cost rate and the budget lines it applies to,
significant developments, indicator baselines, and the rule that every deviation from target is explained
before a quarter is signed off.

Commitments follow the expenditures' money rules: amounts in cents, the rate kept exactly to 10 decimal
places (more are rounded half-up, with a note), required when the currency differs from the grant's, and
the amount in the grant currency is amount x rate rounded half-up to cents, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mou_tracker.db.models import Baseline, BudgetLine, Commitment, Development, Grant, Narrative
from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import NotFound, Problem, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import raise_problems
from mou_tracker.services.fields import parse_fields
from mou_tracker.services.grant import GrantWrites, converted
from mou_tracker.services.records import (
    BASELINE_FIELDS,
    COMMITMENT_FIELDS,
    DEVELOPMENT_FIELDS,
    INDIRECT_RATE_FIELD,
)
from mou_tracker.services.unit_of_work import SaveResult, UnitOfWork

#: the period statuses that need a narrative before the quarter may be signed off
DEVIATIONS = ("below_target", "above_target")


@dataclass(frozen=True)
class Deviation:
    code: str
    name: str
    status: str

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.status.replace('_', ' ')})"


def unexplained_deviations(session: Session, partnership_id: int, quarter: Quarter,
                           engine: Any = None) -> list[Deviation]:
    """The indicators whose status for the quarter is below or above target and that have no narrative for
    it, in framework order: what stops a party from signing the quarter off."""
    from mou_tracker.services.indicators import IndicatorEngine

    progress = (engine or IndicatorEngine(session, partnership_id)).progress(quarter)
    deviating = [f for f in progress.indicators if f.status in DEVIATIONS]
    if not deviating:
        return []
    from mou_tracker.db.models import Indicator

    explained = set(session.execute(
        select(Indicator.code).join(Narrative, Narrative.indicator_id == Indicator.id)
        .where(Indicator.partnership_id == partnership_id, Narrative.period == str(quarter))).scalars())
    return [Deviation(f.code, f.name, f.status) for f in deviating if f.code not in explained]


def refuse_unexplained(session: Session, partnership_id: int, quarter: Quarter) -> None:
    """A sign-off of a quarter with a deviation that no narrative explains is refused, naming them all."""
    missing = unexplained_deviations(session, partnership_id, quarter)
    if missing:
        raise ValidationError(Problem(
            "Period", f"{quarter} cannot be signed off: no narrative explains the deviation from target of "
                      f"{'; '.join(str(d) for d in missing)}. Add a narrative for each (Narratives sheet, or the "
                      "Indicators screen) and sign again"))


def _development_ref(d: Development) -> str:
    return d.reference or f"{d.date.isoformat()} {d.category}"


class FunderWrites(GrantWrites):
    # Commitments --------------------------------------------------------------------------------------------
    def _commitment_data(self, uow: UnitOfWork, values: Mapping[str, Any], grant_code: str | None,
                         notes: list[str]) -> tuple[Grant | None, dict[str, Any], list[Problem]]:
        data, problems = parse_fields(COMMITMENT_FIELDS, dict(values), notes=notes)
        g = self._grant_or_problem(uow, grant_code, problems)
        data["amount_grant"] = converted(data, g.currency, problems) if g is not None else None
        self._resolve_line(uow, g, data, problems)
        return g, data, problems

    def create_commitment(self, values: Mapping[str, Any], grant_code: str | None = None,
                          reason: Reason | None = None) -> SaveResult:
        """Record an obligation (Open until paid, then Liquidated); refused when its ID is taken."""
        return self._create_ledger("commitment", Commitment, "Commitment ID", self._commitment_data, values,
                                   grant_code, reason)

    def update_commitment(self, code: str, values: Mapping[str, Any], grant_code: str | None = None,
                          reason: Reason | None = None) -> SaveResult:
        return self._update_ledger("commitment", Commitment, self._commitment_data, code, values, grant_code,
                                   reason)

    def delete_commitment(self, code: str, reason: Reason | None, grant_code: str | None = None) -> None:
        self._delete_ledger("commitment", Commitment, code, reason, grant_code)

    # Indirect costs -----------------------------------------------------------------------------------------
    def set_indirect_rate(self, rate: Any, grant_code: str | None = None,
                          reason: Reason | None = None) -> SaveResult:
        """Set (or, with None or "", clear) the grant's indirect-cost rate: a percentage, exact to 4 places."""
        value, problem = INDIRECT_RATE_FIELD.parse(rate)
        if problem:
            raise ValidationError(problem)
        with self.unit_of_work() as uow:
            g = self._grant(uow, grant_code)
            result = uow.update("grant", g, {"indirect_rate": value}, g.code, self.partnership_id, reason)
            uow.commit()
            return result

    def set_indirect_base(self, line_code: str, is_base: bool, grant_code: str | None = None,
                          reason: Reason | None = None) -> SaveResult:
        """Mark a budget line as part of the base the indirect-cost rate applies to (or unmark it)."""
        with self.unit_of_work() as uow:
            g = self._grant(uow, grant_code)
            line: BudgetLine | None = self._line(uow, g, line_code)
            if line is None:
                raise NotFound(f"no budget line '{line_code}' in grant {g.code}")
            result = uow.update("budget_line", line, {"indirect_base": bool(is_base)}, line.code,
                                self.partnership_id, reason)
            uow.commit()
            return result

    # Significant developments -------------------------------------------------------------------------------
    def _development(self, uow: UnitOfWork, development_id: int) -> Development:
        d = uow.session.get(Development, development_id)
        if d is None or d.partnership_id != self.partnership_id:
            raise NotFound(f"no development {development_id}")
        return d

    def _refuse_taken_development_reference(self, uow: UnitOfWork, reference: str | None,
                                            own: Development | None = None) -> list[str]:
        return self._refuse_taken_reference(uow, Development, "development",
                                            Development.partnership_id == self.partnership_id, reference,
                                            lambda x: f"{x.date}, {x.category}", own)

    def create_development(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Log a significant development (Risk, Opportunity, Delay, Change in context, Other). Its Reference,
        when given, is unique within the partnership."""
        notes: list[str] = []
        data, problems = parse_fields(DEVELOPMENT_FIELDS, dict(values), notes=notes)
        with self.unit_of_work() as uow:
            notes += self._refuse_taken_development_reference(uow, data.get("reference"))
            raise_problems(problems)
            d = Development(partnership_id=self.partnership_id, **data)
            result = uow.create("development", d, _development_ref(d), self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_development(self, development_id: int, values: Mapping[str, Any],
                           reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        data, problems = parse_fields(DEVELOPMENT_FIELDS, dict(values), notes=notes)
        with self.unit_of_work() as uow:
            d = self._development(uow, development_id)
            notes += self._refuse_taken_development_reference(uow, data.get("reference"), d)
            raise_problems(problems)
            ref = data.get("reference") or f"{data['date'].isoformat()} {data['category']}"
            result = uow.update("development", d, data, ref, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def delete_development(self, development_id: int, reason: Reason | None) -> None:
        with self.unit_of_work() as uow:
            d = self._development(uow, development_id)
            uow.delete("development", d, _development_ref(d), self.partnership_id, reason)
            uow.commit()

    # Baselines ----------------------------------------------------------------------------------------------
    def set_baseline(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Record or change an indicator's baseline (indicator code, value, date, source, comment)."""
        data, problems = parse_fields(BASELINE_FIELDS, dict(values))
        raise_problems(problems)
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, data.pop("indicator_code"))  # type: ignore[attr-defined]
            b = uow.session.execute(select(Baseline).where(Baseline.indicator_id == ind.id)).scalar()
            if b is None:
                result = uow.create("baseline", Baseline(indicator_id=ind.id, **data), ind.code, self.partnership_id,
                                    reason)
            else:
                result = uow.update("baseline", b, data, ind.code, self.partnership_id, reason)
            uow.commit()
            return result

    def delete_baseline(self, indicator_code: str, reason: Reason | None) -> None:
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, indicator_code)  # type: ignore[attr-defined]
            b = uow.session.execute(select(Baseline).where(Baseline.indicator_id == ind.id)).scalar()
            if b is None:
                raise NotFound(f"indicator {indicator_code} has no baseline")
            uow.delete("baseline", b, ind.code, self.partnership_id, reason)
            uow.commit()
