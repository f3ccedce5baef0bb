"""The results framework's writes: indicators (user-defined ones, and the editable parts of the standard
ones), quarterly targets, manual results and narratives."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import Indicator, Narrative, Result, Target
from mou_tracker.domain.periods import PeriodError, Quarter
from mou_tracker.errors import NotFound, Problem, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.fields import parse_fields
from mou_tracker.services.indicators import shown_places
from mou_tracker.services.records import INDICATOR_FIELDS, NARRATIVE_FIELDS, RESULT_FIELDS, TARGET_FIELDS
from mou_tracker.services.unit_of_work import SaveResult, UnitOfWork

D100 = Decimal(100)
#: reference-sheet texts an edit may clear
_CLEARABLE = ("definition", "data_source", "how_computed", "disaggregations")


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _yes(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


def _check_places(ind: Indicator, value: Decimal, label: str = "Value") -> None:
    """A manual value or a target has no more decimal places than its indicator shows: the figures would
    otherwise round it, silently (a target of 2.5 sessions showed as 2 on screen and 3 in Excel), and a sum
    indicator's quarters would no longer add up to its cumulative. A computed mean or share shows one place."""
    places = shown_places(ind)
    if value == value.quantize(Decimal(1).scaleb(-places)):
        return
    shown = format(value.normalize(), "f")
    if places == 0:
        message = f"{shown} is not a whole number; indicator {ind.code} counts {ind.unit} in whole numbers"
    else:
        message = (f"{shown} has more than {places} decimal place{'s' if places > 1 else ''}; indicator {ind.code} "
                   f"is kept to {places}")
    raise ValidationError(Problem(label, message))


def check_bands(low: Decimal, high: Decimal) -> None:
    if low > D100 or high < D100:
        raise ValidationError(Problem("Band low (%)", f"bands must surround 100 % (low {low} ≤ 100 ≤ high {high})"))


class ResultWrites(ServiceCore):
    def _indicator(self, uow: UnitOfWork, code: str, label: str = "Indicator code") -> Indicator:
        ind = uow.session.execute(select(Indicator).where(Indicator.partnership_id == self.partnership_id,
                                                          Indicator.code == code)).scalar()
        if ind is None:
            raise ValidationError(Problem(label, f"no indicator '{code}' in this partnership"))
        return ind

    # Indicators ---------------------------------------------------------------------------------------------
    def create_indicator(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add a user-defined (manual) indicator; refused when its code is taken."""
        full, problems = parse_fields(INDICATOR_FIELDS, dict(values))
        notes: list[str] = []
        with self.unit_of_work() as uow:
            pid = self.partnership_id
            if full.get("code"):
                notes += self._refuse_taken(uow, Indicator, "indicator", "Indicator code", full["code"], "name",
                                            also=problems)
            raise_problems(problems)
            position = uow.session.execute(select(func.coalesce(func.max(Indicator.position), -1))
                                           .where(Indicator.partnership_id == pid)).scalar_one() + 1
            hib = full.get("higher_is_better")
            # an empty setting takes its default; a 0 given is a 0 (never silently replaced)
            ind = Indicator(partnership_id=pid, code=full["code"], name=full["name"], unit=full["unit"],
                            kind=full["kind"], rule="manual", decimals=_or(full.get("decimals"), 0),
                            higher_is_better=True if hib is None else _yes(hib),
                            band_low=_or(full.get("band_low"), Decimal(85)),
                            band_high=_or(full.get("band_high"), Decimal(115)), position=position,
                            definition=full.get("definition"), data_source=full.get("data_source"),
                            how_computed=full.get("how_computed") or "Manual value per quarter.",
                            disaggregations=full.get("disaggregations"))
            check_bands(ind.band_low, ind.band_high)
            result = uow.create("indicator", ind, ind.code, pid, reason)
            result.notes += notes
            uow.commit()
            return result

    def update_indicator(self, code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Edit an indicator's name, unit, bands and reference sheet (only the fields given). The computation
        rule and kind of a standard indicator cannot change."""
        data, problems = parse_fields(INDICATOR_FIELDS, {k: v for k, v in dict(values).items() if k != "code"},
                                      partial=True)
        raise_problems(problems)
        if data.get("higher_is_better") is not None:
            data["higher_is_better"] = _yes(data["higher_is_better"])
        with self.unit_of_work() as uow:
            ind = uow.session.execute(select(Indicator).where(Indicator.partnership_id == self.partnership_id,
                                                              Indicator.code == code)).scalar()
            if ind is None:
                raise NotFound(f"no indicator '{code}'")
            if ind.rule != "manual" and "kind" in data and data["kind"] != ind.kind:
                raise ValidationError(Problem("Kind", f"indicator {ind.code} is computed; its kind cannot change"))
            data = {k: v for k, v in data.items() if v is not None or k in _CLEARABLE}
            check_bands(data.get("band_low", ind.band_low), data.get("band_high", ind.band_high))
            result = uow.update("indicator", ind, data, ind.code, self.partnership_id, reason)
            uow.commit()
            return result

    # Targets, results, narratives ---------------------------------------------------------------------------
    def set_target(self, indicator_code: str, period: str, value: Any, reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(TARGET_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                      "value": value})
        raise_problems(problems)
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            _check_places(ind, data["value"], "Target")
            t = uow.session.execute(select(Target).where(Target.indicator_id == ind.id,
                                                         Target.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            if t is None:
                result = uow.create("target", Target(indicator_id=ind.id, period=data["period"], value=data["value"]),
                                    ref, self.partnership_id, reason)
            else:
                result = uow.update("target", t, {"value": data["value"]}, ref, self.partnership_id, reason)
            uow.commit()
            return result

    def set_result(self, indicator_code: str, period: str, value: Any, source: str | None = None,
                   reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(RESULT_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                      "value": value, "source": source})
        raise_problems(problems)
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            if ind.rule != "manual":
                raise ValidationError(Problem("Indicator code", f"indicator {ind.code} is computed from the "
                                                                 "records; it takes no manual value"))
            if ind.kind == "sum" and data["value"] < 0 and ind.higher_is_better:
                raise ValidationError(Problem("Value", f"{data['value']} is negative; a count cannot be"))
            _check_places(ind, data["value"])
            r = uow.session.execute(select(Result).where(Result.indicator_id == ind.id,
                                                         Result.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            if r is None:
                result = uow.create("result", Result(indicator_id=ind.id, period=data["period"], value=data["value"],
                                                     source=data["source"]), ref, self.partnership_id, reason)
            else:
                result = uow.update("result", r, {"value": data["value"], "source": data["source"]}, ref,
                                    self.partnership_id, reason)
            uow.commit()
            return result

    def set_narrative(self, indicator_code: str, period: str, text: str | None,
                      reason: Reason | None = None) -> SaveResult | None:
        data, problems = parse_fields(NARRATIVE_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                         "text": text})
        raise_problems(problems)
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            n = uow.session.execute(select(Narrative).where(Narrative.indicator_id == ind.id,
                                                            Narrative.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            result: SaveResult | None = None
            if not data["text"]:
                if n is not None:
                    uow.delete("narrative", n, ref, self.partnership_id, reason or Reason("other", "cleared"))
            elif n is None:
                result = uow.create("narrative", Narrative(indicator_id=ind.id, period=data["period"],
                                                           text=data["text"]), ref, self.partnership_id)
            else:
                result = uow.update("narrative", n, {"text": data["text"]}, ref, self.partnership_id, reason)
            uow.commit()
            return result

    def delete_target(self, indicator_code: str, period: str, reason: Reason | None) -> None:
        self._delete_keyed(Target, "target", indicator_code, period, reason)

    def delete_result(self, indicator_code: str, period: str, reason: Reason | None) -> None:
        self._delete_keyed(Result, "result", indicator_code, period, reason)

    def _delete_keyed(self, model: type[Target] | type[Result], kind: str, code: str, period: str,
                      reason: Reason | None) -> None:
        try:
            quarter = str(Quarter.parse(period))
        except PeriodError as exc:
            raise ValidationError(Problem("Period", str(exc))) from None
        with self.unit_of_work() as uow:
            ind = self._indicator(uow, code)
            row: Any = uow.session.execute(select(model).where(model.indicator_id == ind.id,
                                                               model.period == quarter)).scalar()
            if row is None:
                raise NotFound(f"no {kind} for {code} in {period}")
            uow.delete(kind, row, f"{code}@{row.period}", self.partnership_id, reason)
            uow.commit()
