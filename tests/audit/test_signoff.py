"""Two-party signed sign-off, locks and restatements (docs/reference/audit-and-signoff.md: who may sign,
what is signed)."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import PeriodLock, PeriodSignoff, Restatement
from mou_tracker.errors import PermissionDenied, ReasonRequired, ValidationError
from mou_tracker.read import Reader
from mou_tracker.services import Reason, Services
from mou_tracker.services.signoff import lock_period, sign_off
from mou_tracker.services.users import add_user
from mou_tracker.services.verify import verify_chain
from tests.audit.conftest import raw_sql
from tests.audit.signers import make_key, register_signatory
from tests.helpers import as_user, table_counts, training


def run(db_url: str, *args: str, user: str = "tester"):
    return CliRunner().invoke(cli, [*as_user(db_url, user), *args])


def status(db, svc):
    with Reader(db, partnership_id=svc.partnership_id) as reader:
        return reader.period_status("2025-Q3")


@pytest.fixture
def keys(programme, tmp_path):
    """alice signs for HTI, bob for ODPP; each has a registered key."""
    folder = tmp_path / "keys"
    return {"alice": register_signatory(programme, folder, "alice", "hti"),
            "bob": register_signatory(programme, folder, "bob", "odpp")}


def test_both_parties_sign_and_the_quarter_locks(programme, db, db_url, keys):
    head_before = verify_chain(db).head
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(keys["alice"]),
              "--comment", "Agreed at the review", user="alice")
    assert out.exit_code == 0, out.output
    assert "Human Trafficking Institute (HTI) signed off 2025-Q3 as alice with key SHA256:" in out.stdout
    assert f"chain head {head_before}" in out.stdout and "Waiting for ODPP" in out.stdout
    assert status(db, programme).lock is None
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "ODPP", "--key", str(keys["bob"]), user="bob")
    assert out.exit_code == 0, out.output
    assert "2025-Q3 is now locked" in out.stdout and "note:" not in out.stdout
    st = status(db, programme)
    assert st.lock is not None and "HTI (alice) and ODPP (bob)" in (st.lock.reason or "")
    hti, odpp = sorted(st.signoffs, key=lambda s: s.party)
    assert (hti.party, hti.actor, hti.comment, hti.chain_head) == ("hti", "alice", "Agreed at the review", head_before)
    assert odpp.chain_seq == hti.chain_seq + 1  # HTI's sign-off is itself an audited event
    assert hti.figures == odpp.figures == st.lock.figures
    assert hti.figures["1.1"] == {"target": "2", "actual": "2"}
    assert hti.signature_ok and odpp.signature_ok and hti.key_fingerprint.startswith("SHA256:")
    assert "2025-Q3" in programme.locked_periods()
    assert verify_chain(db, anchor=hti.chain_head).ok
    out = run(db_url, "period", "status", "2025-Q3")
    assert "locked on" in out.stdout and "signed by Human Trafficking Institute (HTI): alice" in out.stdout
    assert f"key {hti.key_fingerprint}; signature valid" in out.stdout


def test_certificate_verifies_with_ssh_keygen_alone(programme, db, db_url, keys, tmp_path):
    for user, party in (("alice", "hti"), ("bob", "odpp")):
        assert run(db_url, "period", "signoff", "2025-Q3", "--party", party, "--key", str(keys[user]),
                   user=user).exit_code == 0
    folder = tmp_path / "cert"
    out = run(db_url, "period", "certificate", "2025-Q3", "--output", str(folder), user="eve")
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in folder.iterdir()) == ["allowed_signers", "hti.json", "hti.json.sig", "odpp.json",
                                                        "odpp.json.sig"]
    for signer, party in (("alice", "hti"), ("bob", "odpp")):
        command = (f"ssh-keygen -Y verify -f {folder}/allowed_signers -I {signer} -n mou-tracker-signoff "
                   f"-s {folder}/{party}.json.sig < {folder}/{party}.json")
        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f'Good "mou-tracker-signoff" signature for {signer}' in done.stdout
    import json

    message = json.loads((folder / "hti.json").read_text())
    assert sorted(message) == ["chain_head", "chain_seq", "figures", "partnership", "party", "period", "signed_at",
                               "signer"]
    assert (message["partnership"], message["period"], message["party"], message["signer"]) == (
        "ODPP-HTI-2025", "2025-Q3", "hti", "alice")
    # the wrong signer, or an altered message, fails
    bad = subprocess.run(f"ssh-keygen -Y verify -f {folder}/allowed_signers -I bob -n mou-tracker-signoff "
                         f"-s {folder}/hti.json.sig < {folder}/hti.json", shell=True, capture_output=True)
    assert bad.returncode != 0
    (folder / "hti.json").write_text((folder / "hti.json").read_text().replace('"hti"', '"odpp"'))
    bad = subprocess.run(f"ssh-keygen -Y verify -f {folder}/allowed_signers -I alice -n mou-tracker-signoff "
                         f"-s {folder}/hti.json.sig < {folder}/hti.json", shell=True, capture_output=True)
    assert bad.returncode != 0


def test_figures_changed_between_signatures_do_not_lock(programme, db, clock, keys):
    clock.set(date(2025, 10, 3))
    alice = Services(db, "alice", clock=clock)
    bob = Services(db, "bob", clock=clock)
    sign_off(alice, "2025-Q3", "hti", "ok", key=keys["alice"])
    programme.create_training(training("T3", date(2025, 9, 30)))  # not locked yet: no reason needed
    programme.set_narrative("1.1", "2025-Q3", "A third session was requested by the county")  # 3 of 2: explained
    outcome = sign_off(bob, "2025-Q3", "odpp", key=keys["bob"])
    assert not outcome.locked
    text = "\n".join(outcome.lines())
    assert "Not locked: HTI signed different figures" in text and "1.1: 2 -> 3" in text
    assert "HTI needs to sign off again" in text
    assert status(db, programme).lock is None
    again = sign_off(alice, "2025-Q3", "hti", "re-signed after T3 was added", key=keys["alice"])
    assert again.locked
    st = status(db, programme)
    assert {s.party: s.figures["1.1"]["actual"] for s in st.signoffs} == {"hti": "3", "odpp": "3"}
    assert verify_chain(db).ok


def test_one_person_cannot_sign_for_both_parties(programme, db, db_url, keys):
    """The bypass of issue 10: one (unregistered) person signed for HTI and for ODPP and the quarter locked."""
    assert run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(keys["alice"]),
               user="alice").exit_code == 0
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "odpp", "--key", str(keys["alice"]), user="alice")
    assert out.exit_code == 1 and "not a signatory of ODPP" in out.stderr
    # even registered as signatory of both parties, one person cannot sign twice
    add_user(programme, "alice", "manager", "odpp", True)
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "odpp", "--key", str(keys["alice"]), user="alice")
    assert out.exit_code == 1 and "two different people" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert status(db, programme).lock is None


@pytest.mark.parametrize("who", ["bob-unregistered", "eve", "carol"])
def test_unregistered_evaluators_and_non_signatories_are_refused(programme, db, db_url, keys, tmp_path, who):
    private, _public = make_key(tmp_path / "k", who)
    add_user(programme, "eve", "evaluator")
    add_user(programme, "carol", "manager", "hti")  # of HTI but not its signatory
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(private), user=who)
    assert out.exit_code == 1, out.output
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.output
    expect = {"bob-unregistered": "not a registered user", "eve": "evaluator", "carol": "not a signatory"}[who]
    assert expect in out.stderr
    with db.reading() as s:
        assert s.execute(select(PeriodSignoff)).first() is None


def test_a_signatory_without_a_key_or_with_the_wrong_key_is_refused(programme, db, db_url, keys, tmp_path):
    add_user(programme, "dan", "manager", "hti", True)
    private, _ = make_key(tmp_path / "k", "dan")
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(private), user="dan")
    assert out.exit_code == 1 and "no registered public key" in out.stderr
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(private), user="alice")
    assert out.exit_code == 1 and "not the one registered for alice" in out.stderr
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(tmp_path / "none"),
              user="alice")
    assert out.exit_code == 1 and "cannot read the private key" in out.stderr
    (tmp_path / "junk").write_text("not a key")
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "hti", "--key", str(tmp_path / "junk"),
              user="alice")
    assert out.exit_code == 1 and "not an OpenSSH private key" in out.stderr


def test_read_only_session_cannot_sign(programme, db, keys):
    with pytest.raises(PermissionDenied):
        sign_off(Services(db, "alice", read_only=True), "2025-Q3", "hti", key=keys["alice"])


def test_verify_checks_every_signature_against_the_registered_key(programme, db, keys, clock, tmp_path):
    clock.set(date(2025, 10, 3))
    sign_off(Services(db, "alice", clock=clock), "2025-Q3", "hti", key=keys["alice"])
    assert verify_chain(db).ok
    # a signature swapped for one by another key, behind the application's back (with its event forged too,
    # the replay would pass: the signature check is what catches it)
    from mou_tracker.services import sshsig

    other = sshsig.load_private_key(make_key(tmp_path / "x", "mallory")[0])
    with db.reading() as s:
        row = s.execute(select(PeriodSignoff)).scalar_one()
    forged = sshsig.sign(other, row.message.encode())
    raw_sql(db, f"UPDATE period_signoff SET signature = '{forged}'")
    result = verify_chain(db)
    assert not result.ok and any("changed outside the application" in m for m in result.findings)
    with Reader(db) as reader:
        view = reader.period_status("2025-Q3").signoffs[0]
    assert view.signature_ok is False and "another key" in (view.signature_problem or "")


def test_key_registered_later_does_not_invalidate_earlier_signatures(programme, db, keys, clock, tmp_path):
    clock.set(date(2025, 10, 3))
    sign_off(Services(db, "alice", clock=clock), "2025-Q3", "hti", key=keys["alice"])
    from mou_tracker.services.users import set_key

    set_key(programme, "alice", make_key(tmp_path / "new", "alice")[1])
    assert verify_chain(db).ok


def test_change_to_a_locked_quarter_needs_a_reason_and_is_a_restatement(programme, db, clock):
    clock.set(date(2025, 10, 3))
    outcome = lock_period(programme, "2025-Q3", "data correction: figures final for the donor report")
    assert outcome.locked
    n_events = verify_chain(db).events
    with pytest.raises(ReasonRequired) as info:
        programme.create_training(training("T3", date(2025, 9, 30)))
    assert "locked quarter(s) (2025-Q3: 1.1: 2 -> 3)" in str(info.value)
    assert verify_chain(db).events == n_events  # nothing was written
    clock.set(date(2025, 10, 9))
    carol = Services(db, "carol", clock=clock)
    carol.create_training(training("T3", date(2025, 9, 30)), reason=Reason("data correction", "report arrived late"))
    carol.delete_training("T2", Reason("data correction", "held in October, not September"))
    restated = status(db, programme).restatements
    assert [(r.indicator_code, r.period, r.reported_value, r.restated_value, r.actor, r.reason_category,
             r.reason_text) for r in restated] == [
        ("1.1", "2025-Q3", "2", "3", "carol", "data correction", "report arrived late"),
        ("1.1", "2025-Q3", "3", "2", "carol", "data correction", "held in October, not September"),
        ("1.2", "2025-Q3", "4", "3", "carol", "data correction", "held in October, not September"),
    ]  # 1.4 stays 30: T2's one scored attendance had the same gain as T1's
    assert restated[0].at.date() == date(2025, 10, 9)
    assert verify_chain(db).ok  # restatements are written through the audited path


def test_change_that_leaves_the_figures_alone_makes_no_restatement(programme, db, clock):
    clock.set(date(2025, 10, 3))
    lock_period(programme, "2025-Q3", "final")
    with pytest.raises(ReasonRequired):  # a record dated in a locked quarter still needs a reason
        programme.update_training("T1", training("T1", date(2025, 7, 8), date(2025, 7, 10), venue="Law courts"))
    programme.update_training("T1", training("T1", date(2025, 7, 8), date(2025, 7, 10), venue="Law courts"),
                              reason=Reason("data correction", "venue was missing"))
    programme.create_training(training("Q4", date(2025, 10, 2)))  # another quarter: no reason, no restatement
    with db.reading() as s:
        assert s.execute(select(Restatement)).first() is None


def test_lock_directly_and_twice(programme, db, db_url):
    out = run(db_url, "period", "lock", "2025-Q3", "--reason", "donor requirement: end of reporting year")
    assert out.exit_code == 0, out.output
    assert "2025-Q3 locked by tester" in out.stdout and "chain head" in out.stdout
    with db.reading() as s:
        lock = s.execute(select(PeriodLock)).scalar_one()
    assert lock.reason == "donor requirement: end of reporting year" and '"1.1"' in (lock.figures or "")
    again = run(db_url, "period", "lock", "2025-Q3", "--reason", "again")
    assert again.exit_code == 0 and "already locked" in again.stdout
    assert run(db_url, "period", "lock", "2025-Q3").exit_code == 2  # --reason is required


def test_only_an_admin_locks(programme, db, db_url):
    out = run(db_url, "period", "lock", "2025-Q3", "--reason", "final", user="nobody")
    assert out.exit_code == 1 and "not a registered user" in out.stderr
    add_user(programme, "mia", "manager")
    out = run(db_url, "period", "lock", "2025-Q3", "--reason", "final", user="mia")
    assert out.exit_code == 1 and "only an admin" in out.stderr


def test_quarter_that_has_not_ended_cannot_be_signed_or_locked(programme, db, clock, keys):
    clock.set(date(2025, 9, 26))
    with pytest.raises(ValidationError) as info:
        sign_off(Services(db, "alice", clock=clock), "2025-Q3", "hti", key=keys["alice"])
    assert "2025-Q3 has not ended yet (it ends 2025-09-30)" in str(info.value)
    with pytest.raises(ValidationError):
        lock_period(programme, "2025-Q4", "too early")


def test_unknown_party_is_refused_and_bad_period_is_a_usage_error(programme, db, db_url, keys):
    key = str(keys["alice"])
    # the parties are the partnership's own (a DCI MoU has a dci party): a code it lacks is refused as data
    before = table_counts(db)
    out = run(db_url, "period", "signoff", "2025-Q3", "--party", "dci", "--key", key)
    assert out.exit_code == 1 and out.stderr.strip() == ("error: no party 'dci' in this partnership (parties: hti, "
                                                         "odpp)"), out.output
    assert table_counts(db) == before
    assert run(db_url, "period", "signoff", "2025-Q5", "--party", "hti", "--key", key).exit_code == 2
    assert run(db_url, "period", "signoff", "2025-Q3", "--party", "hti").exit_code == 2  # --key is required
