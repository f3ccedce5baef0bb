"""`partnership add|list`: the partnerships one database holds (HTI's MoUs with Kenya's ODPP and DCI, Uganda,
South Africa...), each with its own parties, framework, grant and records.

Only click and the standard library are imported here; the services load inside each command.
"""

from __future__ import annotations

import json

import click

from mou_tracker.cli import AppContext, cli


@cli.group()
def partnership() -> None:
    """The partnerships this database holds; `--partnership CODE` chooses one for every other command."""


@partnership.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The partnership's name.")
@click.option("--country", required=True, help="The partner's country (sets a party's default fiscal year).")
@click.option("--start", "start", metavar="YYYY-MM-DD", required=True, help="When the MoU took effect.")
@click.option("--end", "end", metavar="YYYY-MM-DD", help="When it ends, if it has an end date.")
@click.option("--party", "parties", metavar="CODE=NAME[:FY_START_MONTH]", multiple=True, required=True,
              help="A party of the MoU and the month its fiscal year starts (1-12); repeat for each party.")
@click.pass_obj
def partnership_add(app: AppContext, code: str, name: str, country: str, start: str, end: str | None,
                    parties: tuple[str, ...]) -> None:
    """Add partnership CODE with its parties and the standard results framework (admins only)."""
    from mou_tracker.services.setup import parse_partnership_dates, parse_party

    # every value is checked before the database is opened: a refusal writes nothing
    start_date, end_date = parse_partnership_dates(start, end)
    specs = [parse_party(p, country) for p in parties]
    services = app.services(app.open())
    result = services.add_partnership({"code": code, "name": name, "country": country, "start_date": start_date,
                                       "end_date": end_date}, specs)
    shown = ", ".join(f"{p['code'].upper()} (fiscal year from month {p['fiscal_start_month']})" for p in specs)
    click.echo(f"Partnership {result.obj.code} added with parties {shown} and the standard results framework; "
               f"use --partnership {result.obj.code}")


@partnership.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def partnership_list(app: AppContext, fmt: str) -> None:
    """List the partnerships: code, name, country, dates and parties."""
    views = app.services(app.open(), read_only=True).list_partnerships()
    if fmt == "json":
        click.echo(json.dumps({"partnerships": [v.as_json() for v in views]}, ensure_ascii=False))
        return
    rows = [("Code", "Name", "Country", "Start", "End", "Parties")]
    rows += [(v.code, v.name, v.country, v.start_date.isoformat(), v.end_date.isoformat() if v.end_date else "-",
              ", ".join(f"{c.upper()} (FY from month {m})" for c, _n, m in v.parties)) for v in views]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            click.echo("  ".join("-" * w for w in widths))
