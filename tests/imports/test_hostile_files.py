"""Hostile and broken files: each gets a clear message and nothing is written."""

import io
import shutil
import subprocess
import time
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from mou_tracker.imports import import_workbook
from mou_tracker.imports.reader import MAX_ROWS
from tests.imports.helpers import HEADERS, raw_xlsx, refused, sample_sheets, sheet_xml, write_book

TRAINING = ["T1", "Evidence", "Evidence", "2025-07-01", "2025-07-03", "Nairobi"]


def test_a_text_file_or_random_bytes(services, tmp_path):
    (tmp_path / "a.xlsx").write_bytes(bytes(range(256)) * 8)
    assert refused(services, tmp_path / "a.xlsx") == [
        "a.xlsx: is not an Excel workbook (.xlsx): it is some other kind of file; save it from Excel or LibreOffice "
        "as Excel Workbook (.xlsx)"]
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert refused(services, tmp_path / "empty.xlsx") == ["empty.xlsx: is empty (0 bytes), not an Excel workbook"]


def test_a_zip_that_is_not_a_workbook(services, tmp_path):
    with zipfile.ZipFile(tmp_path / "notes.xlsx", "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert refused(services, tmp_path / "notes.xlsx") == [
        "notes.xlsx: is a zip archive but not an Excel workbook (.xlsx): it has no [Content_Types].xml"]
    (tmp_path / "cut.xlsx").write_bytes((tmp_path / "notes.xlsx").read_bytes()[:30])
    assert refused(services, tmp_path / "cut.xlsx") == [
        "cut.xlsx: is damaged: it is not a readable zip archive (an .xlsx file is one); save it again from Excel or "
        "LibreOffice"]


def test_an_old_xls_header_renamed(services, tmp_path):
    (tmp_path / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    assert refused(services, tmp_path / "old.xlsx") == [
        "old.xlsx: is an old-style Excel 97-2003 workbook (.xls), not an .xlsx; open it in Excel or LibreOffice and "
        "save it as Excel Workbook (.xlsx)"]


@pytest.mark.libreoffice
def test_a_real_xls_saved_by_libreoffice_renamed(services, tmp_path):
    soffice = shutil.which("soffice") or pytest.skip("LibreOffice is not installed")
    source = write_book(tmp_path / "src.xlsx", {"Trainings": sample_sheets()["Trainings"]})
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "out"), str(source)],
                   check=True, capture_output=True, timeout=180)
    renamed = tmp_path / "register.xlsx"
    (tmp_path / "out" / "src.xls").rename(renamed)
    assert refused(services, renamed)[0].startswith("register.xlsx: is an old-style Excel 97-2003 workbook (.xls)")


def test_a_macro_enabled_workbook_renamed(services, tmp_path):
    plain = write_book(tmp_path / "plain.xlsx", {"Trainings": sample_sheets()["Trainings"]})
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(tmp_path / "macros.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml".replace(
                    b"sheet.macro", b"ms-excel.sheet.macro"))
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert refused(services, tmp_path / "macros.xlsx") == [
        "macros.xlsx: is a macro-enabled workbook (.xlsm); macros are not imported: save it as Excel Workbook "
        "(.xlsx) and import that"]


def test_a_password_protected_workbook(services, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_book(tmp_path / "plain.xlsx", {"Trainings": sample_sheets()["Trainings"]})
    with plain.open("rb") as fh, (tmp_path / "locked.xlsx").open("wb") as out:
        OOXMLFile(fh).encrypt("secret", out)
    assert refused(services, tmp_path / "locked.xlsx") == [
        "locked.xlsx: is password-protected (encrypted); remove the password in Excel (File > Info > Protect "
        "Workbook > Encrypt with Password, clear it), save, and import again"]


def million_rows():
    """A Trainings sheet of 1,000,000 data rows, as XML, produced in large pieces (cells may omit their refs)."""
    head = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADERS["Trainings"][:6])
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in TRAINING)
    yield ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           f'spreadsheetml/2006/main"><sheetData><row r="1">{head}</row>')
    for block in range(0, 1_000_000, 20_000):
        yield "".join(f'<row r="{r}">{cells}</row>' for r in range(block + 2, block + 20_002))
    yield "</sheetData></worksheet>"


def test_a_sheet_with_a_million_rows_is_refused_quickly(services, tmp_path):
    path = raw_xlsx(tmp_path / "huge.xlsx", {"Trainings": million_rows()})
    started = time.perf_counter()
    assert refused(services, path) == [
        f"Trainings!A1: the sheet holds 1,000,000 rows; one import takes at most {MAX_ROWS:,} rows per sheet: "
        "split the file"]
    assert time.perf_counter() - started < 20


def one_far_cell(rows: list[list], far: str, cell: str = '<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>',
                 text: str = "note") -> str:
    """A sheet of ``rows`` (from row 1) and one more cell at ``far`` (XFD20000), as XML."""
    body = "".join(sheet_xml(rows)).removesuffix("</sheetData></worksheet>")
    row = int("".join(ch for ch in far if ch.isdigit()))
    return f'{body}<row r="{row}">{cell.format(ref=far, text=text)}</row></sheetData></worksheet>'


@pytest.mark.parametrize(("far", "message"), [
    ("XFD20000", "the sheet spans 327,680,000 cells, from A1 to column XFD and row 20,000 (one import reads at most "
                 "12,000,000): if something was typed far to the right of the table, delete those columns (select "
                 "them, right-click > Delete) and save the file; otherwise split the file"),
    ("H1000000", "the sheet reaches row 1,000,000 (one import takes at most 300,000 rows per sheet): if something "
                 "was typed far below the table, delete those rows (select them, right-click > Delete) and save the "
                 "file; otherwise split the file"),
])
def test_one_stray_value_far_from_the_table_is_refused_before_it_is_loaded(services, tmp_path, far, message):
    """The reader builds the whole rectangle up to the last cell: a note typed in XFD20000 would take 10 GB
    (the process used to die in the reader's allocation). It is refused, quickly, naming what to delete."""
    rows = [HEADERS["Trainings"][:6], TRAINING]
    path = raw_xlsx(tmp_path / "stray.xlsx", {"Trainings": [one_far_cell(rows, far)]})
    started = time.perf_counter()
    assert refused(services, path) == [f"Trainings!A1: {message}"]
    assert time.perf_counter() - started < 10


def test_a_stray_value_on_a_later_sheet_is_refused_before_it_is_loaded_with_the_first_sheets_problems(
        services, tmp_path):
    """Each sheet is scanned before it is loaded, not only the first: a far cell in Participants is refused,
    not loaded, and the Trainings sheet's own problem is reported with it."""
    participants = [HEADERS["Participants"][:4], ["T1", "Achieng Otieno", "F", "ODPP"]]
    path = raw_xlsx(tmp_path / "stray2.xlsx", {"Trainings": sheet_xml([HEADERS["Trainings"][:6],
                                                                        TRAINING[:5] + ["Atlantis"]]),
                                               "Participants": [one_far_cell(participants, "XFD20000")]})
    started = time.perf_counter()
    lines = refused(services, path)
    assert lines[0].startswith("Trainings!F2: County 'Atlantis' is not one of Kenya's 47 counties")
    assert lines[1].startswith("Participants!A1: the sheet spans 327,680,000 cells, from A1 to column XFD")
    assert time.perf_counter() - started < 10


FAR_BELOW = ("the sheet reaches row {row} (one import takes at most 300,000 rows per sheet): if something was typed "
             "far below the table, delete those rows (select them, right-click > Delete) and save the file; "
             "otherwise split the file")


@pytest.mark.parametrize(("last_row", "row"), [
    ('<row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x</t></is></c></row>', "99,999,999"),
    ('<row r="5000000"><c t="inlineStr"><is><t>x</t></is></c></row>', "5,000,000"),  # a cell without its reference
    ('<row r="5000000" s="1" customFormat="1"/>', None),  # a formatted, empty row
    ('<row r="5000000"><c r="A5000000" s="1"/></row>', None),  # a formatted, empty cell
    ('<row r="5000000" spans="1:2"><c s="1"/><c s="2"/></row>', None),
])
def test_how_far_down_a_sheet_reaches_counts_only_what_the_reader_loads(services, tmp_path, last_row, row):
    rows = "".join(sheet_xml([HEADERS["Trainings"][:6], TRAINING])).removesuffix("</sheetData></worksheet>")
    path = raw_xlsx(tmp_path / "far.xlsx", {"Trainings": [rows, last_row, "</sheetData></worksheet>"]})
    if row is None:
        outcome = import_workbook(services, path)
        assert outcome.ok and outcome.sheet("Trainings").new == 1
    else:
        assert refused(services, path) == [f"Trainings!A1: {FAR_BELOW.format(row=row)}"]


def test_empty_formatted_cells_far_out_and_a_few_extra_columns_are_read_as_usual(services, tmp_path):
    """What the reader skips (a formatted, empty ``<c s="1"/>`` in XFD20000) is no reason to refuse, nor are the
    user's own columns up to AZ."""
    rows = [[*HEADERS["Trainings"][:6], *([None] * 45), "My notes"], [*TRAINING, *([None] * 45), "kept apart"]]
    path = raw_xlsx(tmp_path / "formatted.xlsx",
                    {"Trainings": [one_far_cell(rows, "XFD20000", cell='<c r="{ref}" s="0"/>')]})
    outcome = import_workbook(services, path)
    assert outcome.ok and outcome.sheet("Trainings").new == 1


def test_a_zip_bomb_is_refused_before_it_is_unpacked(services, tmp_path):
    path = raw_xlsx(tmp_path / "bomb.xlsx", {"Trainings": sheet_xml([HEADERS["Trainings"]])},
                    extra_parts={"xl/media/padding.xml": b" " * (40 << 20)})
    assert refused(services, path) == [
        "bomb.xlsx: unpacks xl/media/padding.xml to 40 MB from 0.0 MB: refused as a possible zip bomb"]


def test_a_cell_holding_a_megabyte_of_text(services, tmp_path):
    # openpyxl cuts text at Excel's 32,767 characters, so the file is written by hand
    rows = [HEADERS["Trainings"], ["T1", "x" * (1 << 20), *TRAINING[2:]]]
    assert refused(services, raw_xlsx(tmp_path / "big.xlsx", {"Trainings": sheet_xml(rows)})) == [
        "Trainings!B2: Title is 1,048,576 characters long; at most 300 are allowed"]


def test_formulas_use_their_saved_result_or_are_refused_when_there_is_none(services, tmp_path):
    header = HEADERS["Trainings"]
    cached = [["T1", ('"Evidence "&"day"', "Evidence day"), "Evidence", "2025-07-01", "2025-07-03", "Nairobi",
               None, None, None, ("1000+200", 1200)]]
    outcome = import_workbook(services, raw_xlsx(tmp_path / "cached.xlsx", {"Trainings": sheet_xml([header,
                                                                                                     *cached])}))
    assert outcome.ok, outcome.problem_lines()
    assert outcome.notes == ["Trainings: 2 cells hold formulas (B2, J2); their saved results were imported, not "
                             "the formulas."]
    from sqlalchemy import select

    from mou_tracker.db.models import Training

    with services.db.reading() as s:
        assert s.execute(select(Training.title, Training.cost)).one() == ("Evidence day", 1200)

    wb = Workbook()  # openpyxl writes formulas without results, as an unrecalculated file would hold them
    ws = wb.active
    ws.title = "Trainings"
    ws.append(header)
    ws.append(["T2", "Victims", "Victims", date(2025, 7, 1), "=D2+2", "Nairobi"])
    wb.save(tmp_path / "uncached.xlsx")
    assert refused(services, tmp_path / "uncached.xlsx") == [
        "Trainings!E2: End date holds a formula whose result was never saved (the file was not recalculated); open "
        "it in Excel or LibreOffice and save it, or replace the formula by its value"]


def test_error_values_are_refused(services, tmp_path):
    rows = [HEADERS["Trainings"], ["T1", "Evidence", "Evidence", "2025-07-01", "2025-07-03", "Nairobi", None, None,
                                   None, ("error", "#REF!")]]
    assert refused(services, raw_xlsx(tmp_path / "err.xlsx", {"Trainings": sheet_xml(rows)})) == [
        "Trainings!J2: Cost holds the error value #REF!; replace it with a value"]


def test_merged_cells_are_refused(services, tmp_path):
    rows = [["Training ID", None, *HEADERS["Trainings"][1:]], TRAINING]
    assert refused(services, raw_xlsx(tmp_path / "m.xlsx", {"Trainings": sheet_xml(rows, merged=("A1:B1",))})) == [
        "Trainings!A1: header cells A1:B1 are merged; unmerge them so that every column has its own header"]
    rows = [HEADERS["Trainings"], TRAINING, ["T2", None, "Evidence", "2025-07-01", "2025-07-03", "Nairobi"]]
    assert refused(services, raw_xlsx(tmp_path / "d.xlsx", {"Trainings": sheet_xml(rows, merged=("B2:B3",))})) == [
        "Trainings!B2: cells B2:B3 are merged; unmerge them and fill in every cell (a merged range keeps its value "
        "in the first cell only)",
        "Trainings!B3: Title is required"]


def test_hidden_sheets(services, tmp_path):
    sheets = {"Trainings": sheet_xml([HEADERS["Trainings"], TRAINING]),
              "Workings": sheet_xml([["scratch"], [1]])}
    outcome = import_workbook(services, raw_xlsx(tmp_path / "ok.xlsx", sheets, hidden=("Workings",)))
    assert outcome.ok and outcome.notes == []  # a hidden sheet of one's own is ignored
    sheets = {"Trainings": sheet_xml([HEADERS["Trainings"], TRAINING])}
    assert refused(services, raw_xlsx(tmp_path / "hid.xlsx", sheets, hidden=("Trainings",))) == [
        "Trainings!A1: the sheet is hidden; unhide it (right-click a sheet tab > Unhide) so that you can see what "
        "would be imported, or delete it"]


def test_dates_written_as_text_in_other_formats(services, tmp_path):
    rows = [dict(sample_sheets()["Trainings"][0], **{"Training ID": f"T{i}", "Start date": text,
                                                     "End date": date(2025, 7, 3)})
            for i, text in enumerate(("01/07/2025", "1 July 2025", "2025/07/01", "2025-7-1", "45839"))]
    assert refused(services, write_book(tmp_path / "dates.xlsx", {"Trainings": rows})) == [
        f"Trainings!D{n}: Start date '{text}' is not a date; write it as YYYY-MM-DD"
        for n, text in enumerate(("01/07/2025", "1 July 2025", "2025/07/01", "2025-7-1", "45839"), start=2)]


def test_trailing_blank_rows_are_ignored(services, tmp_path):
    path = write_book(tmp_path / "blank.xlsx", {"Trainings": sample_sheets()["Trainings"]})
    wb = load_workbook(path)
    ws = wb["Trainings"]
    for r in range(4, 400):
        ws.cell(row=r, column=1, value="   " if r % 2 else "")
        ws.cell(row=r, column=4).number_format = "yyyy-mm-dd"
    wb.save(path)
    outcome = import_workbook(services, path)
    assert outcome.ok and outcome.sheet("Trainings").new == 2


def test_a_file_name_that_does_not_exist(services, tmp_path):
    assert refused(services, tmp_path / "nowhere.xlsx") == ["nowhere.xlsx: no such file"]


def test_nothing_but_foreign_sheets(services, tmp_path):
    wb = Workbook()
    wb.active.title = "Sheet1"
    buffer = io.BytesIO()
    wb.save(buffer)
    (tmp_path / "other.xlsx").write_bytes(buffer.getvalue())
    assert refused(services, tmp_path / "other.xlsx")[0].startswith(
        "other.xlsx: holds none of the import sheets (Trainings, Participants, Engagements, Milestones, Results, "
        "Targets, Baselines, Narratives, Grant, Budget, Disbursements, Expenditures, Commitments, Developments)")


def test_a_date_cell_holding_a_number_below_one_is_named_as_such(services, tmp_path):
    """The reader turns a date cell holding -5 or 0.5 into a time of day; the message says what happened."""
    path = write_book(tmp_path / "serial.xlsx", {"Trainings": sample_sheets()["Trainings"]})
    wb = load_workbook(path)
    for row, serial in ((2, -5), (3, 0.5)):
        wb["Trainings"].cell(row=row, column=4, value=serial).number_format = "yyyy-mm-dd"
    wb.save(path)
    assert refused(services, path) == [
        f"Trainings!D{row}: Start date holds a number below 1 (negative or a fraction of a day), which is no day "
        f"of the calendar (it reads as the time {shown}); write the date as YYYY-MM-DD"
        for row, shown in ((2, "00:00"), (3, "12:00"))]


@pytest.mark.parametrize("name", ["register.xls", "register.ods", "register", "REGISTER.XLSX"])
def test_a_workbook_under_another_name_is_read_as_what_it_is(services, tmp_path, name):
    """The contents decide, not the name: an .xlsx saved as register.xls (or .ods, or with no extension) was
    refused with the spreadsheet library's own "Invalid OLE signature" message."""
    source = write_book(tmp_path / "src.xlsx", sample_sheets())
    renamed = tmp_path / name
    shutil.copy(source, renamed)
    dry = import_workbook(services, source, dry_run=True)
    outcome = import_workbook(services, renamed)
    assert outcome.ok, outcome.problem_lines()
    assert outcome.written and outcome.sheets == dry.sheets and outcome.notes == dry.notes
    assert sum(s.new for s in outcome.sheets) > 10


def test_the_highlighted_copy_of_a_workbook_under_another_name(services, tmp_path):
    sheets = sample_sheets()
    sheets["Trainings"][0]["End date"] = "not a date"
    shutil.copy(write_book(tmp_path / "src.xlsx", sheets), tmp_path / "register.xls")
    outcome = import_workbook(services, tmp_path / "register.xls", errors_path=tmp_path / "problems.xlsx")
    assert not outcome.ok and not outcome.written
    book = load_workbook(tmp_path / "problems.xlsx")
    assert book["Trainings"]["E2"].comment is not None and "date" in book["Trainings"]["E2"].comment.text
