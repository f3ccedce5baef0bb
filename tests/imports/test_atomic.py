"""Atomicity under faults: an import killed with SIGKILL in the middle of its writes leaves the database
exactly as it was, with an audit chain that still verifies; the next import then works."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

from mou_tracker.imports import import_workbook
from tests.imports.helpers import audit_count, chain_intact, snapshot, write_book

# Runs the import in a child process; once it is writing participants (the trainings already written, not yet
# committed) it records how many trainings its own transaction sees, then waits to be killed.
CHILD = """
import sys, time
from pathlib import Path
from sqlalchemy import func, select
from mou_tracker.db.engine import Database
from mou_tracker.db.models import Training
from mou_tracker.imports import import_workbook
from mou_tracker.services import Services

url, workbook, marker = sys.argv[1:4]
services = Services(Database(url), "field-officer")

def progress(message, fraction):
    if message == "Writing Participants":
        with services.transaction() as uow:  # the import's own transaction
            seen = uow.session.execute(select(func.count()).select_from(Training)).scalar_one()
        Path(marker).write_text(str(seen))
        time.sleep(600)

import_workbook(services, workbook, progress=progress)
"""


def big_register(path, trainings=6000):
    start = date(2025, 6, 2)
    rows = [{"Training ID": f"K-{n:05d}", "Title": f"Session {n}", "Topic": "Evidence",
             "Start date": start + timedelta(days=n % 500), "End date": start + timedelta(days=n % 500 + 1),
             "County": "Nakuru"} for n in range(trainings)]
    people = [{"Training ID": f"K-{n:05d}", "Name": f"Person {n}", "Sex": "F", "Agency": "ODPP"}
              for n in range(0, trainings, 3)]
    return write_book(path, {"Trainings": rows, "Participants": people})


def test_kill_9_in_the_middle_of_the_writes_leaves_nothing(services, db, db_url, tmp_path):
    workbook = big_register(tmp_path / "register.xlsx")
    before, events = snapshot(db), audit_count(db)
    marker = tmp_path / "writing"
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(workbook), str(marker)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() or not marker.read_text():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reached its writes"
            time.sleep(0.05)
        assert int(marker.read_text()) == 6000  # the trainings were written, inside the open transaction
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    db.dispose()  # nothing cached from before: read what is on disk / on the server
    assert snapshot(db) == before and audit_count(db) == events
    assert chain_intact(db)

    outcome = import_workbook(services, workbook)  # the database is still perfectly usable
    assert outcome.ok and outcome.sheet("Trainings").new == 6000 and chain_intact(db)
