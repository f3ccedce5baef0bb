"""`user add|key|list`: who may do what, who signs for which party, and with which public key.

Only click and the standard library are imported here; the services load inside each command.
"""

from __future__ import annotations

from pathlib import Path

import click

from mou_tracker.cli import AppContext, cli


@cli.group()
def user() -> None:
    """Who may do what: admin, manager or evaluator (read-only); signatories and their keys."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "manager", "evaluator"]), required=True)
@click.option("--party", metavar="CODE", help="The MoU party the user acts for (hti, odpp).")
@click.option("--signatory", is_flag=True, help="May sign off quarters for --party (needs a key: `user key`).")
@click.option("--display-name", help="A full name to show beside the login.")
@click.pass_obj
def user_add(app: AppContext, name: str, role: str, party: str | None, signatory: bool,
             display_name: str | None) -> None:
    """Register NAME with a role, or change their role, party or signatory status (admins only)."""
    from mou_tracker.services.users import add_user

    outcome = add_user(app.services(app.open()), name, role, party, signatory, display_name)
    click.echo(outcome.message)


@user.command("key")
@click.argument("name")
@click.argument("public_key", metavar="PUBLIC_KEY", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def user_key(app: AppContext, name: str, public_key: Path) -> None:
    """Register NAME's OpenSSH Ed25519 public key (the .pub file of `ssh-keygen -t ed25519`; admins only)."""
    from mou_tracker.services.users import set_key

    click.echo(set_key(app.services(app.open()), name, public_key).message)


@user.command("list")
@click.pass_obj
def user_list(app: AppContext) -> None:
    """List the registered users: name, role, party, signatory, key fingerprint, display name."""
    from mou_tracker.services.users import list_users

    for view in list_users(app.open()):
        click.echo(view.line())
