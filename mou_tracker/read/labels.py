"""Field labels: the one place that says how a person calls a stored column (the UI's audit detail and
milestone history, `audit log`, `audit export` and the reports' Milestone history sheet all read it).

A field the user edits is named by its form and import-workbook label (``services.records.ENTITY_FIELDS``);
the few columns the application fills itself are named here.
"""

from __future__ import annotations

from functools import lru_cache

#: columns no form edits, as a person calls them
EXTRA_LABELS = {
    "original_due_date": "Original due date",
    "evidence_sha256": "Evidence SHA-256",
    "partnership_id": "Partnership",
}


@lru_cache(maxsize=1024)
def field_label(kind: str, attr: str) -> str:
    """The label a user knows a field by (the import workbook's column header where there is one)."""
    from mou_tracker.services.records import ENTITY_FIELDS

    for f in ENTITY_FIELDS.get(kind, ()):
        if f.attr == attr:
            return f.label
    return EXTRA_LABELS.get(attr) or attr.replace("_", " ").capitalize()


@lru_cache(maxsize=256)
def field_order(kind: str) -> dict[str, int]:
    """Where each field of a kind comes in a history: the form's order, then the application's columns."""
    from mou_tracker.services.records import ENTITY_FIELDS

    attrs = [f.attr for f in ENTITY_FIELDS.get(kind, ())] + list(EXTRA_LABELS)
    return {a: i for i, a in enumerate(dict.fromkeys(attrs))}
