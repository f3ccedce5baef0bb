"""Two-party sign-off of a quarter's figures, period locks, and restatements (docs/reference/audit-and-signoff.md).

Each party signs the figures as they stand (every indicator's target and actual for the quarter), tied to
the audit-chain head at that moment. The quarter locks when every party of the partnership has signed *the
same* figures: if the figures changed between the first and the second signature, the quarter does not lock
and the party whose signature is stale is told what changed and asked to sign again. ``period lock`` locks
a quarter directly.

Who may sign: a registered signatory of the party, with a registered OpenSSH Ed25519 key,
signing with the matching private key: the canonical JSON of {partnership, period, party, signer,
signed_at, chain_seq, chain_head, figures} is signed as SSHSIG (namespace ``mou-tracker-signoff``) and
stored with the signature, so ``period certificate`` can hand both to anyone with ``ssh-keygen``. The two
parties' sign-offs of one quarter come from two different people.

Once locked, the figures recorded at the lock are the reported ones. Every write transaction is checked
before it commits (``record_restatements``, called by ``Services``): if it changes a locked quarter's
actuals it needs a categorised reason, and each changed figure is recorded as a ``Restatement`` (indicator,
quarter, reported -> restated value, when, who, why) through the audited path; the reports' Sign-off sheet
lists them. The read side (``period status``, the certificate's sign-offs) is ``mou_tracker.read``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mou_tracker.db.models import Partnership, Party, PeriodLock, PeriodSignoff, Restatement, User
from mou_tracker.domain.periods import PeriodError, Quarter
from mou_tracker.errors import NotFound, PermissionDenied, Problem, ReasonRequired, ValidationError
from mou_tracker.read.status import unpack_figures
from mou_tracker.services import sshsig
from mou_tracker.services.audit import Reason, canonical_json, canonical_value
from mou_tracker.services.funder import refuse_unexplained

if TYPE_CHECKING:
    from mou_tracker.read.views import Signoff
    from mou_tracker.services.indicators import IndicatorEngine
    from mou_tracker.services.programme import Services, UnitOfWork

#: kinds whose changes can never alter a quarter's figures (the restatement check skips transactions of only these)
_FIGURE_NEUTRAL = {"period_signoff", "period_lock", "restatement", "user", "party", "narrative", "baseline",
                   "development", "commitment"}


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


def _same_key(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.split()[:2] == b.split()[:2]


def check_signoff_event(values: dict[str, Any], keys: dict[str, str | None]) -> str | None:
    """What is wrong with a sign-off as the trail records it (its values, and the keys registered per user at
    that point of the trail); None when it checks or was recorded before sign-offs were signed."""
    message, signature = values.get("message"), values.get("signature")
    if not message and not signature:
        return None
    signer = values.get("actor")
    registered = keys.get(signer) if signer else None
    if registered is None:
        return f"{signer} had no registered key when it was signed"
    if not _same_key(values.get("public_key"), registered):
        return f"it names a key that was not the one registered for {signer} at the time"
    checked = sshsig.verify(signature or "", str(message).encode("utf-8"), registered)
    if not checked.ok:
        return f"the signature does not check: {checked.problem}"
    try:
        signed = json.loads(message)
    except ValueError:
        return "the signed message is not JSON"
    for key in ("party", "period", "chain_seq", "chain_head"):
        if key in values and signed.get(key) != values.get(key):
            return f"the signed message says {key} {signed.get(key)!r}, the record {values.get(key)!r}"
    if signed.get("signer") != signer:
        return f"the signed message names {signed.get('signer')!r} as signer, the record {signer!r}"
    return None


def signoff_message(partnership: str, q: Quarter, party: str, signer: str, signed_at: datetime, chain_seq: int,
                    chain_head: str, figures: dict[str, dict[str, str | None]]) -> str:
    """What a party signs: canonical JSON (sorted keys, compact, UTF-8)."""
    return canonical_json({"partnership": partnership, "period": str(q), "party": party, "signer": signer,
                           "signed_at": canonical_value(signed_at), "chain_seq": chain_seq, "chain_head": chain_head,
                           "figures": figures})


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


def registered_user(session: Session, name: str) -> User | None:
    return session.execute(select(User).where(User.name == name)).scalar()


def require_admin(session: Session, actor: str, what: str) -> User:
    user = registered_user(session, actor)
    if user is None:
        raise PermissionDenied(f"{actor} is not a registered user: only an admin can {what}")
    if user.role != "admin":
        raise PermissionDenied(f"{actor} is {'an' if user.role[0] in 'aeiou' else 'a'} {user.role}: only an admin "
                               f"can {what}")
    return user


def _create_lock(services: Services, uow: UnitOfWork, pid: int, q: Quarter, reason: str,
                 figures: dict[str, dict[str, str | None]], audit_reason: Reason | None) -> PeriodLock:
    lock = PeriodLock(partnership_id=pid, period=str(q), locked_at=_now(services), actor=services.actor,
                      reason=reason, figures=_pack(figures))
    uow.create("period_lock", lock, str(q), pid, audit_reason)
    uow.locked.pop(pid, None)  # the lock cache of this transaction is stale now
    return lock


def _may_sign(session: Session, actor: str, party: str) -> User:
    user = registered_user(session, actor)
    if user is None:
        raise PermissionDenied(f"{actor} is not a registered user: only a registered signatory of "
                               f"{party.upper()} may sign off (an admin registers one with `user add {actor} "
                               f"--role manager --party {party} --signatory`)")
    if user.role == "evaluator":
        raise PermissionDenied(f"{actor} is an evaluator: evaluators can read and verify, not sign off")
    if (user.party or "").lower() != party or not user.signatory:
        raise PermissionDenied(f"{actor} is not a signatory of {party.upper()}: only a user registered with "
                               f"--party {party} --signatory may sign off for it")
    if not user.public_key:
        raise PermissionDenied(f"{actor} has no registered public key: register it first with `user key {actor} "
                               "FILE.pub`")
    return user


def sign_off(services: Services, quarter: Quarter | str, party: str, comment: str | None = None, *,
             key: Any) -> Outcome:
    """Record ``party``'s signed sign-off of the quarter's figures as they stand; lock the quarter when every
    party has signed the same figures. ``key`` is the signer's OpenSSH Ed25519 private key: a file path or an
    ``Ed25519PrivateKey``; it is used for this one signature and never stored."""
    q = _parse_quarter(quarter)
    party = party.strip().lower()
    comment = comment.strip() if comment and comment.strip() else None
    private = key if hasattr(key, "sign") else sshsig.load_private_key(key)
    _ended(services, q, "sign off")
    with services.transaction() as uow:
        s = uow.session
        head = uow.audit.lock_chain()  # appends are serialised from here: the figures are the head's
        pid = services.partnership_id
        parties = {p.code: p.name for p in s.execute(select(Party).where(Party.partnership_id == pid)).scalars()}
        if party not in parties:
            raise NotFound(f"no party '{party}' in this partnership (parties: {', '.join(sorted(parties))})")
        user = _may_sign(s, services.actor, party)
        if sshsig.public_line(private.public_key()) != " ".join((user.public_key or "").split()[:2]):
            raise PermissionDenied(f"the private key given is not the one registered for {services.actor} "
                                   f"({user.key_fingerprint}); sign with your own registered key")
        refuse_unexplained(s, pid, q)  # every deviation from target explained first (docs: audit-and-signoff.md)
        signoffs = {x.party: x for x in s.execute(select(PeriodSignoff).where(PeriodSignoff.partnership_id == pid,
                                                                              PeriodSignoff.period == str(q)))
                    .scalars()}
        for other in signoffs.values():
            if other.party != party and other.actor == services.actor:
                raise PermissionDenied(f"{services.actor} already signed {q} off for {other.party.upper()}: the two "
                                       "parties' sign-offs must come from two different people")
        figures = quarter_figures(s, pid, q)
        now = _now(services)
        code = s.execute(select(Partnership.code).where(Partnership.id == pid)).scalar_one()
        message = signoff_message(code, q, party, services.actor, now, head.seq, head.hash, figures)
        signature = sshsig.sign(private, message.encode("utf-8"))
        checked = sshsig.verify(signature, message.encode("utf-8"), user.public_key or "")
        if not checked.ok:  # cannot happen with a key that matched; never store a signature that does not check
            raise PermissionDenied(f"the signature could not be checked against {services.actor}'s key: "
                                   f"{checked.problem}")
        ref = f"{party}@{q}"
        values = {"actor": services.actor, "signed_at": now, "comment": comment, "chain_seq": head.seq,
                  "chain_head": head.hash, "figures": _pack(figures), "message": message, "signature": signature,
                  "public_key": " ".join((user.public_key or "").split()[:2]),
                  "key_fingerprint": user.key_fingerprint}
        existing = signoffs.get(party)
        if existing is None:
            existing = PeriodSignoff(partnership_id=pid, period=str(q), party=party, **values)
            uow.create("period_signoff", existing, ref, pid)
            signoffs[party] = existing
        else:
            uow.update("period_signoff", existing, values, ref, pid, None)
        name = parties[party]
        outcome = Outcome(q, False, [f"{name} ({party.upper()}) signed off {q} as {services.actor} with key "
                                     f"{user.key_fingerprint} at {now:%Y-%m-%d %H:%M} UTC, chain head {head.hash} "
                                     f"(event #{head.seq})."])
        others = [x for c, x in signoffs.items() if c != party]
        lock = _lock_row(uow, pid, q)
        if lock is not None:
            outcome.locked = True
            outcome.messages.append(f"{q} was already locked (on {lock.locked_at:%Y-%m-%d} by {lock.actor}).")
            return outcome
        waiting = [c for c in sorted(parties) if c not in signoffs]
        if waiting:
            outcome.messages.append(f"Waiting for {', '.join(c.upper() for c in waiting)} to sign off {q}; it "
                                    "locks when every party has signed the same figures.")
            return outcome
        stale = [(x, figure_changes(unpack_figures(x.figures), figures)) for x in others]
        stale = [(x, changes) for x, changes in stale if changes]
        if stale:
            for x, changes in stale:
                outcome.messages.append(
                    f"Not locked: {x.party.upper()} signed different figures on {x.signed_at:%Y-%m-%d %H:%M} UTC; "
                    f"since then {_describe_changes(changes)}. {x.party.upper()} needs to sign off again.")
            return outcome
        who = " and ".join(f"{c.upper()} ({signoffs[c].actor})" for c in sorted(signoffs))
        _create_lock(services, uow, pid, q, f"signed off by {who}", figures, None)
        outcome.locked = True
        outcome.messages.append(f"Every party has signed the same figures: {q} is now locked.")
        return outcome


def write_certificate(signoffs: Iterable[Signoff], quarter: Quarter | str, folder: Path | str, *,
                      db_file: Path | None = None) -> list[Path]:
    """``DIR/<party>.json`` (the exact bytes signed), ``DIR/<party>.json.sig`` (SSHSIG) for each of the
    quarter's sign-offs (``Reader.period_status(q).signoffs``) and ``DIR/allowed_signers``, so that
    ``ssh-keygen -Y verify`` checks the sign-off with no mou-tracker. Never writes over ``db_file``."""
    from mou_tracker.outputs import write_atomic

    q = _parse_quarter(quarter)
    out = Path(folder).expanduser()
    if out.exists() and not out.is_dir():
        raise ValidationError(Problem("--output", f"{out} is a file; give a folder for the certificate"))
    signed = sorted((r for r in signoffs if r.message and r.signature and r.public_key), key=lambda r: r.party)
    if not signed:
        raise NotFound(f"{q} has no signed sign-off yet: nothing to certify")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    lines = []
    for r in signed:
        assert r.message is not None and r.signature is not None and r.public_key is not None
        written.append(write_atomic(out / f"{r.party}.json", r.message.encode("utf-8"), db_file=db_file))
        written.append(write_atomic(out / f"{r.party}.json.sig", r.signature, db_file=db_file))
        line = sshsig.allowed_signers_line(r.actor, r.public_key)
        if line not in lines:
            lines.append(line)
    written.append(write_atomic(out / "allowed_signers", "\n".join(lines) + "\n", db_file=db_file))
    return written


def lock_period(services: Services, quarter: Quarter | str, reason: str) -> Outcome:
    """Lock a quarter directly, recording its figures as the reported ones."""
    q = _parse_quarter(quarter)
    if not reason or not reason.strip():
        raise ValidationError(Problem("Reason", "locking a quarter needs a few words of explanation"))
    _ended(services, q, "lock")
    with services.transaction() as uow:
        head = uow.audit.lock_chain()
        require_admin(uow.session, services.actor, "lock a quarter")
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
    figures = {code: dict(values) for code, values in unpack_figures(lock.figures).items()}
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
            uow.create("restatement", Restatement(
                partnership_id=pid, indicator_code=code, period=str(q), reported_value=before, restated_value=after,
                at=now, actor=services.actor, reason_category=reason.category, reason_text=reason.text,
                event_seq=seq), f"{code}@{q}", pid, reason)
