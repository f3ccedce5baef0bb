"""`audit verify`: proof that the audit trail is intact and that the tables hold what it says.

Two walks over the trail, in sequence order, each in one database snapshot:

- the chain walk recomputes every event's hash and checks that each event names its predecessor's hash, so
  that the first event altered, removed, inserted or reordered is named, with the kind of tampering where the
  evidence tells it (an event's hash covers its sequence number, so a moved event betrays where it was
  written);
- the replay folds the events into the state they describe (``history.StateFold``), which is then compared
  row by row with the live tables: every record changed, added or deleted outside the application is named.

On a large trail the two run side by side, the chain walk in a second process. Memory stays bounded: events
are streamed, and the folded state is kept as compact text per record. ``--anchor`` proves the chain still
contains a head printed earlier (on a report's Cover): a trail rewritten from scratch, with every hash
recomputed, passes the chain checks but loses its old heads. ``--evidence`` re-hashes the milestone evidence
files whose SHA-256 was recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Boolean, Connection, Date, Integer, LargeBinary, text

from mou_tracker.db.engine import Database
from mou_tracker.db.guards import GENESIS_HASH
from mou_tracker.db.models import ENTITY_MODELS, RESCALED_COLUMNS
from mou_tracker.db.types import ScaledDecimal, UTCDateTime
from mou_tracker.services.audit import canonical_json, canonical_value, compute_hash
from mou_tracker.services.history import StateFold, canonical_reader, raw_rows, sqlite_time_to_canonical

#: how many chain and record problems are listed one by one (all are counted)
MAX_CHAIN_FINDINGS = 50
MAX_RECORD_FINDINGS = 200
#: how far a moved event is looked for around its place (a swap, a few inserted or removed events)
NEAR = 3
#: an anchor must be at least 64 bits of the hash: 8 hex digits (32 bits) can be forged by trying
MIN_ANCHOR_DIGITS = 16
#: an event is found by its hash through an index on its first 16 hex digits (migration 0008); an anchor is at
#: least that long
HASH_PREFIX_DIGITS = 16
HASH_PREFIX = f"substr(hash, 1, {HASH_PREFIX_DIGITS})"
HEX_RE = re.compile(r"^[0-9a-f]{16,64}$")
PROGRESS_EVERY = 20_000
#: from how many events the chain walk runs in a second process
PARALLEL_MIN = 150_000

_EVENT_SQL = ("SELECT seq, occurred_at, actor, action, entity_kind, entity_id, entity_ref, partnership_id, changes, "
              "reason_category, reason_text, prev_hash, hash, login FROM audit_event")
_KEYS = ("seq", "occurred_at", "actor", "action", "entity_kind", "entity_id", "entity_ref", "partnership_id",
         "changes", "reason_category", "reason_text", "prev_hash")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Finding:
    """One problem: ``kind`` is altered, removed, inserted, reordered (chain), changed, added, deleted
    (records), inconsistent (events that do not fit the state), guard, anchor or evidence."""

    kind: str
    message: str
    seq: int | None = None
    entity_kind: str | None = None
    entity_id: int | None = None


@dataclass
class VerifyResult:
    events: int
    head: str
    problems: list[Finding] = field(default_factory=list)
    #: problems counted but not listed one by one (beyond the caps)
    unlisted: int = 0
    warnings: list[str] = field(default_factory=list)
    anchor: str | None = None
    anchor_seq: int | None = None
    evidence_checked: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unlisted

    @property
    def findings(self) -> list[str]:
        lines = [p.message for p in self.problems]
        if self.unlisted:
            lines.append(f"... and {self.unlisted} more problem(s) of the same kinds, not listed")
        return lines

    @property
    def first_problem(self) -> Finding | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.events} events, head {self.head}"
        count = len(self.problems) + self.unlisted
        return f"FAILED: {self.events} events, head {self.head}: {count} problem(s)"

    def details(self) -> list[str]:
        """The lines after the summary: the findings, or when all is well what the anchor and evidence checks
        proved."""
        if not self.ok:
            return self.findings
        out = []
        if self.anchor_seq is not None:
            out.append(f"anchor {self.anchor} is event #{self.anchor_seq}; the chain from it to the head is intact")
        if self.evidence_checked:
            out.append(f"evidence: {self.evidence_checked} file(s) re-hashed, all unchanged")
        return out


# The hash chain -------------------------------------------------------------------------------------------------
def _rehash(payload: dict[str, Any], seq: int | None = None) -> str:
    """The reference hash (audit.event_payload's canonical JSON) of an event's fields, optionally as if it had
    been written at another sequence number."""
    if seq is not None:
        payload = dict(payload, seq=seq)
    return compute_hash(canonical_json(payload))


class _Lookup:
    """Point queries a tampered chain needs (rare; the intact path never runs them)."""

    def __init__(self, conn: Connection, to_time: Callable[[Any], Any]) -> None:
        self.conn = conn
        self.to_time = to_time

    def seq_of_hash(self, value: str) -> int | None:
        if value == GENESIS_HASH:
            return 0
        # by the indexed prefix alone: with ``AND hash = :h`` SQLite would substitute the constant into the
        # prefix expression and scan the table
        found = self.conn.execute(text(f"SELECT seq, hash FROM audit_event WHERE {HASH_PREFIX} = :p ORDER BY seq"),
                                  {"p": value[:HASH_PREFIX_DIGITS]}).all()
        return next((seq for seq, stored in found if stored == value), None)

    def event(self, seq: int) -> tuple[dict[str, Any], str] | None:
        row = self.conn.exec_driver_sql(f"{_EVENT_SQL} WHERE seq = {int(seq)}").first()
        return None if row is None else _payload(tuple(row), self.to_time)


def _payload(row: tuple[Any, ...], to_time: Callable[[Any], Any]) -> tuple[dict[str, Any], str]:
    payload = dict(zip(_KEYS, row[:12], strict=True))
    payload["occurred_at"] = to_time(payload["occurred_at"])
    if len(row) > 13 and row[13] is not None:
        payload["login"] = row[13]
    return payload, row[12]


def _describe(p: dict[str, Any]) -> str:
    what = " ".join(str(x) for x in (p["action"], str(p["entity_kind"]).replace("_", " "), p["entity_ref"]) if x)
    return f"{what} by {p['actor']} at {p['occurred_at']}"


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}-#{last}"


class ChainCheck:
    """Walks the events in sequence order; names what broke the chain and where."""

    def __init__(self, lookup: _Lookup) -> None:
        self.lookup = lookup
        self.prev_seq = 0
        self.prev_hash = GENESIS_HASH
        self.shift = 0  # after an insertion or removal with renumbering: written seq - stored seq
        self.explained: set[int] = set()
        #: after a swap: the hash the event after a position must name (that of the event written there)
        self.written_hash: dict[int, str] = {}
        self.problems: list[Finding] = []
        self.unlisted = 0
        self.followers = 0  # events out of place only because of an earlier, named problem

    def _add(self, kind: str, message: str, seq: int) -> None:
        if len(self.problems) < MAX_CHAIN_FINDINGS:
            self.problems.append(Finding(kind, message, seq))
        else:
            self.unlisted += 1

    def _advance(self, seq: int, stored_hash: str) -> None:
        self.prev_seq = seq
        self.prev_hash = self.written_hash.pop(seq, stored_hash) if self.written_hash else stored_hash

    def check(self, payload: dict[str, Any], stored_hash: str, fast_ok: bool) -> None:
        """Called for an event the fast path could not pass (``fast_ok``: its fast hash matched)."""
        seq = payload["seq"]
        content_ok = fast_ok or _rehash(payload) == stored_hash
        link_ok = payload["prev_hash"] == self.prev_hash
        expected = self.prev_seq + 1
        if (content_ok and link_ok and seq == expected) or seq in self.explained:
            self._advance(seq, stored_hash)
            return
        if not content_ok and self.shift and link_ok and _rehash(payload, seq + self.shift) == stored_hash:
            self.followers += 1
            self._advance(seq, stored_hash)
            return
        self._classify(payload, stored_hash, content_ok, link_ok, expected)
        self._advance(seq, stored_hash)

    def _classify(self, p: dict[str, Any], stored_hash: str, content_ok: bool, link_ok: bool, expected: int) -> None:
        seq = p["seq"]
        if content_ok and seq > expected:
            self._add("removed", f"event(s) {_span(expected, seq - 1)} removed: the trail jumps from "
                                 f"#{self.prev_seq} to #{seq}, whose recorded predecessor is missing", expected)
            return
        if content_ok:
            pred = self.lookup.seq_of_hash(p["prev_hash"])
            if pred is None:
                self._add("altered", f"event #{self.prev_seq} was altered or replaced and its hash recomputed: "
                                     f"event #{seq} records a different hash for its predecessor", self.prev_seq)
            else:
                self._add("reordered", f"event #{seq} ({_describe(p)}) names #{pred} as its predecessor, not "
                                       f"#{self.prev_seq}: events were moved or forged", seq)
            return
        written = self._written_at(p, stored_hash)
        if written is None:
            self._add("altered", f"event #{seq} was altered: its recorded fields ({_describe(p)}) no longer "
                                 "produce its hash", seq)
            return
        if written > seq:
            partner = self.lookup.event(written)
            if partner is not None and _rehash(partner[0], seq) == partner[1]:
                self.explained.add(written)
                self.written_hash.update({seq: partner[1], written: stored_hash})
                self._add("reordered", f"events #{seq} and #{written} were swapped: each was written at the "
                                       f"other's place ({_describe(p)}; {_describe(partner[0])})", seq)
                return
            self.shift = written - seq
            self._add("removed", f"event(s) {_span(seq, written - 1)} of the original numbering removed, and "
                                 f"the events after them renumbered: the event now at #{seq} was written as "
                                 f"#{written} ({_describe(p)})", seq)
            return
        self.shift = written - seq
        if self.problems and self.problems[-1].kind == "altered" and written <= (self.problems[-1].seq or 0) < seq:
            self.problems.pop()  # the "altered" event before was the forged one itself
        self._add("inserted", f"event(s) {_span(written, seq - 1)} inserted (forged): the event now at #{seq} was "
                              f"written as #{written} ({_describe(p)})", written)

    def _written_at(self, p: dict[str, Any], stored_hash: str) -> int | None:
        """The sequence number an event was written with, when its hash says it was another than its own."""
        seq = p["seq"]
        candidates = []
        pred = self.lookup.seq_of_hash(p["prev_hash"])
        if pred is not None:
            candidates.append(pred + 1)
        candidates += [seq + d for k in range(1, NEAR + 1) for d in (k, -k)]
        for candidate in candidates:
            if candidate > 0 and candidate != seq and _rehash(p, candidate) == stored_hash:
                return candidate
        return None


# Records ----------------------------------------------------------------------------------------------------------
def _label(kind: str, attr: str) -> str:
    from mou_tracker.services.programme import ENTITY_FIELDS

    for f in ENTITY_FIELDS.get(kind, ()):
        if f.attr == attr:
            return f.label
    return attr.replace("_", " ").capitalize()


def _record(kind: str, ref: Any, rid: int) -> str:
    return f"{kind.replace('_', ' ')}{f' {ref}' if ref else ''} (id {rid})"


def _show(value: Any, type_: Any = None) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str) and not isinstance(type_, ScaledDecimal):
        return f"'{value[:60]}{'...' if len(value) > 60 else ''}'"
    return str(value)


def _canonical_select(column: Any, dialect: str) -> str:
    """The column as SQL that SQLite turns into the canonical text itself (much faster than Python per value);
    a value of an unexpected type passes through raw, so it still differs from the trail and is reported."""
    name, t = column.name, column.type
    if dialect != "sqlite":
        return name
    if isinstance(t, ScaledDecimal) and t.scale > 0:
        unit, zeros = 10**t.scale, "0" * t.scale
        return (f"CASE WHEN typeof({name}) = 'integer' THEN (CASE WHEN {name} < 0 THEN '-' ELSE '' END) || "
                f"(abs({name}) / {unit}) || '.' || substr('{zeros}' || (abs({name}) % {unit}), -{t.scale}) "
                f"ELSE {name} END")
    if isinstance(t, UTCDateTime):
        return (f"CASE WHEN typeof({name}) = 'text' AND length({name}) = 26 THEN substr({name}, 1, 10) || 'T' || "
                f"substr({name}, 12) || 'Z' ELSE {name} END")
    return name


class RecordCheck:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.problems: list[Finding] = []
        self.unlisted = 0

    def _add(self, finding: Finding) -> None:
        if len(self.problems) < MAX_RECORD_FINDINGS:
            self.problems.append(finding)
        else:
            self.unlisted += 1

    def _last_event(self, kind: str, rid: int) -> tuple[int | None, str | None]:
        row = self.conn.execute(text("SELECT seq, entity_ref FROM audit_event WHERE entity_kind = :k AND "
                                     "entity_id = :i ORDER BY seq DESC LIMIT 1"), {"k": kind, "i": rid}).first()
        if row is None:
            return None, None
        if kind == "participant":  # events before sealing named people by identity key: show the pseudonym
            from mou_tracker.domain.identity import participant_ref

            return row[0], participant_ref(rid)
        return row[0], row[1]

    def compare(self, fold: StateFold) -> None:
        dialect = self.conn.dialect.name
        for kind, model in ENTITY_MODELS.items():
            table: Any = model.__table__  # type: ignore[attr-defined]
            columns = [c for c in table.columns if c.key != "id"]
            selects = [_canonical_select(c, dialect) for c in columns]
            readers = [(i, r) for i, c in enumerate(columns)
                       if selects[i] == c.name and (r := canonical_reader(c, dialect)) is not None]
            trail = fold.rows[kind]

            def values_of(row: Any, readers: Any = readers) -> list[Any]:
                live = list(row)
                for i, read in readers:
                    live[i] = read(live[i])
                return live

            if dialect == "sqlite":
                self._compare_as_json(kind, table.name, columns, selects, values_of, fold)
            else:
                for row in raw_rows(self.conn, f"SELECT id, {', '.join(selects)} FROM {table.name} ORDER BY id"):
                    self._compare_one(kind, row[0], values_of(row[1:]), trail.pop(row[0], None), fold)
            for rid in sorted(trail):
                seq, ref = self._last_event(kind, rid)
                self._add(Finding("deleted", f"{_record(kind, ref, rid)} was deleted outside the application: the "
                                             f"trail still holds it (its last event is #{seq})", seq, kind, rid))
            trail.clear()

    def _compare_one(self, kind: str, rid: int, live: list[Any], stored: str | None, fold: StateFold) -> None:
        if stored is None:
            self._added(kind, rid, dict(zip(fold.columns[kind], live, strict=True)))
            return
        try:
            replayed = fold.unpack(kind, stored)
        except (ValueError, TypeError, AttributeError, IndexError):
            replayed = [None] * len(live)  # the trail's values cannot be read: every field differs
        if replayed != live:
            self._changed(kind, rid, fold.columns[kind], live, replayed)

    def _compare_as_json(self, kind: str, table: str, columns: list[Any], selects: list[str],
                         values_of: Callable[[Any], list[Any]], fold: StateFold) -> None:
        """SQLite: the database writes each row as the JSON text of a create event ({column: [null, value]},
        keys sorted, canonical values), which most trail records are verbatim: one string comparison a row.
        Anything else (records changed since, or text formatted differently) is compared value by value."""
        trail = fold.rows[kind]
        order = sorted(range(len(columns)), key=lambda i: columns[i].name)
        pairs = []
        for i in order:
            value = selects[i]
            if isinstance(columns[i].type, Boolean):
                value = f"json(CASE WHEN {value} IS NULL THEN 'null' WHEN {value} THEN 'true' ELSE 'false' END)"
            pairs.append(f"'{columns[i].name}', json_array(NULL, {value})")
        names = [columns[i].name for i in order]
        point = f"SELECT {', '.join(selects)} FROM {table} WHERE id = ?"
        for rid, as_json in raw_rows(self.conn, f"SELECT id, json_object({', '.join(pairs)}) FROM {table} ORDER BY id"):
            stored = trail.pop(rid, None)
            if stored == as_json:
                continue
            if stored is not None and stored[:1] == "[":  # a record changed since its creation: packed values
                try:
                    values = dict(zip(fold.columns[kind], orjson.loads(stored), strict=True))
                    if orjson.dumps({n: [None, values[n]] for n in names}).decode() == as_json:
                        continue
                except (ValueError, TypeError, KeyError):
                    pass
            row = self.conn.exec_driver_sql(point, (rid,)).first()
            self._compare_one(kind, rid, values_of(tuple(row or ())), stored, fold)

    def _added(self, kind: str, rid: int, values: dict[str, Any]) -> None:
        if kind == "participant":  # never a person's name or identity key in a message
            from mou_tracker.domain.identity import participant_ref

            ref: Any = participant_ref(rid)
        else:
            ref = next((values[k] for k in ("code", "key", "name", "period") if values.get(k)), None)
        self._add(Finding("added", f"{_record(kind, ref, rid)} was added outside the application: no audit event "
                                   "created it", None, kind, rid))

    def _changed(self, kind: str, rid: int, columns: list[str], live: list[Any], replayed: list[Any]) -> None:
        seq, ref = self._last_event(kind, rid)
        types = ENTITY_MODELS[kind].__table__.columns  # type: ignore[attr-defined]
        from mou_tracker.services.personal import PERSONAL_FIELDS

        diffs = [f"{_label(kind, c)} differs between the table and the trail (personal data, not shown)"
                 if kind == "participant" and c in PERSONAL_FIELDS else
                 f"{_label(kind, c)} is {_show(a, types[c].type)} in the table but {_show(b, types[c].type)} in "
                 "the trail" for c, a, b in zip(columns, live, replayed, strict=True) if a != b]
        more = f" (and {len(diffs) - 3} more fields)" if len(diffs) > 3 else ""
        self._add(Finding("changed", f"{_record(kind, ref, rid)} was changed outside the application: "
                                     f"{'; '.join(diffs[:3])}{more} (its last event is #{seq})",
                          seq, kind, rid))


# Evidence files -----------------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def evidence_path(evidence: str, folder: Path) -> Path | None:
    """Where an evidence file is now: ``folder``/evidence for a relative name, the path itself when absolute,
    else a file of the same name directly in ``folder``."""
    named = Path(evidence).expanduser()
    candidates = [named] if named.is_absolute() else [folder / named]
    candidates.append(folder / named.name)
    return next((c for c in candidates if c.is_file()), None)


def check_evidence(conn: Connection, folder: Path) -> tuple[int, list[Finding]]:
    rows = conn.execute(text("SELECT m.id, m.code, m.evidence, m.evidence_sha256 FROM milestone m "
                             "WHERE m.evidence_sha256 IS NOT NULL ORDER BY m.code, m.id")).all()
    problems = []
    for rid, code, evidence, recorded in rows:
        path = evidence_path(evidence, folder)
        if path is None:
            problems.append(Finding("evidence", f"milestone {code}: evidence file {evidence} has vanished (not found "
                                                f"in {folder})", None, "milestone", rid))
            continue
        try:
            now = _sha256_file(path)
        except OSError as exc:
            problems.append(Finding("evidence", f"milestone {code}: evidence file {path} cannot be read ({exc})",
                                    None, "milestone", rid))
            continue
        if now != recorded:
            problems.append(Finding("evidence", f"milestone {code}: evidence file {path} has changed (SHA-256 "
                                                f"recorded {recorded[:16]}..., now {now[:16]}...)", None,
                                    "milestone", rid))
    return len(rows), problems


# Guards and the connection -------------------------------------------------------------------------------------
def connection_warnings(conn: Connection) -> list[str]:
    """Why the database could not stop this connection from rewriting the trail (PostgreSQL): it is a
    superuser, or it owns (or acts as the owner of) the audit table and could drop its triggers."""
    if conn.dialect.name != "postgresql":
        return []
    row = conn.execute(text(
        "SELECT current_user, r.rolsuper, pg_get_userbyid(c.relowner), pg_has_role(current_user, c.relowner, "
        "'USAGE') FROM pg_class c JOIN pg_roles r ON r.rolname = current_user "
        "WHERE c.oid = to_regclass('audit_event')")).first()
    if row is None:
        return []
    user, superuser, owner, acts_as_owner = row
    if superuser:
        return [f"connected as {user}, a superuser: the database cannot stop this login from rewriting the audit "
                "trail; run the application as a mou_manager login (see README, PostgreSQL deployment)"]
    if acts_as_owner:
        return [f"connected as {user}, which owns the audit table (owner {owner}): it could drop the append-only "
                "triggers; run the application as a mou_manager login (see README, PostgreSQL deployment)"]
    return []


def _guard_findings(conn: Connection, integrity: bool = True) -> list[Finding]:
    from mou_tracker.db.guards import guard_problems, integrity_problems

    checked = [Finding("integrity", m) for m in integrity_problems(conn)] if integrity else []
    return checked + [Finding("guard", m) for m in guard_problems(conn)]


def _sqlite_storage(column: Any) -> tuple[tuple[str, ...], str | None]:
    """The SQLite storage classes the application writes for a column, and an extra SQL condition a stored
    value must meet (Booleans are 0 or 1; dates are ISO dates): anything else was written behind its back."""
    t = column.type
    name = column.name
    if isinstance(t, Boolean):
        return ("integer",), f"{name} IN (0, 1)"
    if isinstance(t, ScaledDecimal):
        return ("integer",), None
    if isinstance(t, UTCDateTime):
        return ("text",), None
    if isinstance(t, Date):
        return ("text",), f"date({name}) IS {name}"
    if isinstance(t, Integer):
        return ("integer",), None
    if isinstance(t, LargeBinary):
        return ("blob",), None
    return ("text",), None


def type_findings(conn: Connection) -> list[Finding]:
    """SQLite stores any value in any column: compare every stored value's type with the column's (a Boolean
    set to the text 'x' reads as True in the application and as false elsewhere). PostgreSQL enforces types."""
    if conn.dialect.name != "sqlite":
        return []
    out: list[Finding] = []
    for kind, model in ENTITY_MODELS.items():
        table: Any = model.__table__  # type: ignore[attr-defined]
        columns = list(table.columns)
        conds = []
        for column in columns:
            classes, extra = _sqlite_storage(column)
            allowed = ", ".join(f"'{c}'" for c in (*classes, "null"))
            cond = f"typeof({column.name}) NOT IN ({allowed})"
            if extra:
                cond = f"({cond} OR ({column.name} IS NOT NULL AND NOT ({extra})))"
            conds.append(cond)
        # one scan per table: each row that breaks a rule, with which columns break it and how they are stored
        flags = ", ".join(f"CASE WHEN {c} THEN typeof({col.name}) END" for c, col in zip(conds, columns, strict=True))
        sql = f"SELECT id, {flags} FROM {table.name} WHERE {' OR '.join(conds)} ORDER BY id LIMIT 20"
        for row in conn.exec_driver_sql(sql).all():
            rid = row[0]
            for column, stored in zip(columns, row[1:], strict=True):
                if stored is None:
                    continue
                classes, _extra = _sqlite_storage(column)
                label = _label(kind, column.key)
                expect = ("a Boolean (0 or 1)" if isinstance(column.type, Boolean) else
                          "a date" if isinstance(column.type, Date) else " or ".join(classes))
                out.append(Finding("changed", f"{kind.replace('_', ' ')} id {rid} was changed outside the "
                                              f"application: {label} is stored as {stored} where the application "
                                              f"writes {expect}", None, kind, rid))
    return out


def signature_findings(conn: Connection) -> list[Finding]:
    """Every sign-off's SSHSIG signature, checked against the key registered for its signer at the time
    (replayed from the trail: the user's key as of the sign-off event), and against the stored message."""
    from mou_tracker.services.signoff import check_signoff_event

    keys: dict[str, str | None] = {}
    users: dict[int, str] = {}
    signoffs: dict[int, dict[str, Any]] = {}
    out: list[Finding] = []
    sql = ("SELECT seq, entity_kind, entity_id, action, changes, entity_ref FROM audit_event WHERE entity_kind IN "
           "('user', 'period_signoff') ORDER BY seq")
    for seq, kind, entity_id, action, changes, ref in raw_rows(conn, sql):
        try:
            data = orjson.loads(changes)
        except ValueError:
            continue
        if kind == "user":
            name = (data.get("name") or [None, None])[1] or users.get(entity_id)
            if name is None:
                continue
            users[entity_id] = name
            if "public_key" in data:
                keys[name] = data["public_key"][1]
            continue
        if action not in ("create", "update"):
            continue
        state = signoffs.setdefault(entity_id, {})
        state.update({k: pair[1] for k, pair in data.items() if isinstance(pair, list) and len(pair) == 2})
        if action == "update" and "signature" not in data:
            continue  # a change that did not re-sign (none today): the signature was checked when made
        problem = check_signoff_event(state, keys)
        if problem:
            out.append(Finding("signature", f"sign-off {ref} (event #{seq}): {problem}", seq, kind, entity_id))
    return out


# The whole verification ---------------------------------------------------------------------------------------
def _anchor_finding(conn: Connection, anchor: str) -> tuple[int | None, Finding | None]:
    rows = conn.execute(text(f"SELECT seq FROM audit_event WHERE {HASH_PREFIX} = :p AND hash >= :lo AND hash < :hi "
                             "ORDER BY seq LIMIT 2"),
                        {"p": anchor[:HASH_PREFIX_DIGITS], "lo": anchor, "hi": anchor + "g"}).scalars().all()
    if len(rows) == 1:
        return rows[0], None
    if len(rows) > 1:
        return None, Finding("anchor", f"anchor {anchor} matches several events; give more of the hash")
    return None, Finding("anchor", f"anchor {anchor} is not in the trail: the head printed earlier no longer "
                                   "exists, so the history before it was rewritten or cut back")


def normalise_anchor(anchor: str) -> str:
    """A hash (or a prefix of at least 16 hex digits) as printed on a report; raises ValueError otherwise."""
    value = anchor.strip().lower()
    if re.fullmatch(r"[0-9a-f]{1,15}", value):
        raise ValueError(f"'{anchor}' is too short to prove anything: give at least {MIN_ANCHOR_DIGITS} hex digits of "
                         "the chain head (fewer can be matched by a forged event)")
    if not HEX_RE.match(value):
        raise ValueError(f"'{anchor}' is not an audit-chain hash ({MIN_ANCHOR_DIGITS} to 64 hex digits)")
    return value


@dataclass
class ChainOutcome:
    """What the chain walk found: events checked, the last one's seq and hash, the problems."""

    count: int
    last_seq: int
    head: str
    problems: list[Finding]
    unlisted: int
    #: the database's own integrity check ran with the walk (its findings are in ``problems``)
    integrity_checked: bool = False


def _open(url_or_db: Database | str) -> tuple[Database | None, Connection]:
    db = Database(url_or_db) if isinstance(url_or_db, str) else None
    conn = (db or url_or_db).engine.connect()  # type: ignore[union-attr]
    if conn.dialect.name == "postgresql":  # one snapshot for every query of the verification
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return db, conn


def check_chain(conn: Connection, after_seq: int = 0, after_hash: str = GENESIS_HASH,
                progress: Progress | None = None, total: int = 0) -> ChainOutcome:
    """Walk the events after ``after_seq`` in sequence order, recomputing each hash and its link."""
    dialect = conn.dialect.name
    to_time = sqlite_time_to_canonical if dialect == "sqlite" else (lambda v: canonical_value(v))
    chain = ChainCheck(_Lookup(conn, to_time))
    sha = hashlib.sha256
    dumps = orjson.dumps
    count = 0
    last_seq, last_hash = after_seq, after_hash
    # The loop runs once per event (a million on a large trail): everything in it is kept to the bone.
    for row in raw_rows(conn, f"{_EVENT_SQL} WHERE seq > {int(after_seq)} ORDER BY seq"):
        (seq, occurred_at, actor, action, kind, entity_id, entity_ref, partnership_id, changes, reason_category,
         reason_text, prev_hash, stored_hash, login) = row
        if type(occurred_at) is str and len(occurred_at) == 26:  # SQLite's 'YYYY-MM-DD HH:MM:SS.ffffff'
            when = f"{occurred_at[:10]}T{occurred_at[11:]}Z"
        else:
            when = to_time(occurred_at)
        # the keys in sorted order already: orjson keeps insertion order, the same text as sort_keys would give
        if login is None:
            payload = {"action": action, "actor": actor, "changes": changes, "entity_id": entity_id,
                       "entity_kind": kind, "entity_ref": entity_ref, "occurred_at": when,
                       "partnership_id": partnership_id, "prev_hash": prev_hash, "reason_category": reason_category,
                       "reason_text": reason_text, "seq": seq}
        else:
            payload = {"action": action, "actor": actor, "changes": changes, "entity_id": entity_id,
                       "entity_kind": kind, "entity_ref": entity_ref, "login": login, "occurred_at": when,
                       "partnership_id": partnership_id, "prev_hash": prev_hash, "reason_category": reason_category,
                       "reason_text": reason_text, "seq": seq}
        try:
            fast_ok = sha(dumps(payload)).hexdigest() == stored_hash
        except TypeError:  # a value of a type the application never writes: leave it to the reference path
            fast_ok = False
        if fast_ok and prev_hash == last_hash and seq == last_seq + 1:
            last_seq, last_hash = seq, stored_hash
        else:
            chain.prev_seq, chain.prev_hash = last_seq, last_hash
            chain.check(payload, stored_hash, fast_ok)
            last_seq, last_hash = seq, chain.prev_hash
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count, total)
    return ChainOutcome(count, last_seq, last_hash, chain.problems, chain.unlisted)


def fold_trail(conn: Connection, progress: Progress | None = None, total: int = 0) -> tuple[StateFold, int, str]:
    """Replay every event into a ``StateFold``; returns it with the last event's seq and hash."""
    from mou_tracker.services.personal import Unsealer, load_secrets

    fold = StateFold(unsealer=Unsealer(load_secrets(conn)))
    apply = fold.apply
    tables = fold.rows
    special = {"participant", *RESCALED_COLUMNS}  # kinds whose events apply() must read (sealed, rescaled)
    last_seq, head = 0, GENESIS_HASH
    rows = raw_rows(conn, "SELECT seq, entity_kind, entity_id, action, changes, hash FROM audit_event ORDER BY seq")
    for count, (seq, kind, entity_id, action, changes, stored_hash) in enumerate(rows, 1):
        table = tables.get(kind)
        if (action == "create" and table is not None and type(changes) is str and entity_id not in table
                and kind not in special):
            table[entity_id] = changes  # StateFold.apply's create, inlined
        else:
            apply(seq, kind, entity_id, action, changes)
        last_seq, head = seq, stored_hash
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count, total)
    return fold, last_seq, head


def _chain_in_child(url: str) -> ChainOutcome:
    """The chain walk in a process of its own (see ``verify_chain``)."""
    from mou_tracker.db.guards import integrity_problems

    db, conn = _open(url)
    try:
        with conn.begin():
            outcome = check_chain(conn)
        # the file's own check, here beside the chain walk rather than after the replay in the first process
        outcome.problems += [Finding("integrity", m) for m in integrity_problems(conn, quick=True)]
        outcome.integrity_checked = True
        return outcome
    finally:
        conn.close()
        if db is not None:
            db.dispose()


def _can_split(db: Database, total: int) -> bool:
    if total < PARALLEL_MIN or os.cpu_count() == 1 or os.environ.get("MOU_VERIFY_SERIAL"):
        return False
    from mou_tracker.db.engine import sqlite_path

    return db.dialect == "postgresql" or sqlite_path(db.url) is not None


def verify_chain(db: Database, *, anchor: str | None = None, evidence_dir: Path | str | None = None,
                 progress: Progress | None = None) -> VerifyResult:
    """Verify the whole trail and the tables against it. ``progress(done, total)`` is called every few
    thousand events. Never writes anything.

    On a large trail the chain walk runs in a second process while this one replays the trail and compares
    the tables (the two halves of the work take about as long). Each works in a snapshot of its own; if
    events were appended in between, the chain walk is carried on here over the events it did not see."""
    started = time.perf_counter()
    anchor = normalise_anchor(anchor) if anchor else None
    _db, conn = _open(db)
    child = None
    try:
        with conn.begin():
            total = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_event")).scalar_one()
            if _can_split(db, total):
                child = _start_child(db.engine.url.render_as_string(hide_password=False))
            first_half = second_half = progress
            if progress is not None and child is None:  # two passes here: each is half of the bar
                def first_half(done: int, of: int) -> None:
                    progress(done // 2, of)

                def second_half(done: int, of: int) -> None:
                    progress(of // 2 + done // 2, of)

            fold, last_seq, head = fold_trail(conn, first_half, total)
            tables = _table_findings(conn, fold)  # while the child (if any) is still walking the chain
            del fold
            if child is None:
                chain = check_chain(conn, progress=second_half, total=total)
            else:
                chain = _child_result(child, conn)
                if chain.last_seq < last_seq:  # events appended after the child's snapshot: walk them here
                    more = check_chain(conn, chain.last_seq, chain.head)
                    chain = ChainOutcome(chain.count + more.count, more.last_seq, more.head,
                                         chain.problems + more.problems, chain.unlisted + more.unlisted,
                                         chain.integrity_checked)
            if progress is not None:
                progress(chain.count, max(total, chain.count))
            result = _result(conn, chain, tables, anchor, Path(evidence_dir) if evidence_dir else None)
    finally:
        conn.close()
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
    result.seconds = time.perf_counter() - started
    return result


def _start_child(url: str) -> subprocess.Popen[str] | None:
    # A fresh interpreter running this module (not multiprocessing, which would re-run the caller's main
    # script); the URL, which may hold a password, goes through stdin rather than the command line.
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mou_tracker.services.verify"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdin is not None
        proc.stdin.write(url)
        proc.stdin.close()
        return proc
    except OSError:
        return None


def _child_result(child: subprocess.Popen[str], conn: Connection) -> ChainOutcome:
    assert child.stdout is not None
    out = child.stdout.read()
    if child.wait() == 0:
        try:
            data = json.loads(out)
            return ChainOutcome(data["count"], data["last_seq"], data["head"],
                                [Finding(**f) for f in data["problems"]], data["unlisted"],
                                bool(data.get("integrity_checked")))
        except (ValueError, KeyError, TypeError):
            pass
    return check_chain(conn)  # the second process could not do it: walk the chain here


def _child_main() -> None:
    """``python -m mou_tracker.services.verify`` with a database URL on stdin: the chain walk, as JSON."""
    outcome = _chain_in_child(sys.stdin.read().strip())
    print(json.dumps({"count": outcome.count, "last_seq": outcome.last_seq, "head": outcome.head,
                      "problems": [asdict(f) for f in outcome.problems], "unlisted": outcome.unlisted,
                      "integrity_checked": outcome.integrity_checked}))


def _table_findings(conn: Connection, fold: StateFold) -> tuple[list[Finding], int]:
    """What the tables, the signatures and the stored types say against the replayed trail. Independent of
    the chain walk, so it runs while the second process is still walking the chain."""
    problems = signature_findings(conn)
    problems += type_findings(conn)
    problems += [Finding("inconsistent", message, seq) for seq, message in fold.anomalies]
    unlisted = fold.anomaly_count - len(fold.anomalies)
    records = RecordCheck(conn)
    records.compare(fold)
    return problems + records.problems, unlisted + records.unlisted


def _result(conn: Connection, chain: ChainOutcome, tables: tuple[list[Finding], int], anchor: str | None,
            evidence_dir: Path | None) -> VerifyResult:
    problems: list[Finding] = list(chain.problems)
    problems += _guard_findings(conn, integrity=not chain.integrity_checked)
    problems += tables[0]
    unlisted = chain.unlisted + tables[1]
    result = VerifyResult(events=chain.count, head=chain.head, problems=problems, unlisted=unlisted,
                          warnings=connection_warnings(conn), anchor=anchor)
    if anchor:
        result.anchor_seq, finding = _anchor_finding(conn, anchor)
        if finding:
            result.problems.append(finding)
    if evidence_dir is not None:
        result.evidence_checked, evidence_problems = check_evidence(conn, evidence_dir)
        result.problems += evidence_problems
    return result


if __name__ == "__main__":
    _child_main()
