"""The read model's views: frozen dataclasses, one per concept, that the UI, the reports and the CLI show.

A view is built by exactly one function (in ``lists``, ``audit``, ``status`` or ``report``) and reached
through ``Reader``. Nothing here touches the database: the views are plain values, safe to hand to any
thread, to a template filler or to a test. Indicator and grant figures are the engine's
(``services.indicators.Figures``/``Progress``) and ``services.finance.GrantFigures``, carried as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mou_tracker.domain import codes
from mou_tracker.domain.periods import Quarter, fiscal_label, fiscal_year_and_quarter

if TYPE_CHECKING:
    from mou_tracker.services.finance import SF425, GrantFigures
    from mou_tracker.services.indicators import Figures, Progress

R = TypeVar("R")

DEFAULT_PAGE = 100
ARROW = "->"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


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


# Partnership ------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _fiscal_label(quarter: Quarter, start_month: int, style: str) -> str:
    return fiscal_label(quarter, start_month, style)


@lru_cache(maxsize=65536)
def quarter_of(day: date) -> Quarter:
    return Quarter.of(day)


@dataclass(frozen=True)
class PartyProfile:
    """A party as its reports present the programme: its fiscal calendar and currency."""

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
class PartnershipInfo:
    id: int
    code: str
    name: str
    country: str
    start_date: date
    end_date: date | None
    parties: tuple[PartyProfile, ...]


# Trainings and participants ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingRow:
    """A training with its attendance counted by sex (and, in a report, by agency and scored pairs)."""

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
    #: attendances per agency, in ``codes.AGENCIES`` order (reports only)
    by_agency: tuple[int, ...] = ()
    #: attendances with both a pre- and a post-test score (reports only)
    scored: int = 0

    def values(self) -> dict[str, Any]:
        """The record as the service layer's save_training takes it."""
        return {"code": self.code, "title": self.title, "topic": self.topic, "start_date": self.start_date,
                "end_date": self.end_date, "county": self.county, "venue": self.venue, "delivery": self.delivery,
                "lead": self.lead, "cost": self.cost, "currency": self.currency}


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


@dataclass(frozen=True)
class ParticipantLine:
    """One attendance with the person's name: only in a report asked for with personal data."""

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
class Disaggregation:
    """People counted by sex and by agency (attendances of one training, or distinct people trained)."""

    total: int
    by_sex: tuple[tuple[str, int], ...]
    by_agency: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SexAgencyCounts:
    """People newly trained (first training ending in the period / to date), for one agency."""

    agency: str
    women_period: int
    men_period: int
    women_to_date: int
    men_to_date: int


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


@dataclass(frozen=True)
class TypeTotals:
    type: str
    count_period: int
    hours_period: Decimal
    count_to_date: int
    hours_to_date: Decimal


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
    def completed_vs_original_days(self) -> int | None:
        return (self.completed_on - self.original_due_date).days if self.completed_on else None

    @property
    def open(self) -> bool:
        return self.status not in (codes.COMPLETED, codes.CANCELLED)

    def overdue_at(self, day: date) -> bool:
        return self.open and self.due_date < day

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "workstream": self.workstream, "owner": self.owner,
                "due_date": self.due_date, "status": self.status, "completed_on": self.completed_on,
                "evidence": self.evidence}


@dataclass(frozen=True)
class MilestoneAlerts:
    """Open milestones past their due date, and those due within the window, as seen on ``day``."""

    day: date
    window_days: int
    overdue: tuple[MilestoneRow, ...]
    overdue_total: int
    upcoming: tuple[MilestoneRow, ...]
    upcoming_total: int


# The audit trail ----------------------------------------------------------------------------------------------------
def shown_text(value: Any) -> str:
    """A value as a history line prints it: "(empty)" for nothing, timestamps in the trail's UTC form, a rate
    as entered (the column keeps 10 places: 0.0077405000 is shown 0.0077405; money keeps its 2)."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, datetime):
        from mou_tracker.services.audit import canonical_value

        return str(canonical_value(value))
    if isinstance(value, Decimal) and value.is_finite() and int(value.as_tuple().exponent) < -2:
        return plain_decimal(value)
    return str(value)


def plain_decimal(value: Decimal) -> str:
    """A decimal without its trailing zeros and never in scientific form (0.0000000001, not 1E-10)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cell_text(value: Any) -> Any:
    """A changed value for a workbook cell: text and whole numbers as they are, anything else as its text."""
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    return shown_text(value)


@dataclass(frozen=True)
class FieldChange:
    """One field of one audit event: its column, the label a user knows it by, and the values (typed)."""

    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ChainHead:
    """The audit chain's head (at a moment): the last event's number and hash. Events are numbered 1, 2, 3...
    without gaps, so the number is also the count of events up to it (`audit verify` proves no gap)."""

    seq: int
    hash: str
    at: datetime | None = None

    @property
    def events(self) -> int:
        return self.seq


@dataclass(frozen=True)
class AuditEntry:
    """One audit event, readable: who (login and name), what, which fields (labelled, in the record's field
    order), why; with the chain hashes and the canonical JSON exactly as hashed."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: int | None
    entity_ref: str | None
    partnership_id: int | None
    changes: tuple[FieldChange, ...]
    reason_category: str | None
    reason_text: str | None
    prev_hash: str
    hash: str
    #: the canonical JSON of the changes exactly as hashed (withheld for old events holding personal data)
    raw_changes: str
    #: who was logged in (database login on PostgreSQL; the OS login on SQLite when it differs from actor)
    login: str | None = None
    #: the actor's display name, when the user is registered with one
    actor_name: str | None = None

    @property
    def who(self) -> str:
        """The actor as a person reads it: "Grace Wanjiru (gwanjiru)", or the login alone."""
        return f"{self.actor_name} ({self.actor})" if self.actor_name and self.actor_name != self.actor \
            else self.actor

    @property
    def reason(self) -> str | None:
        if not self.reason_category and not self.reason_text:
            return None
        return ": ".join(x for x in (self.reason_category, self.reason_text) if x)

    @property
    def what(self) -> str:
        verbs = {"create": "created", "update": "updated", "delete": "deleted", "erase": "erased personal data of"}
        verb = verbs.get(self.action, self.action)
        ref = self.entity_ref or (f"id {self.entity_id}" if self.entity_id is not None else "")
        return f"{verb} {self.entity_kind.replace('_', ' ')} {ref}".rstrip()

    @property
    def visible(self) -> tuple[FieldChange, ...]:
        """The changes worth reading: a creation's values (not its empty fields, nor its ID, which the
        reference names, nor a milestone's original due date, which is its due date), a deletion's last
        values, an update's changed fields; never the partnership's internal id."""
        skip = {"partnership_id"}
        if self.action == "create":
            skip |= {"code", "original_due_date"}
            return tuple(c for c in self.changes if c.field not in skip and c.new is not None)
        if self.action == "delete":
            return tuple(c for c in self.changes if c.field not in skip and c.old is not None)
        return tuple(c for c in self.changes if c.field not in skip and not (c.old is None and c.new is None))

    def change_text(self, c: FieldChange) -> str:
        if self.action == "create":
            return f"{c.label}: {shown_text(c.new)}"
        if self.action == "delete":
            return f"{c.label}: {shown_text(c.old)}"
        return f"{c.label}: {shown_text(c.old)} {ARROW} {shown_text(c.new)}"

    def summary(self, limit: int = 6) -> str:
        """The changes on one line: "Status: In progress -> Completed; Completed on: (empty) -> 2025-09-30"."""
        visible = self.visible
        more = len(visible) - limit
        return "; ".join(self.change_text(c) for c in visible[:limit]) + (f"; and {more} more" if more > 0 else "")

    def lines(self) -> list[str]:
        """The event as readable lines (`audit log`)."""
        login = "" if not self.login or self.login == self.actor else f"  (login {self.login})"
        out = [f"#{self.seq}  {self.occurred_at:%Y-%m-%d %H:%M:%S} UTC  {self.who}  {self.what}{login}"]
        out += [f"    {self.change_text(c)}" for c in self.visible]
        if self.reason:
            out.append(f"    Reason: {self.reason}")
        return out


# Sign-off, locks, restatements --------------------------------------------------------------------------------------
Figures_ = dict[str, dict[str, str | None]]


@dataclass(frozen=True)
class Signoff:
    """A party's sign-off of a quarter: who, when, against which chain head, the figures signed, and whether
    the stored SSHSIG signature checks against the signer's registered key."""

    period: str
    party: str
    party_name: str
    actor: str
    signed_at: datetime
    comment: str | None
    chain_seq: int
    chain_head: str
    figures: Figures_
    key_fingerprint: str | None = None
    #: True when the signature checks against the signer's registered key, False when not, None if unsigned
    signature_ok: bool | None = None
    signature_problem: str | None = None
    #: the exact text signed, the SSHSIG signature and the public key it was made with (for a certificate)
    message: str | None = None
    signature: str | None = None
    public_key: str | None = None

    @property
    def verdict(self) -> str:
        if self.signature_ok is None:
            return "not signed"
        return "valid" if self.signature_ok else f"INVALID: {self.signature_problem}"

    @property
    def signature_text(self) -> str:
        return "not signed (recorded before signatures)" if self.signature_ok is None else self.verdict


@dataclass(frozen=True)
class Lock:
    period: str
    locked_at: datetime
    actor: str
    reason: str | None
    figures: Figures_


def _none(value: str | None) -> str:
    return "none" if value is None else value


@dataclass(frozen=True)
class Restatement:
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
    """A quarter's sign-offs, lock and restatements (`period status`, the reports' Sign-off sheet)."""

    period: Quarter
    parties: tuple[tuple[str, str], ...]  # (code, name) of every party of the partnership
    signoffs: tuple[Signoff, ...]
    lock: Lock | None
    #: restatements of this quarter and every earlier one, oldest first
    restatements: tuple[Restatement, ...] = ()

    @property
    def pending(self) -> list[str]:
        signed = {s.party for s in self.signoffs}
        return [code for code, _ in self.parties if code not in signed]

    def lines(self) -> list[str]:
        lock = self.lock
        out = [f"{self.period}: " + (f"locked on {lock.locked_at:%Y-%m-%d %H:%M} UTC by {lock.actor}"
                                     f"{f' ({lock.reason})' if lock.reason else ''}" if lock else "not locked")]
        for s in self.signoffs:
            out.append(f"  signed by {s.party_name} ({s.party.upper()}): {s.actor} at {s.signed_at:%Y-%m-%d %H:%M} "
                       f"UTC, chain head {s.chain_head} (event #{s.chain_seq})"
                       + (f": {s.comment}" if s.comment else ""))
            out.append(f"    key {s.key_fingerprint or 'none'}; signature {s.signature_text}")
        for code in self.pending:
            out.append(f"  not yet signed by {code.upper()}")
        for r in self.restatements:
            out.append(f"  restated {r.indicator_code} {r.period}: {_none(r.reported_value)} -> "
                       f"{_none(r.restated_value)} on {r.at:%Y-%m-%d %H:%M} UTC by {r.actor} ({r.why})")
        return out


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


@dataclass(frozen=True)
class DisbursementRow:
    id: int
    grant: str
    date: date
    amount: Decimal
    currency: str
    rate: Decimal | None
    amount_grant: Decimal
    reference: str | None

    def values(self) -> dict[str, Any]:
        return {"date": self.date, "amount": self.amount, "currency": self.currency, "rate": self.rate,
                "reference": self.reference}


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


@dataclass(frozen=True)
class CommitmentRow:
    """An obligation not yet paid (Open) or since paid (Liquidated), in its currency and the grant's."""

    id: int
    code: str
    date: date
    line_code: str
    description: str
    amount: Decimal
    currency: str
    rate: Decimal | None
    amount_grant: Decimal
    status: str
    #: the grant's code (filled where several grants may be listed together: the reports)
    grant: str | None = None

    def values(self) -> dict[str, Any]:
        return {"code": self.code, "date": self.date, "line_code": self.line_code, "description": self.description,
                "amount": self.amount, "currency": self.currency, "rate": self.rate, "status": self.status}


@dataclass(frozen=True)
class DevelopmentRow:
    """A significant development (a risk, an opportunity, a delay...), dated, as a funder is told of it."""

    id: int
    date: date
    category: str
    text: str
    reference: str | None

    def values(self) -> dict[str, Any]:
        return {"date": self.date, "category": self.category, "text": self.text, "reference": self.reference}


# Indicators and the dashboard -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorRef:
    """An indicator's reference sheet (in the spirit of a PIRS): the UI's reference and the reports'
    Definitions sheet."""

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
    baseline: BaselineView | None = None

    @property
    def manual(self) -> bool:
        return self.rule == "manual"


@dataclass(frozen=True)
class BaselineView:
    """An indicator's baseline: the value before the programme, when and where it was measured."""

    value: Decimal
    date: date
    source: str | None
    comment: str | None

    def values(self) -> dict[str, Any]:
        return {"value": self.value, "date": self.date, "source": self.source, "comment": self.comment}


@dataclass(frozen=True)
class ManualResult:
    value: Decimal
    source: str | None


@dataclass(frozen=True)
class MonthCount:
    month: date  # the first day of the month
    count: int


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
    baseline: BaselineView | None = None

    @property
    def manual(self) -> bool:
        return self.rule == "manual"


@dataclass(frozen=True)
class TrackingTable:
    """The indicator performance tracking table (indicators x quarters) from the indicator engine."""

    quarters: tuple[Quarter, ...]
    rows: tuple[TrackingRow, ...] = field(default_factory=tuple)


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


@dataclass(frozen=True)
class GrantView:
    """The grant screen: the awards and each one's figures on a day."""

    grants: tuple[GrantRow, ...]
    figures: tuple[GrantFigures, ...]


# The progress report --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportData:
    """Everything a party's progress report shows; the sheets are written from this alone."""

    partnership: PartnershipInfo
    party: PartyProfile
    period: Quarter
    as_of: date | None
    chain: ChainHead
    #: quarters shown in the tracking table: from the partnership's first quarter to the report's period
    quarters: tuple[Quarter, ...]
    progress: dict[Quarter, Progress]
    definitions: tuple[IndicatorRef, ...]
    grants: tuple[GrantFigures, ...]
    trainings: tuple[TrainingRow, ...] = ()
    newly_trained: tuple[SexAgencyCounts, ...] = ()
    engagements: tuple[EngagementRow, ...] = ()
    engagement_types: tuple[TypeTotals, ...] = ()
    milestones: tuple[MilestoneRow, ...] = ()
    #: every milestone's audit history, oldest first (the Milestone history sheet lists its visible changes)
    history: tuple[AuditEntry, ...] = ()
    disbursements: tuple[DisbursementRow, ...] = ()
    status: PeriodStatus | None = None
    participants: tuple[ParticipantLine, ...] | None = None
    #: the SF-425 lines of each grant, cumulative to the period's end (``finance.sf425``)
    sf425: tuple[SF425, ...] = ()
    #: every commitment dated up to the period's end
    commitments: tuple[CommitmentRow, ...] = ()
    #: the significant developments dated in the period
    developments: tuple[DevelopmentRow, ...] = ()

    @property
    def partnership_code(self) -> str:
        return self.partnership.code

    @property
    def partnership_name(self) -> str:
        return self.partnership.name

    @property
    def country(self) -> str:
        return self.partnership.country

    @property
    def partnership_start(self) -> date:
        return self.partnership.start_date

    @property
    def partnership_end(self) -> date | None:
        return self.partnership.end_date

    @property
    def parties(self) -> tuple[PartyProfile, ...]:
        return self.partnership.parties

    @property
    def signoffs(self) -> tuple[Signoff, ...]:
        return self.status.signoffs if self.status else ()

    @property
    def lock(self) -> Lock | None:
        return self.status.lock if self.status else None

    @property
    def restatements(self) -> tuple[Restatement, ...]:
        return self.status.restatements if self.status else ()

    @property
    def figures(self) -> dict[str, Figures]:
        return self.progress[self.period].by_code()

    def figures_at(self, code: str, quarter: Quarter) -> Figures | None:
        return self.progress[quarter].by_code().get(code)


# The portfolio --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnershipProgress:
    """One partnership's progress for the portfolio's quarter: exactly its own `progress`."""

    info: PartnershipInfo
    progress: Progress
    #: the currency of its grants (None: no grant); what indicator 4.1's "grant currency" is here
    currency: str | None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.info.code, "name": self.info.name,
                "indicators": [f.as_json() for f in self.progress.indicators]}


@dataclass(frozen=True)
class PortfolioLine:
    """An indicator rolled up across the partnerships whose indicator of that code has the same unit and kind.

    A ``sum`` indicator adds; a computed ``level`` one (a mean, a share) is pooled from its numerators and
    denominators, as if one programme had run them all. ``figures`` holds each contributing partnership's own
    figures (by partnership code), so that every total can be checked against them."""

    code: str
    name: str
    unit: str
    kind: str
    decimals: int
    period_actual: Decimal | None
    cumulative_actual: Decimal | None
    figures: tuple[tuple[str, Figures], ...]

    @property
    def partnerships(self) -> int:
        return len(self.figures)

    def as_json(self) -> dict[str, Any]:
        from mou_tracker.services.indicators import json_number

        return {"code": self.code, "name": self.name, "unit": self.unit,
                "period_actual": json_number(self.period_actual),
                "cumulative_actual": json_number(self.cumulative_actual), "partnerships": self.partnerships}


@dataclass(frozen=True)
class Portfolio:
    """Every partnership's progress for one quarter, and the roll-up of the indicators they share."""

    period: Quarter
    as_of: date | None
    partnerships: tuple[PartnershipProgress, ...]
    lines: tuple[PortfolioLine, ...]
    #: indicator codes shown per partnership only (their unit, kind or currency differ between partnerships)
    not_rolled_up: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """Exactly the shape of docs/reference/cli.md (`progress --all-partnerships --format json`)."""
        return {"period": str(self.period), "as_of": self.as_of.isoformat() if self.as_of else None,
                "partnerships": [p.as_json() for p in self.partnerships],
                "portfolio": [line.as_json() for line in self.lines]}
