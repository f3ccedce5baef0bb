"""Two-party sign-off of a quarter's figures, period locks, and restatements (SPEC section 7).

Each party signs the figures as they stand (every indicator's target and actual for the quarter), tied to
the audit-chain head at that moment. The quarter locks when every party of the partnership has signed *the
same* figures: if the figures changed between the first and the second signature, the quarter does not lock
and the party whose signature is stale is told what changed and asked to sign again. ``period lock`` locks
a quarter directly.

Once locked, the figures recorded at the lock are the reported ones. Every write transaction is checked
before it commits (``record_restatements``, called by ``Services``): if it changes a locked quarter's
actuals it needs a categorised reason, and each changed figure is recorded as a ``Restatement`` (indicator,
quarter, reported -> restated value, when, who, why) through the audited path; the reports' Sign-off sheet
lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mou_tracker.db.models import Party, PeriodLock, PeriodSignoff, Restatement
from mou_tracker.domain.periods import PeriodError, Quarter
from mou_tracker.errors import NotFound, Problem, ReasonRequired, ValidationError
from mou_tracker.services.audit import Reason, canonical_json

if TYPE_CHECKING:
    from mou_tracker.services.indicators import IndicatorEngine
    from mou_tracker.services.programme import Services, UnitOfWork

#: kinds whose changes can never alter a quarter's figures (the restatement check skips transactions of only these)
_FIGURE_NEUTRAL = {"period_signoff", "period_lock", "restatement", "user", "party", "narrative"}


# Figures ----------------------------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    """A figure as `progress --format json` prints it: 2 not 2.00, 30.5, 14235.5."""
    from mou_tracker.services.indicators import json_number

    return None if value is None else str(json_number(value))


def quarter_figures(session: Session, partnership_id: int, quarter: Quarter,
                    engine: IndicatorEngine | None = None) -> dict[str, dict[str, str | None]]:
    """Every indicator's target and actual for the quarter: what a party signs, what a lock records."""
    from mou_tracker.services.indicators import IndicatorEngine

    progress = (engine or IndicatorEngine(session, partnership_id)).progress(quarter)
    return {f.code: {"target": _text(f.period_target), "actual": _text(f.period_actual)} for f in progress.indicators}


def _pack(figures: dict[str, dict[str, str | None]]) -> str:
    return canonical_json({"indicators": figures})


def _unpack(stored: str | None) -> dict[str, dict[str, str | None]]:
    if not stored:
        return {}
    try:
        data = json.loads(stored)
    except ValueError:
        return {}
    return data.get("indicators", {}) if isinstance(data, dict) else {}


def figure_changes(old: dict[str, dict[str, str | None]], new: dict[str, dict[str, str | None]],
                   what: tuple[str, ...] = ("target", "actual")) -> list[tuple[str, str, str | None, str | None]]:
    """(indicator, "target"|"actual", old, new) for each figure of ``old`` that differs in ``new``."""
    out = []
    for code, values in old.items():
        for key in what:
            before, after = values.get(key), new.get(code, {}).get(key)
            if code in new and before != after:
                out.append((code, key, before, after))
    return out


def _show(value: str | None) -> str:
    return "none" if value is None else value


def _describe_changes(changes: list[tuple[str, str, str | None, str | None]], limit: int = 4) -> str:
    parts = [f"{code}{'' if key == 'actual' else ' target'}: {_show(a)} -> {_show(b)}"
             for code, key, a, b in changes[:limit]]
    more = f", and {len(changes) - limit} more" if len(changes) > limit else ""
    return ", ".join(parts) + more


# Read side --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignoffView:
    party: str
    party_name: str
    actor: str
    signed_at: datetime
    comment: str | None
    chain_seq: int
    chain_head: str
    figures: dict[str, dict[str, str | None]]


@dataclass(frozen=True)
class LockView:
    locked_at: datetime
    actor: str
    reason: str | None
    figures: dict[str, dict[str, str | None]]


@dataclass(frozen=True)
class RestatementView:
    indicator_code: str
    period: str
    reported_value: str | None
    restated_value: str | None
    at: datetime
    actor: str
    reason_category: str | None
    reason_text: str | None
    event_seq: int | None

    @property
    def why(self) -> str:
        return ": ".join(x for x in (self.reason_category, self.reason_text) if x)


@dataclass(frozen=True)
class PeriodStatus:
    """Everything a report's Sign-off sheet shows for a quarter."""

    period: Quarter
    parties: list[tuple[str, str]]  # (code, name) of every party of the partnership
    signoffs: list[SignoffView]
    lock: LockView | None
    #: restatements of this quarter and every earlier one, oldest first
    restatements: list[RestatementView] = field(default_factory=list)

    @property
    def pending(self) -> list[str]:
        signed = {s.party for s in self.signoffs}
        return [code for code, _ in self.parties if code not in signed]

    def lines(self) -> list[str]:
        out = [f"{self.period}: " + (f"locked on {self.lock.locked_at:%Y-%m-%d %H:%M} UTC by {self.lock.actor}"
                                     f"{f' ({self.lock.reason})' if self.lock.reason else ''}" if self.lock
                                     else "not locked")]
        for s in self.signoffs:
            out.append(f"  signed by {s.party_name} ({s.party.upper()}): {s.actor} at {s.signed_at:%Y-%m-%d %H:%M} "
                       f"UTC, chain head {s.chain_head} (event #{s.chain_seq})"
                       + (f": {s.comment}" if s.comment else ""))
        for code in self.pending:
            out.append(f"  not yet signed by {code.upper()}")
        for r in self.restatements:
            out.append(f"  restated {r.indicator_code} {r.period}: {_show(r.reported_value)} -> "
                       f"{_show(r.restated_value)} on {r.at:%Y-%m-%d %H:%M} UTC by {r.actor} ({r.why})")
        return out


def restatements(session: Session, partnership_id: int, upto: Quarter | None = None) -> list[RestatementView]:
    """Restatements of the partnership's locked quarters (up to ``upto``), oldest first."""
    rows = session.execute(select(Restatement).where(Restatement.partnership_id == partnership_id)
                           .order_by(Restatement.at, Restatement.id)).scalars()
    return [RestatementView(r.indicator_code, r.period, r.reported_value, r.restated_value, r.at, r.actor,
                            r.reason_category, r.reason_text, r.event_seq)
            for r in rows if upto is None or Quarter.parse(r.period) <= upto]


def period_status(session: Session, partnership_id: int, quarter: Quarter | str) -> PeriodStatus:
    q = Quarter.parse(str(quarter))
    parties = [(p.code, p.name) for p in session.execute(select(Party).where(Party.partnership_id == partnership_id)
                                                         .order_by(Party.code)).scalars()]
    names = dict(parties)
    signoffs = [SignoffView(s.party, names.get(s.party, s.party.upper()), s.actor, s.signed_at, s.comment,
                            s.chain_seq, s.chain_head, _unpack(s.figures))
                for s in session.execute(select(PeriodSignoff).where(PeriodSignoff.partnership_id == partnership_id,
                                                                     PeriodSignoff.period == str(q))
                                         .order_by(PeriodSignoff.signed_at, PeriodSignoff.id)).scalars()]
    lock = session.execute(select(PeriodLock).where(PeriodLock.partnership_id == partnership_id,
                                                    PeriodLock.period == str(q))).scalar()
    return PeriodStatus(q, parties, signoffs,
                        None if lock is None else LockView(lock.locked_at, lock.actor, lock.reason,
                                                           _unpack(lock.figures)),
                        restatements(session, partnership_id, q))


# Writes -----------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What a sign-off or lock did, as lines for the CLI and the UI."""

    period: Quarter
    locked: bool
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return self.messages + [f"note: {w}" for w in self.warnings]


def _now(services: Services) -> datetime:
    clock = getattr(services, "_clock", None)
    return clock() if clock else datetime.now(UTC)


def _ended(services: Services, q: Quarter, what: str) -> None:
    today = _now(services).date()
    if q > Quarter.latest_ended(today):
        raise ValidationError(Problem("Period", f"{q} has not ended yet (it ends {q.end}); {what} a quarter once "
                                                "it is over"))


def _parse_quarter(quarter: Quarter | str) -> Quarter:
    try:
        return Quarter.parse(str(quarter))
    except PeriodError as exc:
        raise ValidationError(Problem("Period", str(exc))) from exc


def _lock_row(uow: UnitOfWork, pid: int, q: Quarter) -> PeriodLock | None:
    return uow.session.execute(select(PeriodLock).where(PeriodLock.partnership_id == pid,
                                                        PeriodLock.period == str(q))).scalar()


def _create_lock(services: Services, uow: UnitOfWork, pid: int, q: Quarter, reason: str,
                 figures: dict[str, dict[str, str | None]], audit_reason: Reason | None) -> PeriodLock:
    lock = PeriodLock(partnership_id=pid, period=str(q), locked_at=_now(services), actor=services.actor,
                      reason=reason, figures=_pack(figures))
    services._create(uow, "period_lock", lock, str(q), pid, audit_reason)
    uow.locked.pop(pid, None)  # the lock cache of this transaction is stale now
    return lock


def sign_off(services: Services, quarter: Quarter | str, party: str, comment: str | None = None) -> Outcome:
    """Record ``party``'s sign-off of the quarter's figures as they stand; lock the quarter when every party
    has signed the same figures."""
    q = _parse_quarter(quarter)
    party = party.strip().lower()
    comment = comment.strip() if comment and comment.strip() else None
    _ended(services, q, "sign off")
    with services.transaction() as uow:
        head = uow.audit._lock_and_read_head()  # appends are serialised from here: the figures are the head's
        pid = services.partnership_id
        s = uow.session
        parties = {p.code: p.name for p in s.execute(select(Party).where(Party.partnership_id == pid)).scalars()}
        if party not in parties:
            raise NotFound(f"no party '{party}' in this partnership (parties: {', '.join(sorted(parties))})")
        figures = quarter_figures(s, pid, q)
        now = _now(services)
        ref = f"{party}@{q}"
        values = {"actor": services.actor, "signed_at": now, "comment": comment, "chain_seq": head.seq,
                  "chain_head": head.hash, "figures": _pack(figures)}
        existing = s.execute(select(PeriodSignoff).where(PeriodSignoff.partnership_id == pid,
                                                         PeriodSignoff.period == str(q),
                                                         PeriodSignoff.party == party)).scalar()
        if existing is None:
            services._create(uow, "period_signoff", PeriodSignoff(partnership_id=pid, period=str(q), party=party,
                                                                  **values), ref, pid)
        else:
            services._update(uow, "period_signoff", existing, values, ref, pid, None)
        name = parties[party]
        outcome = Outcome(q, False, [f"{name} ({party.upper()}) signed off {q} as {services.actor} at "
                                     f"{now:%Y-%m-%d %H:%M} UTC, chain head {head.hash} (event #{head.seq})."])
        signoffs = {x.party: x for x in s.execute(select(PeriodSignoff).where(PeriodSignoff.partnership_id == pid,
                                                                              PeriodSignoff.period == str(q)))
                    .scalars()}
        others = [x for code, x in signoffs.items() if code != party]
        for other in others:
            if other.actor == services.actor:
                outcome.warnings.append(f"{services.actor} also signed for {other.party.upper()}: a two-party "
                                        "sign-off means most when each party signs through its own person")
        lock = _lock_row(uow, pid, q)
        if lock is not None:
            outcome.locked = True
            outcome.messages.append(f"{q} was already locked (on {lock.locked_at:%Y-%m-%d} by {lock.actor}).")
            return outcome
        waiting = [code for code in sorted(parties) if code not in signoffs]
        if waiting:
            outcome.messages.append(f"Waiting for {', '.join(c.upper() for c in waiting)} to sign off {q}; it "
                                    "locks when every party has signed the same figures.")
            return outcome
        stale = [(x, figure_changes(_unpack(x.figures), figures)) for x in others]
        stale = [(x, changes) for x, changes in stale if changes]
        if stale:
            for x, changes in stale:
                outcome.messages.append(
                    f"Not locked: {x.party.upper()} signed different figures on {x.signed_at:%Y-%m-%d %H:%M} UTC; "
                    f"since then {_describe_changes(changes)}. {x.party.upper()} needs to sign off again.")
            return outcome
        who = " and ".join(f"{code.upper()} ({signoffs[code].actor})" for code in sorted(signoffs))
        _create_lock(services, uow, pid, q, f"signed off by {who}", figures, None)
        outcome.locked = True
        outcome.messages.append(f"Every party has signed the same figures: {q} is now locked.")
        return outcome


def lock_period(services: Services, quarter: Quarter | str, reason: str) -> Outcome:
    """Lock a quarter directly, recording its figures as the reported ones."""
    q = _parse_quarter(quarter)
    if not reason or not reason.strip():
        raise ValidationError(Problem("Reason", "locking a quarter needs a few words of explanation"))
    _ended(services, q, "lock")
    with services.transaction() as uow:
        head = uow.audit._lock_and_read_head()
        pid = services.partnership_id
        existing = _lock_row(uow, pid, q)
        if existing is not None:
            return Outcome(q, True, [f"{q} is already locked (since {existing.locked_at:%Y-%m-%d %H:%M} UTC, by "
                                     f"{existing.actor}); nothing changed."])
        figures = quarter_figures(uow.session, pid, q)
        lock = _create_lock(services, uow, pid, q, reason.strip(), figures, Reason.parse(reason))
        return Outcome(q, True, [f"{q} locked by {services.actor} at {lock.locked_at:%Y-%m-%d %H:%M} UTC, chain "
                                 f"head {head.hash} (event #{head.seq}). Later changes to its figures need a "
                                 "reason and are reported as restatements."])


# The check before every commit -------------------------------------------------------------------------------------
def _baseline(session: Session, lock: PeriodLock) -> dict[str, dict[str, str | None]]:
    """The figures last reported for a locked quarter: those recorded at the lock, as restated since."""
    figures = {code: dict(values) for code, values in _unpack(lock.figures).items()}
    for r in session.execute(select(Restatement).where(Restatement.partnership_id == lock.partnership_id,
                                                       Restatement.period == lock.period)
                             .order_by(Restatement.id)).scalars():
        figures.setdefault(r.indicator_code, {})["actual"] = r.restated_value
    return figures


def record_restatements(services: Services, uow: UnitOfWork) -> None:
    """Before a write transaction commits: if it changed the actuals of a locked quarter, demand a reason and
    record each changed figure as a restatement (audited, in the same transaction)."""
    audit = uow.audit
    if not audit.written or audit._head is None:
        return
    s = uow.session
    first = audit._head.seq - audit.written + 1
    rows = s.execute(text("SELECT DISTINCT partnership_id, entity_kind FROM audit_event WHERE seq >= :first"),
                     {"first": first}).all()
    pids = sorted({pid for pid, kind in rows if pid is not None and kind not in _FIGURE_NEUTRAL})
    if not pids:
        return
    found: list[tuple[int, Quarter, list[tuple[str, str, str | None, str | None]]]] = []
    from mou_tracker.services.indicators import IndicatorEngine

    for pid in pids:
        locks = s.execute(select(PeriodLock).where(PeriodLock.partnership_id == pid)).scalars().all()
        engine = IndicatorEngine(s, pid) if locks else None  # one engine: its series serve every locked quarter
        for lock in locks:
            q = Quarter.parse(lock.period)
            changes = figure_changes(_baseline(s, lock), quarter_figures(s, pid, q, engine), ("actual",))
            if changes:
                found.append((pid, q, changes))
    if not found:
        return
    row = s.execute(text("SELECT reason_category, reason_text FROM audit_event WHERE seq >= :first AND "
                         "reason_category IS NOT NULL ORDER BY seq DESC LIMIT 1"), {"first": first}).first()
    if row is None:
        detail = "; ".join(f"{q}: {_describe_changes(changes)}" for _, q, changes in found)
        raise ReasonRequired(Problem("Reason", f"this change alters the figures of locked quarter(s) ({detail}); it "
                                               "needs a reason (category and text) and is recorded as a restatement"))
    reason = Reason(row[0], row[1] or "")
    seq = audit._head.seq
    now = _now(services)
    for pid, q, changes in found:
        for code, _key, before, after in changes:
            services._create(uow, "restatement", Restatement(
                partnership_id=pid, indicator_code=code, period=str(q), reported_value=before, restated_value=after,
                at=now, actor=services.actor, reason_category=reason.category, reason_text=reason.text,
                event_seq=seq), f"{code}@{q}", pid, reason)
