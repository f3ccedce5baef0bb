"""Reports from small databases on both backends (SQLite and PostgreSQL): text that looks like a formula
stays text, the Sign-off sheet lists what is signed, an empty programme gives empty-state rows, and the
Python entry point the UI calls reports progress and refuses bad arguments clearly."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import ValidationError
from mou_tracker.read import Reader
from mou_tracker.reports import generate_report
from mou_tracker.reports.fill import FORMULA_TRIGGERS
from mou_tracker.services import Reason, Services
from tests.helpers import as_user, attendee, engagement, milestone, training
from tests.reports.conftest import progress_json, run, sheet_xml, table_rows

TRIGGERS = ("=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1:A2)", "=1+2", "+cmd|' /C calc'!A0")


def dangerous(n: int, tag: str) -> str:
    return f"{TRIGGERS[n % len(TRIGGERS)]} {tag}"


def fill_with_formula_lookalikes(services: Services, db) -> list[str]:
    """Every text field the report shows, written through the service layer, starting like a formula."""
    written = []
    n = iter(range(100))

    def v(tag: str) -> str:
        text = dangerous(next(n), tag)
        written.append(text)
        return text

    services.update_party("hti", {"name": v("party")})
    services.update_indicator("1.1", {"name": v("indicator"), "definition": v("definition"),
                                      "data_source": v("source"), "how_computed": v("how"),
                                      "disaggregations": v("disagg")})
    services.set_target("1.1", "2025-Q3", 2)
    services.set_narrative("1.1", "2025-Q3", v("narrative"))
    services.create_training(training("=T1", date(2025, 7, 10), title=v("title"), topic=v("topic"), venue=v("venue")))
    services.add_attendance({**attendee("=T1", v("name"), staff=None), "role": v("role")})
    services.create_engagement(engagement("=E1", date(2025, 8, 1), case=v("case"), hti_advisor=v("advisor"),
                                        odpp_counterpart=v("counterpart"), summary=v("summary")))
    services.create_milestone(milestone("=M1", date(2025, 8, 1), title=v("milestone"), evidence=v("evidence")))
    services.update_milestone("=M1", milestone("=M1", date(2025, 9, 1), title=written[-2], evidence=written[-1]),
                            reason=Reason("other", v("reason")))
    services.create_grant({"code": "=G1", "funder": v("funder"), "currency": "USD", "amount": "1000",
                         "start_date": date(2025, 5, 1), "end_date": date(2026, 5, 1)})
    services.create_budget_line({"code": "=B1", "name": v("line"), "category": v("category"), "amount": "500"})
    services.create_disbursement({"date": date(2025, 7, 2), "amount": "100", "currency": "USD",
                                "reference": v("reference")})
    # an actor name comes from --user or the environment, unchecked: it appears as "Changed by"
    Services(db, "\t=actor()").create_milestone(milestone("=M2", date(2025, 8, 1), title="plain"))
    Services(db, "\r@actor").create_milestone(milestone("=M3", date(2025, 8, 1), title="plain"))
    return written + ["\t=actor()", "\r@actor", "=T1", "=E1", "=M1", "=G1", "=B1"]


def test_text_that_looks_like_a_formula_is_stored_as_text(services, db, db_url, tmp_path):
    written = fill_with_formula_lookalikes(services, db)
    out = generate_report(Reader(db), party="hti", period="2025-Q3", output=tmp_path / "r.xlsx",
                          include_personal_data=True)
    with zipfile.ZipFile(out) as z:
        styles = z.read("xl/styles.xml").decode()
    xfs = re.findall(r"<xf [^>]*>", re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S).group(1))
    quoted = {i for i, xf in enumerate(xfs) if 'quotePrefix="1"' in xf}
    seen = set()
    for name, xml in sheet_xml(out).items():
        assert "<f>" not in xml and "<f " not in xml, name  # the report writes no formula at all
        for attrs, body in re.findall(r"<c ([^>]*)>(.*?)</c>", xml, re.S):
            text = re.search(r"<t[^>]*>(.*?)</t>", body, re.S)
            if text is None:
                continue
            value = unescape(text.group(1).replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<"))
            if value.startswith(FORMULA_TRIGGERS):
                assert 't="inlineStr"' in attrs, (name, attrs)
                style = int(re.search(r'\bs="(\d+)"', attrs).group(1))
                assert style in quoted, (name, value)
                seen.add(value)
    missing = [w for w in written if not any(v.startswith(w) for v in seen)]
    assert not missing  # every value written reached the report (so the check above was not vacuous)
    # a second reader sees the same text, not a computed value
    cells = {str(v) for s in ("Trainings", "Milestone history", "Indicators")
             for row in CalamineWorkbook.from_path(str(out)).get_sheet_by_name(s).to_python() for v in row}
    assert {w for w in written if "title" in w or "actor" in w or "reason" in w} <= cells


def test_report_figures_equal_progress_on_each_backend(services, db, db_url, tmp_path):
    services.create_training(training("T1", date(2025, 7, 10)))
    for name, agency in (("Ann", "ODPP"), ("Ben", "DCI"), ("Cy", "ODPP")):
        services.add_attendance(attendee("T1", name, agency=agency, pre="40", post="65.5"))
    services.create_engagement(engagement("E1", date(2025, 8, 1), hours="2.5"))
    services.set_target("1.2", "2025-Q3", 2)
    services.set_target("1.4", "2025-Q3", 20)
    services.set_result("OC1", "2025-Q3", 4)
    out = tmp_path / "r.xlsx"
    result = run("--db", db_url, "report", "--party", "odpp", "--period", "2025-Q3", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    expected = progress_json(db_url, "2025-Q3")
    header, rows = table_rows(out, "Indicators", "TrackingTable")
    col = {h: i for i, h in enumerate(header)}
    for row, ind in zip(rows, expected["indicators"], strict=True):
        assert row[col["Actual 2025-Q3"]] == ind["period_actual"], ind["code"]
        assert row[col["Cumulative target"]] == ind["cumulative_target"], ind["code"]
    gain = rows[[r[0] for r in rows].index("1.4")]
    assert gain[col["Actual 2025-Q3"]] == 25.5
    assert gain[col["Numerator 2025-Q3"]] == 76.5 and gain[col["Denominator 2025-Q3"]] == 3


def test_signoff_sheet_lists_signatures_lock_and_restatements(services, db, db_url, tmp_path):
    from tests.audit.signers import register_signatory

    services.set_result("OC1", "2025-Q3", 4)
    for party, user, comment in (("hti", "hti.lead", "=Figures checked against the register"),
                                 ("odpp", "odpp.lead", None)):
        key = register_signatory(services, tmp_path / "keys", user, party)
        args = [*as_user(db_url, user), "period", "signoff", "2025-Q3", "--party", party, "--key", str(key)]
        result = run(*args, *(["--comment", comment] if comment else []))
        assert result.exit_code == 0, result.stderr
    # a later change to the locked quarter is a restatement, shown in this and the next reports
    services.set_result("OC1", "2025-Q3", 5, reason=Reason("data correction", "a late court return"))
    out = generate_report(Reader(db), party="odpp", period=Quarter(2025, 3), output=tmp_path / "r.xlsx")
    header, rows = table_rows(out, "Sign-off", "Signoffs")
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("2025-Q3", "HTI", "hti.lead", "=Figures checked against the register"),
        ("2025-Q3", "ODPP", "odpp.lead", None)]
    assert all(isinstance(r[3], datetime) and isinstance(r[5], int) and len(r[6]) == 64 for r in rows)
    assert all(r[7].startswith("SHA256:") and r[8] == "valid" for r in rows)  # signer's key, signature checks
    ws = load_workbook(out)["Sign-off"]
    assert ws["A2"].value.startswith("2025-Q3 signed off by HTI and ODPP. 2025-Q3 locked on ")
    out = generate_report(Reader(db), party="hti", period="2025-Q4", output=tmp_path / "q4.xlsx")
    header, rows = table_rows(out, "Sign-off", "Signoffs")
    assert rows == [["No party has signed off 2025-Q4 yet."] + [None] * 8]
    header, rows = table_rows(out, "Sign-off", "Restatements")
    assert [(r[0], r[1], r[2], r[3], r[4], r[6], r[7]) for r in rows] == [
        ("2025-Q3", "OC1", "4", "5", "a late court return", "tester", "data correction")]


def test_a_programme_with_no_records_gives_empty_states(services, db, tmp_path):
    out = generate_report(Reader(db), party="hti", period="2025-Q3", output=tmp_path / "r.xlsx")
    for sheet, table, text in (("Trainings", "Trainings", "No training ended by 2025-09-30."),
                               ("Technical support", "Engagements", "No technical-support engagement by 2025-09-30."),
                               ("Milestones", "Milestones", "No milestone recorded."),
                               ("Finance", "GrantFigures", "No grant recorded.")):
        header, rows = table_rows(out, sheet, table)
        assert rows[0][0] == text and len(rows) == 1, sheet
    header, rows = table_rows(out, "Indicators", "TrackingTable")
    assert len(rows) == 12 and {r[header.index("Status 2025-Q3")] for r in rows} == {"No target"}
    cover = load_workbook(out)["Cover"]
    assert "Summary" in cover["B16"].value and "Participants" not in cover["B16"].value


def test_progress_callback_and_return_value(demo_db, tmp_path):
    calls: list[tuple[int, int]] = []
    notes: list[str] = []
    out = generate_report(Reader(demo_db), party="odpp", period="2026-Q2", output=tmp_path / "r.xlsx",
                          progress=lambda done, total: calls.append((done, total)), warn=notes.append)
    assert out == tmp_path / "r.xlsx" and out.is_file()
    assert calls[-1][0] == calls[-1][1] and len(calls) == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert notes == []
    assert not list(tmp_path.glob(".*part"))  # written atomically, no leftovers


@pytest.mark.parametrize("kwargs, field, fragment", [
    ({"party": "the donor"}, "Party", "'the donor' is not a party code"),
    ({"period": "2025-Q7"}, "Period", "not a quarter"),
    ({"output": "report.pdf"}, "Output", "must be an .xlsx file"),
    ({"output": "no/such/folder/r.xlsx"}, "Output", "does not exist"),
])
def test_bad_arguments_are_refused_by_field(demo_db, tmp_path, kwargs, field, fragment):
    args = {"party": "hti", "period": "2025-Q3", "output": tmp_path / "r.xlsx"}
    args.update(kwargs)
    if isinstance(args["output"], str):
        args["output"] = tmp_path / args["output"]
    with pytest.raises(ValidationError) as info:
        generate_report(Reader(demo_db), **args)
    assert any(p.field == field and fragment in p.message for p in info.value.problems), info.value.lines()


def test_cli_errors_are_one_line_without_traceback(demo_url, tmp_path):
    result = run("--db", demo_url, "report", "--party", "nobody", "--output", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 2
    result = run("--db", demo_url, "report", "--party", "hti", "--output", str(tmp_path / "r.csv"))
    assert result.exit_code == 1 and result.stderr.startswith("error: Output:")
    result = run("--db", demo_url, "report", "--party", "hti", "--as-of", "2020-01-01", "--period", "2019-Q4",
                 "--output", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 1 and "did not exist yet" in result.stderr


def test_party_fiscal_calendar_is_configurable(services, db, tmp_path):
    services.update_party("odpp", {"fiscal_start_month": 1})
    out = generate_report(Reader(db), party="odpp", period="2025-Q3", output=tmp_path / "r.xlsx")
    assert load_workbook(out)["Indicators"]["A1"].value.endswith("FY2025 Q3 (2025-Q3)")
    services.update_party("hti", {"fiscal_start_month": 7, "fiscal_label_style": "split"})
    out = generate_report(Reader(db), party="hti", period="2025-Q3", output=tmp_path / "h.xlsx")
    assert load_workbook(out)["Indicators"]["A1"].value.endswith("FY2025/26 Q1 (2025-Q3)")


def test_money_in_another_currency_is_labelled(services, db, tmp_path):
    services.create_grant({"code": "G", "funder": "F", "currency": "EUR", "amount": "5000",
                         "start_date": date(2025, 5, 1), "end_date": date(2027, 5, 1)})
    services.create_budget_line({"code": "B", "name": "Training", "category": "Training", "amount": "5000"})
    services.create_expenditure({"code": "X1", "date": date(2025, 8, 3), "line_code": "B", "description": "d",
                               "amount": "1000", "currency": "KES", "rate": "0.0071"})
    out = generate_report(Reader(db), party="odpp", period="2025-Q3", output=tmp_path / "r.xlsx")
    header, rows = table_rows(out, "Finance", "BudgetLines")
    assert "Budget" in header and rows[0][5] == float(Decimal("7.10"))
    ws = load_workbook(out)["Summary"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Grant expenditure, EUR (4.1)" in texts
    assert any("grant currency (EUR)" in t and "ODPP's own currency is KES" in t
               for t in (c.value for row in load_workbook(out)["Cover"].iter_rows() for c in row)
               if isinstance(t, str))
