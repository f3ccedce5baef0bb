"""Import benchmark: a workbook of 10,000 trainings and 200,000 participant rows.

    .venv/bin/python -m benchmarks.bench_import [--skip-postgres] [--rebuild]

Prints: reading the workbook with python-calamine against openpyxl's read-only mode (the choice of reader);
then a dry run, the import and a second import of the same file (all unchanged), each in a fresh process on
a freshly initialised database, with wall time and peak memory; on SQLite and on a throwaway PostgreSQL.
Goals: import under 15 s and 500 MB on SQLite, dry run under 8 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, peak_rss_mb, postgres_server

TRAININGS = 10_000
PARTICIPANT_ROWS = 200_000
PEOPLE = 60_000  # so that many attend several trainings
WORKBOOK = OUT / "import-10k-trainings-200k-participants.xlsx"
GOALS = {"import_s": 15.0, "import_mb": 500.0, "dry_run_s": 8.0}


def build_workbook(path: Path) -> Path:
    """The benchmark workbook (deterministic), written with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from mou_tracker.domain import codes
    from mou_tracker.imports.sheets import PARTICIPANTS
    from mou_tracker.imports.sheets import TRAININGS as TRAINING_SHEET

    rng = random.Random(6)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Trainings")
    ws.append([f.label for f in TRAINING_SHEET.columns])
    first = date(2025, 5, 12)

    def day(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    for n in range(TRAININGS):
        start = first + timedelta(days=rng.randrange(0, 1100))
        topic = rng.choice(("Evidence", "Victim care", "Financial investigation", "Trial advocacy"))
        ws.append([f"TR-{n:05d}", f"{topic} session {n}", topic, day(start),
                   day(start + timedelta(days=rng.randrange(0, 4))), rng.choice(codes.KENYA_COUNTIES),
                   "Law courts training room", rng.choice(codes.DELIVERIES), rng.choice(codes.LEADS),
                   rng.randrange(1000, 20000), "USD"])
    ws = wb.create_sheet("Participants")
    ws.append([f.label for f in PARTICIPANTS.columns])
    people = []
    for k in range(PEOPLE):
        agency = rng.choice(codes.AGENCIES)
        staff = f"ODPP/{k:06d}" if agency == "ODPP" and rng.random() < 0.7 else None
        people.append((f"Participant {k}", rng.choice(codes.SEXES), agency,
                       "Prosecutor" if agency == "ODPP" else "Officer", staff))
    per = PARTICIPANT_ROWS // TRAININGS
    for n in range(TRAININGS):
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
    t0 = time.perf_counter()
    outcome = import_workbook(services, path, dry_run=dry_run)
    seconds = time.perf_counter() - t0
    if not outcome.ok:
        raise SystemExit("\n".join(outcome.problem_lines()[:20]))
    db.dispose()
    return {"seconds": seconds, "peak_mb": peak_rss_mb(),
            "sheets": {s.sheet: [s.new, s.changed, s.unchanged] for s in outcome.sheets}}


def child(args: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, so each peak memory figure is its own."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_import", "--child", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"benchmark step {args} failed:\n{done.stderr[-3000:]}{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sqlite_files(name: str) -> list[Path]:
    path = OUT / f"import-{name}.db"
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
    url = make_url("dry")
    init(url)
    figures["dry_run"] = child(["import", url, str(WORKBOOK), "--dry-run"])
    url = make_url("imp")
    init(url)
    figures["import"] = child(["import", url, str(WORKBOOK)])
    figures["reimport"] = child(["import", url, str(WORKBOOK)])
    for step in ("dry_run", "import", "reimport"):
        f = figures[step]
        print(f"  {label:10} {step:9} {f['seconds']:7.2f} s   peak {f['peak_mb']:6.0f} MB   {f['sheets']}")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    args, _unknown = ap.parse_known_args()
    if args.child:
        what, *rest = args.child
        if what == "read":
            result = read_with(rest[0], Path(rest[1]))
        else:
            result = run_import(rest[0], Path(rest[1]), dry_run="--dry-run" in sys.argv)
        print(json.dumps(result))
        return

    print(f"== import benchmark: {TRAININGS:,} trainings, {PARTICIPANT_ROWS:,} participant rows ==")
    if args.rebuild or not WORKBOOK.exists():
        t0 = time.perf_counter()
        build_workbook(WORKBOOK)
        print(f"  workbook built in {time.perf_counter() - t0:.1f} s ({WORKBOOK.stat().st_size / 1e6:.1f} MB)")
    print("  reading every cell:")
    for reader in ("calamine", "openpyxl"):
        r = child(["read", reader, str(WORKBOOK)])
        print(f"    {reader:9} {r['seconds']:7.2f} s   peak {r['peak_mb']:6.0f} MB   ({r['cells']:,} cells)")
    sqlite = measure_backend("sqlite", fresh_sqlite)
    for p in _sqlite_files("dry") + _sqlite_files("imp"):  # hundreds of MB, not reused
        p.unlink(missing_ok=True)
    verdict = [f"import {sqlite['import']['seconds']:.1f} s (goal < {GOALS['import_s']:.0f})",
               f"{sqlite['import']['peak_mb']:.0f} MB (goal < {GOALS['import_mb']:.0f})",
               f"dry run {sqlite['dry_run']['seconds']:.1f} s (goal < {GOALS['dry_run_s']:.0f})"]
    print("  SQLite: " + ", ".join(verdict))
    if not args.skip_postgres:
        with postgres_server() as server:
            names = iter(range(100))

            def pg(_name: str) -> str:
                db = f"bench_import_{next(names)}"
                server.admin(f"CREATE DATABASE {db}")
                return server.url(db)

            measure_backend("postgresql", pg)


if __name__ == "__main__":
    main()
