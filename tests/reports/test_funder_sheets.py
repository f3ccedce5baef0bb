"""What a funder reads in the report, on both backends, read back with openpyxl and python-calamine: the draft
SF-425 lines (each recomputed here from the records, independently of ``finance.sf425``), the commitments with
their open total, the quarter's significant developments, baselines and narratives beside their indicators,
and the milestone history: one line per creation, then one per changed field."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mou_tracker.db.models import AuditEvent, BudgetLine, Commitment, Disbursement, Expenditure
from mou_tracker.services import Reason
from mou_tracker.services.users import add_user
from tests.helpers import milestone, training
from tests.reports.conftest import calamine_table, run, sheet_xml, table_rows

PERIOD = "2025-Q4"
AS_AT = date(2025, 12, 31)
CENTS = Decimal("0.01")
LINES = ("10a", "10b", "10c", "10d", "10e", "10f", "10g", "10h", "11")


@pytest.fixture
def funded(services):
    """A USD grant with an indirect-cost rate over BL1 and BL2; money in USD and KES, some after 2025-Q4."""
    s = services
    s.create_grant({"code": "G1", "funder": "US DOS J/TIP", "currency": "USD", "amount": "500000",
                    "start_date": date(2025, 6, 1), "end_date": date(2027, 5, 31)})
    for code, name, cat in (("BL1", "Trainings", "Training"), ("BL2", "Personnel", "Personnel"),
                            ("BL3", "Equipment", "Other")):
        s.create_budget_line({"code": code, "name": name, "category": cat, "amount": "100000"})
    s.set_indirect_rate("10.5")
    s.set_indirect_base("BL1", True)
    s.set_indirect_base("BL2", True)
    s.create_disbursement({"date": date(2025, 6, 10), "amount": "150000", "currency": "USD", "reference": "TR1"})
    s.create_disbursement({"date": date(2025, 11, 3), "amount": "10000000", "currency": "KES", "rate": "0.0077405",
                           "reference": "TR2"})
    s.create_disbursement({"date": date(2026, 2, 1), "amount": "99", "currency": "USD", "reference": "late"})
    for code, day, line, amount, cur, rate in (
            ("X0", date(2025, 5, 20), "BL1", "100", "USD", None),  # pre-award
            ("X1", date(2025, 7, 1), "BL1", "12345.67", "USD", None),
            ("X2", date(2025, 8, 1), "BL2", "1000001", "KES", "0.0077405"),
            ("X3", date(2025, 9, 1), "BL3", "5000", "USD", None),
            ("X4", date(2025, 12, 31), "BL1", "333.33", "USD", None),
            ("X5", date(2026, 1, 1), "BL1", "999", "USD", None)):
        s.create_expenditure({"code": code, "date": day, "line_code": line, "description": code, "amount": amount,
                              "currency": cur, "rate": rate})
    for code, day, amount, cur, rate, status, line in (
            ("C1", date(2025, 10, 1), "20000", "USD", None, "Open", "BL3"),
            ("C2", date(2025, 10, 2), "7000", "USD", None, "Liquidated", "BL1"),
            ("C3", date(2025, 12, 1), "1000000", "KES", "0.0077405", "Open", "BL1"),
            ("C4", date(2026, 3, 1), "50", "USD", None, "Open", "BL1")):
        s.create_commitment({"code": code, "date": day, "line_code": line, "description": f"=Order {code}",
                             "amount": amount, "currency": cur, "rate": rate, "status": status})
    return s


def report(db_url, tmp_path, party="hti", period=PERIOD):
    out = tmp_path / f"{party}-{period}.xlsx"
    result = run("--db", db_url, "report", "--party", party, "--period", period, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def both(out, sheet, table):
    """The table read by openpyxl and by calamine; both must agree (numbers compared as floats)."""
    header, rows = table_rows(out, sheet, table)
    c_header, c_rows = calamine_table(out, sheet, table)
    assert c_header == header
    for a, b in zip(rows, c_rows, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, datetime):
                assert y in (x, x.date()), (x, y)
            else:
                assert (x if x is not None else "") == y, (x, y)
    return header, rows


def usd(record) -> Decimal:
    return (record.amount * (record.rate or 1)).quantize(CENTS, rounding=ROUND_HALF_UP)


def test_sf425_cells_equal_the_lines_recomputed_from_the_records(funded, db, db_url, tmp_path):
    out = report(db_url, tmp_path)
    with db.reading() as s:  # independently of finance.sf425: the records themselves
        disb = s.execute(select(Disbursement)).scalars().all()
        exps = s.execute(select(Expenditure)).scalars().all()
        coms = s.execute(select(Commitment)).scalars().all()
        base_ids = set(s.execute(select(BudgetLine.id).where(BudgetLine.code.in_(["BL1", "BL2"]))).scalars())
    receipts = sum(usd(d) for d in disb if d.date <= AS_AT)
    direct = sum(usd(x) for x in exps if x.date <= AS_AT)
    base = sum(usd(x) for x in exps if x.date <= AS_AT and x.budget_line_id in base_ids)
    indirect = (base * Decimal("10.5") / 100).quantize(CENTS, rounding=ROUND_HALF_UP)
    open_obl = sum(usd(c) for c in coms if c.date <= AS_AT and c.status == "Open")
    award = Decimal(500000)
    expected = {"10a": receipts, "10b": direct + indirect, "10c": receipts - direct - indirect, "10d": award,
                "10e": direct + indirect, "10f": open_obl, "10g": direct + indirect + open_obl,
                "10h": award - direct - indirect - open_obl, "11": indirect}
    assert open_obl == Decimal("27740.50") and receipts == Decimal("227405.00")

    header, rows = both(out, "Finance", "SF425")
    col = {h: i for i, h in enumerate(header)}
    lines = [r for r in rows if r[col["Line"]] is not None]
    assert [r[col["Line"]] for r in lines] == list(LINES)  # one row per line, in order
    for r in lines:
        amount = r[col["Amount"]]
        assert isinstance(amount, int | float), r  # a typed number cell, not text
        assert Decimal(str(amount)) == expected[r[col["Line"]]], r[col["Line"]]
        assert r[col["Currency"]] == "USD" and r[col["Grant"]] == "G1"
        assert r[col["How computed"]], r[col["Line"]]
    line11 = lines[-1]
    assert line11[col["Rate (%)"]] == 10.5 and Decimal(str(line11[col["Base"]])) == base
    assert all(r[col["Rate (%)"]] is None and r[col["Base"]] is None for r in lines[:-1])
    assert "2 commitments with status Open" in lines[LINES.index("10f")][col["How computed"]]
    notes = [r for r in rows if r[col["Item"]] == "Note"]
    assert len(notes) == 1 and "pre-award" in notes[0][col["How computed"]]
    # labelled a draft for the grantee's financial officer, right above the table
    ws = load_workbook(out)["Finance"]
    first = int(ws.tables["SF425"].ref.split(":")[0][1:])
    caption = ws.cell(row=first - 1, column=1).value
    assert caption.startswith("DRAFT SF-425") and "financial officer" in caption
    assert ws.cell(row=first + 1, column=col["Amount"] + 1).number_format == "#,##0.00"


def test_commitments_and_their_open_total(funded, db_url, tmp_path):
    out = report(db_url, tmp_path)
    header, rows = both(out, "Finance", "Commitments")
    col = {h: i for i, h in enumerate(header)}
    *listed, total = rows
    assert [r[col["Commitment ID"]] for r in listed] == ["C1", "C2", "C3"]  # C4 is dated after 2025-Q4
    assert [r[col["Status"]] for r in listed] == ["Open", "Liquidated", "Open"]
    c3 = listed[2]
    assert (c3[col["Currency"]], c3[col["Amount"]], c3[col["Rate"]], c3[col["Amount in grant currency"]]) == \
        ("KES", 1000000, 0.0077405, 7740.5)
    assert c3[col["Description"]] == "=Order C3"  # user text that looks like a formula stays text
    assert total[col["Commitment ID"]] == "Open total" and total[col["Amount in grant currency"]] == 27740.5
    _h, sf = table_rows(out, "Finance", "SF425")
    assert next(r[3] for r in sf if r[2] == "10f") == total[col["Amount in grant currency"]]


def test_developments_of_the_quarter_and_none_recorded(services, db_url, tmp_path):
    s = services
    s.create_development({"date": date(2025, 9, 30), "category": "Risk", "text": "Before the quarter"})
    s.create_development({"date": date(2025, 12, 5), "category": "Delay", "text": "-Court recess moved trainings",
                          "reference": "=DEV-2"})
    s.create_development({"date": date(2025, 10, 1), "category": "Opportunity", "text": "@New CTIP unit"})
    s.create_development({"date": date(2026, 1, 1), "category": "Other", "text": "After the quarter"})
    out = report(db_url, tmp_path)
    header, rows = both(out, "Developments", "Developments")
    assert header == ["Date", "Quarter", "Fiscal quarter", "Category", "Development", "Reference"]
    assert rows == [[datetime(2025, 10, 1), "2025-Q4", "FY2026 Q1", "Opportunity", "@New CTIP unit", None],
                    [datetime(2025, 12, 5), "2025-Q4", "FY2026 Q1", "Delay", "-Court recess moved trainings",
                     "=DEV-2"]]
    xml = sheet_xml(out)["Developments"]
    assert "<f>" not in xml and "<f " not in xml  # no formula, whatever the text starts with
    ws = load_workbook(out)["Developments"]
    first = int(ws.tables["Developments"].ref.split(":")[0][1:])
    assert ws.cell(row=first + 2, column=5).quotePrefix and ws.cell(row=first + 2, column=6).quotePrefix
    empty = report(db_url, tmp_path, "odpp", "2025-Q2")
    header, rows = table_rows(empty, "Developments", "Developments")
    assert len(rows) == 1 and rows[0][0].startswith("None recorded") and "2025-Q2" in rows[0][0]


def test_baselines_and_narratives_beside_their_indicators(services, db_url, tmp_path):
    s = services
    for n in (1, 2, 3):
        s.create_training(training(f"T{n}", date(2025, 10, 10 * n)))
    s.set_target("1.1", PERIOD, 2)
    s.set_narrative("1.1", PERIOD, "+One extra session at the Judiciary's request")
    s.set_narrative("1.1", "2025-Q3", "Narrative of another quarter")
    s.set_baseline({"indicator_code": "OC1", "value": "3", "date": date(2025, 4, 30),
                    "source": "ODPP annual report 2024/25", "comment": "Before the MoU"})
    s.set_baseline({"indicator_code": "1.4", "value": "12.5", "date": date(2025, 5, 1), "source": "=Pilot test"})
    out = report(db_url, tmp_path)
    header, rows = both(out, "Indicators", "TrackingTable")
    col = {h: i for i, h in enumerate(header)}
    by_code = {r[0]: r for r in rows}
    assert header[:6] == ["Code", "Indicator", "Unit", "Baseline", "Baseline date", "Baseline source"]
    assert [by_code["OC1"][col[k]] for k in ("Baseline", "Baseline date", "Baseline source")] == \
        [3, datetime(2025, 4, 30), "ODPP annual report 2024/25"]
    assert by_code["1.4"][col["Baseline"]] == 12.5 and by_code["1.4"][col["Baseline source"]] == "=Pilot test"
    assert by_code["1.1"][col["Baseline"]] is None and by_code["1.1"][col["Baseline source"]] == \
        "no baseline recorded"
    assert by_code["1.1"][col[f"Status {PERIOD}"]] == "Above target"
    assert by_code["1.1"][col[f"Narrative {PERIOD}"]] == "+One extra session at the Judiciary's request"
    assert by_code["1.2"][col[f"Narrative {PERIOD}"]] is None
    ws = load_workbook(out)["Indicators"]
    first = int(ws.tables["TrackingTable"].ref.split(":")[0][1:])
    oc1 = next(r for r in range(first + 1, first + len(rows) + 1) if ws.cell(row=r, column=1).value == "OC1")
    assert ws.cell(row=oc1, column=5).number_format == "d mmm yyyy"
    header, rows = both(out, "Definitions", "Definitions")
    col = {h: i for i, h in enumerate(header)}
    oc1 = next(r for r in rows if r[0] == "OC1")
    assert [oc1[col[k]] for k in ("Baseline", "Baseline date", "Baseline source", "Baseline comment")] == \
        [3, datetime(2025, 4, 30), "ODPP annual report 2024/25", "Before the MoU"]


def test_milestone_history_one_line_per_creation_then_per_changed_field(services, db, db_url, tmp_path):
    s = services
    s.create_milestone(milestone("M1", date(2025, 8, 1), title="Guidelines drafted", workstream="Strategic advice"))
    s.update_milestone("M1", milestone("M1", date(2025, 9, 15), status="In progress", title="Guidelines drafted",
                                       workstream="Strategic advice"),
                       reason=Reason("re-planning agreed by both parties", "=Waiting for the new Act"))
    s.create_milestone(milestone("M2", date(2025, 10, 1)))
    with db.reading() as session:
        actor = session.execute(select(AuditEvent.actor).where(AuditEvent.entity_ref == "M1")).scalars().first()
    add_user(s, actor, "admin", display_name="Grace Wanjiru")
    out = report(db_url, tmp_path)
    header, rows = both(out, "Milestone history", "MilestoneHistory")
    col = {h: i for i, h in enumerate(header)}
    lines = [(r[col["Milestone ID"]], r[col["Action"]], r[col["Field"]]) for r in rows]
    assert lines == [("M1", "create", "(created)"), ("M1", "update", "Due date"), ("M1", "update", "Status"),
                     ("M2", "create", "(created)")]
    created = rows[0]
    assert created[col["Old value"]] is None
    assert "Title: Guidelines drafted" in created[col["New value"]] and "Due date: 2025-08-01" in \
        created[col["New value"]]
    due, status = rows[1], rows[2]
    assert (due[col["Old value"]], due[col["New value"]]) == (datetime(2025, 8, 1), datetime(2025, 9, 15))
    assert (status[col["Old value"]], status[col["New value"]]) == ("Not started", "In progress")
    for r in rows[:3]:
        assert r[col["Changed by"]] == f"Grace Wanjiru ({actor})"
    assert due[col["Reason category"]] == "re-planning agreed by both parties"
    assert due[col["Reason"]] == "=Waiting for the new Act" and due[col["Event"]] == status[col["Event"]]
    assert isinstance(due[col["When (UTC)"]], datetime)
    with zipfile.ZipFile(out) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet7.xml")
