"""Terminal UI benchmark: launch to an interactive dashboard, and a `/` filter keystroke on 100,000 rows.

    .venv/bin/python -m benchmarks.bench_tui [--scale 1.0] [--skip-postgres] [--rebuild] [--tiny]

- Launch: a fresh process opens the database as the CLI does (upgrade check included), imports Textual, starts
  the app headless at 80x24 and waits until the dashboard shows its figures. Timed from process start to the
  "ready" line, on the demo database and on the core benchmark's large portfolio. Goals: < 1 s on the demo,
  < 2 s on the large portfolio.
- Filter: on a partnership with 100,000 trainings (and their 100,000 audit events), type `/kisumu` on the
  Trainings screen and on the Audit screen; each keystroke is timed until the table shows the filtered page
  (SQL count + page + redraw). Goal: < 100 ms per keystroke.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, TINY, TINY_SCALE, add_tiny, ensure_portfolio, postgres_server

TODAY = date(2026, 11, 29)
PORTFOLIO_PARTNERSHIP = "PORT-05"
ROWS = 2_000 if TINY else 100_000
TYPED = "kisumu"
ROUNDS = 1 if TINY else 3
TYPING_PAUSE = 0.15  # seconds between keystrokes: a brisk typist
NO_MATCH = "q"  # typed last: "kisumuq" matches nothing, the slowest case (every row is read)

CHILD = """
import sys, time
from datetime import date
t0 = time.perf_counter()
from mou_tracker.app_root import Settings
from mou_tracker.tui.app import build_app
url, partnership = sys.argv[1], sys.argv[2] or None
# on PostgreSQL the actor is the database login: no --user there
app = build_app(Settings(url, None if url.startswith("postgresql") else "bench", partnership,
                         today=date(2026, 11, 29)))

async def ready(pilot):
    while getattr(app.screen, "data", None) is None:
        await pilot.pause(0.005)
    await pilot.pause()
    print(f"ready {time.perf_counter() - t0:.3f}", flush=True)
    app.exit()

app.run(headless=True, size=(80, 24), auto_pilot=ready)
"""


def launch_seconds(url: str, partnership: str = "", runs: int = ROUNDS) -> list[float]:
    """Wall time from spawning `python` to the dashboard showing its figures, ``runs`` times."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, url, partnership], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - t0
        proc.wait(timeout=60)
        if not line.startswith("ready"):
            raise RuntimeError(f"the app did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
        out.append(elapsed)
    return out


def ensure_demo(path: Path) -> str:
    url = f"sqlite:///{path}"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "mou_tracker", "--db", url, "init", "--demo"], check=True,
                       capture_output=True)
    return url


def fill_trainings(url: str, rows: int = ROWS) -> None:
    """A partnership with ``rows`` trainings, loaded through the audited bulk path (one event each)."""
    from mou_tracker.db.engine import Database
    from mou_tracker.db.migrate import upgrade_to_head
    from mou_tracker.db.models import Training
    from mou_tracker.services import Services

    db = Database(url)
    upgrade_to_head(db)
    svc = Services(db, "bench")
    svc.seed_standard()
    pid = svc.partnership_id
    counties = ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Kilifi", "Kisii", "Busia", "Garissa")
    topics = ("Evidence in trafficking cases", "Victim-centred prosecution", "Digital evidence", "Trial advocacy")
    start = date(2021, 1, 4)
    for first in range(0, rows, 20_000):
        batch = []
        for i in range(first, min(first + 20_000, rows)):
            county, topic = counties[i % len(counties)], topics[i % len(topics)]
            day = start + timedelta(days=i % 1800)
            batch.append({"partnership_id": pid, "code": f"TR-{i:06d}", "title": f"{topic} ({county})",
                          "topic": topic, "start_date": day, "end_date": day, "county": county,
                          "venue": f"{county} law courts", "delivery": "In person", "lead": "Joint",
                          "cost": None, "currency": None})
        svc.bulk_insert("training", Training, batch)
    if db.dialect == "postgresql":  # what autovacuum does shortly after a bulk load: fresh planner statistics
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    db.dispose()


def _user(url: str) -> str | None:
    """The actor: on PostgreSQL the database login itself (a --user naming anyone else is refused)."""
    return None if url.startswith("postgresql") else "bench"


def filter_timings(url: str) -> dict[str, Any]:
    """Type `/kisumu` then `q` on the Trainings and the Audit screens; time each keystroke from the key event
    to the screen repainted with that keystroke's rows (the count of every match follows in the background)."""
    from textual import events

    from mou_tracker.app_root import Settings
    from mou_tracker.tui.app import build_app
    from mou_tracker.tui.widgets import PagedTable

    app = build_app(Settings(url, _user(url), today=TODAY))
    result: dict[str, Any] = {}

    async def keystroke(table: PagedTable[Any], key: str, character: str | None) -> float:
        """Seconds from the key event to the repaint that shows its rows."""
        before = table.request
        t0 = time.perf_counter()
        assert app._driver is not None
        app._driver.send_message(events.Key(key, character))
        while table.request == before or table.shown != table.request:
            await asyncio.sleep(0.0005)
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        return time.perf_counter() - t0

    async def counted(table: PagedTable[Any]) -> int:
        """Wait for the count of every match; return it."""
        while table.page is None or table.shown != table.request or table.page.total is None:
            await asyncio.sleep(0.001)
        return table.page.total

    async def run(pilot: Any) -> None:
        for key, table_id in (("3", "#trainings"), ("8", "#events")):
            t0 = time.perf_counter()
            await pilot.press(key)
            table = app.screen.query_one(table_id, PagedTable)
            total = await counted(table)
            opened = time.perf_counter() - t0
            keys, in_app, none, none_in_app = [], [], [], []
            for _round in range(ROUNDS):
                await pilot.press("slash")
                for char in TYPED:
                    keys.append(await keystroke(table, char, char))
                    in_app.append(table.last_latency)
                    await asyncio.sleep(TYPING_PAUSE)
                none.append(await keystroke(table, NO_MATCH, NO_MATCH))
                none_in_app.append(table.last_latency)
                await keystroke(table, "backspace", None)
                matched = await counted(table)
                await pilot.press("escape")
                await counted(table)
            paged = await keystroke(table, "right_square_bracket", "]")
            result[table_id] = {"rows": total, "matched": matched, "open_s": opened, "keys_s": keys,
                                "in_app_s": in_app, "none_s": none, "none_in_app_s": none_in_app,
                                "next_page_s": paged}
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=run)  # closing the app closes its database
    return result


def report_filter(label: str, timings: dict[str, Any]) -> None:
    for table_id, r in timings.items():
        keys = [k * 1000 for k in r["keys_s"]]
        inside = [k * 1000 for k in r["in_app_s"]]
        none_key = statistics.median(r["none_s"]) * 1000
        none_inside = statistics.median(r["none_in_app_s"]) * 1000
        print(f"{label} filter {table_id[1:]:9} {r['rows']:,} rows: screen opens in {r['open_s'] * 1000:.0f} ms")
        print(f"{label}   /{TYPED} x{ROUNDS}: keystroke to repainted rows median {statistics.median(keys):.0f} ms, "
              f"90th pct {sorted(keys)[int(len(keys) * 0.9)]:.0f} ms, max {max(keys):.0f} ms (query + table fill "
              f"median {statistics.median(inside):.0f} ms) (goal < 100 ms); {r['matched']:,} match")
        print(f"{label}   then '{NO_MATCH}' (no row matches, every row read): median {none_key:.0f} ms (query + "
              f"table fill {none_inside:.0f} ms); next page {r['next_page_s'] * 1000:.0f} ms")


def report_launch(label: str, seconds: list[float], goal: float) -> None:
    print(f"{label} launch to interactive dashboard: best {min(seconds):.2f} s, median "
          f"{statistics.median(seconds):.2f} s over {len(seconds)} runs (goal < {goal:g} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    add_tiny(ap)
    args, _unknown = ap.parse_known_args()
    if args.tiny:
        args.scale = TINY_SCALE

    print(f"== terminal UI benchmark (portfolio scale {args.scale}) ==")
    demo = ensure_demo(OUT / "tui-demo.db")
    report_launch("sqlite   demo     ", launch_seconds(demo), 1)
    path = OUT / f"portfolio-{args.scale}.db"
    ensure_portfolio(f"sqlite:///{path}", path, args.scale, rebuild=args.rebuild)
    report_launch(f"sqlite   portfolio {PORTFOLIO_PARTNERSHIP}", launch_seconds(f"sqlite:///{path}",
                                                                             PORTFOLIO_PARTNERSHIP), 2)
    big = OUT / "tui-100k.db"
    done = big.with_suffix(".done")
    if args.rebuild or not done.exists():
        for p in (big, big.with_name(big.name + "-wal"), big.with_name(big.name + "-shm"), done):
            p.unlink(missing_ok=True)
        t0 = time.perf_counter()
        fill_trainings(f"sqlite:///{big}")
        done.write_text("ok")
        print(f"sqlite   {ROWS:,} trainings generated in {time.perf_counter() - t0:.1f} s")
    report_filter("sqlite  ", filter_timings(f"sqlite:///{big}"))
    if not args.skip_postgres:
        with postgres_server() as server:
            server.admin("CREATE DATABASE bench_tui")
            url = server.url("bench_tui")
            t0 = time.perf_counter()
            fill_trainings(url)
            print(f"postgres {ROWS:,} trainings generated in {time.perf_counter() - t0:.1f} s")
            report_launch(f"postgres {ROWS:,} trainings", launch_seconds(url), 2)
            report_filter("postgres", filter_timings(url))


if __name__ == "__main__":
    main()
