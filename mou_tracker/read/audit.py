"""The audit trail, read: one ``AuditEntry`` per event (labels, actor names, typed values, personal data
hidden), for `audit log`, `audit export`, the UI's Audit screen and milestone history, and the reports'
Milestone history sheet. The trail is always read from the live database; an as-of view filters it by time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from mou_tracker.db.guards import GENESIS_HASH
from mou_tracker.db.models import ENTITY_MODELS, AuditEvent, User
from mou_tracker.domain.identity import participant_ref
from mou_tracker.read.labels import REFERENCE_FIELDS, field_label, field_order
from mou_tracker.read.lists import _Listing
from mou_tracker.read.views import AuditEntry, ChainHead, FieldChange, ListRequest, Page
from mou_tracker.services.history import end_of_day_utc, from_canonical

PAGE = 2000

_ALIASES = {"signoff": "period_signoff", "sign_off": "period_signoff", "lock": "period_lock",
            "budget": "budget_line", "line": "budget_line", "grant_award": "grant", "app_user": "user",
            "technical_support": "engagement", "target_value": "target", "people": "participant",
            "person": "participant"}


def entity_kind(value: str) -> str:
    """The entity kind a user means ("Milestones", "budget line", "sign-off"); ValueError if none."""
    key = "_".join(value.strip().lower().replace("-", " ").split())
    for candidate in (key, key[:-1] if key.endswith("s") else key, key[:-2] if key.endswith("es") else key):
        candidate = _ALIASES.get(candidate, candidate)
        if candidate in ENTITY_MODELS:
            return candidate
    raise ValueError(f"'{value}' is not a kind of record; use one of: {', '.join(ENTITY_MODELS)}")


@dataclass(frozen=True)
class EventFilter:
    kind: str | None = None
    #: a record's reference (M03, TR-2025-001) or, with ``kind``, its numeric id
    ref: str | None = None
    since: date | None = None
    until: date | None = None
    #: only this partnership's events and those of no partnership
    partnership_id: int | None = None
    entity_id: int | None = None
    #: events before this moment only (an as-of view)
    before: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.kind:
            out.append(AuditEvent.entity_kind == self.kind)
        if self.entity_id is not None:
            out.append(AuditEvent.entity_id == self.entity_id)
        if self.ref:
            ref = self.ref.strip()
            match = func.lower(AuditEvent.entity_ref) == ref.lower()
            if self.kind and ref.isdigit():
                match = or_(match, AuditEvent.entity_id == int(ref))
            out.append(match)
        if self.since:
            out.append(AuditEvent.occurred_at >= datetime.combine(self.since, datetime.min.time(), tzinfo=UTC))
        if self.until:
            out.append(AuditEvent.occurred_at < end_of_day_utc(self.until))
        if self.before is not None:
            out.append(AuditEvent.occurred_at < self.before)
        if self.partnership_id is not None:
            # coalesce, not "= pid OR IS NULL": lets the planner walk the sequence instead of sorting
            out.append(func.coalesce(AuditEvent.partnership_id, self.partnership_id) == self.partnership_id)
        return out

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in (("kind", self.kind), ("record", self.ref), ("id", self.entity_id),
                                         ("from", self.since), ("to", self.until),
                                         ("partnership id", self.partnership_id)) if v is not None]
        return ", ".join(parts) or "the whole trail"


class PersonalData:
    """How participants' personal fields are shown: hidden (the default) or, when asked for, opened with
    their keys; erased ones are marked either way. The keys are read only when a sealed value needs one."""

    def __init__(self, session: Session | None = None, reveal: bool = False,
                 secrets: dict[int, bytes] | None = None) -> None:
        self.reveal = reveal
        self._session = session
        self._secrets = secrets

    def detach(self) -> PersonalData:
        """The same, with the keys read now (for use after the session has closed)."""
        return PersonalData(None, self.reveal, self.secrets)

    @property
    def secrets(self) -> dict[int, bytes]:
        if self._secrets is None:
            from mou_tracker.services.personal import load_secrets

            self._secrets = load_secrets(self._session) if self._session is not None else {}
        return self._secrets

    def show(self, entity_id: int | None, attr: str, value: Any) -> Any:
        from mou_tracker.services.personal import ERASED, HIDDEN, is_sealed, unseal

        if value is None or value == ERASED:
            return value
        if is_sealed(value):
            if not self.reveal:
                return HIDDEN if entity_id in self.secrets else ERASED
            secret = self.secrets.get(entity_id) if entity_id is not None else None
            return ERASED if secret is None else unseal(secret, entity_id or 0, attr, value)
        return value if self.reveal else HIDDEN  # a clear value of an event written before sealing


def _holds_clear_personal_data(kind: str, ref: str | None, action: str, raw: Any) -> bool:
    from mou_tracker.services.personal import PERSONAL_FIELDS, is_sealed

    if kind != "participant" or not isinstance(raw, dict) or action == "erase":
        return False
    if not str(ref or "").startswith("P-"):
        return True
    values = [v for a in PERSONAL_FIELDS if isinstance(raw.get(a), list) for v in raw[a]]
    return any(v is not None and not is_sealed(v) for v in values)


#: what the canonical-JSON cells hold for an event written before sealing, when personal data was not asked for
WITHHELD = "[withheld: holds personal data in clear (written before sealing); export with --include-personal-data]"


def _typed(kind: str, attr: str, value: Any) -> Any:
    model = ENTITY_MODELS.get(kind)
    columns = model.__table__.columns if model is not None else {}
    if value is None or attr not in columns:
        return value
    try:
        return from_canonical(columns[attr], value)
    except (ValueError, TypeError, ArithmeticError):  # an old or odd value: shown as recorded
        return value


def actor_names(session: Session) -> dict[str, str]:
    """Registered users' display names, by login."""
    return {n: d for n, d in session.execute(select(User.name, User.display_name)) if d}


_EVENT_COLS = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity_kind,
               AuditEvent.entity_id, AuditEvent.entity_ref, AuditEvent.partnership_id, AuditEvent.changes,
               AuditEvent.reason_category, AuditEvent.reason_text, AuditEvent.prev_hash, AuditEvent.hash,
               AuditEvent.login)


def to_entry(e: Any, personal: PersonalData, names: dict[str, str]) -> AuditEntry:
    """An event (a row of ``_EVENT_COLS`` or an ``AuditEvent``) for display. Participants' personal fields
    are hidden unless ``personal.reveal``; an event written before sealing that holds them in clear also has
    its canonical JSON withheld then. Fields come labelled, in the record's field order, values typed."""
    from mou_tracker.domain.identity import participant_ref
    from mou_tracker.services.personal import PERSONAL_FIELDS

    try:
        raw = json.loads(e.changes)
    except ValueError:
        raw = {}
    ref = e.entity_ref
    raw_text = e.changes
    kind = e.entity_kind
    personal_kind = kind == "participant"
    if personal_kind:
        if e.entity_id is not None and not personal.reveal:
            ref = participant_ref(e.entity_id)
        if not personal.reveal and _holds_clear_personal_data(kind, e.entity_ref, e.action, raw):
            raw_text = WITHHELD
    changes = []
    if isinstance(raw, dict):
        order = field_order(kind)
        for attr in sorted(raw, key=lambda a: (order.get(a, len(order)), a)):
            pair = raw[attr] if isinstance(raw[attr], list) and len(raw[attr]) == 2 else [None, raw[attr]]
            old, new = pair[0], pair[1]
            if personal_kind and attr in PERSONAL_FIELDS:
                if e.action != "erase":
                    old, new = personal.show(e.entity_id, attr, old), personal.show(e.entity_id, attr, new)
            else:
                old, new = _typed(kind, attr, old), _typed(kind, attr, new)
            changes.append(FieldChange(attr, field_label(kind, attr), old, new))
    return AuditEntry(e.seq, e.occurred_at, e.actor, e.action, kind, e.entity_id, ref, e.partnership_id,
                      tuple(changes), e.reason_category, e.reason_text, e.prev_hash, e.hash, raw_text, e.login,
                      names.get(e.actor))


def entries(session: Session, flt: EventFilter = EventFilter(), *, after_seq: int = 0, limit: int = PAGE,
            personal: PersonalData | None = None, names: dict[str, str] | None = None) -> list[AuditEntry]:
    """One page of matching events in sequence order, after ``after_seq``."""
    stmt = (select(*_EVENT_COLS).where(and_(AuditEvent.seq > after_seq, *flt.where()))
            .order_by(AuditEvent.seq).limit(limit))
    personal = personal or PersonalData(session)
    names = actor_names(session) if names is None else names
    return [to_entry(e, personal, names) for e in session.execute(stmt)]


def count_entries(session: Session, flt: EventFilter = EventFilter()) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent).where(and_(True, *flt.where()))).scalar_one()


def history(session: Session, kind: str, *, entity_id: int | None = None, partnership_id: int | None = None,
            before: datetime | None = None) -> tuple[AuditEntry, ...]:
    """Every event about one record (or every record of a kind in a partnership), oldest first: a milestone's
    history in the UI, `audit log --entity`, the reports' Milestone history."""
    stmt = select(*_EVENT_COLS).where(AuditEvent.entity_kind == kind)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if partnership_id is not None:
        stmt = stmt.where(AuditEvent.partnership_id == partnership_id)
    if before is not None:
        stmt = stmt.where(AuditEvent.occurred_at < before)
    personal, names = PersonalData(session), actor_names(session)
    return tuple(to_entry(e, personal, names) for e in session.execute(stmt.order_by(AuditEvent.seq)))


def event_page(session: Session, pid: int, req: ListRequest, before: datetime | None) -> Page[AuditEntry]:
    """The UI's Audit table: this partnership's events and those of no partnership, newest first."""
    a = AuditEvent
    personal, names = PersonalData(session), actor_names(session)
    listing = _Listing(
        stmt=select(*_EVENT_COLS).where(*EventFilter(partnership_id=pid, before=before).where()),
        search=(a.actor, a.action, a.entity_kind, a.entity_ref, a.reason_category, a.reason_text),
        sorts={"seq": (a.seq,), "occurred_at": (a.occurred_at,), "actor": (a.actor,), "action": (a.action,),
               "entity_kind": (a.entity_kind,), "entity_ref": (a.entity_ref,)},
        default="seq", default_descending=True, to_row=lambda r: to_entry(r, personal, names), tiebreak=a.seq)
    return listing.run(session, req)


def event(session: Session, seq: int, before: datetime | None = None) -> AuditEntry | None:
    row = session.execute(select(*_EVENT_COLS).where(AuditEvent.seq == seq,
                                                     *EventFilter(before=before).where())).first()
    return None if row is None else to_entry(row, PersonalData(session), actor_names(session))


def record_names(session: Session, changes: tuple[FieldChange, ...]) -> dict[tuple[str, int], str]:
    """The names (codes) of the records an event's changes point at, e.g. ("training", 41) -> TR-2026-001;
    a participant by its pseudonym. A record since deleted keeps its number only (no entry)."""
    names: dict[tuple[str, int], str] = {}
    for c in changes:
        kind = REFERENCE_FIELDS.get(c.field)
        if kind is None:
            continue
        for value in (c.old, c.new):
            if not isinstance(value, int) or isinstance(value, bool) or (kind, value) in names:
                continue
            if kind == "participant":
                names[kind, value] = participant_ref(value)
                continue
            record = session.get(ENTITY_MODELS[kind], value)
            code = getattr(record, "code", None) if record is not None else None
            if code is not None:
                names[kind, value] = str(code).upper() if kind == "party" else str(code)
    return names


def event_detail(session: Session, seq: int, before: datetime | None = None
                 ) -> tuple[AuditEntry | None, dict[tuple[str, int], str]]:
    """One event and the names of the records its fields point at (the UI's event detail)."""
    entry = event(session, seq, before)
    return entry, (record_names(session, entry.changes) if entry is not None else {})


def chain_head(session: Session, before: datetime | None = None) -> ChainHead:
    """The last audit event before ``before`` (or the current head)."""
    stmt = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at).order_by(AuditEvent.seq.desc()).limit(1)
    if before is not None:
        stmt = stmt.where(AuditEvent.occurred_at < before)
    head = session.execute(stmt).first()
    return ChainHead(0, GENESIS_HASH) if head is None else ChainHead(head.seq, head.hash, head.occurred_at)
