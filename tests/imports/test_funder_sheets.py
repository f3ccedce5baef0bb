"""The Baselines, Narratives, Commitments and Developments sheets (docs/reference/import-format.md): everything
lands through the service layer, re-importing changes nothing, IDs update, every problem is listed and then
nothing is written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from mou_tracker.db.models import Baseline, Commitment, Development, Indicator, Narrative
from mou_tracker.imports import import_workbook
from tests.imports.helpers import audit_count, chain_intact, snapshot, write_book


def funder_sheets() -> dict[str, list[dict]]:
    return {
        "Grant": [{"Grant code": "G1", "Funder": "US DOS J/TIP", "Currency": "USD", "Amount": 500000,
                   "Start date": date(2025, 6, 1), "End date": date(2027, 5, 31)}],
        "Budget": [{"Line code": "BL1", "Name": "Trainings", "Category": "Training", "Amount": 100000},
                   {"Line code": "BL2", "Name": "Equipment", "Amount": 20000}],
        "Baselines": [{"Indicator code": "OC1", "Value": 3, "Date": date(2025, 4, 30),
                       "Source": "ODPP annual report 2024/25", "Comment": "Before the MoU"},
                      {"Indicator code": "1.1", "Value": 0, "Date": "2025-05-12"}],
        "Narratives": [{"Indicator code": "1.1", "Period": "2025-Q3", "Narrative": "Two sessions moved to Q4"}],
        "Commitments": [{"Commitment ID": "C1", "Date": date(2025, 7, 1), "Line code": "BL1",
                         "Description": "Venue booking", "Amount": "100000.05", "Currency": "KES",
                         "Rate": "0.0077405", "Status": "open"},
                        {"Commitment ID": "C2", "Date": date(2025, 7, 2), "Line code": "BL2",
                         "Description": "Laptops", "Amount": 2400, "Currency": "USD", "Status": "Open"}],
        "Developments": [{"Date": date(2025, 8, 4), "Category": "Risk", "Text": "Elections may slow court sittings",
                          "Reference": "DEV-01"},
                         {"Date": date(2025, 9, 1), "Category": "change in context",
                          "Text": "New CTIP regulations gazetted"}],
    }


def rows(db, *columns, where=None):
    with db.reading() as s:
        stmt = select(*columns)
        return sorted(s.execute(stmt if where is None else stmt.where(where)).all(), key=repr)


def test_the_funder_sheets_land_and_a_second_import_writes_nothing(services, db, tmp_path):
    path = write_book(tmp_path / "funder.xlsx", funder_sheets())
    outcome = import_workbook(services, path)
    assert outcome.written, outcome.problem_lines()
    assert rows(db, Indicator.code, Baseline.value, Baseline.date, Baseline.source,
                where=Baseline.indicator_id == Indicator.id) == [
        ("1.1", Decimal(0), date(2025, 5, 12), None),
        ("OC1", Decimal(3), date(2025, 4, 30), "ODPP annual report 2024/25")]
    assert rows(db, Narrative.period, Narrative.text) == [("2025-Q3", "Two sessions moved to Q4")]
    assert rows(db, Commitment.code, Commitment.amount_grant, Commitment.rate, Commitment.status) == [
        ("C1", Decimal("774.05"), Decimal("0.0077405"), "Open"), ("C2", Decimal("2400.00"), None, "Open")]
    assert rows(db, Development.category, Development.reference) == [("Change in context", None), ("Risk", "DEV-01")]
    assert chain_intact(db)
    events = audit_count(db)
    again = import_workbook(services, path)
    assert again.written and audit_count(db) == events
    assert all(s.new == s.changed == 0 for s in again.sheets), [s.line() for s in again.sheets]


def test_re_importing_corrected_rows_updates_them_by_their_keys(services, db, tmp_path):
    assert import_workbook(services, write_book(tmp_path / "a.xlsx", funder_sheets())).written
    sheets = funder_sheets()
    sheets["Commitments"][0]["Status"] = "Liquidated"
    sheets["Developments"][0]["Category"] = "Delay"
    sheets["Baselines"][0]["Value"] = 4
    sheets["Narratives"][0]["Narrative"] = "Two sessions moved to Q4 (court vacation)"
    sheets["Developments"].append({"Date": date(2025, 9, 3), "Category": "Opportunity", "Text": "A new donor"})
    outcome = import_workbook(services, write_book(tmp_path / "b.xlsx", sheets))
    assert outcome.written, outcome.problem_lines()
    counts = {s.sheet: (s.new, s.changed, s.unchanged) for s in outcome.sheets}
    assert counts["Commitments"] == (0, 1, 1) and counts["Developments"] == (1, 1, 1)
    assert counts["Baselines"] == (0, 1, 1) and counts["Narratives"] == (0, 1, 0)
    assert rows(db, Commitment.code, Commitment.status) == [("C1", "Liquidated"), ("C2", "Open")]
    assert rows(db, Development.reference, Development.category, where=Development.reference.is_not(None)) == [
        ("DEV-01", "Delay")]
    assert len(rows(db, Development.id)) == 3
    assert chain_intact(db)


def test_every_problem_of_the_funder_sheets_is_listed_and_nothing_is_written(services, db, tmp_path):
    sheets = funder_sheets()
    sheets["Baselines"].append({"Indicator code": "OC1", "Value": 5, "Date": date(2025, 4, 30)})
    sheets["Baselines"][1].update({"Indicator code": "9.9", "Value": "many"})
    sheets["Narratives"].append({"Indicator code": "2.1", "Period": "2025-Q3", "Narrative": None})
    sheets["Commitments"][0]["Rate"] = None
    sheets["Commitments"][1].update({"Line code": "BL9", "Status": "Paid", "Amount": "10.001"})
    sheets["Commitments"].append(dict(sheets["Commitments"][0], Rate="0.0077"))
    sheets["Developments"][1].update({"Category": "Rumour", "Text": None})
    sheets["Developments"].append({"Date": date(2025, 9, 2), "Category": "Risk", "Text": "x", "Reference": "DEV-01"})
    before = snapshot(db)
    outcome = import_workbook(services, write_book(tmp_path / "bad.xlsx", sheets))
    assert not outcome.written and snapshot(db) == before
    assert outcome.problem_lines() == [
        "Baselines!A3: Indicator code: no indicator '9.9' in this partnership",
        "Baselines!B3: Value 'many' is not a number",
        "Baselines!A4: indicator OC1 already has a baseline on row 2",
        "Narratives!C3: Narrative is required",
        "Commitments!G2: Rate is required: KES differs from the grant currency USD (amount x rate = amount in USD)",
        "Commitments!C3: Line code: no budget line 'BL9' in grant G1",
        "Commitments!E3: Amount 10.001 has more than 2 decimal places",
        "Commitments!H3: Status 'Paid' is not one of: Open, Liquidated",
        "Commitments!A4: Commitment ID 'C1' is already on row 2; each appears once per file",
        "Developments!B3: Category 'Rumour' is not one of: Risk, Opportunity, Delay, Change in context, Other",
        "Developments!C3: Text is required",
        "Developments!D4: Reference 'DEV-01' is already on row 2; each development appears once",
    ]


def test_a_commitment_line_must_exist_in_the_file_or_the_database(services, db, tmp_path):
    sheets = {"Grant": funder_sheets()["Grant"],
              "Commitments": [dict(funder_sheets()["Commitments"][1], **{"Line code": "BL9"})]}
    outcome = import_workbook(services, write_book(tmp_path / "line.xlsx", sheets))
    assert outcome.problem_lines() == ["Commitments!C2: Line code: no budget line 'BL9' in grant G1"]
    rate = funder_sheets()
    rate["Commitments"][0]["Rate"] = "0.007740512345678"
    outcome = import_workbook(services, write_book(tmp_path / "rate.xlsx", rate))
    assert outcome.written, outcome.problem_lines()
    assert any("Commitments!G2" in n and "rounded half-up to 0.0077405123" in n for n in outcome.notes), outcome.notes
