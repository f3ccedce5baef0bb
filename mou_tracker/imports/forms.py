"""Importing a KoboToolbox or ODK Central export through a mapping file (docs/reference/import-format.md,
"Form exports").

The export is read into tables (the main one: a row per submission; one per repeat group: a row per entry,
linked to its parent row), the review state of each submission decides whether it is taken, and the mapping
lays the taken rows out as the import sheets (Trainings, Participants, Engagements, ...). From there the
import is the workbook's own: the same checks, the same atomic write through the service layer, the same dry
run. Record IDs made with ``@key`` come from the submission's key, so a later export of the same form updates
the records its submissions made and never duplicates them; an edited submission changes them through the
service layer (audited) and an unchanged one writes nothing.

A virtual sheet keeps the source table's row numbers (a blank row stands in for a left-out submission), so
every problem, note and change is told in the export's own terms: ``register!F7`` for a KoboToolbox sheet,
``attendance-participants.csv, row 7, column sex`` for an ODK CSV.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mou_tracker.imports.checking import Problems, Progress, check_workbook, sheet_ref
from mou_tracker.imports.importer import gc_paused, import_run, write_checked
from mou_tracker.imports.mapping import MAIN, FormMapping, Gather, MappingRefused, SheetMapping, Source, load_mapping
from mou_tracker.imports.outcome import ImportOutcome, ImportProblem, RowChange
from mou_tracker.imports.reader import (
    BOMB_RATIO,
    MAX_ROWS,
    MAX_SHEET_XML_BYTES,
    MB,
    SheetData,
    SheetTab,
    TooLarge,
    Workbook,
    WorkbookRefused,
    column_index,
    column_letter,
)
from mou_tracker.services.programme import Services

#: KoboToolbox ``_validation_status`` (the status's uid, or its label) -> review state
KOBO_REVIEW = {"validation_status_approved": "approved", "approved": "approved",
               "validation_status_not_approved": "rejected", "not approved": "rejected", "not_approved": "rejected",
               "validation_status_on_hold": "on hold", "on hold": "on hold", "on_hold": "on hold", "": "unreviewed"}
#: ODK Central ``ReviewState`` -> review state
ODK_REVIEW = {"approved": "approved", "rejected": "rejected", "hasissues": "has issues", "edited": "edited",
              "": "unreviewed"}
#: review states taken with --include-unreviewed (a rejected submission is never taken)
PENDING = ("unreviewed", "on hold", "has issues", "edited")
#: refused submissions listed one by one; the rest are counted
LISTED = 50
_CELL = re.compile(r"^(?P<sheet>[A-Za-z]+)!(?P<col>[A-Z]{1,3})(?P<row>[0-9]+)(?P<rest>.*)$", re.S)


@dataclass
class Table:
    """One table of the export: the main one (``group`` None) or a repeat group's."""

    name: str  # the Kobo sheet's or the ODK CSV file's name
    group: str | None
    headers: list[str]
    rows: list[list[Any]]
    numbers: list[int]  # each data row's row number in the source (1 = the header row)
    parent: Table | None = None
    parent_row: list[int | None] = field(default_factory=list)  # index into parent.rows
    root: list[int | None] = field(default_factory=list)  # index of the submission (main row) it belongs to

    def column(self, name: str) -> int | None:
        try:
            return self.headers.index(name)
        except ValueError:
            return None

    def value(self, i: int, column: int) -> Any:
        row = self.rows[i]
        return row[column] if column < len(row) else None


@dataclass
class Submission:
    key: str
    review: str  # approved, rejected, unreviewed, on hold, has issues, edited
    raw_review: str
    where: str  # the review cell, in the export's terms


@dataclass
class FormExport:
    tool: str  # "kobo" or "odk"
    path: Path
    main: Table
    repeats: list[Table]
    submissions: list[Submission]
    separator: str  # the group separator of the headers

    @property
    def tables(self) -> list[Table]:
        return [self.main, *self.repeats]

    def table(self, name: str) -> Table | None:
        if name == MAIN:
            return self.main
        for t in self.repeats:
            if t.group == name or t.group is not None and t.group.split(self.separator)[-1] == name:
                return t
        return None

    def cell(self, table: Table, number: int, column: int) -> str:
        if self.tool == "kobo":
            return f"{sheet_ref(table.name)}!{column_letter(column)}{number}"
        header = table.headers[column] if column < len(table.headers) else column_letter(column)
        return f"{table.name}, row {number}, column {header}"


# Reading the exports ------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def detect_tool(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise WorkbookRefused("is neither a KoboToolbox XLSX export nor an ODK Central CSV zip export (it is not "
                              "a zip archive)") from None
    if "[Content_Types].xml" in names:
        return "kobo"
    if any(n.lower().endswith(".csv") for n in names):
        return "odk"
    raise WorkbookRefused("is a zip archive holding no CSV file: not an ODK Central CSV export")


def read_kobo(path: Path) -> FormExport:
    tables: dict[str, Table] = {}
    with Workbook(path) as book:
        for tab in book.tabs:
            if not tab.worksheet:
                continue
            data = book.read(tab.name)
            if isinstance(data, TooLarge):
                raise WorkbookRefused(f"sheet {tab.name} {data.message}")
            if not data.rows:
                continue
            headers = [_text(h) for h in data.rows[0]]
            start = 1
            if len(data.rows) > 1 and _is_hxl(data.rows[1]):
                start = 2  # the HXL tag row (#date, #adm1, ...)
            body = [(i + 1, r) for i, r in enumerate(data.rows[start:], start) if any(_text(c) for c in r)]
            tables[tab.name] = Table(tab.name, None, headers, [r for _n, r in body], [n for n, _r in body])
    mains = [t for t in tables.values() if "_uuid" in t.headers and "_parent_index" not in t.headers]
    if not mains:
        raise WorkbookRefused("is not a KoboToolbox export: no sheet has a _uuid column (export it from "
                              "KoboToolbox as XLS with 'XML values and headers', the submission metadata included)")
    main = mains[0]
    repeats = [t for t in tables.values() if "_parent_index" in t.headers]
    for t in repeats:
        t.group = t.name
    index_of = {id(t): _index_map(t, "_index") for t in [main, *repeats]}
    for t in repeats:
        parent_name = t.column("_parent_table_name")
        pcol = t.column("_parent_index")
        assert pcol is not None
        t.parent_row = []
        for i in range(len(t.rows)):
            name = _text(t.value(i, parent_name)) if parent_name is not None else ""
            parent = tables.get(name, main) if name else main
            if t.parent is None:
                t.parent = parent
            t.parent_row.append(index_of[id(t.parent)].get(_text(t.value(i, pcol))))
    uuid_col = main.column("meta/rootUuid") or main.column("_uuid")
    status_col = main.column("_validation_status")
    submissions = []
    for i in range(len(main.rows)):
        key = _text(main.value(i, uuid_col)).removeprefix("uuid:")  # type: ignore[arg-type]
        raw = _text(main.value(i, status_col)) if status_col is not None else ""
        review = KOBO_REVIEW.get(raw.casefold(), "unknown")
        where_col = status_col if status_col is not None else uuid_col
        submissions.append(Submission(key, review, raw, f"{sheet_ref(main.name)}!{column_letter(where_col)}"
                                                        f"{main.numbers[i]}"))  # type: ignore[arg-type]
    export = FormExport("kobo", path, main, repeats, submissions, "/")
    _roots(export)
    return export


def _is_hxl(row: list[Any]) -> bool:
    cells = [_text(c) for c in row if _text(c)]
    return bool(cells) and all(c.startswith("#") for c in cells)


def _index_map(table: Table, column: str) -> dict[str, int]:
    col = table.column(column)
    return {} if col is None else {_text(table.value(i, col)): i for i in range(len(table.rows))}


def read_odk(path: Path) -> FormExport:
    tables: list[Table] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise WorkbookRefused("is damaged: not a readable zip archive") from None
    with zf:
        total = 0
        for info in zf.infolist():
            if not info.filename.lower().endswith(".csv") or "/" in info.filename.strip("/"):
                continue  # media/ and other files of the export
            if info.flag_bits & 0x1:
                raise WorkbookRefused(f"is password-protected ({info.filename} is encrypted)")
            total += info.file_size
            if total > MAX_SHEET_XML_BYTES or (info.file_size > 8 * MB and
                                                info.file_size > BOMB_RATIO * max(info.compress_size, 1)):
                raise WorkbookRefused(f"unpacks {info.filename} to {info.file_size / MB:,.0f} MB: too large to "
                                      "import at once")
            try:
                text = zf.read(info).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise WorkbookRefused(f"{info.filename} is not UTF-8 text") from None
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                raise WorkbookRefused(f"is damaged: {info.filename} cannot be unpacked ({exc})") from None
            reader = csv.reader(io.StringIO(text, newline=""))
            try:
                rows = list(reader)
            except csv.Error as exc:
                raise WorkbookRefused(f"{info.filename} is not a readable CSV file ({exc})") from None
            if not rows:
                continue
            if len(rows) > MAX_ROWS + 1:
                raise WorkbookRefused(f"{info.filename} holds {len(rows) - 1:,} rows; at most {MAX_ROWS:,} can be "
                                      "imported at once")
            body = [(n, r) for n, r in enumerate(rows[1:], 2) if any(c.strip() for c in r)]
            tables.append(Table(info.filename, None, [h.strip() for h in rows[0]], [r for _n, r in body],
                                [n for n, _r in body]))
    mains = [t for t in tables if "KEY" in t.headers and "PARENT_KEY" not in t.headers]
    if not mains:
        raise WorkbookRefused("is not an ODK Central export: no CSV file has a KEY column without a PARENT_KEY "
                              "(download it from Central as 'All data and not media files', CSV)")
    main = mains[0]
    stem = main.name[:-4]
    repeats = [t for t in tables if "PARENT_KEY" in t.headers]
    by_key: dict[str, tuple[Table, int]] = {}
    for t in [main, *repeats]:
        kcol = t.column("KEY")
        for i in range(len(t.rows)):
            if kcol is not None:
                by_key[_text(t.value(i, kcol))] = (t, i)
    for t in repeats:
        t.group = t.name[:-4].removeprefix(stem + "-")
        pcol = t.column("PARENT_KEY")
        assert pcol is not None
        for i in range(len(t.rows)):
            hit = by_key.get(_text(t.value(i, pcol)))
            if hit is not None and t.parent is None:
                t.parent = hit[0]
            t.parent_row.append(hit[1] if hit is not None and hit[0] is t.parent else None)
        t.parent = t.parent or main
    kcol = main.column("KEY")
    rcol = main.column("ReviewState")
    submissions = []
    for i in range(len(main.rows)):
        key = _text(main.value(i, kcol)).removeprefix("uuid:")  # type: ignore[arg-type]
        raw = _text(main.value(i, rcol)) if rcol is not None else ""
        where = rcol if rcol is not None else kcol
        submissions.append(Submission(key, ODK_REVIEW.get(raw.casefold(), "unknown"), raw,
                                      f"{main.name}, row {main.numbers[i]}, column {main.headers[where]}"))  # type: ignore[index]
    export = FormExport("odk", path, main, repeats, submissions, "-")
    _roots(export)
    return export


def _roots(export: FormExport) -> None:
    export.main.root = list(range(len(export.main.rows)))
    pending = list(export.repeats)
    while pending:  # parents before children, whatever the order of the tables
        progressed = False
        for t in list(pending):
            assert t.parent is not None
            if t.parent is export.main or t.parent not in pending:
                t.root = [None if p is None else t.parent.root[p] for p in t.parent_row]
                pending.remove(t)
                progressed = True
        if not progressed:
            raise WorkbookRefused("its repeat groups refer to each other in a circle")


# Laying the export out as import sheets ------------------------------------------------------------------------
@dataclass
class _Resolved:
    source: Source
    levels: int  # 0: the row's own table; 1: its parent; ...
    column: int | None  # None for a constant or @key


def _find(export: FormExport, table: Table, name: str) -> tuple[int, int] | None:
    """A form field in a table or, going up, in one of its parents: (levels up, column)."""
    sep = export.separator
    want = name.replace("/", sep)
    level, current = 0, table
    while current is not None:
        exact = [i for i, h in enumerate(current.headers) if h in (name, want)]
        if exact:
            return level, exact[0]
        suffix = [i for i, h in enumerate(current.headers) if h.endswith(sep + want)]
        if len(suffix) > 1:
            names = ", ".join(current.headers[i] for i in suffix)
            raise MappingRefused(f"'{name}' matches several columns of {current.name} ({names}); write the full "
                                 "group path")
        if suffix:
            return level, suffix[0]
        folded = [i for i, h in enumerate(current.headers) if h.casefold() == want.casefold()]
        if folded:
            return level, folded[0]
        level, current = level + 1, current.parent  # type: ignore[assignment]
    return None


def _resolve(export: FormExport, mapping: FormMapping, sheet: SheetMapping) -> tuple[Table, list[_Resolved]]:
    where = f"sheets.{sheet.spec.name}"
    table = export.table(sheet.table)
    if table is None:
        groups = ", ".join(t.group or "" for t in export.repeats) or "none"
        raise MappingRefused(f"{where}.from: the export has no repeat group '{sheet.table}' (its repeat groups: "
                             f"{groups}; 'main' is one row per submission)")
    resolved = []
    gather = Gather()
    for source in sheet.sources:
        with gather.one():
            resolved.append(_resolve_one(export, mapping, sheet, table, source, f'{where}.columns."{source.column}"'))
    gather.done()
    return table, resolved


def _resolve_one(export: FormExport, mapping: FormMapping, sheet: SheetMapping, table: Table, source: Source,
                 place: str) -> _Resolved:
    if source.form_field is None:
        if source.constant is not None:
            f = sheet.spec.field_for(source.column)
            assert f is not None
            _value, problem = f.parse(source.constant)
            if problem is not None:
                raise MappingRefused(f"{place}: the constant '{source.constant}': {problem.message}")
        elif len(mapping.id_prefix) + 36 > 60:
            raise MappingRefused("form.id_prefix: too long for an ID (at most 24 characters)")
        return _Resolved(source, 0, None)
    try:
        found = _find(export, table, source.form_field)
    except MappingRefused as exc:
        raise MappingRefused(*(f"{place}: {m}" for m in exc.messages)) from None
    if found is None:
        known = ", ".join(h for h in table.headers if h and not h.startswith("_"))
        raise MappingRefused(f"{place}: no field '{source.form_field}' in {table.name} or the tables above it "
                             f"(its columns: {known[:400]})")
    return _Resolved(source, *found)


class FormSheets:
    """The export's taken rows laid out as import sheets; what ``check_workbook`` reads."""

    def __init__(self, export: FormExport, mapping: FormMapping, taken: list[bool]) -> None:
        self.export = export
        self.mapping = mapping
        self.tabs: list[SheetTab] = []
        self._sheets: dict[str, tuple[Table, list[_Resolved]]] = {}
        gather = Gather()
        for sheet in mapping.sheets:
            with gather.one():
                self._sheets[sheet.spec.name] = _resolve(export, mapping, sheet)
                self.tabs.append(SheetTab(sheet.spec.name, True, True))
        gather.done()
        self.taken = taken
        self._row_of: dict[str, dict[int, int]] = {}

    def read(self, name: str) -> SheetData:
        table, resolved = self._sheets[name]
        size = max(table.numbers, default=1)
        blank: list[Any] = []
        rows: list[list[Any]] = [blank] * size
        rows[0] = [r.source.column for r in resolved]
        for i, number in enumerate(table.numbers):
            root = table.root[i]
            if root is None or not self.taken[root]:
                continue
            rows[number - 1] = [self._value(table, i, r, root) for r in resolved]
        return SheetData(name, rows)

    def _value(self, table: Table, i: int, r: _Resolved, root: int) -> Any:
        source = r.source
        if source.submission_key:
            return self.mapping.id_prefix + self.export.submissions[root].key
        if source.constant is not None:
            return source.constant
        t, row = _up(table, i, r.levels)
        if row is None:
            return None
        assert r.column is not None
        return source.translate(t.value(row, r.column))

    def where(self, sheet: str, number: int, column: int) -> str | None:
        """A virtual sheet's cell in the export's terms (None when the row is not one of the export's)."""
        found = self._sheets.get(sheet)
        if found is None:
            return None
        table, resolved = found
        if table.name not in self._row_of:
            self._row_of[table.name] = {n: i for i, n in enumerate(table.numbers)}
        i = self._row_of[table.name].get(number)
        if i is None:
            return None
        r = resolved[column] if column < len(resolved) else None
        if r is None or r.column is None:  # a constant or @key: the submission's key cell
            root = table.root[i]
            main = self.export.main
            key_col = main.column("KEY") if self.export.tool == "odk" else (main.column("meta/rootUuid") or
                                                                           main.column("_uuid"))
            return self.export.cell(main, main.numbers[root or 0], key_col or 0)
        t, row = _up(table, i, r.levels)
        return self.export.cell(t, t.numbers[row or 0], r.column)


def _up(table: Table, i: int | None, levels: int) -> tuple[Table, int | None]:
    for _ in range(levels):
        assert table.parent is not None
        i = table.parent_row[i] if i is not None else None
        table = table.parent
    return table, i


# The import -----------------------------------------------------------------------------------------------------
@gc_paused()
def import_form_export(services: Services, path: str | Path, mapping_path: str | Path, *, dry_run: bool = False,
                       include_unreviewed: bool = False, progress: Progress | None = None) -> ImportOutcome:
    """Import a KoboToolbox XLSX or ODK Central CSV-zip export through a mapping file.

    Only approved submissions are taken (with ``include_unreviewed``, also those not yet reviewed, on hold,
    with issues or edited since their review; a rejected one never); each one left out is named in the notes.
    Nothing is written unless every taken row is valid, exactly as for the import workbook."""
    path = Path(path)
    with import_run(path, dry_run, progress) as run:
        try:
            mapping = load_mapping(mapping_path)
        except MappingRefused as exc:
            return run.refuse(Path(mapping_path).name, *exc.messages)
        tool = detect_tool(path) if path.is_file() else None
        if tool is None:
            raise WorkbookRefused("no such file")
        if mapping.tool is not None and mapping.tool != tool:
            raise WorkbookRefused(f"is {'a KoboToolbox XLSX' if tool == 'kobo' else 'an ODK Central CSV'} export, "
                                  f"but {mapping.path.name} is written for {mapping.tool} (form.tool)")
        export = read_kobo(path) if tool == "kobo" else read_odk(path)
        taken = _review(export, include_unreviewed, run.problems, run.outcome.notes)
        try:
            book = FormSheets(export, mapping, taken)
        except MappingRefused as exc:
            return run.refuse(mapping.path.name, *exc.messages)
        checked = check_workbook(book, services, run.problems, run.outcome.notes, run.tick)
    if run.refused:
        return run.outcome
    outcome = run.outcome
    if not run.problems:
        write_checked(services, checked, run.problems, outcome, run.tick)
    outcome.notes[:] = [_note_in_export_terms(book, n) for n in outcome.notes]
    for summary in outcome.sheets:
        summary.changes = [RowChange(_note_in_export_terms(book, c.where), c.ref, c.fields) for c in summary.changes]
    return run.finish(_in_export_terms(book, run.problems.items))


def _review(export: FormExport, include_unreviewed: bool, problems: Problems, notes: list[str]) -> list[bool]:
    """Which submissions are taken; each one left out is noted where its review state is shown."""
    taken: list[bool] = []
    left: list[str] = []
    seen: dict[str, str] = {}
    counts = {"taken": 0, "left": 0}
    for s in export.submissions:
        ok = s.review == "approved" or include_unreviewed and s.review in PENDING
        if not s.key:
            problems.file(f"{s.where}: the submission has no key ({'KEY' if export.tool == 'odk' else '_uuid'} "
                          "is empty)")
            ok = False
        elif s.key in seen:
            problems.file(f"{s.where}: submission {s.key} appears twice in the export (first at {seen[s.key]})")
            ok = False
        seen.setdefault(s.key, s.where)
        taken.append(ok)
        if ok:
            counts["taken"] += 1
            continue
        if not s.key or seen[s.key] != s.where:
            continue
        counts["left"] += 1
        if s.review == "rejected":
            why = "rejected" + (f" ({s.raw_review})" if s.raw_review.casefold() != "rejected" else "") + "; left out"
        elif s.review == "unknown":
            why = f"its review state '{s.raw_review}' is not one this import knows; left out"
        else:
            state = "not reviewed" if s.review == "unreviewed" else f"marked '{s.review}' ({s.raw_review})"
            why = f"{state}, not approved; left out (import it with --include-unreviewed)"
        left.append(f"{s.where}: submission {s.key} is {why}")
    notes.append(f"Submissions: {counts['taken']:,} taken, {counts['left']:,} left out" +
                 (" (only approved ones are taken)" if not include_unreviewed else
                  " (approved and not yet reviewed ones are taken; rejected ones never)"))
    notes += left[:LISTED]
    if len(left) > LISTED:
        notes.append(f"... and {len(left) - LISTED:,} more submissions left out")
    return taken


def _in_export_terms(book: FormSheets, items: list[ImportProblem]) -> list[ImportProblem]:
    order = {t.name: n for n, t in enumerate(book.export.tables)}
    out: list[tuple[tuple[int, int, int], ImportProblem]] = []
    for p in items:
        where = book.where(p.sheet, p.row or 0, p.column or 0) if p.sheet else None
        if where is None:
            out.append(((-1, 0, 0), p if p.sheet is None else ImportProblem(book.export.path.name,
                                                                            f"{p.where}: {p.message}")))
            continue
        table, number, column = _locate(book, where)
        out.append(((order.get(table, 0), number, column),
                    ImportProblem(where, p.message, table, number, column)))
    out.sort(key=lambda item: item[0])
    return [p for _key, p in out]


def _locate(book: FormSheets, where: str) -> tuple[str, int, int]:
    if book.export.tool == "kobo":
        sheet, _, cell = where.rpartition("!")
        m = re.fullmatch(r"([A-Z]+)([0-9]+)", cell)
        assert m is not None
        return sheet.strip("'").replace("''", "'"), int(m.group(2)), column_index(m.group(1))
    name, row, column = where.split(", ")
    table = next(t for t in book.export.tables if t.name == name)
    header = column.removeprefix("column ")
    return name, int(row.removeprefix("row ")), table.column(header) or 0


def _note_in_export_terms(book: FormSheets, note: str) -> str:
    m = _CELL.match(note)
    if m is None:
        return note
    where = book.where(m.group("sheet"), int(m.group("row")), column_index(m.group("col")))
    return note if where is None else where + m.group("rest")


