"""What a progress report shows, read once from one session (the live database, or the state rebuilt from
the audit trail for an as-of date) into frozen dataclasses; the sheets are written from these alone.

Indicator figures come from ``IndicatorEngine`` and grant figures from ``finance.grant_figures``: nothing here
recomputes them. The lists (trainings, engagements, milestones, ...) and the breakdowns by sex, agency and
type are read-side queries; tests check that the breakdowns add up to the engine's totals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database
from mou_tracker.db.guards import GENESIS_HASH
from mou_tracker.db.models import (
    Attendance,
    AuditEvent,
    Disbursement,
    Engagement,
    Grant,
    Milestone,
    Participant,
    Partnership,
    Party,
    PeriodLock,
    PeriodSignoff,
    Restatement,
    Training,
)
from mou_tracker.domain import codes
from mou_tracker.domain.periods import Quarter, fiscal_label, fiscal_year_and_quarter, quarter_range
from mou_tracker.errors import NotFound
from mou_tracker.services.finance import GrantFigures, grant_figures
from mou_tracker.services.history import end_of_day_utc, from_canonical
from mou_tracker.services.indicators import Figures, IndicatorEngine, Progress
from mou_tracker.services.programme import MILESTONE_FIELDS

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


@lru_cache(maxsize=4096)
def _fiscal_label(quarter: Quarter, start_month: int, style: str) -> str:
    return fiscal_label(quarter, start_month, style)


@lru_cache(maxsize=65536)
def quarter_of(day: date) -> Quarter:
    return Quarter.of(day)


@dataclass(frozen=True)
class PartyProfile:
    """A party as its reports present the programme: its fiscal calendar and currency (from the database)."""

    code: str
    name: str
    fiscal_start_month: int
    fiscal_label_style: str
    currency: str

    def label(self, quarter: Quarter) -> str:
        return _fiscal_label(quarter, self.fiscal_start_month, self.fiscal_label_style)

    def fiscal_year_start(self, quarter: Quarter) -> Quarter:
        """The first calendar quarter of the party's fiscal year that ``quarter`` falls in."""
        _year, fq = fiscal_year_and_quarter(quarter, self.fiscal_start_month)
        for _ in range(fq - 1):
            quarter = quarter.prev()
        return quarter

    @property
    def calendar(self) -> str:
        example = self.label(Quarter(2025, 3))
        return f"fiscal year starting 1 {MONTHS[self.fiscal_start_month - 1]} (2025-Q3 = {example})"


@dataclass(frozen=True)
class ChainHead:
    """The audit chain's head at the report's as-of time: how many events, and the last one's hash."""

    events: int
    seq: int
    hash: str
    at: datetime | None


@dataclass(frozen=True)
class IndicatorDefinition:
    code: str
    name: str
    unit: str
    kind: str
    manual: bool
    higher_is_better: bool
    band_low: Decimal
    band_high: Decimal
    definition: str | None
    data_source: str | None
    how_computed: str | None
    disaggregations: str | None


@dataclass(frozen=True)
class TrainingLine:
    code: str
    title: str
    topic: str
    start_date: date
    end_date: date
    county: str
    venue: str | None
    delivery: str | None
    lead: str | None
    cost: Decimal | None
    currency: str | None
    participants: int = 0
    women: int = 0
    men: int = 0
    by_agency: tuple[int, ...] = ()
    scored: int = 0


@dataclass(frozen=True)
class SexAgencyCounts:
    """People newly trained (first training ending in the period / to date), for one agency."""

    agency: str
    women_period: int
    men_period: int
    women_to_date: int
    men_to_date: int


@dataclass(frozen=True)
class EngagementLine:
    code: str
    date: date
    type: str
    county: str
    case_ref: str | None
    hours: Decimal
    hti_advisor: str | None
    odpp_counterpart: str | None
    summary: str | None


@dataclass(frozen=True)
class TypeTotals:
    type: str
    count_period: int
    hours_period: Decimal
    count_to_date: int
    hours_to_date: Decimal


@dataclass(frozen=True)
class MilestoneLine:
    code: str
    title: str
    workstream: str | None
    owner: str | None
    original_due_date: date
    due_date: date
    status: str
    completed_on: date | None
    evidence: str | None
    evidence_sha256: str | None

    @property
    def slippage_days(self) -> int:
        return (self.due_date - self.original_due_date).days

    @property
    def completed_vs_original_days(self) -> int | None:
        return (self.completed_on - self.original_due_date).days if self.completed_on else None

    def overdue_at(self, day: date) -> bool:
        return self.status not in (codes.COMPLETED, codes.CANCELLED) and self.due_date < day


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    seq: int
    milestone: str | None
    action: str
    field: str
    old: Any
    new: Any
    actor: str
    reason_category: str | None
    reason_text: str | None


@dataclass(frozen=True)
class DisbursementLine:
    grant: str
    date: date
    reference: str | None
    amount: Decimal
    currency: str
    rate: Decimal | None
    amount_grant: Decimal


@dataclass(frozen=True)
class SignoffLine:
    period: str
    party: str
    actor: str
    signed_at: datetime
    comment: str | None
    chain_seq: int
    chain_head: str
    #: the signer's key (SHA256 fingerprint) and whether the SSHSIG signature checks against it
    key_fingerprint: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class LockLine:
    locked_at: datetime
    actor: str
    reason: str | None


@dataclass(frozen=True)
class RestatementLine:
    period: str
    indicator: str
    reported: str | None
    restated: str | None
    reason_text: str | None
    at: datetime
    actor: str
    reason_category: str | None


@dataclass(frozen=True)
class ParticipantLine:
    training: str
    training_end: date
    name: str
    sex: str
    agency: str
    role: str | None
    staff_number: str | None
    pre_score: Decimal | None
    post_score: Decimal | None


@dataclass(frozen=True)
class ReportData:
    partnership_code: str
    partnership_name: str
    country: str
    partnership_start: date
    partnership_end: date | None
    party: PartyProfile
    parties: tuple[PartyProfile, ...]
    period: Quarter
    as_of: date | None
    chain: ChainHead
    #: quarters shown in the tracking table: from the partnership's first quarter to the report's period
    quarters: tuple[Quarter, ...]
    progress: dict[Quarter, Progress]
    definitions: tuple[IndicatorDefinition, ...]
    grants: tuple[GrantFigures, ...]
    trainings: tuple[TrainingLine, ...] = ()
    newly_trained: tuple[SexAgencyCounts, ...] = ()
    engagements: tuple[EngagementLine, ...] = ()
    engagement_types: tuple[TypeTotals, ...] = ()
    milestones: tuple[MilestoneLine, ...] = ()
    history: tuple[HistoryLine, ...] = ()
    disbursements: tuple[DisbursementLine, ...] = ()
    signoffs: tuple[SignoffLine, ...] = ()
    lock: LockLine | None = None
    restatements: tuple[RestatementLine, ...] = ()
    participants: tuple[ParticipantLine, ...] | None = None

    @property
    def figures(self) -> dict[str, Figures]:
        return self.progress[self.period].by_code()

    def figures_at(self, code: str, quarter: Quarter) -> Figures | None:
        return self.progress[quarter].by_code().get(code)


def chain_head(db: Database, as_of: date | None) -> ChainHead:
    """The last audit event before the end of the as-of day (or the current head).

    Events are numbered 1, 2, 3... without gaps, so the head's number is the number of events up to it;
    `audit verify` is what proves that no event was removed or inserted.
    """
    with db.reading() as s:
        stmt = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at).order_by(AuditEvent.seq.desc()).limit(1)
        if as_of is not None:
            stmt = stmt.where(AuditEvent.occurred_at < end_of_day_utc(as_of))
        head = s.execute(stmt).first()
        if head is None:
            return ChainHead(0, 0, GENESIS_HASH, None)
        return ChainHead(head.seq, head.seq, head.hash, head.occurred_at)


def milestone_history(db: Database, pid: int, as_of: date | None) -> tuple[HistoryLine, ...]:
    """Every change to the partnership's milestones, field by field, from the audit trail."""
    labels = {f.attr: f.label for f in MILESTONE_FIELDS}
    labels.update({"original_due_date": "Original due date", "evidence_sha256": "Evidence SHA-256"})
    columns = Milestone.__table__.columns
    stmt = (select(AuditEvent).where(AuditEvent.entity_kind == "milestone", AuditEvent.partnership_id == pid)
            .order_by(AuditEvent.seq))
    if as_of is not None:
        stmt = stmt.where(AuditEvent.occurred_at < end_of_day_utc(as_of))
    # a creation's code is the Milestone ID column already, and its original due date is its due date
    implied = {"partnership_id", "code", "original_due_date"}
    out = []
    with db.reading() as s:
        for event in s.execute(stmt).scalars():
            changes: dict[str, list[Any]] = json.loads(event.changes)
            skip = implied if event.action == "create" else {"partnership_id"}
            for attr in [a for a in labels if a in changes] + sorted(set(changes) - set(labels)):
                old, new = changes[attr]
                if attr in skip or (old is None and new is None):
                    continue
                if attr in columns:
                    old, new = from_canonical(columns[attr], old), from_canonical(columns[attr], new)
                out.append(HistoryLine(event.occurred_at, event.seq, event.entity_ref, event.action,
                                       labels.get(attr, attr), old, new, event.actor, event.reason_category,
                                       event.reason_text))
    return tuple(out)


L = TypeVar("L")


def _lines(cls: Callable[..., L], rows: Iterable[Any]) -> tuple[L, ...]:
    return tuple(cls(*row) for row in rows)


def _profile(p: Party) -> PartyProfile:
    return PartyProfile(p.code, p.name, p.fiscal_start_month, p.fiscal_label_style, p.currency)


def read_report_data(s: Session, db: Database, *, pid: int, party: str, period: Quarter, as_of: date | None,
                     include_personal_data: bool) -> ReportData:
    """Everything the report shows, from session ``s`` (live or as-of) and the audit trail of ``db``."""
    partnership = s.get(Partnership, pid)
    if partnership is None:
        raise NotFound(f"on {as_of} the partnership did not exist yet; choose a later --as-of date"
                       if as_of else "the partnership was not found")
    parties = tuple(_profile(p) for p in s.execute(select(Party).where(Party.partnership_id == pid)
                                                    .order_by(Party.code)).scalars())
    chosen = next((p for p in parties if p.code == party.lower()), None)
    if chosen is None:
        raise NotFound(f"partnership {partnership.code} has no party '{party}' "
                       f"(parties: {', '.join(p.code for p in parties) or 'none'})")
    engine = IndicatorEngine(s, pid)
    first = min(Quarter.of(partnership.start_date), period)
    quarters = tuple(quarter_range(first, period))
    progress = {q: engine.progress(q, as_of) for q in quarters}
    end = period.end
    data = ReportData(
        partnership_code=partnership.code, partnership_name=partnership.name, country=partnership.country,
        partnership_start=partnership.start_date, partnership_end=partnership.end_date, party=chosen,
        parties=parties, period=period, as_of=as_of, chain=chain_head(db, as_of), quarters=quarters,
        progress=progress, definitions=_definitions(engine), grants=tuple(grant_figures(s, pid, end, engine)),
        trainings=_trainings(s, pid, end), newly_trained=_newly_trained(s, pid, period),
        engagements=_engagements(s, pid, end), engagement_types=_engagement_types(s, pid, period),
        milestones=_milestones(s, pid), history=milestone_history(db, pid, as_of),
        disbursements=_disbursements(s, pid, end), signoffs=_signoffs(s, pid, period), lock=_lock(s, pid, period),
        restatements=_restatements(s, pid, period),
        participants=_participants(s, pid, end) if include_personal_data else None,
    )
    return data


def _definitions(engine: IndicatorEngine) -> tuple[IndicatorDefinition, ...]:
    return tuple(IndicatorDefinition(i.code, i.name, i.unit, i.kind, i.rule == "manual", i.higher_is_better,
                                     i.band_low, i.band_high, i.definition, i.data_source, i.how_computed,
                                     i.disaggregations) for i in engine.indicators())


def _trainings(s: Session, pid: int, end: date) -> tuple[TrainingLine, ...]:
    """Trainings ended by ``end`` with their attendance counted by sex and agency (one aggregate row each)."""

    def share(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    both = and_(Attendance.pre_score.is_not(None), Attendance.post_score.is_not(None))
    counts = (select(Attendance.training_id.label("tid"), func.count().label("n"),
                     share(Participant.sex == "F"), share(Participant.sex == "M"),
                     *(share(Participant.agency == a) for a in codes.AGENCIES), share(both))
              .join(Participant, Participant.id == Attendance.participant_id)
              .join(Training, Training.id == Attendance.training_id)
              .where(Training.partnership_id == pid, Training.end_date <= end)
              .group_by(Attendance.training_id).subquery())
    figures = list(counts.c)[1:]
    rows = s.execute(select(Training.code, Training.title, Training.topic, Training.start_date, Training.end_date,
                            Training.county, Training.venue, Training.delivery, Training.lead, Training.cost,
                            Training.currency, *figures)
                     .outerjoin(counts, counts.c.tid == Training.id)
                     .where(Training.partnership_id == pid, Training.end_date <= end)
                     .order_by(Training.end_date, Training.code))
    out = []
    for r in rows:
        row: tuple[Any, ...] = tuple(r)
        n, women, men, *agencies, scored = (int(x or 0) for x in row[11:])
        out.append(TrainingLine(*row[:11], participants=n, women=women, men=men,  # type: ignore[misc]
                                by_agency=tuple(agencies), scored=scored))
    return tuple(out)


def _newly_trained(s: Session, pid: int, period: Quarter) -> tuple[SexAgencyCounts, ...]:
    """People by agency and sex whose first attended training ends in the period / by its end (as 1.2)."""
    first = (select(Attendance.participant_id, func.min(Training.end_date).label("first_end"))
             .join(Training, Training.id == Attendance.training_id)
             .where(Training.partnership_id == pid)
             .group_by(Attendance.participant_id).subquery())
    in_period = func.sum(case((first.c.first_end >= period.start, 1), else_=0))
    rows = s.execute(select(Participant.agency, Participant.sex, in_period, func.count())
                     .join(first, first.c.participant_id == Participant.id)
                     .where(first.c.first_end <= period.end)
                     .group_by(Participant.agency, Participant.sex)).all()
    got = {(agency, sex): (int(p or 0), int(c)) for agency, sex, p, c in rows}
    agencies = list(codes.AGENCIES) + sorted({a for a, _ in got} - set(codes.AGENCIES))
    return tuple(SexAgencyCounts(a, got.get((a, "F"), (0, 0))[0], got.get((a, "M"), (0, 0))[0],
                                 got.get((a, "F"), (0, 0))[1], got.get((a, "M"), (0, 0))[1]) for a in agencies)


def _engagements(s: Session, pid: int, end: date) -> tuple[EngagementLine, ...]:
    rows = s.execute(select(Engagement.code, Engagement.date, Engagement.type, Engagement.county,
                            Engagement.case_ref, Engagement.hours, Engagement.hti_advisor,
                            Engagement.odpp_counterpart, Engagement.summary)
                     .where(Engagement.partnership_id == pid, Engagement.date <= end)
                     .order_by(Engagement.date, Engagement.code))
    return _lines(EngagementLine, rows)


def _engagement_types(s: Session, pid: int, period: Quarter) -> tuple[TypeTotals, ...]:
    def by_type(since: date | None) -> dict[str, tuple[int, Decimal]]:
        stmt = (select(Engagement.type, func.count(), func.sum(Engagement.hours))
                .where(Engagement.partnership_id == pid, Engagement.date <= period.end).group_by(Engagement.type))
        if since is not None:
            stmt = stmt.where(Engagement.date >= since)
        return {t: (int(n), h or Decimal(0)) for t, n, h in s.execute(stmt)}

    in_period, to_date = by_type(period.start), by_type(None)
    types = list(codes.ENGAGEMENT_TYPES) + sorted(set(to_date) - set(codes.ENGAGEMENT_TYPES))
    zero = (0, Decimal("0.00"))
    return tuple(TypeTotals(t, *in_period.get(t, zero), *to_date.get(t, zero)) for t in types)


def _milestones(s: Session, pid: int) -> tuple[MilestoneLine, ...]:
    rows = s.execute(select(Milestone.code, Milestone.title, Milestone.workstream, Milestone.owner,
                            Milestone.original_due_date, Milestone.due_date, Milestone.status,
                            Milestone.completed_on, Milestone.evidence, Milestone.evidence_sha256)
                     .where(Milestone.partnership_id == pid).order_by(Milestone.code))
    return _lines(MilestoneLine, rows)


def _disbursements(s: Session, pid: int, end: date) -> tuple[DisbursementLine, ...]:
    rows = s.execute(select(Grant.code, Disbursement.date, Disbursement.reference, Disbursement.amount,
                            Disbursement.currency, Disbursement.rate, Disbursement.amount_grant)
                     .join(Grant, Grant.id == Disbursement.grant_id)
                     .where(Grant.partnership_id == pid, Disbursement.date <= end)
                     .order_by(Grant.code, Disbursement.date, Disbursement.id))
    return _lines(DisbursementLine, rows)


def _signoffs(s: Session, pid: int, period: Quarter) -> tuple[SignoffLine, ...]:
    from mou_tracker.services.signoff import check_signature

    rows = s.execute(select(PeriodSignoff)
                     .where(PeriodSignoff.partnership_id == pid, PeriodSignoff.period == str(period))
                     .order_by(PeriodSignoff.signed_at, PeriodSignoff.party)).scalars().all()
    out = []
    for r in rows:
        ok, problem = check_signature(s, r)
        verdict = "not signed" if ok is None else "valid" if ok else f"INVALID: {problem}"
        out.append(SignoffLine(r.period, r.party, r.actor, r.signed_at, r.comment, r.chain_seq, r.chain_head,
                               r.key_fingerprint, verdict))
    return tuple(out)


def _lock(s: Session, pid: int, period: Quarter) -> LockLine | None:
    row = s.execute(select(PeriodLock.locked_at, PeriodLock.actor, PeriodLock.reason)
                    .where(PeriodLock.partnership_id == pid, PeriodLock.period == str(period))).first()
    return LockLine(*row) if row else None


def _restatements(s: Session, pid: int, period: Quarter) -> tuple[RestatementLine, ...]:
    # periods are YYYY-Qn, so text order is time order
    rows = s.execute(select(Restatement.period, Restatement.indicator_code, Restatement.reported_value,
                            Restatement.restated_value, Restatement.reason_text, Restatement.at, Restatement.actor,
                            Restatement.reason_category)
                     .where(Restatement.partnership_id == pid, Restatement.period <= str(period))
                     .order_by(Restatement.at, Restatement.id))
    return _lines(RestatementLine, rows)


def _participants(s: Session, pid: int, end: date) -> tuple[ParticipantLine, ...]:
    rows = s.execute(select(Training.code, Training.end_date, Participant.name, Participant.sex, Participant.agency,
                            Participant.role, Participant.staff_number, Attendance.pre_score, Attendance.post_score)
                     .join(Training, Training.id == Attendance.training_id)
                     .join(Participant, Participant.id == Attendance.participant_id)
                     .where(Training.partnership_id == pid, Training.end_date <= end)
                     .order_by(Training.end_date, Training.code, Participant.name, Participant.id))
    return _lines(ParticipantLine, rows)
