"""What an import did, or would do: per sheet new / changed / unchanged rows, the problems found, and how
each indicator's figures move. The CLI prints ``summary_lines()``; the UI shows the same fields."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

#: changed rows listed one by one in the printed summary, per sheet
DETAIL_ROWS = 20


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the file. ``where`` is ``Sheet!A12`` for a cell, or the file's name."""

    where: str
    message: str
    sheet: str | None = None
    row: int | None = None  # Excel row number (1 = the header row)
    column: int | None = None  # 0 = column A

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class RowChange:
    """A row that changes an existing record: its cell, its key and field label -> (old, new)."""

    where: str
    ref: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class SheetSummary:
    sheet: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    #: label -> how many changed rows change that field
    fields: Counter[str] = field(default_factory=Counter)
    changes: list[RowChange] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.new + self.changed + self.unchanged

    def count(self, action: str, where: str = "", ref: str = "",
              fields: dict[str, tuple[Any, Any]] | None = None) -> None:
        if action == "created":
            self.new += 1
        elif action == "updated":
            self.changed += 1
            self.fields.update((fields or {}).keys())
            self.changes.append(RowChange(where, ref, dict(fields or {})))
        else:
            self.unchanged += 1

    def line(self) -> str:
        changed = f"{self.changed} changed"
        if self.fields:
            changed += " (" + ", ".join(f"{label} {n}" if n > 1 else label
                                        for label, n in sorted(self.fields.items())) + ")"
        return f"{self.sheet}: {self.new} new, {changed}, {self.unchanged} unchanged"


@dataclass(frozen=True)
class FigureMove:
    """One figure of one quarter before and after the import (``what`` is actual or target)."""

    quarter: str
    what: str
    before: Decimal | None
    after: Decimal | None


@dataclass(frozen=True)
class IndicatorMove:
    """How an indicator's figures move: the quarters that change, and its cumulative actual to date."""

    code: str
    name: str
    unit: str
    moves: tuple[FigureMove, ...]
    #: the latest quarter holding any data, before or after: the "to date" of the cumulative figures
    to_date: str | None
    cumulative_before: Decimal | None
    cumulative_after: Decimal | None

    def line(self) -> str:
        parts = []
        for what in ("actual", "target"):
            moves = [m for m in self.moves if m.what == what]
            if moves:
                label = "" if what == "actual" else "targets "
                parts.append(label + ", ".join(f"{m.quarter} {_num(m.before)} -> {_num(m.after)}" for m in moves))
        if self.cumulative_before != self.cumulative_after:
            parts.append(f"cumulative to {self.to_date} {_num(self.cumulative_before)} -> "
                         f"{_num(self.cumulative_after)}")
        return f"{self.code} {self.name}: " + "; ".join(parts)


def _num(value: Decimal | None) -> str:
    if value is None:
        return "none"
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def show(value: Any) -> str:
    """A value as a row-change line shows it."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, Decimal):
        return _num(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class ImportOutcome:
    """The result of ``import_workbook``. ``written`` is True only when the changes were committed."""

    path: Path
    dry_run: bool
    sheets: list[SheetSummary] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    indicators: list[IndicatorMove] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False
    errors_path: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def sheet(self, name: str) -> SheetSummary | None:
        for s in self.sheets:
            if s.sheet.casefold() == name.casefold():
                return s
        return None

    def problem_lines(self) -> list[str]:
        """Every problem, one per line, as ``Sheet!A12: message``."""
        return [str(p) for p in self.problems]

    def summary_lines(self, detail: int = DETAIL_ROWS) -> list[str]:
        """What was (or, in a dry run, would be) imported: the lines the CLI prints."""
        name = self.path.name
        lines: list[str] = []
        if self.problems:
            n = len(self.problems)
            lines.append(f"Nothing was imported from {name}: {n:,} problem{'s' if n != 1 else ''} "
                         "(fix them and import the file again).")
            if self.errors_path:
                lines.append(f"A copy with the problem cells highlighted and commented: {self.errors_path}")
            lines += self.notes
            return lines
        if self.dry_run:
            lines.append(f"Dry run of {name}: the file is valid; nothing was written. Importing it would make:")
        else:
            lines.append(f"Imported {name}:")
        with_rows = [s for s in self.sheets if s.rows]
        for s in with_rows:
            lines.append("  " + s.line())
            for change in s.changes[:detail]:
                fields = "; ".join(f"{label} {show(old)} -> {show(new)}" for label, (old, new) in
                                   change.fields.items())
                lines.append(f"    {change.where} {change.ref}: {fields}")
            if len(s.changes) > detail:
                lines.append(f"    ... and {len(s.changes) - detail:,} more changed rows")
        if not with_rows:
            lines.append("  (the file holds no rows to import)")
        elif self.indicators:
            lines.append("Indicators that " + ("would move:" if self.dry_run else "moved:"))
            lines += ["  " + m.line() for m in self.indicators]
        else:
            lines.append("No indicator figure " + ("would change." if self.dry_run else "changed."))
        lines += self.notes
        return lines
