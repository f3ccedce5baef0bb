"""The import workbook's contract (docs/reference/import-format.md): which sheets, which columns, which of
them are keys.

Each column is a service-layer ``Field``: its label is the column header, and the same ``Field.parse`` that
the services use reads the cell, so a message about a cell reads exactly as it would in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mou_tracker.domain import codes
from mou_tracker.services.fields import Field, for_country
from mou_tracker.services.programme import (
    ATTENDANCE_FIELDS,
    BASELINE_FIELDS,
    BUDGET_FIELDS,
    COMMITMENT_FIELDS,
    DEVELOPMENT_FIELDS,
    DISBURSEMENT_FIELDS,
    ENGAGEMENT_FIELDS,
    EXPENDITURE_FIELDS,
    GRANT_FIELDS,
    MILESTONE_FIELDS,
    NARRATIVE_FIELDS,
    RESULT_FIELDS,
    TARGET_FIELDS,
    TRAINING_FIELDS,
)

#: why a change was made (docs/reference/audit-and-signoff.md): "data correction: typo in the date";
#: read with ``Reason.parse``
REASON = Field("reason", "Reason", max_len=2000)
#: which grant a budget line, disbursement or expenditure belongs to, when the partnership has several
GRANT_CODE = Field("grant_code", "Grant code", max_len=60)


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the import workbook."""

    name: str
    #: the columns of docs/reference/import-format.md, in order (the template's headers)
    columns: tuple[Field, ...]
    #: further columns the importer understands when present (never in the template)
    optional: tuple[Field, ...] = ()

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.columns + self.optional

    @property
    def required(self) -> tuple[Field, ...]:
        return tuple(f for f in self.columns if f.required)

    def localised(self, country: str | None) -> SheetSpec:
        """The sheet as a partnership in ``country`` takes it (``fields.for_country``: what a county is)."""
        columns, optional = for_country(self.columns, country), for_country(self.optional, country)
        if columns == self.columns and optional == self.optional:
            return self
        return replace(self, columns=columns, optional=optional)

    def field_for(self, header: object) -> Field | None:
        key = header_key(header)
        for f in self.fields:
            if f.label.casefold() == key:
                return f
        return None

    def label_of(self, attr: str) -> str:
        for f in self.fields:
            if f.attr == attr:
                return f.label
        return attr


def header_key(header: object) -> str:
    """A header as matched: trimmed, inner spaces collapsed, case-folded, a trailing required-mark dropped."""
    text = " ".join(str(header if header is not None else "").split()).casefold()
    return text.rstrip("*").rstrip()


def vocabulary(f: Field) -> tuple[str, ...] | None:
    """The allowed values of a coded column (the template's drop-down list)."""
    if f.kind == "county":
        return codes.KENYA_COUNTIES
    if f.kind == "code":
        return f.vocab
    return None


TRAININGS = SheetSpec("Trainings", TRAINING_FIELDS, (REASON,))
PARTICIPANTS = SheetSpec("Participants", ATTENDANCE_FIELDS, (REASON,))
ENGAGEMENTS = SheetSpec("Engagements", ENGAGEMENT_FIELDS, (REASON,))
MILESTONES = SheetSpec("Milestones", (*MILESTONE_FIELDS, REASON))
RESULTS = SheetSpec("Results", RESULT_FIELDS, (REASON,))
TARGETS = SheetSpec("Targets", TARGET_FIELDS, (REASON,))
GRANT = SheetSpec("Grant", GRANT_FIELDS, (REASON,))
BUDGET = SheetSpec("Budget", BUDGET_FIELDS, (GRANT_CODE, REASON))
DISBURSEMENTS = SheetSpec("Disbursements", DISBURSEMENT_FIELDS, (GRANT_CODE, REASON))
EXPENDITURES = SheetSpec("Expenditures", EXPENDITURE_FIELDS[:8], (*EXPENDITURE_FIELDS[8:], GRANT_CODE, REASON))
# What a funder asks for (docs/reference/import-format.md); written by ``funder_sheets``
BASELINES = SheetSpec("Baselines", BASELINE_FIELDS, (REASON,))
#: on the sheet a narrative is required (an empty cell would clear one: that is done in the UI, with a reason)
NARRATIVES = SheetSpec("Narratives", (*NARRATIVE_FIELDS[:2], replace(NARRATIVE_FIELDS[2], required=True)), (REASON,))
COMMITMENTS = SheetSpec("Commitments", COMMITMENT_FIELDS, (GRANT_CODE, REASON))
DEVELOPMENTS = SheetSpec("Developments", DEVELOPMENT_FIELDS, (REASON,))

#: every sheet, in the documented order (docs/reference/import-format.md; also the template's order)
SHEETS: tuple[SheetSpec, ...] = (TRAININGS, PARTICIPANTS, ENGAGEMENTS, MILESTONES, RESULTS, TARGETS, BASELINES,
                                 NARRATIVES, GRANT, BUDGET, DISBURSEMENTS, EXPENDITURES, COMMITMENTS, DEVELOPMENTS)


def spec_for(sheet_name: str) -> SheetSpec | None:
    """The sheet a workbook's tab stands for: matched by name, case-insensitive and trimmed."""
    key = " ".join(sheet_name.split()).casefold()
    for spec in SHEETS:
        if spec.name.casefold() == key:
            return spec
    return None
