"""Sign-offs, locks and restatements, read (`period status`, `period certificate`, the reports' Sign-off
sheet, the audit workbook's Sign-offs, Locks and Restatements sheets)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mou_tracker.db.models import Party, PeriodLock, PeriodSignoff, Restatement, User
from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import Lock, PeriodStatus, Signoff
from mou_tracker.read.views import Restatement as RestatementView


def unpack_figures(stored: str | None) -> dict[str, dict[str, str | None]]:
    """The figures a sign-off or lock recorded ({"indicators": {...}} as canonical JSON)."""
    if not stored:
        return {}
    try:
        data = json.loads(stored)
    except ValueError:
        return {}
    return data.get("indicators", {}) if isinstance(data, dict) else {}


def check_signature(session: Session, row: Any) -> tuple[bool | None, str | None]:
    """Does the stored signature check against the stored message and the signer's registered key?"""
    from mou_tracker.services import sshsig

    if not row.signature or not row.message:
        return None, None
    registered = session.execute(select(User.public_key).where(User.name == row.actor)).scalar()
    key = row.public_key or registered
    if key is None:
        return False, f"{row.actor} has no registered key"
    checked = sshsig.verify(row.signature, row.message.encode("utf-8"), key)
    if not checked.ok:
        return False, checked.problem
    return True, None


def _scoped(stmt: Any, model: Any, pid: int | None) -> Any:
    return stmt if pid is None else stmt.where(model.partnership_id == pid)


def signoffs(session: Session, pid: int | None, period: Quarter | None = None) -> tuple[Signoff, ...]:
    """Sign-offs of one quarter (in signing order), or of every quarter (by period); ``pid`` None: of every
    partnership."""
    names = {(p.partnership_id, p.code): p.name for p in session.execute(_scoped(select(Party), Party, pid)).scalars()}
    stmt = _scoped(select(PeriodSignoff), PeriodSignoff, pid)
    if period is not None:
        stmt = stmt.where(PeriodSignoff.period == str(period))
    rows = session.execute(stmt.order_by(PeriodSignoff.period, PeriodSignoff.signed_at, PeriodSignoff.id)).scalars()
    out = []
    for s in rows:
        ok, problem = check_signature(session, s)
        out.append(Signoff(s.period, s.party, names.get((s.partnership_id, s.party), s.party.upper()), s.actor,
                           s.signed_at, s.comment, s.chain_seq, s.chain_head, unpack_figures(s.figures),
                           s.key_fingerprint, ok, problem, s.message, s.signature, s.public_key))
    return tuple(out)


def locks(session: Session, pid: int | None, period: Quarter | None = None) -> tuple[Lock, ...]:
    stmt = _scoped(select(PeriodLock), PeriodLock, pid)
    if period is not None:
        stmt = stmt.where(PeriodLock.period == str(period))
    return tuple(Lock(x.period, x.locked_at, x.actor, x.reason, unpack_figures(x.figures))
                 for x in session.execute(stmt.order_by(PeriodLock.period, PeriodLock.id)).scalars())


def restatements(session: Session, pid: int | None, upto: Quarter | None = None) -> tuple[RestatementView, ...]:
    """Restatements of locked quarters (up to ``upto``), oldest first."""
    rows = session.execute(_scoped(select(Restatement), Restatement, pid)
                           .order_by(Restatement.at, Restatement.id)).scalars()
    return tuple(RestatementView(r.indicator_code, r.period, r.reported_value, r.restated_value, r.at, r.actor,
                                 r.reason_category, r.reason_text, r.event_seq)
                 for r in rows if upto is None or Quarter.parse(r.period) <= upto)


def period_status(session: Session, pid: int, quarter: Quarter | str) -> PeriodStatus:
    q = Quarter.parse(str(quarter))
    parties = tuple((p.code, p.name) for p in session.execute(select(Party).where(Party.partnership_id == pid)
                                                              .order_by(Party.code)).scalars())
    lock = locks(session, pid, q)
    return PeriodStatus(q, parties, signoffs(session, pid, q), lock[0] if lock else None,
                        restatements(session, pid, q))
