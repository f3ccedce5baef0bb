"""templates/xlsx/import_template.xlsx: the sheets and headers of the import format, drop-down lists for the coded
columns, date formats, instructions; filled with valid rows and imported, everything lands."""

from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from mou_tracker.db.models import (
    Attendance,
    Baseline,
    BudgetLine,
    Commitment,
    Development,
    Disbursement,
    Engagement,
    Expenditure,
    Grant,
    Milestone,
    Narrative,
    Result,
    Target,
    Training,
)
from mou_tracker.domain import codes
from mou_tracker.imports import import_workbook
from mou_tracker.imports.template import build_template, template_path
from tests.imports.helpers import sample_sheets

# docs/reference/import-format.md, copied by hand: the contract the partners fill in offline
SPEC_COLUMNS = {
    "Trainings": ["Training ID", "Title", "Topic", "Start date", "End date", "County", "Venue", "Delivery", "Lead",
                  "Cost", "Currency"],
    "Participants": ["Training ID", "Name", "Sex", "Agency", "Role", "Staff number", "Pre-test score",
                     "Post-test score"],
    "Engagements": ["Engagement ID", "Date", "Type", "County", "Case reference", "Hours", "HTI advisor",
                    "ODPP counterpart", "Summary"],
    "Milestones": ["Milestone ID", "Title", "Workstream", "Owner", "Due date", "Status", "Completed on", "Evidence",
                   "Reason"],
    "Results": ["Indicator code", "Period", "Value", "Source"],
    "Targets": ["Indicator code", "Period", "Target"],
    "Baselines": ["Indicator code", "Value", "Date", "Source", "Comment"],
    "Narratives": ["Indicator code", "Period", "Narrative"],
    "Grant": ["Grant code", "Funder", "Currency", "Amount", "Start date", "End date"],
    "Budget": ["Line code", "Name", "Category", "Amount"],
    "Disbursements": ["Date", "Amount", "Currency", "Rate", "Reference"],
    "Expenditures": ["Expenditure ID", "Date", "Line code", "Description", "Amount", "Currency", "Rate", "Reference"],
    "Commitments": ["Commitment ID", "Date", "Line code", "Description", "Amount", "Currency", "Rate", "Status"],
    "Developments": ["Date", "Category", "Text", "Reference"],
}
#: rows for the funder's sheets, beside the sample's grant and budget lines
FUNDER_ROWS = {
    "Baselines": [{"Indicator code": "OC1", "Value": 3, "Date": date(2025, 4, 30), "Source": "ODPP report"}],
    "Narratives": [{"Indicator code": "1.1", "Period": "2025-Q3", "Narrative": "On track"}],
    "Commitments": [{"Commitment ID": "C1", "Date": date(2025, 7, 1), "Line code": "BL1", "Description": "Venue",
                     "Amount": 900, "Currency": "USD", "Status": "Open"}],
    "Developments": [{"Date": date(2025, 8, 4), "Category": "Risk", "Text": "Elections", "Reference": "DEV-1"}],
}
CODED = {("Trainings", "County"): codes.KENYA_COUNTIES, ("Trainings", "Delivery"): codes.DELIVERIES,
         ("Trainings", "Lead"): codes.LEADS, ("Participants", "Sex"): codes.SEXES,
         ("Participants", "Agency"): codes.AGENCIES, ("Engagements", "Type"): codes.ENGAGEMENT_TYPES,
         ("Engagements", "County"): codes.KENYA_COUNTIES, ("Milestones", "Workstream"): codes.WORKSTREAMS,
         ("Milestones", "Owner"): codes.OWNERS, ("Milestones", "Status"): codes.MILESTONE_STATUSES,
         ("Commitments", "Status"): codes.COMMITMENT_STATUSES,
         ("Developments", "Category"): codes.DEVELOPMENT_CATEGORIES}


@pytest.fixture(scope="module")
def template():
    return load_workbook(template_path())


def headers(ws):
    return [c.value for c in ws[1] if c.value is not None]


def test_every_sheet_of_the_spec_with_its_headers(template):
    assert template.sheetnames == ["Instructions", *SPEC_COLUMNS, "Lists"]
    for name, columns in SPEC_COLUMNS.items():
        assert headers(template[name]) == columns, name
        assert template[name].freeze_panes == "A2"
    assert template["Lists"].sheet_state == "hidden" and template["Instructions"].sheet_state == "visible"
    text = " ".join(str(c.value) for row in template["Instructions"].iter_rows() for c in row if c.value)
    assert "YYYY-MM-DD" in text and "Sheet!A12" in text and "Reason" in text


def test_drop_down_lists_on_the_coded_columns_and_date_formats(template):
    lists = template["Lists"]
    for (sheet, label), allowed in CODED.items():
        ws = template[sheet]
        letter = ws.cell(row=1, column=headers(ws).index(label) + 1).column_letter
        found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in dv.sqref]
        assert len(found) == 1 and found[0].type == "list", (sheet, label)
        source = found[0].formula1.split("!")[1].replace("$", "")
        values = [c.value for row in lists[source] for c in row]
        assert tuple(values) == allowed, (sheet, label)
        # the county list only warns: outside Kenya a district or province is typed as it is
        assert (found[0].errorStyle or "stop") == ("warning" if label == "County" else "stop"), (sheet, label)
    for sheet, columns in SPEC_COLUMNS.items():
        ws = template[sheet]
        for i, label in enumerate(columns):
            letter = ws.cell(row=1, column=i + 1).column_letter
            is_date = label in ("Start date", "End date", "Date", "Due date", "Completed on")
            assert (ws.column_dimensions[letter].number_format == "yyyy-mm-dd") == is_date, (sheet, label)


def test_the_committed_template_is_what_the_builder_makes(template, tmp_path):
    fresh = load_workbook(build_template(tmp_path / "t.xlsx"))
    assert fresh.sheetnames == template.sheetnames
    for name in fresh.sheetnames:
        a, b = fresh[name], template[name]
        assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()], name
        assert [(dv.type, dv.formula1, str(dv.sqref), dv.errorStyle, dv.error)
                for dv in a.data_validations.dataValidation] == [
            (dv.type, dv.formula1, str(dv.sqref), dv.errorStyle, dv.error)
            for dv in b.data_validations.dataValidation], name


def test_the_template_filled_with_valid_rows_imports_completely(services, db, tmp_path):
    wb = load_workbook(template_path())
    sheets = {**sample_sheets(), **FUNDER_ROWS}
    for name, rows in sheets.items():
        ws = wb[name]
        columns = headers(ws)
        for r, row in enumerate(rows, start=2):
            for label, value in row.items():
                ws.cell(row=r, column=columns.index(label) + 1, value=value)
    wb.save(tmp_path / "filled.xlsx")
    outcome = import_workbook(services, tmp_path / "filled.xlsx")
    assert outcome.ok, outcome.problem_lines()
    assert {s.sheet: s.new for s in outcome.sheets} == {name: len(rows) for name, rows in sheets.items()}
    with db.reading() as s:
        counted = {m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()
                   for m in (Training, Attendance, Engagement, Milestone, Result, Target, Grant, BudgetLine,
                             Disbursement, Expenditure, Baseline, Narrative, Commitment, Development)}
        assert s.execute(select(Training.start_date).where(Training.code == "TR-1")).scalar_one() == date(2025, 7, 1)
    assert counted == {"Training": 2, "Attendance": 4, "Engagement": 2, "Milestone": 2, "Result": 1, "Target": 2,
                       "Grant": 1, "BudgetLine": 2, "Disbursement": 2, "Expenditure": 2, "Baseline": 1,
                       "Narrative": 1, "Commitment": 1, "Development": 1}
    # the Instructions and hidden Lists sheets are not data; a second spelling of one person is noted
    assert outcome.notes == ["Participants!B4: 'AMINA ali' is the same person as row 2 ('Amina Ali'); that name is "
                             "kept"]


def test_the_blank_template_imports_as_nothing(services, db):
    outcome = import_workbook(services, template_path())
    assert outcome.ok and all(s.rows == 0 for s in outcome.sheets)
    assert outcome.summary_lines()[1] == "  (the file holds no rows to import)"
