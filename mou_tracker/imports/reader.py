"""Opening an import workbook safely, and reading its sheets' values.

The file comes from outside (a partner's laptop, an e-mail), so before anything is parsed it is checked to be
what it claims: a plain ``.xlsx`` (not a renamed ``.xls``, ``.xlsm``, ``.ods`` or a password-protected file),
of a sensible size once unpacked (no zip bomb), with no sheet beyond ``MAX_ROWS`` rows. Cell values are read
with python-calamine (about twenty times faster than openpyxl's read-only mode on a 200,000-row sheet; see
``benchmarks/bench_import.py``). Calamine reports a formula's saved result and drops error values, so the
sheet's XML is scanned as well to find which cells hold formulas or errors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MB = 1 << 20
#: the largest file accepted, as stored
MAX_FILE_BYTES = 256 * MB
#: the largest sheet accepted once unpacked (counted while unpacking, whatever the zip directory claims)
MAX_SHEET_XML_BYTES = 1024 * MB
#: the most the zip directory may claim for all parts together
MAX_TOTAL_BYTES = 2048 * MB
#: parts that unpack to more than this many times their stored size are treated as a zip bomb
BOMB_RATIO = 200
#: data rows per sheet in one import (the benchmark imports 200,000 participant rows)
MAX_ROWS = 300_000
#: cells in the rectangle from A1 to a sheet's last row and column: the reader builds that whole rectangle,
#: so one stray value far to the right or far below would otherwise take gigabytes (XFD20000: 10 GB)
MAX_CELLS = MAX_ROWS * 40
#: the longest text an Excel cell can hold
EXCEL_TEXT_LIMIT = 32_767

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_FORMULA = re.compile(rb"<f[\s>/]")
_ERROR = re.compile(rb"""\st=["']e["']""")
_TEXT_RESULT = re.compile(rb"""\st=["']str["']""")
_CELL_REF = re.compile(rb"""\sr=["']([A-Z]{1,3})([0-9]{1,10})["']""")
_ROW_REF = re.compile(rb"""\sr=["']([0-9]{1,10})["']""")
_CACHED = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", re.S)
#: a cell in column AA or beyond that is not an empty self-closing ``<c .../>`` (which the reader skips)
_WIDE_CELL = re.compile(rb"""r=["']([A-Z]{2,3})[0-9]{1,10}["'][^>]*(?<!/)>""")


class WorkbookRefused(Exception):
    """The file as a whole cannot be imported; the message says why and what to do instead."""


@dataclass(frozen=True)
class SheetTab:
    name: str
    visible: bool
    worksheet: bool  # False for chart sheets, dialog and macro sheets


@dataclass(frozen=True)
class TooLarge:
    """A sheet that is not loaded: what is wrong, as the rest of a sentence ("the sheet holds ...")."""

    message: str


@dataclass
class SheetData:
    """One sheet's values, row 1 first (index 0 is Excel row 1, column 0 is column A)."""

    name: str
    rows: list[list[Any]]
    #: merged ranges as zero-based (first row, first column, last row, last column)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: cells holding a formula -> whether the file keeps its saved result
    formulas: dict[tuple[int, int], bool] = field(default_factory=dict)
    #: cells holding an error value (#N/A, #REF!, ...) -> the error
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


class Workbook:
    """An opened, checked import workbook. Use as a context manager; ``tabs`` lists its sheets in order."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _check_file(self.path)
        self._zip = _open_zip(self.path)
        try:
            self._parts = _sheet_parts(self._zip)
            from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

            try:
                self._book = _open_calamine(self.path, CalamineWorkbook)
                metadata = self._book.sheets_metadata
            except CalamineError as exc:
                raise WorkbookRefused(f"could not be read as an Excel workbook ({_first_line(exc)}); open it in "
                                      "Excel or LibreOffice and save it again as .xlsx") from None
        except BaseException:
            self._zip.close()
            raise
        self.tabs = [SheetTab(m.name, m.visible == SheetVisibleEnum.Visible, m.typ == SheetTypeEnum.WorkSheet)
                     for m in metadata]

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._book.close()

    def read(self, name: str) -> SheetData | TooLarge:
        """The sheet's values; or, when it is too large to load (more than ``MAX_ROWS`` rows, or a cell so far
        out that the rectangle up to it exceeds ``MAX_CELLS``), why (nothing is loaded)."""
        part = self._parts.get(name)
        has_formulas = has_errors = False
        if part is not None:
            scan = _scan(self._zip, part, name)
            has_formulas, has_errors = scan.formulas, scan.errors
            too_large = scan.too_large()
            if too_large is not None:
                return too_large
        from python_calamine import CalamineError

        try:
            sheet = self._book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        except CalamineError as exc:
            raise WorkbookRefused(f"sheet {name} could not be read ({_first_line(exc)})") from None
        data = SheetData(name, rows, merged)
        if part is not None and (has_formulas or has_errors):
            data.formulas, data.errors = _formulas_and_errors(self._zip, part)
        return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


#: the names calamine reads as an Excel workbook by their extension
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def _open_calamine(path: Path, calamine: Any) -> Any:
    """The file's contents are an .xlsx package (checked): read it as one whatever its name says (an .xlsx
    saved as register.xls, or with no extension, was refused with calamine's "Invalid OLE signature")."""
    if path.suffix.lower() in _XLSX_SUFFIXES:
        return calamine.from_path(str(path))
    with path.open("rb") as fh:
        return calamine.from_filelike(fh)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise WorkbookRefused("no such file")
    if not path.is_file():
        raise WorkbookRefused("is not a file")
    size = path.stat().st_size
    if size == 0:
        raise WorkbookRefused("is empty (0 bytes), not an Excel workbook")
    if size > MAX_FILE_BYTES:
        raise WorkbookRefused(f"is {size / MB:,.0f} MB; an import file may be at most {MAX_FILE_BYTES // MB} MB "
                              "(split it into several files)")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise WorkbookRefused(f"cannot be read ({exc.strerror})") from None
    if head.startswith(OLE_MAGIC):
        if _contains(path, ENCRYPTED_MARK):
            raise WorkbookRefused("is password-protected (encrypted); remove the password in Excel (File > Info > "
                                  "Protect Workbook > Encrypt with Password, clear it), save, and import again")
        raise WorkbookRefused("is an old-style Excel 97-2003 workbook (.xls), not an .xlsx; open it in Excel or "
                              "LibreOffice and save it as Excel Workbook (.xlsx)")
    if not head.startswith(ZIP_MAGICS):
        kind = "a text file (CSV?)" if _looks_like_text(path) else "some other kind of file"
        raise WorkbookRefused(f"is not an Excel workbook (.xlsx): it is {kind}; save it from Excel or LibreOffice "
                              "as Excel Workbook (.xlsx)")


def _contains(path: Path, needle: bytes) -> bool:
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(4 * MB):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle):]
    return False


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise WorkbookRefused("is damaged: it is not a readable zip archive (an .xlsx file is one); save it "
                              "again from Excel or LibreOffice") from None
    try:
        _check_package(zf)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_package(zf: zipfile.ZipFile) -> None:
    names = set(zf.namelist())
    if "mimetype" in names and b"opendocument" in _small_part(zf, "mimetype"):
        raise WorkbookRefused("is an OpenDocument spreadsheet (.ods), not an .xlsx; save it as Excel Workbook "
                              "(.xlsx)")
    if any(n.startswith("word/") for n in names):
        raise WorkbookRefused("is a Word document, not an Excel workbook (.xlsx)")
    if any(n.startswith("ppt/") for n in names):
        raise WorkbookRefused("is a PowerPoint presentation, not an Excel workbook (.xlsx)")
    if "[Content_Types].xml" not in names:
        raise WorkbookRefused("is a zip archive but not an Excel workbook (.xlsx): it has no [Content_Types].xml")
    content_types = _small_part(zf, "[Content_Types].xml")
    if b"macroEnabled" in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise WorkbookRefused("is a macro-enabled workbook (.xlsm); macros are not imported: save it as Excel "
                              "Workbook (.xlsx) and import that")
    if b"sheet.binary" in content_types or any(n.endswith(".bin") and n.startswith("xl/worksheets/") for n in names):
        raise WorkbookRefused("is an Excel binary workbook (.xlsb); save it as Excel Workbook (.xlsx)")
    if b"spreadsheetml" not in content_types:
        raise WorkbookRefused("is a zip archive but not an Excel workbook (.xlsx): it holds no spreadsheet")
    total = 0
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise WorkbookRefused("is password-protected (its parts are encrypted); remove the password and save "
                                  "it again")
        total += info.file_size
        if info.file_size > 8 * MB and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise WorkbookRefused(f"unpacks {info.filename} to {info.file_size / MB:,.0f} MB from "
                                  f"{info.compress_size / MB:,.1f} MB: refused as a possible zip bomb")
    if total > MAX_TOTAL_BYTES:
        raise WorkbookRefused(f"unpacks to {total / MB:,.0f} MB; at most {MAX_TOTAL_BYTES // MB:,} MB can be "
                              "imported at once (split the file)")


def _small_part(zf: zipfile.ZipFile, name: str, limit: int = 16 * MB) -> bytes:
    try:
        info = zf.getinfo(name)
        if info.file_size > limit:
            raise WorkbookRefused(f"is damaged: its part {name} is implausibly large")
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except KeyError:
        return b""
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise WorkbookRefused(f"is damaged: its part {name} cannot be unpacked ({exc})") from None
    if len(data) > limit:
        raise WorkbookRefused(f"is damaged: its part {name} is implausibly large")
    return data


def _xml(zf: zipfile.ZipFile, name: str) -> ET.Element | None:
    data = _small_part(zf, name)
    if not data:
        return None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise WorkbookRefused(f"is damaged or hostile: its part {name} declares XML entities")
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        raise WorkbookRefused(f"is damaged: its part {name} is not well-formed XML") from None


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (str(PurePosixPath(base).parent) + "/" + target).split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip part holding its XML."""
    main = "xl/workbook.xml"
    root_rels = _xml(zf, "_rels/.rels")
    if root_rels is not None:
        for rel in root_rels.iter(f"{_NS_PKG}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                main = _resolve("", rel.get("Target", main))
    book = _xml(zf, main)
    if book is None:
        raise WorkbookRefused(f"is a zip archive but not an Excel workbook (.xlsx): it has no {main}")
    rels_root = _xml(zf, _resolve(main, f"_rels/{PurePosixPath(main).name}.rels"))
    targets = {} if rels_root is None else {
        r.get("Id"): _resolve(main, r.get("Target", "")) for r in rels_root.iter(f"{_NS_PKG}Relationship")}
    parts = {}
    for sheet in book.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"))
        if target and sheet.get("name") is not None:
            parts[sheet.get("name", "")] = target
    return parts


@dataclass
class Scan:
    """What one pass over a sheet's XML found."""

    rows: int = 0  # rows holding cells, the header included
    formulas: bool = False
    errors: bool = False
    last_row: int = 0  # the row of the last cell that holds something (0: none found)
    widest: int = 26  # the columns up to the rightmost cell that holds something (26 while none is past Z)

    def too_large(self) -> TooLarge | None:
        if self.rows > MAX_ROWS + 1:
            return TooLarge(f"holds {self.rows - 1:,} rows; one import takes at most {MAX_ROWS:,} rows per sheet: "
                            "split the file")
        if self.last_row > MAX_ROWS + 1:
            return TooLarge(f"reaches row {self.last_row:,} (one import takes at most {MAX_ROWS:,} rows per sheet): "
                            "if something was typed far below the table, delete those rows (select them, right-click "
                            "> Delete) and save the file; otherwise split the file")
        if self.last_row * self.widest > MAX_CELLS:
            return TooLarge(f"spans {self.last_row * self.widest:,} cells, from A1 to column "
                            f"{column_letter(self.widest - 1)} and row {self.last_row:,} (one import reads at most "
                            f"{MAX_CELLS:,}): if something was typed far to the right of the table, delete those "
                            "columns (select them, right-click > Delete) and save the file; otherwise split the file")
        return None


def _scan(zf: zipfile.ZipFile, part: str, sheet: str) -> Scan:
    """Stream the sheet's XML once: rows holding cells, whether it holds a formula or an error value, and how far
    its cells reach (the reader builds the whole rectangle from A1 to the last row and column).

    Plain substring counts, not XML parsing: a 300 MB sheet takes about a second. Rows are counted by their
    closing tags, so the blank rows Excel writes for row formatting (``<row r="9" s="1"/>``) do not count. How
    far the cells reach: the last cell of each 4 MB piece (rows come in order) and any cell past column Z, each
    unless it is an empty ``<c .../>``, which the reader skips as well.
    """
    scan = Scan()
    size = 0
    tail = b""
    try:
        with zf.open(part) as fh:
            while chunk := fh.read(4 * MB):
                size += len(chunk)
                if size > MAX_SHEET_XML_BYTES:
                    raise WorkbookRefused(f"sheet {sheet} unpacks to more than {MAX_SHEET_XML_BYTES // MB:,} MB; "
                                          "split the file")
                window = tail + chunk
                scan.rows += window.count(b"</row>") - tail.count(b"</row>")
                # (one pass for "<f" first: most sheets hold no formula at all)
                scan.formulas = scan.formulas or (b"<f" in window and (b"<f>" in window or b"<f " in window))
                scan.errors = scan.errors or b' t="e"' in window or b" t='e'" in window
                wide = set(_WIDE_CELL.findall(window))
                if wide:
                    scan.widest = max(scan.widest, *(column_index(w.decode()) + 1 for w in wide))
                scan.last_row = max(scan.last_row, _last_filled_row(window))
                tail = window[-32:]
    except KeyError:
        return Scan()
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise WorkbookRefused(f"is damaged: sheet {sheet} cannot be unpacked ({exc})") from None
    return scan


def _last_filled_row(window: bytes, tries: int = 64) -> int:
    """The row of the last cell in ``window`` that is not an empty ``<c .../>``, or of the last ``<row r="N">``
    that is not an empty ``<row .../>`` (its cells may leave out their references); 0 when none is found among
    the last ``tries`` references."""
    end = len(window)
    for _ in range(tries):
        at = window.rfind(b" r=", 0, end)
        if at < 0:
            return 0
        close = _tag_end(window, at, len(window))
        cell = _CELL_REF.match(window, at)
        if cell is not None and close is not None:
            return int(cell.group(2))
        row = _ROW_REF.match(window, at) if cell is None else None
        if row is not None and close is not None and window.startswith(b"<row", window.rfind(b"<", 0, at)) \
                and (close < 0 or _holds_a_value(window, close + 1, window.find(b"</row>", close))):
            return int(row.group(1))
        end = at
    return 0


def _tag_end(window: bytes, at: int, stop: int) -> int | None:
    """Where the tag around ``at`` ends (its ``>``); ``None`` when it is an empty ``<... />``, -1 when the tag
    goes on past ``stop`` (taken as holding something: the safe side)."""
    close = window.find(b">", at, stop)
    if close >= 0 and window[close - 1:close] == b"/":
        return None
    return close


def _holds_a_value(window: bytes, start: int, stop: int, tries: int = 64) -> bool:
    """Whether a row's content (``window[start:stop]``; ``stop`` -1 when the row goes on past the window) holds
    a cell that is not an empty ``<c .../>``; when in doubt, yes."""
    if stop < 0:
        return True
    at = start
    for _ in range(tries):
        at = window.find(b"<c", at, stop)
        if at < 0:
            return False
        if window[at + 2:at + 3] in (b">", b" ", b"\t", b"\n", b"\r") and _tag_end(window, at, stop) is not None:
            return True
        at += 2
    return True


def _formulas_and_errors(zf: zipfile.ZipFile, part: str) -> tuple[dict[tuple[int, int], bool],
                                                                 dict[tuple[int, int], str]]:
    """Where the formulas (with or without a saved result) and the error values are."""
    with zf.open(part) as fh:
        data = fh.read(MAX_SHEET_XML_BYTES + 1)
    formulas: dict[tuple[int, int], bool] = {}
    errors: dict[tuple[int, int], str] = {}

    def cell_at(pos: int) -> tuple[tuple[int, int], bytes, bytes] | None:
        start = data.rfind(b"<c ", 0, pos)
        if start < 0:
            return None
        tag_end = data.find(b">", start)
        ref = _CELL_REF.search(data, start, tag_end + 1)
        if ref is None:
            return None
        end = data.find(b"</c>", tag_end)
        content = data[tag_end + 1:end] if end > 0 and data[tag_end - 1:tag_end] != b"/" else b""
        coord = (int(ref.group(2)) - 1, column_index(ref.group(1).decode()))
        return coord, data[start:tag_end + 1], content

    for m in _FORMULA.finditer(data):
        found = cell_at(m.start())
        if found:
            coord, tag, content = found
            # a saved result: a value, or a text result (t="str") even when empty; "<v></v>" alone is none
            cached = _CACHED.search(content)
            formulas[coord] = cached is not None and (bool(cached.group(1)) or _TEXT_RESULT.search(tag) is not None)
    for m in _ERROR.finditer(data):
        found = cell_at(m.start() + 1)
        if found:
            coord, _tag, content = found
            cached = _CACHED.search(content)
            errors[coord] = cached.group(1).decode("utf-8", "replace").strip() if cached else "#ERROR"
    return formulas, errors
