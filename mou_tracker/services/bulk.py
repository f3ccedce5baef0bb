"""The batch path for many new, trusted rows (the importer's new trainings and participants, generators):
one executemany per batch and one audit event per record, exactly as a single create writes it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from mou_tracker.db.models import AuditEvent, Base
from mou_tracker.services.audit import column_converters
from mou_tracker.services.core import ServiceCore


class BulkWrites(ServiceCore):
    # Bulk path (benchmarks, large generated programmes) -----------------------------------------------------------
    def bulk_insert(self, kind: str, model: type[Base], rows: Sequence[dict[str, Any]],
                    ref_attr: str | None = "code",
                    ref_of: Callable[[int, dict[str, Any]], str] | None = None) -> list[int]:
        """Insert many trusted, already-normalised rows with one audit event each, in executemany batches.

        The caller has validated the rows (this path is for generators); the audit trail is written exactly
        as for single saves, so `audit verify` treats bulk-loaded records like any other. Each event's reference
        is ``ref_of(id, row)`` when given (participants: ``P-<id>``), else the row's ``ref_attr``, else the id.
        """
        if not rows:
            return []
        with self.unit_of_work() as uow:
            table: Table = model.__table__  # type: ignore[assignment]
            ids = self._new_ids(uow.session, table, len(rows))
            uow.session.execute(insert(table), [{**row, "id": oid} for oid, row in zip(ids, rows, strict=True)])
            converters = column_converters(table)
            pid = self.partnership_id if "partnership_id" not in table.columns else None
            events = []
            for oid, row in zip(ids, rows, strict=True):
                changes = {key: [None, conv(row.get(key))] for key, conv in converters}
                ref = ref_of(oid, row) if ref_of else str(row.get(ref_attr, oid)) if ref_attr else str(oid)
                events.append(uow.audit.build("create", kind, oid, ref, row.get("partnership_id", pid), changes))
            uow.audit.flush_sealed()
            uow.session.execute(insert(AuditEvent.__table__), events)  # type: ignore[arg-type]
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
