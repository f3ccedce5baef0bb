"""The demo's people: users of both MoU parties, a signatory each with an Ed25519 key, and the two-party
signed sign-off of every ended quarter, so a newcomer sees the whole flow (docs/reference/audit-and-signoff.md).

The keys are generated into ``demo-keys/`` beside the demo database (a real deployment never lets the
application see a private key: signatories keep their own and pass ``--key``). ``period certificate``
and ``ssh-keygen -Y verify`` then work on the demo as on real data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import ValidationError

if TYPE_CHECKING:
    from mou_tracker.services.programme import Services

#: (login, role, party, signatory, display name)
PEOPLE = (
    ("grace.wanjiru", "manager", "hti", True, "Grace Wanjiru, HTI Kenya Country Director"),
    ("brian.ochieng", "manager", "hti", False, "Brian Ochieng, HTI Programme Officer"),
    ("josephine.mwangi", "manager", "odpp", True, "Josephine Mwangi, ODPP Head of the CTIP Unit"),
    ("samuel.kiprono", "manager", "odpp", False, "Samuel Kiprono, ODPP Prosecution Counsel"),
    ("ruth.akinyi", "evaluator", None, False, "Ruth Akinyi, external evaluator"),
)
SIGNATORIES = {"hti": "grace.wanjiru", "odpp": "josephine.mwangi"}
#: days after a quarter's end when both parties sign it off
SIGN_AFTER = (12, 15)


def key_folder(services: Services) -> Path:
    from mou_tracker.db.engine import sqlite_path
    from mou_tracker.paths import data_dir

    path = sqlite_path(services.db.url)
    return (path.parent if path is not None else data_dir()) / "demo-keys"


def _write_key(folder: Path, login: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{login}_ed25519", folder / f"{login}_ed25519.pub"
    private.unlink(missing_ok=True)
    private.touch(mode=0o600)
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                     serialization.PublicFormat.OpenSSH) + f" {login}\n".encode())
    return private, public


@contextmanager
def _acting_as(services: Services, name: str) -> Iterator[None]:
    """Inside the demo's one transaction, attribute the next events to ``name`` (a signatory signing)."""
    uow = services._uow
    before = services.actor
    services.actor = name
    if uow is not None:
        uow.audit.actor = name
    try:
        yield
    finally:
        services.actor = before
        if uow is not None:
            uow.audit.actor = before


def _may_act_for_others(services: Services) -> bool:
    """On PostgreSQL the actor is the login: only a superuser's demo may sign as the demo's signatories."""
    if services.db.dialect != "postgresql" or services._uow is None:
        return True
    from sqlalchemy import text

    return bool(services._uow.session.execute(text(
        "SELECT rolsuper FROM pg_roles WHERE rolname = session_user")).scalar())


#: the demo's explanation of a deviation from target, by status (a quarter is signed off only once each is explained)
EXPLANATIONS = {
    "below_target": "Below target this quarter: planned work moved to the next quarter (court vacation and staff "
                    "transfers); the work plan was adjusted with the partner.",
    "above_target": "Above target this quarter: more was delivered than planned, at the partner's request and "
                    "within the budget.",
}


def _explain_deviations(services: Services, q: Quarter) -> None:
    """A narrative for each of the quarter's deviations from target that has none yet."""
    from mou_tracker.services.funder import unexplained_deviations

    assert services._uow is not None
    for d in unexplained_deviations(services._uow.session, services.partnership_id, q):
        services.set_narrative(d.code, str(q), EXPLANATIONS[d.status])


def plan(services: Services, at: Callable[[date, Callable[[], Any]], None], quarters: Sequence[Quarter],
         start: date, today: date) -> None:
    """Register the demo's users at ``start`` and both parties' sign-offs of each ended quarter."""
    from mou_tracker.services.signoff import sign_off
    from mou_tracker.services.users import add_user, set_key

    folder = key_folder(services)
    keys = {login: _write_key(folder, login) for login in SIGNATORIES.values()}

    def register() -> None:
        for login, role, party, signatory, display in PEOPLE:
            add_user(services, login, role, party, signatory, display)
            if login in keys:
                set_key(services, login, keys[login][1])

    at(start, register)
    for q in quarters:
        if q > Quarter.latest_ended(today):
            continue
        for party, after in zip(("hti", "odpp"), SIGN_AFTER, strict=True):
            day = min(q.end + timedelta(days=after), today)

            def sign(q: Quarter = q, party: str = party) -> None:
                if not _may_act_for_others(services):
                    return
                login = SIGNATORIES[party]
                with _acting_as(services, "brian.ochieng"):
                    _explain_deviations(services, q)
                with _acting_as(services, login):
                    try:
                        sign_off(services, q, party, f"Figures for {q} reviewed with the partner",
                                 key=keys[login][0])
                    except ValidationError:
                        pass  # a quarter the demo data leaves unsignable (e.g. a narrative missing) stays open

            at(day, sign)
