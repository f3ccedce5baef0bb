"""The sample exports shipped in templates/forms/examples/ (what a newcomer tries the mapping examples on):
they hold what tests/imports/form_exports.py builds, and each imports with its shipped mapping from the command
line: the rejected submission is left out and named, a re-import writes nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.imports import form_exports as F
from tests.imports.helpers import audit_count, chain_intact
from tests.imports.test_form_exports import run

SHIPPED = sorted(F.EXAMPLES.iterdir())


def contents(path: Path) -> dict[str, list[list[str]]]:
    """Each sheet's or CSV's cells as text (a workbook's bytes carry the time it was written)."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        out = {ws.title: [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
               for ws in wb.worksheets}
        wb.close()
        return out
    with zipfile.ZipFile(path) as zf:
        return {name: list(csv.reader(io.StringIO(zf.read(name).decode("utf-8")))) for name in zf.namelist()}


def test_the_shipped_examples_are_what_the_test_exports_build(tmp_path):
    built = {p.name: p for p in F.write_examples(tmp_path)}
    assert sorted(built) == [p.name for p in SHIPPED], "rewrite them: .venv/bin/python -m tests.imports.form_exports"
    for path in SHIPPED:
        assert contents(path) == contents(built[path.name]), path.name


@pytest.mark.parametrize("name", [p.name for p in SHIPPED])
def test_each_shipped_example_imports_with_its_shipped_mapping(name, db_url, db):
    assert run("--db", db_url, "init").exit_code == 0
    path = F.EXAMPLES / name
    mapping = F.ATTENDANCE_MAP if name.startswith("attendance_register") else F.MENTORING_MAP
    done = run("--db", db_url, "import", str(path), "--mapping", str(mapping))
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    if mapping == F.ATTENDANCE_MAP:
        assert "  Trainings: 2 new, 0 changed, 0 unchanged" in lines
        assert "  Participants: 5 new, 0 changed, 0 unchanged" in lines
        assert sum(f"submission {F.uuid(3)} is rejected" in line and line.endswith("left out") for line in lines) == 1
    else:
        assert "  Engagements: 2 new, 0 changed, 0 unchanged" in lines
    events = audit_count(db)
    again = run("--db", db_url, "import", str(path), "--mapping", str(mapping))
    assert again.exit_code == 0 and audit_count(db) == events
    assert " 0 new, 0 changed, " in again.stdout and "No indicator figure changed." in again.stdout
    assert chain_intact(db)
