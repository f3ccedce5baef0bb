"""Identity rules for participants and anonymised case references (docs/reference/indicators.md)."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")


def normalise_staff_number(staff_number: str | None) -> str | None:
    if staff_number is None:
        return None
    cleaned = _WS.sub("", str(staff_number)).upper()
    return cleaned or None


def normalise_name(name: str) -> str:
    return _WS.sub(" ", str(name)).strip().casefold()


def participant_key(name: str, agency: str, staff_number: str | None) -> str:
    """The key that says two attendance rows are the same person.

    The staff number when given (upper-cased, spaces removed); otherwise the name (case-folded, inner
    whitespace collapsed, trimmed) together with the agency.
    """
    staff = normalise_staff_number(staff_number)
    if staff:
        return f"staff:{staff}"
    return f"name:{normalise_name(name)}|{agency.strip().casefold()}"


def case_key(case_reference: str | None) -> str | None:
    """Case references compare case-insensitively, trimmed."""
    if case_reference is None:
        return None
    cleaned = str(case_reference).strip().casefold()
    return cleaned or None


def participant_ref(participant_id: int) -> str:
    """The pseudonymous reference of a participant in the audit trail, the UI and the CLI (``P-41``).

    It carries no personal data, so events that name it stay valid after the person's name is erased."""
    return f"P-{participant_id}"


def parse_participant_ref(text: str) -> int | None:
    """The participant id in ``P-41`` (or ``p41``, ``41``); None when ``text`` is not such a reference."""
    m = re.fullmatch(r"\s*(?:[Pp]-?)?(\d{1,12})\s*", str(text))
    return int(m.group(1)) if m else None
