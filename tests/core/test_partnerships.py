"""`partnership add|list`, and every command keeping to the partnership --partnership names (docs/reference/cli.md)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import AuditEvent, Engagement, Indicator, Partnership, Party, Training
from mou_tracker.errors import ValidationError
from mou_tracker.services import Services
from mou_tracker.services.framework import STANDARD_INDICATORS
from mou_tracker.services.signoff import sign_off
from mou_tracker.services.users import add_user
from tests.audit.signers import register_signatory
from tests.helpers import as_user, engagement, table_counts, training
from tests.imports.helpers import write_book

UG = "UG-ODPP-HTI-2026"
UG_ARGS = ("partnership", "add", UG, "--name", "Uganda ODPP-HTI partnership", "--country", "Uganda", "--start",
           "2025-06-01", "--end", "2028-05-31", "--party", "hti=Human Trafficking Institute",
           "--party", "odpp=Office of the Director of Public Prosecutions: Uganda")


def run(db_url: str, *args: str, user: str = "tester"):
    return CliRunner().invoke(cli, [*as_user(db_url, user), *args])


def test_partnership_add_creates_parties_and_the_standard_framework(services, db, db_url):
    out = run(db_url, *UG_ARGS)
    assert out.exit_code == 0, out.output
    assert f"Partnership {UG} added" in out.stdout
    with db.reading() as s:
        p = s.execute(select(Partnership).where(Partnership.code == UG)).scalar_one()
        assert (p.name, p.country, p.start_date, p.end_date) == ("Uganda ODPP-HTI partnership", "Uganda",
                                                                 date(2025, 6, 1), date(2028, 5, 31))
        parties = {x.code: x for x in s.execute(select(Party).where(Party.partnership_id == p.id)).scalars()}
        # a name may hold a colon; a standard code keeps its profile; the country gives the currency
        assert parties["odpp"].name == "Office of the Director of Public Prosecutions: Uganda"
        assert (parties["odpp"].fiscal_start_month, parties["odpp"].currency) == (7, "UGX")
        assert (parties["hti"].fiscal_start_month, parties["hti"].fiscal_label_style, parties["hti"].currency) == (
            10, "end_year", "USD")
        codes = s.execute(select(Indicator.code).where(Indicator.partnership_id == p.id)
                          .order_by(Indicator.position)).scalars().all()
        assert codes == [d.code for d in STANDARD_INDICATORS]
        kinds = s.execute(select(AuditEvent.entity_kind).where(AuditEvent.partnership_id == p.id)).scalars().all()
        assert kinds.count("indicator") == len(STANDARD_INDICATORS) and kinds.count("party") == 2
    listed = run(db_url, "partnership", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)["partnerships"]
    assert [x["code"] for x in data] == ["ODPP-HTI-2025", UG]
    assert data[1]["parties"][1] == {"code": "odpp", "name": "Office of the Director of Public Prosecutions: Uganda",
                                     "fiscal_start_month": 7}
    table = run(db_url, "partnership", "list").stdout.splitlines()
    assert table[0].split() == ["Code", "Name", "Country", "Start", "End", "Parties"]
    assert any(line.startswith(UG) and "2028-05-31" in line for line in table)
    # with two partnerships a record command must name one; with --partnership it works on that one
    assert run(db_url, "progress", "--format", "json").exit_code == 1
    assert run(db_url, "--partnership", UG, "progress", "--format", "json").exit_code == 0


def test_a_party_month_sets_its_fiscal_year(services, db, db_url):
    out = run(db_url, "partnership", "add", "ZA-NPA-HTI", "--name", "South Africa", "--country", "South Africa",
              "--start", "2026-04-01", "--party", "npa=National Prosecuting Authority", "--party", "hti=HTI:1")
    assert out.exit_code == 0, out.output
    with db.reading() as s:
        got = {x.code: (x.fiscal_start_month, x.fiscal_label_style, x.currency)
               for x in s.execute(select(Party).join(Partnership).where(Partnership.code == "ZA-NPA-HTI")).scalars()}
    assert got == {"npa": (4, "split", "ZAR"), "hti": (1, "end_year", "USD")}


@pytest.mark.parametrize("args, message", [
    (("partnership", "add", "odpp-hti-2025", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "hti=HTI"), "Code: partnership ODPP-HTI-2025 already exists (ODPP-HTI partnership against human "
                             "trafficking, Kenya); choose another code"),
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "dci=Directorate of Criminal Investigations:13"), "--party: dci: fiscal-year start month 13 is not "
                                                                  "a month (1-12)"),
    # a fiscal year is counted in calendar quarters: one starting in February was accepted and every report
    # of the partnership then failed with "unexpected problem (PeriodError)"
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "hti=HTI:2"), "--party: hti: a fiscal year starting in month 2 (February) does not begin a "
                               "calendar quarter; the tracker counts fiscal years in calendar quarters, so give "
                               "1, 4, 7 or 10"),
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-02-30",
      "--party", "dci=DCI"), "--start: '2026-02-30' is not a date; write it as YYYY-MM-DD"),
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01", "--end",
      "2025-12-31", "--party", "dci=DCI"), "--end: 2025-12-31 is before the start 2026-01-01"),
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "dci=DCI", "--party", "DCI=Again"), "--party: party dci is given twice"),
    (("partnership", "add", "DCI-HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "dci"), "--party: 'dci' is not CODE=NAME[:FY_START_MONTH]"),
    (("partnership", "add", "DCI HTI", "--name", "x", "--country", "Kenya", "--start", "2026-01-01",
      "--party", "dci=DCI"), "Code: 'DCI HTI' is not a partnership code"),
])
def test_partnership_add_refusals_write_nothing(services, db, db_url, args, message):
    before = table_counts(db)
    out = run(db_url, *args)
    assert out.exit_code == 1, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), out.stderr
    assert table_counts(db) == before


def test_only_an_admin_adds_a_partnership(services, db, db_url):
    add_user(services, "tester", "admin")
    add_user(services, "mary", "manager")
    before = table_counts(db)
    for user in ("mary", "stranger"):
        out = run(db_url, *UG_ARGS, user=user)
        assert out.exit_code == 1 and "only an admin can add a partnership" in out.stderr, out.output
    assert table_counts(db) == before
    assert run(db_url, *UG_ARGS, user="tester").exit_code == 0


def test_on_a_new_database_the_first_user_gets_going(tmp_path):
    """`init` makes its user the first admin, so a person alone with a fresh SQLite file can add partnerships."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert CliRunner().invoke(cli, ["--db", url, "--user", "amani", "init"]).exit_code == 0
    out = CliRunner().invoke(cli, ["--db", url, "--user", "amani", *UG_ARGS])
    assert out.exit_code == 0, out.output


# Two partnerships with look-alike record IDs -------------------------------------------------------------------
@pytest.fixture
def two(services, db, tmp_path):
    """The seeded Kenyan partnership and a Ugandan one, each with a training TR-2025-001 (different titles),
    targets, and an HTI sign-off of 2025-Q3 in Kenya only."""
    add_user(services, "tester", "admin")
    ke = services
    ke.create_training(training("TR-2025-001", date(2025, 8, 5), title="Kenya evidence course"))
    ke.set_target("1.1", "2025-Q3", 1)
    key = register_signatory(ke, tmp_path / "keys", "alice", "hti")
    sign_off(Services(db, "alice"), "2025-Q3", "hti", "Kenya figures", key=key)
    ke.add_partnership({"code": UG, "name": "Uganda", "country": "Uganda", "start_date": date(2025, 6, 1)},
                       [{"code": "hti", "name": "HTI", "fiscal_start_month": 10, "fiscal_label_style": "end_year",
                         "currency": "USD"},
                        {"code": "odpp", "name": "ODPP Uganda", "fiscal_start_month": 7,
                         "fiscal_label_style": "split", "currency": "UGX"}])
    ug = Services(db, "tester", partnership=UG)
    for code, day in (("TR-2025-001", date(2025, 9, 2)), ("TR-2025-002", date(2025, 9, 9))):
        ug.create_training(training(code, day, title=f"Uganda course {code[-1]}", county="Busia"))
    ug.set_target("1.1", "2025-Q3", 4)
    return ke, ug


def test_each_command_keeps_to_its_partnership(two, db, db_url, tmp_path):
    for code, title, other, actual in ((UG, "Uganda course 1", "Kenya evidence course", 2),
                                       ("ODPP-HTI-2025", "Kenya evidence course", "Uganda course", 1)):
        where = ["--partnership", code]
        progress = json.loads(run(db_url, *where, "progress", "--period", "2025-Q3", "--format", "json").stdout)
        row = next(i for i in progress["indicators"] if i["code"] == "1.1")
        assert (row["period_actual"], row["period_target"]) == (actual, 4 if code == UG else 1)

        log = run(db_url, *where, "audit", "log", "--entity", "training", "--id", "TR-2025-001")
        assert log.exit_code == 0, log.output
        assert title in log.stdout and other not in log.stdout

        status = run(db_url, *where, "period", "status", "2025-Q3")
        assert status.exit_code == 0, status.output
        assert ("Kenya figures" in status.stdout) is (code != UG)
        assert ("not yet signed by HTI" in status.stdout) is (code == UG)

        out = tmp_path / f"{code}.xlsx"
        report = run(db_url, *where, "report", "--party", "hti", "--period", "2025-Q3", "--output", str(out))
        assert report.exit_code == 0, report.output
        cells = [str(c.value) for ws in load_workbook(out).worksheets for r in ws.iter_rows() for c in r if c.value]
        assert any(title in c for c in cells) and not any(other in c for c in cells)


def test_a_party_of_another_partnership_signs_its_quarters(services, db, db_url, tmp_path):
    """The DCI MoU's parties are HTI and DCI: DCI's signatory signs off with --party dci; a party the
    partnership does not have is refused, naming its parties."""
    add_user(services, "tester", "admin")
    assert run(db_url, "partnership", "add", "DCI-HTI-2026", "--name", "DCI-HTI", "--country", "Kenya", "--start",
               "2025-06-01", "--party", "hti=Human Trafficking Institute",
               "--party", "dci=Directorate of Criminal Investigations").exit_code == 0
    key = register_signatory(services, tmp_path / "keys", "wanjiku", "dci")
    where = ["--partnership", "DCI-HTI-2026", "period", "signoff", "2025-Q3", "--key", str(key)]
    out = run(db_url, *where, "--party", "DCI", user="wanjiku")
    assert out.exit_code == 0, out.output
    assert "Directorate of Criminal Investigations (DCI) signed off 2025-Q3 as wanjiku" in out.stdout
    assert "Waiting for HTI" in out.stdout
    refused = run(db_url, *where, "--party", "odpp", user="wanjiku")
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.output
    status = run(db_url, "--partnership", "DCI-HTI-2026", "period", "status", "2025-Q3").stdout
    assert "signed by Directorate of Criminal Investigations (DCI): wanjiku" in status
    assert "Directorate" not in run(db_url, "--partnership", "ODPP-HTI-2025", "period", "status", "2025-Q3").stdout


def test_a_county_is_one_of_kenyas_only_in_kenya(two, db, db_url, tmp_path):
    """A Uganda partnership could record no training: its districts were refused as "not one of Kenya's 47
    counties". Outside Kenya a county is the place as written (inner spaces collapsed); Kenya keeps its list,
    in the service layer and in an import alike."""
    ke, ug = two
    ug.create_training(training("TR-UG-9", date(2025, 9, 3), county="  Wakiso   District "))
    ug.create_engagement(engagement("TS-UG-9", date(2025, 9, 4), county="Kampala"))
    with pytest.raises(ValidationError, match="County: 'Kampala' is not one of Kenya's 47 counties"):
        ke.create_training(training("TR-KE-9", date(2025, 9, 3), county="Kampala"))
    with db.reading() as s:
        places = dict(s.execute(select(Training.code, Training.county).where(Training.code == "TR-UG-9")).all())
        places |= dict(s.execute(select(Engagement.code, Engagement.county).where(Engagement.code == "TS-UG-9")).all())
    assert places == {"TR-UG-9": "Wakiso District", "TS-UG-9": "Kampala"}

    book = write_book(tmp_path / "places.xlsx", {"Trainings": [
        {"Training ID": "TR-UG-10", "Title": "Trial advocacy (Gulu)", "Topic": "Trial advocacy",
         "Start date": date(2025, 9, 10), "End date": date(2025, 9, 12), "County": "Gulu"}]})
    before = table_counts(db)
    refused = run(db_url, "--partnership", "ODPP-HTI-2025", "import", str(book))
    assert refused.exit_code == 1, refused.output
    assert "Trainings!F2" in refused.output and "'Gulu' is not one of Kenya's 47 counties" in refused.output
    assert table_counts(db) == before
    done = run(db_url, "--partnership", UG, "import", str(book))
    assert done.exit_code == 0, done.output
    with db.reading() as s:
        assert s.execute(select(Training.county).where(Training.code == "TR-UG-10")).scalar_one() == "Gulu"
