"""`mou-tracker import FILE.xlsx [--dry-run] [--errors COPY.xlsx]` and
`mou-tracker import EXPORT --mapping MAP.toml [--dry-run] [--include-unreviewed]` (docs/reference/cli.md,
docs/reference/import-format.md).

Problems go to stderr exactly as ``Sheet!A12: message``, one per line (not prefixed with "error: ", so that a
script can read them as cell references), and the exit code is 1; the summary goes to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mou_tracker.cli import AppContext, cli, progress_bar


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what it would change (rows new, changed, "
              "unchanged; indicator figures before and after) without writing anything.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), metavar="COPY.xlsx",
              help="When the file has problems, write a copy of it there with every problem cell highlighted "
                   "and commented.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="MAP.toml", help="FILE is a KoboToolbox XLSX or ODK Central CSV-zip export; MAP.toml says "
              "which form field fills which import column (see templates/forms/).")
@click.option("--include-unreviewed", is_flag=True, help="With --mapping: also take the submissions not yet "
              "approved (not reviewed, on hold, with issues, edited); rejected ones are never taken.")
@click.pass_context
def import_command(ctx: click.Context, file: Path, dry_run: bool, errors_path: Path | None,
                   mapping_path: Path | None, include_unreviewed: bool) -> None:
    """Import a workbook of trainings, participants, engagements, milestones, results, targets and grant
    figures (the format of templates/xlsx/import_template.xlsx), or a form tool's export with --mapping.

    The whole file is checked first; if any cell is wrong nothing is written and every problem is listed as
    Sheet!A12: message. Rows whose ID exists update that record (audited, with the Reason column);
    importing the same file twice changes nothing the second time.
    """
    from mou_tracker.imports import import_workbook
    from mou_tracker.imports.forms import import_form_export

    app: AppContext = ctx.obj
    if mapping_path is None and include_unreviewed:
        raise click.UsageError("--include-unreviewed applies to a form export: give its --mapping MAP.toml")
    if mapping_path is not None and errors_path is not None:
        raise click.UsageError("--errors writes a highlighted copy of an import workbook; it does not apply to a "
                               "form export (--mapping)")
    if errors_path is not None:  # refused before anything is read: never over the database or the file itself
        from mou_tracker.outputs import check_output

        check_output(errors_path, suffix=".xlsx", db_file=app.db_file, inputs=[file])
    db = app.open()
    services = app.services(db)
    with progress_bar(f"Importing {file.name}", 100) as advance:
        shown = [0]

        def progress(_message: str, fraction: float) -> None:
            target = int(fraction * 100)
            if target > shown[0]:
                advance(target - shown[0])
                shown[0] = target

        outcome: Any
        if mapping_path is not None:
            outcome = import_form_export(services, file, mapping_path, dry_run=dry_run,
                                         include_unreviewed=include_unreviewed, progress=progress)
        else:
            outcome = import_workbook(services, file, dry_run=dry_run, errors_path=errors_path, progress=progress)
    for line in outcome.problem_lines():
        click.echo(line, err=True)
    for line in outcome.summary_lines():
        click.echo(line)
    if not outcome.ok:
        ctx.exit(1)
