"""Importing the field workbook (docs/reference/import-format.md): registers and logs that the partners fill in offline,
checked as a whole, written atomically through the service layer, idempotent when imported again.

    outcome = import_workbook(services, "field.xlsx", dry_run=True)
    print("\\n".join(outcome.problem_lines() or outcome.summary_lines()))
"""

from mou_tracker.imports.importer import import_workbook
from mou_tracker.imports.outcome import FigureMove, ImportOutcome, ImportProblem, IndicatorMove, RowChange, SheetSummary

__all__ = ["FigureMove", "ImportOutcome", "ImportProblem", "IndicatorMove", "RowChange", "SheetSummary",
           "import_workbook"]
