"""Rebuilding state from the audit trail: the register as it stood at the end of any past day.

Every create event carries all of a record's columns, every update the changed ones (old and new), every
delete the old values; replaying events in sequence order into an empty scratch database therefore rebuilds
each table exactly. `progress --as-of`, as-of reports and `audit verify` all use this.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Boolean, Connection, Date, Integer, Table, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from mou_tracker.db.engine import Database
from mou_tracker.db.models import ENTITY_MODELS, RESCALED_COLUMNS, AuditEvent, Base
from mou_tracker.db.types import ScaledDecimal, UTCDateTime
from mou_tracker.services.audit import canonical_json, canonical_value, column_value

REPLAY_BATCH = 5000


def end_of_day_utc(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def from_canonical(column: Any, value: Any) -> Any:
    """The Python value of a canonical (audit-event) value for ``column``."""
    if value is None:
        return None
    t = column.type
    if isinstance(t, ScaledDecimal):
        return Decimal(value)
    if isinstance(t, UTCDateTime):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if isinstance(t, Date):
        return date.fromisoformat(value)
    if isinstance(t, Boolean):
        return bool(value)
    if isinstance(t, Integer):
        return int(value)
    return value


class Replayer:
    """Applies audit events, in order, to a scratch database."""

    def __init__(self, session: Session, unsealer: Any = None) -> None:
        self.session = session
        #: opens participants' sealed values (``personal.Unsealer``); without one they read "[erased]"
        self.unsealer = unsealer
        self.applied = 0

    def apply(self, event: AuditEvent | Any) -> None:
        model = ENTITY_MODELS.get(event.entity_kind)
        if model is None or event.entity_id is None:
            return  # events about no table row (e.g. a verification note)
        table: Table = model.__table__  # type: ignore[assignment]
        changes: dict[str, list[Any]] = json.loads(event.changes)
        if event.entity_kind == "participant":
            from mou_tracker.services.personal import Unsealer

            changes = (self.unsealer or Unsealer({})).changes(event.entity_id, changes)
        cols = table.columns
        if event.action == "create":
            row = {k: from_canonical(cols[k], v[1]) for k, v in changes.items() if k in cols}
            row["id"] = event.entity_id
            self.session.execute(insert(table), [row])
        elif event.action in ("update", "erase"):
            new = {k: from_canonical(cols[k], v[1]) for k, v in changes.items() if k in cols}
            if new:
                self.session.execute(update(table).where(table.c.id == event.entity_id).values(**new))
        elif event.action == "delete":
            self.session.execute(delete(table).where(table.c.id == event.entity_id))
        self.applied += 1


@contextmanager
def scratch_session() -> Iterator[Session]:
    """An empty in-memory database with the current schema (a throwaway; never the user's database)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def iter_events(db: Database, until: datetime | None = None) -> Iterator[Any]:
    """Audit events in sequence order, streamed in batches (bounded memory on a large trail)."""
    last = 0
    while True:
        with db.reading() as s:
            stmt = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(REPLAY_BATCH)
            batch = list(s.execute(stmt).scalars())
        if not batch:
            return
        for event in batch:
            if until is not None and event.occurred_at >= until:
                return
            yield event
        last = batch[-1].seq


# Fast replay: fold the trail into each record's final values, then write them in bulk ---------------------
_CURSORS = itertools.count(1)
_NO_CHANGE = (None, None)


def raw_rows(conn: Connection, sql: str, params: Sequence[Any] = (), batch: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """Stream the rows of a query as plain DBAPI tuples, with bounded memory (a server-side cursor on
    PostgreSQL). Runs inside ``conn``'s transaction, so every query of it sees one snapshot."""
    dbapi: Any = conn.connection.dbapi_connection
    cur: Any
    if conn.dialect.name == "postgresql":
        cur = dbapi.cursor(name=f"mou_stream_{next(_CURSORS)}")
        cur.itersize = batch
        sql = sql.replace("?", "%s")
    else:
        cur = dbapi.cursor()
    try:
        cur.execute(sql, tuple(params))
        yield from cur
    finally:
        cur.close()



def _columns(model: type[Base]) -> list[Any]:
    return [c for c in model.__table__.columns if c.key != "id"]  # type: ignore[attr-defined]


def canonical_reader(column: Any, dialect: str) -> Callable[[Any], Any] | None:
    """A function turning a raw DBAPI value of ``column`` into its canonical (audit-event) form, or None
    when the raw value already is canonical (or compares equal to it, like SQLite's 0/1 and False/True)."""
    t = column.type
    if isinstance(t, ScaledDecimal):
        if dialect == "sqlite":
            return _scaled_reader(t.scale)
        return lambda v: column_value(column, v)
    if isinstance(t, UTCDateTime):
        if dialect == "sqlite":
            return lambda v: None if v is None else sqlite_time_to_canonical(v)
        return lambda v: None if v is None else canonical_value(v.astimezone(UTC))
    if isinstance(t, Date) and dialect != "sqlite":
        return lambda v: None if v is None else v.isoformat()
    if isinstance(t, Boolean) and dialect == "sqlite":
        return lambda v: None if v is None else bool(v)
    return None


def _scaled_reader(scale: int) -> Callable[[Any], Any]:
    """SQLite's scaled integer -> the canonical decimal text ("1250" at scale 2 -> "12.50"), without Decimal."""
    unit = 10**scale

    def read(v: Any) -> Any:
        if v is None:
            return None
        if type(v) is not int or scale == 0:
            return str(Decimal(v).scaleb(-scale))
        whole, part = divmod(-v if v < 0 else v, unit)
        return f"{'-' if v < 0 else ''}{whole}.{part:0{scale}d}"

    return read


def sqlite_time_to_canonical(value: Any) -> Any:
    # SQLAlchemy stores SQLite time stamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see db.types.UTCDateTime)
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    try:
        return canonical_value(datetime.fromisoformat(str(value)).replace(tzinfo=UTC))
    except ValueError:
        return value  # not a time stamp at all: compared as is, and so reported


def sqlite_writer(column: Any) -> Callable[[Any], Any] | None:
    """The inverse for a SQLite scratch database: canonical value -> the raw value SQLAlchemy would store."""
    t = column.type
    if isinstance(t, ScaledDecimal):
        scale = t.scale
        return lambda v: None if v is None else int(Decimal(v).scaleb(scale))
    if isinstance(t, UTCDateTime):
        return lambda v: None if v is None else f"{v[:10]} {v[11:26]}"
    if isinstance(t, Boolean):
        return lambda v: None if v is None else int(bool(v))
    return None


class StateFold:
    """The state the audit trail describes, folded event by event in sequence order: for each entity kind,
    record id -> its column values as JSON text: a created record keeps its create event's changes as they were
    read (no work until its values are needed), a changed one a packed list in column order. Text, not orjson's
    bytes, whose over-allocated buffers would fragment the heap to ~4 KB a record.

    Folding is the replay of ``Replayer`` without a database round trip per event. Events that do not fit
    the state (a create of a record that exists, a change to one that does not) are kept as ``anomalies``:
    an intact trail written by the application has none."""

    MAX_ANOMALIES = 100

    def __init__(self, kinds: Sequence[str] | None = None, unsealer: Any = None) -> None:
        wanted = kinds or list(ENTITY_MODELS)
        #: opens participants' sealed values (``personal.Unsealer``); values whose key is gone read "[erased]"
        self.unsealer = unsealer
        self.columns: dict[str, list[str]] = {k: [c.key for c in _columns(ENTITY_MODELS[k])] for k in wanted}
        self._index = {k: {c: i for i, c in enumerate(cols)} for k, cols in self.columns.items()}
        self.rows: dict[str, dict[int, str]] = {k: {} for k in wanted}
        self.anomalies: list[tuple[int, str]] = []
        self.anomaly_count = 0
        self.applied = 0
        self._rescaled = {k: {c: ENTITY_MODELS[k].__table__.columns[c] for c in cols}  # type: ignore[attr-defined]
                          for k, cols in RESCALED_COLUMNS.items() if k in self.rows}

    def _rescale(self, kind: str, changes: str | bytes) -> str | bytes:
        """An event's changes with the widened columns written as they would be today (see RESCALED_COLUMNS)."""
        data = orjson.loads(changes)
        touched = False
        for key, column in self._rescaled[kind].items():
            pair = data.get(key)
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            for i, value in enumerate(pair):
                if isinstance(value, str):
                    try:
                        canon = column_value(column, value)
                    except (ArithmeticError, ValueError):  # not a number: left as it is, so it is reported
                        continue
                    if canon != value:
                        pair[i], touched = canon, True
        return canonical_json(data) if touched else changes

    def _anomaly(self, seq: int, message: str) -> None:
        self.anomaly_count += 1
        if len(self.anomalies) < self.MAX_ANOMALIES:
            self.anomalies.append((seq, message))

    def apply(self, seq: int, kind: str, entity_id: int | None, action: str, changes: str | bytes) -> None:
        table = self.rows.get(kind)
        if table is None or entity_id is None:
            return  # events about no table row
        self.applied += 1
        try:
            if kind == "participant" and self.unsealer is not None:
                changes = self.unsealer.changes_text(entity_id, changes)
            elif kind in self._rescaled:
                changes = self._rescale(kind, changes)
            self._apply(seq, kind, table, entity_id, action, changes)
        except (ValueError, TypeError, AttributeError, IndexError):  # changes that are not what the app writes
            self._anomaly(seq, f"event #{seq} records changes that cannot be read: {str(changes)[:80]}")

    def _apply(self, seq: int, kind: str, table: dict[int, str], entity_id: int, action: str,
               changes: str | bytes) -> None:
        if action == "create":
            if entity_id in table:
                self._anomaly(seq, f"event #{seq} creates {kind} id {entity_id}, which the trail already holds")
            table[entity_id] = changes if isinstance(changes, str) else changes.decode()
        elif action in ("update", "erase"):
            current = table.get(entity_id)
            if current is None:
                self._anomaly(seq, f"event #{seq} changes {kind} id {entity_id}, which the trail does not hold")
                return
            values = self.unpack(kind, current)
            index = self._index[kind]
            for key, pair in orjson.loads(changes).items():
                i = index.get(key)
                if i is not None:
                    values[i] = pair[1]
            table[entity_id] = orjson.dumps(values).decode()
        elif action == "delete" and table.pop(entity_id, None) is None:
            self._anomaly(seq, f"event #{seq} deletes {kind} id {entity_id}, which the trail does not hold")

    def unpack(self, kind: str, stored: str) -> list[Any]:
        """A record's values in column order (raises ValueError/TypeError for text the app never writes)."""
        data = orjson.loads(stored)
        if isinstance(data, dict):  # a create event's changes: {column: [null, value]}
            try:
                return [data[c][1] for c in self.columns[kind]]
            except KeyError:  # a column the event did not record (added by a later schema): empty
                get = data.get
                return [(get(c) or _NO_CHANGE)[1] for c in self.columns[kind]]
        if not isinstance(data, list):
            raise TypeError("not a record")
        return data

    def values(self, kind: str, entity_id: int) -> list[Any] | None:
        stored = self.rows[kind].get(entity_id)
        return None if stored is None else self.unpack(kind, stored)

    def write_sqlite(self, session: Session) -> None:
        """Insert the folded state into an empty SQLite (scratch) database in bulk."""
        conn = session.connection()
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None and conn.dialect.name == "sqlite"
        for kind, table_rows in self.rows.items():
            if not table_rows:
                continue
            columns = _columns(ENTITY_MODELS[kind])
            writers = [(i, w) for i, c in enumerate(columns) if (w := sqlite_writer(c)) is not None]
            names = ", ".join(["id", *(c.name for c in columns)])
            marks = ", ".join("?" * (len(columns) + 1))
            sql = f"INSERT INTO {ENTITY_MODELS[kind].__table__.name} ({names}) VALUES ({marks})"  # type: ignore[attr-defined]

            def rows(items: Any = table_rows.items(), writers: Any = writers, kind: str = kind
                     ) -> Iterator[list[Any]]:
                for rid, stored in items:
                    values = self.unpack(kind, stored)
                    for i, w in writers:
                        values[i] = w(values[i])
                    values.insert(0, rid)
                    yield values

            dbapi.executemany(sql, rows())


def _partnership_filter(partnership_id: int | None) -> tuple[str, tuple[Any, ...]]:
    if partnership_id is None:
        return "", ()
    return " WHERE partnership_id = ? OR partnership_id IS NULL", (partnership_id,)


def fold_until(db: Database, until: datetime | None, partnership_id: int | None = None) -> StateFold:
    """Fold the trail up to (not including) the first event at or after ``until``; with ``partnership_id``,
    only that partnership's events and those of no partnership (users, the partnership rows)."""
    from mou_tracker.services.personal import Unsealer, load_secrets

    where, params = _partnership_filter(partnership_id)
    with db.engine.connect() as conn:
        fold = StateFold(unsealer=Unsealer(load_secrets(conn)))
        if conn.dialect.name == "sqlite":
            limit = None if until is None else until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            limit = until  # type: ignore[assignment]
        sql = f"SELECT seq, occurred_at, entity_kind, entity_id, action, changes FROM audit_event{where} ORDER BY seq"
        for seq, occurred_at, kind, entity_id, action, changes in raw_rows(conn, sql, params):
            if limit is not None and occurred_at >= limit:
                break
            fold.apply(seq, kind, entity_id, action, changes)
    return fold


@contextmanager
def state_as_of(db: Database, day: date, partnership_id: int | None = None) -> Iterator[Session]:
    """A read-only session on the state at the end of ``day`` (UTC), rebuilt from the audit trail.

    With ``partnership_id`` only that partnership's records are rebuilt (much faster on a database that
    holds several; every figure of one partnership needs only its own records)."""
    fold = fold_until(db, end_of_day_utc(day), partnership_id)
    with scratch_session() as session:
        fold.write_sqlite(session)
        del fold
        yield session
