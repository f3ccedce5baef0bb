"""Two processes writing at once leave one linear, verifiable chain, and neither fails with "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from mou_tracker.db.models import AuditEvent
from mou_tracker.services.verify import verify_chain
from tests.audit.conftest import event_count

ROOT = Path(__file__).resolve().parents[2]
WRITES = 40

WORKER = """
import sys, time
from datetime import date
from pathlib import Path
from mou_tracker.db.engine import Database
from mou_tracker.services import Reason, Services

url, prefix, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
db = Database(url)
svc = Services(db, "writer-" + prefix)
svc.partnership_id  # resolve before the start line
(go.parent / ("ready-" + prefix)).touch()
deadline = time.time() + 60
while not go.exists() and time.time() < deadline:
    time.sleep(0.005)
started = time.time()
for i in range(n):
    svc.create_training({"code": f"{prefix}-{i}", "title": "Concurrent", "topic": "Evidence",
                       "start_date": date(2025, 8, 1), "end_date": date(2025, 8, 2), "county": "Nairobi"})
    milestone = {"code": f"{prefix}-M", "title": "Concurrent milestone", "due_date": date(2025, 9, 1),
                 "status": "In progress" if i % 2 else "Not started"}
    if i:
        svc.update_milestone(f"{prefix}-M", milestone, reason=Reason("other", "concurrency test"))
    else:
        svc.create_milestone(milestone, reason=Reason("other", "concurrency test"))
    time.sleep(0.01)  # a person or an importer pauses between saves: the other writer gets its turns
print(started, time.time())
db.dispose()
"""


def test_two_writers_at_once_keep_one_verifiable_chain(services, db, db_url, tmp_path):
    before = event_count(db)
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, prefix, str(WRITES), str(go)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for prefix in ("A", "B")]
    deadline = time.time() + 120
    while not all((tmp_path / f"ready-{p}").exists() for p in ("A", "B")) and time.time() < deadline:
        time.sleep(0.01)  # both have imported and opened the database: now start them together
    go.touch()
    outputs = [w.communicate(timeout=240) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert "database is locked" not in err
        assert worker.returncode == 0, err[-2000:]
    (a_start, a_end), (b_start, b_end) = (map(float, out.split()) for out, _err in outputs)
    assert a_start < b_end and b_start < a_end, "the two writers did not run at the same time"
    # each writer: WRITES trainings and WRITES milestone saves (one create, then an update each time)
    assert event_count(db) == before + 2 * 2 * WRITES
    result = verify_chain(db)
    assert result.ok, result.findings
    with db.reading() as s:
        seqs = list(s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())
        actors = [a for a in s.execute(select(AuditEvent.actor).order_by(AuditEvent.seq)).scalars()
                  if a.startswith("writer-")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(1 for a, b in zip(actors, actors[1:], strict=False) if a != b) >= 1
