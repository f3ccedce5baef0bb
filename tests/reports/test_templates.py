"""Templates users restyle without touching code: their styling reaches the report; a missing or broken
template gets a clear message naming the file, sheet or cell, never a traceback."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from mou_tracker.paths import templates_dir
from mou_tracker.reports.layout import SHEETS
from tests.reports.conftest import PERIOD, progress_json, run, table_rows


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A templates folder holding copies of the packaged templates."""
    out = tmp_path / "templates"
    out.mkdir()
    for party in ("hti", "odpp"):
        shutil.copy(templates_dir() / f"{party}.xlsx", out)
    return out


def report(url: str, folder: Path, out: Path, party: str = "hti") -> object:
    return run("--db", url, "report", "--party", party, "--period", PERIOD, "--output", str(out),
               env={"MOU_TRACKER_TEMPLATES": str(folder)})


def header_row(ws, table: str) -> int:
    return int(re.search(r"\d+", ws.tables[table].ref).group())


def test_packaged_templates_hold_every_table_of_the_layout():
    for party in ("hti", "odpp"):
        wb = load_workbook(templates_dir() / f"{party}.xlsx")
        assert wb.sheetnames == [s.name for s in SHEETS]
        for layout in SHEETS:
            assert sorted(wb[layout.name].tables) == sorted(s.table for s in layout.sections)


def test_restyled_template_styling_reaches_the_report(demo_url, folder, tmp_path):
    wb = load_workbook(folder / "hti.xlsx")
    ws = wb["Trainings"]
    h = header_row(ws, "Trainings")
    ws.cell(row=1, column=1).font = Font(name="Georgia", size=20, color="C00000")
    ws.cell(row=h, column=2).value = "Course title"
    ws.cell(row=h, column=2).font = Font(name="Verdana", bold=True, color="FFFF00")
    for col in range(1, 26):
        ws.cell(row=h + 1, column=col).fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
        ws.cell(row=h + 1, column=col).font = Font(name="Arial", italic=True)
    ws.cell(row=h + 1, column=4).number_format = "dd/mm/yyyy"
    ws.column_dimensions["B"].width = 55
    ind = wb["Indicators"]
    legend = next(c for row in ind.iter_rows() for c in row if c.value == "{{legend:on_track}}")
    legend.fill = PatternFill("solid", start_color="7030A0", end_color="7030A0")
    legend.font = Font(color="FFFFFF", bold=True)
    hi = header_row(ind, "TrackingTable")
    ind.cell(row=hi + 1, column=7).fill = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")  # Target
    summary = wb["Summary"]
    hs = header_row(summary, "ChartTrained")
    summary.cell(row=hs, column=3).fill = PatternFill("solid", start_color="00B050", end_color="00B050")
    wb.save(folder / "hti.xlsx")

    out = tmp_path / "restyled.xlsx"
    result = report(demo_url, folder, out)
    assert result.exit_code == 0, result.stderr
    got = load_workbook(out)
    ws = got["Trainings"]
    h = header_row(ws, "Trainings")
    assert ws["A1"].font.name == "Georgia" and ws["A1"].font.sz == 20 and ws["A1"].font.color.rgb.endswith("C00000")
    assert ws.cell(row=h, column=2).value == "Course title"
    assert ws.cell(row=h, column=2).font.name == "Verdana"
    assert "Course title" in [c.name for c in ws.tables["Trainings"].tableColumns]
    assert ws.column_dimensions["B"].width == 55
    header, rows = table_rows(out, "Trainings", "Trainings")
    assert len(rows) > 30
    for r in range(h + 1, h + 1 + len(rows)):
        assert ws.cell(row=r, column=2).fill.fgColor.rgb.endswith("FFF2CC")
        assert ws.cell(row=r, column=2).font.name == "Arial" and ws.cell(row=r, column=2).font.i
        assert ws.cell(row=r, column=4).number_format == "dd/mm/yyyy"
    ind = got["Indicators"]
    hi = header_row(ind, "TrackingTable")
    header = [c.value for c in ind[hi]]
    targets = [i + 1 for i, v in enumerate(header) if str(v).startswith("Target 20")]
    assert len(targets) == 6
    for col in targets:  # the one styled per-quarter column became six
        assert ind.cell(row=hi + 1, column=col).fill.fgColor.rgb.endswith("DDEBF7")
    on_track = [rule for cf in ind.conditional_formatting for rule in cf.rules if rule.formula == ['"On track"']]
    assert on_track and on_track[0].dxf.fill.fgColor.rgb.endswith("7030A0")
    assert on_track[0].dxf.font.color.rgb.endswith("FFFFFF") and on_track[0].dxf.font.b
    with zipfile.ZipFile(out) as z:
        charts = " ".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/"))
    assert "00B050" in charts


def test_missing_template_folder_file(demo_url, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = report(demo_url, empty, tmp_path / "r.xlsx")
    assert result.exit_code == 1
    assert f"report template {empty / 'hti.xlsx'} is missing" in result.stderr
    assert "MOU_TRACKER_TEMPLATES" in result.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_a_file_that_is_not_a_workbook(demo_url, folder, tmp_path):
    (folder / "odpp.xlsx").write_text("not a workbook")
    result = report(demo_url, folder, tmp_path / "r.xlsx", "odpp")
    assert result.exit_code == 1
    assert "odpp.xlsx is not a readable .xlsx workbook" in result.stderr


def _edit(path: Path, change) -> None:
    wb = load_workbook(path)
    change(wb)
    wb.save(path)


def test_a_required_sheet_removed(demo_url, folder, tmp_path):
    _edit(folder / "hti.xlsx", lambda wb: wb.remove(wb["Indicators"]))
    result = report(demo_url, folder, tmp_path / "r.xlsx")
    assert result.exit_code == 1
    assert "has no sheet 'Indicators'" in result.stderr


def test_an_optional_sheet_removed_is_left_out_with_a_note(demo_url, folder, tmp_path):
    _edit(folder / "hti.xlsx", lambda wb: wb.remove(wb["Milestone history"]))
    out = tmp_path / "r.xlsx"
    result = report(demo_url, folder, out)
    assert result.exit_code == 0, result.stderr
    assert "note:" in result.stderr and "Milestone history" in result.stderr
    assert "Milestone history" not in load_workbook(out).sheetnames


def test_a_table_with_a_column_too_few(demo_url, folder, tmp_path):
    def drop_column(wb):
        t = wb["Milestones"].tables["Milestones"]
        t.ref = t.ref.replace("M", "L")
        t.autoFilter.ref = t.ref
        t.tableColumns = t.tableColumns[:-1]

    _edit(folder / "hti.xlsx", drop_column)
    result = report(demo_url, folder, tmp_path / "r.xlsx")
    assert result.exit_code == 1
    assert "sheet 'Milestones': table 'Milestones' has 12 columns; the report writes 13" in result.stderr


def test_a_table_renamed(demo_url, folder, tmp_path):
    def rename(wb):
        ws = wb["Definitions"]
        t = ws.tables.pop("Definitions")
        t.displayName = t.name = "MyDefinitions"
        ws.add_table(t)

    _edit(folder / "hti.xlsx", rename)
    result = report(demo_url, folder, tmp_path / "r.xlsx")
    assert result.exit_code == 1
    assert "no Excel table named 'Definitions' (tables there: MyDefinitions)" in result.stderr


def test_an_unknown_placeholder_names_its_cell(demo_url, folder, tmp_path):
    _edit(folder / "hti.xlsx", lambda wb: wb["Cover"].cell(row=5, column=2, value="{{parties}} {{nope}}"))
    result = report(demo_url, folder, tmp_path / "r.xlsx")
    assert result.exit_code == 1
    assert "Cover!B5: unknown placeholder {{nope}}" in result.stderr


def test_a_sheet_of_the_users_own_is_kept_and_filled(demo_url, folder, tmp_path):
    def add(wb):
        ws = wb.create_sheet("Notes for the board")
        ws["A1"] = "Prepared for {{party_name}}, period {{period_label}}"
        ws["A2"] = "{{ind:1.2:cumulative_actual}}"

    _edit(folder / "odpp.xlsx", add)
    out = tmp_path / "r.xlsx"
    assert report(demo_url, folder, out, "odpp").exit_code == 0
    ws = load_workbook(out)["Notes for the board"]
    assert ws["A1"].value == ("Prepared for Office of the Director of Public Prosecutions, Kenya, period "
                              "FY2026/27 Q1")
    trained = next(i for i in progress_json(demo_url, PERIOD)["indicators"] if i["code"] == "1.2")
    assert ws["A2"].value == trained["cumulative_actual"] > 0 and ws["A2"].number_format == "#,##0"


def test_a_template_from_before_the_funder_tables_still_works_with_notes(demo_url, folder, tmp_path):
    """A template restyled before the Developments sheet and the Finance sheet's SF425 and Commitments tables."""
    def older(wb):
        wb.remove(wb["Developments"])
        ws = wb["Finance"]
        for name in ("SF425", "Commitments"):
            del ws.tables[name]

    _edit(folder / "hti.xlsx", older)
    out = tmp_path / "r.xlsx"
    result = report(demo_url, folder, out)
    assert result.exit_code == 0, result.stderr
    for name in ("'Developments'", "table 'SF425'", "table 'Commitments'"):
        assert name in result.stderr, name
    wb = load_workbook(out)
    assert "Developments" not in wb.sheetnames
    assert set(wb["Finance"].tables) == {"GrantFigures", "BudgetLines", "Disbursements"}
