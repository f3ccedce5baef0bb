"""Setting up a database: the partnership, its parties and the standard framework, and users.

These keep their behaviour of before the write side was split (``save_user`` both adds and edits a user;
``create_partnership`` keeps whatever already exists); the users module replaces ``save_user``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from mou_tracker.db.models import Indicator, Partnership, Party, User
from mou_tracker.domain import codes
from mou_tracker.domain.periods import validate_fiscal_start
from mou_tracker.errors import NotFound, PermissionDenied, Problem
from mou_tracker.services.audit import Reason
from mou_tracker.services.core import ServiceCore, raise_problems
from mou_tracker.services.framework import STANDARD_INDICATORS, STANDARD_PARTIES, STANDARD_PARTNERSHIP
from mou_tracker.services.unit_of_work import SaveResult


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

    def save_user(self, name: str, role: str, display_name: str | None = None) -> SaveResult:
        role_c = codes.canonical(role, codes.ROLES)
        problems = [] if role_c else [Problem("Role", f"'{role}' is not one of: {', '.join(codes.ROLES)}")]
        if not str(name).strip():
            problems.append(Problem("Name", "is required"))
        raise_problems(problems)
        with self.transaction() as uow:
            admins = uow.session.execute(select(User.name).where(User.role == "admin")).scalars().all()
            if admins and self.actor not in admins:
                raise PermissionDenied(f"only an admin ({', '.join(admins)}) can add users or change roles")
            user = uow.session.execute(select(User).where(User.name == name.strip())).scalar()
            if user is None:
                return uow.create("user", User(name=name.strip(), role=role_c, display_name=display_name),
                                    name.strip(), None)
            return uow.update("user", user, {"role": role_c, "display_name": display_name}, user.name, None,
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
        raise_problems(problems)
        with self.transaction() as uow:
            party = uow.session.execute(select(Party).where(Party.partnership_id == self.partnership_id,
                                                            Party.code == party_code.lower())).scalar()
            if party is None:
                raise NotFound(f"no party '{party_code}'")
            return uow.update("party", party, dict(values), party.code, self.partnership_id, reason)
