"""Checking the whole workbook before anything is written.

Every cell is read with the service layer's own ``Field`` (so the messages agree with the UI's), then the
rows are checked against each other and against the database: duplicate keys inside the file, a
participant's Training ID, an expenditure's Line code, an indicator code, the grant a money row belongs to.
Every problem is collected with its cell (``Trainings!E12``); none stops the others from being found.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select

from mou_tracker.db.models import BudgetLine, Engagement, Grant, Indicator, Training
from mou_tracker.domain.identity import participant_key
from mou_tracker.errors import Problem
from mou_tracker.imports import sheets as S
from mou_tracker.imports.outcome import ImportProblem
from mou_tracker.imports.reader import MAX_ROWS, SheetData, SheetTab, TooLarge, column_letter
from mou_tracker.imports.sheets import SheetSpec, spec_for
from mou_tracker.services.audit import Reason
from mou_tracker.services.fields import Field
from mou_tracker.services.grant import converted, grant_rules
from mou_tracker.services.milestones import milestone_rules
from mou_tracker.services.programme import Services
from mou_tracker.services.support import engagement_rules

#: sheets of the template (or of a highlighted copy) that are not data and are ignored without a note
HELPER_SHEETS = {"instructions", "lists", "import problems"}
#: distinct raw values remembered per column, so that repeated codes, dates and IDs are parsed once
#: (as many as a sheet has rows: a register's 60,000 names repeat, each parsed once)
PARSE_CACHE = MAX_ROWS
#: a cell through its field: the value, or the problem; and the note when the value was adjusted
Parsed = tuple[Any, Problem | None, str | None]
#: adjusted cells (rates rounded to 10 places) listed one by one per sheet; the rest are counted
NOTES_LISTED = 20
_PLAIN_SHEET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

Progress = Callable[[str, float], None]


def sheet_ref(name: str) -> str:
    """A sheet name as a cell reference writes it ('Sheet 1'!A1 needs quotes)."""
    return name if _PLAIN_SHEET_NAME.fullmatch(name) else "'" + name.replace("'", "''") + "'"


def phrase(label: str, message: str) -> str:
    """A field's problem as one sentence: "Title is required", "Line code: no budget line 'X' ..."."""
    if message.startswith(("is ", "has ", "holds ", "must ", "needs ")) or message[:1] in "'\"-0123456789":
        return f"{label} {message}"
    return f"{label}: {message}"


class Problems:
    """Every problem found, each tied to its cell (or to the file)."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.items: list[ImportProblem] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def file(self, message: str) -> None:
        self.items.append(ImportProblem(self.file_name, message))

    def at(self, sheet: str, row: int, column: int, message: str) -> None:
        self.items.append(ImportProblem(f"{sheet_ref(sheet)}!{column_letter(column)}{row}", message, sheet, row,
                                        column))

    def ordered(self, sheet_order: list[str]) -> list[ImportProblem]:
        position = {name: i for i, name in enumerate(sheet_order)}
        return sorted(self.items, key=lambda p: (p.sheet is not None, position.get(p.sheet or "", len(position)),
                                                 p.row or 0, p.column or 0))


@dataclass(slots=True)
class Row:
    """One data row of a sheet: its parsed values (for the columns present) and its reason. (Slots: a register
    has 200,000 of them, each smaller and quicker to make without a ``__dict__``.)"""

    sheet: SheetInput
    number: int
    values: dict[str, Any]
    reason: Reason | None = None
    ok: bool = True
    #: the grant a Budget, Disbursements or Expenditures row belongs to
    grant: str | None = None
    #: a Participants row's person, by the identity rule of docs/reference/import-format.md ("People")
    person: str | None = None

    def get(self, attr: str) -> Any:
        return self.values.get(attr)


@dataclass
class SheetInput:
    """One sheet as read: where each column is and every non-blank row."""

    spec: SheetSpec
    name: str
    columns: dict[str, int] = field(default_factory=dict)  # field attr -> column index
    rows: list[Row] = field(default_factory=list)
    #: False when the sheet's structure is broken (missing columns): its rows were not read
    usable: bool = True

    def has(self, attr: str) -> bool:
        return attr in self.columns

    def column(self, attr: str | None) -> int:
        """The column of a field; the sheet's first known column for a problem no column owns."""
        if attr is not None and attr in self.columns:
            return self.columns[attr]
        return min(self.columns.values(), default=0)

    def where(self, row: int, attr: str | None = None) -> str:
        return f"{sheet_ref(self.name)}!{column_letter(self.column(attr))}{row}"

    def report(self, problems: Problems, row: Row | int, attr: str | None, message: str) -> None:
        number = row.number if isinstance(row, Row) else row
        problems.at(self.name, number, self.column(attr), message)
        if isinstance(row, Row):
            row.ok = False

    def report_problem(self, problems: Problems, row: Row, problem: Problem, reason_needed: bool = False) -> None:
        """A service-layer problem (``Problem.field`` is a column label) at its cell."""
        f = self.spec.field_for(problem.field)
        attr = f.attr if f is not None else None
        if reason_needed:
            hint = "" if self.has("reason") else " (add a Reason column, e.g. 'data correction: typo')"
            self.report(problems, row, "reason", problem.message + hint)
        else:
            self.report(problems, row, attr, phrase(problem.field, problem.message))

    def ok_rows(self) -> Iterable[Row]:
        return (r for r in self.rows if r.ok)


@dataclass
class References:
    """What the database already holds that the file's rows may refer to."""

    trainings: set[str]
    engagements: set[str]
    indicators: set[str]
    grants: list[str]
    lines: set[tuple[str, str]]
    #: each grant's currency (grant code -> currency)
    currencies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, services: Services) -> References:
        pid = services.partnership_id
        with services.db.reading() as s:
            trainings = set(s.execute(select(Training.code).where(Training.partnership_id == pid)).scalars())
            engagements = set(s.execute(select(Engagement.code).where(Engagement.partnership_id == pid)).scalars())
            indicators = set(s.execute(select(Indicator.code).where(Indicator.partnership_id == pid)).scalars())
            currencies = dict(s.execute(select(Grant.code, Grant.currency).where(Grant.partnership_id == pid)
                                        .order_by(Grant.id)).all())
            grants = list(currencies)
            lines = {(g, b) for g, b in s.execute(select(Grant.code, BudgetLine.code)
                                                   .join(BudgetLine, BudgetLine.grant_id == Grant.id)
                                                   .where(Grant.partnership_id == pid))}
        return cls(trainings, engagements, indicators, grants, lines, currencies)


@dataclass
class CheckedWorkbook:
    """The workbook read and checked: its sheets by their import-format name, in the order the file shows them."""

    sheets: dict[str, SheetInput]
    order: list[str]  # tab names, in the workbook's order

    def get(self, spec: SheetSpec) -> SheetInput | None:
        return self.sheets.get(spec.name)


class SheetSource(Protocol):
    """What the checks read: a workbook (``reader.Workbook``), or a form export laid out as import sheets."""

    tabs: list[SheetTab]

    def read(self, name: str) -> SheetData | TooLarge: ...


def check_workbook(book: SheetSource, services: Services, problems: Problems, notes: list[str],
                   progress: Progress) -> CheckedWorkbook:
    matched: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for tab in book.tabs:
        spec = spec_for(tab.name)
        if spec is None:
            if tab.visible and tab.worksheet and " ".join(tab.name.split()).casefold() not in HELPER_SHEETS:
                notes.append(f"Sheet '{tab.name}' is not one of the import sheets; it was ignored.")
            continue
        if spec.name in claimed:
            problems.at(tab.name, 1, 0, f"a second {spec.name} sheet (the other is '{claimed[spec.name]}'); "
                                        "keep only one")
            continue
        claimed[spec.name] = tab.name
        if not tab.worksheet:
            problems.at(tab.name, 1, 0, "is a chart or macro sheet, not a worksheet with rows")
        elif not tab.visible:
            problems.at(tab.name, 1, 0, "the sheet is hidden; unhide it (right-click a sheet tab > Unhide) so that "
                                        "you can see what would be imported, or delete it")
        else:
            matched[spec.name] = tab.name
    if not claimed:
        problems.file("holds none of the import sheets (" + ", ".join(s.name for s in S.SHEETS) + "); "
                      "start from templates/xlsx/import_template.xlsx")
    refs = References.load(services)
    inputs: dict[str, SheetInput] = {}
    todo = [spec.localised(services.country) for spec in S.SHEETS if spec.name in matched]
    for i, spec in enumerate(todo):
        name = matched[spec.name]
        progress(f"Reading {name}", 0.05 + 0.3 * i / max(len(todo), 1))
        data = book.read(name)
        if isinstance(data, TooLarge):
            problems.at(name, 1, 0, f"the sheet {data.message}")
            inputs[spec.name] = SheetInput(spec, name, usable=False)
            continue
        inputs[spec.name] = read_sheet(spec, data, problems, notes)
        del data
    progress("Checking references", 0.38)
    checked = CheckedWorkbook(inputs, [t.name for t in book.tabs])
    check_links(checked, refs, problems)
    check_rules_of_refused_rows(checked, refs, problems, services.today())
    return checked


def read_sheet(spec: SheetSpec, data: SheetData, problems: Problems, notes: list[str]) -> SheetInput:
    """Parse one sheet: headers, then every non-blank row with the service layer's ``Field`` rules."""
    sheet = SheetInput(spec, data.name)
    rows = data.rows
    for r0, c0, r1, c1 in data.merged:
        span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        if r0 == 0:
            problems.at(sheet.name, 1, c0, f"header cells {span} are merged; unmerge them so that every column has "
                                           "its own header")
        else:
            problems.at(sheet.name, r0 + 1, c0, f"cells {span} are merged; unmerge them and fill in every cell (a "
                                                "merged range keeps its value in the first cell only)")
    header = rows[0] if rows else []
    for ci, text in enumerate(header):
        if text is None or not str(text).strip():
            continue
        f = spec.field_for(text)
        if f is None:
            continue  # a column of the user's own: ignored
        if f.attr in sheet.columns:
            problems.at(sheet.name, 1, ci, f"the column '{f.label}' appears twice (first in column "
                                           f"{column_letter(sheet.columns[f.attr])}); keep one")
            continue
        sheet.columns[f.attr] = ci
    if not rows or not sheet.columns:
        if len(rows) > 1:
            problems.at(sheet.name, 1, 0, "row 1 holds none of the sheet's headers (" +
                        ", ".join(f.label for f in spec.columns) + "); the headers go in row 1")
            sheet.usable = False
        return sheet
    missing = [f.label for f in spec.required if f.attr not in sheet.columns]
    for label in missing:
        problems.at(sheet.name, 1, 0, f"the required column '{label}' is missing from row 1")
    if missing or any(p.sheet == sheet.name and p.row == 1 for p in problems.items):
        sheet.usable = False
        return sheet

    plan: list[tuple[Field, int, dict[Any, Parsed], dict[float, Parsed]]] = [
        (f, sheet.columns[f.attr], {}, {}) for f in spec.fields if f.attr in sheet.columns]
    columns = [ci for _f, ci, _cache, _numbers in plan]
    used_formulas: list[str] = []
    adjusted: list[str] = []  # cells whose value was adjusted (a rate rounded to 10 places): never silently
    widest = max(columns)
    take = operator.itemgetter(*columns) if len(columns) > 1 else lambda raw: (raw[columns[0]],)
    marked = bool(data.formulas or data.errors)
    for index in range(1, len(rows)):
        raw = rows[index]
        # calamine's rows are all as wide as the sheet; a form export's may be shorter
        cells = take(raw) if len(raw) > widest else [raw[ci] if ci < len(raw) else "" for ci in columns]
        special = _special_cells(data, index, columns, used_formulas) if marked else None
        if not special:
            for c in cells:
                if c is not None and (c.__class__ is not str or (c and not c.isspace())):
                    break
            else:
                continue  # a blank row (trailing blank rows included)
        number = index + 1
        row = Row(sheet, number, {})
        values = row.values
        for (f, ci, cache, numbers), value in zip(plan, cells, strict=True):
            if special and ci in special:
                problems.at(sheet.name, number, ci, phrase(f.label, special[ci]))
                row.ok = False
                continue
            # a text or number cell seen before (the common case: names, codes, scores) is one look-up
            cls = value.__class__
            hit = (cache.get(value) if cls is str else numbers.get(value) if cls is float else None) \
                or _parse_cell(f, cache, numbers, value)
            if hit[2] is not None:
                adjusted.append(f"{sheet_ref(sheet.name)}!{column_letter(ci)}{number}: {hit[2]}")
            if hit[1] is not None:
                problems.at(sheet.name, number, ci, phrase(hit[1].field, hit[1].message))
                row.ok = False
            elif f.attr == "reason":
                row.reason = Reason.parse(hit[0])
            else:
                values[f.attr] = hit[0]
        sheet.rows.append(row)
    notes += adjusted[:NOTES_LISTED]
    if len(adjusted) > NOTES_LISTED:
        notes.append(f"{sheet.name}: {len(adjusted) - NOTES_LISTED:,} more values were rounded the same way")
    if used_formulas:
        shown = ", ".join(used_formulas[:5]) + (", ..." if len(used_formulas) > 5 else "")
        notes.append(f"{sheet.name}: {len(used_formulas):,} cell{'s' if len(used_formulas) > 1 else ''} hold "
                     f"formulas ({shown}); their saved results were imported, not the formulas.")
    return sheet


def _parse_cell(f: Field, cache: dict[Any, Parsed], numbers: dict[float, Parsed], value: Any) -> Parsed:
    """One cell through its field, remembered per distinct raw value (``read_sheet``'s rule): text in ``cache``,
    a float as read in ``numbers`` (only floats are keyed there, so 1.0 never meets 1 or True), any other value
    in ``cache`` keyed with its type (1, 1.0 and True are equal keys)."""
    raw = value
    if value.__class__ is float:
        value = int(value) if value.is_integer() else Decimal(f"{value:.15g}")
    key = value if value.__class__ is str else (value.__class__, value)
    hit = cache.get(key)
    if hit is None:
        hit = f.parse_noted(value)
        if len(cache) < PARSE_CACHE:
            cache[key] = hit
    if raw.__class__ is float and len(numbers) < PARSE_CACHE:
        numbers[raw] = hit
    return hit


def _special_cells(data: SheetData, index: int, columns: list[int], used_formulas: list[str]) -> dict[int, str]:
    """Cells of a row that hold an error value or a formula without a saved result (column -> message)."""
    special: dict[int, str] = {}
    for ci in columns:
        coord = (index, ci)
        if coord in data.errors:
            special[ci] = f"holds the error value {data.errors[coord]}; replace it with a value"
        elif data.formulas.get(coord) is False:
            special[ci] = ("holds a formula whose result was never saved (the file was not recalculated); open it "
                           "in Excel or LibreOffice and save it, or replace the formula by its value")
        elif coord in data.formulas:
            used_formulas.append(f"{column_letter(ci)}{index + 1}")
    return special


# Cross-row and cross-sheet checks ------------------------------------------------------------------------------
def _unique(sheet: SheetInput, problems: Problems, key: Callable[[Row], Any], attr: str,
            message: Callable[[Row, int], str]) -> None:
    seen: dict[Any, int] = {}
    for row in sheet.rows:
        k = key(row)
        if k is None:
            continue
        if k in seen:
            sheet.report(problems, row, attr, message(row, seen[k]))
        else:
            seen[k] = row.number


def _id_unique(sheet: SheetInput | None, problems: Problems, key: Callable[[Row], Any], attr: str) -> None:
    if sheet is None:
        return
    label = sheet.spec.label_of(attr)
    _unique(sheet, problems, key, attr,
            lambda row, first: f"{label} '{row.get(attr)}' is already on row {first}; each appears once per file")


def _codes(sheet: SheetInput | None, attr: str = "code") -> dict[str, Row]:
    if sheet is None:
        return {}
    out: dict[str, Row] = {}
    for row in sheet.rows:
        code = row.get(attr)
        if code is not None and code not in out:
            out[code] = row
    return out


class _Spellings:
    """'Did you mean' for a reference that differs from a known ID only in capitals (IDs are compared exactly).
    Each pool of IDs is folded once, on the first reference that misses it."""

    def __init__(self) -> None:
        self._folded: dict[int, tuple[Any, dict[Any, Any]]] = {}

    def hint(self, key: Any, *pools: Any) -> str:
        for pool in pools:
            held = self._folded.get(id(pool))
            if held is None:
                held = self._folded[id(pool)] = (pool, {})
                for known in pool:
                    held[1].setdefault(fold_id(known), known)
            found = held[1].get(fold_id(key))
            if found is not None and found != key:
                return f" (IDs are compared exactly, capitals included: did you mean '{shown_id(found)}'?)"
        return ""


def shown_id(key: Any) -> Any:
    """The ID itself of a key that may be scoped ((grant code, line code) -> the line code)."""
    return key[-1] if isinstance(key, tuple) else key


def fold_id(key: Any) -> Any:
    """An ID (or a tuple of IDs) with its capitals folded: what two IDs differing only in capitals share."""
    if isinstance(key, tuple):
        return tuple(fold_id(k) for k in key)
    return key.casefold() if isinstance(key, str) else key


def _reference(sheet: SheetInput, row: Row, attr: str, in_file: dict[Any, Row], key: Any, in_db: bool,
               file_sheet: SheetInput | None, problems: Problems, message: str, hint: str | Callable[[], str] = ""
               ) -> None:
    """A row that refers to another record: in the file (then it follows that row's fate) or in the database.
    ``hint()`` is added to the message when the reference is found nowhere."""
    target = in_file.get(key)
    if target is not None:
        if not target.ok:
            row.ok = False  # the row it depends on has its own problem; nothing more to say here
        return
    if in_db:
        return
    if file_sheet is not None and not file_sheet.usable:
        row.ok = False  # the sheet that might hold it could not be read; its problem is reported
        return
    sheet.report(problems, row, attr, message + (hint() if callable(hint) else hint))


def check_rules_of_refused_rows(book: CheckedWorkbook, refs: References, problems: Problems, today: date) -> None:
    """The service layer's rules on fields together, run on the rows that will not reach it.

    A row with a problem is never written, so the service layer never judges it. Its rules ("Case reference
    is required for Case mentoring", "Completed on is required when the status is Completed", "Rate is
    required: KES differs from the grant currency") would only show after the first problem was corrected.
    They run here on the cells that did parse, so every problem of the file is listed at once. A rule about a
    cell that has a problem of its own is not repeated. The rows without problems are judged while writing,
    by the service layer itself."""
    reported = {(p.sheet, p.row, p.column) for p in problems.items}
    grant_sheet = book.get(S.GRANT)
    file_currencies = {r.get("code"): r.get("currency") for r in (grant_sheet.rows if grant_sheet else [])
                       if r.get("code") and r.get("currency")}

    def money_rules(row: Row) -> list[Problem]:
        currency = file_currencies.get(row.grant) or refs.currencies.get(row.grant or "")
        found: list[Problem] = []
        if currency is not None:
            converted(row.values, currency, found)
        return found

    rules: list[tuple[SheetSpec, Callable[[Row], list[Problem]]]] = [
        (S.ENGAGEMENTS, lambda row: engagement_rules(row.values)),
        (S.MILESTONES, lambda row: milestone_rules(row.values, today)),
        (S.GRANT, lambda row: grant_rules(row.values)),
        *((spec, money_rules) for spec in (S.DISBURSEMENTS, S.EXPENDITURES, S.COMMITMENTS))]
    for spec, rule in rules:
        sheet = book.get(spec)
        if sheet is None:
            continue
        for row in sheet.rows:
            if row.ok:
                continue
            for problem in rule(row):
                f = spec.field_for(problem.field)
                if f is not None and (sheet.name, row.number, sheet.column(f.attr)) not in reported:
                    sheet.report_problem(problems, row, problem)


def check_links(book: CheckedWorkbook, refs: References, problems: Problems) -> None:
    trainings = book.get(S.TRAININGS)
    participants = book.get(S.PARTICIPANTS)
    engagements = book.get(S.ENGAGEMENTS)
    grant_sheet = book.get(S.GRANT)

    spellings = _Spellings()
    _id_unique(trainings, problems, lambda r: r.get("code"), "code")
    _id_unique(engagements, problems, lambda r: r.get("code"), "code")
    _id_unique(book.get(S.MILESTONES), problems, lambda r: r.get("code"), "code")
    _id_unique(grant_sheet, problems, lambda r: r.get("code"), "code")
    for spec in (S.RESULTS, S.TARGETS):
        sheet = book.get(spec)
        if sheet is None:
            continue
        _unique(sheet, problems, lambda r: (r.get("indicator_code"), r.get("period"))
                if r.get("indicator_code") and r.get("period") else None, "period",
                lambda r, first: f"indicator {r.get('indicator_code')} already has a row for {r.get('period')} "
                                 f"(row {first})")
        for row in sheet.rows:
            code = row.get("indicator_code")
            if code is not None and code not in refs.indicators:
                sheet.report(problems, row, "indicator_code", f"Indicator code: no indicator '{code}' in this "
                             "partnership" + spellings.hint(code, refs.indicators))

    # Training end before start (the bulk path writes new trainings without the per-row service check)
    if trainings is not None:
        for row in trainings.rows:
            start, end = row.get("start_date"), row.get("end_date")
            if start and end and end < start:
                trainings.report(problems, row, "end_date", f"End date {end} is before the start date {start}")

    training_rows = _codes(trainings)
    if participants is not None:
        keys: dict[tuple[str, str, str | None], str] = {}  # the same person is on many rows
        for row in participants.rows:
            values = row.values
            if values.get("name") and values.get("agency"):
                who = (values["name"], values["agency"], values.get("staff_number"))
                row.person = keys.get(who) or keys.setdefault(who, participant_key(*who))
        _unique(participants, problems,
                lambda r: (code, r.person) if (code := r.values.get("training_code")) and r.person else None,
                "name",
                lambda r, first: f"{r.get('name')} is already listed for training {r.get('training_code')} on row "
                                 f"{first} (the same person: same staff number, or same name and agency)")
        for row in participants.rows:
            code = row.values.get("training_code")
            if code is not None:
                target = training_rows.get(code)
                if target is not None and target.ok:
                    continue  # the common case: a training of this file, itself in order
                _reference(participants, row, "training_code", training_rows, code, code in refs.trainings,
                           trainings, problems, f"Training ID: no training '{code}' in this file or the database",
                           partial(spellings.hint, code, training_rows, refs.trainings))

    _check_money(book, refs, problems, grant_sheet, training_rows, _codes(engagements), trainings, engagements,
                 spellings)
    from mou_tracker.imports import funder_sheets

    funder_sheets.check(book, refs, problems)


def _check_money(book: CheckedWorkbook, refs: References, problems: Problems, grant_sheet: SheetInput | None,
                 training_rows: dict[str, Row], engagement_rows: dict[str, Row], trainings: SheetInput | None,
                 engagements: SheetInput | None, spellings: _Spellings) -> None:
    """Which grant each Budget, Disbursements and Expenditures row belongs to, and what it refers to."""
    file_grants = _codes(grant_sheet)
    budget = book.get(S.BUDGET)
    disbursements = book.get(S.DISBURSEMENTS)
    expenditures = book.get(S.EXPENDITURES)
    known = list(dict.fromkeys([*file_grants, *refs.grants]))
    for sheet in (budget, disbursements, expenditures, book.get(S.COMMITMENTS)):
        if sheet is None or not sheet.rows:
            continue
        default: str | None = None
        trouble: str | None = None
        if len(file_grants) == 1:
            default = next(iter(file_grants))
        elif len(file_grants) > 1:
            trouble = (f"the Grant sheet lists several grants ({', '.join(file_grants)}); add a Grant code column "
                       "to say which grant each row belongs to")
        elif grant_sheet is not None and not grant_sheet.usable:
            trouble = ""  # the Grant sheet's own problem says it all
        elif len(refs.grants) == 1:
            default = refs.grants[0]
        elif not refs.grants:
            trouble = "the partnership has no grant yet; add a Grant sheet with the grant these rows belong to"
        else:
            trouble = (f"the partnership has several grants ({', '.join(refs.grants)}); add a Grant code column "
                       "to say which grant each row belongs to")
        reported = False
        for row in sheet.rows:
            code = row.get("grant_code") or default
            if row.get("grant_code"):
                if code not in known:
                    sheet.report(problems, row, "grant_code", f"Grant code: no grant '{code}' in this file or the "
                                                              "database" + spellings.hint(code, known))
                    continue
            elif code is None:
                if trouble and not reported:
                    problems.at(sheet.name, 1, 0, trouble)
                    reported = True
                row.ok = False
                continue
            row.grant = code
            if code in file_grants and not file_grants[code].ok:
                row.ok = False

    if budget is not None:
        _unique(budget, problems, lambda r: (r.grant, r.get("code")) if r.grant and r.get("code") else None, "code",
                lambda r, first: f"Line code '{r.get('code')}' is already on row {first}; each appears once per "
                                 "grant")
    line_rows = {(r.grant, r.get("code")): r for r in (budget.rows if budget else []) if r.grant}
    if expenditures is not None:
        _unique(expenditures, problems, lambda r: (r.grant, r.get("code")) if r.grant and r.get("code") else None,
                "code", lambda r, first: f"Expenditure ID '{r.get('code')}' is already on row {first}; each appears "
                                         "once per file")
        for row in expenditures.rows:
            if row.grant and row.get("line_code"):
                key = (row.grant, row.get("line_code"))
                _reference(expenditures, row, "line_code", line_rows, key, key in refs.lines, budget, problems,
                           f"Line code: no budget line '{row.get('line_code')}' in grant {row.grant}",
                           partial(spellings.hint, key, line_rows, refs.lines))
            if row.get("training_code"):
                code = row.get("training_code")
                _reference(expenditures, row, "training_code", training_rows, code, code in refs.trainings,
                           trainings, problems, f"Training ID: no training '{code}' in this file or the database",
                           partial(spellings.hint, code, training_rows, refs.trainings))
            if row.get("engagement_code"):
                code = row.get("engagement_code")
                _reference(expenditures, row, "engagement_code", engagement_rows, code, code in refs.engagements,
                           engagements, problems,
                           f"Engagement ID: no engagement '{code}' in this file or the database",
                           partial(spellings.hint, code, engagement_rows, refs.engagements))
    if disbursements is not None:
        _unique(disbursements, problems,
                lambda r: (r.grant, r.get("reference")) if r.grant and r.get("reference") else None, "reference",
                lambda r, first: f"Reference '{r.get('reference')}' is already on row {first}; each disbursement "
                                 "appears once")
        _unique(disbursements, problems,
                lambda r: (r.grant, r.get("date"), r.get("amount"), r.get("currency"))
                if r.grant and not r.get("reference") and r.get("date") else None, "reference",
                lambda r, first: f"row {first} has the same date, amount and currency and neither has a Reference; "
                                 "give each disbursement a Reference to tell them apart")
