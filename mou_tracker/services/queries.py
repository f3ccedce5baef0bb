"""Read-side queries for the terminal UI: paged, filtered lists and dashboard facts, as frozen dataclasses.

Every function takes a ``Session`` (the live database, or a state rebuilt from the audit trail for an as-of
date), so the same code serves both. Filtering, sorting and paging happen in SQL: a table of 100,000 rows
costs one page of rows and one count, never 100,000 objects. Indicator and grant figures are not computed
here; they come from ``IndicatorEngine`` and ``finance.grant_figures``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from mou_tracker.db.models import (
    Attendance,
    AuditEvent,
    BudgetLine,
    Disbursement,
    Engagement,
    Expenditure,
    Grant,
    Indicator,
    Milestone,
    Participant,
    Partnership,
    Party,
    Result,
    Training,
)
from mou_tracker.domain import codes
from mou_tracker.domain.periods import Quarter, quarter_range
from mou_tracker.services.finance import GrantFigures, grant_figures
from mou_tracker.services.indicators import Figures, IndicatorEngine, Progress

R = TypeVar("R")

DEFAULT_PAGE = 100


# Paging ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRequest:
    """What a table asks for: a filter text (matched case-insensitively anywhere in the searchable columns),
    a window of rows, and an optional sort key with direction. ``want`` is "both" (rows and the count of
    every match), "rows" (the window only: a table shows it at once) or "count" (the count only)."""

    text: str = ""
    offset: int = 0
    limit: int = DEFAULT_PAGE
    sort: str | None = None
    descending: bool = False
    want: str = "both"


@dataclass(frozen=True)
class Page(Generic[R]):
    """One window of a filtered list: ``total`` counts every row matching the filter (None: not counted)."""

    rows: tuple[R, ...]
    total: int | None
    offset: int
    limit: int

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when empty)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)

    @property
    def has_next(self) -> bool:
        if self.total is None:
            return len(self.rows) == self.limit
        return self.last < self.total

    @property
    def has_prev(self) -> bool:
        return self.offset > 0


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _as_text(column: Any) -> ColumnElement[Any]:
    return cast(column, String)


@dataclass(frozen=True)
class _Listing(Generic[R]):
    """How one table is listed: its base query, searchable columns, sort keys and row builder."""

    stmt: Any  # a Select
    search: Sequence[Any]  # columns or SQL expressions
    sorts: dict[str, Sequence[Any]]
    default: str
    default_descending: bool
    to_row: Callable[[Any], R]
    tiebreak: Any

    def run(self, session: Session, req: ListRequest) -> Page[R]:
        stmt = self.stmt
        text = req.text.strip()
        if text:
            pattern = like_pattern(text)
            if session.get_bind().dialect.name == "sqlite":  # SQLite's LIKE already ignores (ASCII) case
                matches = [col.like(pattern, escape="\\") for col in self.search]
            else:  # lower() LIKE reads a table about twice as fast as ILIKE on PostgreSQL
                pattern = pattern.lower()
                matches = [func.lower(col).like(pattern, escape="\\") for col in self.search]
            stmt = stmt.where(or_(*matches))
        total = None
        if req.want != "rows":
            total = session.execute(stmt.with_only_columns(func.count(), maintain_column_froms=True)
                                    .order_by(None)).scalar_one()
        if req.want == "count":
            return Page((), total, req.offset, req.limit)
        key = req.sort if req.sort in self.sorts else self.default
        descending = req.descending if req.sort in self.sorts else self.default_descending
        order = [c.desc() if descending else c.asc() for c in self.sorts[key]]
        order.append(self.tiebreak.desc() if descending else self.tiebreak.asc())
        offset = max(0, req.offset)
        if total is not None:
            offset = min(offset, (max(total - 1, 0) // req.limit) * req.limit)
        rows = session.execute(stmt.order_by(*order).offset(offset).limit(req.limit)).all()
        return Page(tuple(self.to_row(r) for r in rows), total, offset, req.limit)


# Partnership ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartyInfo:
    code: str
    name: str
    fiscal_start_month: int
    fiscal_label_style: str


@dataclass(frozen=True)
class PartnershipInfo:
    id: int
    code: str
    name: str
    country: str
    start_date: date
    end_date: date | None
    parties: tuple[PartyInfo, ...]


def partnership_info(session: Session, pid: int) -> PartnershipInfo:
    p = session.get(Partnership, pid)
    if p is None:
        raise LookupError(f"no partnership with id {pid}")
    parties = session.execute(select(Party).where(Party.partnership_id == pid).order_by(Party.code)).scalars()
    return PartnershipInfo(p.id, p.code, p.name, p.country, p.start_date, p.end_date,
                           tuple(PartyInfo(x.code, x.name, x.fiscal_start_month, x.fiscal_label_style)
                                 for x in parties))


# Trainings and participants ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingRow:
    id: int
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

    def values(self) -> dict[str, Any]:
        """The record as the service layer's save_training takes it."""
        return {"code": self.code, "title": self.title, "topic": self.topic, "start_date": self.start_date,
                "end_date": self.end_date, "county": self.county, "venue": self.venue, "delivery": self.delivery,
                "lead": self.lead, "cost": self.cost, "currency": self.currency}


_TRAINING_COLS = (Training.id, Training.code, Training.title, Training.topic, Training.start_date, Training.end_date,
                  Training.county, Training.venue, Training.delivery, Training.lead, Training.cost, Training.currency)


def _training_listing(pid: int) -> _Listing[TrainingRow]:
    t = Training
    return _Listing(
        stmt=select(*_TRAINING_COLS).where(t.partnership_id == pid),
        search=(t.code, t.title, t.topic, t.county, t.venue, _as_text(t.end_date)),
        sorts={"code": (t.code,), "title": (t.title,), "topic": (t.topic,), "start_date": (t.start_date,),
               "end_date": (t.end_date,), "county": (t.county,), "delivery": (t.delivery,), "lead": (t.lead,),
               "cost": (t.cost,)},
        default="end_date", default_descending=True, to_row=lambda r: TrainingRow(*r), tiebreak=t.id)


def trainings(session: Session, pid: int, req: ListRequest = ListRequest()) -> Page[TrainingRow]:
    """Trainings of a partnership, newest first, each with its participant count by sex (for the page only)."""
    page = _training_listing(pid).run(session, req)
    ids = [r.id for r in page.rows]
    if not ids:
        return page
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for tid, sex, n in session.execute(
            select(Attendance.training_id, Participant.sex, func.count())
            .join(Participant, Participant.id == Attendance.participant_id)
            .where(Attendance.training_id.in_(ids)).group_by(Attendance.training_id, Participant.sex)):
        counts[tid][sex] = n
    rows = tuple(_with_counts(r, counts[r.id]) for r in page.rows)
    return Page(rows, page.total, page.offset, page.limit)


def _with_counts(row: TrainingRow, by_sex: dict[str, int]) -> TrainingRow:
    return replace(row, participants=sum(by_sex.values()), women=by_sex.get("F", 0), men=by_sex.get("M", 0))


def training(session: Session, pid: int, code: str) -> TrainingRow | None:
    row: Any = session.execute(select(*_TRAINING_COLS).where(Training.partnership_id == pid,
                                                        Training.code == code)).first()
    if row is None:
        return None
    by_sex = dict(session.execute(select(Participant.sex, func.count())
                                  .join(Attendance, Attendance.participant_id == Participant.id)
                                  .where(Attendance.training_id == row.id).group_by(Participant.sex)).all())
    return _with_counts(TrainingRow(*tuple(row)), by_sex)


@dataclass(frozen=True)
class AttendanceRow:
    participant_id: int
    name: str
    sex: str
    agency: str
    role: str | None
    staff_number: str | None
    pre_score: Decimal | None
    post_score: Decimal | None

    def values(self, training_code: str) -> dict[str, Any]:
        """The attendance as the service layer's add_attendance takes it."""
        return {"training_code": training_code, "name": self.name, "sex": self.sex, "agency": self.agency,
                "role": self.role, "staff_number": self.staff_number, "pre_score": self.pre_score,
                "post_score": self.post_score}


def attendances(session: Session, training_id: int, req: ListRequest = ListRequest()) -> Page[AttendanceRow]:
    p = Participant
    listing = _Listing(
        stmt=select(p.id, p.name, p.sex, p.agency, p.role, p.staff_number, Attendance.pre_score,
                    Attendance.post_score)
        .join(Attendance, Attendance.participant_id == p.id).where(Attendance.training_id == training_id),
        search=(p.name, p.agency, p.role, p.staff_number, p.sex),
        sorts={"name": (func.lower(p.name),), "sex": (p.sex,), "agency": (p.agency,), "role": (p.role,),
               "staff_number": (p.staff_number,), "pre_score": (Attendance.pre_score,),
               "post_score": (Attendance.post_score,)},
        default="name", default_descending=False, to_row=lambda r: AttendanceRow(*r), tiebreak=p.id)
    return listing.run(session, req)


@dataclass(frozen=True)
class Disaggregation:
    """People counted by sex and by agency (attendances of one training, or distinct people trained)."""

    total: int
    by_sex: tuple[tuple[str, int], ...]
    by_agency: tuple[tuple[str, int], ...]


def disaggregation(session: Session, pid: int, training_id: int | None = None) -> Disaggregation:
    """For one training: its attendances. For the partnership: the distinct people who attended any training."""
    if training_id is not None:
        people = (select(Participant.sex, Participant.agency)
                  .join(Attendance, Attendance.participant_id == Participant.id)
                  .where(Attendance.training_id == training_id))
    else:
        attended = (select(Attendance.participant_id).join(Training, Training.id == Attendance.training_id)
                    .where(Training.partnership_id == pid))
        people = select(Participant.sex, Participant.agency).where(Participant.partnership_id == pid,
                                                                   Participant.id.in_(attended))
    sub = people.subquery()
    counts = session.execute(select(sub.c.sex, sub.c.agency, func.count()).group_by(sub.c.sex, sub.c.agency)).all()
    by_sex: dict[str, int] = {}
    by_agency: dict[str, int] = {}
    for sex, agency, n in counts:
        by_sex[sex] = by_sex.get(sex, 0) + n
        by_agency[agency] = by_agency.get(agency, 0) + n
    sex_order = {s: i for i, s in enumerate(codes.SEXES)}
    agency_order = {a: i for i, a in enumerate(codes.AGENCIES)}
    return Disaggregation(
        total=sum(by_sex.values()),
        by_sex=tuple(sorted(by_sex.items(), key=lambda kv: sex_order.get(kv[0], 99))),
        by_agency=tuple(sorted(by_agency.items(), key=lambda kv: agency_order.get(kv[0], 99))),
    )


# Technical support ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngagementRow:
    id: int
    code: str
    date: date
    type: str
    county: str
    case_ref: str | None
    hours: Decimal
    hti_advisor: str | None
    odpp_counterpart: str | None
    summary: str | None

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "date": self.date, "type": self.type, "county": self.county,
                "case_ref": self.case_ref, "hours": self.hours, "hti_advisor": self.hti_advisor,
                "odpp_counterpart": self.odpp_counterpart, "summary": self.summary}


def engagements(session: Session, pid: int, req: ListRequest = ListRequest()) -> Page[EngagementRow]:
    e = Engagement
    listing = _Listing(
        stmt=select(e.id, e.code, e.date, e.type, e.county, e.case_ref, e.hours, e.hti_advisor, e.odpp_counterpart,
                    e.summary).where(e.partnership_id == pid),
        search=(e.code, e.type, e.county, e.case_ref, e.hti_advisor, e.odpp_counterpart, e.summary, _as_text(e.date)),
        sorts={"code": (e.code,), "date": (e.date,), "type": (e.type,), "county": (e.county,),
               "case_ref": (e.case_ref,), "hours": (e.hours,), "hti_advisor": (e.hti_advisor,)},
        default="date", default_descending=True, to_row=lambda r: EngagementRow(*r), tiebreak=e.id)
    return listing.run(session, req)


# Milestones -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MilestoneRow:
    id: int
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
        """How far the due date has moved from the first one ever recorded (positive = later)."""
        return (self.due_date - self.original_due_date).days

    @property
    def open(self) -> bool:
        return self.status not in (codes.COMPLETED, codes.CANCELLED)

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "workstream": self.workstream, "owner": self.owner,
                "due_date": self.due_date, "status": self.status, "completed_on": self.completed_on,
                "evidence": self.evidence}


_MILESTONE_COLS = (Milestone.id, Milestone.code, Milestone.title, Milestone.workstream, Milestone.owner,
                   Milestone.original_due_date, Milestone.due_date, Milestone.status, Milestone.completed_on,
                   Milestone.evidence, Milestone.evidence_sha256)


def milestones(session: Session, pid: int, req: ListRequest = ListRequest()) -> Page[MilestoneRow]:
    m = Milestone
    listing = _Listing(
        stmt=select(*_MILESTONE_COLS).where(m.partnership_id == pid),
        search=(m.code, m.title, m.workstream, m.owner, m.status, m.evidence, _as_text(m.due_date)),
        sorts={"code": (m.code,), "title": (m.title,), "workstream": (m.workstream,), "owner": (m.owner,),
               "original_due_date": (m.original_due_date,), "due_date": (m.due_date,), "status": (m.status,),
               "completed_on": (m.completed_on,)},
        default="code", default_descending=False, to_row=lambda r: MilestoneRow(*r), tiebreak=m.id)
    return listing.run(session, req)


def milestone(session: Session, pid: int, code: str) -> MilestoneRow | None:
    row = session.execute(select(*_MILESTONE_COLS).where(Milestone.partnership_id == pid,
                                                         Milestone.code == code)).first()
    return None if row is None else MilestoneRow(*row)


@dataclass(frozen=True)
class MilestoneAlerts:
    """Open milestones past their due date, and those due within the window, as seen on ``day``."""

    day: date
    window_days: int
    overdue: tuple[MilestoneRow, ...]
    overdue_total: int
    upcoming: tuple[MilestoneRow, ...]
    upcoming_total: int


def milestone_alerts(session: Session, pid: int, day: date, *, window_days: int = 30,
                     limit: int = 8) -> MilestoneAlerts:
    """Overdue and upcoming milestones on ``day``. A milestone completed after ``day`` still counts as open
    on that day, so looking back at a past quarter shows what was outstanding then."""
    m = Milestone
    open_on_day = and_(m.partnership_id == pid, m.status != codes.CANCELLED,
                       or_(m.status != codes.COMPLETED, m.completed_on > day))
    overdue = and_(open_on_day, m.due_date < day)
    upcoming = and_(open_on_day, m.due_date >= day, m.due_date <= day + timedelta(days=window_days))

    def fetch(cond: ColumnElement[bool]) -> tuple[tuple[MilestoneRow, ...], int]:
        total = session.execute(select(func.count()).select_from(m).where(cond)).scalar_one()
        rows = session.execute(select(*_MILESTONE_COLS).where(cond).order_by(m.due_date, m.id).limit(limit)).all()
        return tuple(MilestoneRow(*r) for r in rows), total

    (o_rows, o_total), (u_rows, u_total) = fetch(overdue), fetch(upcoming)
    return MilestoneAlerts(day, window_days, o_rows, o_total, u_rows, u_total)


# Audit history ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditRow:
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: int | None
    entity_ref: str | None
    reason_category: str | None
    reason_text: str | None

    @property
    def reason(self) -> str:
        if not self.reason_category and not self.reason_text:
            return ""
        return f"{self.reason_category or 'other'}: {self.reason_text or ''}".strip()


@dataclass(frozen=True)
class AuditDetail:
    row: AuditRow
    changes: tuple[FieldChange, ...]
    prev_hash: str
    hash: str
    partnership_id: int | None


_AUDIT_COLS = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity_kind,
               AuditEvent.entity_id, AuditEvent.entity_ref, AuditEvent.reason_category, AuditEvent.reason_text)


def _changes(raw: str) -> tuple[FieldChange, ...]:
    try:
        data = json.loads(raw)
    except ValueError:
        return ()
    return tuple(FieldChange(k, _shown(v[0]), _shown(v[1])) for k, v in data.items()
                 if isinstance(v, list) and len(v) == 2)


def _shown(value: Any) -> Any:
    """A sealed personal value (a participant's name, staff number, identity key) is never shown here."""
    from mou_tracker.services.personal import HIDDEN, is_sealed

    return HIDDEN if is_sealed(value) else value


def audit_events(session: Session, pid: int, req: ListRequest = ListRequest(), *,
                 until: datetime | None = None) -> Page[AuditRow]:
    """The audit trail of a partnership (and the events about no partnership: users, the partnership itself),
    newest first; ``until`` hides events at or after that moment (an as-of view)."""
    a = AuditEvent
    # coalesce, not "= pid OR IS NULL": lets the planner walk the sequence (newest first) instead of sorting
    stmt = select(*_AUDIT_COLS).where(func.coalesce(a.partnership_id, pid) == pid)
    if until is not None:
        stmt = stmt.where(a.occurred_at < until)
    listing = _Listing(
        stmt=stmt,
        search=(a.actor, a.action, a.entity_kind, a.entity_ref, a.reason_category, a.reason_text),
        sorts={"seq": (a.seq,), "occurred_at": (a.occurred_at,), "actor": (a.actor,), "action": (a.action,),
               "entity_kind": (a.entity_kind,), "entity_ref": (a.entity_ref,)},
        default="seq", default_descending=True, to_row=lambda r: AuditRow(*r), tiebreak=a.seq)
    return listing.run(session, req)


def audit_event(session: Session, seq: int) -> AuditDetail | None:
    e = session.get(AuditEvent, seq)
    if e is None:
        return None
    row = AuditRow(e.seq, e.occurred_at, e.actor, e.action, e.entity_kind, e.entity_id, e.entity_ref,
                   e.reason_category, e.reason_text)
    return AuditDetail(row, _changes(e.changes), e.prev_hash, e.hash, e.partnership_id)


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a record, as the audit trail tells it."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    changes: tuple[FieldChange, ...]
    reason_category: str | None
    reason_text: str | None


def entity_history(session: Session, kind: str, entity_id: int, *, until: datetime | None = None
                   ) -> tuple[HistoryEntry, ...]:
    """Every audit event about one record, oldest first (the history timeline of a milestone)."""
    a = AuditEvent
    stmt = (select(a.seq, a.occurred_at, a.actor, a.action, a.changes, a.reason_category, a.reason_text)
            .where(a.entity_kind == kind, a.entity_id == entity_id).order_by(a.seq))
    if until is not None:
        stmt = stmt.where(a.occurred_at < until)
    return tuple(HistoryEntry(r.seq, r.occurred_at, r.actor, r.action, _changes(r.changes), r.reason_category,
                              r.reason_text) for r in session.execute(stmt))


# Grant --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantRow:
    id: int
    code: str
    funder: str
    currency: str
    amount: Decimal
    start_date: date
    end_date: date

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "funder": self.funder, "currency": self.currency, "amount": self.amount,
                "start_date": self.start_date, "end_date": self.end_date}


def grants(session: Session, pid: int) -> tuple[GrantRow, ...]:
    g = Grant
    rows = session.execute(select(g.id, g.code, g.funder, g.currency, g.amount, g.start_date, g.end_date)
                           .where(g.partnership_id == pid).order_by(g.start_date, g.code)).all()
    return tuple(GrantRow(*r) for r in rows)


@dataclass(frozen=True)
class DisbursementRow:
    id: int
    date: date
    amount: Decimal
    currency: str
    rate: Decimal | None
    amount_grant: Decimal
    reference: str | None

    def values(self) -> dict[str, Any]:
        return {"date": self.date, "amount": self.amount, "currency": self.currency, "rate": self.rate,
                "reference": self.reference}


def disbursements(session: Session, grant_id: int, req: ListRequest = ListRequest()) -> Page[DisbursementRow]:
    d = Disbursement
    listing = _Listing(
        stmt=select(d.id, d.date, d.amount, d.currency, d.rate, d.amount_grant, d.reference)
        .where(d.grant_id == grant_id),
        search=(d.reference, d.currency, _as_text(d.date)),
        sorts={"date": (d.date,), "amount": (d.amount,), "currency": (d.currency,),
               "amount_grant": (d.amount_grant,), "reference": (d.reference,)},
        default="date", default_descending=True, to_row=lambda r: DisbursementRow(*r), tiebreak=d.id)
    return listing.run(session, req)


@dataclass(frozen=True)
class ExpenditureRow:
    id: int
    code: str
    date: date
    line_code: str
    description: str
    amount: Decimal
    currency: str
    rate: Decimal | None
    amount_grant: Decimal
    reference: str | None
    training_code: str | None
    engagement_code: str | None

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "date": self.date, "line_code": self.line_code, "description": self.description,
                "amount": self.amount, "currency": self.currency, "rate": self.rate, "reference": self.reference,
                "training_code": self.training_code, "engagement_code": self.engagement_code}


def expenditures(session: Session, grant_id: int, req: ListRequest = ListRequest()) -> Page[ExpenditureRow]:
    x = Expenditure
    line = aliased(BudgetLine)
    t = aliased(Training)
    e = aliased(Engagement)
    listing = _Listing(
        stmt=select(x.id, x.code, x.date, line.code, x.description, x.amount, x.currency, x.rate, x.amount_grant,
                    x.reference, t.code, e.code)
        .join(line, line.id == x.budget_line_id)
        .outerjoin(t, t.id == x.training_id).outerjoin(e, e.id == x.engagement_id)
        .where(x.grant_id == grant_id),
        search=(x.code, x.description, x.reference, x.currency, line.code, _as_text(x.date)),
        sorts={"code": (x.code,), "date": (x.date,), "line_code": (line.code,), "description": (x.description,),
               "amount": (x.amount,), "currency": (x.currency,), "amount_grant": (x.amount_grant,),
               "reference": (x.reference,)},
        default="date", default_descending=True, to_row=lambda r: ExpenditureRow(*r), tiebreak=x.id)
    return listing.run(session, req)


# Dashboard ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthCount:
    month: date  # the first day of the month
    count: int


def trainings_per_month(session: Session, pid: int, first: date, last: date) -> tuple[MonthCount, ...]:
    """Trainings ending in each calendar month from ``first``'s month to ``last``'s month (zeros included),
    counted by end date like indicator 1.1."""
    start = date(first.year, first.month, 1)
    if last < start:
        return ()
    rows = session.execute(select(Training.end_date, func.count())
                           .where(Training.partnership_id == pid, Training.end_date >= start,
                                  Training.end_date <= last)
                           .group_by(Training.end_date)).all()
    counts: dict[tuple[int, int], int] = {}
    for day, n in rows:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
        counts[(d.year, d.month)] = counts.get((d.year, d.month), 0) + n
    out = []
    y, m = start.year, start.month
    while (y, m) <= (last.year, last.month):
        out.append(MonthCount(date(y, m, 1), counts.get((y, m), 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


@dataclass(frozen=True)
class TrackingRow:
    """One indicator's line of the tracking table: its figures for each quarter shown."""

    code: str
    name: str
    unit: str
    rule: str
    kind: str
    decimals: int
    cells: tuple[Figures, ...]

    @property
    def manual(self) -> bool:
        return self.rule == "manual"


@dataclass(frozen=True)
class TrackingTable:
    """The indicator performance tracking table (indicators x quarters) from the indicator engine."""

    quarters: tuple[Quarter, ...]
    rows: tuple[TrackingRow, ...] = field(default_factory=tuple)


def tracking_table(session: Session, pid: int, today: date) -> TrackingTable:
    """Every indicator for every quarter from the partnership's start to the last quarter with a target or
    data (at least to the quarter of ``today``). The figures are the engine's, quarter by quarter."""
    engine = IndicatorEngine(session, pid)
    info = session.get(Partnership, pid)
    known = engine.quarters_with_data()
    first = Quarter.of(info.start_date) if info is not None else (known[0] if known else Quarter.of(today))
    last = max([Quarter.of(today), *known])
    if known and known[0] < first:
        first = known[0]
    quarters = tuple(quarter_range(first, last))
    rows = []
    for s in engine.series():
        ind = s.indicator
        rows.append(TrackingRow(ind.code, ind.name, ind.unit, ind.rule, ind.kind, ind.decimals,
                                tuple(s.figures(q) for q in quarters)))
    return TrackingTable(quarters, tuple(rows))


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one quarter, as seen on ``day`` (today, or the quarter's end when
    looking back). Figures come from the indicator engine and ``finance.grant_figures``."""

    info: PartnershipInfo
    quarter: Quarter
    day: date
    quarters: tuple[Quarter, ...]
    progress: Progress
    grants: tuple[GrantFigures, ...]
    alerts: MilestoneAlerts
    months: tuple[MonthCount, ...]


def dashboard(session: Session, pid: int, quarter: Quarter, today: date) -> Dashboard:
    day = min(quarter.end, today)
    engine = IndicatorEngine(session, pid)
    info = partnership_info(session, pid)
    known = engine.quarters_with_data()
    first = min([Quarter.of(info.start_date), *known[:1]])
    last = max([Quarter.of(today), quarter, *known[-1:]])
    progress = engine.progress(quarter)
    money = tuple(grant_figures(session, pid, day, engine=engine))
    alerts = milestone_alerts(session, pid, day)
    months = trainings_per_month(session, pid, min(info.start_date, day), day)
    return Dashboard(info, quarter, day, tuple(quarter_range(first, last)), progress, money, alerts, months)


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator's reference sheet (in the spirit of a PIRS)."""

    code: str
    name: str
    unit: str
    kind: str
    rule: str
    higher_is_better: bool
    band_low: Decimal
    band_high: Decimal
    definition: str | None
    data_source: str | None
    how_computed: str | None
    disaggregations: str | None


def indicator_reference(session: Session, pid: int, code: str) -> IndicatorRef | None:
    i = Indicator
    row = session.execute(select(i.code, i.name, i.unit, i.kind, i.rule, i.higher_is_better, i.band_low, i.band_high,
                                 i.definition, i.data_source, i.how_computed, i.disaggregations)
                          .where(i.partnership_id == pid, i.code == code)).first()
    return None if row is None else IndicatorRef(**row._asdict())


@dataclass(frozen=True)
class ManualResult:
    value: Decimal
    source: str | None


def manual_result(session: Session, pid: int, code: str, period: str) -> ManualResult | None:
    """The manual value recorded for an indicator and quarter, if any (a sum shows 0 when there is none)."""
    row = session.execute(select(Result.value, Result.source).join(Indicator, Indicator.id == Result.indicator_id)
                          .where(Indicator.partnership_id == pid, Indicator.code == code,
                                 Result.period == period)).first()
    return None if row is None else ManualResult(row.value, row.source)
