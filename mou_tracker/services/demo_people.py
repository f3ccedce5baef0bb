"""The demo's people: users of both MoU parties (an admin, a manager and a signatory each side, an
evaluator), who enter the records, explain each quarter's deviations and sign every ended quarter off
with their Ed25519 keys, so a newcomer sees the whole flow (docs/reference/audit-and-signoff.md).

The keys are generated into ``demo-keys/`` beside the demo database (a real deployment never lets the
application see a private key: signatories keep their own and pass ``--key``). ``period certificate``
and ``ssh-keygen -Y verify`` then work on the demo as on real data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import ValidationError

if TYPE_CHECKING:
    from mou_tracker.services.programme import Services

#: (login, role, party, signatory, display name); the first, an admin, is registered by whoever runs the demo
PEOPLE = (
    ("daniel.mutua", "admin", "hti", False, "Daniel Mutua, HTI Kenya M&E and Systems Officer"),
    ("grace.wanjiru", "manager", "hti", True, "Grace Wanjiru, HTI Kenya Country Director"),
    ("brian.ochieng", "manager", "hti", False, "Brian Ochieng, HTI Programme Officer"),
    ("josephine.mwangi", "manager", "odpp", True, "Josephine Mwangi, ODPP Head of the CTIP Unit"),
    ("samuel.kiprono", "manager", "odpp", False, "Samuel Kiprono, ODPP Prosecution Counsel"),
    ("ruth.akinyi", "evaluator", None, False, "Ruth Akinyi, external evaluator"),
)
SIGNATORIES = {"hti": "grace.wanjiru", "odpp": "josephine.mwangi"}
ADMIN = "daniel.mutua"
COUNTRY_DIRECTOR = "grace.wanjiru"  # grant, budget, targets, tranches, re-planning
PROGRAMME_OFFICER = "brian.ochieng"  # HTI-led trainings, engagements, spending, quarterly narratives
PROSECUTION_COUNSEL = "samuel.kiprono"  # ODPP-led trainings, ODPP case figures
#: days after a quarter's end when the narratives are written, and when each party signs it off
NARRATE_AFTER = 9
SIGN_AFTER = (12, 15)

#: why an indicator fell below / rose above its band in a quarter, as a programme officer would write it
DEVIATIONS = {
    "OC1": ("Fewer files were ready for charging: several investigations still await DCI reports.",
            "Files from the mentored counties reached charging faster than planned."),
    "OC2": ("Trials were adjourned during the court vacation; judgments expected next quarter.",
            "Several long-running trials concluded in the same quarter."),
    "1.1": ("Sessions were postponed around the court calendar and moved to the next quarter.",
            "ODPP asked for additional county sessions, funded within the training line."),
    "1.2": ("Smaller cohorts than planned: practitioners were released for fewer days.",
            "Counties nominated more practitioners than planned for the sessions held."),
    "1.3": ("Fewer prosecutors could be released from court duty this quarter.",
            "The CTIP unit nominated more prosecutors than planned."),
    "1.4": ("Participants came in with higher pre-test scores, leaving less room for gain.",
            "The revised curriculum produced larger gains than expected."),
    "2.1": ("Advisors focused on fewer, longer engagements ahead of key trials.",
            "Prosecutors requested more support sessions ahead of trial dates."),
    "2.2": ("Fewer new trafficking files were opened in the mentored counties.",
            "New files from the border counties were brought into mentoring."),
    "2.3": ("Advisor time was taken by the guideline validation workshops.",
            "Trial support on complex cases needed more hours than planned."),
    "3.1": ("The milestone due this quarter slipped; see the milestone history for the re-planning.",
            "A milestone planned for next quarter was completed early."),
    "3.2": ("A milestone was completed after its original due date.",
            "Milestones were completed ahead of their original due dates."),
    "4.1": ("Spending lagged the workplan: trainings were postponed and invoices arrived late.",
            "Spending ran ahead of plan with the extra county trainings."),
}
GENERIC_DEVIATION = ("Below the planned level this quarter; the partners agreed a catch-up plan.",
                     "Above the planned level this quarter; the partners reviewed the cause.")


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


def acting_as(services: Services, name: str | None) -> Any:
    """Attribute the next events to demo person ``name``; None, or a PostgreSQL login that may not act for
    others (not a superuser), leaves them to whoever runs the demo."""
    if name is None or not _may_act_for_others(services):
        return nullcontext()
    return _acting_as(services, name)


@contextmanager
def _acting_as(services: Services, name: str) -> Iterator[None]:
    """Inside the demo's one transaction, attribute the next events to ``name``."""
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


def register(services: Services) -> None:
    """Register the demo's people (the admin first, by whoever runs the demo; the rest by the admin) and
    the signatories' public keys; their private keys go to ``demo-keys/``."""
    from mou_tracker.services.users import add_user, set_key

    folder = key_folder(services)
    for n, (login, role, party, signatory, display) in enumerate(PEOPLE):
        with acting_as(services, ADMIN if n else None):
            add_user(services, login, role, party, signatory, display)
            if login in SIGNATORIES.values():
                set_key(services, login, _write_key(folder, login)[1])


def _explain_deviations(services: Services, q: Quarter) -> None:
    """Write the narrative of every indicator outside its band in ``q`` (sign-off needs them), and one on
    spending every quarter."""
    from mou_tracker.services.indicators import IndicatorEngine

    assert services._uow is not None
    engine = IndicatorEngine(services._uow.session, services.partnership_id)
    for f in engine.progress(q).indicators:
        if f.status in ("below_target", "above_target"):
            below, above = DEVIATIONS.get(f.code, GENERIC_DEVIATION)
            services.set_narrative(f.code, str(q), below if f.status == "below_target" else above)
        elif f.code == "4.1":
            services.set_narrative(f.code, str(q), "Spending in line with the workplan for the quarter.")


def plan(services: Services, at: Callable[..., None], quarters: Sequence[Quarter], today: date) -> None:
    """Each ended quarter: the programme officer explains its deviations, then both parties sign it off."""
    from mou_tracker.services.signoff import sign_off

    keys = key_folder(services)
    for q in quarters:
        if q > Quarter.latest_ended(today):
            continue
        at(min(q.end + timedelta(days=NARRATE_AFTER), today), lambda q=q: _explain_deviations(services, q),
           PROGRAMME_OFFICER)
        for party, after in zip(("hti", "odpp"), SIGN_AFTER, strict=True):
            day = min(q.end + timedelta(days=after), today)

            def sign(q: Quarter = q, party: str = party) -> None:
                if not _may_act_for_others(services):
                    return  # on PostgreSQL only a superuser's demo may sign as the demo's signatories
                try:
                    sign_off(services, q, party, f"Figures for {q} reviewed with the partner",
                             key=keys / f"{SIGNATORIES[party]}_ed25519")
                except ValidationError as exc:  # a bug in the generator: every deviation has its narrative
                    raise RuntimeError(f"the demo could not sign {q} for {party}: {exc}") from exc

            at(day, sign, SIGNATORIES[party])
