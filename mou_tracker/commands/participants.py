"""`participant erase`: honour an erasure request (Kenya Data Protection Act 2019, s.40).

Only click and the standard library are imported here; the services load inside the command.
"""

from __future__ import annotations

import click

from mou_tracker.cli import AppContext, cli


@cli.group()
def participant() -> None:
    """People trained: erase a person's personal data."""


@participant.command("erase")
@click.argument("ref", metavar="REF")
@click.option("--reason", required=True, help="Why (e.g. the erasure request's reference).")
@click.pass_obj
def participant_erase(app: AppContext, ref: str, reason: str) -> None:
    """Remove a person's name, staff number and identity key from everywhere in the database (admins only).

    REF is the staff number, or the participant id the UI and the audit log show (P-41). Their attendances
    and scores stay, as one anonymous participant: every figure is unchanged, and the trail still verifies.
    """
    from mou_tracker.services.personal import erase_participant

    outcome = erase_participant(app.services(app.open()), ref, reason)
    for line in outcome.lines():
        if line.startswith(("warning: ", "note: ")):
            click.echo(line, err=True)
        else:
            click.echo(line)
