"""Import benchmark: a workbook of 10,000 trainings and 200,000 participant rows.

    .venv/bin/python -m benchmarks.bench_import [--skip-postgres] [--rebuild] [--tiny]

Prints: reading the workbook with python-calamine against openpyxl's read-only mode (the choice of reader);
then a dry run, the import and a second import of the same file (all unchanged), each in a fresh process on
a freshly initialised database, with wall time and peak memory; on SQLite and on a throwaway PostgreSQL.
In the same run, a raw baseline: the same rows and the same audit events written with the batch path's own
writes (the driver's executemany; 200-row INSERTs into the triggered audit table on SQLite, COPY on
PostgreSQL) and no checks, and the import's ratio to it. Under each step, its time per phase. Goals
(SQLite): import under 8 s, dry run under 5 s, unchanged re-import under 3 s, peak under 400 MB, at most 3x
the baseline; PostgreSQL import under 30 s.
``--tiny``: 100 trainings and 2,000 rows in a temporary folder; figures printed, no goal checked.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, peak_rss_mb, postgres_server

TRAININGS = 10_000
PARTICIPANT_ROWS = 200_000
PEOPLE = 60_000  # so that many attend several trainings
WORKBOOK = OUT / "import-10k-trainings-200k-participants.xlsx"
GOALS = {"import_s": 8.0, "import_mb": 400.0, "dry_run_s": 5.0, "reimport_s": 3.0, "ratio": 3.0,
         "pg_import_s": 30.0}
SCALE = {"trainings": TRAININGS, "rows": PARTICIPANT_ROWS, "people": PEOPLE}
TINY = {"trainings": 100, "rows": 2_000, "people": 600}


def build_workbook(path: Path) -> Path:
    """The benchmark workbook (deterministic), written with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from mou_tracker.domain import codes
    from mou_tracker.imports.sheets import PARTICIPANTS
    from mou_tracker.imports.sheets import TRAININGS as TRAINING_SHEET

    trainings, rows, n_people = SCALE["trainings"], SCALE["rows"], SCALE["people"]
    rng = random.Random(6)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Trainings")
    ws.append([f.label for f in TRAINING_SHEET.columns])
    first = date(2025, 5, 12)

    def day(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    for n in range(trainings):
        start = first + timedelta(days=rng.randrange(0, 1100))
        topic = rng.choice(("Evidence", "Victim care", "Financial investigation", "Trial advocacy"))
        ws.append([f"TR-{n:05d}", f"{topic} session {n}", topic, day(start),
                   day(start + timedelta(days=rng.randrange(0, 4))), rng.choice(codes.KENYA_COUNTIES),
                   "Law courts training room", rng.choice(codes.DELIVERIES), rng.choice(codes.LEADS),
                   rng.randrange(1000, 20000), "USD"])
    ws = wb.create_sheet("Participants")
    ws.append([f.label for f in PARTICIPANTS.columns])
    people = []
    for k in range(n_people):
        agency = rng.choice(codes.AGENCIES)
        staff = f"ODPP/{k:06d}" if agency == "ODPP" and rng.random() < 0.7 else None
        people.append((f"Participant {k}", rng.choice(codes.SEXES), agency,
                       "Prosecutor" if agency == "ODPP" else "Officer", staff))
    per = rows // trainings
    for n in range(trainings):
        for name, sex, agency, role, staff in rng.sample(people, per):
            pre = rng.randrange(20, 80)
            ws.append([f"TR-{n:05d}", name, sex, agency, role, staff, pre, min(100, pre + rng.randrange(0, 30))])
    wb.save(path)
    return path


def read_with(reader: str, path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    cells = 0
    if reader == "calamine":
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as book:
            for name in book.sheet_names:
                for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False):
                    cells += len(row)
    else:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        for ws in book.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        book.close()
    return {"seconds": time.perf_counter() - t0, "cells": cells, "peak_mb": peak_rss_mb()}


def run_import(url: str, path: Path, dry_run: bool) -> dict[str, Any]:
    from mou_tracker.db.engine import Database
    from mou_tracker.imports import import_workbook
    from mou_tracker.services import Services

    db = Database(url)
    services = Services(db, "bench")
    services.partnership_id  # noqa: B018 - resolve it outside the timing
    phases: dict[str, float] = {}
    current = ["start", 0.0]

    def tick(message: str, _fraction: float) -> None:
        """Time per phase, from the import's own progress messages (Reading <sheet>, Checking references,
        Writing <sheet>, Recomputing the indicators, Saving)."""
        now = time.perf_counter() - t0
        phase = message.split(" (")[0]
        if phase != current[0]:
            phases[str(current[0])] = phases.get(str(current[0]), 0.0) + now - float(current[1])
            current[:] = [phase, now]

    t0 = time.perf_counter()
    outcome = import_workbook(services, path, dry_run=dry_run, progress=tick)
    seconds = time.perf_counter() - t0
    tick("end", 1.0)
    if not outcome.ok:
        raise SystemExit("\n".join(outcome.problem_lines()[:20]))
    db.dispose()
    from mou_tracker.services.bulk import SECONDS

    phases.update({f"  of which {k}": v for k, v in SECONDS.items()})
    return {"seconds": seconds, "peak_mb": peak_rss_mb(),
            "phases": {k: round(v, 2) for k, v in phases.items() if v >= 0.05},
            "sheets": {s.sheet: [s.new, s.changed, s.unchanged] for s in outcome.sheets}}


def run_baseline(url: str, path: Path) -> dict[str, Any]:
    """The floor: read the same cells, insert the same rows and the same audit events with the service layer's
    bulk path (its fastest writes), no check, no comparison with what is stored."""
    from python_calamine import CalamineWorkbook

    from mou_tracker.db.engine import Database
    from mou_tracker.db.models import Attendance, Participant, Training
    from mou_tracker.domain.identity import participant_key, participant_ref
    from mou_tracker.services import Services
    from mou_tracker.services.trainings import attendance_ref

    db = Database(url)
    services = Services(db, "bench")
    pid = services.partnership_id
    t0 = time.perf_counter()
    with CalamineWorkbook.from_path(str(path)) as book:
        trainings = book.get_sheet_by_name("Trainings").to_python()[1:]
        rows = book.get_sheet_by_name("Participants").to_python()[1:]
    ids = services.bulk_insert("training", Training, [
        {"partnership_id": pid, "code": r[0], "title": r[1], "topic": r[2], "start_date": r[3], "end_date": r[4],
         "county": r[5], "venue": r[6], "delivery": r[7], "lead": r[8], "cost": r[9], "currency": r[10]}
        for r in trainings])
    tid = {r[0]: i for r, i in zip(trainings, ids, strict=True)}
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = participant_key(r[1], r[3], r[5] or None)
        people.setdefault(key, {"partnership_id": pid, "key": key, "name": r[1], "sex": r[2], "agency": r[3],
                                "role": r[4] or None, "staff_number": r[5] or None})
    pids = services.bulk_insert("participant", Participant, list(people.values()), None,
                                ref_of=lambda oid, _row: participant_ref(oid))
    person = dict(zip(people, pids, strict=True))
    code_of = {i: c for c, i in tid.items()}
    services.bulk_insert("attendance", Attendance, [
        {"training_id": tid[r[0]], "participant_id": person[participant_key(r[1], r[3], r[5] or None)],
         "pre_score": r[6], "post_score": r[7]} for r in rows], None,
        ref_of=lambda _oid, r: attendance_ref(code_of[r["training_id"]], r["participant_id"]))
    seconds = time.perf_counter() - t0
    db.dispose()
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "sheets": {}}


def child(args: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, so each peak memory figure is its own."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_import", "--child", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"benchmark step {args} failed:\n{done.stderr[-3000:]}{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sqlite_files(name: str) -> list[Path]:
    path = WORKBOOK.parent / f"import-{name}.db"
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def fresh_sqlite(name: str) -> str:
    for p in _sqlite_files(name):
        p.unlink(missing_ok=True)
    return f"sqlite:///{_sqlite_files(name)[0]}"


def init(url: str) -> None:
    from mou_tracker.db.engine import Database
    from mou_tracker.db.migrate import upgrade_to_head
    from mou_tracker.services import Services

    db = Database(url)
    upgrade_to_head(db)
    Services(db, "bench").seed_standard()
    db.dispose()


def measure_backend(label: str, make_url: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    url = make_url("raw")
    init(url)
    figures["baseline"] = child(["baseline", url, str(WORKBOOK)])
    url = make_url("dry")
    init(url)
    figures["dry_run"] = child(["import", url, str(WORKBOOK), "--dry-run"])
    url = make_url("imp")
    init(url)
    figures["import"] = child(["import", url, str(WORKBOOK)])
    figures["reimport"] = child(["import", url, str(WORKBOOK)])
    for step in ("baseline", "dry_run", "import", "reimport"):
        f = figures[step]
        print(f"  {label:10} {step:9} {f['seconds']:7.2f} s   peak {f['peak_mb']:6.0f} MB   {f['sheets']}")
        if f.get("phases"):
            print(f"  {'':10} {'':9} " + ", ".join(f"{k} {v:.2f}" for k, v in f["phases"].items()))
    figures["ratio"] = figures["import"]["seconds"] / max(figures["baseline"]["seconds"], 1e-9)
    print(f"  {label:10} import / raw baseline: {figures['ratio']:.2f}x")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="a small scale in a temporary folder; no goal checked")
    args, _unknown = ap.parse_known_args()
    global WORKBOOK
    if args.tiny:
        SCALE.update(TINY)
    if args.child:
        what, *rest = args.child
        if what == "read":
            result = read_with(rest[0], Path(rest[1]))
        elif what == "baseline":
            result = run_baseline(rest[0], Path(rest[1]))
        else:
            result = run_import(rest[0], Path(rest[1]), dry_run="--dry-run" in sys.argv)
        print(json.dumps(result))
        return

    if args.tiny:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
            WORKBOOK = Path(folder) / "import-tiny.xlsx"
            run_all(args, tiny=True)
        return
    run_all(args, tiny=False)


def run_all(args: argparse.Namespace, tiny: bool) -> None:
    print(f"== import benchmark: {SCALE['trainings']:,} trainings, {SCALE['rows']:,} participant rows"
          f"{' (tiny: no goal checked)' if tiny else ''}; load average {os.getloadavg()[0]:.2f} ==")
    if args.rebuild or tiny or not WORKBOOK.exists():
        t0 = time.perf_counter()
        build_workbook(WORKBOOK)
        print(f"  workbook built in {time.perf_counter() - t0:.1f} s ({WORKBOOK.stat().st_size / 1e6:.1f} MB)")
    print("  reading every cell:")
    for reader in ("calamine", "openpyxl"):
        r = child(["read", reader, str(WORKBOOK)])
        print(f"    {reader:9} {r['seconds']:7.2f} s   peak {r['peak_mb']:6.0f} MB   ({r['cells']:,} cells)")
    sqlite = measure_backend("sqlite", fresh_sqlite)
    for p in _sqlite_files("dry") + _sqlite_files("imp") + _sqlite_files("raw"):  # hundreds of MB, not reused
        p.unlink(missing_ok=True)
    peak = max(sqlite[s]["peak_mb"] for s in ("dry_run", "import", "reimport"))
    checks = [("import", sqlite["import"]["seconds"], GOALS["import_s"], "s"),
              ("dry run", sqlite["dry_run"]["seconds"], GOALS["dry_run_s"], "s"),
              ("re-import", sqlite["reimport"]["seconds"], GOALS["reimport_s"], "s"),
              ("peak", peak, GOALS["import_mb"], "MB"),
              ("ratio to baseline", sqlite["ratio"], GOALS["ratio"], "x")]
    print("  SQLite: " + ", ".join(f"{name} {value:.1f} {unit} (goal < {goal:g})"
                                   for name, value, goal, unit in checks))
    print(f"  load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.skip_postgres:
        with postgres_server() as server:
            names = iter(range(100))

            def pg(_name: str) -> str:
                db = f"bench_import_{next(names)}"
                server.admin(f"CREATE DATABASE {db}")
                return server.url(db)

            pg_figures = measure_backend("postgresql", pg)
        checks.append(("PostgreSQL import", pg_figures["import"]["seconds"], GOALS["pg_import_s"], "s"))
    missed = [name for name, value, goal, _unit in checks if value >= goal]
    if not tiny:
        print("  goals: " + ("all met" if not missed else "missed: " + ", ".join(missed)))


if __name__ == "__main__":
    main()
