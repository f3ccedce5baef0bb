"""``Reader``: every view the UI, the reports and the CLI show, for one partnership, live or as of a day.

    reader = Reader(db, partnership="KE-HTI-ODPP", as_of=date(2025, 9, 30))
    reader.progress(Quarter(2025, 3))       # what `progress --format json` prints
    reader.milestone_history("M03")         # what the UI, `audit log` and the reports' history show

The reader owns the choice between the live database and the state at the end of a past day, rebuilt once
from the audit trail (``services.history.state_as_of``). That rebuilt state lives in an in-memory SQLite
database whose connection belongs to one thread, so as-of reads run on a dedicated thread and are waited
for: a reader may be called from any thread (Textual workers included). The audit trail itself is always
read live, up to the end of the as-of day. Each method builds its view with one function of ``lists``,
``audit``, ``status`` or ``report``; indicator and grant figures are ``IndicatorEngine``'s and
``finance.grant_figures``'.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database, sqlite_path
from mou_tracker.domain.periods import Quarter
from mou_tracker.read import audit, lists, report, status
from mou_tracker.read.audit import EventFilter, PersonalData
from mou_tracker.read.views import (
    AttendanceRow,
    AuditEntry,
    ChainHead,
    CommitmentRow,
    Dashboard,
    DevelopmentRow,
    Disaggregation,
    DisbursementRow,
    EngagementRow,
    ExpenditureRow,
    GrantRow,
    GrantView,
    IndicatorRef,
    ListRequest,
    Lock,
    ManualResult,
    MilestoneAlerts,
    MilestoneRow,
    Page,
    PartnershipInfo,
    PartnershipProgress,
    PeriodStatus,
    Portfolio,
    ReportData,
    Restatement,
    Signoff,
    TrackingTable,
    TrainingRow,
)

T = TypeVar("T")


class Reader:
    """Reads for one partnership (resolved by code on first use, defaulting to the only one), live or as of
    the end of ``as_of``. Close it when done (an as-of reader holds its rebuilt state and thread)."""

    def __init__(self, db: Database, *, partnership: str | None = None, as_of: date | None = None,
                 partnership_id: int | None = None) -> None:
        self._db = db
        self._code = partnership
        self._pid = partnership_id
        self.as_of = as_of
        self._stack = ExitStack()
        self._session: Session | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mou-as-of") if as_of else None
        self._lock = threading.Lock()

    # The choice: live or as of -------------------------------------------------------------------------------
    @property
    def partnership_id(self) -> int:
        """The partnership's id; NotFound (one line) when the code names none, or none was given and the
        database holds several or none."""
        if self._pid is None:
            from mou_tracker.services.core import find_partnership

            with self._db.reading() as s:
                self._pid = find_partnership(s, self._code)
        return self._pid

    @property
    def before(self) -> datetime | None:
        """Audit events at or after this moment are not part of the view (as-of mode)."""
        if self.as_of is None:
            return None
        from mou_tracker.services.history import end_of_day_utc

        return end_of_day_utc(self.as_of)

    @property
    def db_file(self) -> Path | None:
        """The SQLite file read (None on PostgreSQL): an output written from these views never replaces it."""
        return sqlite_path(self._db.url)

    @property
    def location(self) -> str:
        """Where the data is read from, for a report's About sheet (a file, or the URL without password)."""
        return str(self.db_file or self._db.engine.url.render_as_string(hide_password=True))

    def at(self, as_of: date | None) -> Reader:
        """A reader of the same partnership as of another day (or live); close it when done."""
        return Reader(self._db, partnership=self._code, as_of=as_of, partnership_id=self.partnership_id)

    def _state(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` on a session showing the records (live, or as of the chosen day)."""
        if self._executor is None:
            with self._db.reading() as session:
                return fn(session)
        return self._executor.submit(self._state_as_of, fn).result()

    def _state_as_of(self, fn: Callable[[Session], T]) -> T:
        if self._session is None:
            from mou_tracker.services.history import state_as_of

            assert self.as_of is not None
            self._session = self._stack.enter_context(
                state_as_of(self._db, self.as_of, partnership_id=self.partnership_id))
        return fn(self._session)

    def _trail(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` on the live database: the audit trail is never rebuilt (filter with ``before``)."""
        with self._db.reading() as session:
            return fn(session)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.submit(self._stack.close).result()
                self._executor.shutdown(wait=True)
                self._executor = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # Records --------------------------------------------------------------------------------------------------
    def info(self) -> PartnershipInfo:
        pid = self.partnership_id
        return self._state(lambda s: lists.partnership_info(s, pid))

    def trainings(self, req: ListRequest = ListRequest()) -> Page[TrainingRow]:
        pid = self.partnership_id
        return self._state(lambda s: lists.trainings(s, pid, req))

    def training(self, code: str) -> TrainingRow | None:
        pid = self.partnership_id
        return self._state(lambda s: lists.training(s, pid, code))

    def training_detail(self, code: str) -> tuple[TrainingRow | None, Disaggregation | None]:
        """A training and the people who attended it, by sex and agency (the UI's training detail)."""
        pid = self.partnership_id

        def read(s: Session) -> tuple[TrainingRow | None, Disaggregation | None]:
            t = lists.training(s, pid, code)
            return t, None if t is None else lists.disaggregation(s, pid, t.id)

        return self._state(read)

    def attendances(self, training_id: int, req: ListRequest = ListRequest()) -> Page[AttendanceRow]:
        return self._state(lambda s: lists.attendances(s, training_id, req))

    def disaggregation(self, training_id: int | None = None) -> Disaggregation:
        pid = self.partnership_id
        return self._state(lambda s: lists.disaggregation(s, pid, training_id))

    def engagements(self, req: ListRequest = ListRequest()) -> Page[EngagementRow]:
        pid = self.partnership_id
        return self._state(lambda s: lists.engagements(s, pid, req))

    def milestones(self, req: ListRequest = ListRequest()) -> Page[MilestoneRow]:
        pid = self.partnership_id
        return self._state(lambda s: lists.milestones(s, pid, req))

    def milestone(self, code: str) -> MilestoneRow | None:
        pid = self.partnership_id
        return self._state(lambda s: lists.milestone(s, pid, code))

    def milestone_alerts(self, day: date) -> MilestoneAlerts:
        pid = self.partnership_id
        return self._state(lambda s: lists.milestone_alerts(s, pid, day))

    def grants(self) -> tuple[GrantRow, ...]:
        pid = self.partnership_id
        return self._state(lambda s: lists.grants(s, pid))

    def grant_view(self, day: date) -> GrantView:
        """The awards and each one's figures on ``day`` (``finance.grant_figures``)."""
        from mou_tracker.services.finance import grant_figures

        pid = self.partnership_id
        return self._state(lambda s: GrantView(lists.grants(s, pid), tuple(grant_figures(s, pid, day))))

    def disbursements(self, grant_id: int, req: ListRequest = ListRequest()) -> Page[DisbursementRow]:
        return self._state(lambda s: lists.disbursements(s, grant_id, req))

    def expenditures(self, grant_id: int, req: ListRequest = ListRequest()) -> Page[ExpenditureRow]:
        return self._state(lambda s: lists.expenditures(s, grant_id, req))

    def commitments(self, grant_id: int, req: ListRequest = ListRequest()) -> Page[CommitmentRow]:
        return self._state(lambda s: lists.commitments(s, grant_id, req))

    def developments(self, req: ListRequest = ListRequest()) -> Page[DevelopmentRow]:
        pid = self.partnership_id
        return self._state(lambda s: lists.developments(s, pid, req))

    def development(self, development_id: int) -> DevelopmentRow | None:
        pid = self.partnership_id
        return self._state(lambda s: lists.development(s, pid, development_id))

    # Partnerships and the portfolio ---------------------------------------------------------------------------
    def partnerships(self) -> tuple[PartnershipInfo, ...]:
        """Every partnership the database holds, by code, as it stands (live): the switcher."""
        return self._trail(lists.partnerships)

    def for_partnership(self, code: str) -> Reader:
        """A reader of another partnership, live or as of the same day; close it when done."""
        return Reader(self._db, partnership=code, as_of=self.as_of)

    def portfolio(self, period: Quarter) -> Portfolio:
        """Every partnership's progress for ``period`` (each read as its own `progress` reads it) and the
        roll-up of the indicators they share (``read.portfolio``). As of a day, a partnership that did not
        exist yet is left out."""
        from mou_tracker.errors import NotFound
        from mou_tracker.read.portfolio import roll_up

        members = []
        for info in self.partnerships():
            with Reader(self._db, partnership=info.code, as_of=self.as_of, partnership_id=info.id) as one:
                try:
                    members.append(PartnershipProgress(one.info(), one.progress(period), one.grant_currency()))
                except NotFound:  # as of a day before it was created
                    continue
        return roll_up(period, self.as_of, members)

    def grant_currency(self) -> str | None:
        """The currency of the partnership's grants (None: no grant yet; "mixed": several)."""
        pid = self.partnership_id
        return self._state(lambda s: lists.grant_currency(s, pid))

    def unexplained(self, period: Quarter) -> tuple[str, ...]:
        """The codes of the indicators whose deviation from target in ``period`` no narrative explains (what
        stops a sign-off; the Indicators screen marks them)."""
        from mou_tracker.services.funder import unexplained_deviations

        pid = self.partnership_id
        return self._state(lambda s: tuple(d.code for d in unexplained_deviations(s, pid, period)))

    # Indicators -----------------------------------------------------------------------------------------------
    def progress(self, period: Quarter) -> Any:
        """Every indicator's figures for the quarter (``IndicatorEngine.progress``): `progress`, sign-off."""
        from mou_tracker.services.indicators import IndicatorEngine

        pid, as_of = self.partnership_id, self.as_of
        return self._state(lambda s: IndicatorEngine(s, pid).progress(period, as_of))

    def tracking_table(self, today: date) -> TrackingTable:
        pid = self.partnership_id
        return self._state(lambda s: lists.tracking_table(s, pid, today))

    def dashboard(self, quarter: Quarter, today: date) -> Dashboard:
        pid = self.partnership_id
        return self._state(lambda s: lists.dashboard(s, pid, quarter, today))

    def indicator_reference(self, code: str) -> IndicatorRef | None:
        pid = self.partnership_id
        return self._state(lambda s: lists.indicator_reference(s, pid, code))

    def manual_result(self, code: str, period: str) -> ManualResult | None:
        pid = self.partnership_id
        return self._state(lambda s: lists.manual_result(s, pid, code, period))

    def role_of(self, name: str) -> str | None:
        """The role of a registered user (None: not registered), as it stands now."""
        from sqlalchemy import select

        from mou_tracker.db.models import User

        return self._trail(lambda s: s.execute(select(User.role).where(User.name == name)).scalar_one_or_none())

    # The audit trail ------------------------------------------------------------------------------------------
    def events(self, req: ListRequest = ListRequest()) -> Page[AuditEntry]:
        """The partnership's audit events (and those of no partnership), newest first, up to the view's day."""
        pid, before = self.partnership_id, self.before
        return self._trail(lambda s: audit.event_page(s, pid, req, before))

    def event(self, seq: int) -> AuditEntry | None:
        before = self.before
        return self._trail(lambda s: audit.event(s, seq, before))

    def event_detail(self, seq: int) -> tuple[AuditEntry | None, dict[tuple[str, int], str]]:
        """An event and the names of the records its fields point at (("training", 41) -> "TR-2026-001")."""
        before = self.before
        return self._trail(lambda s: audit.event_detail(s, seq, before))

    def history(self, kind: str, entity_id: int) -> tuple[AuditEntry, ...]:
        """Every event about one record, oldest first, up to the view's day."""
        before = self.before
        return self._trail(lambda s: audit.history(s, kind, entity_id=entity_id, before=before))

    def milestone_history(self, code: str) -> tuple[MilestoneRow | None, tuple[AuditEntry, ...]]:
        """A milestone and its history (the UI's detail); no history when there is no such milestone."""
        m = self.milestone(code)
        return (None, ()) if m is None else (m, self.history("milestone", m.id))

    def chain_head(self) -> ChainHead:
        before = self.before
        return self._trail(lambda s: audit.chain_head(s, before))

    def audit_entries(self, flt: EventFilter = EventFilter(), *,
                      include_personal_data: bool = False) -> Iterator[AuditEntry]:
        """Every matching event in sequence order, read page by page (bounded memory): `audit log`, the
        audit workbook. Personal fields are hidden unless ``include_personal_data``."""
        personal, names = self._trail(lambda s: (PersonalData(s, include_personal_data).detach(),
                                                 audit.actor_names(s)))
        last = 0
        while True:
            page = self._trail(lambda s, after=last: audit.entries(s, flt, after_seq=after, personal=personal,
                                                                  names=names))
            if not page:
                return
            yield from page
            last = page[-1].seq

    def count_entries(self, flt: EventFilter = EventFilter()) -> int:
        return self._trail(lambda s: audit.count_entries(s, flt))

    def verify_chain(self, **options: Any) -> Any:
        """Recompute the hash chain and replay it against the tables (``services.verify.verify_chain``)."""
        from mou_tracker.services.verify import verify_chain

        return verify_chain(self._db, **options)

    # Sign-off ---------------------------------------------------------------------------------------------------
    def period_status(self, quarter: Quarter | str) -> PeriodStatus:
        pid = self.partnership_id
        return self._state(lambda s: status.period_status(s, pid, quarter))

    def signoff_records(self, pid: int | None) -> tuple[tuple[Signoff, ...], tuple[Lock, ...], tuple[Restatement, ...]]:
        """Every sign-off, lock and restatement of partnership ``pid`` (None: of every partnership), live."""
        return self._trail(lambda s: (status.signoffs(s, pid), status.locks(s, pid), status.restatements(s, pid)))

    # The progress report ----------------------------------------------------------------------------------------
    def report_data(self, party: str, period: Quarter, *, include_personal_data: bool = False) -> ReportData:
        """Everything a party's progress report for ``period`` shows, as of the view's day."""
        pid, as_of = self.partnership_id, self.as_of
        data = self._state(lambda s: report.report_state(s, pid, party, period, as_of, include_personal_data))
        before = self.before
        return self._trail(lambda s: report.with_trail(data, audit.chain_head(s, before),
                                                       audit.history(s, "milestone", partnership_id=pid,
                                                                     before=before)))
