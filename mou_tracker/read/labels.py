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


#: what each kind of record is called on screen and in the trail
KIND_LABELS = {
    "partnership": "Partnership", "party": "Party", "user": "User", "indicator": "Indicator", "target": "Target",
    "result": "Indicator value", "narrative": "Narrative", "training": "Training", "participant": "Participant",
    "attendance": "Attendance", "engagement": "Support", "milestone": "Milestone", "grant": "Grant",
    "budget_line": "Budget line", "disbursement": "Disbursement", "expenditure": "Expenditure",
    "commitment": "Commitment", "development": "Development", "baseline": "Baseline",
    "period_signoff": "Sign-off", "period_lock": "Period lock", "restatement": "Restatement",
}
ACTION_LABELS = {"create": "added", "update": "changed", "delete": "deleted", "erase": "erased"}
#: fields that point at another record: shown by that record's name, labelled by its kind
REFERENCE_FIELDS = {"training_id": "training", "participant_id": "participant", "indicator_id": "indicator",
                    "partnership_id": "partnership", "grant_id": "grant", "budget_line_id": "budget_line",
                    "engagement_id": "engagement", "milestone_id": "milestone", "party_id": "party"}
#: columns the application fills itself (sign-offs, conversions, evidence), as a person calls them
SYSTEM_LABELS = {"key": "Identity key", "chain_head": "Audit-chain head", "chain_seq": "Audit-chain event",
                 "figures": "Figures signed", "amount_grant": "Amount in grant currency",
                 "evidence_sha256": "Evidence SHA-256", "key_fingerprint": "Key fingerprint"}
#: internal values never shown as stored
INTERNAL = {"key": "(derived from the name and agency; not shown)"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def record_label(kind: str, ref: str | None) -> str:
    """A record as people name it: 'TR-2025-001 / P-4', 'OC1, 2025-Q2', 'HTI, 2026-Q3'."""
    if not ref:
        return "–"
    if "@" in ref:
        head, _, period = ref.partition("@")
        return f"{head.upper() if kind in ('period_signoff', 'party') else head}, {period}"
    return ref.replace("/", " / ")


def change_label(kind: str, attr: str) -> str:
    """A changed field's label in an event's detail: another record's kind, or the field's own label."""
    if attr in REFERENCE_FIELDS:
        return kind_label(REFERENCE_FIELDS[attr])
    return SYSTEM_LABELS.get(attr) or field_label(kind, attr)
