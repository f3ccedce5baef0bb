"""Report benchmark: the Excel progress report for the largest partnership of the core benchmark's portfolio,
against the same cells written raw with openpyxl's write-only mode in the same run; the portfolio report of
all its partnerships (`report --portfolio`); and the demo report.

    .venv/bin/python -m benchmarks.bench_report [--scale 1.0] [--runs 3] [--rebuild]
    .venv/bin/python -m benchmarks.bench_report --tiny    # seconds: a small portfolio in a temporary folder

The report is read through the composition root (``app_root.open_app``) and its ``Reader``, as the CLI does.

Prints: report time (in process: first and best of the runs, with its phases: template, data, filling,
saving), raw write-only time for the same cell values, their ratio, peak memory of a whole `report` CLI call,
the portfolio report's time and peak memory (a whole CLI call), and the demo report's time. Goals: report
<= 1.3 x raw, peak memory < 300 MB, portfolio report < 10 s and < 300 MB, demo report < 2 s (``--tiny`` prints
the same figures and checks no goal).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.common import OUT, ensure_portfolio, peak_rss_mb
from mou_tracker.app_root import Settings, open_app
from mou_tracker.db.engine import Database
from mou_tracker.db.models import Attendance, Engagement, Expenditure, Grant, Milestone, Partnership, Training
from mou_tracker.domain.periods import Quarter
from mou_tracker.reports import generate_report


def largest_partnership(db: Database) -> tuple[str, Quarter]:
    """The partnership with the most records (ties: the first), and the quarter its programme ends in."""
    with db.reading() as s:
        sizes: dict[int, int] = {}
        for stmt in (select(Training.partnership_id, func.count()).group_by(Training.partnership_id),
                     select(Training.partnership_id, func.count()).join(Attendance).group_by(Training.partnership_id),
                     select(Engagement.partnership_id, func.count()).group_by(Engagement.partnership_id),
                     select(Milestone.partnership_id, func.count()).group_by(Milestone.partnership_id),
                     select(Grant.partnership_id, func.count()).join(Expenditure).group_by(Grant.partnership_id)):
            for pid, n in s.execute(stmt):
                sizes[pid] = sizes.get(pid, 0) + n
        pid = max(sorted(sizes), key=lambda k: sizes[k])
        p = s.get(Partnership, pid)
        assert p is not None
        return p.code, Quarter.of(p.end_date or date.today())


def report_once(url: str, partnership: str, period: Quarter, out: Path) -> tuple[float, float]:
    """The report's time with opening the database (the CLI's case) and without (the UI's: the app is open)."""
    t0 = time.perf_counter()
    with open_app(Settings(url, "bench", partnership, read_only=True)) as app:
        t1 = time.perf_counter()
        generate_report(app.reader, party="hti", period=period, output=out)
        t2 = time.perf_counter()
    return t2 - t0, t2 - t1


def phases(url: str, partnership: str, period: Quarter, out: Path) -> dict[str, float]:
    """The same work as generate_report, timed step by step."""
    from mou_tracker.reports import _load_template, build, fastsave
    from mou_tracker.reports.profiles import PROFILES, template_path

    app = open_app(Settings(url, "bench", partnership, read_only=True))
    t = [time.perf_counter()]
    profile = PROFILES["hti"]
    wb, _notes = _load_template(template_path(profile))
    plan = build.plan(wb, profile, False, "template")
    t.append(time.perf_counter())
    data = app.reader.report_data("hti", period)
    t.append(time.perf_counter())
    build.fill(plan, data, generated_at=datetime.now(UTC), include_personal_data=False, tick=lambda: None)
    t.append(time.perf_counter())
    fastsave.save(wb, out)  # as generate_report saves
    t.append(time.perf_counter())
    app.close()
    return dict(zip(("template", "data", "fill", "save"), (b - a for a, b in zip(t, t[1:], strict=False)),
                    strict=True))


def cell_values(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    values = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    wb.close()
    return values


def raw_once(values: dict[str, list[list[Any]]], out: Path) -> float:
    from openpyxl import Workbook

    t0 = time.perf_counter()
    wb = Workbook(write_only=True)
    for name, rows in values.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(out)
    return time.perf_counter() - t0


def cli_peak(url: str, partnership: str | None, period: Quarter, out: Path) -> tuple[float, float]:
    """Wall time and peak memory of a whole `report` CLI call (a fresh process); the portfolio report when
    ``partnership`` is None."""
    code = ("import resource, sys, time\n"
            "t0 = time.perf_counter()\n"
            "from mou_tracker.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(f'{time.perf_counter() - t0} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}',"
            " file=sys.stderr)\n")
    which = ["--partnership", partnership, "report", "--party", "hti"] if partnership else ["report", "--portfolio"]
    args = [sys.executable, "-c", code, "--db", url, *which, "--period", str(period), "--output", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    seconds, mb = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), float(mb)


def portfolio_once(url: str, period: Quarter, out: Path) -> float:
    from mou_tracker.reports.portfolio import generate_portfolio_report

    t0 = time.perf_counter()
    with open_app(Settings(url, "bench", None, read_only=True), resolve=False) as app:
        generate_portfolio_report(app.reader, period=period, output=out)
    return time.perf_counter() - t0


def demo(runs: int, folder: Path) -> None:
    from mou_tracker.db.migrate import upgrade_to_head
    from mou_tracker.services import Services
    from mou_tracker.services.demo import load_demo

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        db = Database(url)
        upgrade_to_head(db)
        load_demo(Services(db, "demo"), today=date(2026, 11, 29))
        db.dispose()
        times = [report_once(url, "ODPP-HTI-2025", Quarter(2026, 3), Path(tmp) / "demo.xlsx")[0] for _ in range(runs)]
        wall, mb = cli_peak(url, "ODPP-HTI-2025", Quarter(2026, 3), Path(tmp) / "demo-cli.xlsx")
    print(f"demo     report 2026-Q3: {times[0]:.2f} s first, {min(times):.2f} s best in process; whole CLI call "
          f"{wall:.2f} s, peak {mb:.0f} MB (goal < 2 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true", help="accepted for `make bench`; this one is SQLite only")
    ap.add_argument("--tiny", action="store_true", help="a small portfolio in a temporary folder, one run: "
                    "finishes in seconds, prints the figures, checks no goal (for CI)")
    args = ap.parse_args()
    if args.tiny:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            run(scale=0.02, runs=1, rebuild=True, folder=Path(tmp))
        return
    run(args.scale, args.runs, args.rebuild, OUT)


def run(scale: float, runs: int, rebuild: bool, folder: Path) -> None:
    print(f"== report benchmark (scale {scale}) ==")
    path = folder / f"portfolio-{scale}.db"
    gen = ensure_portfolio(f"sqlite:///{path}", path, scale, rebuild=rebuild)
    print(f"portfolio: reused {path}" if gen is None else f"portfolio: generated in {gen['seconds']:.0f} s")
    url = f"sqlite:///{path}"
    db = Database(url)
    partnership, period = largest_partnership(db)
    db.dispose()
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        ours_path, raw_path = Path(tmp) / "report.xlsx", Path(tmp) / "raw.xlsx"
        wall, mb = cli_peak(url, partnership, period, Path(tmp) / "cli.xlsx")
        ours, open_ours, raw = [], [], []
        values: dict[str, list[list[Any]]] | None = None
        for _ in range(runs):  # interleaved, so both see the same machine load
            with_open, without = report_once(url, partnership, period, ours_path)
            ours.append(without)
            open_ours.append(with_open)
            if values is None:
                values = cell_values(ours_path)
            raw.append(raw_once(values, raw_path))
        steps = phases(url, partnership, period, ours_path)
        assert values is not None
        cells = sum(1 for rows in values.values() for row in rows for v in row if v is not None)
        size = ours_path.stat().st_size / 1e6
    print(f"sqlite   report {partnership} {period}: {len(values)} sheets, {cells:,} cells, {size:.1f} MB")
    print(f"  ours   {ours[0]:.2f} s first, {min(ours):.2f} s best, the database open (" +
          ", ".join(f"{k} {v:.2f}" for k, v in steps.items()) + f"); opening it too {min(open_ours):.2f} s best")
    print(f"  raw    {raw[0]:.2f} s first, {min(raw):.2f} s best (openpyxl write-only, same cell values)")
    fill_save = (steps["fill"] + steps["save"]) / min(raw)
    print(f"  ratio  {min(ours) / min(raw):.2f} x (goal <= 1.3 x); opening the database too "
          f"{min(open_ours) / min(raw):.2f} x; filling and saving alone {fill_save:.2f} x")
    print(f"  CLI    whole `report` call {wall:.2f} s, peak {mb:.0f} MB (goal < 300 MB); "
          f"this process {peak_rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        times = [portfolio_once(url, period, Path(tmp) / "portfolio.xlsx") for _ in range(runs)]
        p_wall, p_mb = cli_peak(url, None, period, Path(tmp) / "portfolio-cli.xlsx")
        sheets = len(cell_values(Path(tmp) / "portfolio.xlsx"))
    print(f"sqlite   portfolio report {period}: {sheets} sheets; {times[0]:.2f} s first, {min(times):.2f} s best in "
          f"process; whole CLI call {p_wall:.2f} s, peak {p_mb:.0f} MB (goals < 10 s, < 300 MB)")
    demo(runs, folder)


if __name__ == "__main__":
    main()
