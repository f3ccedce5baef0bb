"""`mou-tracker report`: a party's Excel progress report, or the portfolio report of every partnership
(docs/reference/reports.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from mou_tracker.cli import DATE, PERIOD, AppContext, cli, default_period, progress_bar


@cli.command()
@click.option("--party", metavar="hti|odpp|CODE",
              help="Whose report: its template, fiscal-year labels and currency note (a party of the partnership; "
                   "one without a template of its own takes the partner template, odpp.xlsx).")
@click.option("--portfolio", is_flag=True,
              help="The portfolio report of every partnership (HTI's fiscal labels) instead of a party's report.")
@click.option("--period", type=PERIOD, help="A calendar quarter, e.g. 2025-Q3 (default: the latest ended quarter).")
@click.option("--as-of", type=DATE, help="The state at the end of this day (UTC), rebuilt from the audit trail.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.xlsx",
              help="Where to write the workbook (replaced if it exists).")
@click.option("--include-personal-data", is_flag=True,
              help="Add a Participants sheet with names (personal data); without it, participants are counts only.")
@click.pass_obj
def report(app: AppContext, party: str | None, portfolio: bool, period: Any, as_of: date | None, output: Path,
           include_personal_data: bool) -> None:
    """Write a party's Excel progress report for a quarter, from its template (--party), or the portfolio
    report of every partnership (--portfolio)."""
    if bool(party) == portfolio:
        raise click.UsageError("give exactly one of --party hti|odpp and --portfolio")
    period = period or default_period(as_of)
    if portfolio:
        _portfolio(app, period, as_of, output, include_personal_data)
        return
    from mou_tracker.errors import NotFound
    from mou_tracker.reports import generate_report

    assert party is not None
    with app.open_app(as_of=as_of) as opened:
        try:
            info = opened.reader.info()
        except NotFound:  # as of a day before the partnership: the report says so
            info = None
        if info is not None and party.strip().lower() not in {p.code for p in info.parties}:
            raise click.BadParameter(f"'{party}' is not a party of {info.code} "
                                     f"(parties: {', '.join(p.code for p in info.parties)})", param_hint="'--party'")
        with progress_bar(f"Writing the {party.upper()} report for {period}", None) as advance:
            written = generate_report(opened.reader, party=party.lower(), period=period, output=output,
                                      include_personal_data=include_personal_data, progress=_stepper(advance),
                                      warn=lambda text: click.echo(f"note: {text}", err=True))
    click.echo(str(written))


def _portfolio(app: AppContext, period: Any, as_of: date | None, output: Path, include_personal_data: bool) -> None:
    from mou_tracker.reports.portfolio import generate_portfolio_report

    if app.partnership:
        raise click.UsageError("--portfolio covers every partnership: leave out --partnership")
    if include_personal_data:
        raise click.UsageError("--portfolio shows figures only: --include-personal-data is for a party's report")
    with app.open_app(as_of=as_of, resolve=False) as opened, \
            progress_bar(f"Writing the portfolio report for {period}", None) as advance:
        written = generate_portfolio_report(opened.reader, period=period, output=output, progress=_stepper(advance))
    click.echo(str(written))


def _stepper(advance: Any) -> Any:
    seen = 0

    def step(done: int, total: int) -> None:
        nonlocal seen
        advance(done - seen)
        seen = done

    return step
