"""What a party's progress report shows, built once from one session (live or as of a day) and the audit
trail; the sheets are written from this ``ReportData`` alone.

Indicator figures come from ``IndicatorEngine`` and grant figures from ``finance.grant_figures``: nothing here
recomputes them. The lists and the breakdowns by sex, agency and type are ``lists``' queries; tests check that
the breakdowns add up to the engine's totals.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from mou_tracker.domain.periods import Quarter, quarter_range
from mou_tracker.errors import NotFound
from mou_tracker.read import lists, status
from mou_tracker.read.views import AuditEntry, ChainHead, ReportData
from mou_tracker.services.finance import grant_figures, sf425
from mou_tracker.services.indicators import IndicatorEngine


def report_state(s: Session, pid: int, party: str, period: Quarter, as_of: date | None,
                 include_personal_data: bool) -> ReportData:
    """The report's records and figures from session ``s``; the trail's part comes with ``with_trail``."""
    try:
        info = lists.partnership_info(s, pid)
    except NotFound:
        if as_of is None:
            raise
        raise NotFound(f"on {as_of} the partnership did not exist yet; choose a later --as-of date") from None
    chosen = next((p for p in info.parties if p.code == party.lower()), None)
    if chosen is None:
        raise NotFound(f"partnership {info.code} has no party '{party}' "
                       f"(parties: {', '.join(p.code for p in info.parties) or 'none'})")
    engine = IndicatorEngine(s, pid)
    first = min(Quarter.of(info.start_date), period)
    quarters = tuple(quarter_range(first, period))
    end = period.end
    return ReportData(
        partnership=info, party=chosen, period=period, as_of=as_of, chain=ChainHead(0, ""), quarters=quarters,
        progress={q: engine.progress(q, as_of) for q in quarters},
        definitions=lists.definitions(engine, lists.baselines(s, pid)),
        grants=tuple(grant_figures(s, pid, end, engine)), sf425=tuple(sf425(s, pid, end)),
        commitments=lists.commitments_until(s, pid, end),
        developments=lists.developments_in(s, pid, period.start, end), trainings=lists.trainings_until(s, pid, end),
        newly_trained=lists.newly_trained(s, pid, period), engagements=lists.engagements_until(s, pid, end),
        engagement_types=lists.engagement_types(s, pid, period), milestones=lists.all_milestones(s, pid),
        disbursements=lists.disbursements_until(s, pid, end), status=status.period_status(s, pid, period),
        participants=lists.participants_until(s, pid, end) if include_personal_data else None,
    )


def with_trail(data: ReportData, chain: ChainHead, history: tuple[AuditEntry, ...]) -> ReportData:
    """The report with the audit chain's head and the milestones' history at its as-of time."""
    return replace(data, chain=chain, history=history)
