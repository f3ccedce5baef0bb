"""`report --portfolio` on both backends: a Cover, the Portfolio roll-up (a column per partnership and the
totals, a native chart) and a summary tracking table per partnership, read back with openpyxl and
python-calamine; each partnership's sheet equals its own `progress --format json`, the totals equal
`progress --all-partnerships --format json`."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from mou_tracker.cli import cli
from mou_tracker.reports.portfolio import sheet_names
from mou_tracker.services import Services
from mou_tracker.services.users import add_user
from tests.helpers import as_user, attendee, engagement, training
from tests.reports.conftest import (
    assert_tracking_table_matches,
    calamine_table,
    number_or_none,
    sheet_xml,
    table_rows,
)

KE, UG = "ODPP-HTI-2025", "UG-ODPP-HTI-2026"
PERIOD = "2025-Q3"
PARTIES = [{"code": "hti", "name": "HTI", "fiscal_start_month": 10, "fiscal_label_style": "end_year",
            "currency": "USD"},
           {"code": "odpp", "name": "=ODPP Uganda", "fiscal_start_month": 7, "fiscal_label_style": "split",
            "currency": "UGX"}]


def run(db_url: str, *args: str):
    result = CliRunner().invoke(cli, [*as_user(db_url, "tester"), *args])
    assert "Traceback" not in result.output
    return result


def _grant(svc: Services, currency: str, amount: str) -> None:
    svc.create_grant({"code": "G1", "funder": "HTI", "currency": currency, "amount": "500000000",
                      "start_date": date(2025, 1, 1), "end_date": date(2027, 12, 31)})
    svc.create_budget_line({"code": "TR", "name": "Trainings", "category": "training", "amount": "250000000"})
    svc.create_expenditure({"code": "EX-1", "date": date(2025, 8, 6), "line_code": "TR", "description": "venue",
                            "amount": amount, "currency": currency})


@pytest.fixture
def two(services, db):
    """Kenya (USD) and Uganda (UGX: indicator 4.1 does not roll up), with look-alike IDs and targets."""
    add_user(services, "tester", "admin")
    ke = services
    ke.create_training(training("TR-2025-001", date(2025, 8, 5)))
    for name, pre, post in (("Amina Odhiambo", 40, 70), ("Peter Kamau", 50, 60)):
        ke.add_attendance(attendee("TR-2025-001", name, pre=pre, post=post))
    ke.create_engagement(engagement("TS-1", date(2025, 8, 9), hours="3.5"))
    ke.set_target("1.1", PERIOD, 1)
    ke.set_target("1.2", PERIOD, 10)
    _grant(ke, "USD", "1000.10")
    ke.add_partnership({"code": UG, "name": "=Uganda programme", "country": "Uganda",
                        "start_date": date(2025, 6, 1)}, PARTIES)
    ug = Services(db, "tester", partnership=UG)
    for code, day in (("TR-2025-001", date(2025, 9, 2)), ("TR-2025-002", date(2025, 9, 9))):
        ug.create_training(training(code, day, county="Busia"))
    for code, name, pre, post in (("TR-2025-001", "Sarah Nakato", 20, 80), ("TR-2025-002", "John Okello", 55, 60),
                                  ("TR-2025-002", "Grace Auma", 60, 61)):
        ug.add_attendance(attendee(code, name, agency="Judiciary", pre=pre, post=post))
    ug.create_engagement(engagement("TS-1", date(2025, 7, 20), hours="1.25"))
    ug.set_target("1.1", PERIOD, 4)
    _grant(ug, "UGX", "2500000")
    return ke, ug


def portfolio_report(db_url: str, out: Path, *extra: str) -> Path:
    result = run(db_url, "report", "--portfolio", "--period", PERIOD, "--output", str(out), *extra)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    return out


def progress(db_url: str, *extra: str) -> dict:
    result = run(db_url, *extra, "progress", "--period", PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_each_partnership_sheet_equals_its_own_progress_json(two, db_url, tmp_path):
    out = portfolio_report(db_url, tmp_path / "portfolio.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Cover", "Portfolio", KE, UG]
    for index, code in enumerate((KE, UG), 1):
        expected = run(db_url, "--partnership", code, "progress", "--period", PERIOD, "--format", "json")
        expected = json.loads(expected.stdout)["indicators"]
        table = f"Tracking{index}_{code.replace('-', '_')}"
        for header, rows in (table_rows(out, code, table), calamine_table(out, code, table)):
            assert_tracking_table_matches(header, rows, {"indicators": expected}, PERIOD)
    assert wb[UG].conditional_formatting  # statuses coloured


def test_portfolio_sheet_equals_the_all_partnerships_json(two, db_url, tmp_path):
    out = portfolio_report(db_url, tmp_path / "portfolio.xlsx")
    data = json.loads(run(db_url, "progress", "--all-partnerships", "--period", PERIOD, "--format", "json").stdout)
    own = {p["code"]: {i["code"]: i for i in p["indicators"]} for p in data["partnerships"]}
    for header, rows in (table_rows(out, "Portfolio", "Portfolio"), calamine_table(out, "Portfolio", "Portfolio")):
        assert header == ["Code", "Indicator", "Unit", "Partnerships rolled up", KE, UG, f"Total {PERIOD}",
                          "Total to date"]
        assert [r[0] for r in rows] == [line["code"] for line in data["portfolio"]]
        for row, line in zip(rows, data["portfolio"], strict=True):
            assert (row[1], row[2], row[3]) == (line["name"], line["unit"], line["partnerships"])
            assert number_or_none(row[6]) == line["period_actual"], row[0]
            assert number_or_none(row[7]) == line["cumulative_actual"], row[0]
            for i, code in ((4, KE), (5, UG)):
                assert number_or_none(row[i]) == own[code][row[0]]["period_actual"], (row[0], code)
    rows = {r[0]: r for r in table_rows(out, "Portfolio", "Portfolio")[1]}
    assert "4.1" not in rows  # USD and UGX never add up
    assert rows["1.1"][6] == 3 and rows["1.4"][6] == 21.2  # 1 + 2 sessions; gains 30, 10, 60, 5, 1 pooled
    ws = load_workbook(out)["Portfolio"]
    notes = " ".join(str(c.value) for row in ws.iter_rows(max_row=4) for c in row if c.value)
    assert "Shown per partnership only: 4.1." in notes
    cover = {r[0].value: r[1].value for r in load_workbook(out)["Cover"].iter_rows(min_row=4) if r[0].value}
    assert cover["Shown per partnership only"].startswith("4.1:")
    assert cover["Reporting period"].startswith("FY2025 Q4: 2025-Q3")  # HTI's fiscal labels
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert "<barChart>" in xml and "<strRef><f>'Portfolio'!$E$5:$F$5</f>" in xml  # the partnership columns
    for name, sheet in sheet_xml(out).items():  # names starting with = stay text
        assert "<f>" not in sheet and "<f " not in sheet, name
    assert load_workbook(out)[UG]["A1"].value == f"{UG}: =Uganda programme"


def test_usage_and_refusals(two, db, db_url, tmp_path):
    out = tmp_path / "p.xlsx"
    for args in ([], ["--portfolio", "--party", "hti"]):
        result = run(db_url, "report", *args, "--output", str(out))
        assert result.exit_code == 2 and "exactly one of --party" in result.output
    result = run(db_url, "--partnership", KE, "report", "--portfolio", "--output", str(out))
    assert result.exit_code == 2 and "leave out --partnership" in result.output
    result = run(db_url, "report", "--portfolio", "--include-personal-data", "--output", str(out))
    assert result.exit_code == 2
    result = run(db_url, "report", "--portfolio", "--output", str(tmp_path / "p.csv"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "p.csv").exists()
    if db_url.startswith("sqlite"):
        target = Path(db_url.removeprefix("sqlite:///"))
        before = target.read_bytes()
        result = run(db_url, "report", "--portfolio", "--output", str(target))
        assert result.exit_code == 1 and target.read_bytes() == before
    # as of a day: the state rebuilt from the trail (both partnerships were recorded today)
    today = portfolio_report(db_url, tmp_path / "as-of.xlsx", "--as-of", datetime.now(UTC).date().isoformat())
    assert load_workbook(today).sheetnames == ["Cover", "Portfolio", KE, UG]


def test_sheet_names_are_sanitised_unique_and_never_cover_or_portfolio():
    assert sheet_names(["KE/DCI:2025", "Cover", "portfolio", "A" * 40, "A" * 40, "x[1]*?"]) == [
        "KE-DCI-2025", "Cover (2)", "portfolio (2)", "A" * 31, "A" * 27 + " (2)", "x-1---"]
