"""`audit` (verify, log, export) and `period` (signoff, lock): the evaluator's and the signatories' commands.

Only click and the standard library are imported here; the services load inside each command.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from mou_tracker.cli import DATE, PERIOD, AppContext, cli, not_empty, progress_bar


@cli.group()
def audit() -> None:
    """The hash-chained audit trail: verify it, read it, export it for evaluators."""


@audit.command("verify")
@click.option("--anchor", metavar="HASH", help="A chain head printed earlier (on a report's Cover): prove the "
              "trail still contains it.")
@click.option("--evidence", "evidence_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Re-hash the milestone evidence files found in DIR; name any that changed "
              "or vanished.")
@click.pass_obj
def audit_verify(app: AppContext, anchor: str | None, evidence_dir: Path | None) -> None:
    """Recompute the hash chain and replay it against the tables.

    Exit 0 with `OK: N events, head <hash>` when intact; exit 1 naming the first event altered, removed,
    inserted or reordered, and every record changed, added or deleted outside the application.
    """
    from mou_tracker.services.verify import normalise_anchor

    if anchor is not None:
        try:
            normalise_anchor(anchor)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from exc
    with app.open_app(resolve=False) as opened:
        total = opened.reader.chain_head().seq
        with progress_bar("Verifying the audit trail", total or None) as advance:
            done = [0]

            def step(count: int, _total: int) -> None:
                advance(count - done[0])
                done[0] = count

            result = opened.reader.verify_chain(anchor=anchor, evidence_dir=evidence_dir, progress=step)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(result.summary())
    for line in result.details():
        click.echo(line)
    if result.ok:
        return
    click.echo(f"error: the audit trail failed verification ({len(result.findings)} finding(s) above)", err=True)
    click.get_current_context().exit(1)


def _entity_kind(value: str | None) -> str | None:
    if value is None:
        return None
    from mou_tracker.read.audit import entity_kind

    try:
        return entity_kind(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--entity") from exc


#: ``--id`` given empty is refused, not read as "every record"
RECORD_REF = not_empty("give the record's reference (e.g. M03, TR-2025-001), or leave --id out for every record")


@audit.command("log")
@click.option("--entity", metavar="KIND", help="Only events about this kind of record (milestone, training, ...).")
@click.option("--id", "ref", metavar="REF", callback=RECORD_REF, help="Only events about this record: its "
              "reference (e.g. M03, TR-2025-001) or, with --entity, its numeric id.")
@click.option("--since", type=DATE, help="Only events on or after this day (UTC).")
@click.option("--until", type=DATE, help="Only events on or before this day (UTC).")
@click.option("--include-personal-data", is_flag=True, help="Show participants' names and staff numbers (not for "
              "evaluators).")
@click.pass_obj
def audit_log(app: AppContext, entity: str | None, ref: str | None, since: date | None, until: date | None,
              include_personal_data: bool) -> None:
    """Print the history readably: who changed what, when and why."""
    from mou_tracker.read.audit import EventFilter

    kind = _entity_kind(entity)
    with app.open_app(resolve=False) as opened:
        if include_personal_data:
            _may_see_personal_data(opened)
        flt = EventFilter(kind=kind, ref=ref, since=since, until=until, partnership_id=_partnership_id(app, opened))
        shown = 0
        for entry in opened.reader.audit_entries(flt, include_personal_data=include_personal_data):
            click.echo("\n".join(entry.lines()))
            shown += 1
    if not shown:
        click.echo("No audit events match." if (kind or ref or since or until) else "The audit trail is empty.")


@audit.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--entity", metavar="KIND", help="Only events about this kind of record.")
@click.option("--id", "ref", metavar="REF", callback=RECORD_REF,
              help="Only events about this record (reference, or id with --entity).")
@click.option("--since", type=DATE, help="Only events on or after this day (UTC).")
@click.option("--until", type=DATE, help="Only events on or before this day (UTC).")
@click.option("--include-personal-data", is_flag=True, help="Include participants' names and staff numbers (not "
              "for evaluators).")
@click.pass_obj
def audit_export(app: AppContext, file: Path, entity: str | None, ref: str | None, since: date | None,
                 until: date | None, include_personal_data: bool) -> None:
    """Write the trail (or a filtered part) to an Excel workbook for evaluators, with the chain hashes and
    the result of a verification."""
    from mou_tracker.outputs import check_output
    from mou_tracker.read.audit import EventFilter
    from mou_tracker.reports.audit_workbook import export_workbook

    # refused (exit 1) before the database is even opened: never over it, always a path ending in .xlsx
    check_output(file, suffix=".xlsx", db_file=app.db_file)
    kind = _entity_kind(entity)
    with app.open_app(resolve=False) as opened:
        if include_personal_data:
            _may_see_personal_data(opened)
        with progress_bar("Exporting the audit trail", None) as advance:
            flt = EventFilter(kind=kind, ref=ref, since=since, until=until, partnership_id=_partnership_id(app, opened))
            summary = export_workbook(opened.reader, file, flt, progress=lambda n: advance(n),
                                      include_personal_data=include_personal_data)
    click.echo(summary)


def _partnership_id(app: AppContext, opened: Any) -> int | None:
    """With --partnership, only that partnership's events (and those of none: users, keys); without it, the
    whole trail of the database."""
    return opened.reader.partnership_id if app.partnership else None


def _may_see_personal_data(opened: Any) -> None:
    """Personal data is never shown to an evaluator (docs/reference/audit-and-signoff.md); an admin may show
    it to one."""
    from mou_tracker.errors import PermissionDenied

    if opened.role == "evaluator":
        raise PermissionDenied(f"{opened.actor} is an evaluator: personal data (--include-personal-data) is not "
                               "shown to evaluators; an admin can export it for you")


@cli.group()
def period() -> None:
    """Quarter sign-off by both parties, and locks."""


def _party(value: str) -> str:
    return value.strip().lower()


@period.command("signoff")
@click.argument("quarter", type=PERIOD, metavar="PERIOD")
@click.option("--party", metavar="hti|odpp|CODE", required=True,
              help="The party signing off: hti, odpp, or another party of the partnership (`partnership list`).")
@click.option("--key", "key_file", metavar="PRIVATE_KEY", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Your OpenSSH Ed25519 private key file (used to sign, never stored).")
@click.option("--comment", help="What the party says with its sign-off.")
@click.pass_obj
def period_signoff(app: AppContext, quarter: Any, party: str, key_file: Path, comment: str | None) -> None:
    """Sign off a quarter's figures for one party, signed with your registered key; when both parties have
    signed the same figures, the quarter locks."""
    import os

    from mou_tracker.services.signoff import sign_off
    from mou_tracker.services.sshsig import load_private_key

    phrase = os.environ.get("MOU_TRACKER_KEY_PASSPHRASE")
    private = load_private_key(key_file, phrase.encode() if phrase else None)
    db = app.open()
    outcome = sign_off(app.services(db), quarter, _party(party), comment, key=private)
    for line in outcome.lines():
        click.echo(line)


@period.command("lock")
@click.argument("quarter", type=PERIOD, metavar="PERIOD")
@click.option("--reason", required=True, help="Why the quarter is locked without both sign-offs.")
@click.pass_obj
def period_lock(app: AppContext, quarter: Any, reason: str) -> None:
    """Lock a quarter directly: later changes to its figures need a reason and become restatements."""
    from mou_tracker.services.signoff import lock_period

    db = app.open()
    outcome = lock_period(app.services(db), quarter, reason)
    for line in outcome.lines():
        click.echo(line)


@period.command("certificate")
@click.argument("quarter", type=PERIOD, metavar="PERIOD")
@click.option("--output", "output", metavar="DIR", required=True, type=click.Path(path_type=Path),
              help="Folder for <party>.json, <party>.json.sig and allowed_signers.")
@click.pass_obj
def period_certificate(app: AppContext, quarter: Any, output: Path) -> None:
    """Write the quarter's signed sign-offs so anyone can check them with ssh-keygen alone."""
    from mou_tracker.services.signoff import write_certificate

    with app.open_app() as opened:
        signoffs = opened.reader.period_status(quarter).signoffs
        written = write_certificate(signoffs, quarter, output, db_file=opened.reader.db_file)
    for path in written:
        click.echo(f"wrote {path}")
    party = next((p.name[:-len(".json")] for p in written if p.name.endswith(".json")), "hti")
    click.echo(f"check with: ssh-keygen -Y verify -f {output}/allowed_signers -I SIGNER -n mou-tracker-signoff "
               f"-s {output}/{party}.json.sig < {output}/{party}.json")


@period.command("status")
@click.argument("quarter", type=PERIOD, metavar="PERIOD")
@click.pass_obj
def period_status(app: AppContext, quarter: Any) -> None:
    """Show who signed a quarter off, whether it is locked, and its restatements."""
    with app.open_app() as opened:
        sheet = opened.reader.period_status(quarter)
    for line in sheet.lines():
        click.echo(line)
