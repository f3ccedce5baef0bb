"""Run every benchmark in turn: `make bench` (or `.venv/bin/python -m benchmarks.run`)."""

from __future__ import annotations

import importlib
import subprocess
import sys

BENCHMARKS = ("bench_core", "bench_tui", "bench_report", "bench_import", "bench_audit")


def main() -> None:
    failed = []
    for name in BENCHMARKS:
        try:
            importlib.util.find_spec(f"benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            continue
        print(f"\n### {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *sys.argv[1:]], check=False).returncode:
            failed.append(name)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
