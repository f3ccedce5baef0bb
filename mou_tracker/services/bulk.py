"""The batch path for many new, trusted rows (the importer's new trainings and participants, generators):
one executemany per batch and one audit event per record, exactly as a single create writes it.

The rows go straight to the driver's ``executemany`` on the unit of work's own connection (same transaction),
each value passed through its column type's bind processor as SQLAlchemy itself would: SQLAlchemy's
per-row parameter handling cost about as much as SQLite's own work on 200,000 rows (benchmarks/bench_import.py).
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from mou_tracker.db.models import AuditEvent, Base
from mou_tracker.db.types import ScaledDecimal, UTCDateTime
from mou_tracker.services.audit import column_converters, remembered
from mou_tracker.services.core import ServiceCore

#: SQLite page cache for a bulk write (KiB; the default 2 MB makes the random inserts into the audit trail's
#: hash index and the participants' key index read the same pages again and again)
SQLITE_BULK_CACHE_KIB = 32_768
#: SQLite tables with a BEFORE INSERT trigger (the audit trail's append-only guard, migration 0002)
SQLITE_TRIGGERED = frozenset({"audit_event"})
#: rows per INSERT statement into those tables (far below SQLite's 32,766 parameters)
MULTI_ROW = 200
#: PostgreSQL: rows go in by COPY (psycopg's ``cursor.copy``), which fires the same row triggers as INSERT; its
#: pipelined executemany spent about 25 s in the driver's per-statement Python on the benchmark's 470,000 rows
POSTGRES_COPY = True
#: seconds spent, per part of the batch path, since the process started (benchmarks/bench_import.py prints them)
SECONDS: Counter[str] = Counter()


class BulkWrites(ServiceCore):
    # Bulk path (benchmarks, large generated programmes) -----------------------------------------------------------
    def bulk_insert(self, kind: str, model: type[Base], rows: Sequence[dict[str, Any]],
                    ref_attr: str | None = "code",
                    ref_of: Callable[[int, dict[str, Any]], str] | None = None, *, audit: bool = True) -> list[int]:
        """Insert many trusted, already-normalised rows with one audit event each, in executemany batches.

        The caller has validated the rows (this path is for generators); the audit trail is written exactly
        as for single saves, so `audit verify` treats bulk-loaded records like any other. Each event's reference
        is ``ref_of(id, row)`` when given (participants: ``P-<id>``), else the row's ``ref_attr``, else the id.
        ``audit=False`` is for a dry run only: inside a transaction that is rolled back, the events (and the
        participants' sealing keys) would be thrown away unread, so they are not built.
        """
        if not rows:
            return []
        with self.unit_of_work() as uow:
            table: Table = model.__table__  # type: ignore[assignment]
            session = uow.session
            if not audit:
                if not uow.nested:
                    raise ValueError("bulk_insert(audit=False) is only for a dry run inside the caller's "
                                     "transaction")
                uow.unaudited = True  # that transaction can no longer commit
            t0 = perf_counter()
            ids = self._new_ids(session, table, len(rows))
            executemany(session, table, [{**row, "id": oid} for oid, row in zip(ids, rows, strict=True)])
            t1 = perf_counter()
            SECONDS["records written"] += t1 - t0
            if audit:
                converters = column_converters(table)
                pid = self.partnership_id if "partnership_id" not in table.columns else None
                events = uow.audit.build_many("create", kind, (
                    (oid, ref_of(oid, row) if ref_of else str(row.get(ref_attr, oid)) if ref_attr else str(oid),
                     row.get("partnership_id", pid), {key: [None, conv(row.get(key))] for key, conv in converters})
                    for oid, row in zip(ids, rows, strict=True)))
                t2 = perf_counter()
                uow.audit.flush_sealed()
                executemany(session, AuditEvent.__table__, events)  # type: ignore[arg-type]
                SECONDS["events built and sealed"] += t2 - t1
                SECONDS["events and keys written"] += perf_counter() - t2
            uow.commit()
            return ids

    @staticmethod
    def _new_ids(session: Session, table: Table, n: int) -> list[int]:
        """Primary keys for ``n`` new rows, taken before inserting so the rows can go in one executemany.

        SQLite: the write transaction began IMMEDIATE, so no one else can insert until it ends. PostgreSQL:
        drawn from the table's own sequence, which is safe with concurrent writers."""
        if session.get_bind().dialect.name == "postgresql":
            stmt = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")
            return list(session.execute(stmt, {"t": table.name, "n": n}).scalars())
        start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        return list(range(start, start + n))


def executemany(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts keyed by column) with the driver's executemany on the session's connection.

    The first row's keys name the columns (as for SQLAlchemy's ``insert(table)`` with a list); every value
    goes through its column type's bind processor (column by column, so that a column without one costs
    nothing). On SQLite a table with a trigger (the audit trail's guard) takes ``MULTI_ROW`` rows per
    statement: SQLite's per-statement cost of a trigger is several times its per-row cost. On PostgreSQL the
    rows go in by COPY, in the same transaction, through the same triggers and constraints."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = [c.key for c in table.columns if c.key in rows[0]]
    columns = [table.columns[k] for k in keys]
    processors = [_fast_processor(c, dialect) for c in columns]
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    one = f"({', '.join([mark] * len(columns))})"
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) VALUES "
    data = _tuples(rows, keys, processors)
    cursor = conn.connection.cursor()
    try:
        if dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
            if table.name in SQLITE_TRIGGERED and len(data) >= MULTI_ROW:
                whole = len(data) - len(data) % MULTI_ROW
                chain = itertools.chain.from_iterable
                cursor.executemany(head + ", ".join([one] * MULTI_ROW),
                                   [tuple(chain(data[i:i + MULTI_ROW])) for i in range(0, whole, MULTI_ROW)])
                data = data[whole:]
        elif dialect.name == "postgresql" and POSTGRES_COPY:
            with cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) FROM STDIN"
                             ) as copy:
                write = copy.write_row
                for row in data:
                    write(row)
            data = []
        if data:
            cursor.executemany(head + one, data)
    finally:
        cursor.close()


def _tuples(rows: Sequence[dict[str, Any]], keys: list[str],
            processors: list[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    """The rows as tuples in ``keys`` order (a missing key is None), each value through its processor."""
    if len(keys) == 1:
        data = [(row.get(keys[0]),) for row in rows]
    else:
        get = operator.itemgetter(*keys)
        try:
            data = list(map(get, rows))
        except KeyError:  # a row without some column: None there, as SQLAlchemy's insert would
            data = [tuple(row.get(k) for k in keys) for row in rows]
    if all(p is None for p in processors):
        return data
    columns: list[Any] = list(zip(*data, strict=True))
    for i, p in enumerate(processors):
        if p is not None:
            columns[i] = map(p, columns[i])
    return list(zip(*columns, strict=True))


def _fast_processor(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's bind processor; for a UTC time stamp on SQLite, an equivalent one that gives the same
    text (``2026-12-02 07:30:53.123456``, as SQLAlchemy's SQLite DATETIME writes it; a test compares them)."""
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        slow = column.type._cached_bind_processor(dialect)

        def utc_sqlite(value: Any) -> Any:
            if value.__class__ is datetime and value.tzinfo is UTC and value.year >= 1000:
                return value.isoformat(" ", "microseconds")[:26]
            return slow(value)

        return utc_sqlite
    processor = column.type._cached_bind_processor(dialect)
    if processor is not None and isinstance(column.type, ScaledDecimal):
        return remembered(processor)  # type: ignore[no-any-return]
    return processor  # type: ignore[no-any-return]
