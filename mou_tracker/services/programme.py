"""Every write to the programme's records: validated, then audited in the same transaction.

``Services(db, actor)`` is the one entry point the CLI, the UI and the importer use. Each public method runs
in its own transaction unless called inside ``with services.transaction():``, which makes a batch atomic
(an import, the demo). Problems are raised as ``ValidationError`` naming each field by its label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from mou_tracker.db.engine import Database
from mou_tracker.db.models import (
    Attendance,
    AuditEvent,
    Base,
    BudgetLine,
    Disbursement,
    Engagement,
    Expenditure,
    Grant,
    Indicator,
    Milestone,
    Narrative,
    Participant,
    Partnership,
    Party,
    PeriodLock,
    Result,
    Target,
    Training,
    User,
)
from mou_tracker.domain import codes
from mou_tracker.domain.identity import case_key, normalise_name, normalise_staff_number, participant_key
from mou_tracker.domain.money import convert
from mou_tracker.domain.periods import Quarter, validate_fiscal_start
from mou_tracker.errors import NotFound, PermissionDenied, Problem, ReasonRequired, ValidationError
from mou_tracker.services.audit import AuditWriter, Reason, column_converters, column_value, row_values
from mou_tracker.services.fields import Field, parse_fields
from mou_tracker.services.framework import STANDARD_INDICATORS, STANDARD_PARTIES, STANDARD_PARTNERSHIP

D0 = Decimal(0)
D100 = Decimal(100)

# Field sets: attribute, label (= the import workbook's column header), kind, rules ---------------------------
TRAINING_FIELDS = (
    Field("code", "Training ID", required=True, max_len=60),
    Field("title", "Title", required=True, max_len=300),
    Field("topic", "Topic", required=True),
    Field("start_date", "Start date", "date", required=True),
    Field("end_date", "End date", "date", required=True),
    Field("county", "County", "county", required=True),
    Field("venue", "Venue"),
    Field("delivery", "Delivery", "code", vocab=codes.DELIVERIES),
    Field("lead", "Lead", "code", vocab=codes.LEADS),
    Field("cost", "Cost", "decimal", minimum=D0),
    Field("currency", "Currency", "currency"),
)
ATTENDANCE_FIELDS = (
    Field("training_code", "Training ID", required=True, max_len=60),
    Field("name", "Name", required=True),
    Field("sex", "Sex", "code", required=True, vocab=codes.SEXES),
    Field("agency", "Agency", "code", required=True, vocab=codes.AGENCIES),
    Field("role", "Role"),
    Field("staff_number", "Staff number", max_len=60),
    Field("pre_score", "Pre-test score", "decimal", minimum=D0, maximum=D100),
    Field("post_score", "Post-test score", "decimal", minimum=D0, maximum=D100),
)
ENGAGEMENT_FIELDS = (
    Field("code", "Engagement ID", required=True, max_len=60),
    Field("date", "Date", "date", required=True),
    Field("type", "Type", "code", required=True, vocab=codes.ENGAGEMENT_TYPES),
    Field("county", "County", "county", required=True),
    Field("case_ref", "Case reference", max_len=120),
    Field("hours", "Hours", "decimal", required=True, minimum=D0, maximum=Decimal(10000)),
    Field("hti_advisor", "HTI advisor"),
    Field("odpp_counterpart", "ODPP counterpart"),
    Field("summary", "Summary", max_len=5000),
)
MILESTONE_FIELDS = (
    Field("code", "Milestone ID", required=True, max_len=60),
    Field("title", "Title", required=True, max_len=300),
    Field("workstream", "Workstream", "code", vocab=codes.WORKSTREAMS),
    Field("owner", "Owner", "code", vocab=codes.OWNERS),
    Field("due_date", "Due date", "date", required=True),
    Field("status", "Status", "code", required=True, vocab=codes.MILESTONE_STATUSES),
    Field("completed_on", "Completed on", "date"),
    Field("evidence", "Evidence", max_len=2000),
)
RESULT_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("value", "Value", "decimal", required=True),
    Field("source", "Source", max_len=2000),
)
TARGET_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("value", "Target", "decimal", required=True, minimum=D0),
)
NARRATIVE_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("text", "Narrative", max_len=4000),
)
GRANT_FIELDS = (
    Field("code", "Grant code", required=True, max_len=60),
    Field("funder", "Funder", required=True),
    Field("currency", "Currency", "currency", required=True),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("start_date", "Start date", "date", required=True),
    Field("end_date", "End date", "date", required=True),
)
BUDGET_FIELDS = (
    Field("code", "Line code", required=True, max_len=60),
    Field("name", "Name", required=True),
    Field("category", "Category", max_len=60),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
)
DISBURSEMENT_FIELDS = (
    Field("date", "Date", "date", required=True),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("currency", "Currency", "currency", required=True),
    Field("rate", "Rate", "decimal", scale=6, round_excess=True, minimum=D0),
    Field("reference", "Reference", max_len=120),
)
EXPENDITURE_FIELDS = (
    Field("code", "Expenditure ID", required=True, max_len=60),
    Field("date", "Date", "date", required=True),
    Field("line_code", "Line code", required=True, max_len=60),
    Field("description", "Description", required=True, max_len=2000),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("currency", "Currency", "currency", required=True),
    Field("rate", "Rate", "decimal", scale=6, round_excess=True, minimum=D0),
    Field("reference", "Reference", max_len=120),
    Field("training_code", "Training ID", max_len=60),
    Field("engagement_code", "Engagement ID", max_len=60),
)
INDICATOR_FIELDS = (
    Field("code", "Indicator code", required=True, max_len=20),
    Field("name", "Name", required=True),
    Field("unit", "Unit", required=True, max_len=60),
    Field("kind", "Kind", "code", required=True, vocab=codes.INDICATOR_KINDS),
    Field("decimals", "Decimals", "int", minimum=D0, maximum=Decimal(4)),
    Field("higher_is_better", "Higher is better"),
    Field("band_low", "Band low (%)", "decimal", minimum=D0, maximum=Decimal(1000)),
    Field("band_high", "Band high (%)", "decimal", minimum=D0, maximum=Decimal(1000)),
    Field("definition", "Definition", max_len=4000),
    Field("data_source", "Data source", max_len=4000),
    Field("how_computed", "How computed", max_len=4000),
    Field("disaggregations", "Disaggregations", max_len=1000),
)

ENTITY_FIELDS: dict[str, tuple[Field, ...]] = {
    "training": TRAINING_FIELDS,
    "attendance": ATTENDANCE_FIELDS,
    "engagement": ENGAGEMENT_FIELDS,
    "milestone": MILESTONE_FIELDS,
    "result": RESULT_FIELDS,
    "target": TARGET_FIELDS,
    "narrative": NARRATIVE_FIELDS,
    "grant": GRANT_FIELDS,
    "budget_line": BUDGET_FIELDS,
    "disbursement": DISBURSEMENT_FIELDS,
    "expenditure": EXPENDITURE_FIELDS,
    "indicator": INDICATOR_FIELDS,
}


@dataclass
class SaveResult:
    """What a save did: ``action`` is created, updated or unchanged; ``changes`` maps field -> (old, new)."""

    obj: Any
    action: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


class UnitOfWork:
    """One write transaction: its session, its audit writer and a few caches."""

    def __init__(self, session: Session, audit: AuditWriter) -> None:
        self.session = session
        self.audit = audit
        self.locked: dict[int, set[str]] = {}


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def _sha256_of(evidence: str | None) -> str | None:
    """The SHA-256 of the file an evidence text names, when it names a readable file."""
    if not evidence or len(evidence) > 1000 or "\n" in evidence:
        return None
    try:
        path = Path(evidence).expanduser()
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except (OSError, ValueError):
        return None


class Services:
    """The service layer for one database, one actor and (once resolved) one partnership."""

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
        self._clock = clock
        self._uow: UnitOfWork | None = None

    # Transactions -------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A write transaction; nested calls share the outermost one. Rolls back on any exception."""
        if self._uow is not None:
            yield self._uow
            return
        if self.read_only:
            raise PermissionDenied("this session is read-only: no change can be made")
        session = self.db.write_session()
        try:
            with session.begin():
                self._check_may_write(session)
                self._uow = UnitOfWork(session, AuditWriter(session, self.actor, self._clock))
                yield self._uow
                self._before_commit(self._uow)
        finally:
            self._uow = None
            session.close()

    def _before_commit(self, uow: UnitOfWork) -> None:
        """A change to a locked quarter's figures needs a reason and is recorded as a restatement."""
        from mou_tracker.services.signoff import record_restatements

        record_restatements(self, uow)

    def _check_may_write(self, session: Session) -> None:
        role = session.execute(select(User.role).where(User.name == self.actor)).scalar_one_or_none()
        if role == "evaluator":
            raise PermissionDenied(f"{self.actor} is an evaluator: evaluators can read and verify, not change records")

    def role_of(self, name: str | None = None) -> str | None:
        with self.db.reading() as s:
            return s.execute(select(User.role).where(User.name == (name or self.actor))).scalar_one_or_none()

    # Partnership --------------------------------------------------------------------------------------------
    @property
    def partnership_id(self) -> int:
        if self._partnership_id is None:
            self._partnership_id = self._resolve_partnership()
        return self._partnership_id

    def _resolve_partnership(self) -> int:
        if self._uow is not None:  # inside a write: see what this transaction has written
            return self._resolve_in(self._uow.session)
        with self.db.reading() as s:
            return self._resolve_in(s)

    def _resolve_in(self, s: Session) -> int:
        if self._partnership_code:
            pid = s.execute(select(Partnership.id).where(Partnership.code == self._partnership_code)).scalar()
            if pid is None:
                known = ", ".join(s.execute(select(Partnership.code)).scalars()) or "none"
                raise NotFound(f"no partnership '{self._partnership_code}' (known: {known})")
            return pid
        rows = s.execute(select(Partnership.id, Partnership.code).order_by(Partnership.id)).all()
        if not rows:
            raise NotFound("the database holds no partnership yet; run `mou-tracker init`")
        if len(rows) > 1:
            raise NotFound(
                "the database holds several partnerships; choose one with --partnership "
                f"({', '.join(r.code for r in rows)})"
            )
        return rows[0].id

    # Generic create/update/delete with audit -----------------------------------------------------------------
    def _create(self, uow: UnitOfWork, kind: str, obj: Base, ref: str, pid: int | None,
                reason: Reason | None = None) -> SaveResult:
        uow.session.add(obj)
        uow.session.flush()
        values = row_values(obj)
        uow.audit.append("create", kind, obj.id, ref, pid, {k: [None, v] for k, v in values.items()}, reason)  # type: ignore[attr-defined]
        return SaveResult(obj, "created", {k: (None, v) for k, v in values.items()})

    def _update(self, uow: UnitOfWork, kind: str, obj: Base, values: Mapping[str, Any], ref: str,
                pid: int | None, reason: Reason | None, why: list[str] | None = None) -> SaveResult:
        diff: dict[str, tuple[Any, Any]] = {}
        columns = obj.__table__.columns  # type: ignore[attr-defined]
        for attr, new in values.items():
            old = getattr(obj, attr)
            if column_value(columns[attr], old) != column_value(columns[attr], new):
                diff[attr] = (old, new)
        if not diff:
            return SaveResult(obj, "unchanged")
        needs = list(why or [])
        needs += self._locked_reasons(uow, pid, self._periods_of(kind, obj, values))
        if needs and reason is None:
            raise ReasonRequired(Problem("Reason", f"{'; '.join(needs)} needs a reason (category and text)"))
        for attr, (_old, new) in diff.items():
            setattr(obj, attr, new)
        uow.session.flush()
        changes = {k: [column_value(columns[k], o), column_value(columns[k], n)] for k, (o, n) in diff.items()}
        uow.audit.append("update", kind, obj.id, ref, pid, changes, reason)  # type: ignore[attr-defined]
        return SaveResult(obj, "updated", diff)

    def _delete(self, uow: UnitOfWork, kind: str, obj: Base, ref: str, pid: int | None,
                reason: Reason | None) -> None:
        if reason is None:
            raise ReasonRequired(Problem("Reason", f"deleting {kind.replace('_', ' ')} {ref} needs a reason"))
        values = row_values(obj)
        oid = obj.id  # type: ignore[attr-defined]
        uow.session.delete(obj)
        uow.session.flush()
        uow.audit.append("delete", kind, oid, ref, pid, {k: [v, None] for k, v in values.items()}, reason)

    def _periods_of(self, kind: str, obj: Base, values: Mapping[str, Any]) -> set[str]:
        attrs = {"training": ("end_date",), "engagement": ("date",), "milestone": ("completed_on",),
                 "expenditure": ("date",), "disbursement": ("date",), "target": ("period",),
                 "result": ("period",), "narrative": ("period",)}.get(kind, ())
        periods: set[str] = set()
        for attr in attrs:
            for value in (getattr(obj, attr, None), values.get(attr)):
                if isinstance(value, date):
                    periods.add(str(Quarter.of(value)))
                elif isinstance(value, str):
                    periods.add(value)
        return periods

    def _locked_reasons(self, uow: UnitOfWork, pid: int | None, periods: set[str]) -> list[str]:
        if pid is None or not periods:
            return []
        if pid not in uow.locked:
            uow.locked[pid] = set(
                uow.session.execute(select(PeriodLock.period).where(PeriodLock.partnership_id == pid)).scalars()
            )
        hit = sorted(periods & uow.locked[pid])
        return [f"changing a record in locked period {p}" for p in hit]

    def locked_periods(self) -> set[str]:
        with self.db.reading() as s:
            return set(s.execute(select(PeriodLock.period).where(PeriodLock.partnership_id == self.partnership_id))
                       .scalars())

    # Set-up: partnership, parties, framework, users ------------------------------------------------------------
    def seed_standard(self) -> bool:
        """Create the ODPP-HTI partnership, its parties and the standard results framework if absent, and
        make the acting user the first admin of a new database. Returns True when something was created."""
        with self.transaction() as uow:
            created = self.create_partnership(STANDARD_PARTNERSHIP)
            if uow.session.execute(select(func.count(User.id))).scalar() == 0:
                self._create(uow, "user", User(name=self.actor, role="admin", display_name=None), self.actor, None)
                created = True
            return created

    def create_partnership(self, values: Mapping[str, Any], parties: Sequence[Mapping[str, Any]] = STANDARD_PARTIES
                           ) -> bool:
        """Create a partnership (code, name, country, start_date, end_date) with its parties and the standard
        results framework; whatever already exists is kept. Returns True when something was created."""
        problems = [Problem(k.replace("_", " ").capitalize(), "is required")
                    for k in ("code", "name", "country", "start_date") if not values.get(k)]
        _raise(problems)
        with self.transaction() as uow:
            s = uow.session
            p = s.execute(select(Partnership).where(Partnership.code == values["code"])).scalar()
            created = False
            if p is None:
                p = Partnership(**{k: values.get(k) for k in ("code", "name", "country", "start_date", "end_date")})
                self._create(uow, "partnership", p, p.code, None)
                created = True
            for party in parties:
                exists = s.execute(select(Party.id).where(Party.partnership_id == p.id, Party.code == party["code"]))
                if exists.scalar() is None:
                    self._create(uow, "party", Party(partnership_id=p.id, **party), party["code"], p.id)
                    created = True
            for position, d in enumerate(STANDARD_INDICATORS):
                exists = s.execute(select(Indicator.id).where(Indicator.partnership_id == p.id,
                                                              Indicator.code == d.code))
                if exists.scalar() is None:
                    ind = Indicator(partnership_id=p.id, code=d.code, name=d.name, unit=d.unit, kind=d.kind,
                                    rule=d.rule, decimals=d.decimals, higher_is_better=True,
                                    band_low=Decimal(85), band_high=Decimal(115), position=position,
                                    definition=d.definition, data_source=d.data_source,
                                    how_computed=d.how_computed, disaggregations=d.disaggregations or None)
                    self._create(uow, "indicator", ind, d.code, p.id)
                    created = True
            return created

    def save_user(self, name: str, role: str, display_name: str | None = None) -> SaveResult:
        role_c = codes.canonical(role, codes.ROLES)
        problems = [] if role_c else [Problem("Role", f"'{role}' is not one of: {', '.join(codes.ROLES)}")]
        if not str(name).strip():
            problems.append(Problem("Name", "is required"))
        _raise(problems)
        with self.transaction() as uow:
            admins = uow.session.execute(select(User.name).where(User.role == "admin")).scalars().all()
            if admins and self.actor not in admins:
                raise PermissionDenied(f"only an admin ({', '.join(admins)}) can add users or change roles")
            user = uow.session.execute(select(User).where(User.name == name.strip())).scalar()
            if user is None:
                return self._create(uow, "user", User(name=name.strip(), role=role_c, display_name=display_name),
                                    name.strip(), None)
            return self._update(uow, "user", user, {"role": role_c, "display_name": display_name}, user.name, None,
                                None)

    def update_party(self, party_code: str, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Change a party's profile: name, fiscal_start_month, fiscal_label_style, currency."""
        allowed = {"name", "fiscal_start_month", "fiscal_label_style", "currency"}
        problems = [Problem(k, "is not a party setting") for k in values if k not in allowed]
        if "fiscal_start_month" in values:
            try:
                validate_fiscal_start(int(values["fiscal_start_month"]))
            except (ValueError, TypeError) as exc:
                problems.append(Problem("Fiscal year start month", str(exc)))
        if values.get("fiscal_label_style", "split") not in ("split", "end_year"):
            problems.append(Problem("Fiscal label style", "must be 'split' (FY2025/26) or 'end_year' (FY2026)"))
        _raise(problems)
        with self.transaction() as uow:
            party = uow.session.execute(select(Party).where(Party.partnership_id == self.partnership_id,
                                                            Party.code == party_code.lower())).scalar()
            if party is None:
                raise NotFound(f"no party '{party_code}'")
            return self._update(uow, "party", party, dict(values), party.code, self.partnership_id, reason)

    # Indicators, targets, results, narratives ------------------------------------------------------------------
    def _indicator(self, uow: UnitOfWork, code: str, label: str = "Indicator code") -> Indicator:
        ind = uow.session.execute(select(Indicator).where(Indicator.partnership_id == self.partnership_id,
                                                          Indicator.code == code)).scalar()
        if ind is None:
            raise ValidationError(Problem(label, f"no indicator '{code}' in this partnership"))
        return ind

    def save_indicator(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Create a user-defined (manual) indicator, or edit an indicator's name, unit, bands and reference
        sheet. The computation rule and kind of a standard indicator cannot change."""
        data, problems = parse_fields(INDICATOR_FIELDS, dict(values), partial=True)
        _raise(problems)
        if "higher_is_better" in data and data["higher_is_better"] is not None:
            data["higher_is_better"] = str(data["higher_is_better"]).strip().lower() in ("1", "true", "yes", "y")
        with self.transaction() as uow:
            pid = self.partnership_id
            ind = uow.session.execute(select(Indicator).where(Indicator.partnership_id == pid,
                                                              Indicator.code == data.get("code"))).scalar()
            if ind is None:
                full, problems = parse_fields(INDICATOR_FIELDS, dict(values))
                _raise(problems)
                position = uow.session.execute(select(func.coalesce(func.max(Indicator.position), -1))
                                               .where(Indicator.partnership_id == pid)).scalar_one() + 1
                ind = Indicator(partnership_id=pid, code=full["code"], name=full["name"], unit=full["unit"],
                                kind=full["kind"], rule="manual", decimals=full.get("decimals") or 0,
                                higher_is_better=data.get("higher_is_better", True) is not False,
                                band_low=full.get("band_low") or Decimal(85),
                                band_high=full.get("band_high") or Decimal(115), position=position,
                                definition=full.get("definition"), data_source=full.get("data_source"),
                                how_computed=full.get("how_computed") or "Manual value per quarter.",
                                disaggregations=full.get("disaggregations"))
                self._check_bands(ind.band_low, ind.band_high)
                return self._create(uow, "indicator", ind, ind.code, pid, reason)
            data.pop("code", None)
            if ind.rule != "manual" and "kind" in data and data["kind"] != ind.kind:
                raise ValidationError(Problem("Kind", f"indicator {ind.code} is computed; its kind cannot change"))
            data = {k: v for k, v in data.items() if v is not None or k in ("definition", "data_source",
                                                                           "how_computed", "disaggregations")}
            self._check_bands(data.get("band_low", ind.band_low), data.get("band_high", ind.band_high))
            return self._update(uow, "indicator", ind, data, ind.code, pid, reason)

    @staticmethod
    def _check_bands(low: Decimal, high: Decimal) -> None:
        if low > D100 or high < D100:
            raise ValidationError(Problem("Band low (%)", f"bands must surround 100 % (low {low} ≤ 100 ≤ high {high})"))

    def set_target(self, indicator_code: str, period: str, value: Any, reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(TARGET_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                      "value": value})
        _raise(problems)
        with self.transaction() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            t = uow.session.execute(select(Target).where(Target.indicator_id == ind.id,
                                                         Target.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            if t is None:
                return self._create(uow, "target", Target(indicator_id=ind.id, period=data["period"],
                                                          value=data["value"]), ref, self.partnership_id, reason)
            return self._update(uow, "target", t, {"value": data["value"]}, ref, self.partnership_id, reason)

    def set_result(self, indicator_code: str, period: str, value: Any, source: str | None = None,
                   reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(RESULT_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                      "value": value, "source": source})
        _raise(problems)
        with self.transaction() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            if ind.rule != "manual":
                raise ValidationError(Problem("Indicator code", f"indicator {ind.code} is computed from the "
                                                                 "records; it takes no manual value"))
            if ind.kind == "sum" and data["value"] < 0 and ind.higher_is_better:
                raise ValidationError(Problem("Value", f"{data['value']} is negative; a count cannot be"))
            r = uow.session.execute(select(Result).where(Result.indicator_id == ind.id,
                                                         Result.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            if r is None:
                return self._create(uow, "result", Result(indicator_id=ind.id, period=data["period"],
                                                          value=data["value"], source=data["source"]),
                                    ref, self.partnership_id, reason)
            return self._update(uow, "result", r, {"value": data["value"], "source": data["source"]}, ref,
                                self.partnership_id, reason)

    def set_narrative(self, indicator_code: str, period: str, text: str | None,
                      reason: Reason | None = None) -> SaveResult | None:
        data, problems = parse_fields(NARRATIVE_FIELDS, {"indicator_code": indicator_code, "period": period,
                                                         "text": text})
        _raise(problems)
        with self.transaction() as uow:
            ind = self._indicator(uow, data["indicator_code"])
            n = uow.session.execute(select(Narrative).where(Narrative.indicator_id == ind.id,
                                                            Narrative.period == data["period"])).scalar()
            ref = f"{ind.code}@{data['period']}"
            if not data["text"]:
                if n is not None:
                    self._delete(uow, "narrative", n, ref, self.partnership_id, reason or Reason("other", "cleared"))
                return None
            if n is None:
                return self._create(uow, "narrative", Narrative(indicator_id=ind.id, period=data["period"],
                                                                text=data["text"]), ref, self.partnership_id)
            return self._update(uow, "narrative", n, {"text": data["text"]}, ref, self.partnership_id, reason)

    def delete_target(self, indicator_code: str, period: str, reason: Reason | None) -> None:
        self._delete_keyed(Target, "target", indicator_code, period, reason)

    def delete_result(self, indicator_code: str, period: str, reason: Reason | None) -> None:
        self._delete_keyed(Result, "result", indicator_code, period, reason)

    def _delete_keyed(self, model: type[Target] | type[Result], kind: str, code: str, period: str,
                      reason: Reason | None) -> None:
        with self.transaction() as uow:
            ind = self._indicator(uow, code)
            row: Any = uow.session.execute(select(model).where(model.indicator_id == ind.id,
                                                          model.period == str(Quarter.parse(period)))).scalar()
            if row is None:
                raise NotFound(f"no {kind} for {code} in {period}")
            self._delete(uow, kind, row, f"{code}@{row.period}", self.partnership_id, reason)

    # Trainings and attendance ------------------------------------------------------------------------------------
    def _find(self, uow: UnitOfWork, model: Any, code: str) -> Any:
        return uow.session.execute(select(model).where(model.partnership_id == self.partnership_id,
                                                       model.code == code)).scalar()

    def save_training(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(TRAINING_FIELDS, dict(values))
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            problems.append(Problem("End date", f"{data['end_date']} is before the start date {data['start_date']}"))
        _raise(problems)
        with self.transaction() as uow:
            t = self._find(uow, Training, data["code"])
            if t is None:
                return self._create(uow, "training", Training(partnership_id=self.partnership_id, **data),
                                    data["code"], self.partnership_id, reason)
            return self._update(uow, "training", t, data, t.code, self.partnership_id, reason)

    def delete_training(self, code: str, reason: Reason | None) -> None:
        """Delete a training and its attendances (each audited). Refused while expenditures link to it."""
        with self.transaction() as uow:
            t = self._find(uow, Training, code)
            if t is None:
                raise NotFound(f"no training '{code}'")
            if reason is None:
                raise ReasonRequired(Problem("Reason", f"deleting training {code} needs a reason"))
            linked = uow.session.execute(select(func.count(Expenditure.id))
                                         .where(Expenditure.training_id == t.id)).scalar_one()
            if linked:
                raise ValidationError(Problem("Training ID", f"{linked} expenditure(s) link to training {code}; "
                                                             "unlink them first"))
            for a in uow.session.execute(select(Attendance).where(Attendance.training_id == t.id)).scalars().all():
                self._delete(uow, "attendance", a, f"{code}/{a.participant_id}", self.partnership_id, reason)
            self._delete(uow, "training", t, code, self.partnership_id, reason)

    def record_attendance(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Add (or update) one participant's attendance of a training, creating the participant when new.

        The person is found by the identity rule (staff number, else name + agency). Returns the result of
        the attendance save; participant changes are audited separately.
        """
        data, problems = parse_fields(ATTENDANCE_FIELDS, dict(values))
        _raise(problems)
        with self.transaction() as uow:
            training = self._find(uow, Training, data["training_code"])
            if training is None:
                raise ValidationError(Problem("Training ID", f"no training '{data['training_code']}'"))
            person = self._upsert_participant(uow, data, reason)
            att = uow.session.execute(select(Attendance).where(Attendance.training_id == training.id,
                                                               Attendance.participant_id == person.id)).scalar()
            ref = f"{training.code}/{person.id}"
            scores = {"pre_score": data["pre_score"], "post_score": data["post_score"]}
            if att is None:
                return self._create(uow, "attendance", Attendance(training_id=training.id, participant_id=person.id,
                                                                  **scores), ref, self.partnership_id, reason)
            return self._update(uow, "attendance", att, scores, ref, self.partnership_id, reason)

    def _upsert_participant(self, uow: UnitOfWork, data: Mapping[str, Any], reason: Reason | None) -> Participant:
        pid = self.partnership_id
        key = participant_key(data["name"], data["agency"], data["staff_number"])
        person = uow.session.execute(select(Participant).where(Participant.partnership_id == pid,
                                                               Participant.key == key)).scalar()
        staff = normalise_staff_number(data["staff_number"])
        if person is None:
            person = Participant(partnership_id=pid, key=key, name=" ".join(data["name"].split()), sex=data["sex"],
                                 agency=data["agency"], role=data["role"], staff_number=staff)
            self._create(uow, "participant", person, str(key), pid)
            return person
        changes: dict[str, Any] = {"sex": data["sex"], "agency": data["agency"]}
        if data["role"]:
            changes["role"] = data["role"]
        if normalise_name(person.name) != normalise_name(data["name"]):
            changes["name"] = " ".join(data["name"].split())
        self._update(uow, "participant", person, changes, str(person.id), pid, reason)
        return person

    def remove_attendance(self, training_code: str, participant_id: int, reason: Reason | None) -> None:
        with self.transaction() as uow:
            training = self._find(uow, Training, training_code)
            att = None if training is None else uow.session.execute(
                select(Attendance).where(Attendance.training_id == training.id,
                                         Attendance.participant_id == participant_id)).scalar()
            if att is None:
                raise NotFound(f"participant {participant_id} did not attend training '{training_code}'")
            self._delete(uow, "attendance", att, f"{training_code}/{participant_id}", self.partnership_id, reason)

    # Technical support -------------------------------------------------------------------------------------------
    def save_engagement(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(ENGAGEMENT_FIELDS, dict(values))
        if data.get("type") == codes.CASE_MENTORING and not data.get("case_ref"):
            problems.append(Problem("Case reference", "is required for Case mentoring"))
        _raise(problems)
        data["case_key"] = case_key(data["case_ref"])
        with self.transaction() as uow:
            e = self._find(uow, Engagement, data["code"])
            if e is None:
                return self._create(uow, "engagement", Engagement(partnership_id=self.partnership_id, **data),
                                    data["code"], self.partnership_id, reason)
            return self._update(uow, "engagement", e, data, e.code, self.partnership_id, reason)

    def delete_engagement(self, code: str, reason: Reason | None) -> None:
        self._delete_coded(Engagement, "engagement", code, reason)

    def _delete_coded(self, model: Any, kind: str, code: str, reason: Reason | None) -> None:
        with self.transaction() as uow:
            obj = self._find(uow, model, code)
            if obj is None:
                raise NotFound(f"no {kind.replace('_', ' ')} '{code}'")
            if kind == "engagement":
                linked = uow.session.execute(select(func.count(Expenditure.id))
                                             .where(Expenditure.engagement_id == obj.id)).scalar_one()
                if linked:
                    raise ValidationError(Problem("Engagement ID", f"{linked} expenditure(s) link to {code}; "
                                                                   "unlink them first"))
            self._delete(uow, kind, obj, code, self.partnership_id, reason)

    # Milestones ----------------------------------------------------------------------------------------------------
    def save_milestone(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        """Create or update a milestone. Its first due date is kept as the original due date; changing the
        due date or moving the status backwards needs a reason."""
        data, problems = parse_fields(MILESTONE_FIELDS, dict(values))
        if data.get("status") == codes.COMPLETED and not data.get("completed_on"):
            problems.append(Problem("Completed on", "is required when the status is Completed"))
        if data.get("completed_on") and data.get("status") and data["status"] != codes.COMPLETED:
            problems.append(Problem("Completed on", f"is only for Completed milestones (status is {data['status']})"))
        _raise(problems)
        data["evidence_sha256"] = _sha256_of(data.get("evidence"))
        with self.transaction() as uow:
            m = self._find(uow, Milestone, data["code"])
            if m is None:
                m = Milestone(partnership_id=self.partnership_id, original_due_date=data["due_date"], **data)
                return self._create(uow, "milestone", m, data["code"], self.partnership_id, reason)
            why = []
            if m.due_date != data["due_date"]:
                why.append(f"moving the due date of {m.code} from {m.due_date} to {data['due_date']}")
            if codes.status_moves_backwards(m.status, data["status"]):
                why.append(f"moving {m.code} back from {m.status} to {data['status']}")
            return self._update(uow, "milestone", m, data, m.code, self.partnership_id, reason, why)

    def delete_milestone(self, code: str, reason: Reason | None) -> None:
        self._delete_coded(Milestone, "milestone", code, reason)

    # Grant ----------------------------------------------------------------------------------------------------------
    def save_grant(self, values: Mapping[str, Any], reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(GRANT_FIELDS, dict(values))
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            problems.append(Problem("End date", f"{data['end_date']} is before the start date {data['start_date']}"))
        _raise(problems)
        with self.transaction() as uow:
            g = self._find(uow, Grant, data["code"])
            if g is None:
                return self._create(uow, "grant", Grant(partnership_id=self.partnership_id, **data), data["code"],
                                    self.partnership_id, reason)
            if data["currency"] != g.currency and self._grant_has_money(uow, g.id):
                raise ValidationError(Problem("Currency", f"grant {g.code} already has disbursements or "
                                                          f"expenditures in {g.currency}; its currency cannot change"))
            return self._update(uow, "grant", g, data, g.code, self.partnership_id, reason)

    def _grant_has_money(self, uow: UnitOfWork, grant_id: int) -> bool:
        s = uow.session
        return bool(s.execute(select(func.count(Expenditure.id)).where(Expenditure.grant_id == grant_id)).scalar()
                    or s.execute(select(func.count(Disbursement.id)).where(Disbursement.grant_id == grant_id)).scalar())

    def _grant(self, uow: UnitOfWork, code: str | None, label: str = "Grant code") -> Grant:
        grants = uow.session.execute(select(Grant).where(Grant.partnership_id == self.partnership_id)
                                     .order_by(Grant.id)).scalars().all()
        if code:
            for g in grants:
                if g.code == code:
                    return g
            raise ValidationError(Problem(label, f"no grant '{code}'"))
        if not grants:
            raise ValidationError(Problem(label, "the partnership has no grant yet; add the grant first"))
        if len(grants) > 1:
            raise ValidationError(Problem(label, f"several grants ({', '.join(g.code for g in grants)}); name one"))
        return grants[0]

    def save_budget_line(self, values: Mapping[str, Any], grant_code: str | None = None,
                         reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(BUDGET_FIELDS, dict(values))
        _raise(problems)
        if data.get("category"):
            data["category"] = codes.canonical(data["category"], codes.BUDGET_CATEGORIES) or data["category"]
        with self.transaction() as uow:
            g = self._grant(uow, grant_code)
            line = uow.session.execute(select(BudgetLine).where(BudgetLine.grant_id == g.id,
                                                                BudgetLine.code == data["code"])).scalar()
            if line is None:
                return self._create(uow, "budget_line", BudgetLine(grant_id=g.id, **data), data["code"],
                                    self.partnership_id, reason)
            return self._update(uow, "budget_line", line, data, line.code, self.partnership_id, reason)

    def _converted(self, data: dict[str, Any], grant: Grant, problems: list[Problem]) -> Decimal | None:
        if data.get("currency") and data["currency"] != grant.currency:
            if not data.get("rate"):
                problems.append(Problem("Rate", f"is required: {data['currency']} differs from the grant currency "
                                                f"{grant.currency} (amount x rate = amount in {grant.currency})"))
                return None
        elif data.get("rate") is not None and data["rate"] != 1:
            problems.append(Problem("Rate", f"must be 1 or empty when the currency is the grant currency "
                                            f"{grant.currency}"))
            return None
        if data.get("amount") is None:
            return None
        return convert(data["amount"], data.get("rate"))

    def save_disbursement(self, values: Mapping[str, Any], grant_code: str | None = None,
                          reason: Reason | None = None, existing_id: int | None = None) -> SaveResult:
        """Record a tranche received. Disbursements have no ID of their own: the reference (when given)
        identifies one, so re-recording the same reference updates it."""
        data, problems = parse_fields(DISBURSEMENT_FIELDS, dict(values))
        with self.transaction() as uow:
            g = self._grant(uow, grant_code)
            data["amount_grant"] = self._converted(data, g, problems)
            _raise(problems)
            d = None
            if existing_id is not None:
                d = uow.session.get(Disbursement, existing_id)
            elif data.get("reference"):
                d = uow.session.execute(select(Disbursement).where(
                    Disbursement.grant_id == g.id, Disbursement.reference == data["reference"])).scalar()
            ref = data.get("reference") or data["date"].isoformat()
            if d is None:
                return self._create(uow, "disbursement", Disbursement(grant_id=g.id, **data), ref,
                                    self.partnership_id, reason)
            return self._update(uow, "disbursement", d, data, ref, self.partnership_id, reason)

    def save_expenditure(self, values: Mapping[str, Any], grant_code: str | None = None,
                         reason: Reason | None = None) -> SaveResult:
        data, problems = parse_fields(EXPENDITURE_FIELDS, dict(values))
        with self.transaction() as uow:
            g = self._grant(uow, grant_code)
            data["amount_grant"] = self._converted(data, g, problems)
            line_code = data.pop("line_code")
            training_code = data.pop("training_code")
            engagement_code = data.pop("engagement_code")
            if line_code:
                line = uow.session.execute(select(BudgetLine).where(BudgetLine.grant_id == g.id,
                                                                    BudgetLine.code == line_code)).scalar()
                if line is None:
                    problems.append(Problem("Line code", f"no budget line '{line_code}' in grant {g.code}"))
                else:
                    data["budget_line_id"] = line.id
            data["training_id"] = data["engagement_id"] = None
            if training_code:
                t = self._find(uow, Training, training_code)
                if t is None:
                    problems.append(Problem("Training ID", f"no training '{training_code}'"))
                else:
                    data["training_id"] = t.id
            if engagement_code:
                e = self._find(uow, Engagement, engagement_code)
                if e is None:
                    problems.append(Problem("Engagement ID", f"no engagement '{engagement_code}'"))
                else:
                    data["engagement_id"] = e.id
            _raise(problems)
            x = uow.session.execute(select(Expenditure).where(Expenditure.grant_id == g.id,
                                                              Expenditure.code == data["code"])).scalar()
            if x is None:
                return self._create(uow, "expenditure", Expenditure(grant_id=g.id, **data), data["code"],
                                    self.partnership_id, reason)
            return self._update(uow, "expenditure", x, data, x.code, self.partnership_id, reason)

    def delete_expenditure(self, code: str, reason: Reason | None, grant_code: str | None = None) -> None:
        with self.transaction() as uow:
            g = self._grant(uow, grant_code)
            x = uow.session.execute(select(Expenditure).where(Expenditure.grant_id == g.id,
                                                              Expenditure.code == code)).scalar()
            if x is None:
                raise NotFound(f"no expenditure '{code}'")
            self._delete(uow, "expenditure", x, code, self.partnership_id, reason)

    # Bulk path (benchmarks, large generated programmes) -----------------------------------------------------------
    def bulk_insert(self, kind: str, model: type[Base], rows: Sequence[dict[str, Any]],
                    ref_attr: str | None = "code") -> list[int]:
        """Insert many trusted, already-normalised rows with one audit event each, in executemany batches.

        The caller has validated the rows (this path is for generators); the audit trail is written exactly
        as for single saves, so `audit verify` treats bulk-loaded records like any other.
        """
        if not rows:
            return []
        with self.transaction() as uow:
            table: Table = model.__table__  # type: ignore[assignment]
            ids = self._new_ids(uow.session, table, len(rows))
            uow.session.execute(insert(table), [{**row, "id": oid} for oid, row in zip(ids, rows, strict=True)])
            converters = column_converters(table)
            pid = self.partnership_id if "partnership_id" not in table.columns else None
            events = []
            for oid, row in zip(ids, rows, strict=True):
                changes = {key: [None, conv(row.get(key))] for key, conv in converters}
                ref = str(row.get(ref_attr, oid)) if ref_attr else str(oid)
                events.append(uow.audit.build("create", kind, oid, ref, row.get("partnership_id", pid), changes))
            uow.session.execute(insert(AuditEvent.__table__), events)  # type: ignore[arg-type]
            return ids

    @staticmethod
    def _new_ids(session: Session, table: Table, n: int) -> list[int]:
        """Primary keys for ``n`` new rows, taken before inserting so the rows can go in one executemany.

        SQLite: the write transaction began IMMEDIATE, so no one else can insert until it ends. PostgreSQL:
        drawn from the table's own sequence, which is safe with concurrent writers."""
        if session.get_bind().dialect.name == "postgresql":
            stmt = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")
            return list(session.execute(stmt, {"t": table.name, "n": n}).scalars())
        start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        return list(range(start, start + n))
