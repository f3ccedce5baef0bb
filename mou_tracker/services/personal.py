"""Participants' personal data in the audit trail: sealed, shown only when asked, erasable
(docs/reference/audit-and-signoff.md).

A participant's name, staff number and identity key never enter an audit event in clear: each is sealed
with AES-256-GCM under a key of that person alone (``participant_secret``), bound to the person and the
field. The event's hash covers the sealed text, so when erasure deletes the key the values become
unreadable noise while every hash still verifies. Erasure (Kenya Data Protection Act 2019, s.40) also
replaces the person's fields in the participant table with a pseudonym and scrubs the database files
(SQLite: secure_delete, VACUUM, WAL truncation). Attendances and scores stay, attached to the same
anonymous person, so no figure changes.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, select, text
from sqlalchemy.orm import Session

from mou_tracker.db.models import Participant, ParticipantSecret, User
from mou_tracker.domain.identity import normalise_staff_number, participant_ref
from mou_tracker.errors import NotFound, PermissionDenied, Problem, ValidationError

if TYPE_CHECKING:
    from mou_tracker.services.programme import Services

#: the participant columns that identify a person
PERSONAL_FIELDS = ("name", "key", "staff_number")
SEALED = "$sealed"
#: what a sealed value shows as when its key has been destroyed
ERASED = "[erased]"
#: what a personal value shows as when personal data was not asked for
HIDDEN = "[personal data hidden]"
_REF = re.compile(r"^\s*P-?(\d+)\s*$", re.IGNORECASE)


def _aad(participant_id: int, attr: str) -> bytes:
    return f"participant:{participant_id}:{attr}".encode()


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED in value


def seal(secret: bytes | AESGCM, participant_id: int, attr: str, value: Any) -> Any:
    """``value`` sealed under the person's key (the key's bytes, or an ``AESGCM`` made from them)."""
    if value is None:
        return None
    nonce = os.urandom(12)
    aes = secret if isinstance(secret, AESGCM) else AESGCM(secret)
    data = aes.encrypt(nonce, orjson.dumps(value), _aad(participant_id, attr))
    return {SEALED: base64.b64encode(nonce + data).decode()}


def unseal(secret: bytes | None, participant_id: int, attr: str, value: Any) -> Any:
    """The clear value of a sealed one, or ``ERASED`` when its key is gone (or it does not open)."""
    if not is_sealed(value):
        return value
    if secret is None:
        return ERASED
    try:
        raw = base64.b64decode(value[SEALED])
        return orjson.loads(AESGCM(secret).decrypt(raw[:12], raw[12:], _aad(participant_id, attr)))
    except (ValueError, InvalidTag, TypeError, orjson.JSONDecodeError):
        return ERASED


class Sealer:
    """Seals participant changes inside a write transaction, creating a person's key on first need.

    New keys are held in ``pending`` and written together by ``flush()`` (one executemany for a whole batch of
    new people); the audit trail flushes them before the events that need them are written."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._keys: dict[int, bytes] = {}
        self.pending: list[dict[str, Any]] = []

    def key_for(self, participant_id: int, new: bool = False) -> bytes:
        key = self._keys.get(participant_id)
        if key is None and not new:
            key = self.session.execute(select(ParticipantSecret.secret)
                                       .where(ParticipantSecret.participant_id == participant_id)).scalar()
        if key is None:
            key = AESGCM.generate_key(bit_length=256)
            self.pending.append({"participant_id": participant_id, "secret": key})
        self._keys[participant_id] = key
        return key

    def flush(self) -> None:
        if self.pending:
            from mou_tracker.services.bulk import executemany  # the driver's executemany: thousands at a time

            executemany(self.session, ParticipantSecret.__table__, self.pending)  # type: ignore[arg-type]
            self.pending = []

    def seal_changes(self, participant_id: int, changes: dict[str, Any], new: bool = False) -> dict[str, Any]:
        if not any(k in changes for k in PERSONAL_FIELDS):
            return changes
        out = dict(changes)
        aes: AESGCM | None = None  # one cipher per person and call
        for attr in PERSONAL_FIELDS:
            pair = out.get(attr)
            if pair is None or all(v is None or is_sealed(v) for v in pair):
                continue
            if aes is None:
                aes = AESGCM(self.key_for(participant_id, new))
            out[attr] = [seal(aes, participant_id, attr, v) if not is_sealed(v) else v for v in pair]
        return out


def load_secrets(conn: Connection | Session) -> dict[int, bytes]:
    try:
        return {pid: bytes(secret) for pid, secret in conn.execute(text(
            "SELECT participant_id, secret FROM participant_secret")).all()}
    except Exception:  # a database before the key table (or a reader without access): nothing to open
        return {}


class Unsealer:
    """Opens the sealed values of participant events for a replay (``history.StateFold``) or a display."""

    def __init__(self, secrets: dict[int, bytes]) -> None:
        self.secrets = secrets

    def changes_text(self, participant_id: int, changes: str | bytes) -> str | bytes:
        """The changes of one participant event with its sealed values opened (canonical JSON text). Runs
        once per participant event in every verification: one cipher per call, no per-field set-up."""
        if (b'"$sealed"' if isinstance(changes, bytes) else '"$sealed"') not in changes:
            return changes
        data = orjson.loads(changes)
        secret = self.secrets.get(participant_id)
        aes = AESGCM(secret) if secret is not None else None
        b64 = base64.b64decode
        for attr, pair in data.items():
            if type(pair) is not list:
                continue
            for i, value in enumerate(pair):
                if type(value) is dict and SEALED in value:
                    if aes is None:
                        pair[i] = ERASED
                        continue
                    try:
                        raw = b64(value[SEALED])
                        pair[i] = orjson.loads(aes.decrypt(raw[:12], raw[12:], _aad(participant_id, attr)))
                    except (ValueError, InvalidTag, TypeError, orjson.JSONDecodeError):
                        pair[i] = ERASED
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()

    def changes(self, participant_id: int, data: dict[str, Any]) -> dict[str, Any]:
        secret = self.secrets.get(participant_id)
        return {k: [unseal(secret, participant_id, k, v) for v in pair] if isinstance(pair, list) else pair
                for k, pair in data.items()}


# Erasure --------------------------------------------------------------------------------------------------------
@dataclass
class ErasureOutcome:
    ref: str
    events_sealed: int
    legacy_events: list[int] = field(default_factory=list)
    scrub_notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.ref} erased: name, staff number and identity key removed; their attendances and scores "
               f"stay as one anonymous participant, so every figure is unchanged. {self.events_sealed} audit "
               "event(s) keep their values sealed under a key that is now destroyed; the chain still verifies."]
        if self.legacy_events:
            shown = ", ".join(f"#{s}" for s in self.legacy_events[:20])
            more = f" and {len(self.legacy_events) - 20} more" if len(self.legacy_events) > 20 else ""
            out.append(f"warning: {len(self.legacy_events)} older audit event(s) ({shown}{more}), written before "
                       "personal data was sealed, still hold this person's name, staff number or identity key in "
                       "clear; they are covered by the hash chain and cannot be changed without breaking it. "
                       "They are never shown without --include-personal-data; to remove them, archive the "
                       "database offline and start a new trail.")
        out += [f"note: {n}" for n in self.scrub_notes]
        return out


def _find(session: Session, partnership_id: int, ref: str) -> Participant:
    m = _REF.match(ref)
    if m:
        person = session.get(Participant, int(m.group(1)))
        if person is not None and person.partnership_id == partnership_id:
            return person
    staff = normalise_staff_number(ref)
    if staff:
        person = session.execute(select(Participant).where(Participant.partnership_id == partnership_id,
                                                           Participant.staff_number == staff)).scalar()
        if person is not None:
            return person
    raise NotFound(f"no participant '{ref}' in this partnership (give the staff number, or the participant id "
                   "as shown in the UI and the audit log, e.g. P-41)")


def _legacy_events(session: Session, person_id: int, values: list[str]) -> list[int]:
    """Events written before sealing that hold this person's data in clear."""
    rows = session.execute(text(
        "SELECT seq, entity_kind, entity_ref, changes FROM audit_event WHERE (entity_kind = 'participant' AND "
        "entity_id = :i) OR entity_kind = 'attendance' ORDER BY seq"), {"i": person_id}).all()
    hits = []
    for seq, _kind, entity_ref, changes in rows:
        blob = f"{entity_ref or ''}\n{changes or ''}"
        if any(v and v in blob for v in values):
            hits.append(seq)
    return hits


def erase_participant(services: Services, ref: str, reason: str) -> ErasureOutcome:
    """Erase a participant's personal data everywhere in the database (admin)."""
    if not reason or not reason.strip():
        raise ValidationError(Problem("Reason", "an erasure needs a reason (e.g. the request's reference)"))
    with services.transaction() as uow:
        s = uow.session
        uow.audit.lock_chain()  # first: on PostgreSQL this refuses an actor who is not the database login
        role = s.execute(select(User.role).where(User.name == services.actor)).scalar()
        if role != "admin":
            raise PermissionDenied(f"{services.actor} is not a registered admin: only an admin can erase a person's "
                                   "data")
        person = _find(s, services.partnership_id, ref)
        pref = participant_ref(person.id)
        if person.key.startswith("erased:"):
            raise ValidationError(Problem("Participant", f"{pref} was already erased"))
        values = [v for v in (person.name, person.staff_number, person.key) if v]
        legacy = _legacy_events(s, person.id, values)
        sealed = s.execute(text("SELECT count(*) FROM audit_event WHERE entity_kind = 'participant' AND "
                                "entity_id = :i AND changes LIKE '%$sealed%'"), {"i": person.id}).scalar_one()
        new = {"name": f"Erased participant {pref}", "key": f"erased:{pref}", "staff_number": None}
        for attr, value in new.items():
            setattr(person, attr, value)
        s.flush()
        s.execute(delete(ParticipantSecret).where(ParticipantSecret.participant_id == person.id))
        from mou_tracker.services.audit import Reason

        # the old values are not written (that is the point): the event says only that they were erased
        uow.audit.append("erase", "participant", person.id, pref, person.partnership_id,
                         {k: [ERASED, v] for k, v in new.items()}, Reason("other", reason.strip()))
    outcome = ErasureOutcome(pref, int(sealed), legacy)
    outcome.scrub_notes += scrub_database(services.db)
    return outcome


def scrub_database(db: Any) -> list[str]:
    """Make freed pages unreadable: after an erasure the old values must not linger in the files."""
    notes: list[str] = []
    if db.dialect == "sqlite":
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("VACUUM")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cur.fetchone()
            if busy and busy[0]:
                notes.append("another connection was reading, so the write-ahead log could not be emptied yet; "
                             "it is emptied when the last connection closes")
            cur.close()
        finally:
            raw.close()
        return notes
    try:
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM (FULL) participant, participant_secret")
    except Exception:  # only the tables' owner may VACUUM FULL
        notes.append("the old row versions of the participant tables are removed when the database owner runs "
                     "VACUUM FULL participant, participant_secret")
    return notes
