"""The command line (docs/reference/cli.md): the stable surface scripts and tests rely on.

Exit codes: 0 success; 1 bad data or a refused action (one line per problem on stderr, no traceback);
2 usage error. A bare ``mou-tracker`` opens the terminal UI.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from mou_tracker import __version__
from mou_tracker.config import resolve_db_url, resolve_user
from mou_tracker.errors import MouError
from mou_tracker.logs import write_crash_log as _write_crash_log

log = logging.getLogger("mou_tracker")


# Shared state and helpers -------------------------------------------------------------------------------------
@dataclass
class AppContext:
    db_option: str | None
    user_option: str | None
    partnership: str | None
    #: on PostgreSQL, the database login: the actor of every change (set when the database is opened)
    login: str | None = None
    #: ``--read-only`` / ``--as-of`` given before the ``tui`` command: they open the UI that way too
    ui_read_only: bool = False
    ui_as_of: date | None = None

    @property
    def db_url(self) -> str:
        return resolve_db_url(self.db_option)

    @property
    def user(self) -> str:
        """Who is acting: on PostgreSQL the database login itself; on SQLite --user, $MOU_TRACKER_USER or
        the OS login (the events also keep the OS login when it differs)."""
        return self.login or resolve_user(self.user_option)

    @property
    def db_file(self) -> Path | None:
        """The SQLite file behind the database URL (None for PostgreSQL): outputs may never overwrite it."""
        from mou_tracker.db.engine import sqlite_path

        return sqlite_path(self.db_url)

    def open(self, *, create: bool = False) -> Any:
        """Open the database, upgrading it to the current schema (every app start does), through the
        composition root (``app_root.open_database``): on PostgreSQL the login becomes the actor."""
        from mou_tracker.app_root import open_database

        db, self.login = open_database(self.db_url, create=create, user=self.user_option)
        return db

    def settings(self, *, read_only: bool = False, as_of: date | None = None) -> Any:
        from mou_tracker.app_root import Settings

        return Settings(self.db_url, self.user_option, self.partnership, read_only, as_of)

    def open_app(self, *, read_only: bool = True, as_of: date | None = None, resolve: bool = True) -> Any:
        """The reader and the writer for this command (``app_root.open_app``); read-only unless asked."""
        from mou_tracker.app_root import open_app

        return open_app(self.settings(read_only=read_only, as_of=as_of), resolve=resolve)

    def services(self, db: Any, *, read_only: bool = False) -> Any:
        from mou_tracker.services import Services

        return Services(db, self.user, partnership=self.partnership, read_only=read_only)


class Refused(click.ClickException):
    """A value the user typed that is well formed but refused (a date outside the range): exit 1, one line."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class AppGroup(click.Group):
    """Turns every user-facing error into one line per problem and exit 1; never shows a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        try:
            return super().invoke(ctx)
        except MouError as exc:
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was changed by the interrupted step", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader went away (`audit log | head`): stop quietly, as Unix tools do
            _silence_stdout()
            ctx.exit(141)
        except (DBAPIError, SQLAlchemyError) as exc:  # the database refused or broke: never echo its SQL
            from mou_tracker.db.migrate import driver_message

            where = _write_crash_log(exc)
            click.echo(f"error: the database could not complete the request ({driver_message(exc)}); nothing was "
                       f"changed by it. Run `mou-tracker audit verify` to check the database; details in {where}",
                       err=True)
            ctx.exit(1)
        except Exception as exc:  # a bug: keep the traceback in the log, show the user one line
            where = _write_crash_log(exc)
            click.echo(f"error: unexpected problem ({type(exc).__name__}); details in {where}", err=True)
            ctx.exit(1)


class PeriodType(click.ParamType):
    name = "YYYY-Qn"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from mou_tracker.domain.periods import OutOfRange, PeriodError, Quarter, check_date_range

        if isinstance(value, Quarter):
            return value
        try:
            quarter = Quarter.parse(value)
            check_date_range(quarter.start, "quarter")
            check_date_range(quarter.end, "quarter")
        except OutOfRange:
            raise Refused(f"{_option(param)}{str(value).strip()} is outside the accepted range 2000-01-01 to "
                          "2100-12-31 (2000-Q1 to 2100-Q4)") from None
        except PeriodError as exc:
            self.fail(str(exc), param, ctx)
        return quarter


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from mou_tracker.domain.periods import PeriodError, check_date_range

        if not isinstance(value, date):
            try:
                if len(value) != 10:
                    raise ValueError
                value = date.fromisoformat(value)
            except ValueError:
                self.fail(f"'{value}' is not a date; write it as YYYY-MM-DD", param, ctx)
        try:
            return check_date_range(value)
        except PeriodError as exc:
            raise Refused(f"{_option(param)}{exc}") from None


def _option(param: Any) -> str:
    name = getattr(param, "opts", None)
    return f"{name[0]}: " if name else ""


PERIOD = PeriodType()
DATE = DateType()


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent when stderr is not a terminal (scripts, CI, pipes)."""
    def quiet(n: int = 1) -> None:
        return None

    if not sys.stderr.isatty():
        yield quiet
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def default_period(as_of: date | None) -> Any:
    from mou_tracker.domain.periods import Quarter

    return Quarter.latest_ended(as_of or datetime.now(UTC).date())


def not_empty(hint: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A click callback: an option given empty (a script's unset variable: ``--db "$DB"``) is refused, with
    ``hint``, rather than read as left out (the default database, the OS login, every record)."""
    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise click.BadParameter(f"is empty: {hint}")
        return value

    return check


# Commands -----------------------------------------------------------------------------------------------------
@click.group(cls=AppGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_option", metavar="URL", callback=not_empty(
    "give a database URL, or leave --db out for $MOU_TRACKER_DB, else the default database"),
              help="Database URL (default: $MOU_TRACKER_DB, else a SQLite file in the user data folder).")
@click.option("--user", "user_option", metavar="NAME", callback=not_empty(
    "give a name, or leave --user out for $MOU_TRACKER_USER, else the OS login"),
              help="Who is acting (default: $MOU_TRACKER_USER, else the OS login). Every change is attributed to it.")
@click.option("--partnership", metavar="CODE", callback=not_empty(
    "give a partnership code (`mou-tracker partnership list` shows them)"),
              help="Which partnership, when the database holds several.")
@click.option("--read-only", is_flag=True, help="Without a command: open the UI offering no edit action.")
@click.option("--as-of", type=DATE, help="Without a command: open the UI on the state at the end of this day.")
@click.version_option(__version__, "--version", prog_name="mou-tracker")
@click.pass_context
def cli(ctx: click.Context, db_option: str | None, user_option: str | None, partnership: str | None,
        read_only: bool, as_of: date | None) -> None:
    """Monitor an MoU partnership programme and track its grant.

    Without a command, opens the terminal UI.
    """
    ctx.obj = AppContext(db_option, user_option, partnership)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui, read_only=read_only, as_of=as_of)
    else:
        _refuse_ui_options(ctx, read_only, as_of)


def _refuse_ui_options(ctx: click.Context, read_only: bool, as_of: date | None) -> None:
    """``--read-only`` and ``--as-of`` before a command open the UI that way; with a command they would be
    dropped without a word (`mou-tracker --as-of D progress` printed today's figures), so they are refused."""
    name = ctx.invoked_subcommand or ""
    if name == "tui":
        ctx.obj.ui_read_only, ctx.obj.ui_as_of = read_only, as_of
        return
    command = cli.get_command(ctx, name)
    for option, given, value in (("--read-only", read_only, ""), ("--as-of", as_of is not None,
                                                                  f" {as_of.isoformat()}" if as_of else "")):
        if not given:
            continue
        own = command is not None and any(option in getattr(p, "opts", ()) for p in command.params)
        hint = (f"write it after the command: mou-tracker {name} {option}{value}" if own else
                f"'{name}' takes no {option} (mou-tracker {name} --help lists a command's own options)")
        raise click.UsageError(f"{option} before a command applies to the terminal UI only; {hint}", ctx)


@cli.command()
@click.option("--read-only", is_flag=True, help="Offer no edit action; the service layer refuses writes too.")
@click.option("--as-of", type=DATE, help="Show the state at the end of this day (UTC), rebuilt from the audit trail.")
@click.pass_obj
def tui(app: AppContext, read_only: bool, as_of: date | None) -> None:
    """Open the terminal UI."""
    from mou_tracker.tui.app import run_app

    if as_of and app.ui_as_of and as_of != app.ui_as_of:
        raise click.UsageError(f"--as-of is given twice, {app.ui_as_of.isoformat()} and {as_of.isoformat()}; "
                               "give one")
    run_app(app.settings(read_only=read_only or app.ui_read_only, as_of=as_of or app.ui_as_of))


@cli.command()
@click.option("--demo", is_flag=True, help="Also fill the database with a realistic, deterministic demo programme.")
@click.pass_obj
def init(app: AppContext, demo: bool) -> None:
    """Create or upgrade the database and seed the standard results framework."""
    db = app.open(create=True)
    services = app.services(db)
    if not demo:
        services.seed_standard()
    else:
        from mou_tracker.services.demo import DEMO_STEPS, load_demo

        with progress_bar("Generating the demo programme", DEMO_STEPS) as advance:
            summary = load_demo(services, progress=advance)
        click.echo(f"Demo programme loaded: {summary}")
    from mou_tracker.db.engine import sqlite_path

    where = sqlite_path(app.db_url) or db.engine.url.render_as_string(hide_password=True)
    click.echo(f"Database ready at {where}")


def _fmt(value: Any, decimals: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def progress_table(progress: Any) -> str:
    as_of = progress.as_of
    head = f"Progress for {progress.period}" + (f" as of {as_of.isoformat()}" if as_of else "")
    cols = ("Code", "Indicator", "Target", "Actual", "%", "Status", "Cum. target", "Cum. actual", "Cum. status",
            "Life target")
    rows = []
    for f in progress.indicators:
        d = f.decimals if f.kind == "sum" or f.rule == "manual" else 1
        rows.append((f.code, f.name[:44], _fmt(f.period_target, d), _fmt(f.period_actual, d),
                     _fmt(f.period_pct, 1), f.status.replace("_", " "), _fmt(f.cumulative_target, d),
                     _fmt(f.cumulative_actual, d), f.cumulative_status.replace("_", " "), _fmt(f.life_target, d)))
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    right = {2, 3, 4, 6, 7, 9}

    def line(cells: tuple[str, ...]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)

    out = [head, line(cols), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(s.rstrip() for s in out)


def portfolio_table(portfolio: Any) -> str:
    """Each partnership's table, then the roll-up: one column per partnership and the total."""
    out = []
    for member in portfolio.partnerships:
        out += [f"{member.info.code} — {member.info.name}", progress_table(member.progress), ""]
    codes = [m.info.code for m in portfolio.partnerships]
    as_of = portfolio.as_of
    out.append(f"Portfolio for {portfolio.period}" + (f" as of {as_of.isoformat()}" if as_of else "")
               + " (period actual; cumulative in brackets)")
    cols = ("Code", "Indicator", "Unit", *codes, "Total")
    rows = []
    for line in portfolio.lines:
        d = line.decimals if line.kind == "sum" else 1
        own = dict(line.figures)
        cells = []
        for c in codes:
            f = own.get(c)
            cells.append("n/a" if f is None else f"{_fmt(f.period_actual, d)} ({_fmt(f.cumulative_actual, d)})")
        rows.append((line.code, line.name[:40], line.unit, *cells,
                     f"{_fmt(line.period_actual, d)} ({_fmt(line.cumulative_actual, d)})"))
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    out.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    if portfolio.not_rolled_up:
        out.append(f"Shown per partnership only (unit, kind or currency differ): {', '.join(portfolio.not_rolled_up)}")
    return "\n".join(out)


@cli.command()
@click.option("--period", type=PERIOD, help="A calendar quarter, e.g. 2025-Q3 (default: the latest ended quarter).")
@click.option("--as-of", type=DATE, help="The state at the end of this day (UTC), rebuilt from the audit trail.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--all-partnerships", is_flag=True,
              help="Every partnership's progress and the portfolio roll-up of the indicators they share.")
@click.pass_obj
def progress(app: AppContext, period: Any, as_of: date | None, fmt: str, all_partnerships: bool) -> None:
    """Show every indicator's progress against its targets for a quarter."""
    period = period or default_period(as_of)
    if all_partnerships:
        if app.partnership:
            raise click.UsageError("--all-partnerships shows every partnership: leave out --partnership")
        with app.open_app(as_of=as_of, resolve=False) as opened:
            portfolio = opened.reader.portfolio(period)
        if fmt == "json":
            click.echo(json.dumps(portfolio.as_json(), ensure_ascii=False))
        else:
            click.echo(portfolio_table(portfolio))
        return
    with app.open_app(as_of=as_of) as opened:
        figures = opened.reader.progress(period)
    if fmt == "json":
        click.echo(json.dumps(figures.as_json(), ensure_ascii=False))
    else:
        click.echo(progress_table(figures))


@cli.group()
def db() -> None:
    """Database maintenance: upgrade the schema, back up."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """Upgrade the database schema to this version (every app start does this too)."""
    from mou_tracker.db.migrate import current_revision, head_revision

    database = app.open()
    click.echo(f"Database schema at {current_revision(database)} (head {head_revision()})")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(app: AppContext, file: Path) -> None:
    """Write a consistent copy of the database to FILE, even while the app is running."""
    from mou_tracker.db.backup import backup

    database = app.open()
    written = backup(database, file)
    click.echo(f"Backup written to {written}")


def main() -> None:
    cli(prog_name="mou-tracker")


def _register_command_modules() -> None:
    import importlib

    from mou_tracker.commands import MODULES

    for name in MODULES:
        module = f"mou_tracker.commands.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # that capability is not built yet
            if exc.name != module:
                raise


_register_command_modules()
