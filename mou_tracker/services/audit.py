"""Writing the hash-chained audit trail (docs/reference/audit-and-signoff.md).

Each event's hash is SHA-256 over a canonical JSON serialisation of the event's fields and the previous
event's hash. Appends are serialised: on SQLite the write transaction began IMMEDIATE (one writer at a
time, bounded by the busy timeout); on PostgreSQL each writer locks the one row of ``audit_chain_lock``
(``SELECT ... FOR UPDATE``, which needs UPDATE privilege: no reader can hold it) with a bounded
``lock_timeout``, and gives up with a clear message when another writer holds it too long.

Who: every event records the actor and, in ``login``, who was logged in (PostgreSQL: the database login,
which a trigger enforces; SQLite: the OS login when it differs from the actor). Personal data: a
participant is referenced as ``P-<id>`` and their name, staff number and identity key are sealed under
their own key (``services.personal``), so erasing the key leaves the chain verifiable.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mou_tracker.db.engine import lock_timeout_seconds
from mou_tracker.db.guards import GENESIS_HASH
from mou_tracker.db.models import AuditEvent, Base
from mou_tracker.db.types import ScaledDecimal
from mou_tracker.domain.codes import REASON_CATEGORIES, canonical
from mou_tracker.domain.identity import participant_ref
from mou_tracker.errors import MouError, PermissionDenied, Problem, ValidationError
from mou_tracker.read.views import ChainHead


class ChainBusy(MouError):
    """Another writer held the audit chain longer than the bounded wait: nothing was changed."""


def os_login() -> str | None:
    try:
        return getpass.getuser() or None
    except Exception:  # no login name (some containers)
        return None


_PLAIN = frozenset({bool, int, str, type(None)})


def canonical_value(value: Any) -> Any:
    """A JSON-ready, stable form of a column value."""
    if value.__class__ in _PLAIN or isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an audit event")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} in an audit event")


def utc_text(value: datetime) -> str:
    """``canonical_value`` of a time stamp (``...T07:30:53.123456Z``), quicker for the UTC ones the clock gives."""
    if value.tzinfo is UTC and value.year >= 1000:
        return value.isoformat(timespec="microseconds")[:26] + "Z"
    return canonical_value(value)  # type: ignore[no-any-return]


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys and raw UTF-8: ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``. orjson produces the same text for everything an event holds (a test checks it on
    generated text) about ten times faster; anything orjson refuses falls back to the standard library."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def column_value(column: Any, value: Any) -> Any:
    """A value in the canonical form it has once stored in ``column`` (decimals at the column's scale)."""
    if value is not None and isinstance(column.type, ScaledDecimal):
        value = Decimal(value).quantize(Decimal(1).scaleb(-column.type.scale))
    return canonical_value(value)


def column_converters(table: Any) -> list[tuple[str, Any]]:
    """Per column (the primary key excepted): its key and a fast function giving a value's canonical form,
    the same as ``column_value`` (used on bulk paths, where this runs once per row and column)."""
    out: list[tuple[str, Any]] = []
    for c in table.columns:
        if c.primary_key:
            continue
        if isinstance(c.type, ScaledDecimal):
            quantum = Decimal(1).scaleb(-c.type.scale)
            out.append((c.key, remembered(lambda v, q=quantum: None if v is None else str(Decimal(v).quantize(q)))))
        else:
            out.append((c.key, canonical_value))
    return out


def remembered(convert: Any) -> Any:
    """``convert`` of a number, remembered per distinct value (scores and amounts repeat: a register's 400,000
    scores hold a hundred or so values). Equal numbers give the same result (1, 1.0 and Decimal(1) alike),
    so the value itself is the key; what cannot be a key is converted each time."""
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            if len(seen) < 100_000:
                seen[value] = out = convert(value)
                return out
            return convert(value)
        except TypeError:  # not hashable (a signalling NaN)
            return convert(value)

    return once


def row_values(obj: Base) -> dict[str, Any]:
    """Every column of a model instance except its primary key, in canonical form."""
    mapper = inspect(type(obj))
    pk = {c.key for c in mapper.primary_key}
    return {c.key: column_value(c, getattr(obj, c.key)) for c in mapper.columns if c.key not in pk}


def event_payload(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: int | None,
    entity_ref: str | None,
    partnership_id: int | None,
    changes: str,
    reason_category: str | None,
    reason_text: str | None,
    prev_hash: str,
    login: str | None = None,
) -> str:
    payload = {
            "seq": seq,
            "occurred_at": canonical_value(occurred_at),
            "actor": actor,
            "action": action,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "entity_ref": entity_ref,
            "partnership_id": partnership_id,
            "changes": changes,
            "reason_category": reason_category,
            "reason_text": reason_text,
            "prev_hash": prev_hash,
        }
    if login is not None:  # events written before logins were kept hash without the key
        payload["login"] = login
    return canonical_json(payload)


def compute_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """Recompute an event's hash from its stored fields (what `audit verify` does)."""
    return compute_hash(
        event_payload(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor=event.actor,
            action=event.action,
            entity_kind=event.entity_kind,
            entity_id=event.entity_id,
            entity_ref=event.entity_ref,
            partnership_id=event.partnership_id,
            changes=event.changes,
            reason_category=event.reason_category,
            reason_text=event.reason_text,
            prev_hash=event.prev_hash,
            login=event.login,
        )
    )


@dataclass(frozen=True)
class Reason:
    """Why a change was made: a category (docs/reference/audit-and-signoff.md) and free text."""

    category: str
    text: str

    @classmethod
    def of(cls, category: str, text: str, field: str = "Reason") -> Reason:
        cat = canonical(category, REASON_CATEGORIES)
        if cat is None:
            raise ValidationError(
                Problem(field, f"unknown reason category '{category}'; use one of: {', '.join(REASON_CATEGORIES)}")
            )
        if not str(text).strip():
            raise ValidationError(Problem(field, "a reason needs a few words of explanation"))
        return cls(cat, str(text).strip())

    @classmethod
    def parse(cls, text: str | None) -> Reason | None:
        """Read free text such as "data correction: typo in the date". Text that names no category is "other"."""
        if text is None or not str(text).strip():
            return None
        raw = str(text).strip()
        for sep in (":", " - ", " – "):
            head, found, tail = raw.partition(sep)
            if found and canonical(head, REASON_CATEGORIES) and tail.strip():
                return cls(canonical(head, REASON_CATEGORIES) or "other", tail.strip())
        if canonical(raw, REASON_CATEGORIES):
            return cls(canonical(raw, REASON_CATEGORIES) or "other", raw)
        return cls("other", raw)


def read_head(session: Session) -> ChainHead:
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(row[0], row[1])


class AuditWriter:
    """Appends events within one write transaction."""

    def __init__(self, session: Session, actor: str, clock: Any = None) -> None:
        self.session = session
        self.actor = actor
        self._clock = clock or (lambda: datetime.now(UTC))
        self._head: ChainHead | None = None
        self._login: str | None = None
        self._sealer: Any = None
        self.written = 0

    def lock_chain(self) -> ChainHead:
        """Take the chain (serialising appends) and read its head; once per transaction."""
        return self._lock_and_read_head()

    def _lock_and_read_head(self) -> ChainHead:
        if self._head is None:
            if self.session.get_bind().dialect.name == "postgresql":
                self._login = self._postgres_login()
                self._take_postgres_lock()
            else:
                login = os_login()
                self._login = login if login and login != self.actor else None
            self._head = read_head(self.session)
        return self._head

    def _postgres_login(self) -> str:
        """The database login; an actor naming someone else is refused (a superuser, who could rewrite
        anything anyway, may act for a named person: the login it used is still recorded)."""
        login, superuser = self.session.execute(text(
            "SELECT session_user::text, COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), "
            "false)")).one()
        if self.actor != login and not superuser:
            raise PermissionDenied(f"connected to the database as {login}: on PostgreSQL the actor is the database "
                                   f"login, so acting as '{self.actor}' is refused (drop --user, or log in as "
                                   f"{self.actor})")
        return login

    def _take_postgres_lock(self) -> None:
        timeout = lock_timeout_seconds()
        self.session.execute(text(f"SET LOCAL lock_timeout = '{int(timeout * 1000)}ms'"))
        try:
            with self.session.begin_nested():
                self.session.execute(text("SELECT id FROM audit_chain_lock WHERE id = 1 FOR UPDATE"))
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
            if code == "55P03":
                raise ChainBusy(f"another writer has held the audit trail for more than {timeout:g} s; nothing "
                                "was changed; try again in a moment") from exc
            if code == "42501":
                raise PermissionDenied("this database login may not write: it cannot take the audit trail for "
                                       "writing (evaluators read, verify and export)") from exc
            raise
        self.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))

    def _sealed(self, entity_kind: str, entity_id: int | None, entity_ref: str | None, action: str,
                changes: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """Participants appear as ``P-<id>`` and their personal fields only sealed
        (docs/reference/audit-and-signoff.md)."""
        if entity_kind == "attendance" and entity_ref and "/" in entity_ref:
            training, _, person = entity_ref.rpartition("/")
            if person.isdigit():
                entity_ref = f"{training}/{participant_ref(int(person))}"
            return entity_ref, changes
        if entity_kind != "participant" or entity_id is None:
            return entity_ref, changes
        from mou_tracker.services.personal import Sealer

        if self._sealer is None:
            self._sealer = Sealer(self.session)
        return participant_ref(entity_id), self._sealer.seal_changes(entity_id, changes, new=action == "create")

    def build(
        self,
        action: str,
        entity_kind: str,
        entity_id: int | None,
        entity_ref: str | None,
        partnership_id: int | None,
        changes: dict[str, Any],
        reason: Reason | None = None,
    ) -> dict[str, Any]:
        """The next event as a row dict (advancing the head); the caller inserts it, after ``flush_sealed()``."""
        head = self._lock_and_read_head()
        entity_ref, changes = self._sealed(entity_kind, entity_id, entity_ref, action, changes)
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "occurred_at": self._clock(),
            "actor": self.actor,
            "action": action,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "entity_ref": entity_ref,
            "partnership_id": partnership_id,
            "changes": canonical_json(changes),
            "reason_category": reason.category if reason else None,
            "reason_text": reason.text if reason else None,
            "prev_hash": head.hash,
            "login": self._login,
        }
        fields["hash"] = compute_hash(event_payload(**fields))
        self._head = ChainHead(fields["seq"], fields["hash"])
        self.written += 1
        return fields

    def build_many(self, action: str, entity_kind: str,
                   records: Iterable[tuple[int | None, str | None, int | None, dict[str, Any]]],
                   ) -> list[dict[str, Any]]:
        """``build`` for many records at once (the bulk path): for each ``(entity_id, entity_ref, partnership_id,
        changes)`` the very event ``build(action, entity_kind, ...)`` makes - the same fields, the same
        canonical text, the same hash (a test compares them) - with the per-event work done inline."""
        head = self._lock_and_read_head()
        seq, prev = head.seq, head.hash
        actor, login, clock = self.actor, self._login, self._clock
        sealed = entity_kind in ("participant", "attendance")
        dumps, sort_keys, sha256 = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.sha256
        out: list[dict[str, Any]] = []
        append = out.append
        for entity_id, entity_ref, partnership_id, changes in records:
            if sealed:
                entity_ref, changes = self._sealed(entity_kind, entity_id, entity_ref, action, changes)
            seq += 1
            at = clock()
            payload = {"seq": seq, "occurred_at": utc_text(at), "actor": actor, "action": action,
                       "entity_kind": entity_kind, "entity_id": entity_id, "entity_ref": entity_ref,
                       "partnership_id": partnership_id, "changes": canonical_json(changes),
                       "reason_category": None, "reason_text": None, "prev_hash": prev}
            if login is not None:
                payload["login"] = login
            try:
                raw = dumps(payload, option=sort_keys)
            except TypeError:  # what orjson refuses, canonical_json writes with the standard library
                raw = canonical_json(payload).encode("utf-8")
            prev = sha256(raw).hexdigest()
            payload["occurred_at"] = at
            payload["login"] = login
            payload["hash"] = prev
            append(payload)
        self._head = ChainHead(seq, prev)
        self.written += len(out)
        return out

    def flush_sealed(self) -> None:
        """Write the participant keys that the events built so far were sealed with (``build`` leaves that to
        its caller, so that a batch writes them in one statement)."""
        if self._sealer is not None:
            self._sealer.flush()

    def append(self, *args: Any, **kwargs: Any) -> AuditEvent:
        fields = self.build(*args, **kwargs)
        self.flush_sealed()
        event = AuditEvent(**fields)
        self.session.add(event)
        self.session.flush()
        return event
