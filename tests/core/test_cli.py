"""The command line of docs/reference/cli.md, end to end: exit codes, messages without tracebacks, the JSON shape."""

import json
import sqlite3
import subprocess
import sys
from datetime import date

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from mou_tracker.cli import cli
from mou_tracker.db.engine import Database


def run(*args, env=None):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + (result.stderr or "")
    return result


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


def test_version_and_help_on_every_command():
    assert run("--version").output.startswith("mou-tracker, version ")
    for path in all_commands(cli):
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_init_then_progress_json(db_url):
    assert run("--db", db_url, "init").exit_code == 0
    result = run("--db", db_url, "progress", "--period", "2025-Q3", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["period"] == "2025-Q3" and data["as_of"] is None
    assert len(data["indicators"]) == 12
    assert {i["status"] for i in data["indicators"]} == {"no_target"}


def test_database_from_the_environment_and_the_actor(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("MOU_TRACKER_DB", url)
    assert run("--user", "amina", "init").exit_code == 0
    with Database(url).reading() as s:
        assert s.execute(text("SELECT DISTINCT actor FROM audit_event")).scalars().all() == ["amina"]
        assert s.execute(text("SELECT name, role FROM app_user")).all() == [("amina", "admin")]


def test_demo_prints_nontrivial_progress(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run([sys.executable, "-m", "mou_tracker", "--db", url, "init", "--demo"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when not on a terminal
    out = subprocess.run([sys.executable, "-m", "mou_tracker", "--db", url, "progress", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    by = {i["code"]: i for i in data["indicators"]}
    assert all(i["period_target"] is not None for i in data["indicators"])
    assert all(i["cumulative_actual"] not in (None, 0) for i in data["indicators"])
    assert by["1.2"]["cumulative_actual"] < 895  # repeat attendees count once
    assert 0 < by["3.2"]["cumulative_actual"] < 100


def test_missing_database_is_a_clear_error(tmp_path):
    result = run("--db", f"sqlite:///{tmp_path / 'none.db'}", "progress")
    assert result.exit_code == 1
    assert "no database at" in result.stderr and "mou-tracker init" in result.stderr


@pytest.mark.parametrize("args", [("progress",), ("audit", "verify"), ("user", "list"), ("db", "upgrade")])
def test_an_empty_file_is_no_database_and_stays_empty(tmp_path, args):
    """A zero-byte file (`touch`, an interrupted copy) had a whole schema written into it by a command that only
    reads, then "holds no partnership yet"."""
    path = tmp_path / "empty.db"
    path.touch()
    result = run("--db", f"sqlite:///{path}", *args)
    assert result.exit_code == 1 and "is an empty file (0 bytes), not a database yet" in result.stderr
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert run("--db", f"sqlite:///{path}", "init").exit_code == 0  # init makes it one
    assert run("--db", f"sqlite:///{path}", *args).exit_code == 0


def test_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    result = run("--db", f"sqlite:///{path}", "progress")
    assert result.exit_code == 1
    assert "cannot open the database" in result.stderr


def test_newer_schema_is_a_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert run("--db", url, "init").exit_code == 0
    with sqlite3.connect(tmp_path / "new.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    result = run("--db", url, "progress")
    assert result.exit_code == 1
    assert "newer than this mou-tracker" in result.stderr


def test_bad_url_is_a_clear_error():
    result = run("--db", "nonsense", "progress")
    assert result.exit_code == 1
    assert "not a database URL" in result.stderr


@pytest.mark.parametrize("args", [("progress", "--period", "2025-Q5"), ("progress", "--as-of", "31/12/2025"),
                                  ("progress", "--format", "xml"), ("frobnicate",)])
def test_usage_errors_exit_2(tmp_path, args):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    run("--db", url, "init")
    assert run("--db", url, *args).exit_code == 2


@pytest.mark.parametrize("args, where", [(("--as-of", "2025-09-30", "progress"), "mou-tracker progress --as-of"),
                                         (("--read-only", "import", "x.xlsx"), "a command's own options")])
def test_a_ui_option_before_a_command_is_refused_not_ignored(tmp_path, args, where):
    """`mou-tracker --as-of 2025-09-30 progress` printed today's figures under no "as of": the option before the
    command only opens the UI on that day, and was dropped without a word."""
    url = f"sqlite:///{tmp_path / 'u.db'}"
    run("--db", url, "init")
    result = run("--db", url, *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{args[0]} before a command applies to the terminal UI only" in result.stderr and where in result.stderr


def test_ui_options_before_the_tui_command_open_the_ui_that_way(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("mou_tracker.tui.app.run_app", opened.append)
    url = f"sqlite:///{tmp_path / 'u.db'}"
    run("--db", url, "init")
    assert run("--db", url, "--read-only", "--as-of", "2025-09-30", "tui").exit_code == 0
    assert run("--db", url, "--as-of", "2025-09-30", "tui", "--read-only").exit_code == 0
    assert [(x.read_only, x.as_of) for x in opened] == [(True, date(2025, 9, 30))] * 2
    twice = run("--db", url, "--as-of", "2025-09-30", "tui", "--as-of", "2025-06-30")
    assert twice.exit_code == 2 and "--as-of is given twice" in twice.stderr and len(opened) == 2


def test_several_partnerships_need_a_choice(services, db_url):
    services.create_partnership({"code": "DCI-HTI", "name": "DCI", "country": "Kenya",
                                 "start_date": date(2025, 1, 1)})
    result = run("--db", db_url, "progress")
    assert result.exit_code == 1 and "--partnership" in result.stderr
    assert run("--db", db_url, "--partnership", "DCI-HTI", "progress").exit_code == 0
    assert run("--db", db_url, "--partnership", "NOPE", "progress").exit_code == 1


def test_as_of_shows_the_earlier_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'asof.db'}"
    run("--db", url, "init")
    from mou_tracker.services import Services
    from tests.helpers import training

    db = Database(url)
    Services(db, "tester").create_training(training("T1", date(2025, 8, 1)))
    today = date.today().isoformat()
    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    now = json.loads(run("--db", url, "progress", "--period", "2025-Q3", "--as-of", today, "--format", "json").stdout)
    then = json.loads(run("--db", url, "progress", "--period", "2025-Q3", "--as-of", yesterday,
                          "--format", "json").stdout)
    assert now["as_of"] == today
    assert next(i for i in now["indicators"] if i["code"] == "1.1")["period_actual"] == 1
    assert then["indicators"] == []  # nothing had been recorded yet, not even the framework


def test_db_upgrade_and_backup(db_url, tmp_path, services):
    from tests.helpers import training

    services.create_training(training())
    assert "Database schema at" in run("--db", db_url, "db", "upgrade").output
    target = tmp_path / "copy.bak"
    if db_url.startswith("sqlite"):
        # a reader holding a transaction open does not stop a consistent copy
        holder = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM audit_event").fetchone()
        result = run("--db", db_url, "db", "backup", str(target))
        holder.close()
        assert result.exit_code == 0, result.output
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT code FROM training").fetchall() == [("T1",)]
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    else:
        result = run("--db", db_url, "db", "backup", str(target))
        assert result.exit_code == 0, result.output
        assert target.read_bytes()[:5] == b"PGDMP"


def test_backup_into_a_missing_folder_is_refused(db_url, tmp_path):
    run("--db", db_url, "init")
    result = run("--db", db_url, "db", "backup", str(tmp_path / "nope" / "x.bak"))
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_users_and_roles_from_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert run("--db", url, "--user", "boss", "init").exit_code == 0
    assert run("--db", url, "--user", "boss", "user", "add", "eve", "--role", "evaluator").exit_code == 0
    refused = run("--db", url, "--user", "mallory", "user", "add", "mallory", "--role", "admin")
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    # an empty --party (a script's unset variable) was taken for "no party": the user was made without one
    empty = run("--db", url, "--user", "boss", "user", "add", "bob", "--role", "manager", "--party", "")
    assert empty.exit_code == 1 and "--party: is empty" in empty.stderr
    listing = run("--db", url, "user", "list").output.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [["boss", "admin"], ["eve", "evaluator"]]


@pytest.mark.postgres
def test_login_that_may_not_migrate_gets_a_clear_message(pg_server):
    from mou_tracker.db.migrate import downgrade_to

    pg_server.admin("CREATE DATABASE old_schema")
    url = pg_server.url("old_schema")
    assert run("--db", url, "init").exit_code == 0
    db = Database(url)
    downgrade_to(db, "0002")
    db.dispose()
    pg_server.admin("DROP ROLE IF EXISTS plain_login")
    pg_server.admin("CREATE ROLE plain_login LOGIN")
    pg_server.admin("GRANT SELECT ON ALL TABLES IN SCHEMA public TO plain_login", database="old_schema")
    result = run("--db", pg_server.url("old_schema", user="plain_login"), "progress")
    assert result.exit_code == 1
    assert "ask the database admin to run `mou-tracker db upgrade`" in result.stderr
