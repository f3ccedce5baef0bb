"""Who may do what: registering users with a role, the party they act for, signatory status and their
OpenSSH Ed25519 public key (docs/reference/cli.md, `user`; audit-and-signoff.md, signing off).

Only a registered admin manages users and keys (on a database with no admin yet, the first registration
bootstraps one). The application never sees a private key here: ``user key`` takes the ``.pub`` file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mou_tracker.db.models import Party, User
from mou_tracker.domain import codes
from mou_tracker.errors import NotFound, PermissionDenied, Problem, ValidationError
from mou_tracker.services import sshsig
from mou_tracker.services.signoff import require_admin

if TYPE_CHECKING:
    from mou_tracker.db.engine import Database
    from mou_tracker.services.programme import Services

#: a login-like name: it is the principal of the certificate's allowed_signers file, so no spaces or quotes
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,119}$")


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    party: str | None
    signatory: bool
    key_fingerprint: str | None
    display_name: str | None

    def line(self) -> str:
        return "\t".join((self.name, self.role, (self.party or "-").upper(), "signatory" if self.signatory else "-",
                          self.key_fingerprint or "no key", self.display_name or ""))


@dataclass(frozen=True)
class UserOutcome:
    name: str
    action: str  # created, updated, unchanged
    message: str


def check_admin(uow: Any, actor: str, what: str) -> None:
    """Refuse ``actor`` unless they are an admin; on a database with no admin yet anyone may (bootstrap)."""
    uow.audit.lock_chain()  # first: on PostgreSQL this refuses an actor who is not the database login
    session = uow.session
    admins = session.execute(select(User.name).where(User.role == "admin")).scalars().all()
    if admins:
        require_admin(session, actor, what)


def add_user(services: Services, name: str, role: str, party: str | None = None, signatory: bool = False,
             display_name: str | None = None) -> UserOutcome:
    """Register NAME (or change their role, party, signatory status): admins only."""
    name = (name or "").strip()
    role_c = codes.canonical(role, codes.ROLES)
    problems = [] if role_c else [Problem("Role", f"'{role}' is not one of: {', '.join(codes.ROLES)}")]
    if not _NAME.match(name):
        problems.append(Problem("Name", "use a login name: letters, digits and . _ @ - (no spaces), up to 120"))
    party_c = party.strip().lower() if party and party.strip() else None
    if party is not None and party_c is None:  # given empty (a script's unset variable): not "no party"
        problems.append(Problem("--party", "is empty: give the party's code (hti, odpp), or leave --party out"))
    elif signatory and party_c is None:
        problems.append(Problem("--signatory", "a signatory signs for a party: give --party too"))
    if signatory and role_c == "evaluator":
        problems.append(Problem("--signatory", "an evaluator cannot be a signatory (evaluators only read)"))
    if problems:
        raise ValidationError(problems)
    with services.transaction() as uow:
        s = uow.session
        check_admin(uow, services.actor, "add users or change roles")
        if party_c is not None:
            known = sorted(set(s.execute(select(Party.code)).scalars()))
            if party_c not in known:
                raise ValidationError(Problem("--party", f"no party '{party}' (parties: {', '.join(known)})"))
        user = s.execute(select(User).where(User.name == name)).scalar()
        values = {"role": role_c, "party": party_c, "signatory": bool(signatory)}
        if display_name is not None:
            values["display_name"] = display_name.strip() or None
        if user is None:
            uow.create("user", User(name=name, display_name=values.pop("display_name", None),
                                                    **values), name, None)
            return UserOutcome(name, "created", f"{name}: {_describe(role_c, party_c, signatory)} (created)")
        if user.role == "admin" and role_c != "admin":
            others = s.execute(select(User.name).where(User.role == "admin", User.name != name)).scalars().all()
            if not others:
                raise PermissionDenied(f"{name} is the only admin: register another admin first")
        result = uow.update("user", user, values, name, None, None)
        action = getattr(result, "action", "updated")
        return UserOutcome(name, action, f"{name}: {_describe(role_c, party_c, signatory)} ({action})")


def _describe(role: str | None, party: str | None, signatory: bool) -> str:
    out = str(role)
    if party:
        out += f" of {party.upper()}"
    if signatory:
        out += ", signatory"
    return out


def set_key(services: Services, name: str, public_key_file: Path | str) -> UserOutcome:
    """Register NAME's OpenSSH Ed25519 public key (admins only); the fingerprint is shown by `user list`."""
    key = sshsig.load_public_key_file(public_key_file)
    line = sshsig.public_line(key)
    fp = sshsig.fingerprint(key)
    with services.transaction() as uow:
        s = uow.session
        check_admin(uow, services.actor, "register keys")
        user = s.execute(select(User).where(User.name == name.strip())).scalar()
        if user is None:
            raise NotFound(f"no user '{name}': register them first with `user add {name} --role ...`")
        taken = s.execute(select(User.name).where(User.public_key == line, User.name != user.name)).scalar()
        if taken:
            raise ValidationError(Problem("PUBLIC_KEY", f"this key is already registered for {taken}: each person "
                                                        "signs with a key of their own"))
        result = uow.update("user", user, {"public_key": line, "key_fingerprint": fp}, user.name, None, None)
        action = getattr(result, "action", "updated")
        return UserOutcome(user.name, action, f"{user.name}: key {fp} registered ({action})")


def list_users(db: Database) -> list[UserView]:
    with db.reading() as s:
        return [UserView(u.name, u.role, u.party, bool(u.signatory), u.key_fingerprint, u.display_name)
                for u in s.execute(select(User).order_by(User.name)).scalars()]
