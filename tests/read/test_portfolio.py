"""The portfolio roll-up: `progress --all-partnerships` (docs/reference/cli.md, docs/reference/indicators.md).

Each partnership's figures in it are its own `progress --format json`; an indicator adds up across
partnerships only where code, unit and kind (and, for money, the grant currency) agree; a mean or a share is
pooled from the partnerships' numerators and denominators, recomputed here from the records by hand."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from mou_tracker.cli import cli
from mou_tracker.services import Services
from mou_tracker.services.users import add_user
from tests.helpers import as_user, attendee, engagement, training

UG = "UG-ODPP-HTI-2026"
KE = "ODPP-HTI-2025"
PARTIES = [{"code": "hti", "name": "HTI", "fiscal_start_month": 10, "fiscal_label_style": "end_year",
            "currency": "USD"},
           {"code": "odpp", "name": "ODPP Uganda", "fiscal_start_month": 7, "fiscal_label_style": "split",
            "currency": "UGX"}]
INDICATOR_KEYS = ["code", "name", "unit", "period_target", "period_actual", "cumulative_target", "cumulative_actual",
                  "life_target", "status", "cumulative_status"]


def run(db_url: str, *args: str, user: str = "tester"):
    return CliRunner().invoke(cli, [*as_user(db_url, user), *args])


def grant(svc: Services, currency: str, spent: list[tuple[str, date, str]]) -> None:
    svc.create_grant({"code": "G1", "funder": "HTI", "currency": currency, "amount": "500000",
                      "start_date": date(2025, 1, 1), "end_date": date(2027, 12, 31)})
    svc.create_budget_line({"code": "TR", "name": "Trainings", "category": "training", "amount": "250000"})
    for code, day, amount in spent:
        svc.create_expenditure({"code": code, "date": day, "line_code": "TR", "description": "venue",
                                "amount": amount, "currency": currency})


@pytest.fixture
def two(services, db):
    """Kenya and Uganda, with look-alike training IDs, scores (for the pooled mean 1.4), engagements, targets
    and USD spending in both."""
    add_user(services, "tester", "admin")
    ke = services
    ke.create_training(training("TR-2025-001", date(2025, 8, 5)))
    for name, pre, post in (("Amina Odhiambo", 40, 70), ("Peter Kamau", 50, 60)):  # gains 30, 10
        ke.add_attendance(attendee("TR-2025-001", name, pre=pre, post=post))
    ke.create_engagement(engagement("TS-1", date(2025, 8, 9), hours="3.5"))
    ke.set_target("1.1", "2025-Q3", 1)
    grant(ke, "USD", [("EX-1", date(2025, 8, 6), "1000.10")])
    ke.add_partnership({"code": UG, "name": "Uganda", "country": "Uganda", "start_date": date(2025, 6, 1)}, PARTIES)
    ug = Services(db, "tester", partnership=UG)
    ug.create_training(training("TR-2025-001", date(2025, 9, 2), county="Busia"))
    ug.create_training(training("TR-2025-002", date(2025, 9, 9), county="Busia"))
    for code, name, pre, post in (("TR-2025-001", "Sarah Nakato", 20, 80), ("TR-2025-002", "John Okello", 55, 60),
                                  ("TR-2025-002", "Grace Auma", 60, 61)):  # gains 60, 5, 1
        ug.add_attendance(attendee(code, name, agency="Judiciary", pre=pre, post=post))
    ug.create_engagement(engagement("TS-1", date(2025, 7, 20), hours="1.25"))
    ug.set_target("1.1", "2025-Q3", 4)
    grant(ug, "USD", [("EX-1", date(2025, 9, 3), "250.05"), ("EX-2", date(2025, 9, 30), "10")])
    return ke, ug


def all_json(db_url: str, *extra: str) -> dict:
    out = run(db_url, "progress", "--all-partnerships", "--period", "2025-Q3", "--format", "json", *extra)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_all_partnerships_json_has_the_documented_shape_and_each_partnership_its_own_figures(two, db_url):
    data = all_json(db_url)
    assert list(data) == ["period", "as_of", "partnerships", "portfolio"]
    assert (data["period"], data["as_of"]) == ("2025-Q3", None)
    assert [(p["code"], p["name"]) for p in data["partnerships"]] == [
        (KE, "ODPP-HTI partnership against human trafficking"), (UG, "Uganda")]
    for member in data["partnerships"]:
        assert list(member) == ["code", "name", "indicators"]
        own = run(db_url, "--partnership", member["code"], "progress", "--period", "2025-Q3", "--format", "json")
        assert own.exit_code == 0, own.output
        assert member["indicators"] == json.loads(own.stdout)["indicators"]
        assert all(list(i) == INDICATOR_KEYS for i in member["indicators"])
    for line in data["portfolio"]:
        assert list(line) == ["code", "name", "unit", "period_actual", "cumulative_actual", "partnerships"]


def test_sums_add_up_and_means_are_pooled(two, db_url):
    line = {x["code"]: x for x in all_json(db_url)["portfolio"]}
    assert (line["1.1"]["period_actual"], line["1.1"]["partnerships"]) == (3, 2)
    assert line["1.2"]["period_actual"] == 5 and line["1.3"]["period_actual"] == 2
    assert line["2.3"]["period_actual"] == 4.75 and line["2.1"]["cumulative_actual"] == 2
    # 4.1 in USD in both: 1000.10 + 250.05 + 10.00, and its unit is the common currency
    assert (line["4.1"]["period_actual"], line["4.1"]["unit"]) == (1260.15, "USD")
    # the pooled mean gain: (30 + 10 + 60 + 5 + 1) / 5 = 21.2, not the mean of the means (20 and 22) = 21.0
    assert line["1.4"]["period_actual"] == 21.2
    assert line["1.4"]["unit"] == "percentage points"
    # nothing to average anywhere: null, never 0
    assert line["3.2"]["period_actual"] is None and line["3.2"]["partnerships"] == 2
    assert [x["code"] for x in all_json(db_url)["portfolio"]][:3] == ["OC1", "OC2", "1.1"]


def test_indicators_that_do_not_agree_are_shown_per_partnership_only(two, db_url):
    ke, ug = two
    ke.create_indicator({"code": "X1", "name": "Referrals made", "unit": "referrals", "kind": "sum"})
    ug.create_indicator({"code": "X1", "name": "Referral rate", "unit": "%", "kind": "level"})
    ke.set_result("X1", "2025-Q3", 3)
    data = all_json(db_url)
    codes = [x["code"] for x in data["portfolio"]]
    assert "X1" not in codes and "1.1" in codes
    table = run(db_url, "progress", "--all-partnerships", "--period", "2025-Q3")
    assert table.exit_code == 0, table.output
    assert "Shown per partnership only (unit, kind or currency differ): X1" in table.stdout
    assert f"{KE} — " in table.stdout and f"{UG} — Uganda" in table.stdout


def test_money_in_different_currencies_is_not_added(services, db, db_url):
    add_user(services, "tester", "admin")
    grant(services, "USD", [("EX-1", date(2025, 8, 6), "100")])
    services.add_partnership({"code": UG, "name": "Uganda", "country": "Uganda", "start_date": date(2025, 6, 1)},
                             PARTIES)
    ug = Services(db, "tester", partnership=UG)
    grant(ug, "UGX", [("EX-1", date(2025, 8, 6), "370000")])
    codes = [x["code"] for x in all_json(db_url)["portfolio"]]
    assert "4.1" not in codes and "1.1" in codes
    # a partnership with no grant has spent nothing in any currency: it does not block the roll-up
    services.add_partnership({"code": "DCI-HTI", "name": "DCI", "country": "Kenya", "start_date": date(2025, 6, 1)},
                             [PARTIES[0]])
    three = all_json(db_url)
    assert [p["code"] for p in three["partnerships"]] == ["DCI-HTI", KE, UG]
    assert {x["code"]: x["partnerships"] for x in three["portfolio"]}["1.1"] == 3


def test_as_of_leaves_out_a_partnership_that_did_not_exist_yet(two, db_url):
    data = all_json(db_url, "--as-of", "2000-01-01")
    assert data["as_of"] == "2000-01-01" and data["partnerships"] == [] and data["portfolio"] == []
    today = date.today().isoformat()
    live = all_json(db_url)
    assert all_json(db_url, "--as-of", today)["partnerships"] == live["partnerships"]


def test_all_partnerships_with_one_named_is_a_usage_error(two, db_url):
    out = run(db_url, "--partnership", UG, "progress", "--all-partnerships")
    assert out.exit_code == 2 and "leave out --partnership" in out.output


def test_the_pooled_figure_is_the_records_own(two, db):
    """The same 1.4 recomputed straight from the scores, not from the engine's figures."""
    from mou_tracker.domain.periods import Quarter
    from mou_tracker.read import Reader

    gains = [Decimal(x) for x in (30, 10, 60, 5, 1)]
    with Reader(db, partnership=KE) as reader:
        portfolio = reader.portfolio(Quarter(2025, 3))
    line = {x.code: x for x in portfolio.lines}["1.4"]
    assert line.period_actual == (sum(gains) / len(gains)).quantize(Decimal("0.1"))
    assert dict(line.figures)[UG].period_actual == Decimal("22.0")
