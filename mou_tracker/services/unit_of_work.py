"""The unit of work: one write transaction that rolls back unless it is committed (cosmicpython's pattern).

Every create, update and delete of a record goes through ``UnitOfWork.create/update/delete``, which write the
audit event in the same transaction, ask for a reason where the rules require one
(docs/reference/audit-and-signoff.md: a deletion, a change to a record in a locked quarter, or whatever the
caller says needs one) and report what they did as a
``SaveResult``. Other modules (sign-off, the importer) write through these public methods only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mou_tracker.db.models import Base, PeriodLock
from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import Problem, ReasonRequired
from mou_tracker.services.audit import AuditWriter, Reason, column_value, row_values

#: the attributes that place a record of each kind in a quarter (for the locked-period rule)
PERIOD_ATTRS: dict[str, tuple[str, ...]] = {
    "training": ("end_date",), "engagement": ("date",), "milestone": ("completed_on",),
    "expenditure": ("date",), "disbursement": ("date",), "target": ("period",),
    "result": ("period",), "narrative": ("period",), "commitment": ("date",), "development": ("date",)}


@dataclass
class SaveResult:
    """What a write did: ``action`` is created, updated or unchanged; ``changes`` maps field -> (old, new);
    ``notes`` says what was adjusted or kept on the way (a rate rounded to 10 places, a recorded name kept),
    so that nothing changes silently."""

    obj: Any
    action: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class UnitOfWork:
    """One write transaction: its session, its audit writer and the locked quarters it has looked up.

    Use it as a context manager; leaving the block without ``commit()`` rolls everything back (an exception,
    a dry run). A nested unit of work (a service method called inside an import) shares the outer one's
    transaction: its ``commit()`` does nothing, the outermost decides.
    """

    def __init__(self, session: Session, audit: AuditWriter,
                 before_commit: Callable[[UnitOfWork], None] | None = None) -> None:
        self.session = session
        self.audit = audit
        #: partnership id -> its locked quarters (read once per transaction; sign-off drops it when locking)
        self.locked: dict[int, set[str]] = {}
        self._before_commit = before_commit
        self._depth = 0
        #: set when records were written without their audit events (a dry run's bulk path): never committed
        self.unaudited = False
        self.committed = False

    # Transaction --------------------------------------------------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        if self._depth == 0:
            self.session.begin()
            self.unaudited = False
        self._depth += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            try:
                if not self.committed:
                    self.session.rollback()
            finally:
                self.session.close()

    @property
    def nested(self) -> bool:
        return self._depth > 1

    def commit(self) -> None:
        """Commit the transaction (a nested unit of work leaves that to the outermost one)."""
        if self.nested:
            return
        if self.unaudited:
            raise RuntimeError("this transaction wrote records without their audit events (a dry run); it is "
                               "never committed")
        if self._before_commit is not None:
            self._before_commit(self)
        self.session.commit()
        self.committed = True

    def rollback(self) -> None:
        self.session.rollback()

    # Writes -------------------------------------------------------------------------------------------------
    def create(self, kind: str, obj: Base, ref: str, partnership_id: int | None,
               reason: Reason | None = None) -> SaveResult:
        """Insert ``obj`` and its audit event (every field: none -> value)."""
        self.session.add(obj)
        self.session.flush()
        values = row_values(obj)
        self.audit.append("create", kind, obj.id, ref, partnership_id,  # type: ignore[attr-defined]
                          {k: [None, v] for k, v in values.items()}, reason)
        return SaveResult(obj, "created", {k: (None, v) for k, v in values.items()})

    def update(self, kind: str, obj: Base, values: Mapping[str, Any], ref: str, partnership_id: int | None,
               reason: Reason | None, why: list[str] | None = None) -> SaveResult:
        """Change the fields of ``obj`` that differ from ``values``; nothing at all when none does.

        ``why`` lists the caller's own reasons a reason is needed (a due date moved); a change to a record in a
        locked quarter always needs one."""
        diff: dict[str, tuple[Any, Any]] = {}
        columns = obj.__table__.columns  # type: ignore[attr-defined]
        for attr, new in values.items():
            old = getattr(obj, attr)
            if column_value(columns[attr], old) != column_value(columns[attr], new):
                diff[attr] = (old, new)
        if not diff:
            return SaveResult(obj, "unchanged")
        needs = list(why or [])
        needs += self.locked_reasons(partnership_id, periods_of(kind, obj, values))
        if needs and reason is None:
            raise ReasonRequired(Problem("Reason", f"{'; '.join(needs)} needs a reason (category and text)"))
        for attr, (_old, new) in diff.items():
            setattr(obj, attr, new)
        self.session.flush()
        changes = {k: [column_value(columns[k], o), column_value(columns[k], n)] for k, (o, n) in diff.items()}
        self.audit.append("update", kind, obj.id, ref, partnership_id, changes, reason)  # type: ignore[attr-defined]
        return SaveResult(obj, "updated", diff)

    def delete(self, kind: str, obj: Base, ref: str, partnership_id: int | None, reason: Reason | None) -> None:
        """Delete ``obj`` with its audit event; a deletion always needs a reason."""
        if reason is None:
            raise ReasonRequired(Problem("Reason", f"deleting {kind.replace('_', ' ')} {ref} needs a reason"))
        values = row_values(obj)
        oid = obj.id  # type: ignore[attr-defined]
        self.session.delete(obj)
        self.session.flush()
        self.audit.append("delete", kind, oid, ref, partnership_id, {k: [v, None] for k, v in values.items()},
                          reason)

    # Locked quarters ----------------------------------------------------------------------------------------
    def locked_reasons(self, partnership_id: int | None, periods: set[str]) -> list[str]:
        if partnership_id is None or not periods:
            return []
        if partnership_id not in self.locked:
            self.locked[partnership_id] = set(self.session.execute(
                select(PeriodLock.period).where(PeriodLock.partnership_id == partnership_id)).scalars())
        return [f"changing a record in locked period {p}" for p in sorted(periods & self.locked[partnership_id])]


def periods_of(kind: str, obj: Base, values: Mapping[str, Any]) -> set[str]:
    """The quarters a change touches: those of the record before and after it."""
    periods: set[str] = set()
    for attr in PERIOD_ATTRS.get(kind, ()):
        for value in (getattr(obj, attr, None), values.get(attr)):
            if isinstance(value, date):
                periods.add(str(Quarter.of(value)))
            elif isinstance(value, str):
                periods.add(value)
    return periods
