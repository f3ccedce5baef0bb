"""The command line never damages what it reads and never answers typeable input with "unexpected problem".

Each case here was reproduced on the first version (issue "Nothing changes silently"): an ``--errors`` path
that overwrote the database, out-of-range dates that crashed, URLs that were not databases, a schema-version
table left empty, database errors echoing SQL and stored values, a world-readable log.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from mou_tracker.outputs import PART_SUFFIX

ENV_KEEP = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR")


def cli(*args: str, home: Path, db: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a process of its own, as a user would."""
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               MOU_TRACKER_USER="tester")
    if db:
        env["MOU_TRACKER_DB"] = db
    done = subprocess.run([sys.executable, "-m", "mou_tracker", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, check=False, timeout=300)
    assert "Traceback" not in done.stderr + done.stdout
    assert "unexpected problem" not in done.stderr
    return done


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def not_our_output(path: Path) -> bool:
    """SQLite itself may create an empty -wal/-shm when the database opens; no workbook or backup went there."""
    if not path.exists():
        return True
    head = path.read_bytes()[:16]
    return not head.startswith(b"PK") and not head.startswith(b"SQLite format 3")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made once by the real `init`; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("initialised")
    path = folder / "live.db"
    (folder / "home").mkdir()
    assert cli("init", home=folder / "home", db=f"sqlite:///{path}").returncode == 0
    assert not Path(f"{path}-wal").exists()  # closed cleanly: the copy below is the whole database
    return path


@pytest.fixture
def live_db(tmp_path: Path, initialised: Path) -> tuple[Path, str]:
    import shutil

    path = tmp_path / "live.db"
    shutil.copy(initialised, path)
    return path, f"sqlite:///{path}"


def bad_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Trainings"
    ws.append(["Training ID", "Title", "Topic", "Start date", "End date", "County"])
    ws.append(["T1", "A title", "Evidence", "2025-07-01", "not a date", "Atlantis"])
    wb.save(path)
    return path


# Files --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("companion", ["", "-wal", "-shm", "-journal"])
def test_import_errors_copy_never_overwrites_the_database(tmp_path, home, live_db, companion):
    path, url = live_db
    target = Path(f"{path}{companion}")
    before = digest(target), digest(path)
    done = cli("import", str(bad_workbook(tmp_path / "bad.xlsx")), "--errors", str(target), home=home, db=url)
    assert done.returncode == 1
    assert "database" in done.stderr and "nothing was written" in done.stderr
    assert (digest(target), digest(path)) == before
    assert cli("progress", home=home, db=url).returncode == 0  # still a database


def test_import_errors_copy_may_not_be_the_file_being_read(tmp_path, home, live_db):
    _, url = live_db
    bad = bad_workbook(tmp_path / "bad.xlsx")
    before = digest(bad)
    done = cli("import", str(bad), "--errors", str(bad), home=home, db=url)
    assert done.returncode == 1 and "reading" in done.stderr
    assert digest(bad) == before


def test_import_errors_copy_must_end_in_xlsx(tmp_path, home, live_db):
    _, url = live_db
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    done = cli("import", str(bad_workbook(tmp_path / "bad.xlsx")), "--errors", str(other), home=home, db=url)
    assert done.returncode == 1 and ".xlsx" in done.stderr
    assert other.read_text() == "keep me"


def test_import_errors_copy_is_written_when_safe(tmp_path, home, live_db):
    _, url = live_db
    copy = tmp_path / "bad-marked.xlsx"
    done = cli("import", str(bad_workbook(tmp_path / "bad.xlsx")), "--errors", str(copy), home=home, db=url)
    assert done.returncode == 1 and copy.exists()
    assert not list(tmp_path.glob(f".*{PART_SUFFIX}"))


@pytest.mark.parametrize("name", ["live.db", "live.db-wal", "live.db-shm", "report.txt", "report"])
def test_report_output_refused_for_the_database_or_a_non_xlsx_path(tmp_path, home, live_db, name):
    path, url = live_db
    target = tmp_path / name
    before = digest(path)
    done = cli("report", "--party", "hti", "--period", "2025-Q3", "--output", str(target), home=home, db=url)
    assert done.returncode == 1
    assert digest(path) == before and (target == path or not_our_output(target))


def test_report_output_may_not_be_its_own_template(tmp_path, home, live_db):
    from mou_tracker.paths import templates_dir

    _, url = live_db
    template = templates_dir() / "hti.xlsx"
    before = digest(template)
    done = cli("report", "--party", "hti", "--period", "2025-Q3", "--output", str(template), home=home, db=url)
    assert done.returncode == 1 and "reading" in done.stderr
    assert digest(template) == before


def test_report_symlink_to_the_database_is_refused(tmp_path, home, live_db):
    path, url = live_db
    link = tmp_path / "innocent.xlsx"
    link.symlink_to(path)
    before = digest(path)
    done = cli("report", "--party", "hti", "--period", "2025-Q3", "--output", str(link), home=home, db=url)
    assert done.returncode == 1 and "database" in done.stderr
    assert digest(path) == before


@pytest.mark.parametrize("companion", ["", "-wal", "-shm", "-journal"])
def test_backup_never_overwrites_the_database(tmp_path, home, live_db, companion):
    path, url = live_db
    target = Path(f"{path}{companion}")
    before = digest(path)
    done = cli("db", "backup", str(target), home=home, db=url)
    assert done.returncode == 1 and "database" in done.stderr
    assert digest(path) == before and (target == path or not_our_output(target))


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path, home, live_db):
    _, url = live_db
    stale = tmp_path / f".report.xlsx.999999999{PART_SUFFIX}"  # a pid that cannot be alive
    stale.write_bytes(b"half a workbook")
    out = tmp_path / "report.xlsx"
    done = cli("report", "--party", "odpp", "--period", "2025-Q3", "--output", str(out), home=home, db=url)
    assert done.returncode == 0, done.stderr
    assert out.exists() and not stale.exists()


def test_report_replaces_an_existing_output_atomically(tmp_path, home, live_db):
    _, url = live_db
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"old")
    assert cli("report", "--party", "hti", "--period", "2025-Q3", "--output", str(out), home=home,
               db=url).returncode == 0
    assert out.read_bytes()[:2] == b"PK"
    assert not list(tmp_path.glob(f".*{PART_SUFFIX}"))


# Dates ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("progress", "--as-of", "0001-01-01"),
    ("progress", "--as-of", "9999-12-31"),
    ("progress", "--as-of", "1999-12-31"),
    ("progress", "--as-of", "2101-01-01"),
    ("progress", "--period", "9999-Q4"),
    ("progress", "--period", "1999-Q4"),
    ("report", "--party", "hti", "--period", "9999-Q4", "--output", "x.xlsx"),
    ("report", "--party", "odpp", "--as-of", "0001-01-01", "--output", "x.xlsx"),
    ("audit", "log", "--until", "9999-12-31"),
    ("audit", "log", "--since", "0001-01-01"),
])
def test_dates_outside_2000_to_2100_get_one_line(tmp_path, home, live_db, args):
    _, url = live_db
    done = cli(*args, home=home, db=url, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "2000-01-01" in lines[0] and "2100-12-31" in lines[0]
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("args", [("progress", "--as-of", "2100-12-31"), ("progress", "--period", "2100-Q4"),
                                  ("progress", "--as-of", "2000-01-01"), ("progress", "--period", "2000-Q1")])
def test_the_edges_of_the_range_are_accepted(home, live_db, args):
    _, url = live_db
    done = cli(*args, "--format", "json", home=home, db=url)
    assert done.returncode == 0, done.stderr


def test_a_malformed_date_is_a_usage_error(home, live_db):
    _, url = live_db
    done = cli("progress", "--as-of", "31/12/2025", home=home, db=url)
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr


# Databases -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://x", "sqlite:////dev/null", "mysql://u@h/db", "not a url", "sqlite://"])
def test_urls_that_are_not_usable_databases(home, url):
    done = cli("--db", url, "progress", home=home)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")


@pytest.mark.parametrize("option", ["--db", "--user", "--partnership"])
def test_a_global_option_given_empty_is_refused_not_read_as_left_out(tmp_path, home, live_db, option):
    """`mou-tracker --db "$DB" import f.xlsx` with $DB unset imported into the default database (or the one
    $MOU_TRACKER_DB names); `--user ""` acted as the OS login. An empty value is a usage error now, and nothing
    is written anywhere."""
    path, url = live_db
    default = home / "data" / "mou-tracker" / "mou-tracker.db"
    assert cli("--db", f"sqlite:///{default}", "init", home=home).returncode == 0
    before = (digest(path), digest(default))
    workbook = tmp_path / "t.xlsx"
    wb = Workbook()
    wb.active.title = "Trainings"
    wb.active.append(["Training ID", "Title", "Topic", "Start date", "End date", "County"])
    wb.active.append(["T1", "A title", "Evidence", "2025-07-01", "2025-07-02", "Kisumu"])
    wb.save(workbook)
    args = [option, " "] if option != "--db" else [option, ""]
    done = cli(*args, "import", str(workbook), home=home, db=url)
    assert done.returncode == 2 and f"'{option}': is empty" in done.stderr, done.stderr
    assert (digest(path), digest(default)) == before
    assert cli("import", str(workbook), home=home, db=url).returncode == 0  # left out: as before
    assert digest(path) != before[0]


def test_a_file_that_is_not_a_database(tmp_path, home):
    fake = tmp_path / "fake.db"
    fake.write_bytes(b"this is not sqlite" * 100)
    before = digest(fake)
    for args in (("progress",), ("init",)):
        done = cli("--db", f"sqlite:///{fake}", *args, home=home)
        assert done.returncode == 1 and done.stderr.startswith("error: ")
    assert digest(fake) == before


def test_init_on_a_database_whose_schema_version_table_is_empty(home, live_db):
    path, url = live_db
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM alembic_version")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(path)
    for args in (("init",), ("progress",), ("db", "upgrade")):
        done = cli(*args, home=home, db=url)
        assert done.returncode == 1, args
        assert "schema version" in done.stderr
    assert digest(path) == before


def test_init_refuses_a_foreign_sqlite_database(tmp_path, home):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE patients (name TEXT)")
    conn.execute("INSERT INTO patients VALUES ('Secret Name')")
    conn.commit()
    conn.close()
    before = digest(other)
    done = cli("--db", f"sqlite:///{other}", "init", home=home)
    assert done.returncode == 1 and "not a mou-tracker database" in done.stderr
    assert digest(other) == before


def test_database_errors_echo_no_sql_and_no_stored_values(home, live_db):
    """A database broken behind the app's back: the message names the problem, never SQL or other rows."""
    path, url = live_db
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE milestone")
        conn.execute("UPDATE party SET name = 'Secret Person Name'")
    done = cli("progress", home=home, db=url)
    assert done.returncode == 1
    for leak in ("SELECT", "FROM ", "Secret Person Name", "[SQL"):
        assert leak not in done.stderr
    log = home / "data" / "mou-tracker" / "mou-tracker.log"
    if log.exists():
        text = log.read_text()
        assert "Secret Person Name" not in text and "[SQL:" not in text
        assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_log_file_is_readable_by_its_owner_only(home, live_db):
    path, url = live_db
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE training")
    cli("progress", home=home, db=url)
    log = home / "data" / "mou-tracker" / "mou-tracker.log"
    assert log.exists()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


# Identity on PostgreSQL ------------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_refuses_a_user_naming_someone_else_and_records_the_login(pg_server, home):
    """`--db …alice… --user root user add alice --role admin` used to be recorded as root."""
    from sqlalchemy import text

    from mou_tracker.db.engine import Database

    pg_server.admin("CREATE DATABASE actor_check")
    url = pg_server.url("actor_check")
    assert cli("init", home=home, db=url).returncode == 0
    db = Database(url)
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    done = cli("--user", "root", "user", "add", "alice", "--role", "admin", home=home, db=url)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "--user root is refused" in done.stderr
    done = cli("--user", "postgres", "user", "add", "alice", "--role", "manager", home=home, db=url)
    assert done.returncode == 0, done.stderr
    with db.engine.connect() as conn:
        actors = set(conn.execute(text("SELECT DISTINCT actor FROM audit_event")).scalars())
        after = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    db.dispose()
    assert actors == {"postgres"}  # MOU_TRACKER_USER=tester in the environment does not rename the login
    assert after == before + 1


def test_a_reader_that_stops_early_gets_no_error(tmp_path, home):
    """`mou-tracker audit log | head -1`: the closed pipe is not "an unexpected problem"."""
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    assert cli("init", "--demo", home=home, db=url).returncode == 0
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), MOU_TRACKER_DB=url)
    done = subprocess.run(f"'{sys.executable}' -m mou_tracker audit log | head -1", shell=True, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.stdout.startswith("#1 ")
    assert "Traceback" not in done.stderr and "unexpected problem" not in done.stderr and "error" not in done.stderr


@pytest.mark.parametrize("name", ["live.db", "live.db-wal", "trail.txt"])
def test_audit_export_never_overwrites_the_database_or_writes_a_non_xlsx(tmp_path, home, live_db, name):
    path, url = live_db
    target = tmp_path / name
    before = digest(path)
    done = cli("audit", "export", str(target), home=home, db=url)
    assert done.returncode == 1
    assert digest(path) == before and (target == path or not_our_output(target))


def test_certificate_files_never_overwrite_the_database(tmp_path, home, live_db):
    """The certificate folder holding a file named like the database's: refused through the same check."""
    from mou_tracker.outputs import OutputRefused, write_atomic

    path, _ = live_db
    before = digest(path)
    with pytest.raises(OutputRefused):
        write_atomic(path, b"{}", db_file=path)
    assert digest(path) == before
