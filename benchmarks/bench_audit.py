"""Audit benchmark: `audit verify` on 1,000,000 events, and as-of progress for a past quarter.

    .venv/bin/python -m benchmarks.bench_audit [--events 1000000] [--skip-postgres] [--rebuild] [--tiny]

The trail is the large portfolio (benchmarks/portfolio.py, ~828,000 events at scale 1.0) plus generated
edits through the audited service layer (hours, scores, descriptions, milestone re-planning with reasons,
deletions) up to ``--events``. Each measurement runs in a fresh process, so its peak memory is its own.
Goals: verify under 15 s and under 500 MB on SQLite; as-of progress for a past quarter under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, TINY_SCALE, add_tiny, ensure_portfolio, postgres_server

PARTNERSHIP = "PORT-05"
PERIOD = "2024-Q2"
BATCH = 5000


def add_edits(url: str, target: int, say=print) -> int:
    """Audited edits, spread over the partnerships, until the trail holds ``target`` events."""
    from sqlalchemy import func, select

    from mou_tracker.db.engine import Database
    from mou_tracker.db.models import AuditEvent, Partnership
    from mou_tracker.services import Reason

    db = Database(url)
    with db.reading() as s:
        have = s.execute(select(func.max(AuditEvent.seq))).scalar() or 0
        codes = list(s.execute(select(Partnership.code).order_by(Partnership.id)).scalars())
    if have >= target:
        return have
    need = target - have
    replan = Reason("re-planning agreed by both parties", "generated re-planning")
    correction = Reason("data correction", "generated correction")
    written = 0
    while written < need:  # rounds: kinds with few records (milestones) run out before their share
        per = (need - written) // len(codes) + 1
        for code in codes:
            if written >= need:
                break
            written += _edit_partnership(db, code, per, need - written, replan, correction)
            say(f"  edits: {written} of {need}")
    with db.reading() as s:
        have = s.execute(select(func.max(AuditEvent.seq))).scalar()
    db.dispose()
    return have


def _edit_partnership(db: Any, code: str, per: int, left: int, replan: Any, correction: Any) -> int:
    from sqlalchemy import select

    from mou_tracker.db.models import Attendance, Engagement, Expenditure, Grant, Milestone, Training
    from mou_tracker.services import Services

    svc = Services(db, "editor", partnership=code)
    pid = svc.partnership_id
    # (model, share of this partnership's edits, how to change one, reason)
    plan = ((Engagement, 0.35, lambda e: {"hours": e.hours + Decimal("0.5")}, None),
            (Attendance, 0.30, lambda a: {"post_score": min(Decimal(100), (a.post_score or 0) + 1)}, None),
            (Expenditure, 0.18, lambda x: {"description": f"{x.description} (corrected)"}, correction),
            (Milestone, 0.10, lambda m: {"due_date": m.due_date + timedelta(days=14)}, replan),
            (Training, 0.07, lambda t: {"venue": f"Venue {t.id}"}, None))
    written = 0
    for model, share, change, reason in plan:
        todo = min(int(per * share) + 1, left - written)
        offset = 0
        while todo > 0:
            with svc.transaction() as uow:
                stmt = select(model).order_by(model.id).offset(offset).limit(min(BATCH, todo))
                if model is Attendance:
                    stmt = stmt.join(Training, Training.id == Attendance.training_id).where(
                        Training.partnership_id == pid)
                elif model is Expenditure:
                    stmt = stmt.join(Grant, Grant.id == Expenditure.grant_id).where(Grant.partnership_id == pid)
                else:
                    stmt = stmt.where(model.partnership_id == pid)
                rows = uow.session.execute(stmt).scalars().all()
                if not rows:
                    break
                for obj in rows:
                    ref = getattr(obj, "code", None) or str(obj.id)
                    uow.update(model.__tablename__, obj, change(obj), ref, pid, reason)
                if model is Expenditure and offset == 0:  # a few deletions too (each needs a reason)
                    for obj in rows[-20:]:
                        uow.delete("expenditure", obj, obj.code, pid, correction)
                n = uow.audit.written
            written += n
            todo -= n
            offset += len(rows)
        if written >= left:
            break
    return written


def prepare(url_of, path: Path, events: int, rebuild: bool, scale: float = 1.0) -> str:
    """A copy of the cached portfolio with edits up to ``events`` (itself cached)."""
    done = path.with_suffix(".done")
    url = url_of(path)
    if done.exists() and path.exists() and not rebuild:
        add_edits(url, events, say=lambda m: None)  # tops up a trail built for fewer events
        return url
    base = OUT / f"portfolio-{scale}.db"
    gen = ensure_portfolio(f"sqlite:///{base}", base, scale)
    if gen:
        print(f"portfolio generation: {gen['seconds']:.0f} s {gen['counts']}")
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"), done):
        p.unlink(missing_ok=True)
    shutil.copy(base, path)
    t0 = time.perf_counter()
    have = add_edits(url, events, say=lambda m: print(m, file=sys.stderr))
    print(f"edits: trail at {have} events after {time.perf_counter() - t0:.0f} s")
    done.write_text(str(have))
    return url


# Child measurements (each in its own process) ------------------------------------------------------------------
def child(what: str, url: str) -> None:
    from mou_tracker.db.engine import Database

    db = Database(url)
    t0 = time.perf_counter()
    if what == "verify":
        from mou_tracker.services.verify import verify_chain

        result = verify_chain(db)
        out = {"ok": result.ok, "events": result.events, "findings": result.findings[:3]}
    else:
        from mou_tracker.domain.periods import Quarter
        from mou_tracker.services import Services
        from mou_tracker.services.history import state_as_of
        from mou_tracker.services.indicators import IndicatorEngine

        day = date.fromisoformat(what.split(":", 1)[1])
        pid = Services(db, "bench", partnership=PARTNERSHIP, read_only=True).partnership_id
        with state_as_of(db, day, partnership_id=pid) as session:
            progress = IndicatorEngine(session, pid).progress(Quarter.parse(PERIOD), day)
        figures = progress.by_code()
        out = {"indicators": len(progress.indicators),
               "1.1": str(figures["1.1"].period_actual) if "1.1" in figures else "(no records yet)"}
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    own, helper = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["helper_peak_mb"] = helper.ru_maxrss / 1024
    out["cpu_s"] = own.ru_utime + own.ru_stime
    out["helper_cpu_s"] = helper.ru_utime + helper.ru_stime
    print(json.dumps(out))


def measure(what: str, url: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_audit", "--child", what, url],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_seconds(url: str, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mou_tracker", "--db", url, *args], capture_output=True, text=True,
                          check=False)
    return time.perf_counter() - t0, (done.stdout or done.stderr).strip().splitlines()[0]


def report(label: str, url: str) -> None:
    print(f"{label} load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    v = measure("verify", url)
    print(f"{label} audit verify: {v['seconds']:.1f} s, peak {v['peak_mb']:.0f} MB (its chain-walk process "
          f"{v['helper_peak_mb']:.0f} MB), {v['events']} events, ok={v['ok']} (goal < 15 s, < 500 MB on SQLite); "
          f"CPU {v['cpu_s']:.1f} s + {v['helper_cpu_s']:.1f} s in the chain-walk process")
    os.environ["MOU_VERIFY_SERIAL"] = "1"
    v = measure("verify", url)
    del os.environ["MOU_VERIFY_SERIAL"]
    print(f"{label} audit verify in one process: {v['seconds']:.1f} s, peak {v['peak_mb']:.0f} MB, "
          f"CPU {v['cpu_s']:.1f} s")
    seconds, line = cli_seconds(url, "audit", "verify")
    print(f"{label} whole CLI call `audit verify`: {seconds:.1f} s -> {line[:60]}...")
    today = datetime.now(UTC).date()
    for day in (today, date(2024, 6, 30)):
        a = measure(f"asof:{day}", url)
        print(f"{label} as-of progress {PARTNERSHIP} {PERIOD} as of {day}: {a['seconds']:.2f} s, peak "
              f"{a['peak_mb']:.0f} MB (1.1 = {a['1.1']}) (goal < 3 s)")
    seconds, _ = cli_seconds(url, "--partnership", PARTNERSHIP, "progress", "--period", PERIOD, "--as-of",
                             str(today), "--format", "json")
    print(f"{label} whole CLI call `progress --as-of {today}`: {seconds:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("WHAT", "URL"), help=argparse.SUPPRESS)
    add_tiny(ap)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    scale = 1.0
    if args.tiny:  # the tiny portfolio holds ~5,000 events; edits add the rest
        scale, args.events = TINY_SCALE, 7_000
    print(f"== audit benchmark ({args.events} events) ==")
    print("(the generated trail is stamped with the time it was generated: an as-of date before that rebuilds an "
          "empty state, so the as-of figure that counts is the one as of today, which replays everything)")
    path = OUT / f"audit-{args.events}.db"
    url = prepare(lambda p: f"sqlite:///{p}", path, args.events, args.rebuild, scale)
    report("sqlite  ", url)
    if not args.skip_postgres:
        with postgres_server() as server:
            server.admin("CREATE DATABASE bench_audit")
            pg = server.url("bench_audit")
            from benchmarks.portfolio import build_portfolio

            t0 = time.perf_counter()
            build_portfolio(pg, scale=scale)
            have = add_edits(pg, args.events, say=lambda m: None)
            print(f"postgres generation: {time.perf_counter() - t0:.0f} s, {have} events")
            report("postgres", pg)


if __name__ == "__main__":
    main()
