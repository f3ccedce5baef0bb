"""Both parties' reports from the demo database, read back with openpyxl and with python-calamine: the figures
equal `progress --format json`, the sheets, tables, formats, charts and print setup are there, and the
breakdowns add up to the indicator engine's totals."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from mou_tracker.db.engine import Database
from mou_tracker.db.models import Attendance, AuditEvent, Engagement, Participant, Training, User
from mou_tracker.reports.printing import column_points, printable_points, wrapped_lines
from mou_tracker.services.history import end_of_day_utc
from tests.reports.conftest import (
    AS_OF,
    AS_OF_PERIOD,
    PERIOD,
    SHEETS,
    STATUS,
    assert_tracking_table_matches,
    calamine_table,
    make_report,
    number_or_none,
    progress_json,
    run,
    sheet_xml,
    table_rows,
)


@pytest.mark.parametrize("which, period, as_of", [("hti", PERIOD, None), ("odpp", PERIOD, None),
                                                  ("odpp-as-of", AS_OF_PERIOD, AS_OF)])
def test_indicators_sheet_equals_progress_json(demo_reports, demo_url, which, period, as_of):
    expected = progress_json(demo_url, period, as_of)
    path = demo_reports[which]
    for reader in (table_rows, calamine_table):
        header, rows = reader(path, "Indicators", "TrackingTable")
        assert_tracking_table_matches(header, rows, expected, period)


def test_every_quarter_column_equals_progress_for_that_quarter(demo_reports, demo_url):
    header, rows = calamine_table(demo_reports["hti"], "Indicators", "TrackingTable")
    quarters = sorted({h.split()[-1] for h in header if h.startswith("Target 20")})
    assert quarters == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    col = {h: i for i, h in enumerate(header)}
    for q in quarters:
        for row, ind in zip(rows, progress_json(demo_url, q)["indicators"], strict=True):
            assert number_or_none(row[col[f"Target {q}"]]) == ind["period_target"], (q, ind["code"])
            assert number_or_none(row[col[f"Actual {q}"]]) == ind["period_actual"], (q, ind["code"])
            pct = number_or_none(row[col[f"% {q}"]])
            if ind["period_target"] and ind["period_actual"] is not None:
                shown = Decimal(str(ind["period_actual"])) * 100 / Decimal(str(ind["period_target"]))
                # the report shows the percentage as progress does: to 1 dp, half up (36.25 -> 36.3 %)
                assert Decimal(str(pct)) == shown.quantize(Decimal("0.1"), ROUND_HALF_UP) / 100, (q, ind["code"])
            else:
                assert pct is None


def test_sheet_set_and_order(demo_reports):
    for which in ("hti", "odpp"):
        assert load_workbook(demo_reports[which]).sheetnames == SHEETS


def test_fiscal_labels_follow_each_party(demo_reports):
    hti = load_workbook(demo_reports["hti"])
    odpp = load_workbook(demo_reports["odpp"])
    assert hti["Indicators"]["A1"].value.endswith("FY2026 Q4 (2026-Q3)")
    assert odpp["Indicators"]["A1"].value.endswith("FY2026/27 Q1 (2026-Q3)")
    header, rows = table_rows(demo_reports["odpp"], "Summary", "ChartTrained")
    assert [r[0] for r in rows][:2] == ["2025-Q2", "2025-Q3"]
    assert [r[1] for r in rows][:2] == ["FY2024/25 Q4", "FY2025/26 Q1"]


def test_tables_cover_their_rows_with_filters_and_frozen_headers(demo_reports, demo_url):
    db = Database(demo_url)
    end = date(2026, 9, 30)
    with db.reading() as s:
        trainings = s.execute(select(func.count()).select_from(Training).where(Training.end_date <= end)).scalar()
        engagements = s.execute(select(func.count()).select_from(Engagement).where(Engagement.date <= end)).scalar()
    db.dispose()
    wb = load_workbook(demo_reports["hti"])
    expected = {"Trainings": ("Trainings", trainings), "Engagements": ("Technical support", engagements),
                "Milestones": ("Milestones", 12)}
    for table, (sheet, count) in expected.items():
        ws = wb[sheet]
        t = ws.tables[table]
        header, rows = table_rows(demo_reports["hti"], sheet, table)
        assert len(rows) == count
        assert t.autoFilter is not None and t.autoFilter.ref == t.ref
        first_data_row = int(re.search(r"\d+", t.ref).group()) + 1
        assert ws.freeze_panes == f"A{first_data_row}"
    # every list of the reports (docs/reference/reports.md) is an Excel table
    tables = {name for ws in wb.worksheets for name in ws.tables}
    assert {"TrackingTable", "Trainings", "NewlyTrained", "Engagements", "EngagementsByType", "Milestones",
            "MilestoneHistory", "GrantFigures", "BudgetLines", "Disbursements", "Definitions", "Signoffs",
            "Restatements", "ChartTargets", "ChartTrained", "ChartBurn", "SF425", "Commitments",
            "Developments"} == tables


def test_typed_cells_and_number_formats(demo_reports):
    wb = load_workbook(demo_reports["hti"])
    ws = wb["Trainings"]
    header, rows = table_rows(demo_reports["hti"], "Trainings", "Trainings")
    first = int(re.search(r"\d+", ws.tables["Trainings"].ref).group()) + 1
    col = {h: i + 1 for i, h in enumerate(header)}
    start = ws.cell(row=first, column=col["Start date"])
    assert isinstance(start.value, datetime) and start.number_format == "d mmm yyyy"
    cost = ws.cell(row=first, column=col["Cost"])
    assert isinstance(cost.value, float | int) and cost.number_format == "#,##0.00"
    assert ws.cell(row=first, column=col["Participants"]).number_format == "#,##0"
    ind = wb["Indicators"]
    header, rows = table_rows(demo_reports["hti"], "Indicators", "TrackingTable")
    row = int(re.search(r"\d+", ind.tables["TrackingTable"].ref).group()) + 1
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ind.cell(row=row, column=col["% 2026-Q3"]).number_format == "0.0%"
    money = next(r for r, values in enumerate(rows, row) if values[0] == "4.1")
    assert ind.cell(row=money, column=col["Actual 2026-Q3"]).number_format == "#,##0.00"
    mean = next(r for r, values in enumerate(rows, row) if values[0] == "1.4")
    assert ind.cell(row=mean, column=col["Actual 2026-Q3"]).number_format == "#,##0.0"
    # percentage indicators carry numerator and denominator beside them
    share = rows[[v[0] for v in rows].index("3.2")]
    assert share[col["Numerator to date"] - 1] == 4 and share[col["Denominator to date"] - 1] == 6
    cover = wb["Cover"]
    assert isinstance(cover["B9"].value, datetime)  # generated at, a real date-time


def test_status_colours_are_conditional_formats(demo_reports):
    ws = load_workbook(demo_reports["hti"])["Indicators"]
    rules = [(str(cf.sqref), rule.formula[0]) for cf in ws.conditional_formatting for rule in cf.rules]
    assert {f for _, f in rules} == {f'"{label}"' for label in STATUS}
    header, rows = table_rows(demo_reports["hti"], "Indicators", "TrackingTable")
    status_col = header.index("Status 2026-Q3") + 1
    from openpyxl.utils import get_column_letter

    assert all(get_column_letter(status_col) in sqref for sqref, _ in rules)


def test_earlier_fiscal_years_are_folded_not_dropped(demo_reports):
    ws = load_workbook(demo_reports["hti"])["Indicators"]
    header, _ = table_rows(demo_reports["hti"], "Indicators", "TrackingTable")
    from openpyxl.utils import get_column_letter

    def hidden(h):
        return ws.column_dimensions[get_column_letter(header.index(h) + 1)].hidden

    # HTI's fiscal year 2026 starts in 2025-Q4: 2025-Q2 and 2025-Q3 are folded away
    assert hidden("Target 2025-Q2") and hidden("% 2025-Q3")
    assert not hidden("Target 2025-Q4") and not hidden("Actual 2026-Q3")


def test_charts_are_native_and_point_at_the_summary_tables(demo_reports):
    with zipfile.ZipFile(demo_reports["hti"]) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 3
        xml = " ".join(z.read(n).decode() for n in charts)
    assert len(re.findall(r"<(?:c:)?barChart>", xml)) == 3 and len(re.findall(r"<(?:c:)?lineChart>", xml)) == 3
    for table in ("ChartTargets", "ChartTrained", "ChartBurn"):
        header, rows = table_rows(demo_reports["hti"], "Summary", table)
        assert rows and len(header) == 5
    wb = load_workbook(demo_reports["hti"])
    ref = wb["Summary"].tables["ChartTargets"].ref
    first, last = (int(n) for n in re.findall(r"\d+", ref))
    assert f"'Summary'!$C${first + 1}:$C${last}" in xml or f"Summary!$C${first + 1}:$C${last}" in xml


def test_printable_landscape_readable_with_repeated_headers(demo_reports):
    wb = load_workbook(demo_reports["odpp"])
    for name in SHEETS[2:]:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        # never fitted to one page width at the cost of the font (10 pt in the templates): fitted only when it
        # stays at 8 pt or more, otherwise printed at a fixed scale that keeps it so, the first column repeated
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            width = sum(column_points(ws, c) for c in range(1, ws.max_column + 1))
            assert ws.page_setup.fitToWidth == 1 and width * 8 / 10 <= printable_points(ws), name
        else:
            assert ws.page_setup.scale * 10 / 100 >= 8 and ws.print_title_cols, name
        if ws.tables:
            header = int(re.search(r"\d+", min(ws.tables.values(), key=lambda t: int(
                re.search(r"\d+", t.ref).group())).ref).group())
            assert ws.print_title_rows.replace("$", "") in (f"{header}:{header}", f"{header - 1}:{header}"), name
    indicators = wb["Indicators"]
    assert indicators.print_title_rows == "$5:$6"  # the fiscal-quarter band and the header
    # printed over several page widths, the title is folded into the repeated columns so that every page
    # carries all of it (left to overflow, it would be cut where column B ends on every page but the first)
    assert indicators.print_title_cols == "$A:$B" and "A1:B1" in {str(r) for r in indicators.merged_cells.ranges}
    title = indicators["A1"]
    assert title.alignment.wrap_text and title.value.startswith("Indicator performance tracking table")
    width = sum(column_points(indicators, c) for c in (1, 2))
    lines = wrapped_lines(title.value, int((width - 6) / (title.font.sz * 0.62)))
    assert lines > 1 and indicators.row_dimensions[1].height >= lines * title.font.sz


def test_cover_ties_the_report_to_the_audit_chain(demo_reports, demo_url):
    db = Database(demo_url)
    cutoff = end_of_day_utc(date.fromisoformat(AS_OF))
    with db.reading() as s:
        head = s.execute(select(AuditEvent).where(AuditEvent.occurred_at < cutoff)
                         .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        count = s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.occurred_at < cutoff)).scalar()
        latest = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    db.dispose()
    cover = {r[0].value: r[1].value for r in load_workbook(demo_reports["odpp-as-of"])["Cover"].iter_rows(min_row=4)
             if r[0].value}
    assert cover["Audit trail: events up to the as-of time"] == count
    assert cover[f"Audit-chain head (hash of event {head.seq})"] == head.hash
    assert cover["As of"] == datetime(2026, 3, 15)
    current = {r[0].value: r[1].value for r in load_workbook(demo_reports["hti"])["Cover"].iter_rows(min_row=4)
               if r[0].value}
    assert current[f"Audit-chain head (hash of event {latest.seq})"] == latest.hash
    assert head.seq < latest.seq
    # an evaluator ties the as-of report to the trail as it stands now
    verified = run("--db", demo_url, "audit", "verify", "--anchor", head.hash)
    assert verified.exit_code == 0, verified.stderr
    assert f"#{head.seq}" in verified.stdout


def rows_of_type_total(demo_reports):
    return calamine_table(demo_reports["odpp"], "Technical support", "EngagementsByType")[1][-1][0]


def test_breakdowns_add_up_to_the_engine_totals(demo_reports, demo_url):
    expected = {i["code"]: i for i in progress_json(demo_url, PERIOD)["indicators"]}
    header, rows = calamine_table(demo_reports["odpp"], "Trainings", "NewlyTrained")
    *agencies, total = rows
    assert total[0].startswith("Total")
    # the total's label is read whole, not cut where its column ends (the caption names the indicators)
    wb = load_workbook(demo_reports["odpp"])
    for sheet, label in (("Trainings", total[0]), ("Technical support", rows_of_type_total(demo_reports))):
        assert len(label) <= wb[sheet].column_dimensions["A"].width, (sheet, label)
    assert total[3] == expected["1.2"]["period_actual"] and total[6] == expected["1.2"]["cumulative_actual"]
    assert sum(r[3] for r in agencies) == total[3] and sum(r[6] for r in agencies) == total[6]
    assert sum(r[1] + r[2] for r in agencies) == total[3]
    odpp = next(r for r in agencies if r[0] == "ODPP")
    assert odpp[3] == expected["1.3"]["period_actual"] and odpp[6] == expected["1.3"]["cumulative_actual"]
    header, rows = calamine_table(demo_reports["odpp"], "Technical support", "EngagementsByType")
    *types, total = rows
    assert total[1] == expected["2.1"]["period_actual"] == sum(r[1] for r in types)
    assert total[2] == expected["2.3"]["period_actual"] == pytest.approx(sum(r[2] for r in types))
    assert total[3] == expected["2.1"]["cumulative_actual"] == sum(r[3] for r in types)
    header, rows = table_rows(demo_reports["odpp"], "Trainings", "Trainings")
    col = {h: i for i, h in enumerate(header)}
    agencies_cols = ["ODPP", "DCI", "Judiciary", "Immigration", "Labour", "Children Services", "NGO", "Other"]
    for r in rows:
        assert r[col["Women"]] + r[col["Men"]] == r[col["Participants"]]
        assert sum(r[col[a]] for a in agencies_cols) == r[col["Participants"]]


def test_finance_sheet_shows_grant_figures(demo_reports, demo_url):
    expected = {i["code"]: i for i in progress_json(demo_url, PERIOD)["indicators"]}
    header, rows = calamine_table(demo_reports["hti"], "Finance", "GrantFigures")
    figures = {r[1]: r[2] for r in rows}
    assert figures["Spent to date"] == expected["4.1"]["cumulative_actual"]
    assert figures["Planned spend to date (indicator 4.1 targets)"] == expected["4.1"]["cumulative_target"]
    assert figures["Award"] == 1200000
    assert figures["Cash on hand (disbursed - spent)"] == pytest.approx(figures["Disbursed to date"]
                                                                         - figures["Spent to date"])
    header, rows = calamine_table(demo_reports["hti"], "Finance", "BudgetLines")
    assert len(rows) == 6 and sum(r[5] for r in rows) == pytest.approx(figures["Spent to date"])
    header, rows = calamine_table(demo_reports["hti"], "Finance", "Disbursements")
    assert len(rows) == 3 and sum(r[6] for r in rows) == figures["Disbursed to date"]


def test_milestones_and_their_history(demo_reports, demo_url):
    header, rows = table_rows(demo_reports["hti"], "Milestones", "Milestones")
    col = {h: i for i, h in enumerate(header)}
    m03 = next(r for r in rows if r[0] == "M03")
    assert (m03[col["Current due date"]] - m03[col["Original due date"]]).days == m03[col["Slippage (days)"]] == 45
    header, rows = table_rows(demo_reports["hti"], "Milestone history", "MilestoneHistory")
    col = {h: i for i, h in enumerate(header)}
    replanned = [r for r in rows if r[col["Milestone ID"]] == "M03" and r[col["Field"]] == "Due date"
                 and r[col["Action"]] == "update"]
    assert len(replanned) == 1
    change = replanned[0]
    assert change[col["New value"]] - change[col["Old value"]] == m03[4 + 1] - m03[4]
    assert change[col["Reason category"]] == "re-planning agreed by both parties"
    with Database(demo_url).reading() as s:  # the person who re-planned it, by name, as the audit trail has it
        actor = s.execute(select(AuditEvent.actor).where(AuditEvent.entity_ref == "M03",
                                                         AuditEvent.reason_category.is_not(None))).scalar_one()
        name = s.execute(select(User.display_name).where(User.name == actor)).scalar_one()
    assert change[col["Changed by"]] == f"{name} ({actor})"
    assert isinstance(change[col["When (UTC)"]], datetime)


def test_personal_data_absent_by_default(demo_reports, demo_url, tmp_path):
    db = Database(demo_url)
    with db.reading() as s:
        names = list(s.execute(select(Participant.name).limit(50)).scalars())
        attendances = s.execute(select(func.count()).select_from(Attendance).join(Training)
                                .where(Training.end_date <= date(2026, 9, 30))).scalar()
    db.dispose()
    for which in ("hti", "odpp"):
        xml = " ".join(sheet_xml(demo_reports[which]).values())
        assert "Participants" not in load_workbook(demo_reports[which]).sheetnames
        assert not [n for n in names if n.strip() in xml]
    from tests.reports.conftest import make_report

    with_names = make_report(demo_url, tmp_path / "names.xlsx", "hti", "--period", PERIOD, "--include-personal-data")
    assert load_workbook(with_names).sheetnames == SHEETS + ["Participants"]
    header, rows = table_rows(with_names, "Participants", "Participants")
    assert len(rows) == attendances
    xml = " ".join(sheet_xml(with_names).values())
    assert all(n.strip() in xml for n in names if "  " not in n)
    cover = load_workbook(with_names)["Cover"]
    assert any("INCLUDED" in str(c.value) for row in cover.iter_rows() for c in row)


def test_same_database_and_arguments_give_the_same_cells(demo_url, tmp_path):
    from tests.reports.conftest import make_report

    def cells(path):
        out = {}
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        out[(ws.title, c.coordinate)] = c.value
        return out

    a = cells(make_report(demo_url, tmp_path / "a.xlsx", "odpp", "--period", AS_OF_PERIOD, "--as-of", AS_OF))
    b = cells(make_report(demo_url, tmp_path / "b.xlsx", "odpp", "--period", AS_OF_PERIOD, "--as-of", AS_OF))
    stamp = [k for k, v in a.items() if k[0] == "Cover" and isinstance(v, datetime) and v.year >= 2026
             and k[1] == "B9"]
    assert stamp == [("Cover", "B9")]
    for k in stamp:
        a.pop(k), b.pop(k)
    assert a == b


@pytest.mark.parametrize("text, per_line, lines", [
    ("", 10, 1), ("short", 10, 1), ("two words", 5, 2), ("two words", 4, 3), ("a b c d", 3, 2),
    ("Indicator performance tracking table: FY2026 Q4 (2026-Q3)", 22, 3), ("first\nsecond", 20, 2)])
def test_a_title_is_wrapped_word_by_word(text, per_line, lines):
    assert wrapped_lines(text, per_line) == lines


def test_the_cover_says_when_the_quarter_had_not_ended_on_the_reports_day(demo_url, tmp_path):
    """A report of a quarter still under way showed "below target" like a final result; the cover now says
    the quarter is in progress (or not begun) on the report's day: its as-of day, else the day it is made."""
    def period_cell(*args: str) -> str:
        out = make_report(demo_url, tmp_path / f"r{len(list(tmp_path.iterdir()))}.xlsx", "hti", *args)
        cover = {r[0].value: r[1].value for r in load_workbook(out)["Cover"].iter_rows(min_row=4) if r[0].value}
        return cover["Reporting period"]

    assert period_cell("--period", "2026-Q3", "--as-of", "2026-08-15") == (
        "FY2026 Q4: 2026-Q3, 2026-07-01 to 2026-09-30 (in progress on 2026-08-15: figures to that day; the quarter "
        "ends 2026-09-30)")
    assert period_cell("--period", "2026-Q4", "--as-of", "2026-08-15") == (
        "FY2027 Q1: 2026-Q4, 2026-10-01 to 2026-12-31 (not begun on 2026-08-15: no figure of it is recorded yet)")
    # ended by the as-of day, the last day included: no note
    assert period_cell("--period", "2026-Q3", "--as-of", "2026-09-30") == "FY2026 Q4: 2026-Q3, 2026-07-01 to 2026-09-30"
    # without --as-of, the day the report is made (UTC)
    before = datetime.now(UTC).date()
    text = period_cell("--period", "2099-Q4")
    assert text in {f"FY2100 Q1: 2099-Q4, 2099-10-01 to 2099-12-31 (not begun on {day}: no figure of it is recorded "
                    "yet)" for day in (before, datetime.now(UTC).date())}
