"""`report --party CODE` for a partnership whose national partner is not ODPP (HTI's MoU with Kenya's DCI):
the partner's report is filled from the partner template with that party's own fiscal calendar, and says so;
a code that is not a party of the partnership is a usage error naming its parties. Both backends."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from mou_tracker.cli import cli
from mou_tracker.errors import NotFound
from mou_tracker.read import Reader
from mou_tracker.reports import generate_report
from mou_tracker.services import Services
from tests.helpers import as_user, training

DCI = "DCI-HTI-2026"


def run(db_url: str, *args: str):
    result = CliRunner().invoke(cli, [*as_user(db_url, "tester"), *args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def dci(services, db, db_url):
    added = run(db_url, "partnership", "add", DCI, "--name", "Kenya DCI and HTI", "--country", "Kenya",
                "--start", "2026-03-01", "--party", "hti=Human Trafficking Institute:10",
                "--party", "dci=Directorate of Criminal Investigations:7")
    assert added.exit_code == 0, added.output
    svc = Services(db, "tester", partnership=DCI)
    svc.create_training(training("TR-2025-001", date(2026, 8, 5)))  # the ODPP partnership's ID, again
    return svc


def test_a_partner_party_gets_its_report_from_the_partner_template(dci, db_url, tmp_path):
    out = tmp_path / "dci.xlsx"
    done = run(db_url, "--partnership", DCI, "report", "--party", "dci", "--period", "2026-Q3", "--output", str(out))
    assert done.exit_code == 0, done.output
    assert "party dci has no template of its own (dci.xlsx): the partner template odpp.xlsx is used" in done.output
    cover = [[c for c in row if c != ""] for row in CalamineWorkbook.from_path(str(out)).get_sheet_by_name(
        "Cover").to_python()]
    assert ["MoU progress report for Directorate of Criminal Investigations"] in cover
    assert ["Reporting period", "FY2026/27 Q1: 2026-Q3, 2026-07-01 to 2026-09-30"] in cover  # DCI's July year
    trainings = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Trainings").to_python()
    assert sum(row.count("TR-2025-001") for row in trainings) == 1  # DCI's own training, not ODPP's


@pytest.mark.parametrize("party", ["odpp", "XYZ", "the donor"])
def test_a_code_that_is_no_party_of_the_partnership_is_a_usage_error(dci, db_url, tmp_path, party):
    out = tmp_path / "r.xlsx"
    done = run(db_url, "--partnership", DCI, "report", "--party", party, "--output", str(out))
    assert done.exit_code == 2
    assert f"'{party}' is not a party of {DCI} (parties: dci, hti)" in done.output
    assert not out.exists()


def test_the_service_refuses_a_party_the_partnership_lacks(dci, db, tmp_path):
    with Reader(db, partnership=DCI) as reader, pytest.raises(NotFound, match=r"has no party 'odpp' "
                                                                             r"\(parties: dci, hti\)"):
        generate_report(reader, party="odpp", period="2026-Q3", output=tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()
