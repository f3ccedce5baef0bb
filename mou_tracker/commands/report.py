"""`mou-tracker report`: a party's Excel progress report (docs/reference/reports.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from mou_tracker.cli import DATE, PERIOD, AppContext, cli, default_period, progress_bar


@cli.command()
@click.option("--party", required=True, type=click.Choice(["hti", "odpp"], case_sensitive=False),
              help="Whose report: its template, fiscal-year labels and currency note.")
@click.option("--period", type=PERIOD, help="A calendar quarter, e.g. 2025-Q3 (default: the latest ended quarter).")
@click.option("--as-of", type=DATE, help="The state at the end of this day (UTC), rebuilt from the audit trail.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.xlsx",
              help="Where to write the workbook (replaced if it exists).")
@click.option("--include-personal-data", is_flag=True,
              help="Add a Participants sheet with names (personal data); without it, participants are counts only.")
@click.pass_obj
def report(app: AppContext, party: str, period: Any, as_of: date | None, output: Path,
           include_personal_data: bool) -> None:
    """Write a party's Excel progress report for a quarter, from its template."""
    from mou_tracker.reports import generate_report

    period = period or default_period(as_of)
    with app.open_app(as_of=as_of) as opened, \
            progress_bar(f"Writing the {party.upper()} report for {period}", None) as advance:
        seen = 0

        def step(done: int, total: int) -> None:
            nonlocal seen
            advance(done - seen)
            seen = done

        written = generate_report(opened.reader, party=party.lower(), period=period, output=output,
                                  include_personal_data=include_personal_data, progress=step,
                                  warn=lambda text: click.echo(f"note: {text}", err=True))
    click.echo(str(written))
