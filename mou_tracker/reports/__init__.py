"""Excel progress reports for HTI and ODPP (docs/reference/reports.md), filled from each party's template.

    generate_report(reader, party="odpp", period=Quarter(2025, 3), output=Path("odpp-2025-Q3.xlsx"))

The CLI's `report` command and the UI's Reports screen both call ``generate_report`` with their ``Reader``
(``mou_tracker.read``): the report is filled from the reader's views alone, never from a session. The templates
(``templates/xlsx/hti.xlsx``, ``odpp.xlsx``, or the folder named by ``MOU_TRACKER_TEMPLATES``) are ordinary
workbooks a user may restyle; see ``fill`` for what a template may hold and ``layout`` for its tables.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mou_tracker.domain.periods import PeriodError, Quarter
from mou_tracker.errors import MouError, Problem, ValidationError
from mou_tracker.outputs import OutputRefused, atomic_output, check_output
from mou_tracker.reports.fill import TemplateError
from mou_tracker.reports.profiles import PROFILES, TEMPLATES_ENV, ReportProfile, profile_for, template_path
from mou_tracker.services.setup import PARTY_CODE

__all__ = ["generate_report", "TemplateError", "TEMPLATES_ENV", "PROFILES"]

Progress = Callable[[int, int], None]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def check_period_output(period: Quarter | str, output: Path | str, problems: list[Problem]) -> tuple[Any, Path]:
    """The quarter and the output path of a report; what is wrong with them is added to ``problems``."""
    quarter: Any = period
    if not isinstance(period, Quarter):
        try:
            quarter = Quarter.parse(str(period))
        except PeriodError as exc:
            problems.append(Problem("Period", str(exc)))
    out = Path(output).expanduser()
    try:
        check_output(out, suffix=".xlsx")
    except OutputRefused as exc:
        problems.append(Problem("Output", str(exc)))
    return quarter, out


def _check_arguments(party: str, period: Quarter | str, output: Path | str) -> tuple[ReportProfile, Quarter, Path]:
    problems: list[Problem] = []
    profile = None
    if PARTY_CODE.fullmatch(str(party).strip().lower()):
        profile = profile_for(str(party))
    else:
        problems.append(Problem("Party", f"'{party}' is not a party code (hti, odpp, or another party's code)"))
    quarter, out = check_period_output(period, output, problems)
    if problems:
        raise ValidationError(problems)
    assert profile is not None
    return profile, quarter, out


def _load_template(path: Path) -> tuple[Any, list[str]]:
    from openpyxl import load_workbook

    if not path.is_file():
        hint = (f"the folder named by {TEMPLATES_ENV} must hold it" if os.environ.get(TEMPLATES_ENV)
                else "reinstall mou-tracker, or point MOU_TRACKER_TEMPLATES at a folder holding hti.xlsx and odpp.xlsx")
        raise TemplateError(f"report template {path} is missing; {hint}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wb = load_workbook(path)
        except Exception as exc:  # any failure to parse means the same thing to the user
            raise TemplateError(f"report template {path} is not a readable .xlsx workbook "
                                f"({type(exc).__name__}: {exc}); restore it or save it again from Excel") from exc
    notes = [f"template {path.name}: {w.message}" for w in caught]
    try:
        with zipfile.ZipFile(path) as z:
            pictures = any(n.startswith("xl/media/") for n in z.namelist())
    except zipfile.BadZipFile:  # pragma: no cover - load_workbook has read it already
        pictures = False
    if pictures and not any(s._images for s in wb.worksheets):
        notes.append(f"template {path.name}: its pictures are not carried into the report (openpyxl keeps "
                     "pictures only when Pillow is installed)")
    return wb, notes


def generate_report(reader: Any, *, party: str, period: Quarter | str, output: Path | str,
                    include_personal_data: bool = False, progress: Progress | None = None,
                    warn: Callable[[str], None] | None = None) -> Path:
    """Write the party's progress report for ``period`` to ``output``, from ``reader``'s views (the state it
    reads: live, or at the end of its as-of day; ``reader.at(day)`` reads another day).

    ``progress(done, total)`` is called as the work advances; ``warn(text)`` receives notes about the
    template (e.g. a sheet it leaves out). Raises ``MouError`` subclasses with messages for the user.
    """
    from mou_tracker.reports import build

    profile, quarter, out = _check_arguments(party, period, output)
    template = template_path(profile)
    # Never over the database (or its -wal/-shm/-journal) nor over the template this report is read from.
    check_output(out, suffix=".xlsx", db_file=reader.db_file, inputs=[template])
    wb, notes = _load_template(template)
    if template.name != profile.template_name:
        notes.insert(0, f"party {profile.party} has no template of its own ({profile.template_name}): the partner "
                        f"template {template.name} is used")
    plan = build.plan(wb, profile, include_personal_data, f"template {template}")
    tick = ticker(plan.steps + 3, progress)
    tick()
    data = reader.report_data(profile.party, quarter, include_personal_data=include_personal_data)
    tick()
    notes += build.fill(plan, data, generated_at=_now(), include_personal_data=include_personal_data,
                                 tick=tick)
    _save(wb, out, db_file=reader.db_file, inputs=[template])
    tick()
    for text in notes:
        if warn is not None:
            warn(text)
    return out


def ticker(total: int, progress: Progress | None) -> Callable[[], None]:
    """A step counter calling ``progress(done, total)`` at each step (never past ``total``)."""
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    return tick


def _save(wb: Any, out: Path, **checks: Any) -> None:
    from mou_tracker.reports import fastsave

    try:
        with atomic_output(out, suffix=".xlsx", **checks) as tmp:
            fastsave.save(wb, tmp)
    except OSError as exc:
        raise MouError(f"cannot write {out}: {exc.strerror or exc} (is the file open in another program?)") from exc
