"""``import_workbook``: read, check, then write in one transaction - or write nothing at all.

A dry run takes exactly the same path as a real import and rolls the transaction back at the end, so its
preview (rows new / changed / unchanged, the service layer's own refusals such as a missing reason, and the
indicator figures recomputed by the ``IndicatorEngine`` on the uncommitted data) is what the import would
really do. The indicator movement is the engine's figures after the writes compared with before them, in
the same transaction.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mou_tracker.imports.checking import CheckedWorkbook, Problems, Progress, check_workbook
from mou_tracker.imports.outcome import ImportOutcome, ImportProblem
from mou_tracker.imports.reader import Workbook, WorkbookRefused
from mou_tracker.imports.writing import Writer, indicator_series, movements
from mou_tracker.services.indicators import IndicatorSeries
from mou_tracker.services.programme import Services


class ImportRun:
    """What every import carries from opening the file to its outcome: the outcome, the problems found, the
    progress tick. ``import_run`` makes one; ``finish`` hands the outcome back."""

    def __init__(self, path: Path, dry_run: bool, progress: Progress | None) -> None:
        self.outcome = ImportOutcome(path, dry_run)
        self.problems = Problems(path.name)
        self.tick: Progress = progress or (lambda _message, _fraction: None)
        #: the file (or its mapping) was refused as a whole; its problems (each mistake of the mapping file, or
        #: the file's one) are the outcome's
        self.refused = False

    def refuse(self, where: str, *messages: str) -> ImportOutcome:
        self.outcome.problems = [ImportProblem(where, message) for message in messages]
        self.refused = True
        return self.outcome

    def finish(self, problems: list[ImportProblem]) -> ImportOutcome:
        """The outcome with these problems: when there are any, no sheet summary and no indicator movement."""
        self.outcome.problems = problems
        if problems:
            self.outcome.sheets = []
            self.outcome.indicators = []
        self.tick("Done", 1.0)
        return self.outcome


@contextmanager
def import_run(path: Path, dry_run: bool, progress: Progress | None) -> Iterator[ImportRun]:
    """The opening of every import (workbook, form export): the run, the "Opening" tick, and a file refused as
    a whole (``WorkbookRefused``, raised anywhere inside) turned into the outcome's one problem (``refused``)."""
    run = ImportRun(path, dry_run, progress)
    run.tick(f"Opening {path.name}", 0.0)
    try:
        yield run
    except WorkbookRefused as exc:
        run.refuse(path.name, str(exc))


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the length of one import: a large file holds a million live objects
    (rows, values, events), none of them garbage until the import ends, and each full collection walks them
    all again (about a second in all on the benchmark's 200,000 rows). Reference counting still frees
    everything as usual; the collector resumes, as it was, at the end. (Also a decorator.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@gc_paused()
def import_workbook(services: Services, path: str | Path, *, dry_run: bool = False,
                    errors_path: str | Path | None = None, progress: Progress | None = None) -> ImportOutcome:
    """Import a workbook in the format of docs/reference/import-format.md.

    Nothing is written unless every row of every sheet is valid. ``dry_run`` checks and previews without
    writing. ``errors_path``: when there are problems, a copy of the file with the problem cells highlighted
    and commented is written there. ``progress(message, fraction)`` is called as the work advances (fraction
    from 0 to 1). Raises ``MouError`` only for what is not about the file (a read-only session, no partnership).
    """
    path = Path(path)
    with import_run(path, dry_run, progress) as run, Workbook(path) as book:
        checked = check_workbook(book, services, run.problems, run.outcome.notes, run.tick)
    if run.refused:
        if errors_path is not None:
            run.outcome.notes.append("No highlighted copy was written: the file could not be read as a workbook.")
        return run.outcome

    write_checked(services, checked, run.problems, run.outcome, run.tick)
    outcome = run.outcome
    problems = run.problems.ordered(checked.order)
    if problems and errors_path is not None:
        from mou_tracker.imports.highlight import write_highlighted_copy

        outcome.errors_path, note = write_highlighted_copy(path, Path(errors_path), problems)
        if note:
            outcome.notes.append(note)
    return run.finish(problems)


def write_checked(services: Services, checked: CheckedWorkbook, problems: Problems, outcome: ImportOutcome,
                  tick: Progress) -> None:
    """Write the checked rows in one transaction, committed only when nothing went wrong and not a dry run."""
    tick("Writing", 0.4)
    # the unit of work rolls back unless committed: a dry run, or problems found while writing, never commit
    with services.unit_of_work() as uow:
        before: list[IndicatorSeries] = []

        def figures_before() -> None:  # taken just before the first write; an unchanged re-import skips them
            before.extend(indicator_series(uow.session, services.partnership_id))

        writer = Writer(services, uow.session, checked, problems, tick, outcome.notes, dry_run=outcome.dry_run,
                        before_writing=figures_before)
        outcome.sheets = writer.run()
        # nothing new or changed (an unchanged re-import): no figure can have moved, none is recomputed
        if not problems and any(s.new or s.changed for s in outcome.sheets):
            tick("Recomputing the indicators", 0.92)
            writer.refresh_statistics()
            outcome.indicators = movements(before, indicator_series(uow.session, services.partnership_id))
        if not problems and not outcome.dry_run:
            tick("Saving", 0.97)
            uow.commit()
            outcome.written = True

