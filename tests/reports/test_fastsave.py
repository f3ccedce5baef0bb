"""The report's fast save writes the same workbook as openpyxl's ``Workbook.save``: every part of the package
equal in canonical XML, for whole reports and for cells it leaves to openpyxl (formulas, comments, links)."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree
from openpyxl import Workbook
from openpyxl.comments import Comment

from mou_tracker.app_root import Settings, open_app
from mou_tracker.domain.periods import Quarter
from mou_tracker.reports import _load_template, build, fastsave
from mou_tracker.reports.fill import bulk_rows, materialize, style_at
from mou_tracker.reports.profiles import PROFILES, template_path
from tests.reports.conftest import PERIOD


def _c14n(xml: bytes) -> bytes:
    return etree.tostring(etree.fromstring(xml), method="c14n")


def assert_same_package(a: Path, b: Path) -> None:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            if name == "docProps/core.xml":  # the modified time differs
                continue
            left, right = za.read(name), zb.read(name)
            if name.endswith(".xml") or name.endswith(".rels"):
                assert _c14n(left) == _c14n(right), name
            else:
                assert left == right, name


def _report(url: str, party: str) -> Workbook:
    profile = PROFILES[party]
    wb, _notes = _load_template(template_path(profile))
    plan = build.plan(wb, profile, True, "template")
    with open_app(Settings(url, "tester", None, read_only=True)) as app:
        data = app.reader.report_data(party, Quarter.parse(PERIOD), include_personal_data=True)
    build.fill(plan, data, generated_at=datetime(2026, 12, 1, tzinfo=UTC), include_personal_data=True,
               tick=lambda: None)
    return wb


def test_a_whole_report_is_the_same_package(demo_url, tmp_path):
    """The lists' rows, kept as values, come out as the cells openpyxl writes once they are made cells."""
    for party in ("hti", "odpp"):
        plain = _report(demo_url, party)
        for ws in plain.worksheets:
            materialize(ws)
        plain.save(tmp_path / "openpyxl.xlsx")
        fast = _report(demo_url, party)
        assert {ws.title for ws in fast.worksheets if bulk_rows(ws)} >= {"Trainings", "Milestones", "Milestone history"}
        fastsave.save(fast, tmp_path / "fast.xlsx")
        assert_same_package(tmp_path / "openpyxl.xlsx", tmp_path / "fast.xlsx")


def _odd_workbook(with_formula: bool) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.append(["  padded  ", "a & b < c > d", Decimal("1234.56"), 7, 2.5, True, date(2025, 7, 1),
               datetime(2025, 7, 1, 13, 5), None, ""])
    ws.row_dimensions[1].height = 30
    ws.row_dimensions[5].hidden = True  # a row with no cell, only dimensions
    ws["B3"].number_format = "0.00"  # a styled empty cell
    if with_formula:
        ws["A2"] = "=SUM(C1:E1)"
        ws["B2"].comment = Comment("a note", "me")
        ws["C2"].hyperlink = "https://example.org"
    return wb


def test_cells_it_leaves_to_openpyxl_and_the_rest_come_out_the_same(tmp_path):
    for with_formula in (False, True):
        _odd_workbook(with_formula).save(tmp_path / "openpyxl.xlsx")
        fastsave.save(_odd_workbook(with_formula), tmp_path / "fast.xlsx")
        assert_same_package(tmp_path / "openpyxl.xlsx", tmp_path / "fast.xlsx")


def test_a_list_sheet_left_to_openpyxl_still_carries_its_kept_rows(demo_url, tmp_path):
    """A restyled template may put a comment on a list sheet: that sheet goes through openpyxl's writer, its
    kept rows made cells first, and comes out as the plain save does."""
    plain, fast = _report(demo_url, "hti"), _report(demo_url, "hti")
    for wb in (plain, fast):
        wb["Trainings"]["A1"].comment = Comment("restyled by the partner", "ODPP")
    for ws in plain.worksheets:
        materialize(ws)
    plain.save(tmp_path / "openpyxl.xlsx")
    assert bulk_rows(fast["Trainings"])
    fastsave.save(fast, tmp_path / "fast.xlsx")
    assert_same_package(tmp_path / "openpyxl.xlsx", tmp_path / "fast.xlsx")
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert any(b"TR-2025-001" in z.read(n) for n in sheets)


def test_a_kept_rows_style_is_the_style_its_cell_gets(demo_url):
    """Print layout reads data rows' fonts before the save (``style_at``): a kept row answers as its cell."""
    wb = _report(demo_url, "hti")
    ws = wb["Trainings"]
    block = bulk_rows(ws)[0]
    where = [(block.first_row + k, block.col0 + i) for k in range(min(3, len(block.rows)))
             for i in range(len(block.styles))]
    before = {rc: style_at(ws, *rc) for rc in where}
    assert any(s is not None for s in before.values()) and not any(rc in ws._cells for rc in where)
    materialize(ws)
    assert not bulk_rows(ws)
    assert {rc: ws._cells[rc]._style if rc in ws._cells else None for rc in where} == before
