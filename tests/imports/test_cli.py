"""`mou-tracker import FILE.xlsx [--dry-run] [--errors COPY.xlsx]`: exit codes, stderr exactly
`Sheet!A12: message` per problem, the summary on stdout, the highlighted copy."""

import re
from datetime import date

from click.testing import CliRunner
from openpyxl import load_workbook

from mou_tracker.cli import cli
from tests.imports.helpers import audit_count, sample_sheets, snapshot, write_book

CELL_LINE = re.compile(r"^[A-Za-z][A-Za-z ]*![A-Z]{1,3}[0-9]+: \S.*$")


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def test_import_then_reimport_from_the_command_line(db_url, db, tmp_path):
    assert run("--db", db_url, "init").exit_code == 0
    path = write_book(tmp_path / "field.xlsx", sample_sheets())
    dry = run("--db", db_url, "import", str(path), "--dry-run")
    assert dry.exit_code == 0 and dry.stderr == ""
    assert dry.stdout.splitlines()[:3] == [
        "Dry run of field.xlsx: the file is valid; nothing was written. Importing it would make:",
        "  Trainings: 2 new, 0 changed, 0 unchanged",
        "  Participants: 4 new, 0 changed, 0 unchanged"]
    assert "  1.1 Training sessions held: 2025-Q3 0 -> 1; targets 2025-Q3 none -> 2; 2025-Q4 0 -> 1; cumulative " \
           "to 2025-Q4 0 -> 2" not in dry.stdout  # actual and target moves are listed apart
    assert "  1.1 Training sessions held: 2025-Q3 0 -> 1, 2025-Q4 0 -> 1; targets 2025-Q3 none -> 2; cumulative " \
           "to 2025-Q4 0 -> 2" in dry.stdout
    events = audit_count(db)
    done = run("--db", db_url, "import", str(path))
    assert done.exit_code == 0 and done.stdout.startswith("Imported field.xlsx:")
    assert audit_count(db) > events
    events = audit_count(db)
    again = run("--db", db_url, "import", str(path))
    assert again.exit_code == 0 and "  Trainings: 0 new, 0 changed, 2 unchanged" in again.stdout
    assert "No indicator figure changed." in again.stdout and audit_count(db) == events


def test_problems_go_to_stderr_one_cell_per_line_and_exit_1(db_url, db, tmp_path):
    assert run("--db", db_url, "init").exit_code == 0
    sheets = sample_sheets()
    sheets["Trainings"][0]["County"] = "Gotham"
    sheets["Participants"][2]["Sex"] = None
    sheets["Engagements"][1]["Hours"] = "two"
    path = write_book(tmp_path / "field.xlsx", sheets)
    before = snapshot(db)
    result = run("--db", db_url, "import", str(path), "--errors", str(tmp_path / "marked.xlsx"))
    assert result.exit_code == 1 and snapshot(db) == before
    lines = result.stderr.splitlines()
    assert lines == ["Trainings!F2: County 'Gotham' is not one of Kenya's 47 counties",
                     "Participants!C4: Sex is required",
                     "Engagements!F3: Hours 'two' is not a number"]
    assert all(CELL_LINE.match(line) for line in lines)
    assert result.stdout.splitlines() == [
        "Nothing was imported from field.xlsx: 3 problems (fix them and import the file again).",
        f"A copy with the problem cells highlighted and commented: {tmp_path / 'marked.xlsx'}"]

    marked = load_workbook(tmp_path / "marked.xlsx")
    assert marked.sheetnames[0] == "Import problems"
    listing = [(r[0].value, r[1].value) for r in marked["Import problems"].iter_rows(min_row=2)]
    assert listing[0] == ("Trainings!F2", "County 'Gotham' is not one of Kenya's 47 counties")
    cell = marked["Trainings"]["F2"]
    assert cell.value == "Gotham" and cell.fill.fgColor.rgb == "FFFFC7CE"
    assert cell.comment.text == "County 'Gotham' is not one of Kenya's 47 counties"
    assert marked["Participants"]["C4"].comment is not None and marked["Trainings"]["E2"].comment is None
    assert marked["Trainings"]["D2"].value.date() == date(2025, 7, 1)  # the rest of the copy is the original

    # the highlighted copy, corrected, imports
    marked.remove(marked["Import problems"])
    marked["Trainings"]["F2"] = "Nairobi"
    marked["Participants"]["C4"] = "F"
    marked["Engagements"]["F3"] = 2
    marked.save(tmp_path / "fixed.xlsx")
    assert run("--db", db_url, "import", str(tmp_path / "fixed.xlsx")).exit_code == 0


def test_a_file_that_is_no_workbook_gets_one_clear_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("--db", url, "init").exit_code == 0
    fake = tmp_path / "register.xlsx"
    fake.write_text("Training ID,Title\nT1,Evidence\n")
    result = run("--db", url, "import", str(fake), "--errors", str(tmp_path / "copy.xlsx"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "register.xlsx: is not an Excel workbook (.xlsx): it is a text file (CSV?); save it from Excel or "
        "LibreOffice as Excel Workbook (.xlsx)"]
    assert "No highlighted copy was written" in result.stdout and not (tmp_path / "copy.xlsx").exists()


def test_usage_errors_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("--db", url, "import", str(tmp_path / "missing.xlsx")).exit_code == 2
    assert run("--db", url, "import").exit_code == 2
    assert "--dry-run" in run("import", "--help").stdout


def test_a_large_file_gets_a_streamed_highlighted_copy(services, tmp_path, monkeypatch):
    """Above a size openpyxl would take minutes to load, the copy is streamed: same sheets and values, the
    problem cells highlighted and commented, a note that the formatting is not kept."""
    from mou_tracker.imports import highlight, import_workbook

    monkeypatch.setattr(highlight, "STREAM_ABOVE_BYTES", 0)
    sheets = sample_sheets()
    sheets["Trainings"][1]["County"] = "Narnia"
    path = write_book(tmp_path / "f.xlsx", sheets)
    wb = load_workbook(path)
    wb["Trainings"]["B3"].value = "=cmd|' /C calc'!A0"
    wb["Trainings"]["B3"].data_type = "s"  # text that looks like a formula
    wb.save(path)
    outcome = import_workbook(services, path, errors_path=tmp_path / "c.xlsx")
    assert outcome.problem_lines() == ["Trainings!F3: County 'Narnia' is not one of Kenya's 47 counties"]
    assert outcome.errors_path == tmp_path / "c.xlsx" and "large" in outcome.notes[-1]
    copy = load_workbook(tmp_path / "c.xlsx")
    assert copy.sheetnames == ["Import problems", *sheets]
    cell = copy["Trainings"]["F3"]
    assert cell.value == "Narnia" and cell.comment.text.startswith("County 'Narnia'")
    assert copy["Trainings"]["B3"].value == "=cmd|' /C calc'!A0" and copy["Trainings"]["B3"].data_type == "s"
    assert copy["Trainings"]["D2"].value.date() == date(2025, 7, 1)
