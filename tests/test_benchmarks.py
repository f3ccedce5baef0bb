"""Benchmarks that cannot rot: each one runs end to end at its tiny scale (`--tiny`: seconds, a temporary
folder, no goal checked) in every test run, so a benchmark broken by a change fails the build. The figures
that count come from `make bench` (full size); see benchmarks/common.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import BENCHMARKS
from tests.conftest import _pg_wanted

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_runs_at_its_tiny_scale(name: str) -> None:
    args = [sys.executable, "-m", f"benchmarks.{name}", "--tiny"]
    if not _pg_wanted():
        args.append("--skip-postgres")
    cache = ROOT / "benchmarks" / "out"
    before = sorted(cache.iterdir()) if cache.exists() else []
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{name} --tiny failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    figures = [line for line in done.stdout.splitlines() if any(ch.isdigit() for ch in line)]
    assert len(figures) >= 2, f"{name} --tiny printed no figures:\n{done.stdout}"
    assert (sorted(cache.iterdir()) if cache.exists() else []) == before  # the full-size cache is left alone
