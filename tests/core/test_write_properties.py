"""Property: random values in every field of every record kind, through the service layer, give either a clear
refusal (a ``MouError`` whose problems name fields) or an exact round-trip (what is read back equals what the
field rules parsed) - never any other exception. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mou_tracker.errors import MouError, ValidationError
from mou_tracker.services.fields import Field, parse_fields
from mou_tracker.services.records import (
    ATTENDANCE_FIELDS,
    BUDGET_FIELDS,
    DISBURSEMENT_FIELDS,
    ENGAGEMENT_FIELDS,
    EXPENDITURE_FIELDS,
    GRANT_FIELDS,
    INDICATOR_FIELDS,
    MILESTONE_FIELDS,
    TRAINING_FIELDS,
)

ODD = st.one_of(
    st.none(), st.booleans(), st.binary(max_size=8), st.just(float("inf")), st.just(float("nan")),
    st.just("\ud800"), st.just("a\x00b"), st.just("x" * 6000), st.just(date(1, 1, 1)), st.just(date(9999, 12, 31)),
    st.just(datetime(2025, 8, 1, 10, 30)), st.lists(st.integers(), max_size=2), st.just("1e999999"),
    st.just(Decimal("NaN")), st.text(max_size=30))
NUMBER = st.one_of(st.integers(min_value=-10**20, max_value=10**20),
                   st.floats(allow_nan=True, allow_infinity=True),
                   st.decimals(allow_nan=True, allow_infinity=True, places=None),
                   st.decimals(min_value=-10**6, max_value=10**6, places=2).map(str),
                   st.decimals(min_value=0, max_value=2, places=12).map(str))


def valid_ish(f: Field) -> st.SearchStrategy[Any]:
    if f.kind == "date":
        return st.one_of(st.dates(min_value=date(1995, 1, 1), max_value=date(2105, 1, 1)),
                         st.dates().map(date.isoformat))
    if f.kind in ("decimal", "int"):
        return NUMBER
    if f.kind == "code":
        return st.sampled_from([*(f.vocab or ()), *(v.upper() for v in (f.vocab or ()))])
    if f.kind == "county":
        return st.sampled_from(["Mombasa", "nairobi city", "Kisumu", "Turkana"])
    if f.kind == "currency":
        return st.sampled_from(["USD", "kes", "EUR", "US$"])
    if f.kind == "period":
        return st.from_regex(r"\A(19|20|21|99)\d\d-Q[0-6]\Z")
    return st.text(max_size=f.max_len + 5)


#: one valid record per kind; each example replaces a few of its fields with random values
BASE: dict[str, dict[str, Any]] = {
    "training": {"code": "T9", "title": "Evidence", "topic": "Evidence", "start_date": date(2025, 7, 1),
                 "end_date": date(2025, 7, 2), "county": "Mombasa", "venue": None, "delivery": None, "lead": None,
                 "cost": None, "currency": None},
    "engagement": {"code": "E1", "date": date(2025, 8, 1), "type": "Coordination", "county": "Kisumu",
                   "case_ref": None, "hours": "2", "hti_advisor": None, "odpp_counterpart": None, "summary": None},
    "milestone": {"code": "M1", "title": "SOP", "workstream": None, "owner": None, "due_date": date(2025, 9, 1),
                  "status": "Not started", "completed_on": None, "evidence": None},
    "grant": {"code": "G9", "funder": "HTI", "currency": "USD", "amount": "10", "start_date": date(2025, 5, 12),
              "end_date": date(2028, 5, 11)},
    "budget_line": {"code": "BL9", "name": "Trainings", "category": None, "amount": "10"},
    "disbursement": {"date": date(2025, 8, 1), "amount": "10", "currency": "USD", "rate": None, "reference": None},
    "expenditure": {"code": "X1", "date": date(2025, 8, 1), "line_code": "BL1", "description": "Hall",
                    "amount": "10", "currency": "USD", "rate": None, "reference": None, "training_code": None,
                    "engagement_code": None},
    "indicator": {"code": "X.1", "name": "Mine", "unit": "cases", "kind": "sum", "decimals": None,
                  "higher_is_better": None, "band_low": None, "band_high": None, "definition": None,
                  "data_source": None, "how_computed": None, "disaggregations": None},
    "attendance": {"training_code": "T1", "name": "Jane", "sex": "F", "agency": "ODPP", "role": None,
                   "staff_number": None, "pre_score": None, "post_score": None},
}


#: the setup's grant G1 is in USD and a partnership's grants share one currency, so another grant in EUR is
#: refused whatever its other fields (tests/imports/test_importing.py); here its currency is written in the ways
#: USD may be, with the odd values besides
SAME_CURRENCY = st.sampled_from(["USD", "usd", " USD ", "US$"])


def values_for(kind: str, fields: tuple[Field, ...]) -> st.SearchStrategy[dict[str, Any]]:
    by_attr = {f.attr: f for f in fields}

    def drawn(f: Field) -> st.SearchStrategy[Any]:
        return st.one_of(SAME_CURRENCY if kind == "grant" and f.attr == "currency" else valid_ish(f), ODD)

    changes = st.dictionaries(st.sampled_from(sorted(by_attr)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: drawn(by_attr[k]) for k in keys}))
    return changes.map(lambda c: {**BASE[kind], **c})


def _round_trip(services, result, data: dict[str, Any]) -> None:
    """The record read back from the database holds exactly the parsed values."""
    obj = result.obj
    with services.db.reading() as s:
        stored = s.get(type(obj), obj.id)
        for attr, value in data.items():
            if hasattr(stored, attr) and attr not in ("higher_is_better",):
                assert getattr(stored, attr) == value, (attr, getattr(stored, attr), value)


KINDS: dict[str, tuple[tuple[Field, ...], Any]] = {
    "training": (TRAINING_FIELDS, lambda s, v: s.create_training(v)),
    "engagement": (ENGAGEMENT_FIELDS, lambda s, v: s.create_engagement(v)),
    "milestone": (MILESTONE_FIELDS, lambda s, v: s.create_milestone(v)),
    "grant": (GRANT_FIELDS, lambda s, v: s.create_grant(v)),
    "budget_line": (BUDGET_FIELDS, lambda s, v: s.create_budget_line(v, grant_code="G1")),
    "disbursement": (DISBURSEMENT_FIELDS, lambda s, v: s.create_disbursement(v, grant_code="G1")),
    "expenditure": (EXPENDITURE_FIELDS, lambda s, v: s.create_expenditure(v, grant_code="G1")),
    "indicator": (INDICATOR_FIELDS, lambda s, v: s.create_indicator(v)),
    "attendance": (ATTENDANCE_FIELDS, lambda s, v: s.add_attendance(v)),
}


def _setup(services) -> None:
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                           "start_date": date(2025, 5, 12), "end_date": date(2028, 5, 11)})
    services.create_budget_line({"code": "BL1", "name": "T", "amount": "1000"}, grant_code="G1")
    services.create_training({"code": "T1", "title": "T", "topic": "E", "start_date": date(2025, 7, 1),
                              "end_date": date(2025, 7, 2), "county": "Mombasa"})


@pytest.mark.parametrize("kind", list(KINDS))
def test_random_values_are_refused_clearly_or_kept_exactly(services, kind):
    _setup(services)
    fields, create = KINDS[kind]
    written: list[str] = []
    seen: list[int] = []

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(values=values_for(kind, fields))
    def check(values: dict[str, Any]) -> None:
        n = len(seen)
        seen.append(n)
        for key in ("code", "name"):  # a fresh ID per example (unless the example set one), so writes go through
            if key in values and values[key] == BASE[kind].get(key) and kind in ("attendance",) + (
                    () if key == "name" else tuple(KINDS)):
                values[key] = f"{values[key]}-{n}"
        try:
            result = create(services, values)
        except ValidationError as exc:
            assert exc.problems and all(p.field and p.message for p in exc.problems)
            return
        except MouError as exc:
            assert str(exc)
            return
        data, problems = parse_fields(fields, dict(values))
        assert not problems
        data.pop("line_code", None)
        data.pop("training_code", None)
        data.pop("engagement_code", None)
        if kind == "attendance":
            data = {k: data[k] for k in ("pre_score", "post_score")}
        if kind == "indicator":  # an empty setting takes its default (85/115 bands, 0 decimals)
            data = {k: v for k, v in data.items() if v is not None}
        _round_trip(services, result, data)
        written.append(result.action)

    check()
    assert len(written) >= 5, f"only {len(written)} examples were valid: the property would test refusals only"


@given(target=st.one_of(NUMBER, ODD), period=st.one_of(valid_ish(Field("p", "Period", "period")), ODD),
       text=st.one_of(st.text(max_size=50), ODD))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_random_targets_results_and_narratives_are_refused_clearly_or_kept(services, target, period, text):
    for call in (lambda: services.set_target("1.1", period, target),
                 lambda: services.set_result("OC1", period, target, text if isinstance(text, str) else None),
                 lambda: services.set_narrative("1.1", period, text)):
        try:
            call()
        except MouError as exc:
            assert str(exc)


UPDATES: dict[str, Any] = {
    "training": lambda s, v: s.update_training("T1", v),
    "engagement": lambda s, v: s.update_engagement("E1", v),
    "milestone": lambda s, v: s.update_milestone("M1", v),
    "expenditure": lambda s, v: s.update_expenditure("X1", v, grant_code="G1"),
}


@pytest.mark.parametrize("kind", list(UPDATES))
def test_random_updates_are_refused_clearly_or_kept_exactly(services, kind):
    _setup(services)
    fields, create = KINDS[kind]
    code = {"training": "T1", "engagement": "E1", "milestone": "M1", "expenditure": "X1"}[kind]
    if kind != "training":
        create(services, {**BASE[kind], "code": code})
    written: list[str] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(values=values_for(kind, fields))
    def check(values: dict[str, Any]) -> None:
        values = {**values, "code": code}
        try:
            result = UPDATES[kind](services, values)
        except MouError as exc:
            assert str(exc) and (not isinstance(exc, ValidationError) or exc.problems)
            return
        data, problems = parse_fields(fields, dict(values))
        assert not problems
        for key in ("line_code", "training_code", "engagement_code"):
            data.pop(key, None)
        _round_trip(services, result, data)
        written.append(result.action)

    check()
    assert len(written) >= 5, f"only {len(written)} updates were valid"
