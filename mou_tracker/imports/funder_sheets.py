"""The import sheets of what a funder asks for: Baselines, Narratives, Commitments and Developments
(docs/reference/import-format.md). Checked and written like the other sheets: the whole file first, then each
row compared with what is stored and sent to the service layer only when it creates or changes something.

``checking.check_links`` calls ``check``; ``writing.Writer.run`` takes its steps from ``steps``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from mou_tracker.db.models import Baseline, BudgetLine, Commitment, Development, Grant, Indicator, Narrative
from mou_tracker.imports import sheets as S

if TYPE_CHECKING:
    from mou_tracker.imports.checking import CheckedWorkbook, Problems, References, Row, SheetInput
    from mou_tracker.imports.outcome import SheetSummary
    from mou_tracker.imports.writing import Writer
    from mou_tracker.services.unit_of_work import SaveResult


# Checks ------------------------------------------------------------------------------------------------------
def check(book: CheckedWorkbook, refs: References, problems: Problems) -> None:
    from mou_tracker.imports.checking import _reference, _unique

    baselines, narratives = book.get(S.BASELINES), book.get(S.NARRATIVES)
    if baselines is not None:
        _unique(baselines, problems, lambda r: r.get("indicator_code"), "indicator_code",
                lambda r, first: f"indicator {r.get('indicator_code')} already has a baseline on row {first}")
    if narratives is not None:
        _unique(narratives, problems, lambda r: (r.get("indicator_code"), r.get("period"))
                if r.get("indicator_code") and r.get("period") else None, "period",
                lambda r, first: f"indicator {r.get('indicator_code')} already has a narrative for {r.get('period')} "
                                 f"(row {first})")
    for sheet in (baselines, narratives):
        for row in sheet.rows if sheet is not None else ():
            code = row.get("indicator_code")
            if code is not None and code not in refs.indicators:
                sheet.report(problems, row, "indicator_code",  # type: ignore[union-attr]
                             f"Indicator code: no indicator '{code}' in this partnership")

    commitments, budget = book.get(S.COMMITMENTS), book.get(S.BUDGET)
    if commitments is not None:  # each row's grant was settled with the other money sheets
        _unique(commitments, problems, lambda r: (r.grant, r.get("code")) if r.grant and r.get("code") else None,
                "code", lambda r, first: f"Commitment ID '{r.get('code')}' is already on row {first}; each appears "
                                         "once per file")
        line_rows = {(r.grant, r.get("code")): r for r in (budget.rows if budget else []) if r.grant}
        for row in commitments.rows:
            if row.grant and row.get("line_code"):
                key = (row.grant, row.get("line_code"))
                _reference(commitments, row, "line_code", line_rows, key, key in refs.lines, budget, problems,
                           f"Line code: no budget line '{row.get('line_code')}' in grant {row.grant}")

    developments = book.get(S.DEVELOPMENTS)
    if developments is not None:
        _unique(developments, problems, lambda r: r.get("reference"), "reference",
                lambda r, first: f"Reference '{r.get('reference')}' is already on row {first}; each development "
                                 "appears once")


# Writes ------------------------------------------------------------------------------------------------------
def steps(writer: Writer) -> list[tuple[S.SheetSpec, Callable[[SheetInput, SheetSummary], None]]]:
    """The writer's steps for these sheets: commitments once the budget lines exist, the rest at the end."""
    return [(S.COMMITMENTS, lambda sheet, summary: commitments(writer, sheet, summary)),
            (S.BASELINES, lambda sheet, summary: baselines(writer, sheet, summary)),
            (S.NARRATIVES, lambda sheet, summary: narratives(writer, sheet, summary)),
            (S.DEVELOPMENTS, lambda sheet, summary: developments(writer, sheet, summary))]


def _attrs(spec: S.SheetSpec) -> list[str]:
    return [f.attr for f in spec.fields if f.attr not in ("reason", "grant_code")]


def commitments(w: Writer, sheet: SheetInput, summary: SheetSummary) -> None:
    attrs = _attrs(sheet.spec)
    line = aliased(BudgetLine)
    stmt = (select(Grant.code, Commitment.code, *(line.code if a == "line_code" else getattr(Commitment, a)
                                                  for a in attrs))
            .join(Commitment, Commitment.grant_id == Grant.id).join(line, line.id == Commitment.budget_line_id)
            .where(Grant.partnership_id == w.pid))
    services = w.services
    w._upsert(sheet, summary, w._load(stmt, 2, attrs), sheet.ok_rows(), lambda r: (r.grant, r.get("code")), "code",
              lambda v, r, cur: services.create_commitment(v, grant_code=r.grant, reason=r.reason) if cur is None
              else services.update_commitment(v["code"], v, grant_code=r.grant, reason=r.reason),
              lambda r: r.get("code"))


def baselines(w: Writer, sheet: SheetInput, summary: SheetSummary) -> None:
    attrs = _attrs(sheet.spec)
    stmt = (select(Indicator.code, *(Indicator.code if a == "indicator_code" else getattr(Baseline, a)
                                     for a in attrs))
            .join(Baseline, Baseline.indicator_id == Indicator.id).where(Indicator.partnership_id == w.pid))
    w._upsert(sheet, summary, w._load(stmt, 1, attrs), sheet.ok_rows(), lambda r: r.get("indicator_code"), "value",
              lambda v, r, _cur: w.services.set_baseline(v, reason=r.reason), lambda r: r.get("indicator_code"))


def narratives(w: Writer, sheet: SheetInput, summary: SheetSummary) -> None:
    w._upsert(sheet, summary, w._keyed(Narrative, _attrs(sheet.spec)), sheet.ok_rows(),
              lambda r: (r.get("indicator_code"), r.get("period")), "text",
              lambda v, r, _cur: _narrative(w, v, r), lambda r: f"{r.get('indicator_code')}@{r.get('period')}")


def _narrative(w: Writer, v: dict[str, Any], r: Row) -> SaveResult:
    result = w.services.set_narrative(v["indicator_code"], v["period"], v["text"], reason=r.reason)
    assert result is not None  # a narrative on the sheet is never empty (required), so it is never a deletion
    return result


def developments(w: Writer, sheet: SheetInput, summary: SheetSummary) -> None:
    """Developments have no ID: a row with a Reference is the development with that reference; a row without
    one is an unreferenced development of the same date, category and text (so re-importing it changes
    nothing), else a new one."""
    attrs = _attrs(sheet.spec)
    by_ref: dict[Hashable, dict[str, Any]] = {}
    unreferenced: dict[Hashable, list[dict[str, Any]]] = {}
    for found in w.session.execute(select(Development.id, *(getattr(Development, a) for a in attrs))
                                   .where(Development.partnership_id == w.pid).order_by(Development.id)):
        values = dict(zip(["id", *attrs], found, strict=True))
        if values["reference"]:
            by_ref[values["reference"]] = values
        else:
            unreferenced.setdefault((values["date"], values["category"], values["text"]), []).append(values)
    matched: dict[Hashable, dict[str, Any]] = {}
    for row in sheet.ok_rows():
        if row.get("reference"):
            cur = by_ref.get(row.get("reference"))
        else:
            pool = unreferenced.get((row.get("date"), row.get("category"), row.get("text")), [])
            cur = pool.pop(0) if pool else None
        if cur is not None:
            matched[id(row)] = cur

    def save(values: dict[str, Any], row: Row, cur: dict[str, Any] | None) -> SaveResult:
        if cur is None:
            return w.services.create_development(values, reason=row.reason)
        return w.services.update_development(cur["id"], values, reason=row.reason)

    w._upsert(sheet, summary, matched, sheet.ok_rows(), lambda r: id(r), "date", save,
              lambda r: r.get("reference") or f"{r.get('date')} {r.get('category')}")
