"""Issue 10's bypasses, each reproduced: who did it, what verify sees, who can block writers."""

from __future__ import annotations

import getpass
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from mou_tracker.cli import cli
from mou_tracker.db.engine import Database, DatabaseBusy, sqlite_path
from mou_tracker.db.models import AuditEvent
from mou_tracker.errors import MouError, PermissionDenied
from mou_tracker.services import Services
from mou_tracker.services.audit import ChainBusy
from mou_tracker.services.users import add_user, list_users, set_key
from mou_tracker.services.verify import normalise_anchor, verify_chain
from tests.audit.conftest import raw_sql
from tests.audit.signers import make_key
from tests.audit.test_guards import refused as refused_sql
from tests.helpers import as_user, training


def run(db_url: str, *args: str, user: str | None = "tester"):
    return CliRunner().invoke(cli, [*(as_user(db_url, user) if user else ["--db", db_url]), *args])


# verify without blind spots --------------------------------------------------------------------------------------
def test_sqlite_guards_replaced_by_do_nothing_triggers_of_the_same_name(programme, db, backend):
    if backend != "sqlite":
        pytest.skip("SQLite triggers")
    raw_sql(db, "DROP TRIGGER audit_event_no_delete",
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT 1; END")
    raw_sql(db, "DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")  # now it works
    result = verify_chain(db)
    assert not result.ok
    assert any("audit_event_no_delete has been replaced" in m for m in result.findings), result.findings


def test_postgres_guards_disabled_by_a_superuser(programme, db, backend):
    if backend != "postgresql":
        pytest.skip("ALTER TABLE ... DISABLE TRIGGER is PostgreSQL's")
    assert verify_chain(db).ok
    raw_sql(db, "ALTER TABLE audit_event DISABLE TRIGGER USER")
    raw_sql(db, "DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")  # now it works
    result = verify_chain(db)
    assert not result.ok
    disabled = [m for m in result.findings if "is disabled" in m]
    assert len(disabled) == 5 and any("audit_event_no_delete" in m for m in disabled)


def test_postgres_guard_function_rewritten(programme, db, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL functions")
    raw_sql(db, "CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RETURN OLD; END $$")
    result = verify_chain(db)
    assert any("audit_event_refuse() has been rewritten" in m for m in result.findings), result.findings


def test_boolean_stored_as_text_is_a_change(programme, db, backend):
    if backend == "postgresql":  # PostgreSQL enforces the type itself
        assert "invalid input syntax" in refused_sql(db, "UPDATE indicator SET higher_is_better = 'x'")
        return
    raw_sql(db, "UPDATE indicator SET higher_is_better = 'x' WHERE code = '1.1'")
    result = verify_chain(db)
    assert not result.ok
    assert any("Higher is better is stored as text where the application writes a Boolean" in m
               for m in result.findings), result.findings


def test_malformed_sqlite_file_is_a_clear_refusal(programme, db, db_url, backend):
    if backend != "sqlite":
        pytest.skip("SQLite files")
    db.dispose()
    path = sqlite_path(db_url)
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'audit_event'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(path, "r+b") as fh:  # scribble over the audit table's root page
        fh.seek((page - 1) * size + 8)
        fh.write(b"\xff" * (size - 16))
    out = run(db_url, "audit", "verify")
    assert out.exit_code == 1
    assert "Traceback" not in out.output and "unexpected problem" not in out.output, out.output
    assert "damaged" in out.stderr or "integrity check" in out.output


def test_short_anchors_are_refused(programme, db, db_url):
    head = verify_chain(db).head
    with pytest.raises(ValueError, match="at least 16 hex digits"):
        normalise_anchor(head[:8])
    out = run(db_url, "audit", "verify", "--anchor", head[:8])
    assert out.exit_code == 2 and "at least 16 hex digits" in out.output
    assert run(db_url, "audit", "verify", "--anchor", head[:16]).exit_code == 0


# who did it ----------------------------------------------------------------------------------------------------
def test_sqlite_events_keep_the_os_login_when_the_actor_differs(programme, db, backend):
    if backend != "sqlite":
        pytest.skip("SQLite")
    login = getpass.getuser()
    Services(db, "someone-else").create_training(training("T8"))
    with db.reading() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (last.actor, last.login) == ("someone-else", login if login != "someone-else" else None)
    assert verify_chain(db).ok


def test_postgres_records_the_database_login_and_refuses_another_name(programme, db, db_url, pg_logins):  # noqa: F811
    manager = pg_logins["mou_manager"]
    with manager.engine.connect() as conn:
        login = conn.execute(text("SELECT session_user")).scalar_one()
    url = manager.engine.url.render_as_string(hide_password=False)
    out = CliRunner().invoke(cli, ["--db", url, "--user", "root", "user", "add", "alice", "--role", "admin"])
    assert out.exit_code == 1 and "--user root is refused" in out.stderr, out.output
    Services(manager, login).create_training(training("T8"))
    with db.reading() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (last.actor, last.login) == (login, login)
    # no client can write another login: the database refuses it
    with db.reading() as s:
        head = s.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).one()
    message = refused_sql(manager, "INSERT INTO audit_event (seq, occurred_at, actor, action, entity_kind, changes, "
                                   f"prev_hash, hash, login) VALUES ({head[0] + 1}, now(), 'root', 'update', 'x', "
                                   f"'{{}}', '{head[1]}', '{'2' * 64}', 'root')")
    assert "must be the database login" in message
    assert verify_chain(db).ok


# writers cannot be blocked by readers; waits are bounded ---------------------------------------------------------
def test_evaluator_cannot_block_writers_on_postgres(programme, db, pg_logins, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MOU_TRACKER_LOCK_TIMEOUT", "2")
    evaluator = pg_logins["mou_evaluator"]
    with evaluator.engine.connect() as hold:
        hold.execute(text("SELECT pg_advisory_lock(1297044801)"))  # the old append lock: no longer used
        programme.create_training(training("T8"))  # writes at once
        hold.rollback()
        hold.execute(text("BEGIN"))
        with pytest.raises(Exception, match="permission denied"):
            hold.execute(text("SELECT id FROM audit_chain_lock FOR UPDATE"))
        hold.rollback()
    programme.create_training(training("T9"))


def test_a_writer_gives_up_after_a_bounded_wait(programme, db, backend, monkeypatch):
    monkeypatch.setenv("MOU_TRACKER_LOCK_TIMEOUT", "1")
    waiter = Database(db.url)
    other = Services(waiter, "tester")
    if backend == "postgresql":
        with db.engine.connect() as hold:
            hold.execute(text("SELECT id FROM audit_chain_lock FOR UPDATE"))
            with pytest.raises(ChainBusy, match="more than 1 s"):
                other.create_training(training("T8"))
            hold.rollback()
    else:
        con = sqlite3.connect(sqlite_path(db.url), isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseBusy, match="more than 1 s"):
                other.create_training(training("T8"))
        finally:
            con.execute("ROLLBACK")
            con.close()
    waiter.dispose()
    other = Services(db, "tester")
    other.create_training(training("T8"))
    assert verify_chain(db).ok


# users ---------------------------------------------------------------------------------------------------------
def test_user_add_key_and_list(programme, db, db_url, tmp_path):
    private, public = make_key(tmp_path, "alice")
    out = run(db_url, "user", "add", "alice", "--role", "manager", "--party", "hti", "--signatory")
    assert out.exit_code == 0 and "alice: manager of HTI, signatory (created)" in out.stdout, out.output
    out = run(db_url, "user", "key", "alice", str(public))
    assert out.exit_code == 0, out.output
    expected = subprocess.run(["ssh-keygen", "-lf", str(public)], capture_output=True, text=True).stdout.split()[1]
    assert expected in out.stdout
    listing = run(db_url, "user", "list").stdout
    assert f"alice\tmanager\tHTI\tsignatory\t{expected}" in listing
    # a private key is refused, and so is a key of another type
    out = run(db_url, "user", "key", "alice", str(private))
    assert out.exit_code == 1 and "is a private key" in out.stderr
    (tmp_path / "rsa.pub").write_text("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x\n")
    out = run(db_url, "user", "key", "alice", str(tmp_path / "rsa.pub"))
    assert out.exit_code == 1 and "Ed25519" in out.stderr
    out = run(db_url, "user", "add", "bob", "--role", "manager", "--party", "dci")
    assert out.exit_code == 1 and "no party 'dci'" in out.stderr
    assert verify_chain(db).ok


@pytest.mark.parametrize("who", ["nobody", "eve", "mia"])
def test_only_admins_manage_users(programme, db, db_url, tmp_path, who):
    add_user(programme, "eve", "evaluator")
    add_user(programme, "mia", "manager")
    out = run(db_url, "user", "add", "x", "--role", "admin", user=who)
    assert out.exit_code == 1 and len(out.stderr.strip().splitlines()) == 1
    _private, public = make_key(tmp_path, who)
    with pytest.raises(MouError):
        set_key(Services(db, who), "mia", public)
    assert [u.name for u in list_users(db)] == ["eve", "mia", "tester"]


def test_the_last_admin_cannot_step_down(programme):
    with pytest.raises(PermissionDenied, match="only admin"):
        add_user(programme, "tester", "manager")
