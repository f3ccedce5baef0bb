"""What every screen needs to know: where to read, how to write, and what the user may do.

Reads go through ``Source``: the live database, or (as-of mode) the register as it stood at the end of a
past day, rebuilt once from the audit trail. That rebuilt state lives in an in-memory SQLite database whose
connection belongs to one thread, so as-of reads are run on a dedicated thread and waited for. Writes go
through the service layer only (``UIContext.services``), which refuses them in read-only sessions anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database
from mou_tracker.services.programme import Services

T = TypeVar("T")


class Source:
    """Reads for the UI, from any thread: ``read(fn)`` runs ``fn(session)`` and returns its result."""

    def __init__(self, db: Database, as_of: date | None = None, partnership_id: int | None = None) -> None:
        self.db = db
        self.as_of = as_of
        self.partnership_id = partnership_id
        self._stack = ExitStack()
        self._session: Session | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mou-as-of") if as_of else None
        self._lock = threading.Lock()

    @property
    def until(self) -> datetime | None:
        """Audit events at or after this moment are not part of the view (as-of mode)."""
        if self.as_of is None:
            return None
        from mou_tracker.services.history import end_of_day_utc

        return end_of_day_utc(self.as_of)

    def read(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` on a session showing the records (live, or as of the chosen day)."""
        if self._executor is None:
            with self.db.reading() as session:
                return fn(session)
        return self._executor.submit(self._read_as_of, fn).result()

    def read_audit(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` on the live database: the audit trail itself is never rebuilt (filter with ``until``)."""
        with self.db.reading() as session:
            return fn(session)

    def _read_as_of(self, fn: Callable[[Session], T]) -> T:
        if self._session is None:
            from mou_tracker.services.history import state_as_of

            assert self.as_of is not None
            self._session = self._stack.enter_context(
                state_as_of(self.db, self.as_of, partnership_id=self.partnership_id))
        return fn(self._session)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.submit(self._stack.close).result()
                self._executor.shutdown(wait=True)
                self._executor = None


@dataclass
class UIContext:
    """The session the UI runs in: one database, one actor, one partnership."""

    db: Database
    actor: str
    services: Services
    source: Source
    partnership_id: int
    partnership_code: str
    read_only: bool
    as_of: date | None
    today: date
    role: str | None = None

    @property
    def reference_day(self) -> date:
        """'Today' for the dashboard: the as-of day when looking back, else today."""
        return self.as_of or self.today

    def close(self) -> None:
        self.source.close()


def open_context(db: Database, actor: str, *, partnership: str | None = None, read_only: bool = False,
                 as_of: date | None = None, today: date | None = None) -> UIContext:
    """Resolve the partnership and the user's rights before any window opens (errors reach the CLI as
    one-line messages). Evaluators and as-of views are read-only; the service layer enforces it too."""
    from mou_tracker.services.queries import partnership_info

    probe = Services(db, actor, partnership=partnership, read_only=True)
    pid = probe.partnership_id
    role = probe.role_of()
    with db.reading() as session:
        code = partnership_info(session, pid).code
    read_only = read_only or as_of is not None or role == "evaluator"
    services = Services(db, actor, partnership=code, read_only=read_only)
    return UIContext(db=db, actor=actor, services=services, source=Source(db, as_of, pid), partnership_id=pid,
                     partnership_code=code, read_only=read_only, as_of=as_of,
                     today=today or datetime.now(UTC).date(), role=role)
