"""The grant, its budget lines, the disbursements received and the expenditures (docs/reference/grant.md).

Money is exact: amounts in cents, rates as entered up to 10 decimal places (more are rounded half-up, with a
note on the result), and the amount in the grant currency is amount x rate rounded half-up to cents, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import BudgetLine, Disbursement, Engagement, Expenditure, Grant, Training
from mou_tracker.domain import codes
from mou_tracker.domain.money import convert
from mou_tracker.errors import NotFound, Problem
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.fields import TOO_LARGE, parse_fields
from mou_tracker.services.records import BUDGET_FIELDS, DISBURSEMENT_FIELDS, EXPENDITURE_FIELDS, GRANT_FIELDS
from mou_tracker.services.unit_of_work import SaveResult, UnitOfWork

#: parses a ledger entry's values: (uow, values, grant code, notes) -> (grant, columns, problems)
LedgerData = Callable[[UnitOfWork, Mapping[str, Any], "str | None", list[str]],
                      "tuple[Grant | None, dict[str, Any], list[Problem]]"]


def converted(data: Mapping[str, Any], grant_currency: str, problems: list[Problem]) -> Decimal | None:
    """The amount in the grant currency, or None with the problem added (a missing or needless rate)."""
    if data.get("currency") and data["currency"] != grant_currency:
        if not data.get("rate"):
            problems.append(Problem("Rate", f"is required: {data['currency']} differs from the grant currency "
                                            f"{grant_currency} (amount x rate = amount in {grant_currency})"))
            return None
    elif data.get("rate") is not None and data["rate"] != 1:
        problems.append(Problem("Rate", f"must be 1 or empty when the currency is the grant currency "
                                        f"{grant_currency}"))
        return None
    if data.get("amount") is None:
        return None
    amount = convert(data["amount"], data.get("rate"))
    if abs(amount) >= TOO_LARGE:
        problems.append(Problem("Amount", f"{data['amount']} x {data.get('rate')} = {amount} {grant_currency} is "
                                          "too large"))
        return None
    return amount


def grant_rules(data: Mapping[str, Any]) -> list[Problem]:
    """What a grant's fields must satisfy together (the importer also runs this on a row with other problems)."""
    if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
        return [Problem("End date", f"{data['end_date']} is before the start date {data['start_date']}")]
    return []


class GrantWrites(ServiceCore):
    # Grants -------------------------------------------------------------------------------------------------
    @staticmethod
    def _grant_data(values: Mapping[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[Problem]]:
        data, problems = parse_fields(GRANT_FIELDS, dict(values), notes=notes)
        problems += grant_rules(data)
        return data, problems

    def create_grant(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        data, problems = self._grant_data(values, notes)
        with self.unit_of_work() as uow:
            if data.get("code"):
                notes += self._refuse_taken(uow, Grant, "grant", "Grant code", data["code"], "funder", also=problems)
            self._refuse_another_currency(uow, data, None, problems)
            raise_problems(problems)
            result = uow.create("grant", Grant(partnership_id=self.partnership_id, **data), data["code"],
                                self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_grant(self, code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Change a grant; its currency cannot change once money is recorded in it."""
        notes: list[str] = []
        data, problems = self._grant_data({**dict(values), "code": code}, notes)
        with self.unit_of_work() as uow:
            g = self._get(uow, Grant, code, "grant")
            if data.get("currency") and data["currency"] != g.currency and self._grant_has_money(uow, g.id):
                problems.append(Problem("Currency", f"grant {g.code} already has disbursements or expenditures in "
                                                    f"{g.currency}; its currency cannot change"))
            self._refuse_another_currency(uow, data, g.id, problems)
            raise_problems(problems)
            result = uow.update("grant", g, data, g.code, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def _refuse_another_currency(self, uow: UnitOfWork, data: Mapping[str, Any], own_id: int | None,
                                 problems: list[Problem]) -> None:
        """A partnership's grants share one currency: indicator 4.1 and the totals add their spending in "the
        grant currency", and USD and KES do not add (money in another currency is recorded with a rate)."""
        if not data.get("currency"):
            return
        stmt = select(Grant.code, Grant.currency).where(Grant.partnership_id == self.partnership_id,
                                                        Grant.currency != data["currency"])
        if own_id is not None:
            stmt = stmt.where(Grant.id != own_id)
        other = uow.session.execute(stmt.order_by(Grant.start_date, Grant.code).limit(1)).first()
        if other:
            code, currency = other
            problems.append(Problem("Currency", f"{data['currency']} differs from {currency}, the currency of this "
                                                f"partnership's grant {code}; a partnership's grants share one "
                                                f"currency, since indicator 4.1 adds their spending and "
                                                f"{currency} and {data['currency']} do not add (record the grant in "
                                                f"{currency}, or as a partnership of its own)"))

    @staticmethod
    def _grant_has_money(uow: UnitOfWork, grant_id: int) -> bool:
        s = uow.session
        return bool(s.execute(select(func.count(Expenditure.id)).where(Expenditure.grant_id == grant_id)).scalar()
                    or s.execute(select(func.count(Disbursement.id)).where(Disbursement.grant_id == grant_id)).scalar())

    def _grant_or_problem(self, uow: UnitOfWork, code: str | None, problems: list[Problem],
                          label: str = "Grant code") -> Grant | None:
        """The grant a money record belongs to (the only one when not named), or None with the problem added."""
        grants = uow.session.execute(select(Grant).where(Grant.partnership_id == self.partnership_id)
                                     .order_by(Grant.id)).scalars().all()
        if code:
            for g in grants:
                if g.code == code:
                    return g
            problems.append(Problem(label, f"no grant '{code}'"))
        elif not grants:
            problems.append(Problem(label, "the partnership has no grant yet; add the grant first"))
        elif len(grants) > 1:
            problems.append(Problem(label, f"several grants ({', '.join(g.code for g in grants)}); name one"))
        else:
            return grants[0]
        return None

    def _grant(self, uow: UnitOfWork, code: str | None, label: str = "Grant code") -> Grant:
        problems: list[Problem] = []
        g = self._grant_or_problem(uow, code, problems, label)
        raise_problems(problems)
        assert g is not None
        return g

    # Budget lines -------------------------------------------------------------------------------------------
    @staticmethod
    def _budget_data(values: Mapping[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[Problem]]:
        data, problems = parse_fields(BUDGET_FIELDS, dict(values), notes=notes)
        if data.get("category"):
            data["category"] = codes.canonical(data["category"], codes.BUDGET_CATEGORIES) or data["category"]
        return data, problems

    def _line(self, uow: UnitOfWork, g: Grant, code: str) -> BudgetLine | None:
        return uow.session.execute(select(BudgetLine).where(BudgetLine.grant_id == g.id,
                                                            BudgetLine.code == code)).scalar()

    def create_budget_line(self, values: Mapping[str, Any], grant_code: str | None = None,
                           reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        data, problems = self._budget_data(values, notes)
        with self.unit_of_work() as uow:
            g = self._grant_or_problem(uow, grant_code, problems)
            if g is not None and data.get("code"):
                notes += self._refuse_taken(uow, BudgetLine, "budget_line", "Line code", data["code"], "name",
                                            scope=BudgetLine.grant_id == g.id, also=problems)
            raise_problems(problems)
            assert g is not None
            result = uow.create("budget_line", BudgetLine(grant_id=g.id, **data), data["code"], self.partnership_id,
                                reason)
            result.notes += notes
            uow.commit()
            return result

    def update_budget_line(self, code: str, values: Mapping[str, Any], grant_code: str | None = None,
                           reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        data, problems = self._budget_data({**dict(values), "code": code}, notes)
        with self.unit_of_work() as uow:
            g = self._grant(uow, grant_code)
            line = self._line(uow, g, code)
            if line is None:
                raise NotFound(f"no budget line '{code}' in grant {g.code}")
            raise_problems(problems)
            result = uow.update("budget_line", line, data, line.code, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    # Disbursements ------------------------------------------------------------------------------------------
    def _disbursement_data(self, uow: UnitOfWork, values: Mapping[str, Any], grant_code: str | None,
                           notes: list[str]) -> tuple[Grant | None, dict[str, Any], list[Problem]]:
        data, problems = parse_fields(DISBURSEMENT_FIELDS, dict(values), notes=notes)
        g = self._grant_or_problem(uow, grant_code, problems)
        data["amount_grant"] = converted(data, g.currency, problems) if g is not None else None
        return g, data, problems

    def _refuse_taken_disbursement_reference(self, uow: UnitOfWork, g: Grant, reference: str | None,
                                             own: Disbursement | None = None) -> list[str]:
        """A disbursement's Reference is unique within its grant, on an add as on an edit (an import matches
        disbursements by it)."""
        return self._refuse_taken_reference(uow, Disbursement, "disbursement", Disbursement.grant_id == g.id,
                                            reference, lambda x: f"{x.date}, {x.amount} {x.currency}", own)

    def create_disbursement(self, values: Mapping[str, Any], grant_code: str | None = None,
                            reason: Reason | None = None) -> SaveResult:
        """Record a tranche received. Its Reference, when given, is unique within the grant."""
        notes: list[str] = []
        with self.unit_of_work() as uow:
            g, data, problems = self._disbursement_data(uow, values, grant_code, notes)
            if g is not None:
                notes += self._refuse_taken_disbursement_reference(uow, g, data.get("reference"))
            raise_problems(problems)
            assert g is not None
            ref = data.get("reference") or data["date"].isoformat()
            result = uow.create("disbursement", Disbursement(grant_id=g.id, **data), ref, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_disbursement(self, disbursement_id: int, values: Mapping[str, Any], grant_code: str | None = None,
                            reason: Reason | None = None) -> SaveResult:
        notes: list[str] = []
        with self.unit_of_work() as uow:
            d = uow.session.get(Disbursement, disbursement_id)
            grant = None if d is None else uow.session.get(Grant, d.grant_id)
            if d is None or grant is None or grant.partnership_id != self.partnership_id:
                raise NotFound(f"no disbursement {disbursement_id}")
            g, data, problems = self._disbursement_data(uow, values, grant_code or grant.code, notes)
            if g is not None:
                notes += self._refuse_taken_disbursement_reference(uow, g, data.get("reference"), d)
            raise_problems(problems)
            ref = data.get("reference") or data["date"].isoformat()
            result = uow.update("disbursement", d, data, ref, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def delete_disbursement(self, disbursement_id: int, reason: Reason | None) -> None:
        with self.unit_of_work() as uow:
            d = uow.session.get(Disbursement, disbursement_id)
            grant = None if d is None else uow.session.get(Grant, d.grant_id)
            if d is None or grant is None or grant.partnership_id != self.partnership_id:
                raise NotFound(f"no disbursement {disbursement_id}")
            uow.delete("disbursement", d, d.reference or d.date.isoformat(), self.partnership_id, reason)
            uow.commit()

    # Expenditures -------------------------------------------------------------------------------------------
    def _expenditure_data(self, uow: UnitOfWork, values: Mapping[str, Any], grant_code: str | None,
                          notes: list[str]) -> tuple[Grant | None, dict[str, Any], list[Problem]]:
        """The expenditure's columns, with every problem at once: its own fields, the grant, the rate, the
        budget line, the linked training or engagement."""
        data, problems = parse_fields(EXPENDITURE_FIELDS, dict(values), notes=notes)
        g = self._grant_or_problem(uow, grant_code, problems)
        data["amount_grant"] = converted(data, g.currency, problems) if g is not None else None
        self._resolve_line(uow, g, data, problems)
        training_code = data.pop("training_code", None)
        engagement_code = data.pop("engagement_code", None)
        data["training_id"] = data["engagement_id"] = None
        if training_code:
            t = self._find(uow, Training, training_code)
            if t is None:
                problems.append(Problem("Training ID", f"no training '{training_code}'"))
            else:
                data["training_id"] = t.id
        if engagement_code:
            e = self._find(uow, Engagement, engagement_code)
            if e is None:
                problems.append(Problem("Engagement ID", f"no engagement '{engagement_code}'"))
            else:
                data["engagement_id"] = e.id
        return g, data, problems

    def _resolve_line(self, uow: UnitOfWork, g: Grant | None, data: dict[str, Any], problems: list[Problem]) -> None:
        """Replace ``line_code`` in ``data`` by the budget line's id, or add the problem."""
        line_code = data.pop("line_code", None)
        if line_code and g is not None:
            line = self._line(uow, g, line_code)
            if line is None:
                problems.append(Problem("Line code", f"no budget line '{line_code}' in grant {g.code}"))
            else:
                data["budget_line_id"] = line.id

    def _expenditure(self, uow: UnitOfWork, g: Grant, code: str) -> Expenditure | None:
        return self._ledger_entry(uow, Expenditure, g, code)

    @staticmethod
    def _ledger_entry(uow: UnitOfWork, model: Any, g: Grant, code: str) -> Any:
        return uow.session.execute(select(model).where(model.grant_id == g.id, model.code == code)).scalar()

    def _create_ledger(self, kind: str, model: Any, label: str, data_of: LedgerData, values: Mapping[str, Any],
                       grant_code: str | None, reason: Reason | None) -> SaveResult:
        """Add an expenditure or a commitment: an ID unique in its grant, every problem at once."""
        notes: list[str] = []
        with self.unit_of_work() as uow:
            g, data, problems = data_of(uow, values, grant_code, notes)
            if g is not None and data.get("code"):
                notes += self._refuse_taken(uow, model, kind, label, data["code"], "description",
                                            scope=model.grant_id == g.id, also=problems)
            raise_problems(problems)
            assert g is not None
            result = uow.create(kind, model(grant_id=g.id, **data), data["code"], self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def _update_ledger(self, kind: str, model: Any, data_of: LedgerData, code: str, values: Mapping[str, Any],
                       grant_code: str | None, reason: Reason | None) -> SaveResult:
        notes: list[str] = []
        with self.unit_of_work() as uow:
            g = self._grant(uow, grant_code)
            x = self._ledger_entry(uow, model, g, code)
            if x is None:
                raise NotFound(f"no {kind} '{code}'")
            _g, data, problems = data_of(uow, {**dict(values), "code": code}, g.code, notes)
            raise_problems(problems)
            result = uow.update(kind, x, data, x.code, self.partnership_id, reason)
            result.notes += notes
            uow.commit()
            return result

    def _delete_ledger(self, kind: str, model: Any, code: str, reason: Reason | None, grant_code: str | None) -> None:
        with self.unit_of_work() as uow:
            g = self._grant(uow, grant_code)
            x = self._ledger_entry(uow, model, g, code)
            if x is None:
                raise NotFound(f"no {kind} '{code}'")
            uow.delete(kind, x, code, self.partnership_id, reason)
            uow.commit()

    def create_expenditure(self, values: Mapping[str, Any], grant_code: str | None = None,
                           reason: Reason | None = None) -> SaveResult:
        return self._create_ledger("expenditure", Expenditure, "Expenditure ID", self._expenditure_data, values,
                                   grant_code, reason)

    def update_expenditure(self, code: str, values: Mapping[str, Any], grant_code: str | None = None,
                           reason: Reason | None = None) -> SaveResult:
        return self._update_ledger("expenditure", Expenditure, self._expenditure_data, code, values, grant_code,
                                   reason)

    def delete_expenditure(self, code: str, reason: Reason | None, grant_code: str | None = None) -> None:
        self._delete_ledger("expenditure", Expenditure, code, reason, grant_code)
