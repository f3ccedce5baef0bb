"""Grant figures (docs/reference/grant.md): spent, remaining, utilisation, cash, burn rate, warnings, cost
per result."""

from datetime import date
from decimal import Decimal

from mou_tracker.services.finance import grant_figures
from tests.helpers import attendee, engagement, training


def setup_grant(services, amount="120000", end=date(2026, 12, 31)):
    services.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": amount,
                         "start_date": date(2025, 1, 1), "end_date": end})
    services.create_budget_line({"code": "TR", "name": "Trainings", "category": "training", "amount": "60000"})
    services.create_budget_line({"code": "TS", "name": "Mentoring", "category": "Technical support",
                               "amount": "60000"})


def spend(services, code, day, amount, line="TR", currency="USD", rate=None):
    services.create_expenditure({"code": code, "date": day, "line_code": line, "description": "x", "amount": amount,
                               "currency": currency, "rate": rate})


def figures(services, db, as_at):
    with db.reading() as s:
        return grant_figures(s, services.partnership_id, as_at)[0]


def test_spent_remaining_cash_and_burn(services, db):
    setup_grant(services)
    services.create_disbursement({"date": date(2025, 1, 5), "amount": "30000", "currency": "USD",
                                "reference": "T1"})
    spend(services, "X1", date(2025, 3, 10), "3000")
    spend(services, "X2", date(2025, 5, 10), "1000")
    spend(services, "X3", date(2025, 6, 10), "129000", line="TS", currency="KES", rate="0.0077")  # 993.30
    spend(services, "X4", date(2025, 7, 1), "999")  # after the as-at date: not counted
    g = figures(services, db, date(2025, 6, 30))
    assert g.spent == Decimal("4993.30")
    assert g.remaining == Decimal("115006.70")
    assert g.cash_on_hand == Decimal("25006.70")
    assert g.pct_utilised == Decimal("4.2")
    # last three months: April-June 2025 = 1000 + 993.30
    assert g.burn_rate == Decimal("664.43")
    lines = {ln.code: ln for ln in g.lines}
    assert (lines["TR"].spent, lines["TS"].spent, lines["TS"].pct_utilised) == (Decimal("4000.00"),
                                                                               Decimal("993.30"), Decimal("1.7"))
    assert lines["TR"].category == "Training"  # canonical spelling


def test_underspend_warning(services, db):
    setup_grant(services)
    spend(services, "X1", date(2025, 6, 1), "100")
    g = figures(services, db, date(2025, 6, 30))
    assert any("left unspent" in w for w in g.warnings)


def test_overspend_warning_names_when_the_money_runs_out(services, db):
    setup_grant(services, amount="20000")
    for m in (4, 5, 6):
        spend(services, f"X{m}", date(2025, m, 15), "5000")
    g = figures(services, db, date(2025, 6, 30))
    assert g.burn_rate == Decimal("5000.00")
    assert any("runs out about 2025-07" in w for w in g.warnings), g.warnings


def test_on_plan_spending_has_no_warning(services, db):
    setup_grant(services, amount="24000", end=date(2025, 12, 31))
    for m in range(1, 7):
        spend(services, f"X{m}", date(2025, m, 15), "2000")
    assert figures(services, db, date(2025, 6, 30)).warnings == []


def test_variance_against_planned_spend(services, db):
    setup_grant(services)
    services.set_target("4.1", "2025-Q1", "5000")
    services.set_target("4.1", "2025-Q2", "5000")
    spend(services, "X1", date(2025, 2, 1), "7000")
    g = figures(services, db, date(2025, 6, 30))
    assert (g.planned_to_date, g.variance) == (Decimal("10000"), Decimal("-3000.00"))


def test_cost_per_result(services, db):
    setup_grant(services)
    services.create_training(training("T1", date(2025, 3, 1)))
    for name in ("A", "B", "C", "D"):
        services.add_attendance(attendee("T1", name))
    services.create_engagement(engagement("E1", date(2025, 3, 2), case="C-1"))
    services.create_engagement(engagement("E2", date(2025, 3, 3), case="C-2"))
    spend(services, "X1", date(2025, 3, 5), "1000", line="TR")
    spend(services, "X2", date(2025, 3, 6), "500", line="TS")
    g = figures(services, db, date(2025, 3, 31))
    assert (g.cost_per_person_trained, g.cost_per_case_mentored) == (Decimal("250.00"), Decimal("250.00"))
