"""The lists and facts behind the UI's tables and dashboard (and the reports' lists), from one session.

Every function takes a ``Session`` (the live database, or a state rebuilt from the audit trail for an as-of
date: ``Reader`` chooses), so the same code serves both. Filtering, sorting and paging happen in SQL: a
table of 100,000 rows costs one page of rows and one count, never 100,000 objects. Indicator and grant
figures are not computed here; they come from ``IndicatorEngine`` and ``finance.grant_figures``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from mou_tracker.db.models import (
    Attendance,
    Baseline,
    BudgetLine,
    Commitment,
    Development,
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
from mou_tracker.errors import NotFound
from mou_tracker.read.views import (
    AttendanceRow,
    BaselineView,
    CommitmentRow,
    Dashboard,
    DevelopmentRow,
    Disaggregation,
    DisbursementRow,
    EngagementRow,
    ExpenditureRow,
    GrantRow,
    IndicatorRef,
    ListRequest,
    ManualResult,
    MilestoneAlerts,
    MilestoneRow,
    MonthCount,
    Page,
    ParticipantLine,
    PartnershipInfo,
    PartyProfile,
    SexAgencyCounts,
    TrackingRow,
    TrackingTable,
    TrainingRow,
    TypeTotals,
)
from mou_tracker.services.finance import grant_figures
from mou_tracker.services.indicators import IndicatorEngine

R = TypeVar("R")


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
def partnership_info(session: Session, pid: int) -> PartnershipInfo:
    """The partnership and its parties; NotFound when it does not exist (in an as-of state: not yet)."""
    p = session.get(Partnership, pid)
    if p is None:
        raise NotFound("the partnership was not found")
    parties = session.execute(select(Party).where(Party.partnership_id == pid).order_by(Party.code)).scalars()
    return PartnershipInfo(p.id, p.code, p.name, p.country, p.start_date, p.end_date,
                           tuple(PartyProfile(x.code, x.name, x.fiscal_start_month, x.fiscal_label_style, x.currency)
                                 for x in parties))


# Trainings and participants ------------------------------------------------------------------------------------
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
_ENGAGEMENT_COLS = (Engagement.id, Engagement.code, Engagement.date, Engagement.type, Engagement.county,
                    Engagement.case_ref, Engagement.hours, Engagement.hti_advisor, Engagement.odpp_counterpart,
                    Engagement.summary)


def engagements(session: Session, pid: int, req: ListRequest = ListRequest()) -> Page[EngagementRow]:
    e = Engagement
    listing = _Listing(
        stmt=select(*_ENGAGEMENT_COLS).where(e.partnership_id == pid),
        search=(e.code, e.type, e.county, e.case_ref, e.hti_advisor, e.odpp_counterpart, e.summary, _as_text(e.date)),
        sorts={"code": (e.code,), "date": (e.date,), "type": (e.type,), "county": (e.county,),
               "case_ref": (e.case_ref,), "hours": (e.hours,), "hti_advisor": (e.hti_advisor,)},
        default="date", default_descending=True, to_row=lambda r: EngagementRow(*r), tiebreak=e.id)
    return listing.run(session, req)


# Milestones -------------------------------------------------------------------------------------------------------
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


# Grant --------------------------------------------------------------------------------------------------------------
def grants(session: Session, pid: int) -> tuple[GrantRow, ...]:
    g = Grant
    rows = session.execute(select(g.id, g.code, g.funder, g.currency, g.amount, g.start_date, g.end_date)
                           .where(g.partnership_id == pid).order_by(g.start_date, g.code)).all()
    return tuple(GrantRow(*r) for r in rows)


_DISBURSEMENT_COLS = (Disbursement.id, Grant.code, Disbursement.date, Disbursement.amount, Disbursement.currency,
                      Disbursement.rate, Disbursement.amount_grant, Disbursement.reference)


def disbursements(session: Session, grant_id: int, req: ListRequest = ListRequest()) -> Page[DisbursementRow]:
    d = Disbursement
    listing = _Listing(
        stmt=select(*_DISBURSEMENT_COLS).join(Grant, Grant.id == d.grant_id).where(d.grant_id == grant_id),
        search=(d.reference, d.currency, _as_text(d.date)),
        sorts={"date": (d.date,), "amount": (d.amount,), "currency": (d.currency,),
               "amount_grant": (d.amount_grant,), "reference": (d.reference,)},
        default="date", default_descending=True, to_row=lambda r: DisbursementRow(*r), tiebreak=d.id)
    return listing.run(session, req)


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


def commitments(session: Session, grant_id: int, req: ListRequest = ListRequest()) -> Page[CommitmentRow]:
    c = Commitment
    line = aliased(BudgetLine)
    listing = _Listing(
        stmt=select(c.id, c.code, c.date, line.code, c.description, c.amount, c.currency, c.rate, c.amount_grant,
                    c.status)
        .join(line, line.id == c.budget_line_id).where(c.grant_id == grant_id),
        search=(c.code, c.description, c.currency, c.status, line.code, _as_text(c.date)),
        sorts={"code": (c.code,), "date": (c.date,), "line_code": (line.code,), "description": (c.description,),
               "amount": (c.amount,), "currency": (c.currency,), "amount_grant": (c.amount_grant,),
               "status": (c.status,)},
        default="date", default_descending=True, to_row=lambda r: CommitmentRow(*r), tiebreak=c.id)
    return listing.run(session, req)


def commitments_until(session: Session, pid: int, end: date) -> tuple[CommitmentRow, ...]:
    """Every commitment of the partnership's grants dated on or before ``end``, by date (the reports)."""
    c = Commitment
    rows = session.execute(
        select(c.id, c.code, c.date, BudgetLine.code, c.description, c.amount, c.currency, c.rate, c.amount_grant,
               c.status, Grant.code)
        .join(BudgetLine, BudgetLine.id == c.budget_line_id).join(Grant, Grant.id == c.grant_id)
        .where(Grant.partnership_id == pid, c.date <= end).order_by(Grant.start_date, Grant.code, c.date, c.code)).all()
    return tuple(CommitmentRow(*r) for r in rows)


_DEVELOPMENT_COLS = (Development.id, Development.date, Development.category, Development.text,
                     Development.reference)


def developments(session: Session, pid: int, req: ListRequest = ListRequest()) -> Page[DevelopmentRow]:
    d = Development
    listing = _Listing(
        stmt=select(*_DEVELOPMENT_COLS).where(d.partnership_id == pid),
        search=(d.category, d.text, d.reference, _as_text(d.date)),
        sorts={"date": (d.date,), "category": (d.category,), "text": (d.text,), "reference": (d.reference,)},
        default="date", default_descending=True, to_row=lambda r: DevelopmentRow(*r), tiebreak=d.id)
    return listing.run(session, req)


def development(session: Session, pid: int, development_id: int) -> DevelopmentRow | None:
    row = session.execute(select(*_DEVELOPMENT_COLS).where(Development.partnership_id == pid,
                                                           Development.id == development_id)).first()
    return None if row is None else DevelopmentRow(*row)


def developments_in(session: Session, pid: int, first: date, last: date) -> tuple[DevelopmentRow, ...]:
    """The developments dated from ``first`` to ``last`` (a quarter, for the reports), oldest first."""
    d = Development
    rows = session.execute(select(*_DEVELOPMENT_COLS).where(d.partnership_id == pid, d.date >= first,
                                                            d.date <= last).order_by(d.date, d.id)).all()
    return tuple(DevelopmentRow(*r) for r in rows)


def baselines(session: Session, pid: int) -> dict[str, BaselineView]:
    """Every indicator's baseline, by indicator code (an indicator without one is absent)."""
    b = Baseline
    rows = session.execute(select(Indicator.code, b.value, b.date, b.source, b.comment)
                           .join(Indicator, Indicator.id == b.indicator_id)
                           .where(Indicator.partnership_id == pid)).all()
    return {code: BaselineView(*rest) for code, *rest in rows}


def partnerships(session: Session) -> tuple[PartnershipInfo, ...]:
    """Every partnership the database holds, by code (the switcher, the portfolio)."""
    ids = session.execute(select(Partnership.id).order_by(Partnership.code)).scalars().all()
    return tuple(partnership_info(session, pid) for pid in ids)


def grant_currency(session: Session, pid: int) -> str | None:
    """The currency of the partnership's grants: what its "grant currency" is (None: no grant; "mixed" when its
    grants are in several currencies)."""
    found = set(session.execute(select(Grant.currency).where(Grant.partnership_id == pid)).scalars())
    return None if not found else found.pop() if len(found) == 1 else "mixed"


# Dashboard ----------------------------------------------------------------------------------------------------------
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
    known_baselines = baselines(session, pid)
    rows = []
    for s in engine.series():
        ind = s.indicator
        rows.append(TrackingRow(ind.code, ind.name, ind.unit, ind.rule, ind.kind, ind.decimals,
                                tuple(s.figures(q) for q in quarters), known_baselines.get(ind.code)))
    return TrackingTable(quarters, tuple(rows))


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


_INDICATOR_COLS = (Indicator.code, Indicator.name, Indicator.unit, Indicator.kind, Indicator.rule,
                   Indicator.higher_is_better, Indicator.band_low, Indicator.band_high, Indicator.definition,
                   Indicator.data_source, Indicator.how_computed, Indicator.disaggregations)


def indicator_reference(session: Session, pid: int, code: str) -> IndicatorRef | None:
    row = session.execute(select(*_INDICATOR_COLS).where(Indicator.partnership_id == pid,
                                                         Indicator.code == code)).first()
    return None if row is None else IndicatorRef(*row, baseline=baselines(session, pid).get(code))


def definitions(engine: IndicatorEngine, known_baselines: dict[str, BaselineView] | None = None,
                ) -> tuple[IndicatorRef, ...]:
    """Every indicator's reference, in the engine's order (the reports' Definitions sheet), with its baseline."""
    known = known_baselines or {}
    return tuple(IndicatorRef(i.code, i.name, i.unit, i.kind, i.rule, i.higher_is_better, i.band_low, i.band_high,
                              i.definition, i.data_source, i.how_computed, i.disaggregations, known.get(i.code))
                 for i in engine.indicators())


def manual_result(session: Session, pid: int, code: str, period: str) -> ManualResult | None:
    """The manual value recorded for an indicator and quarter, if any (a sum shows 0 when there is none)."""
    row = session.execute(select(Result.value, Result.source).join(Indicator, Indicator.id == Result.indicator_id)
                          .where(Indicator.partnership_id == pid, Indicator.code == code,
                                 Result.period == period)).first()
    return None if row is None else ManualResult(row.value, row.source)


# The reports' lists: everything up to a period's end ------------------------------------------------------------
def trainings_until(s: Session, pid: int, end: date) -> tuple[TrainingRow, ...]:
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
    rows = s.execute(select(*_TRAINING_COLS, *figures)
                     .outerjoin(counts, counts.c.tid == Training.id)
                     .where(Training.partnership_id == pid, Training.end_date <= end)
                     .order_by(Training.end_date, Training.code))
    out = []
    width = len(_TRAINING_COLS)
    for r in rows:
        row: tuple[Any, ...] = tuple(r)
        n, women, men, *agencies, scored = (int(x or 0) for x in row[width:])
        out.append(TrainingRow(*row[:width], participants=n, women=women, men=men, by_agency=tuple(agencies),
                               scored=scored))
    return tuple(out)


def newly_trained(s: Session, pid: int, period: Quarter) -> tuple[SexAgencyCounts, ...]:
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


def engagements_until(s: Session, pid: int, end: date) -> tuple[EngagementRow, ...]:
    rows = s.execute(select(*_ENGAGEMENT_COLS).where(Engagement.partnership_id == pid, Engagement.date <= end)
                     .order_by(Engagement.date, Engagement.code))
    return tuple(EngagementRow(*r) for r in rows)


def engagement_types(s: Session, pid: int, period: Quarter) -> tuple[TypeTotals, ...]:
    def by_type(since: date | None) -> dict[str, tuple[int, Any]]:
        stmt = (select(Engagement.type, func.count(), func.sum(Engagement.hours))
                .where(Engagement.partnership_id == pid, Engagement.date <= period.end).group_by(Engagement.type))
        if since is not None:
            stmt = stmt.where(Engagement.date >= since)
        return {t: (int(n), h or Decimal(0)) for t, n, h in s.execute(stmt)}

    in_period, to_date = by_type(period.start), by_type(None)
    types = list(codes.ENGAGEMENT_TYPES) + sorted(set(to_date) - set(codes.ENGAGEMENT_TYPES))
    zero = (0, Decimal("0.00"))
    return tuple(TypeTotals(t, *in_period.get(t, zero), *to_date.get(t, zero)) for t in types)


def all_milestones(s: Session, pid: int) -> tuple[MilestoneRow, ...]:
    rows = s.execute(select(*_MILESTONE_COLS).where(Milestone.partnership_id == pid).order_by(Milestone.code))
    return tuple(MilestoneRow(*r) for r in rows)


def disbursements_until(s: Session, pid: int, end: date) -> tuple[DisbursementRow, ...]:
    rows = s.execute(select(*_DISBURSEMENT_COLS).join(Grant, Grant.id == Disbursement.grant_id)
                     .where(Grant.partnership_id == pid, Disbursement.date <= end)
                     .order_by(Grant.code, Disbursement.date, Disbursement.id))
    return tuple(DisbursementRow(*r) for r in rows)


def participants_until(s: Session, pid: int, end: date) -> tuple[ParticipantLine, ...]:
    rows = s.execute(select(Training.code, Training.end_date, Participant.name, Participant.sex, Participant.agency,
                            Participant.role, Participant.staff_number, Attendance.pre_score, Attendance.post_score)
                     .join(Training, Training.id == Attendance.training_id)
                     .join(Participant, Participant.id == Attendance.participant_id)
                     .where(Training.partnership_id == pid, Training.end_date <= end)
                     .order_by(Training.end_date, Training.code, Participant.name, Participant.id))
    return tuple(ParticipantLine(*r) for r in rows)
