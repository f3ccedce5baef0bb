"""Fixtures and readers for the report tests: reports generated through the CLI, read back with openpyxl and,
independently, with python-calamine."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from mou_tracker.cli import cli

PERIOD = "2026-Q3"  # the demo's latest ended quarter (it is built with today = 2026-11-29)
AS_OF = "2026-03-15"
AS_OF_PERIOD = "2025-Q4"
SHEETS = ["Cover", "Summary", "Indicators", "Trainings", "Technical support", "Milestones", "Milestone history",
          "Finance", "Developments", "Definitions", "Sign-off"]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + (result.stderr or "")
    return result


def progress_json(url: str, period: str, as_of: str | None = None) -> dict[str, Any]:
    args = ["--db", url, "progress", "--period", period, "--format", "json"]
    if as_of:
        args += ["--as-of", as_of]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def make_report(url: str, out: Path, party: str, *extra: str) -> Path:
    result = run("--db", url, "report", "--party", party, "--output", str(out), *extra)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    return out


@pytest.fixture(scope="session")
def demo_url(demo_sqlite: Path) -> str:
    return f"sqlite:///{demo_sqlite}"


@pytest.fixture(scope="session")
def demo_reports(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both parties' reports for the demo's latest quarter, and ODPP's as of an earlier date (read-only use)."""
    folder = tmp_path_factory.mktemp("reports")
    return {
        "hti": make_report(demo_url, folder / "hti.xlsx", "hti", "--period", PERIOD),
        "odpp": make_report(demo_url, folder / "odpp.xlsx", "odpp", "--period", PERIOD),
        "odpp-as-of": make_report(demo_url, folder / "odpp-as-of.xlsx", "odpp", "--period", AS_OF_PERIOD,
                                  "--as-of", AS_OF),
    }


# Reading reports back --------------------------------------------------------------------------------------
STATUS = {"On track": "on_track", "Below target": "below_target", "Above target": "above_target",
          "No target": "no_target", "No data": "no_data"}


def number_or_none(value):
    """Both readers give floats for numeric cells; an empty cell is None (openpyxl) or "" (calamine)."""
    return None if value in (None, "") else value


def assert_tracking_table_matches(header, rows, expected, period):
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["Code"]] for r in rows] == [i["code"] for i in expected["indicators"]]
    for row, ind in zip(rows, expected["indicators"], strict=True):
        got = {
            "code": row[col["Code"]],
            "name": row[col["Indicator"]],
            "unit": row[col["Unit"]],
            "period_target": number_or_none(row[col[f"Target {period}"]]),
            "period_actual": number_or_none(row[col[f"Actual {period}"]]),
            "cumulative_target": number_or_none(row[col["Cumulative target"]]),
            "cumulative_actual": number_or_none(row[col["Cumulative actual"]]),
            "life_target": number_or_none(row[col["Life-of-MoU target"]]),
            "status": STATUS[row[col[f"Status {period}"]]],
            "cumulative_status": STATUS[row[col["Cumulative status"]]],
        }
        assert got == ind, ind["code"]


def table_rows(path: Path, sheet: str, table: str) -> tuple[list[str], list[list[Any]]]:
    """A table's header and data rows, read with openpyxl (the table's own range locates it)."""
    wb = load_workbook(path)
    ws = wb[sheet]
    ref = ws.tables[table].ref
    rows = [[c.value for c in row] for row in ws[ref]]
    return [str(h) for h in rows[0]], rows[1:]


def calamine_rows(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def calamine_table(path: Path, sheet: str, table: str) -> tuple[list[str], list[list[Any]]]:
    """The same table read by calamine at the coordinates the workbook's table XML gives (not via openpyxl)."""
    ref = table_ref_from_xml(path, table)
    from openpyxl.utils import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(ref)
    grid = calamine_rows(path, sheet)
    rows = [row[min_col - 1:max_col] + [""] * (max_col - len(row)) for row in grid[min_row - 1:max_row]]
    return [str(h) for h in rows[0]], rows[1:]


def table_ref_from_xml(path: Path, table: str) -> str:
    import re

    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/tables/"):
                xml = z.read(name).decode()
                if f'displayName="{table}"' in xml:
                    m = re.search(r'<table[^>]* ref="([A-Z]+\d+:[A-Z]+\d+)"', xml)
                    assert m, xml[:300]
                    return m.group(1)
    raise AssertionError(f"no table {table} in {path}")


def sheet_xml(path: Path) -> dict[str, str]:
    """Every worksheet's XML, by sheet name."""
    import re

    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="/?(?:xl/)?([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="/?(?:xl/)?([^"]+)"[^>]*Id="(rId\d+)"', rels)})
        out = {}
        for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"', workbook):
            out[name] = z.read("xl/" + targets[rid]).decode()
        return out
