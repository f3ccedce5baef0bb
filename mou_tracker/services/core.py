"""What every family of writes shares: the session's actor and partnership, the unit of work, the lookups by
ID and the refusal of an ID that is already taken (with the next free ID proposed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database
from mou_tracker.db.models import Partnership, PeriodLock, User
from mou_tracker.errors import AlreadyExists, NotFound, PermissionDenied, Problem, ValidationError
from mou_tracker.services.audit import AuditWriter
from mou_tracker.services.fields import Field, for_country
from mou_tracker.services.unit_of_work import UnitOfWork

T = TypeVar("T")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def raise_problems(problems: list[Problem]) -> None:
    """Every problem of a write at once, as one ValidationError (nothing when there is none)."""
    if problems:
        raise ValidationError(problems)


def next_free_code(code: str, taken: Iterable[str]) -> str | None:
    """The next unused ID after ``code``, keeping its prefix and zero padding (TR-2026-040 -> TR-2026-041);
    None when the ID does not end in a number."""
    m = _TRAILING_NUMBER.match(code)
    if not m:
        return None
    prefix, digits = m.group(1), m.group(2)
    used = set(taken)
    n = int(digits) + 1
    while True:
        candidate = f"{prefix}{n:0{len(digits)}d}"
        if candidate not in used:
            return candidate
        n += 1


def already_exists(kind: str, label: str, code: str, name: str | None, taken: Iterable[str]) -> AlreadyExists:
    """The refusal of adding a record whose ID exists: names the record, proposes the next free ID."""
    suggestion = next_free_code(code, taken)
    what = kind.replace("_", " ")
    named = f" ({name})" if name else ""
    hint = f", or use {suggestion}" if suggestion else ", or choose another ID"
    return AlreadyExists(Problem(label, f"{what} {code} already exists{named}; open it to change it{hint}"),
                         kind=kind, code=code, suggestion=suggestion)


def find_partnership(s: Session, code: str | None) -> int:
    """The id of the partnership ``code`` names, or of the only one when ``code`` is None; NotFound (one
    line naming the known codes) otherwise. The reader and the services resolve a partnership this way."""
    if code:
        pid = s.execute(select(Partnership.id).where(Partnership.code == code)).scalar()
        if pid is None:
            known = ", ".join(s.execute(select(Partnership.code)).scalars()) or "none"
            raise NotFound(f"no partnership '{code}' (known: {known})")
        return pid
    rows = s.execute(select(Partnership.id, Partnership.code).order_by(Partnership.id)).all()
    if not rows:
        raise NotFound("the database holds no partnership yet; run `mou-tracker init`")
    if len(rows) > 1:
        raise NotFound("the database holds several partnerships; choose one with --partnership "
                       f"({', '.join(r.code for r in rows)})")
    return rows[0].id


class ServiceCore:
    """The session state behind ``Services``: one database, one actor and (once resolved) one partnership."""

    def __init__(
        self,
        db: Database,
        actor: str,
        *,
        partnership: str | None = None,
        read_only: bool = False,
        clock: Any = None,
    ) -> None:
        self.db = db
        self.actor = actor
        self.read_only = read_only
        self._partnership_code = partnership
        self._partnership_id: int | None = None
        self._country: str | None = None
        self._clock = clock
        self._uow: UnitOfWork | None = None

    # Units of work ------------------------------------------------------------------------------------------
    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A write transaction that rolls back unless ``commit()`` is called on it. Inside another one it is
        that one (nested: the outermost commits)."""
        if self._uow is not None:
            with self._uow as uow:
                yield uow
            return
        if self.read_only:
            raise PermissionDenied("this session is read-only: no change can be made")
        session = self.db.write_session()
        uow = UnitOfWork(session, AuditWriter(session, self.actor, self._clock), self._before_commit)
        with uow:
            self._check_may_write(session)
            self._uow = uow
            try:
                yield uow
            finally:
                self._uow = None

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A unit of work committed when the block completes without an exception (a batch: the demo, a
        sign-off); an exception rolls it all back."""
        with self.unit_of_work() as uow:
            yield uow
            uow.commit()

    def _before_commit(self, uow: UnitOfWork) -> None:
        """A change to a locked quarter's figures needs a reason and is recorded as a restatement."""
        from mou_tracker.services.signoff import record_restatements

        record_restatements(self, uow)  # type: ignore[arg-type]

    def _check_may_write(self, session: Session) -> None:
        role = session.execute(select(User.role).where(User.name == self.actor)).scalar_one_or_none()
        if role == "evaluator":
            raise PermissionDenied(f"{self.actor} is an evaluator: evaluators can read and verify, not change records")

    def role_of(self, name: str | None = None) -> str | None:
        with self.db.reading() as s:
            return s.execute(select(User.role).where(User.name == (name or self.actor))).scalar_one_or_none()

    def today(self) -> date:
        """Today (UTC), or the day of the service clock when one is set (the demo, tests)."""
        if self._clock is not None:
            return self._clock().astimezone(UTC).date()
        return datetime.now(UTC).date()

    # Partnership --------------------------------------------------------------------------------------------
    @property
    def partnership_id(self) -> int:
        if self._partnership_id is None:
            self._partnership_id = self._resolve_partnership()
        return self._partnership_id

    def _resolve_partnership(self) -> int:
        return self._look_up(self._resolve_in)

    def _look_up(self, read: Callable[[Session], T]) -> T:
        """``read(session)``: inside a write, in its transaction (it sees what the write has written)."""
        if self._uow is not None:
            return read(self._uow.session)
        with self.db.reading() as s:
            return read(s)

    def _resolve_in(self, s: Session) -> int:
        return find_partnership(s, self._partnership_code)

    @property
    def country(self) -> str:
        """The partnership's country (it decides what a county is: ``fields.for_country``)."""
        if self._country is None:
            pid = self.partnership_id
            self._country = self._look_up(lambda s: s.get_one(Partnership, pid).country)
        return self._country

    def local(self, fields: Sequence[Field]) -> tuple[Field, ...]:
        """``fields`` as this partnership takes them (``fields.for_country``)."""
        return for_country(fields, self.country)

    def locked_periods(self) -> set[str]:
        with self.db.reading() as s:
            return set(s.execute(select(PeriodLock.period).where(PeriodLock.partnership_id == self.partnership_id))
                       .scalars())

    # Lookups ------------------------------------------------------------------------------------------------
    def _find(self, uow: UnitOfWork, model: Any, code: str) -> Any:
        """The partnership's record of ``model`` with this ID, or None."""
        return uow.session.execute(select(model).where(model.partnership_id == self.partnership_id,
                                                       model.code == code)).scalar()

    def _get(self, uow: UnitOfWork, model: Any, code: str, kind: str) -> Any:
        """The record an update names; NotFound when there is none."""
        obj = self._find(uow, model, code)
        if obj is None:
            raise NotFound(f"no {kind.replace('_', ' ')} '{code}'")
        return obj

    @staticmethod
    def _refuse_taken_reference(uow: UnitOfWork, model: Any, kind: str, scope: Any, reference: str | None,
                                describe: Callable[[Any], str], own: Any = None) -> list[str]:
        """A record told apart by an optional Reference (a disbursement in its grant, a development in its
        partnership): adding one, or editing one (``own``) into a reference another record in ``scope`` holds, is
        refused, naming that record (``describe``).

        Returns the notes for the save: a new reference that differs from another record's only in capitals
        (references are compared exactly, as IDs are) is said, as for IDs, on a form, a command and an import
        row alike (an import matches disbursements by reference)."""
        if not reference:
            return []
        own_id = getattr(own, "id", None)
        same = uow.session.execute(select(model).where(scope, model.reference == reference)).scalars()
        taken = next((x for x in same if x.id != own_id), None)
        if taken is not None:
            raise AlreadyExists(Problem("Reference", f"{kind} {reference} already exists ({describe(taken)}); open "
                                                     "it to change it"), kind=kind, code=reference)
        if own is not None and own.reference == reference:
            return []  # kept as it was: said when it was given
        folded = reference.casefold()
        alike = select(model.id, model.reference).where(scope, model.reference.is_not(None))
        if reference.isascii():
            alike = alike.where(func.lower(model.reference) == reference.lower())
        others = sorted(r for i, r in uow.session.execute(alike).all()
                        if i != own_id and r != reference and r.casefold() == folded)
        return [f"Reference: '{reference}' differs from the stored '{other}' only in capitals; references are "
                f"compared exactly, so it is another {kind}" for other in others[:1]]

    def _refuse_taken(self, uow: UnitOfWork, model: Any, kind: str, label: str, code: str,
                      name_attr: str | Callable[[Any], str | None] = "title", scope: Any = None,
                      also: list[Problem] | None = None) -> list[str]:
        """Adding a record whose ID exists is refused, naming the existing record. The
        record's other problems (``also``) come with it, so that a form shows every problem at once.

        Returns the notes for the save: an ID that differs from a stored one only in capitals makes a record
        of its own (IDs are compared exactly), which is more often a slip of the keyboard than meant, so a
        form or a command says so. An import (a nested unit of work) notes these itself, for the whole
        sheet and before anything is written, so it gets none here."""
        where = scope if scope is not None else model.partnership_id == self.partnership_id
        existing = uow.session.execute(select(model).where(where, model.code == code)).scalar()
        if existing is None:
            if uow.nested:
                return []
            folded = code.casefold()
            # an ASCII ID is looked up by SQL lower() (exact for ASCII on both engines), not by reading every ID
            alike = select(model.code).where(where, func.lower(model.code) == code.lower()) if code.isascii() \
                else select(model.code).where(where)
            others = sorted(c for c in uow.session.execute(alike).scalars() if c.casefold() == folded)
            return [f"{label}: '{code}' differs from the stored '{other}' only in capitals; IDs are compared "
                    f"exactly, so it is a new {kind.replace('_', ' ')}" for other in others[:1]]
        taken = uow.session.execute(select(model.code).where(where)).scalars()
        name = name_attr(existing) if callable(name_attr) else getattr(existing, name_attr, None)
        refusal = already_exists(kind, label, code, name, taken)
        if also:
            refusal.problems += also
            refusal.args = ("; ".join(str(p) for p in refusal.problems),)
        raise refusal
