"""Setting up a database: partnerships, their parties and the standard framework, and users.

``create_partnership`` keeps whatever already exists (``init`` seeds through it); ``add_partnership`` is
`partnership add`: it refuses a code that exists and checks every value first. Users, roles and keys are
managed in ``users``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import Indicator, Partnership, Party, User
from mou_tracker.domain.periods import FISCAL_START_MONTHS, validate_fiscal_start
from mou_tracker.errors import AlreadyExists, NotFound, Problem, ValidationError
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.framework import STANDARD_INDICATORS, STANDARD_PARTIES, STANDARD_PARTNERSHIP
from mou_tracker.services.unit_of_work import SaveResult

_PARTNERSHIP_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
PARTY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
_PARTY_SPEC = re.compile(r"^\s*([^=\s]+)\s*=\s*(.*?)\s*$", re.S)
#: a party's profile when its code is a standard one (HTI: fiscal year from 1 October, USD)
_PROFILES = {p["code"]: p for p in STANDARD_PARTIES}
#: (currency, month the government's fiscal year starts) of the countries HTI works in; others: USD, January
COUNTRY_PROFILES = {"kenya": ("KES", 7), "uganda": ("UGX", 7), "tanzania": ("TZS", 7), "south africa": ("ZAR", 4)}


@dataclass(frozen=True)
class PartnershipView:
    code: str
    name: str
    country: str
    start_date: date
    end_date: date | None
    #: (code, name, fiscal-year start month) per party
    parties: tuple[tuple[str, str, int], ...]

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "country": self.country,
                "start_date": self.start_date.isoformat(),
                "end_date": self.end_date.isoformat() if self.end_date else None,
                "parties": [{"code": c, "name": n, "fiscal_start_month": m} for c, n, m in self.parties]}


def parse_partnership_dates(start: Any, end: Any) -> tuple[date, date | None]:
    """``--start`` and ``--end`` as dates (YYYY-MM-DD, 2000-2100), every problem at once."""
    from mou_tracker.services.fields import Field

    start_d, p1 = Field("start", "--start", "date", required=True).parse(start)
    end_d, p2 = Field("end", "--end", "date").parse(end)
    raise_problems([p for p in (p1, p2) if p])
    return start_d, end_d


def parse_party(spec: str, country: str = "") -> dict[str, Any]:
    """``CODE=NAME[:FY_START_MONTH]`` as a party's values. Without a month, a standard party (hti, odpp)
    keeps its profile's and any other party takes its country's government fiscal year (January elsewhere);
    the currency is USD for HTI and the country's otherwise."""
    m = _PARTY_SPEC.match(spec or "")
    if not m or not m.group(2):
        raise ValidationError(Problem("--party", f"'{spec}' is not CODE=NAME[:FY_START_MONTH] (e.g. "
                                                 "odpp='Office of the DPP':7)"))
    code, name = m.group(1).lower(), m.group(2)
    month: int | None = None
    head, sep, tail = name.rpartition(":")
    if sep and re.fullmatch(r"\s*[+-]?\d+\s*", tail):
        name, month = head.strip(), int(tail)
        if not 1 <= month <= 12:
            raise ValidationError(Problem("--party", f"{code}: fiscal-year start month {month} is not a month "
                                                     "(1-12)"))
        if month not in FISCAL_START_MONTHS:
            raise ValidationError(Problem("--party", f"{code}: a fiscal year starting in month {month} "
                                                     f"({calendar.month_name[month]}) does not begin a calendar "
                                                     "quarter; the tracker counts fiscal years in calendar "
                                                     "quarters, so give 1, 4, 7 or 10"))
    if not PARTY_CODE.match(code):
        raise ValidationError(Problem("--party", f"'{code}' is not a party code: lower-case letters, digits, _ "
                                                 "and - (up to 20)"))
    if not name:
        raise ValidationError(Problem("--party", f"{code}: the party's name is empty"))
    profile = _PROFILES.get(code)
    currency, country_month = COUNTRY_PROFILES.get(" ".join(country.split()).casefold(), ("USD", 1))
    if month is None:
        month = profile["fiscal_start_month"] if profile else country_month
    if profile and code == "hti":
        currency = profile["currency"]
    style = profile["fiscal_label_style"] if profile else ("end_year" if month == 1 else "split")
    return {"code": code, "name": name, "fiscal_start_month": month, "fiscal_label_style": style,
            "currency": currency}


class SetupWrites(ServiceCore):
    # Set-up: partnership, parties, framework, users ------------------------------------------------------------
    def seed_standard(self) -> bool:
        """Create the ODPP-HTI partnership, its parties and the standard results framework if absent, and
        make the acting user the first admin of a new database. Returns True when something was created."""
        with self.transaction() as uow:
            created = self.create_partnership(STANDARD_PARTNERSHIP)
            if uow.session.execute(select(func.count(User.id))).scalar() == 0:
                uow.create("user", User(name=self.actor, role="admin", display_name=None), self.actor, None)
                created = True
            return created

    def create_partnership(self, values: Mapping[str, Any], parties: Sequence[Mapping[str, Any]] = STANDARD_PARTIES
                           ) -> bool:
        """Create a partnership (code, name, country, start_date, end_date) with its parties and the standard
        results framework; whatever already exists is kept. Returns True when something was created."""
        problems = [Problem(k.replace("_", " ").capitalize(), "is required")
                    for k in ("code", "name", "country", "start_date") if not values.get(k)]
        raise_problems(problems)
        with self.transaction() as uow:
            s = uow.session
            p = s.execute(select(Partnership).where(Partnership.code == values["code"])).scalar()
            created = False
            if p is None:
                p = Partnership(**{k: values.get(k) for k in ("code", "name", "country", "start_date", "end_date")})
                uow.create("partnership", p, p.code, None)
                created = True
            for party in parties:
                exists = s.execute(select(Party.id).where(Party.partnership_id == p.id, Party.code == party["code"]))
                if exists.scalar() is None:
                    uow.create("party", Party(partnership_id=p.id, **party), party["code"], p.id)
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
                    uow.create("indicator", ind, d.code, p.id)
                    created = True
            return created

    def add_partnership(self, values: Mapping[str, Any], parties: Sequence[Mapping[str, Any]]) -> SaveResult:
        """`partnership add`: a new partnership with its parties and the standard results framework (admins
        only; on a database with no admin yet, anyone). A code that exists, in any case, is refused."""
        from mou_tracker.services.users import check_admin

        code = str(values.get("code") or "").strip()
        problems = []
        if not _PARTNERSHIP_CODE.match(code):
            problems.append(Problem("Code", f"'{code}' is not a partnership code: letters, digits, . _ - (up to "
                                            "40, starting with a letter or digit)"))
        for key, label, limit in (("name", "--name", 200), ("country", "--country", 80)):
            text = str(values.get(key) or "").strip()
            if not text:
                problems.append(Problem(label, "is required"))
            elif len(text) > limit:
                problems.append(Problem(label, f"is {len(text)} characters long; at most {limit} are allowed"))
        start, end = values.get("start_date"), values.get("end_date")
        if not isinstance(start, date):
            problems.append(Problem("--start", "is required (YYYY-MM-DD)"))
        elif isinstance(end, date) and end < start:
            problems.append(Problem("--end", f"{end.isoformat()} is before the start {start.isoformat()}"))
        if not parties:
            problems.append(Problem("--party", "at least one party is required (CODE=NAME[:FY_START_MONTH])"))
        seen: set[str] = set()
        for party in parties:
            if party["code"] in seen:
                problems.append(Problem("--party", f"party {party['code']} is given twice"))
            seen.add(party["code"])
        raise_problems(problems)
        with self.transaction() as uow:
            check_admin(uow, self.actor, "add a partnership")
            existing = uow.session.execute(select(Partnership).where(
                func.lower(Partnership.code) == code.lower())).scalar()
            if existing is not None:
                raise AlreadyExists(Problem("Code", f"partnership {existing.code} already exists ({existing.name}, "
                                                    f"{existing.country}); choose another code"),
                                    kind="partnership", code=existing.code)
            row = {"code": code, "name": str(values["name"]).strip(), "country": str(values["country"]).strip(),
                   "start_date": start, "end_date": end}
            self.create_partnership(row, parties)
            p = uow.session.execute(select(Partnership).where(Partnership.code == code)).scalar_one()
            return SaveResult(p, "created", {k: (None, v) for k, v in row.items()})

    def list_partnerships(self) -> list[PartnershipView]:
        with self.db.reading() as s:
            return [PartnershipView(p.code, p.name, p.country, p.start_date, p.end_date,
                                    tuple((x.code, x.name, x.fiscal_start_month) for x in p.parties))
                    for p in s.execute(select(Partnership).order_by(Partnership.code)).scalars()]

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
        raise_problems(problems)
        with self.transaction() as uow:
            party = uow.session.execute(select(Party).where(Party.partnership_id == self.partnership_id,
                                                            Party.code == party_code.lower())).scalar()
            if party is None:
                raise NotFound(f"no party '{party_code}'")
            return uow.update("party", party, dict(values), party.code, self.partnership_id, reason)
