"""Every indicator rule of docs/reference/indicators.md and its edge cases, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import ValidationError
from mou_tracker.services import Reason
from mou_tracker.services.indicators import IndicatorEngine
from tests.helpers import attendee, engagement, milestone, training

Q3, Q4, Q1 = Quarter(2025, 3), Quarter(2025, 4), Quarter(2026, 1)


def figures(services, db, q, code):
    with db.reading() as s:
        return IndicatorEngine(s, services.partnership_id).progress(q).by_code()[code]


def test_repeat_participants_count_once_in_their_first_quarter(services, db):
    services.create_training(training("T1", date(2025, 8, 1)))
    services.create_training(training("T2", date(2025, 11, 1)))
    services.add_attendance(attendee("T1", "Jane Doe"))
    services.add_attendance(attendee("T2", "jane  doe"))       # same person (name + agency)
    services.add_attendance(attendee("T2", "Jane Doe", agency="DCI"))  # another person: other agency
    q3, q4 = figures(services, db, Q3, "1.2"), figures(services, db, Q4, "1.2")
    assert (q3.period_actual, q4.period_actual, q4.cumulative_actual) == (1, 1, 2)
    assert (figures(services, db, Q3, "1.3").period_actual, figures(services, db, Q4, "1.3").period_actual) == (1, 0)


def test_staff_number_identity_beats_the_name(services, db):
    services.create_training(training("T1", date(2025, 8, 1)))
    services.create_training(training("T2", date(2025, 11, 1)))
    services.add_attendance(attendee("T1", "Peter Otieno", staff="odpp 12"))
    services.add_attendance(attendee("T2", "Otieno Peter", staff="ODPP12"))
    assert figures(services, db, Q4, "1.2").period_actual == 0
    assert figures(services, db, Q4, "1.2").cumulative_actual == 1


def test_training_spanning_a_quarter_boundary_counts_where_it_ends(services, db):
    services.create_training(training("T1", date(2025, 9, 29), date(2025, 10, 2)))
    services.add_attendance(attendee("T1", "Jane Doe", pre="40", post="70"))
    assert figures(services, db, Q3, "1.1").period_actual == 0
    assert figures(services, db, Q4, "1.1").period_actual == 1
    assert figures(services, db, Q4, "1.2").period_actual == 1
    assert figures(services, db, Q4, "1.4").period_actual == Decimal("30.0")
    assert figures(services, db, Q3, "1.4").period_actual is None


def test_knowledge_gain_ignores_attendances_without_both_scores(services, db):
    services.create_training(training("T1", date(2025, 8, 1)))
    services.create_training(training("T2", date(2025, 11, 1)))
    services.add_attendance(attendee("T1", "A", pre="50", post="60"))
    services.add_attendance(attendee("T1", "B", pre="50", post="75"))
    services.add_attendance(attendee("T1", "C", pre="50"))
    services.add_attendance(attendee("T2", "D", pre="20.5", post="30"))
    q3, q4 = figures(services, db, Q3, "1.4"), figures(services, db, Q4, "1.4")
    assert q3.period_actual == Decimal("17.5")
    assert (q3.period_numerator, q3.period_denominator) == (Decimal("35"), 2)
    assert q4.period_actual == Decimal("9.5")
    assert q4.cumulative_actual == Decimal("14.8")  # (10 + 25 + 9.5) / 3 = 14.83
    assert figures(services, db, Q1, "1.4").period_actual is None
    assert figures(services, db, Q1, "1.4").status == "no_target"


def test_repeat_case_references_count_once_at_first_mentoring(services, db):
    services.create_engagement(engagement("E1", date(2025, 7, 5), "Case review", "CTIP/9"))
    services.create_engagement(engagement("E2", date(2025, 8, 5), "Case mentoring", "CTIP/1", hours="2.5"))
    services.create_engagement(engagement("E3", date(2025, 10, 5), "Case mentoring", "  ctip/1 ", hours="4"))
    services.create_engagement(engagement("E4", date(2025, 11, 5), "Case mentoring", "CTIP/9"))
    q3, q4 = figures(services, db, Q3, "2.2"), figures(services, db, Q4, "2.2")
    assert (q3.period_actual, q4.period_actual, q4.cumulative_actual) == (1, 1, 2)
    assert figures(services, db, Q3, "2.1").period_actual == 2
    assert figures(services, db, Q3, "2.3").period_actual == Decimal("4.50")
    assert figures(services, db, Q4, "2.3").cumulative_actual == Decimal("10.50")


def test_on_time_uses_the_original_due_date(services, db):
    # re-planned before completion: finished by the new date but after the original one -> late
    services.create_milestone(milestone("M1", date(2025, 8, 1)))
    services.update_milestone("M1", milestone("M1", date(2025, 9, 15)),
                              reason=Reason.parse("re-planning agreed by both parties: vacation"))
    services.update_milestone("M1", milestone("M1", date(2025, 9, 15), status="Completed", completed=date(2025, 9, 10)))
    # completed exactly on its due date -> on time
    services.create_milestone(milestone("M2", date(2025, 9, 20), status="Completed", completed=date(2025, 9, 20)))
    services.create_milestone(milestone("M3", date(2025, 9, 20), status="Cancelled"))
    f = figures(services, db, Q3, "3.2")
    assert figures(services, db, Q3, "3.1").period_actual == 2
    assert f.period_actual == Decimal("50.0")
    assert (f.period_numerator, f.period_denominator) == (Decimal(1), 2)
    assert figures(services, db, Q4, "3.2").period_actual is None
    assert figures(services, db, Q4, "3.2").cumulative_actual == Decimal("50.0")


def test_expenditure_converted_with_its_rate(services, db):
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "100000",
                         "start_date": date(2025, 5, 12), "end_date": date(2028, 5, 11)})
    services.create_budget_line({"code": "BL1", "name": "Trainings", "category": "Training", "amount": "50000"})
    base = {"line_code": "BL1", "description": "x"}
    services.create_expenditure({**base, "code": "X1", "date": date(2025, 8, 1), "amount": "1000.00",
                                 "currency": "USD"})
    services.create_expenditure({**base, "code": "X2", "date": date(2025, 9, 30), "amount": "129000", "currency": "KES",
                               "rate": "0.00775"})
    services.create_expenditure({**base, "code": "X3", "date": date(2025, 10, 1), "amount": "1", "currency": "KES",
                               "rate": "0.005"})
    q3 = figures(services, db, Q3, "4.1")
    assert q3.period_actual == Decimal("1999.75")
    assert figures(services, db, Q4, "4.1").period_actual == Decimal("0.01")
    assert figures(services, db, Q4, "4.1").cumulative_actual == Decimal("1999.76")


def test_targets_cumulative_and_life_for_sum_and_level(services, db):
    for q, v in (("2025-Q3", 4), ("2025-Q4", 6), ("2026-Q1", 5)):
        services.set_target("1.1", q, v)
    for q, v in (("2025-Q3", 10), ("2025-Q4", 12), ("2026-Q1", 15)):
        services.set_target("1.4", q, v)
    services.create_training(training("T1", date(2025, 8, 1)))
    services.create_training(training("T2", date(2025, 10, 3)))
    f = figures(services, db, Q4, "1.1")
    assert (f.period_target, f.cumulative_target, f.life_target) == (6, 10, 15)
    assert (f.period_actual, f.cumulative_actual, f.status, f.cumulative_status) == (1, 2, "below_target",
                                                                                     "below_target")
    g = figures(services, db, Q4, "1.4")
    assert (g.period_target, g.cumulative_target, g.life_target) == (12, 12, 15)
    assert (g.status, g.cumulative_status) == ("no_data", "no_data")


def test_status_band_edges_through_the_engine(services, db):
    services.set_target("1.1", "2025-Q3", 20)
    for n in range(17):  # 17 / 20 = exactly 85 %
        services.create_training(training(f"T{n}", date(2025, 7, 1 + n)))
    assert figures(services, db, Q3, "1.1").status == "on_track"
    services.set_target("1.1", "2025-Q3", 0)
    assert figures(services, db, Q3, "1.1").status == "no_target"


def test_manual_outcomes_sum_and_refuse_computed_indicators(services, db):
    services.set_result("OC1", "2025-Q3", 4, "ODPP CMS")
    services.set_result("OC1", "2025-Q4", 3)
    services.set_target("OC1", "2025-Q4", 3)
    f = figures(services, db, Q4, "OC1")
    assert (f.period_actual, f.cumulative_actual, f.status) == (3, 7, "on_track")
    assert figures(services, db, Q1, "OC1").period_actual == 0
    with pytest.raises(Exception, match="computed from the records"):
        services.set_result("1.1", "2025-Q3", 4)


def test_json_shape_is_exactly_the_spec(services, db):
    services.set_target("4.1", "2025-Q3", "1000.5")
    with db.reading() as s:
        data = IndicatorEngine(s, services.partnership_id).progress(Q3).as_json()
    assert list(data) == ["period", "as_of", "indicators"]
    assert data["period"] == "2025-Q3" and data["as_of"] is None
    keys = ["code", "name", "unit", "period_target", "period_actual", "cumulative_target", "cumulative_actual",
            "life_target", "status", "cumulative_status"]
    assert all(list(i) == keys for i in data["indicators"])
    money = next(i for i in data["indicators"] if i["code"] == "4.1")
    assert (money["period_target"], money["period_actual"], money["status"]) == (1000.5, 0, "below_target")
    level = next(i for i in data["indicators"] if i["code"] == "1.4")
    assert level["period_actual"] is None and level["status"] == "no_target"


def test_a_manual_value_is_never_rounded_to_its_indicators_places(services, db):
    """2.5 cases would show as 3 in two quarters and 5 cumulative: refused instead, naming the rule."""
    with pytest.raises(ValidationError) as refused:
        services.set_result("OC1", "2025-Q3", "2.5")
    assert refused.value.lines() == ["Value: 2.5 is not a whole number; indicator OC1 counts cases in whole numbers"]
    services.create_indicator({"code": "X1", "name": "Share of files reviewed", "unit": "%", "kind": "level",
                               "decimals": 1})
    services.set_result("X1", "2025-Q3", "12.5")
    with pytest.raises(ValidationError, match=r"12.25 has more than 1 decimal place; indicator X1 is kept to 1"):
        services.set_result("X1", "2025-Q3", "12.25")
    services.set_result("OC1", "2025-Q3", "4.00")  # a whole number written with decimals is whole
    assert figures(services, db, Q3, "OC1").period_actual == 4
    assert figures(services, db, Q3, "X1").period_actual == Decimal("12.5")


def test_a_target_is_never_rounded_to_its_indicators_places(services, db):
    """A target of 2.5 training sessions showed as 2 in the progress table (and 3 in Excel) beside 2.5 in the
    JSON: refused instead, as a manual value is; a mean, a share, hours and money keep their places."""
    with pytest.raises(ValidationError) as refused:
        services.set_target("1.1", "2025-Q3", "2.5")
    assert refused.value.lines() == ["Target: 2.5 is not a whole number; indicator 1.1 counts sessions in whole "
                                     "numbers"]
    with pytest.raises(ValidationError, match=r"^Target: 7.45 has more than 1 decimal place; indicator 1.4 is kept"):
        services.set_target("1.4", "2025-Q3", "7.45")
    for code, value in (("1.1", "3.0"), ("1.4", "7.4"), ("3.2", "82.5"), ("2.3", "12.25"), ("4.1", "1000.5")):
        services.set_target(code, "2025-Q3", value)
        assert figures(services, db, Q3, code).period_target == Decimal(value)
