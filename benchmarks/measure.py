"""Run one mou-tracker command line in this process and print its peak memory on stderr at the end:

    python -m benchmarks.measure --db URL progress --format json      ->  ...  peak_rss_mb=54.1
"""

from __future__ import annotations

import resource
import sys

from mou_tracker.cli import cli


def main() -> None:
    try:
        cli.main(sys.argv[1:], prog_name="mou-tracker", standalone_mode=False)
    finally:
        print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
